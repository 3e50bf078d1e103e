//! `pakn serve --backend aws`: the routing worker polls the intake queue
//! itself (on AWS, Lambda's SQS event source does this for `pakn-router`).
//! A message is deleted only after its case was routed; a failure leaves it
//! to become visible again, and SQS's redrive policy dead-letters it after
//! five receives — the same conditions the Lambda meets. When the media
//! queue is configured (`MEDIA_QUEUE_URL`), a second poller checks each
//! upload its object-created events name, as `pakn-router` does on AWS.

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

/// The upload ids an S3 event notification names (`raw/<id>` keys); the
/// test event S3 sends when notifications are set up names none.
fn uploads_in(body: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    v.get("Records")
        .and_then(|r| r.as_array())
        .map(|records| {
            records
                .iter()
                .filter_map(|r| r.pointer("/s3/object/key").and_then(|k| k.as_str()))
                .filter_map(pakn_aws::s3::id_of_raw_key)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Poll the media queue: check every upload an event names, then delete
/// the message; a failed check leaves it to be received again (and
/// dead-lettered after five receives).
pub async fn poll_media(
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
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "receive from the media queue failed");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        for m in messages {
            let mut ok = true;
            for id in uploads_in(m.body().unwrap_or_default()) {
                if let Err(e) = pakn_media::process_upload(&*pakn.uploads, &*pakn.blobs, &id).await
                {
                    tracing::warn!(upload = %id, error = %e, "checking an upload failed; the event will be retried");
                    ok = false;
                }
            }
            if let (true, Some(h)) = (ok, m.receipt_handle()) {
                if let Err(e) = sqs
                    .delete_message()
                    .queue_url(&queue_url)
                    .receipt_handle(h)
                    .send()
                    .await
                {
                    tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "delete failed; the repeat check is a no-op");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn s3_events_name_raw_uploads_only() {
        let ev = r#"{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put",
            "s3":{"bucket":{"name":"m"},"object":{"key":"raw/01JF0000000000000000000000","size":9}}},
            {"s3":{"object":{"key":"media/01JF0000000000000000000000"}}}]}"#;
        assert_eq!(super::uploads_in(ev), vec!["01JF0000000000000000000000"]);
        // The emulator URL-encodes the slash of the key.
        let moto = r#"{"Records":[{"s3":{"object":{"key":"raw%2F01JF0000000000000000000000"}}}]}"#;
        assert_eq!(super::uploads_in(moto), vec!["01JF0000000000000000000000"]);
        assert!(super::uploads_in(r#"{"Event":"s3:TestEvent"}"#).is_empty());
        assert!(super::uploads_in("not json").is_empty());
    }
}
