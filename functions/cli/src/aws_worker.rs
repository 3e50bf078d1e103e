//! `pakn serve --backend aws`: the routing worker polls the intake queue
//! itself (on AWS, Lambda's SQS event source does this for `pakn-router`).
//! A message is deleted only after its case was routed; a failure leaves it
//! to become visible again, and SQS's redrive policy dead-letters it after
//! five receives — the same conditions the Lambda meets.

use pakn_core::Pakn;
use pakn_core::ids::CaseId;
use tokio::sync::watch;

pub async fn poll_intake(
    pakn: Pakn,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        let rx = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send();
        let got = tokio::select! {
            r = rx => r,
            _ = stop.changed() => return,
        };
        let messages = match got {
            Ok(o) => o.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "receive from the intake queue failed");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        for m in messages {
            let id = m
                .body()
                .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
                .and_then(|v| {
                    v.get("case_id")
                        .and_then(|x| x.as_str())
                        .and_then(CaseId::parse)
                });
            let Some(id) = id else {
                tracing::error!(message_id = ?m.message_id(), "undecodable intake message; leaving it for the dead-letter queue");
                continue;
            };
            match pakn.routing().route_case(&id).await {
                Ok(_) => {
                    if let Some(h) = m.receipt_handle() {
                        if let Err(e) = sqs
                            .delete_message()
                            .queue_url(&queue_url)
                            .receipt_handle(h)
                            .send()
                            .await
                        {
                            tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "delete failed; the duplicate delivery will be a no-op");
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(case_id = %id, error = %e, "routing failed; the message will be retried")
                }
            }
        }
    }
}
