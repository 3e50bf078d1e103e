//! The case store on one DynamoDB table (layout in [`keys`], mapping in
//! [`items`]).
//!
//! Every state change is one `TransactWriteItems`: the case state on the
//! condition `version = :expected` (and, for a sweep decision, that the
//! state's `dn` set does not hold it yet), its timeline event, the outbox
//! entries (put-if-absent), the rollup counters (`ADD`) and an
//! inspection (put-if-absent). Either all of it is written or none.
//! Publishing from the table's stream, the outbox entries are not items
//! of the transaction: they ride on the event item (`outz`), and the
//! publisher stores each once published or parked (`stream.rs`).
//!
//! Idempotency records need no in-progress state here: the record is written
//! in the same transaction as the case it answers for, so a crashed call
//! leaves either nothing (the retry creates the case) or both (the retry
//! replays). Expiry is checked in code (`expires_at < :now`), since the TTL
//! deletes lazily (and the emulator never).

mod apikeys;
pub mod bulk;
mod followers;
pub mod items;
pub mod keys;
mod nearby;
mod notices;
mod privacy;
mod stats;
pub mod stream;
mod uploads;
mod wards;

use crate::error::{classify, condition_held};
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, Select, TransactWriteItem, Update,
};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use items::*;
use keys::*;
use pakn_core::auth::Roster;
use pakn_core::case::{Case, Status, TimelineEvent};
use pakn_core::ids::CaseId;
use pakn_core::inspection::Inspection;
use pakn_core::notify::Notification;
use pakn_core::ports::*;
use pakn_core::stats::StatDelta;
use pakn_core::unit::UnitCode;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// How long a published outbox entry is kept (for audit) before the TTL removes it.
pub const PUBLISHED_RETENTION_DAYS: i64 = 30;
/// Years listed when a listing gives no lower bound on the receipt time.
pub const FIRST_YEAR: i32 = 2024;
/// Statuses a case can have at a unit (a `received` case has no unit yet).
const UNIT_STATUSES: [Status; 7] = [
    Status::Triage,
    Status::Assigned,
    Status::InProgress,
    Status::AwaitingInfo,
    Status::Resolved,
    Status::Rejected,
    Status::Closed,
];
const OPEN_UNIT_STATUSES: [Status; 4] = [
    Status::Triage,
    Status::Assigned,
    Status::InProgress,
    Status::AwaitingInfo,
];

/// The DynamoDB case store. The intake queue (SQS) lives apart from the
/// table, so a new case (or a requeue) is sent to it right after the
/// durable write: a send that fails is logged with the case id and the
/// sweep's requeue milestone sends it again (`CaseStore::create_case`).
#[derive(Clone)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    intake: Option<Arc<dyn Queue>>,
    /// Outbox entries are published by the table's stream consumer
    /// (`pakn-publisher`, see [`stream`]), not by the committer.
    stream: bool,
}

/// A condition (or update) expression with its names and values.
#[derive(Debug, Default, Clone)]
struct Expr {
    text: String,
    names: HashMap<String, String>,
    values: Item,
}

impl Expr {
    fn new(text: impl Into<String>) -> Self {
        Expr {
            text: text.into(),
            ..Default::default()
        }
    }
    fn name(mut self, k: &str, v: &str) -> Self {
        self.names.insert(k.into(), v.into());
        self
    }
    fn value(mut self, k: &str, v: AttributeValue) -> Self {
        self.values.insert(k.into(), v);
        self
    }
    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }
    fn values(&self) -> Option<Item> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

fn absent() -> Expr {
    Expr::new("attribute_not_exists(#pk)").name("#pk", PK)
}

/// What a cancelled transaction said about each of its items.
struct Cancelled {
    codes: Vec<Option<String>>,
    source: StoreError,
}

impl Cancelled {
    fn failed(&self, i: usize) -> bool {
        self.codes.get(i).and_then(|c| c.as_deref()) == Some("ConditionalCheckFailed")
    }
    fn any_condition_failed(&self) -> bool {
        self.codes.iter().any(|c| {
            matches!(
                c.as_deref(),
                Some("ConditionalCheckFailed" | "TransactionConflict")
            )
        })
    }
}

/// A query to run (one partition of one index, an optional sort-key range).
#[derive(Debug, Clone)]
struct Step {
    gsi: Gsi,
    pk: String,
    /// `(operator, value)` on the index sort key: `<`, `BETWEEN` (two values joined by `\u{0}`) …
    sk: Option<SkCond>,
    forward: bool,
}

#[derive(Debug, Clone)]
enum SkCond {
    Lt(String),
    Gt(String),
    Ge(String),
    Between(String, String),
}

/// A listing cursor: the sort key (`<received_at>#<id>`) of the last case
/// returned. Every listing index sorts by it, so the next page is "below it"
/// in every partition of the listing.
fn encode_cursor(sk: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sk)
}

fn decode_cursor(c: &str) -> StoreResult<String> {
    use base64::Engine;
    let sk = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or(StoreError::InvalidCursor)?;
    // Only a sort key this store wrote: `<instant>#<case id>`.
    let ours = sk.split_once('#').is_some_and(|(at, id)| {
        DateTime::parse_from_rfc3339(at).is_ok()
            && CaseId::parse(id).is_some_and(|c| c.as_str() == id)
    });
    if ours {
        Ok(sk)
    } else {
        Err(StoreError::InvalidCursor)
    }
}

/// One partition of a merged listing, read page by page.
struct Part {
    step: Step,
    buf: std::collections::VecDeque<(String, CaseId)>,
    next: Option<Item>,
    exhausted: bool,
}

impl DynamoStore {
    /// Every item of a case's partition whose sort key starts with `prefix`
    /// (strongly consistent, all pages).
    async fn case_items(&self, id: &CaseId, prefix: &str) -> StoreResult<Vec<Item>> {
        let e = Expr::new("#pk = :pk AND begins_with(#sk, :prefix)")
            .name("#pk", PK)
            .name("#sk", SK)
            .value(":pk", s(case_pk(id)))
            .value(":prefix", s(prefix));
        self.table_query(&e, true).await
    }

