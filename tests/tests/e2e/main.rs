//! The one end-to-end test binary of the workspace: the store/queue/notifier
//! contract suite on SQLite and on the AWS adapters against moto, HTTP
//! tests, the Lambda Runtime API tests, the real `pakn` binary, and the
//! failure drills (`drills`).

mod aggregates;
mod aws;
mod binary;
mod citizens_http;
mod codes;
mod cognito;
mod console;
mod contract;
mod deadlines;
mod drills;
mod event_schemas;
mod flood_story;
mod fuzz_http;
mod http;
mod lambda;
mod notices_http;
mod open311;
mod openapi;
mod oversight_http;
mod privacy_http;
mod privacy_media;
mod publisher;
mod reads;
mod retention;
mod schemathesis;
mod subscriptions;
mod template;
mod uploads;
mod urgency;
mod views;
mod wards;
