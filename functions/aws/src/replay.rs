//! `pakn replay-stream-failures`: the stream batches `pakn-publisher` gave
//! up on, read back from the table's stream and published.
//!
//! When the publisher can neither publish nor park a record for its event
//! source's retries (10 tries or 6 hours: the table unwritable, a bug),
//! Lambda puts a description of the batch on the failure queue
//! (`PublisherFailureQueue`): the stream, the shard and the first and last
//! sequence numbers, not the records. This reads those records back from
//! the stream (it keeps them 24 hours), hands them to the publisher's own
//! handler ([`crate::publisher::publish_batch`], which publishes nothing
//! twice), and deletes a message only once its whole batch is published
//! or parked. A batch the stream no longer holds (trimmed after 24 hours)
//! is found in the table instead: its entries are still on their events
//! (`outz`), which a scan of the table finds by the batch's arrival times
//! (give or take [`ARRIVAL_MARGIN_MINUTES`]); the publisher's handler
//! skips any already published, so the margin costs nothing twice.

use crate::dynamo::DynamoStore;
use crate::error::classify;
use crate::publisher::publish_batch;
use crate::sqs::receive_now;
use aws_sdk_dynamodbstreams::Client as Streams;
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use pakn_core::app::Pakn;
use pakn_core::ports::{StoreError, StoreResult};
use serde_json::{Map, Value, json};

/// The batch a failure-queue message describes (Lambda's
/// `DDBStreamBatchInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedBatch {
    pub stream_arn: String,
    pub shard_id: String,
    pub start_sequence: String,
    pub end_sequence: String,
    /// When its first and last records reached the stream, when Lambda says.
    pub arrivals: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// How far around a batch's arrival times its events are looked for in
/// the table (an event's time is its commit's clock, a record's arrival
/// the stream's).
pub const ARRIVAL_MARGIN_MINUTES: i64 = 10;

impl FailedBatch {
    /// From a failure-queue message body; `None` for anything else.
    pub fn parse(body: &str) -> Option<FailedBatch> {
        let v: Value = serde_json::from_str(body).ok()?;
        let info = v.get("DDBStreamBatchInfo")?;
        let s = |k: &str| Some(info.get(k)?.as_str()?.to_string());
        let t = |k: &str| {
            DateTime::parse_from_rfc3339(&s(k)?)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        };
        Some(FailedBatch {
            stream_arn: s("streamArn")?,
            shard_id: s("shardId")?,
            start_sequence: s("startSequenceNumber")?,
            end_sequence: s("endSequenceNumber")?,
            arrivals: t("approximateArrivalOfFirstRecord").zip(t("approximateArrivalOfLastRecord")),
        })
    }
}

/// What a run came to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// Failure-queue messages read.
    pub messages: usize,
    /// Of them, done with and deleted.
    pub done: usize,
    /// Of them, found in the table (the stream no longer had them).
    pub from_table: usize,
    /// Outbox entries in their batches; published now; parked for the drain.
    pub entries: usize,
    pub sent: usize,
    pub parked: usize,
    /// Messages kept: their batch is neither on the stream nor findable in
    /// the table (no arrival times), or part of it failed again, or the
    /// message is not a stream batch's description. Each is named.
    pub kept: Vec<String>,
}

/// Numeric order of two sequence numbers (decimal strings of any length).
fn seq_le(a: &str, b: &str) -> bool {
    (a.len(), a) <= (b.len(), b)
}

/// A stream record as Lambda's DynamoDB event carries it (what
/// [`publish_batch`] reads).
pub fn record_json(r: &Record) -> Value {
    let mut ddb = Map::new();
    if let Some(s) = r.dynamodb() {
        if let Some(seq) = s.sequence_number() {
            ddb.insert("SequenceNumber".into(), json!(seq));
        }
        for (name, image) in [("Keys", s.keys()), ("NewImage", s.new_image())] {
            if let Some(image) = image {
                ddb.insert(name.into(), item_json(image));
            }
        }
    }
    json!({
        "eventName": r.event_name().map(|n| n.as_str()).unwrap_or_default(),
        "dynamodb": ddb,
    })
}

