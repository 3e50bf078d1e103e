//! `pakn-deadlines`: the scheduled deadline sweep (thin: build once, then run).

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    pakn_aws::telemetry::init_tracing();
    let pakn = pakn_aws::pakn_from_env().await?;
    let pakn = &pakn;
    run(service_fn(
        move |event: LambdaEvent<EventBridgeEvent>| async move {
            let deadline = event.context.deadline();
            let totals =
                pakn_deadlines::sweep_until_done(pakn, pakn_deadlines::PASS_LIMIT, Some(deadline))
                    .await?;
            tracing::info!(?totals, "sweep done");
            Ok::<_, Error>(serde_json::to_value(totals)?)
        },
    ))
    .await
}
