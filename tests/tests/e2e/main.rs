//! The one end-to-end test binary of the workspace: the store/queue/notifier
//! contract suite on SQLite and on the AWS adapters against moto, HTTP
//! tests, the Lambda Runtime API tests, the real `pakn` binary, and the
//! failure drills (`drills`).

mod aws;
mod binary;
mod contract;
mod deadlines;
mod drills;
mod event_schemas;
mod fuzz_http;
mod http;
mod lambda;
mod oversight_http;
mod subscriptions;
mod template;
mod views;