fn item_json(item: &std::collections::HashMap<String, AttributeValue>) -> Value {
    Value::Object(
        item.iter()
            .map(|(k, v)| (k.clone(), attribute_json(v)))
            .collect(),
    )
}

/// One attribute in DynamoDB's JSON (binary as base64, as Lambda sends it).
fn attribute_json(v: &AttributeValue) -> Value {
    let b64 = |b: &aws_sdk_dynamodbstreams::primitives::Blob| {
        base64::engine::general_purpose::STANDARD.encode(b.as_ref())
    };
    match v {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": b64(b) }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(b) => json!({ "NULL": b }),
        AttributeValue::Ss(v) => json!({ "SS": v }),
        AttributeValue::Ns(v) => json!({ "NS": v }),
        AttributeValue::Bs(v) => json!({ "BS": v.iter().map(b64).collect::<Vec<_>>() }),
        AttributeValue::L(v) => json!({ "L": v.iter().map(attribute_json).collect::<Vec<_>>() }),
        AttributeValue::M(m) => json!({ "M": item_json(m) }),
        _ => Value::Null,
    }
}

/// The records of `b` still on the stream, oldest first, as a Lambda
/// event (`{"Records": [...]}`). An error when the stream no longer holds
/// them (trimmed, or the shard or stream gone).
pub async fn read_batch(streams: &Streams, b: &FailedBatch) -> StoreResult<Value> {
    let mut iterator = streams
        .get_shard_iterator()
        .stream_arn(&b.stream_arn)
        .shard_id(&b.shard_id)
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .sequence_number(&b.start_sequence)
        .send()
        .await
        .map_err(classify)?
        .shard_iterator
        .ok_or_else(|| StoreError::msg("the stream gave no shard iterator"))?;
    let mut records = Vec::new();
    // An open shard answers empty pages at its end: a few in a row end it.
    let mut empty = 0;
    for _ in 0..10_000 {
        let page = streams
            .get_records()
            .shard_iterator(&iterator)
            .limit(1000)
            .send()
            .await
            .map_err(classify)?;
        let got = page.records();
        if got.is_empty() {
            empty += 1;
        } else {
            empty = 0;
        }
        let mut past_end = false;
        for r in got {
            let seq = r
                .dynamodb()
                .and_then(|s| s.sequence_number())
                .unwrap_or_default();
            if !seq_le(seq, &b.end_sequence) {
                past_end = true;
                break;
            }
            records.push(record_json(r));
        }
        match page.next_shard_iterator {
            Some(next) if !past_end && empty < 3 => iterator = next,
            _ => break,
        }
    }
    Ok(json!({ "Records": records }))
}

