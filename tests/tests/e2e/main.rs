//! The one end-to-end test binary of the workspace: the store/queue/notifier
//! contract suite on SQLite and on the AWS adapters against moto, HTTP
//! tests, the Lambda Runtime API tests, and the real `pakn` binary.

mod aggregates;
mod aws;
mod binary;
mod contract;
mod deadlines;
mod event_schemas;
mod fuzz_http;
mod http;
mod lambda;
mod oversight_http;
mod reads;
mod subscriptions;
mod template;
