//! `pakn-publisher`'s work: one batch of the table's DynamoDB Stream
//! (`PAKN_PUBLISH=stream`, see [`crate::dynamo::stream`]).
//!
//! For the outbox entries the batch's inserts carry (a change's, on its
//! event; a digest, as its item): skip those already stored as published
//! or parked (a batch delivered again publishes nothing twice), publish
//! the rest exactly as a committer would (their citizens' notices decided
//! first, then published, then stored as published), and park what did
//! not go out for the sweep's drain. The answer is Lambda's partial batch
//! response: a record is reported failed only when it could be neither
//! published nor parked (or not read), so Lambda retries from it, and
//! after the event source's retries it goes to the failure destination.

use crate::dynamo::DynamoStore;
use crate::dynamo::stream::{StreamedEntry, outbox_inserts};
use pakn_core::app::Pakn;
use pakn_core::notify::Notification;
use serde_json::{Value, json};

/// What one batch came to (logged, and returned to tests).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Published {
    /// Outbox entries in the batch.
    pub entries: usize,
    /// Published and stored as published now.
    pub sent: usize,
    /// Already published or parked (a repeat delivery).
    pub skipped: usize,
    /// Not published now, parked for the drain.
    pub parked: usize,
    /// Sequence numbers reported failed (retried by Lambda).
    pub failed: Vec<String>,
}

impl Published {
    /// Lambda's partial batch response (`ReportBatchItemFailures`).
    pub fn response(&self) -> Value {
        json!({
            "batchItemFailures": self
                .failed
                .iter()
                .map(|s| json!({"itemIdentifier": s}))
                .collect::<Vec<_>>()
        })
    }
}

/// Publish the outbox entries of one stream batch (see the module).
pub async fn publish_batch(pakn: &Pakn, store: &DynamoStore, event: &Value) -> Published {
    let batch = outbox_inserts(event);
    let mut out = Published {
        entries: batch.entries.len(),
        failed: batch.unreadable,
        ..Default::default()
    };
    if batch.entries.is_empty() {
        return out;
    }
    let all: Vec<Notification> = batch
        .entries
        .iter()
        .map(|e| e.notification.clone())
        .collect();
    let waiting = match store.awaiting_stream(&all).await {
        Ok(w) => w,
        Err(e) => {
            tracing::error!(error = %e, "the outbox could not be read: the batch is retried");
            out.failed
                .extend(batch.entries.iter().map(|e| e.sequence.clone()));
            return out;
        }
    };
    let todo: Vec<&StreamedEntry> = batch
        .entries
        .iter()
        .zip(&waiting)
        .filter_map(|(e, w)| w.then_some(e))
        .collect();
    out.skipped = all.len() - todo.len();
    let ns: Vec<Notification> = todo.iter().map(|e| e.notification.clone()).collect();
    out.sent = pakn.publish_decided(&ns).await;
    if out.sent < ns.len() {
        // What did not go out (or was not marked) waits on the drain's index.
        match store.awaiting_stream(&ns).await {
            Ok(still) => {
                for (e, w) in todo.iter().zip(still) {
                    if !w {
                        continue;
                    }
                    match store.park(&e.notification).await {
                        Ok(()) => out.parked += 1,
                        Err(err) => {
                            tracing::error!(dedup_id = %e.notification.dedup_id, error = %err, "neither published nor parked: retried");
                            out.failed.push(e.sequence.clone());
                        }
                    }
                }
            }
            Err(err) => {
                tracing::error!(error = %err, "the outbox could not be read after publishing: retried");
                out.failed.extend(todo.iter().map(|e| e.sequence.clone()));
            }
        }
    }
    tracing::info!(
        entries = out.entries,
        sent = out.sent,
        skipped = out.skipped,
        parked = out.parked,
        failed = out.failed.len(),
        "stream batch published"
    );
    out
}
