//! The outbox published from the table's DynamoDB Stream (`PAKN_PUBLISH=stream`).
//!
//! A change's transaction stores no outbox item: its entries ride on the
//! change's timeline event (`outz`, deflated), whose insert's stream
//! record hands them to `pakn-publisher` ([`crate::publisher`]). A
//! decision without a case change (a digest) is an outbox item put on its
//! own, without a `PENDING` index entry: its insert is handed over the
//! same way. The consumer skips entries already stored as published or
//! parked (a replayed batch publishes nothing twice), publishes the rest
//! and stores them as published (the unit's history of notifications),
//! and parks what it could not publish on the `PENDING` index, where the
//! sweep's drain takes it up (retries, the notifier down for hours or
//! days). So an entry leaves the stream's 24-hour window either published
//! or parked; only a consumer that cannot even write to the table for
//! that long loses the stream's copy, and then the failure destination (a
//! queue, alarmed) names the records, which `pakn replay-stream-failures`
//! reads back from the stream and publishes (`crate::replay`).

use super::DynamoStore;
use super::items::{OUTZ, PUBLISHED_AT, carried_outbox, event_from, get_s, key, outbox_item};
use super::keys::{GSI1, PK, SK, outbox_key};
use crate::error::{classify, condition_held};
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use pakn_core::notify::Notification;
use pakn_core::ports::StoreResult;
use serde_json::{Value, json};

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

/// The outbox entries inserted in a stream batch (a Lambda event or a
/// `GetRecords` answer: both hold `Records[].eventName` and
/// `Records[].dynamodb`): those an event insert carries, and the outbox
/// items inserted unpublished and off the `PENDING` index (digests).
/// Outbox items inserted published or parked (the publisher's and the
/// drain's own writes, or a committer's publishing inline) and everything
/// else (case state, rollups, modifications, removals) are none of the
/// publisher's business.
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
        let sequence = ddb
            .get("SequenceNumber")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let read: Result<Vec<Notification>, String> = if sk.starts_with("EVT#") {
            let Some(z) = image.get(OUTZ) else {
                continue; // a change that decided no notification
            };
            binary(z).and_then(|b| carried_outbox(&b).map_err(|e| e.to_string()))
        } else if sk.starts_with("OUT#") || (sk == "OUT" && pk.starts_with("OUT#")) {
            if image.get(PUBLISHED_AT).is_some() || image.get(GSI1.pk).is_some() {
                continue; // stored published or parked, or inline
            }
            attr("doc")
                .ok_or_else(|| "no doc".to_string())
                .and_then(|d| serde_json::from_str(d).map_err(|e| e.to_string()))
                .map(|n| vec![n])
        } else {
            continue;
        };
        match read {
            Ok(ns) => batch
                .entries
                .extend(ns.into_iter().map(|notification| StreamedEntry {
                    sequence: sequence.clone(),
                    notification,
                })),
            Err(error) => {
                tracing::error!(%pk, %sk, %sequence, %error, "an outbox insert on the stream could not be read");
                batch.unreadable.push(sequence);
            }
        }
    }
    batch
}

/// A binary attribute of a stream image (`{"B": "<base64>"}`).
fn binary(v: &Value) -> Result<Vec<u8>, String> {
    use base64::Engine;
    let b64 = v.get("B").and_then(Value::as_str).ok_or("not binary")?;
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| e.to_string())
}

impl DynamoStore {
    /// Whether the stream consumer should publish this store's outbox.
    pub fn publishes_from_stream(&self) -> bool {
        self.stream
    }

