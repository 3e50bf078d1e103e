//! Cases, their timeline and idempotency records.

use super::StoreResult;
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
}

/// Open cases of a category around a point (`GET /v1/cases/nearby`).
#[derive(Debug, Clone, PartialEq)]
pub struct NearQuery {
    pub category: String,
    pub lat: f64,
    pub lng: f64,
    /// Great-circle distance ([`crate::nearby::distance_m`]).
    pub radius_m: f64,
    pub limit: usize,
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
    /// Open cases of `q.category` within `q.radius_m` of the point, nearest
    /// first (ties by id), at most `q.limit`; read through an index of open
    /// cases by place, never a scan.
    async fn open_cases_near(&self, q: &NearQuery) -> StoreResult<Vec<Case>>;
    /// Every notification decided for a case (its outbox), oldest first, with
    /// when it was published (`None` while pending).
    async fn notifications_for_case(
        &self,
        id: &CaseId,
    ) -> StoreResult<Vec<(Notification, Option<DateTime<Utc>>)>>;
}
