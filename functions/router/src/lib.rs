//! The routing worker on Lambda: an SQS event source with partial batch
//! responses. Each record is handled by the same per-message function the
//! local worker uses ([`pakn_core::Pakn::route_case`]); only the records that
//! failed are named in the response, so SQS retries exactly those and, after
//! `maxReceiveCount` receives, moves them to the dead-letter queue.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use pakn_aws::sqs::IntakeMessage;
use pakn_core::Pakn;
use pakn_core::ids::CaseId;
use pakn_core::routing::RouteResult;

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

/// Route the case one record names.
pub async fn handle_record(pakn: &Pakn, m: &SqsMessage) -> Result<RouteResult, RecordError> {
    let id = decode(m.body.as_deref())?;
    pakn.routing()
        .route_case(&id)
        .await
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
            Ok(r) => tracing::info!(result = ?r, "routed"),
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
