//! `pakn-publisher`: the consumer of the table's DynamoDB Stream that
//! publishes the outbox (`PAKN_PUBLISH=stream`; thin: build once, then run).

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    pakn_aws::telemetry::init_tracing();
    let cfg = pakn_config::Config::from_env(Some(pakn_config::Backend::Aws))?;
    let (pakn, store) = pakn_aws::pakn_and_store(&cfg).await?;
    if !store.publishes_from_stream() {
        return Err("pakn-publisher needs PAKN_PUBLISH=stream: otherwise the functions that commit publish too".into());
    }
    let (pakn, store) = (&pakn, &*store);
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        let done = pakn_aws::publisher::publish_batch(pakn, store, &event.payload).await;
        Ok::<Value, Error>(done.response())
    }))
    .await
}