/// Replay up to `max` failure-queue messages (see the module).
pub async fn replay_failures(
    pakn: &Pakn,
    store: &DynamoStore,
    sdk: &aws_config::SdkConfig,
    queue_url: &str,
    max: usize,
) -> StoreResult<Replayed> {
    let sqs = &aws_sdk_sqs::Client::new(sdk);
    let streams = &Streams::new(sdk);
    if !store.publishes_from_stream() {
        return Err(StoreError::msg(
            "the stream's batches are replayed as pakn-publisher publishes them: \
             set PAKN_PUBLISH=stream, as the deployed functions have it",
        ));
    }
    let mut out = Replayed::default();
    while out.messages < max {
        // Kept messages stay out of sight for the rest of this run.
        let messages = receive_now(sqs, queue_url, max - out.messages, 300).await?;
        if messages.is_empty() {
            break;
        }
        for m in &messages {
            out.messages += 1;
            let id = m.message_id().unwrap_or_default().to_string();
            let Some(batch) = m.body().and_then(FailedBatch::parse) else {
                tracing::error!(message_id = %id, "not a stream batch's description: kept");
                out.kept
                    .push(format!("{id}: not a stream batch's description"));
                continue;
            };
            let event = match read_batch(streams, &batch).await {
                Ok(e) => e,
                Err(e) => {
                    let gone = format!(
                        "shard {} records {}..{} no longer on the stream ({e})",
                        batch.shard_id, batch.start_sequence, batch.end_sequence
                    );
                    let Some((first, last)) = batch.arrivals else {
                        tracing::error!(message_id = %id, %gone, "and no arrival times to find them in the table: kept");
                        out.kept.push(format!(
                            "{id}: {gone}, and no arrival times to find them by in the table"
                        ));
                        continue;
                    };
                    tracing::warn!(message_id = %id, %gone, "looking for the batch's events in the table");
                    let margin = chrono::Duration::minutes(ARRIVAL_MARGIN_MINUTES);
                    out.from_table += 1;
                    store
                        .events_carrying_outbox(first - margin, last + margin)
                        .await?
                }
            };
            let p = publish_batch(pakn, store, &event).await;
            out.entries += p.entries;
            out.sent += p.sent;
            out.parked += p.parked;
            if !p.failed.is_empty() {
                out.kept
                    .push(format!("{id}: records {:?} failed again", p.failed));
                continue;
            }
            if let Some(handle) = m.receipt_handle() {
                sqs.delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .map_err(classify)?;
            }
            out.done += 1;
        }
    }
    tracing::info!(?out, "stream failures replayed");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_message_names_its_batch_and_sequence_numbers_compare_as_numbers() {
        let body = json!({
            "requestContext": {"condition": "RetryAttemptsExhausted"},
            "DDBStreamBatchInfo": {
                "shardId": "shardId-00000001", "startSequenceNumber": "900",
                "endSequenceNumber": "1200", "batchSize": 3,
                "streamArn": "arn:aws:dynamodb:ap-southeast-1:123456789012:table/t/stream/2026"
            }
        })
        .to_string();
        assert_eq!(
            FailedBatch::parse(&body),
            Some(FailedBatch {
                stream_arn: "arn:aws:dynamodb:ap-southeast-1:123456789012:table/t/stream/2026"
                    .into(),
                shard_id: "shardId-00000001".into(),
                start_sequence: "900".into(),
                end_sequence: "1200".into(),
                arrivals: None,
            })
        );
        let mut with_times: Value = serde_json::from_str(&body).unwrap();
        with_times["DDBStreamBatchInfo"]["approximateArrivalOfFirstRecord"] =
            json!("2026-12-04T01:02:03Z");
        with_times["DDBStreamBatchInfo"]["approximateArrivalOfLastRecord"] =
            json!("2026-12-04T01:02:09Z");
        let b = FailedBatch::parse(&with_times.to_string()).unwrap();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(
            b.arrivals,
            Some((at("2026-12-04T01:02:03Z"), at("2026-12-04T01:02:09Z")))
        );
        assert_eq!(FailedBatch::parse("{\"Records\": []}"), None);
        assert_eq!(FailedBatch::parse("not json"), None);
        assert!(seq_le("900", "1200") && seq_le("1200", "1200") && !seq_le("1201", "1200"));
    }

    #[test]
    fn a_record_reads_as_lambda_sends_it() {
        use aws_sdk_dynamodbstreams::primitives::Blob;
        use aws_sdk_dynamodbstreams::types::{OperationType, StreamRecord};
        let r = Record::builder()
            .event_name(OperationType::Insert)
            .dynamodb(
                StreamRecord::builder()
                    .sequence_number("42")
                    .new_image("sk", AttributeValue::S("EVT#0000000002".into()))
                    .new_image("outz", AttributeValue::B(Blob::new(b"\x01\x02".to_vec())))
                    .new_image("dn", AttributeValue::Ns(vec!["7".into()]))
                    .build(),
            )
            .build();
        assert_eq!(
            record_json(&r),
            json!({"eventName": "INSERT", "dynamodb": {"SequenceNumber": "42", "NewImage": {
                "sk": {"S": "EVT#0000000002"}, "outz": {"B": "AQI="}, "dn": {"NS": ["7"]}}}})
        );
    }
}
