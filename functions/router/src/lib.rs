//! The routing worker on Lambda: an SQS event source with partial batch
//! responses. Each record is handled by the same per-message function the
//! local worker uses ([`pakn_core::Pakn::route_case`]); only the records that
//! failed are named in the response, so SQS retries exactly those and, after
//! `maxReceiveCount` receives, moves them to the dead-letter queue.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use pakn_aws::sqs::IntakeMessage;
use pakn_core::Pakn;
use pakn_core::ids::CaseId;
use pakn_core::media::UploadStatus;
use pakn_core::routing::RouteResult;
use serde::Deserialize;

/// Why one record failed.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the message has no body")]
    NoBody,
    #[error("the body is not {{\"case_id\": <ULID>}}")]
    Undecodable(#[source] serde_json::Error),
    #[error("the case id {0:?} is not a ULID")]
    BadCaseId(String),
    #[error("routing failed")]
    Route(#[source] pakn_core::Error),
}

/// Decode an intake message body.
pub fn decode(body: Option<&str>) -> Result<CaseId, RecordError> {
    let body = body.ok_or(RecordError::NoBody)?;
    let m: IntakeMessage = serde_json::from_str(body).map_err(RecordError::Undecodable)?;
    CaseId::parse(&m.case_id).ok_or(RecordError::BadCaseId(m.case_id))
}

/// The part of an S3 event notification the router reads (the media
/// bucket's object-created events reach it through the media queue).
#[derive(Debug, Deserialize)]
struct S3Notification {
    #[serde(rename = "Records", default)]
    records: Vec<S3Record>,
    /// `s3:TestEvent` when the notification is first configured.
    #[serde(rename = "Event")]
    event: Option<String>,
}

#[derive(Debug, Deserialize)]
struct S3Record {
    s3: S3Entity,
}

#[derive(Debug, Deserialize)]
struct S3Entity {
    object: S3Object,
}

#[derive(Debug, Deserialize)]
struct S3Object {
    key: String,
}

/// The upload ids an S3 event notification names (`raw/<id>` keys, URL-encoded
/// by S3 — ids are ULIDs, which need no decoding); `None` if the body is not one.
pub fn uploads_in(body: &str) -> Option<Vec<String>> {
    let n: S3Notification = serde_json::from_str(body).ok()?;
    if n.records.is_empty() && n.event.is_none() {
        return None;
    }
    Some(
        n.records
            .iter()
            .filter_map(|r| pakn_aws::s3::id_of_raw_key(&r.s3.object.key))
            .map(str::to_string)
            .collect(),
    )
}

/// What a record was.
#[derive(Debug)]
pub enum Handled {
    Routed(RouteResult),
    /// Uploads checked off the request path (an S3 object-created event).
    Uploads(Vec<(String, Option<UploadStatus>)>),
}

/// Route the case one record names, or check the uploads an S3 event names.
pub async fn handle_record(pakn: &Pakn, m: &SqsMessage) -> Result<Handled, RecordError> {
    if let Some(ids) = m.body.as_deref().and_then(uploads_in) {
        let mut done = Vec::new();
        for id in ids {
            let st = pakn_media::process_upload(&*pakn.uploads, &*pakn.blobs, &id)
                .await
                .map_err(|e| RecordError::Route(e.into()))?;
            done.push((id, st));
        }
        return Ok(Handled::Uploads(done));
    }
    let id = decode(m.body.as_deref())?;
    pakn.routing()
        .route_case(&id)
        .await
        .map(Handled::Routed)
        .map_err(RecordError::Route)
}

/// Handle a batch: every record is tried; the response names the failed ones.
/// A record without a message id cannot be named (an empty identifier would
/// fail the whole batch), so it is logged and left to SQS's own retry.
pub async fn handle_batch(pakn: &Pakn, event: SqsEvent) -> SqsBatchResponse {
    let mut failures = Vec::new();
    for m in &event.records {
        let id = m.message_id.as_deref().unwrap_or_default();
        let span = tracing::info_span!("record", message_id = %id);
        let _enter = span.enter();
        match handle_record(pakn, m).await {
            Ok(r) => tracing::info!(result = ?r, "handled"),
            Err(e) => {
                tracing::error!(error = &e as &dyn std::error::Error, "record failed");
                if id.is_empty() {
                    tracing::error!("record without a message id: cannot report it as failed");
                } else {
                    let mut f = BatchItemFailure::default();
                    f.item_identifier = id.to_string();
                    failures.push(f);
                }
            }
        }
    }
    let mut r = SqsBatchResponse::default();
    r.batch_item_failures = failures;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_events_name_uploads_and_intake_messages_do_not() {
        let ev = r#"{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put",
            "s3":{"bucket":{"name":"m"},"object":{"key":"raw/01JF0000000000000000000000","size":9}}},
            {"s3":{"object":{"key":"media/01JF0000000000000000000000"}}}]}"#;
        assert_eq!(
            uploads_in(ev),
            Some(vec!["01JF0000000000000000000000".to_string()])
        );
        assert_eq!(uploads_in(r#"{"Event":"s3:TestEvent"}"#), Some(vec![]));
        let id = CaseId::new(chrono::Utc::now());
        assert_eq!(uploads_in(&format!(r#"{{"case_id":"{id}"}}"#)), None);
        assert_eq!(uploads_in("not json"), None);
    }

    #[test]
    fn decodes_only_intake_messages() {
        let id = CaseId::new(chrono::Utc::now());
        let body = format!(r#"{{"case_id":"{id}"}}"#);
        assert_eq!(decode(Some(&body)).unwrap(), id);
        assert!(matches!(decode(None), Err(RecordError::NoBody)));
        assert!(matches!(
            decode(Some("not json")),
            Err(RecordError::Undecodable(_))
        ));
        assert!(matches!(
            decode(Some(r#"{"case_id":"../x"}"#)),
            Err(RecordError::BadCaseId(_))
        ));
    }
}
