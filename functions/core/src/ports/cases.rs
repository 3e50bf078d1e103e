//! Cases, their timeline and idempotency records.

use super::{StoreError, StoreResult};
use crate::case::{Case, Status, TimelineEvent};
use crate::change::Outcome;
use crate::ids::CaseId;
use crate::inspection::Inspection;
use crate::notify::Notification;
use crate::stats::StatDelta;
use crate::unit::UnitCode;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// An idempotency record: the key (already scoped to the caller and hashed),
/// the hash of the body it was first used with, and the case it created.
#[derive(Debug, Clone, PartialEq)]
pub struct IdemRecord {
    pub key: String,
    pub body_hash: String,
    pub case_id: CaseId,
    pub tracking_code: String,
    pub expires_at: DateTime<Utc>,
}

/// A new case with what is written with it.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub case: Case,
    pub event: TimelineEvent,
    pub deltas: Vec<StatDelta>,
    pub idempotency: Option<IdemRecord>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    /// Stored now (with its queue message, where the store holds the queue).
    New,
    /// The idempotency key was used before (and has not expired): that record.
    Replayed(IdemRecord),
}

/// A change to commit atomically: the case at `outcome.case.version` on the
/// condition that the stored version is `expected_version`, its timeline
/// event, notifications (outbox), ledger decisions (put-if-absent), stats
/// deltas, and an inspection to open (put-if-absent).
#[derive(Debug, Clone)]
pub struct Commit {
    pub expected_version: u64,
    pub outcome: Outcome,
    pub inspection: Option<Inspection>,
    /// Also put the case on the intake queue (stores that hold the queue do it in the transaction).
    pub enqueue: bool,
}

/// Filters for listing cases. At most one of `unit`/`submitted_by` scopes it.
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    pub unit: Option<UnitCode>,
    pub submitted_by: Option<String>,
    pub status: Option<Status>,
    pub category: Option<String>,
    /// Only cases open and past `resolve_due` at this instant.
    pub overdue_at: Option<DateTime<Utc>>,
    pub received_from: Option<DateTime<Utc>>,
    pub received_to: Option<DateTime<Utc>>,
    /// Opaque cursor from the previous page.
    pub cursor: Option<String>,
    pub limit: usize,
    /// Newest first (the default), or a unit's open queue by what is due next.
    pub sort: CaseSort,
}

/// The order of a listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CaseSort {
    /// Newest first: `received_at` then id, descending.
    #[default]
    Received,
    /// A unit's open cases (`assigned`, `in_progress`, `awaiting_info`,
    /// `resolved`) by [`Case::queue_due`] ascending, then id; cases with
    /// nothing due (paused, resolved) after all the others. Only with `unit`.
    Due,
}

/// The statuses a unit's open queue holds (what `sort=due` lists).
pub const UNIT_QUEUE_OPEN: [Status; 4] = [
    Status::Assigned,
    Status::InProgress,
    Status::AwaitingInfo,
    Status::Resolved,
];

/// What a store's unit-queue index knows of one case without reading it:
/// enough to filter and order a `sort=due` page, so a store reads only the
/// page's cases (SQLite from its columns, DynamoDB from GSI1's projection).
#[derive(Debug, Clone)]
pub struct QueueEntry {
    pub id: CaseId,
    pub status: Status,
    pub category: String,
    pub received_at: DateTime<Utc>,
    pub resolve_due: Option<DateTime<Utc>>,
    /// [`crate::case::queue_due_of`].
    pub due: Option<DateTime<Utc>>,
}

impl QueueEntry {
    fn key(&self) -> (bool, i64, &str) {
        (
            self.due.is_none(),
            self.due.map_or(0, |d| d.timestamp_micros()),
            self.id.as_str(),
        )
    }
}

/// One `sort=due` page of a unit's open queue: filters `entries` (every
/// open case of `q.unit`) by the query's status, category, overdue instant
/// and receipt period, orders them, and answers the ids of the page after
/// `q.cursor` and the next cursor. Stores share it so both order and page
/// identically.
pub fn due_page(
    mut entries: Vec<QueueEntry>,
    q: &CaseQuery,
) -> StoreResult<(Vec<CaseId>, Option<String>)> {
    let limit = q.limit.clamp(1, 200);
    entries.retain(|e| {
        UNIT_QUEUE_OPEN.contains(&e.status)
            && q.status.is_none_or(|s| e.status == s)
            && q.category.as_deref().is_none_or(|c| e.category == c)
            && q.overdue_at
                .is_none_or(|t| e.status.clock_runs() && e.resolve_due.is_some_and(|d| t > d))
            && q.received_from.is_none_or(|t| e.received_at >= t)
            && q.received_to.is_none_or(|t| e.received_at < t)
    });
    entries.sort_by(|a, b| a.key().cmp(&b.key()));
    let start = match q.cursor.as_deref() {
        None => 0,
        Some(c) => {
            let after = decode_due_cursor(c)?;
            entries.partition_point(|e| {
                let (none, t, id) = e.key();
                (none, t, id) <= (after.0, after.1, after.2.as_str())
            })
        }
    };
    let rest = &entries[start.min(entries.len())..];
    let page: Vec<&QueueEntry> = rest.iter().take(limit).collect();
    let next = (rest.len() > limit)
        .then(|| page.last().map(|e| encode_due_cursor(e.key())))
        .flatten();
    Ok((page.into_iter().map(|e| e.id.clone()).collect(), next))
}

