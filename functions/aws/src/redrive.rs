//! Moves messages from the dead-letter queue back to the intake queue, once
//! whatever poisoned them is fixed (`pakn redrive`).

use crate::error::classify;
use crate::sqs::receive_now;
use pakn_core::ports::{StoreError, StoreResult};

/// Move up to `max` messages from `dlq_url` to `queue_url`. A message is
/// deleted from the dead-letter queue only after the intake queue accepted
/// its copy (a crash in between duplicates it, which routing tolerates).
/// Returns how many were moved.
pub async fn redrive(
    sqs: &aws_sdk_sqs::Client,
    dlq_url: &str,
    queue_url: &str,
    max: usize,
) -> StoreResult<usize> {
    let mut moved = 0;
    while moved < max {
        let messages = receive_now(sqs, dlq_url, max - moved, 60).await?;
        if messages.is_empty() {
            break;
        }
        for m in &messages {
            let (Some(body), Some(handle)) = (m.body(), m.receipt_handle()) else {
                return Err(StoreError::msg(
                    "a dead-letter message has no body or receipt handle",
                ));
            };
            sqs.send_message()
                .queue_url(queue_url)
                .message_body(body)
                .send()
                .await
                .map_err(classify)?;
            sqs.delete_message()
                .queue_url(dlq_url)
                .receipt_handle(handle)
                .send()
                .await
                .map_err(classify)?;
            moved += 1;
        }
    }
    tracing::info!(moved, "redrive done");
    Ok(moved)
}
