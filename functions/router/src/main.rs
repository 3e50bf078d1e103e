//! `pakn-router`: the SQS routing worker (thin: build once, then run).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    pakn_aws::telemetry::init_tracing();
    let pakn = pakn_aws::pakn_from_env().await?;
    let pakn = &pakn;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<SqsBatchResponse, Error>(pakn_router::handle_batch(pakn, event.payload).await)
    }))
    .await
}