/// `d1.<micros>.<id>` (nothing due: `d0.0.<id>`), hex-encoded: opaque to clients.
fn encode_due_cursor((none, t, id): (bool, i64, &str)) -> String {
    format!("d{}.{t}.{id}", u8::from(!none))
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_due_cursor(c: &str) -> StoreResult<(bool, i64, String)> {
    let bad = || StoreError::InvalidCursor;
    let c = c.trim();
    if c.len() % 2 != 0 || c.len() > 200 {
        return Err(bad());
    }
    let bytes = (0..c.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(c.get(i..i + 2).ok_or_else(bad)?, 16).map_err(|_| bad()))
        .collect::<StoreResult<Vec<u8>>>()?;
    let raw = String::from_utf8(bytes).map_err(|_| bad())?;
    let mut parts = raw.splitn(3, '.');
    let (Some(flag), Some(t), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let none = match flag {
        "d1" => false,
        "d0" => true,
        _ => return Err(bad()),
    };
    let id = CaseId::parse(id).ok_or_else(bad)?;
    Ok((none, t.parse().map_err(|_| bad())?, id.to_string()))
}

#[derive(Debug, Clone, Default)]
pub struct CasePage {
    pub cases: Vec<Case>,
    pub next_cursor: Option<String>,
}

#[async_trait]
pub trait CaseStore: Send + Sync {
    /// Put the case if absent, with its idempotency record and tracking
    /// code, atomically; the case then reaches the intake queue (stores
    /// that hold the queue enqueue in the same transaction; the others send
    /// after the durable write, and a lost send is re-sent by the sweep).
    async fn create_case(&self, new: &NewCase, now: DateTime<Utc>) -> StoreResult<Created>;
    /// The idempotency record under `key` (already scoped and hashed), if
    /// present and not expired at `now`.
    async fn idempotency(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Option<IdemRecord>>;
    async fn get_case(&self, id: &CaseId) -> StoreResult<Option<Case>>;
    async fn case_id_by_tracking_code(&self, code: &str) -> StoreResult<Option<CaseId>>;
    async fn timeline(&self, id: &CaseId) -> StoreResult<Vec<TimelineEvent>>;
    /// Commit a change; `Conflict` if the version moved or a decision
    /// exists. With `enqueue`, the case reaches the intake queue as on create.
    async fn commit(&self, c: &Commit) -> StoreResult<()>;
    async fn list_cases(&self, q: &CaseQuery) -> StoreResult<CasePage>;
    /// Open cases whose `next_action_at <= now`, earliest first.
    async fn due_cases(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Case>>;
    /// Every notification decided for a case (its outbox), oldest first, with
    /// when it was published (`None` while pending).
    async fn notifications_for_case(
        &self,
        id: &CaseId,
    ) -> StoreResult<Vec<(Notification, Option<DateTime<Utc>>)>>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 3, h, 0, 0).unwrap()
    }

    fn entry(n: u8, status: Status, category: &str, due: Option<u32>) -> QueueEntry {
        let due = due.map(at);
        QueueEntry {
            id: CaseId::parse(&format!("01JF0000000000000000000{n:03}")).unwrap(),
            status,
            category: category.into(),
            received_at: at(1),
            resolve_due: due,
            due: crate::case::queue_due_of(status, due, due),
        }
    }

    fn ids(v: &[CaseId]) -> Vec<String> {
        v.iter().map(|i| i.as_str()[23..].to_string()).collect()
    }

    #[test]
    fn due_pages_order_by_what_is_due_then_the_undated_and_walk_to_the_end() {
        let entries = vec![
            entry(1, Status::InProgress, "lighting", Some(9)),
            entry(2, Status::AwaitingInfo, "lighting", Some(5)), // paused: last
            entry(3, Status::Assigned, "lighting", Some(7)),
            entry(4, Status::InProgress, "roads", Some(8)),
            entry(5, Status::Resolved, "lighting", Some(6)), // done: last
            entry(6, Status::Closed, "lighting", Some(2)),   // not in the open queue
            entry(7, Status::InProgress, "lighting", Some(7)),
        ];
        let mut q = CaseQuery {
            limit: 2,
            sort: CaseSort::Due,
            ..Default::default()
        };
        let mut seen = Vec::new();
        loop {
            let (page, next) = due_page(entries.clone(), &q).unwrap();
            assert!(page.len() <= 2);
            seen.extend(ids(&page));
            match next {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, ["003", "007", "004", "001", "002", "005"]);

        let q = CaseQuery {
            limit: 10,
            category: Some("lighting".into()),
            overdue_at: Some(at(8)),
            sort: CaseSort::Due,
            ..Default::default()
        };
        // Past resolve_due at 08:00 with the clock running: 3 and 7 (paused 2 is not overdue).
        assert_eq!(
            ids(&due_page(entries.clone(), &q).unwrap().0),
            ["003", "007"]
        );
    }

    #[test]
    fn a_due_cursor_that_was_not_issued_is_refused() {
        let q = |c: &str| CaseQuery {
            cursor: Some(c.into()),
            sort: CaseSort::Due,
            ..Default::default()
        };
        for c in ["zz", "abc", "64312e", &"00".repeat(150)] {
            assert!(matches!(
                due_page(vec![], &q(c)),
                Err(StoreError::InvalidCursor)
            ));
        }
    }
}
