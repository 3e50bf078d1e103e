//! The intake queue on SQS.

use crate::error::classify;
use async_trait::async_trait;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use pakn_core::ids::CaseId;
use pakn_core::ports::{Queue, StoreError, StoreResult};
use serde::{Deserialize, Serialize};

/// SendMessageBatch takes at most ten entries.
pub const BATCH: usize = 10;

/// The body of an intake message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeMessage {
    pub case_id: String,
}

/// Up to `max` (at most ten) of the messages `url` holds now, without
/// waiting, hidden from other receivers for `visibility_seconds`: what an
/// operator's command (`pakn redrive`, `pakn replay-stream-failures`) takes
/// in turn until an empty answer.
pub async fn receive_now(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    max: usize,
    visibility_seconds: i32,
) -> StoreResult<Vec<aws_sdk_sqs::types::Message>> {
    let got = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(max.clamp(1, BATCH) as i32)
        .visibility_timeout(visibility_seconds)
        .wait_time_seconds(0)
        .send()
        .await
        .map_err(classify)?;
    Ok(got.messages.unwrap_or_default())
}

/// The intake queue: one message `{"case_id":…}` per case.
#[derive(Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        SqsQueue {
            client,
            url: url.into(),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

#[async_trait]
impl Queue for SqsQueue {
    #[tracing::instrument(skip_all, fields(n = ids.len()), err)]
    async fn send(&self, ids: &[CaseId]) -> StoreResult<()> {
        for chunk in ids.chunks(BATCH) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, id) in chunk.iter().enumerate() {
                let body = serde_json::to_string(&IntakeMessage {
                    case_id: id.to_string(),
                })
                .map_err(StoreError::other)?;
                let entry = SendMessageBatchRequestEntry::builder()
                    .id(format!("m{i}"))
                    .message_body(body)
                    .build()
                    .map_err(StoreError::other)?;
                entries.push(entry);
            }
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(classify)?;
            if let Some(f) = out.failed().first() {
                let msg = format!(
                    "SQS refused {} of {} messages (first: {} {})",
                    out.failed().len(),
                    chunk.len(),
                    f.code(),
                    f.message().unwrap_or("")
                );
                return Err(if f.sender_fault() {
                    StoreError::msg(msg)
                } else {
                    StoreError::Unavailable(Box::new(pakn_core::error::Message(msg)))
                });
            }
        }
        Ok(())
    }
}
