//! The outbox published from the table's DynamoDB Stream (`PAKN_PUBLISH=stream`).
//!
//! A change's transaction writes its outbox entries as before, but without
//! their `PENDING` index entry: the stream record of each insert is what
//! hands it to `pakn-publisher` ([`crate::publisher`]). The consumer skips
//! entries already published or parked (a replayed batch publishes nothing
//! twice), publishes the rest and marks them, and parks what it could not
//! publish on the `PENDING` index, where the sweep's drain takes it up
//! (retries, the notifier down for hours or days). So an entry leaves the
//! stream's 24-hour window either published or parked; only a consumer
//! that cannot even write to the table for that long loses the stream's
//! copy, and then the failure destination (a queue, alarmed) names the
//! records.

use super::DynamoStore;
use super::items::{PUBLISHED_AT, key, s};
use super::keys::{GSI1, PENDING, PK, outbox_key, ts};
use crate::error::condition_held;
use pakn_core::notify::Notification;
use pakn_core::ports::StoreResult;
use serde_json::Value;

/// An outbox entry inserted in a stream batch, with the record's sequence
/// number (what a partial batch response names).
#[derive(Debug, Clone)]
pub struct StreamedEntry {
    pub sequence: String,
    pub notification: Notification,
}

/// What a stream batch holds for the publisher.
#[derive(Debug, Default)]
pub struct StreamBatch {
    /// Outbox entries inserted, in the stream's order.
    pub entries: Vec<StreamedEntry>,
    /// Outbox inserts whose image could not be read: their sequence
    /// numbers (retried, then sent to the failure destination).
    pub unreadable: Vec<String>,
}

/// The outbox inserts of a stream batch: a Lambda event or a `GetRecords`
/// answer (both hold `Records[].eventName` and `Records[].dynamodb`).
/// Everything else (case state, events, rollups, modifications, removals)
/// is none of the publisher's business.
pub fn outbox_inserts(event: &Value) -> StreamBatch {
    let mut batch = StreamBatch::default();
    let records = event
        .get("Records")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for r in records {
        if r.get("eventName").and_then(Value::as_str) != Some("INSERT") {
            continue;
        }
        let ddb = r.get("dynamodb").unwrap_or(&Value::Null);
        let image = ddb.get("NewImage").unwrap_or(&Value::Null);
        let attr = |name: &str| image.get(name)?.get("S")?.as_str();
        let (Some(pk), Some(sk)) = (attr("pk"), attr("sk")) else {
            continue;
        };
        let outbox = sk.starts_with("OUT#") || (sk == "OUT" && pk.starts_with("OUT#"));
        if !outbox {
            continue;
        }
        let sequence = ddb
            .get("SequenceNumber")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match attr("doc").map(serde_json::from_str::<Notification>) {
            Some(Ok(notification)) => batch.entries.push(StreamedEntry {
                sequence,
                notification,
            }),
            other => {
                tracing::error!(%pk, %sk, %sequence, error = ?other.map(|r| r.err()), "an outbox insert on the stream could not be read");
                batch.unreadable.push(sequence);
            }
        }
    }
    batch
}

impl DynamoStore {
    /// Whether the stream consumer should publish this store's outbox.
    pub fn publishes_from_stream(&self) -> bool {
        self.stream
    }

    /// For each of `ns`, whether it still waits for the stream consumer:
    /// stored, neither published nor parked. One consistent batch read.
    pub async fn awaiting_stream(&self, ns: &[Notification]) -> StoreResult<Vec<bool>> {
        let keys = ns
            .iter()
            .map(|n| {
                let (pk, sk) = outbox_key(&n.dedup_id);
                key(pk, sk)
            })
            .collect();
        let got = self.batch_get(keys).await?;
        Ok(ns
            .iter()
            .map(|n| {
                got.get(&outbox_key(&n.dedup_id)).is_some_and(|item| {
                    !item.contains_key(PUBLISHED_AT) && !item.contains_key(GSI1.pk)
                })
            })
            .collect())
    }

    /// Park an entry the consumer could not publish: put it on the
    /// `PENDING` index, where the sweep's drain publishes it (unless it
    /// was published meanwhile).
    pub async fn park(&self, n: &Notification) -> StoreResult<()> {
        let (pk, sk) = outbox_key(&n.dedup_id);
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression("SET #g1pk = :pending, #g1sk = :at")
            .condition_expression("attribute_exists(#pk) AND attribute_not_exists(#pub)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#pub", PUBLISHED_AT)
            .expression_attribute_names("#g1pk", GSI1.pk)
            .expression_attribute_names("#g1sk", GSI1.sk)
            .expression_attribute_values(":pending", s(PENDING))
            .expression_attribute_values(":at", s(format!("{}#{}", ts(n.created_at), n.dedup_id)))
            .send()
            .await;
        if !condition_held(res)? {
            tracing::info!(dedup_id = %n.dedup_id, "not parked: published meanwhile (or gone)");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(name: &str, seq: &str, pk: &str, sk: &str, doc: Option<&str>) -> Value {
        let mut image = json!({"pk": {"S": pk}, "sk": {"S": sk}});
        if let Some(d) = doc {
            image["doc"] = json!({"S": d});
        }
        json!({"eventName": name, "dynamodb": {"SequenceNumber": seq, "NewImage": image}})
    }

    fn doc(dedup: &str) -> String {
        json!({"dedup_id": dedup, "event": "unit.overdue_digest", "unit": "ward:00070",
               "urgency": "normal", "audience": ["unit"], "body": {},
               "created_at": "2025-08-04T02:00:00Z"})
        .to_string()
    }

    #[test]
    fn only_the_outboxs_inserts_are_taken_and_an_unreadable_one_is_named() {
        let case_entry = doc("01J:status:v2");
        let digest = doc("digest:ward:00070:2025-08-04");
        let event = json!({"Records": [
            record("INSERT", "1", "CASE#01J", "CASE", Some("{}")),
            record("INSERT", "2", "CASE#01J", "EVT#0000000002", Some("{}")),
            record("INSERT", "3", "CASE#01J", "OUT#01J:status:v2", Some(&case_entry)),
            record("MODIFY", "4", "CASE#01J", "OUT#01J:status:v2", Some(&case_entry)),
            record("INSERT", "5", "OUT#digest:ward:00070:2025-08-04", "OUT", Some(&digest)),
            record("INSERT", "6", "CASE#01J", "OUT#01J:status:v3", Some("{not json")),
            record("INSERT", "7", "CASE#01J", "OUT#01J:status:v4", None),
            record("REMOVE", "8", "CASE#01J", "OUT#01J:status:v2", None),
            record("INSERT", "9", "STATS#2025-08", "OUT", Some(&digest)),
        ]});
        let b = outbox_inserts(&event);
        let got: Vec<(&str, &str)> = b
            .entries
            .iter()
            .map(|e| (e.sequence.as_str(), e.notification.dedup_id.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("3", "01J:status:v2"),
                ("5", "digest:ward:00070:2025-08-04")
            ]
        );
        assert_eq!(b.unreadable, vec!["6", "7"]);
        // Not a stream batch at all: nothing, not a panic.
        let none = outbox_inserts(&json!({"detail-type": "Scheduled Event"}));
        assert!(none.entries.is_empty() && none.unreadable.is_empty());
    }
}