    /// Every item of the table (not an index) matching a key condition, all pages.
    async fn table_query(&self, e: &Expr, consistent: bool) -> StoreResult<Vec<Item>> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let res = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(&e.text)
                .set_expression_attribute_names(e.names())
                .set_expression_attribute_values(e.values())
                .set_exclusive_start_key(start)
                .consistent_read(consistent)
                .send()
                .await
                .map_err(classify)?;
            out.extend(res.items().iter().cloned());
            match res.last_evaluated_key() {
                Some(k) => start = Some(k.clone()),
                None => return Ok(out),
            }
        }
    }

    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
            intake: None,
            stream: false,
        }
    }

    /// Leave publishing to the table's stream consumer (`PAKN_PUBLISH=stream`):
    /// committers do not publish; a change's outbox entries ride on its
    /// event (`outz`) and a digest's outbox item is written without its
    /// `PENDING` index entry (the stream is the queue); the consumer stores
    /// each entry once published, and only one it could not publish is
    /// parked on that index for the sweep's drain (see `stream.rs`).
    pub fn with_stream_publishing(mut self) -> Self {
        self.stream = true;
        self
    }

    /// An outbox item as this store writes it, inline in a change's
    /// transaction or, for a digest, on its own (see
    /// [`Self::with_stream_publishing`]).
    fn outbox_entry(&self, nt: &Notification) -> StoreResult<Item> {
        let mut item = outbox_item(nt)?;
        if self.stream {
            item.remove(GSI1.pk);
            item.remove(GSI1.sk);
        }
        Ok(item)
    }

    /// Send new and requeued cases to this intake queue (the composition
    /// root always sets it; a store without one only stores).
    pub fn with_intake(mut self, queue: Arc<dyn Queue>) -> Self {
        self.intake = Some(queue);
        self
    }

    /// The items a keys-only index page names (at most `limit`), read by
    /// key in one batch and returned in the index's order; items gone since
    /// the query are skipped.
    async fn index_items(&self, step: &Step, limit: usize) -> StoreResult<Vec<Item>> {
        let (items, _, _) = self
            .query_page(step, None, Some(limit.clamp(1, 1000) as i32), false, None)
            .await?;
        self.index_items_of(&items).await
    }

    /// After a durable write: put the case on the intake queue, best effort.
    async fn enqueue(&self, id: &CaseId) {
        if let Some(q) = &self.intake {
            if let Err(e) = q.send(std::slice::from_ref(id)).await {
                tracing::warn!(case_id = %id, error = %e, "intake send failed; the sweep will re-enqueue");
            }
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.client
    }

    fn put(&self, item: Item, cond: Option<Expr>) -> StoreResult<TransactWriteItem> {
        let mut b = Put::builder().table_name(&self.table).set_item(Some(item));
        if let Some(c) = cond {
            b = b
                .condition_expression(&c.text)
                .set_expression_attribute_names(c.names())
                .set_expression_attribute_values(c.values());
        }
        Ok(TransactWriteItem::builder()
            .put(b.build().map_err(StoreError::other)?)
            .build())
    }

    fn update(
        &self,
        key: Item,
        update: Expr,
        cond: Option<&str>,
    ) -> StoreResult<TransactWriteItem> {
        let u = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(&update.text)
            .set_condition_expression(cond.map(String::from))
            .set_expression_attribute_names(update.names())
            .set_expression_attribute_values(update.values())
            .build()
            .map_err(StoreError::other)?;
        Ok(TransactWriteItem::builder().update(u).build())
    }

    /// `ADD` the deltas of each (scope, day) row in one update per row (a
    /// change touches one row, two when a case moves between units).
    fn rollup_updates(&self, deltas: &[StatDelta]) -> StoreResult<Vec<TransactWriteItem>> {
        let mut rows: BTreeMap<(String, NaiveDate), BTreeMap<String, i64>> = BTreeMap::new();
        for d in deltas {
            *rows
                .entry((d.scope.clone(), d.day))
                .or_default()
                .entry(d.counter.name())
                .or_default() += d.amount;
        }
        let mut out = Vec::new();
        for ((scope, day), counters) in rows {
            let mut e = Expr::default();
            let mut parts = Vec::new();
            for (i, (name, amount)) in counters.into_iter().filter(|(_, a)| *a != 0).enumerate() {
                parts.push(format!("#c{i} :c{i}"));
                e = e
                    .name(&format!("#c{i}"), &format!("{COUNTER}{name}"))
                    .value(&format!(":c{i}"), n(amount));
            }
            if parts.is_empty() {
                continue;
            }
            e.text = format!("ADD {}", parts.join(", "));
            out.push(self.update(key(stats_pk(day), stats_sk(day, &scope)), e, None)?);
        }
        Ok(out)
    }

    /// `ADD` to a unit's count of open inspections (in its summary item).
    fn open_inspections_update(&self, unit: &str, delta: i64) -> StoreResult<TransactWriteItem> {
        let add = Expr::new("ADD #n :d")
            .name("#n", OPEN_INSPECTIONS)
            .value(":d", n(delta));
        self.update(stats::unit_summary_key(unit), add, None)
    }

    /// The items named by keys-only index entries, in their order (gone ones skipped).
    async fn index_items_of(&self, entries: &[Item]) -> StoreResult<Vec<Item>> {
        let keys: Vec<Item> = entries
            .iter()
            .map(|i| Ok(key(get_s(i, PK)?, get_s(i, SK)?)))
            .collect::<Result<_, MappingError>>()?;
        let order: Vec<(String, String)> = keys
            .iter()
            .filter_map(|k| {
                Some((
                    get_s(k, PK).ok()?.to_string(),
                    get_s(k, SK).ok()?.to_string(),
                ))
            })
            .collect();
        let mut got = self.batch_get(keys).await?;
        Ok(order.into_iter().filter_map(|k| got.remove(&k)).collect())
    }

    /// An update that writes every attribute of `item` only where it is not set yet
    /// (a put-if-absent that does not cancel the transaction when present).
    fn put_if_absent_update(&self, mut item: Item) -> StoreResult<TransactWriteItem> {
        let k = key(
            get_s(&item, PK).map_err(StoreError::from)?.to_string(),
            get_s(&item, SK).map_err(StoreError::from)?.to_string(),
        );
        item.remove(PK);
        item.remove(SK);
        let mut e = Expr::default();
        let mut parts = Vec::new();
        for (i, (name, v)) in item.into_iter().enumerate() {
            parts.push(format!("#a{i} = if_not_exists(#a{i}, :a{i})"));
            e = e.name(&format!("#a{i}"), &name).value(&format!(":a{i}"), v);
        }
        e.text = format!("SET {}", parts.join(", "));
        self.update(k, e, None)
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), Cancelled> {
        let res = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) => {
                let codes = match e.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(tc)) => tc
                        .cancellation_reasons()
                        .iter()
                        .map(|r| r.code().map(String::from))
                        .collect(),
                    _ => vec![],
                };
                let cancelled = matches!(
                    e.as_service_error(),
                    Some(TransactWriteItemsError::TransactionCanceledException(_))
                );
                let source = if cancelled
                    && codes.iter().any(|c| {
                        matches!(
                            c.as_deref(),
                            Some("ThrottlingError" | "ProvisionedThroughputExceeded")
                        )
                    }) {
                    StoreError::Unavailable(Box::new(e))
                } else {
                    classify(e)
                };
                Err(Cancelled { codes, source })
            }
        }
    }

    async fn get(&self, pk: String, sk: &str) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(out.item().cloned())
    }

    async fn put_plain(&self, item: Item) -> StoreResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Read items by key (strongly consistent), in batches of 100, retrying unprocessed keys.
    async fn batch_get(&self, keys: Vec<Item>) -> StoreResult<HashMap<(String, String), Item>> {
        let mut out = HashMap::new();
        for chunk in keys.chunks(100) {
            let mut pending = chunk.to_vec();
            let mut attempt = 0u32;
            while !pending.is_empty() {
                let ka = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(true)
                    .build()
                    .map_err(StoreError::other)?;
                let res = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, ka)
                    .send()
                    .await
                    .map_err(classify)?;
                for item in res
                    .responses()
                    .and_then(|r| r.get(&self.table))
                    .into_iter()
                    .flatten()
                {
                    let pk = get_s(item, PK).map_err(StoreError::from)?.to_string();
                    let sk = get_s(item, SK).map_err(StoreError::from)?.to_string();
                    out.insert((pk, sk), item.clone());
                }
                if let Some(left) = res.unprocessed_keys().and_then(|u| u.get(&self.table)) {
                    pending = left.keys().to_vec();
                    attempt += 1;
                    if attempt > 8 {
                        return Err(StoreError::Unavailable(Box::new(
                            pakn_core::error::Message(
                                "BatchGetItem kept returning unprocessed keys".into(),
                            ),
                        )));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20 << attempt.min(6)))
                        .await;
                }
            }
        }
        Ok(out)
    }

    /// Full cases by id (state + submission), in the order given; missing ones are skipped.
    async fn cases_by_id(&self, ids: &[CaseId]) -> StoreResult<Vec<Case>> {
        let keys = ids
            .iter()
            .flat_map(|id| [key(case_pk(id), SK_CASE), key(case_pk(id), SK_BODY)])
            .collect();
        let mut got = self.batch_get(keys).await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let pk = case_pk(id);
            let (Some(state), Some(body)) = (
                got.remove(&(pk.clone(), SK_CASE.to_string())),
                got.remove(&(pk, SK_BODY.to_string())),
            ) else {
                continue;
            };
            out.push(Case::try_from(&CaseRecord { state, body })?);
        }
        Ok(out)
    }

    /// Every entry of one index partition (within `step.sk`), page by page.
    async fn index_entries(&self, step: &Step) -> StoreResult<Vec<Item>> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let (items, _, last) = self.query_page(step, start, None, false, None).await?;
            out.extend(items);
            match last {
                Some(k) => start = Some(k),
                None => return Ok(out),
            }
        }
    }

    /// Turn the item at `k` into a tombstone, since the functions may not
    /// `DeleteItem`: `mark` (and each of `set`) is set, its `doc` and its
    /// keys on `gsis` removed (it leaves those indexes), and the TTL is now
    /// (DynamoDB deletes it later). `false` when there was no such item or
    /// it was a tombstone already.
    async fn tombstone(
        &self,
        k: Item,
        mark: &str,
        set: &[(&str, AttributeValue)],
        gsis: &[Gsi],
    ) -> StoreResult<bool> {
        let now = Utc::now();
        let mut sets = vec!["#mark = :now".to_string(), "#ttl = :ttl".to_string()];
        let mut e = Expr::new("")
            .name("#pk", PK)
            .name("#mark", mark)
            .name("#ttl", TTL)
            .name("#doc", DOC)
            .value(":now", s(ts(now)))
            .value(":ttl", n(now.timestamp()));
        for (i, (name, value)) in set.iter().enumerate() {
            sets.push(format!("#s{i} = :s{i}"));
            e = e
                .name(&format!("#s{i}"), name)
                .value(&format!(":s{i}"), value.clone());
        }
        let mut removes = vec!["#doc".to_string()];
        for (i, g) in gsis.iter().enumerate() {
            removes.push(format!("#g{i}pk, #g{i}sk"));
            e = e
                .name(&format!("#g{i}pk"), g.pk)
                .name(&format!("#g{i}sk"), g.sk);
        }
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(k))
            .update_expression(format!(
                "SET {} REMOVE {}",
                sets.join(", "),
                removes.join(", ")
            ))
            .condition_expression("attribute_exists(#pk) AND attribute_not_exists(#mark)")
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .send()
            .await;
        condition_held(res)
    }

    /// The table keys (`pk`, `sk`) of every entry of one index partition:
    /// what a `batch_get` (or a per-item update) takes.
    async fn index_keys(&self, step: &Step) -> StoreResult<Vec<Item>> {
        self.index_entries(step)
            .await?
            .iter()
            .map(|i| Ok(key(get_s(i, PK)?, get_s(i, SK)?)))
            .collect()
    }

    /// One page of an index query.
    async fn query_page(
        &self,
        step: &Step,
        start: Option<Item>,
        limit: Option<i32>,
        count_only: bool,
        due_before: Option<DateTime<Utc>>,
    ) -> StoreResult<(Vec<Item>, i64, Option<Item>)> {
        let mut e = Expr::new("#gpk = :gpk")
            .name("#gpk", step.gsi.pk)
            .value(":gpk", s(&step.pk));
        match &step.sk {
            None => {}
            Some(SkCond::Lt(v)) => {
                e.text.push_str(" AND #gsk < :hi");
                e = e.name("#gsk", step.gsi.sk).value(":hi", s(v));
            }
            Some(SkCond::Gt(v)) => {
                e.text.push_str(" AND #gsk > :lo");
                e = e.name("#gsk", step.gsi.sk).value(":lo", s(v));
            }
            Some(SkCond::Ge(v)) => {
                e.text.push_str(" AND #gsk >= :lo");
                e = e.name("#gsk", step.gsi.sk).value(":lo", s(v));
            }
            Some(SkCond::Between(lo, hi)) => {
                e.text.push_str(" AND #gsk BETWEEN :lo AND :hi");
                e = e
                    .name("#gsk", step.gsi.sk)
                    .value(":lo", s(lo))
                    .value(":hi", s(hi));
            }
        }
        let filter = due_before.map(|t| {
            e = std::mem::take(&mut e)
                .name("#due", DUE)
                .value(":due", s(ts(t)));
            "#due < :due".to_string()
        });
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(step.gsi.name)
            .set_filter_expression(filter)
            .key_condition_expression(&e.text)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .scan_index_forward(step.forward)
            .set_exclusive_start_key(start)
            .set_limit(limit);
        if count_only {
            q = q.select(Select::Count);
        }
        let out = q.send().await.map_err(classify)?;
        Ok((
            out.items().to_vec(),
            out.count() as i64,
            out.last_evaluated_key().cloned(),
        ))
    }

    /// Count a partition (only the cases due before `due_before`, if given,
    /// by the `due` attribute the index projects).
    async fn count(&self, step: &Step, due_before: Option<DateTime<Utc>>) -> StoreResult<i64> {
        let mut total = 0;
        let mut start = None;
        loop {
            let (_, n, last) = self.query_page(step, start, None, true, due_before).await?;
            total += n;
            match last {
                Some(k) => start = Some(k),
                None => return Ok(total),
            }
        }
    }

    /// A newest-first listing over `steps` (partitions sorted by
    /// `<received_at>#<id>`), merged, keeping the cases `keep` accepts, from
    /// `cursor`, received in `[from, to)`.
    async fn list_merged(
        &self,
        steps: Vec<Step>,
        q: &CaseQuery,
        keep: impl Fn(&Case) -> bool,
    ) -> StoreResult<CasePage> {
        let limit = q.limit.max(1);
        let cursor = q.cursor.as_deref().map(decode_cursor).transpose()?;
        let hi = match (cursor.clone(), q.received_to.map(ts)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let lo = q.received_from.map(ts);
        let sk = match (lo, hi.clone()) {
            (None, None) => None,
            (Some(lo), None) => Some(SkCond::Ge(lo)),
            (None, Some(hi)) => Some(SkCond::Lt(hi)),
            (Some(lo), Some(hi)) => Some(SkCond::Between(lo, hi)),
        };
        let mut parts: Vec<Part> = steps
            .into_iter()
            .map(|mut step| {
                step.sk = sk.clone();
                step.forward = false;
                Part {
                    step,
                    buf: Default::default(),
                    next: None,
                    exhausted: false,
                }
            })
            .collect();
        let mut found: Vec<(String, Case)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut candidates: Vec<(String, CaseId)> = Vec::new();
        loop {
            for p in parts
                .iter_mut()
                .filter(|p| p.buf.is_empty() && !p.exhausted)
            {
                let page = ((limit + 1) as i32).clamp(10, 100);
                let (items, _, last) = self
                    .query_page(&p.step, p.next.take(), Some(page), false, None)
                    .await?;
                for i in &items {
                    let k = get_s(i, p.step.gsi.sk)?.to_string();
                    // BETWEEN includes its upper end: the cursor's own case is not repeated.
                    if hi.as_deref().is_some_and(|h| k.as_str() >= h) {
                        continue;
                    }
                    p.buf.push_back((k, case_id_of(i)?));
                }
                p.exhausted = last.is_none();
                p.next = last;
            }
            let best = parts
                .iter_mut()
                .filter(|p| !p.buf.is_empty())
                .max_by(|a, b| a.buf[0].0.cmp(&b.buf[0].0));
            let done = match best {
                Some(p) => {
                    if let Some(c) = p.buf.pop_front() {
                        if seen.insert(c.1.clone()) {
                            candidates.push(c);
                        }
                    }
                    false
                }
                None => parts.iter().all(|p| p.exhausted),
            };
            if done || candidates.len() > limit - found.len().min(limit) {
                let ids: Vec<CaseId> = candidates.iter().map(|(_, id)| id.clone()).collect();
                let cases = self.cases_by_id(&ids).await?;
                let mut by_id: HashMap<CaseId, Case> =
                    cases.into_iter().map(|c| (c.id.clone(), c)).collect();
                for (k, id) in candidates.drain(..) {
                    if let Some(c) = by_id.remove(&id).filter(|c| keep(c)) {
                        found.push((k, c));
                    }
                }
                if done || found.len() > limit {
                    break;
                }
            }
        }
        let next_cursor = if found.len() > limit {
            found.truncate(limit);
            found.last().map(|(k, _)| encode_cursor(k))
        } else {
            None
        };
        Ok(CasePage {
            cases: found.into_iter().map(|(_, c)| c).collect(),
            next_cursor,
        })
    }

    /// A unit's open queue by what is due next ([`due_page`]): one query of
    /// each open status's GSI1 partition (keys and the projected `due`,
    /// `qdue`, `cat`; a further page only past 1 MB of entries, thousands of
    /// open cases), ordered and filtered there, then the page's cases by key.
    async fn list_by_due(&self, unit: &UnitCode, q: &CaseQuery) -> StoreResult<CasePage> {
        let mut entries = Vec::new();
        for status in UNIT_QUEUE_OPEN {
            let step = Step {
                gsi: GSI1,
                pk: unit_queue_pk(unit.as_str(), status.as_str()),
                sk: None,
                forward: true,
            };
            for item in &self.index_entries(&step).await? {
                entries.push(queue_entry_from(item, status)?);
            }
        }
        let (ids, next_cursor) = due_page(entries, q)?;
        let mut by_id: HashMap<CaseId, Case> = self
            .cases_by_id(&ids)
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        Ok(CasePage {
            // The index may lag the table: a case read is kept only if it is
            // still in this unit's open queue.
            cases: ids
                .iter()
                .filter_map(|id| by_id.remove(id))
                .filter(|c| c.unit.as_ref() == Some(unit) && UNIT_QUEUE_OPEN.contains(&c.status))
                .collect(),
            next_cursor,
        })
    }

    /// The idempotency record under `key`, if present and not expired at `now`.
    async fn live_idem(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Option<IdemRecord>> {
        match self.get(idem_pk(key), "IDEM").await? {
            Some(item) => {
                let r = idem_from(&item)?;
                Ok((r.expires_at >= now).then_some(r))
            }
            None => Ok(None),
        }
    }
}

#[async_trait]
impl CaseStore for DynamoStore {
    #[tracing::instrument(skip_all, fields(case_id = %new.case.id), err)]
    async fn create_case(&self, new: &NewCase, now: DateTime<Utc>) -> StoreResult<Created> {
        let c = &new.case;
        let mut rec = CaseRecord::try_from(c)?;
        if let Some(idem) = &new.idempotency {
            // So an erasure finds the idempotency record naming this case.
            rec.body.insert(IDEM_KEY.into(), s(&idem.key));
        }
        let mut tx = vec![
            self.put(rec.state, Some(absent()))?,
            self.put(rec.body, Some(absent()))?,
            self.put(event_item(&c.id, &new.event)?, Some(absent()))?,
            self.put(track_item(&c.tracking_code, &c.id), Some(absent()))?,
        ];
        const TRACK: usize = 3;
        const IDEM: usize = 4;
        if let Some(idem) = &new.idempotency {
            let cond = Expr::new("attribute_not_exists(#pk) OR #exp < :now")
                .name("#pk", PK)
                .name("#exp", EXPIRES_AT)
                .value(":now", n(now.timestamp()));
            tx.push(self.put(idem_item(idem), Some(cond))?);
        }
        tx.extend(self.rollup_updates(&new.deltas)?);
        match self.transact(tx).await {
            Ok(()) => {
                self.enqueue(&c.id).await;
                Ok(Created::New)
            }
            Err(x) => {
                if new.idempotency.is_some() && x.failed(IDEM) {
                    let key = new
                        .idempotency
                        .as_ref()
                        .map(|i| i.key.as_str())
                        .unwrap_or_default();
                    return match self.live_idem(key, now).await? {
                        Some(r) => {
                            // A retry of a submission whose send may have been lost.
                            if self
                                .get_case(&r.case_id)
                                .await?
                                .is_some_and(|c| c.status == Status::Received)
                            {
                                self.enqueue(&r.case_id).await;
                            }
                            Ok(Created::Replayed(r))
                        }
                        // It expired between the two calls: the caller tries again.
                        None => Err(StoreError::Conflict("idempotency record changed".into())),
                    };
                }
                if x.failed(TRACK) {
                    return Err(StoreError::TrackingCodeTaken);
                }
                if x.any_condition_failed() {
                    return Err(StoreError::Conflict(format!("case {} exists", c.id)));
                }
                Err(x.source)
            }
        }
    }
    async fn idempotency(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Option<IdemRecord>> {
        self.live_idem(key, now).await
    }
    async fn get_case(&self, id: &CaseId) -> StoreResult<Option<Case>> {
        let e = Expr::new("#pk = :pk AND #sk BETWEEN :body AND :case")
            .name("#pk", PK)
            .name("#sk", SK)
            .value(":pk", s(case_pk(id)))
            .value(":body", s(SK_BODY))
            .value(":case", s(SK_CASE));
        let items = self.table_query(&e, true).await?;
        let find = |sk: &str| {
            items
                .iter()
                .find(|i| matches!(i.get(SK), Some(AttributeValue::S(v)) if v == sk))
                .cloned()
        };
        match (find(SK_CASE), find(SK_BODY)) {
            (Some(state), Some(body)) => Ok(Some(Case::try_from(&CaseRecord { state, body })?)),
            _ => Ok(None),
        }
    }
    async fn case_id_by_tracking_code(&self, code: &str) -> StoreResult<Option<CaseId>> {
        let Some(item) = self.get(track_pk(code), "TRACK").await? else {
            return Ok(None);
        };
        let id = get_s(&item, "case_id")?;
        Ok(Some(CaseId::parse(id).ok_or_else(|| {
            StoreError::from(MappingError::Invalid("case_id", id.into()))
        })?))
    }
    async fn timeline(&self, id: &CaseId) -> StoreResult<Vec<TimelineEvent>> {
        self.case_items(id, "EVT#")
            .await?
            .iter()
            .map(|item| event_from(item).map_err(StoreError::from))
            .collect()
    }
    #[tracing::instrument(skip_all, fields(case_id = %c.outcome.case.id, version = c.expected_version), err)]
    async fn commit(&self, c: &Commit) -> StoreResult<()> {
        let o = &c.outcome;
        let id = &o.case.id;
        let mut rec = CaseRecord::try_from(&o.case)?;
        record_decisions(&mut rec.state, &o.decisions);
        // On the version read, and deciding nothing the stored state has
        // already decided (its `dn` set): the ledger is the state item.
        let mut cond = Expr::new("#v = :expected")
            .name("#v", VERSION)
            .value(":expected", n(c.expected_version));
        if !o.decisions.is_empty() {
            cond = cond.name("#dn", DECIDED);
            for (i, d) in o.decisions.iter().enumerate() {
                cond.text
                    .push_str(&format!(" AND NOT contains(#dn, :d{i})"));
                cond = cond.value(&format!(":d{i}"), n(decision_hash(d)));
            }
        }
        let mut event = event_item(id, &o.event)?;
        if self.stream {
            // The entries travel on the event's stream record; the
            // publisher stores each once it is published (or parked).
            carry_outbox(&mut event, &o.notifications)?;
        }
        let mut tx = vec![
            self.put(rec.state, Some(cond))?,
            self.put(event, Some(absent()))?,
        ];
        if !self.stream {
            for nt in &o.notifications {
                tx.push(self.put(self.outbox_entry(nt)?, Some(absent()))?);
            }
        }
        tx.extend(self.rollup_updates(&o.deltas)?);
        if let Some(i) = &c.inspection {
            // Decided once per case (its `inspection` milestone, with the
            // version check), so the unit's open count is added to once.
            tx.push(self.put_if_absent_update(inspection_item(i)?)?);
            tx.push(self.open_inspections_update(i.unit.as_str(), 1)?);
        }
        match self.transact(tx).await {
            Ok(()) => {
                if c.enqueue {
                    self.enqueue(id).await;
                }
                Ok(())
            }
            Err(x) if x.any_condition_failed() => Err(StoreError::Conflict(if x.failed(0) {
                format!(
                    "case {id} is no longer at version {}, or a decision of it was already taken",
                    c.expected_version
                )
            } else {
                format!("a decision of case {id} was already recorded")
            })),
            Err(x) => Err(x.source),
        }
    }
    async fn list_cases(&self, q: &CaseQuery) -> StoreResult<CasePage> {
        if let (CaseSort::Due, Some(unit)) = (q.sort, &q.unit) {
            return self.list_by_due(unit, q).await;
        }
        let part = |gsi: Gsi, pk: String| Step {
            gsi,
            pk,
            sk: None,
            forward: false,
        };
        let steps: Vec<Step> = if let Some(unit) = &q.unit {
            let statuses: Vec<Status> = match (q.status, q.overdue_at) {
                (Some(s), _) => vec![s],
                (None, Some(_)) => OPEN_UNIT_STATUSES
                    .into_iter()
                    .filter(|s| s.clock_runs())
                    .collect(),
                (None, None) => UNIT_STATUSES.to_vec(),
            };
            statuses
                .into_iter()
                .map(|st| part(GSI1, unit_queue_pk(unit.as_str(), st.as_str())))
                .collect()
        } else if let Some(sub) = &q.submitted_by {
            vec![part(GSI3, sub_pk(sub))]
        } else {
            let hi = q
                .received_to
                .unwrap_or_else(|| Utc::now() + Duration::days(366))
                .year();
            let lo = q
                .received_from
                .map(|t| t.year())
                .unwrap_or(FIRST_YEAR)
                .min(hi);
            (lo..=hi).map(|y| part(GSI4, recv_pk(y))).collect()
        };
        self.list_merged(steps, q, |c| {
            q.status.is_none_or(|s| c.status == s)
                && q.category.as_deref().is_none_or(|k| c.category == k)
                && q.overdue_at.is_none_or(|t| c.is_overdue(t))
                && q.received_from.is_none_or(|t| c.received_at >= t)
                && q.received_to.is_none_or(|t| c.received_at < t)
                && q.submitted_by
                    .as_deref()
                    .is_none_or(|s| c.submitted_by == s)
                && q.unit.as_ref().is_none_or(|u| c.unit.as_ref() == Some(u))
        })
        .await
    }
    async fn open_cases_near(&self, q: &NearQuery) -> StoreResult<Vec<Case>> {
        self.near(q).await
    }

    async fn due_cases(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Case>> {
        let limit = limit.max(1);
        // Everything at or before `now`: `<instant>#<id>` sorts below `<now>#~`.
        let hi = format!("{}#~", ts(now));
        let mut keys: Vec<(String, CaseId)> = Vec::new();
        for shard in 0..SHARDS {
            let step = Step {
                gsi: GSI2,
                pk: next_pk(shard),
                sk: Some(SkCond::Lt(hi.clone())),
                forward: true,
            };
            let (items, _, _) = self
                .query_page(&step, None, Some(limit.min(1000) as i32), false, None)
                .await?;
            for item in &items {
                keys.push((get_s(item, GSI2.sk)?.to_string(), case_id_of(item)?));
            }
        }
        keys.sort();
        keys.truncate(limit);
        let ids: Vec<CaseId> = keys.into_iter().map(|(_, id)| id).collect();
        let mut cases = self.cases_by_id(&ids).await?;
        // The index may lag the table: keep what is really due now.
        cases.retain(|c| c.next_action_at.is_some_and(|t| t <= now));
        cases.sort_by(|a, b| {
            a.next_action_at
                .cmp(&b.next_action_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(cases)
    }
    async fn notifications_for_case(
        &self,
        id: &CaseId,
    ) -> StoreResult<Vec<(Notification, Option<DateTime<Utc>>)>> {
        let mut out = self
            .case_items(id, "OUT#")
            .await?
            .iter()
            .map(|item| Ok((notification_from(item)?, published_at(item)?)))
            .collect::<StoreResult<Vec<_>>>()?;
        out.sort_by(|a, b| {
            a.0.created_at
                .cmp(&b.0.created_at)
                .then_with(|| a.0.dedup_id.cmp(&b.0.dedup_id))
        });
        Ok(out)
    }
}

#[async_trait]
impl Ledger for DynamoStore {
    fn publishes_on_commit(&self) -> bool {
        !self.stream
    }
    async fn pending_notifications(&self, limit: usize) -> StoreResult<Vec<Notification>> {
        let step = Step {
            gsi: GSI1,
            pk: PENDING.into(),
            sk: None,
            forward: true,
        };
        let mut out = Vec::new();
        for item in self.index_items(&step, limit).await? {
            if !item.contains_key(PUBLISHED_AT) {
                out.push(notification_from(&item)?);
            }
        }
        Ok(out)
    }
    async fn notifications_for_unit(
        &self,
        unit: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<Sent>> {
        // One query on the unit's partition of GSI3 (keys only), then the
        // items by key: bounded by `limit`, never a scan.
        let step = Step {
            gsi: GSI3,
            pk: sent_pk(unit),
            sk: Some(SkCond::Between(ts(from), ts(to))),
            forward: true,
        };
        let mut out = Vec::new();
        for item in self.index_items(&step, limit).await? {
            let n = notification_from(&item)?;
            if n.created_at >= from && n.created_at < to {
                out.push((n, published_at(&item)?));
            }
        }
        Ok(out)
    }
    async fn mark_published(&self, dedup_id: &str) -> StoreResult<()> {
        let now = Utc::now();
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some({
                let (pk, sk) = outbox_key(dedup_id);
                key(pk, sk)
            }))
            .update_expression("SET #pub = :now, #ttl = :ttl REMOVE #g1pk, #g1sk")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#pub", PUBLISHED_AT)
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_names("#g1pk", GSI1.pk)
            .expression_attribute_names("#g1sk", GSI1.sk)
            .expression_attribute_values(":now", s(ts(now)))
            .expression_attribute_values(
                ":ttl",
                n((now + Duration::days(PUBLISHED_RETENTION_DAYS)).timestamp()),
            )
            .send()
            .await;
        if !condition_held(res)? {
            tracing::warn!(%dedup_id, "mark_published: no such outbox entry");
        }
        Ok(())
    }
    /// Publishing from the stream, an entry is stored only now, published
    /// (one put each, in batches); inline, each stored entry is marked.
    async fn mark_all_published(&self, sent: &[&Notification]) -> StoreResult<()> {
        if !self.stream {
            for n in sent {
                self.mark_published(&n.dedup_id).await?;
            }
            return Ok(());
        }
        let now = Utc::now();
        let items = sent
            .iter()
            .map(|n| published_outbox_item(n, now, PUBLISHED_RETENTION_DAYS))
            .collect::<Result<Vec<_>, MappingError>>()?;
        self.put_all(&items).await
    }
    async fn decide_once(&self, nt: &Notification) -> StoreResult<bool> {
        let c = absent();
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.outbox_entry(nt)?))
            .condition_expression(&c.text)
            .set_expression_attribute_names(c.names())
            .send()
            .await;
        condition_held(res)
    }
    async fn get_marker(&self, k: &str) -> StoreResult<bool> {
        Ok(self.get(marker_pk(k), "MARK").await?.is_some())
    }
    async fn put_marker(&self, k: &str) -> StoreResult<()> {
        let mut item = key(marker_pk(k), "MARK");
        item.insert("at".into(), s(ts(Utc::now())));
        self.put_plain(item).await
    }
}

#[async_trait]
impl PeopleStore for DynamoStore {
    async fn get_roster(&self, unit: &UnitCode) -> StoreResult<Roster> {
        match self.get(unit_pk(unit.as_str()), "ROSTER").await? {
            Some(item) => Ok(roster_from(&item)?),
            None => Ok(Roster::default()),
        }
    }
    async fn put_roster(&self, unit: &UnitCode, roster: &Roster) -> StoreResult<()> {
        // The roster and its size in the unit's summary, together.
        let size = Expr::new("SET #n = :n")
            .name("#n", ROSTER_SIZE)
            .value(":n", n(roster.officials.len()));
        let tx = vec![
            self.put(roster_item(unit.as_str(), roster)?, None)?,
            self.update(stats::unit_summary_key(unit.as_str()), size, None)?,
        ];
        self.transact(tx).await.map_err(|x| x.source)
    }
    async fn get_headcount(&self, unit: &UnitCode) -> StoreResult<Option<u32>> {
        match self.get(unit_pk(unit.as_str()), "HEADCOUNT").await? {
            Some(item) => Ok(Some(get_n(&item, "staff")?)),
            None => Ok(None),
        }
    }
    async fn put_headcount(&self, unit: &UnitCode, staff: u32) -> StoreResult<()> {
        let set = Expr::new("SET #n = :n")
            .name("#n", STAFF)
            .value(":n", n(staff));
        let tx = vec![
            self.put(headcount_item(unit.as_str(), staff), None)?,
            self.update(stats::unit_summary_key(unit.as_str()), set, None)?,
        ];
        self.transact(tx).await.map_err(|x| x.source)
    }
    async fn register_account(&self, a: &Account) -> StoreResult<bool> {
        let mut tx = vec![self.put(account_item(a)?, Some(absent()))?];
        for scope in a.scopes() {
            let (k, name) = match &scope {
                // A unit's officials are counted in its summary (every unit's is one read).
                AccountScope::Unit(u) => (stats::unit_summary_key(u.as_str()), REGISTERED),
                _ => (key(account_count_pk(&scope.key()), "N"), "n"),
            };
            let add = Expr::new("ADD #n :one")
                .name("#n", name)
                .value(":one", n(1));
            tx.push(self.update(k, add, None)?);
        }
        match self.transact(tx).await {
            Ok(()) => Ok(true),
            Err(x) if x.failed(0) => Ok(false),
            Err(x) => Err(x.source),
        }
    }
    async fn count_accounts(&self, scope: &AccountScope) -> StoreResult<i64> {
        if let AccountScope::Unit(u) = scope {
            return Ok(self.unit_summary(u).await?.registered_officials);
        }
        match self.get(account_count_pk(&scope.key()), "N").await? {
            Some(item) => Ok(get_n(&item, "n")?),
            None => Ok(0),
        }
    }
    async fn unit_summary(&self, unit: &UnitCode) -> StoreResult<UnitSummary> {
        match self.get(UNITS_PK.into(), unit.as_str()).await? {
            Some(item) => Ok(unit_summary_from(&item)?),
            None => Ok(UnitSummary::empty(unit.clone())),
        }
    }
    async fn unit_summaries(&self) -> StoreResult<Vec<UnitSummary>> {
        let e = Expr::new("#pk = :pk")
            .name("#pk", PK)
            .value(":pk", s(UNITS_PK));
        let mut out = self
            .table_query(&e, true)
            .await?
            .iter()
            .map(|i| unit_summary_from(i).map_err(StoreError::from))
            .collect::<StoreResult<Vec<_>>>()?;
        out.retain(|s| !s.is_empty());
        Ok(out)
    }
}

/// An inspection listing cursor: the index sort key `<opened_at>#<id>` of
/// the last inspection returned.
fn decode_inspection_cursor(c: &str) -> StoreResult<String> {
    use base64::Engine;
    let sk = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or(StoreError::InvalidCursor)?;
    let ours = sk
        .split_once('#')
        .is_some_and(|(at, id)| DateTime::parse_from_rfc3339(at).is_ok() && !id.is_empty());
    if ours {
        Ok(sk)
    } else {
        Err(StoreError::InvalidCursor)
    }
}

#[async_trait]
impl InspectionStore for DynamoStore {
    async fn get_inspection(&self, id: &str) -> StoreResult<Option<Inspection>> {
        match self.get(inspection_pk(id), "INSP").await? {
            Some(item) => Ok(Some(inspection_from(&item)?)),
            None => Ok(None),
        }
    }
    async fn list_inspections(&self, q: &InspectionQuery) -> StoreResult<InspectionPage> {
        // One partition, oldest first: the unit's (GSI3), a status (GSI1) or all (GSI4).
        let (gsi, pk) = match (&q.unit, &q.status) {
            (Some(u), _) => (GSI3, unit_inspections_pk(u.as_str())),
            (None, Some(st)) => (GSI1, inspections_pk(st)),
            (None, None) => (GSI4, ALL_INSPECTIONS_PK.to_string()),
        };
        let after = q
            .cursor
            .as_deref()
            .map(decode_inspection_cursor)
            .transpose()?;
        let step = Step {
            gsi,
            pk,
            sk: after.map(SkCond::Gt),
            forward: true,
        };
        let limit = q.limit.clamp(1, 1000);
        let (keys, _, last) = self
            .query_page(&step, None, Some(limit as i32), false, None)
            .await?;
        let order: Vec<String> = keys
            .iter()
            .map(|i| Ok(get_s(i, gsi.sk)?.to_string()))
            .collect::<Result<_, MappingError>>()?;
        let got = self.index_items_of(&keys).await?;
        let mut items = Vec::new();
        for item in got {
            let i = inspection_from(&item)?;
            if q.status.as_deref().is_none_or(|s| i.status == s)
                && q.unit.as_ref().is_none_or(|u| &i.unit == u)
                && q.reason.as_deref().is_none_or(|r| i.reason == r)
            {
                items.push(i);
            }
        }
        let next_cursor = match (last, order.last()) {
            (Some(_), Some(sk)) => {
                use base64::Engine;
                Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sk))
            }
            _ => None,
        };
        Ok(InspectionPage { items, next_cursor })
    }
    async fn put_inspection(&self, i: &Inspection, expected_version: u64) -> StoreResult<()> {
        // A closed inspection is final, so the unit's count of open ones is
        // exact: +1 when one is opened, -1 when it closes, in the same transaction.
        let (cond, delta) = if expected_version == 0 {
            (absent(), i64::from(i.status != "closed"))
        } else {
            let c = Expr::new("#v = :expected AND (attribute_not_exists(#st) OR #st <> :closed)")
                .name("#v", VERSION)
                .name("#st", "status")
                .value(":expected", n(expected_version))
                .value(":closed", s("closed"));
            (c, -i64::from(i.status == "closed"))
        };
        let mut tx = vec![self.put(inspection_item(i)?, Some(cond))?];
        if delta != 0 {
            tx.push(self.open_inspections_update(i.unit.as_str(), delta)?);
        }
        match self.transact(tx).await {
            Ok(()) => Ok(()),
            Err(x) if x.failed(0) => Err(StoreError::Conflict(format!(
                "inspection {} is not at version {expected_version} (or is closed)",
                i.id
            ))),
            Err(x) => Err(x.source),
        }
    }
}

#[async_trait]
impl QuotaStore for DynamoStore {
    async fn take(
        &self,
        key_: &str,
        window_start: DateTime<Utc>,
        window: Duration,
        limit: u32,
    ) -> StoreResult<Taken> {
        let window_end = window_start + window;
        if limit == 0 {
            return Ok(Taken {
                allowed: false,
                window_end,
            });
        }
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(quota_pk(key_, window_start), "QUOTA")))
            .update_expression("ADD #n :one SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(#n) OR #n < :limit")
            .expression_attribute_names("#n", "n")
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit))
            .expression_attribute_values(":ttl", n(window_end.timestamp()))
            .send()
            .await;
        Ok(Taken {
            allowed: condition_held(res)?,
            window_end,
        })
    }
}