    /// For each of `ns`, whether it still waits for the stream consumer:
    /// not stored yet (carried by its event), or stored neither published
    /// nor parked (a digest). One consistent batch read.
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
                got.get(&outbox_key(&n.dedup_id)).is_none_or(|item| {
                    !item.contains_key(PUBLISHED_AT) && !item.contains_key(GSI1.pk)
                })
            })
            .collect())
    }

    /// The events of `[from, to]` that carry outbox entries, read from the
    /// table itself, as inserts in a stream batch (each record's sequence
    /// number is `table:<pk>/<sk>`): for a batch the stream no longer holds
    /// (`pakn replay-stream-failures`). A `Scan` of the whole table,
    /// filtered on the server to such events: a disaster's recovery, not a
    /// routine read.
    pub async fn events_carrying_outbox(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Value> {
        let mut records = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("begins_with(#sk, :evt) AND attribute_exists(#outz)")
                .expression_attribute_names("#sk", SK)
                .expression_attribute_names("#outz", OUTZ)
                .expression_attribute_values(":evt", AttributeValue::S("EVT#".into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            for item in page.items() {
                let (Ok(pk), Ok(sk), Some(AttributeValue::B(z))) =
                    (get_s(item, PK), get_s(item, SK), item.get(OUTZ))
                else {
                    continue;
                };
                match event_from(item) {
                    Ok(e) if e.at >= from && e.at <= to => {}
                    Ok(_) => continue,
                    Err(e) => {
                        tracing::error!(%pk, %sk, error = %e, "an event could not be read");
                        continue;
                    }
                }
                let b64 = base64::engine::general_purpose::STANDARD.encode(z.as_ref());
                records.push(json!({
                    "eventName": "INSERT",
                    "dynamodb": {
                        "SequenceNumber": format!("table:{pk}/{sk}"),
                        "NewImage": {"pk": {"S": pk}, "sk": {"S": sk}, OUTZ: {"B": b64}},
                    }
                }));
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(json!({ "Records": records }))
    }

    /// Park an entry the consumer could not publish: store it on the
    /// `PENDING` index, where the sweep's drain publishes it (unless it
    /// was published meanwhile).
    pub async fn park(&self, n: &Notification) -> StoreResult<()> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(outbox_item(n)?))
            .condition_expression("attribute_not_exists(#pub)")
            .expression_attribute_names("#pub", PUBLISHED_AT)
            .send()
            .await;
        if !condition_held(res)? {
            tracing::info!(dedup_id = %n.dedup_id, "not parked: published meanwhile");
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

    fn notification(dedup: &str) -> Notification {
        serde_json::from_value(json!({"dedup_id": dedup, "event": "unit.overdue_digest",
               "unit": "ward:00070", "urgency": "normal", "audience": ["unit"], "body": {},
               "created_at": "2025-08-04T02:00:00Z"}))
        .unwrap()
    }

    fn doc(dedup: &str) -> String {
        serde_json::to_string(&notification(dedup)).unwrap()
    }

    /// An event insert as its stream record shows it, carrying `ns` as the
    /// event item does (base64 of the deflated JSON).
    fn event_record(seq: &str, ns: &[Notification]) -> Value {
        use base64::Engine;
        let mut item = super::super::items::key("CASE#01J", "EVT#0000000002");
        super::super::items::carry_outbox(&mut item, ns).unwrap();
        let Some(aws_sdk_dynamodb::types::AttributeValue::B(z)) = item.get(OUTZ) else {
            panic!("carried")
        };
        let b64 = base64::engine::general_purpose::STANDARD.encode(z.as_ref());
        let mut r = record("INSERT", seq, "CASE#01J", "EVT#0000000002", Some("{}"));
        r["dynamodb"]["NewImage"][OUTZ] = json!({ "B": b64 });
        r
    }

    #[test]
    fn the_entries_events_carry_and_unpublished_outbox_inserts_are_taken_and_an_unreadable_one_is_named()
     {
        let digest = doc("digest:ward:00070:2025-08-04");
        let mut published = record(
            "INSERT",
            "10",
            "CASE#01J",
            "OUT#01J:status:v1",
            Some(&digest),
        );
        published["dynamodb"]["NewImage"][PUBLISHED_AT] = json!({"S": "2025-08-04T02:00:01Z"});
        let mut parked = record(
            "INSERT",
            "11",
            "CASE#01J",
            "OUT#01J:status:v0",
            Some(&digest),
        );
        parked["dynamodb"]["NewImage"][GSI1.pk] = json!({"S": "PENDING"});
        let mut broken = record("INSERT", "12", "CASE#01J", "EVT#0000000003", Some("{}"));
        broken["dynamodb"]["NewImage"][OUTZ] = json!({"B": "bm90IGRlZmxhdGVk"});
        let event = json!({"Records": [
            record("INSERT", "1", "CASE#01J", "CASE", Some("{}")),
            record("INSERT", "2", "CASE#01J", "EVT#0000000001", Some("{}")),
            event_record("3", &[notification("01J:assigned:v2"), notification("01J:status:v2")]),
            record("MODIFY", "4", "CASE#01J", "OUT#01J:status:v2", Some(&doc("01J:status:v2"))),
            record("INSERT", "5", "OUT#digest:ward:00070:2025-08-04", "OUT", Some(&digest)),
            record("INSERT", "6", "CASE#01J", "OUT#01J:status:v3", Some("{not json")),
            record("INSERT", "7", "CASE#01J", "OUT#01J:status:v4", None),
            record("REMOVE", "8", "CASE#01J", "OUT#01J:status:v2", None),
            record("INSERT", "9", "STATS#2025-08", "OUT", Some(&digest)),
            published,
            parked,
            broken,
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
                ("3", "01J:assigned:v2"),
                ("3", "01J:status:v2"),
                ("5", "digest:ward:00070:2025-08-04")
            ]
        );
        assert_eq!(b.unreadable, vec!["6", "7", "12"]);
        // Not a stream batch at all: nothing, not a panic.
        let none = outbox_inserts(&json!({"detail-type": "Scheduled Event"}));
        assert!(none.entries.is_empty() && none.unreadable.is_empty());
    }
}
