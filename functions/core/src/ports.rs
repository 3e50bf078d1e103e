//! Ports: what the domain needs from the outside, implemented twice
//! (SQLite in `pakn-local`, DynamoDB/SQS/SNS in `pakn-aws`). The contract
//! suite in `tests/` runs the same tests against both.

use crate::auth::Roster;
use crate::case::{Case, Status, TimelineEvent};
use crate::ids::CaseId;
use crate::inspection::Inspection;
use crate::notify::Notification;
use crate::stats::{Rollup, StatDelta};
use crate::unit::UnitCode;
use crate::workflow::Outcome;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::{Arc, Mutex};

/// A store or messaging failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A condition failed: the version moved on, or a ledger key exists.
    #[error("conditional write refused: {0}")]
    Conflict(String),
    /// The tracking code drawn is taken (draw another).
    #[error("tracking code already taken")]
    TrackingCodeTaken,
    /// A list cursor that this store did not issue.
    #[error("invalid cursor")]
    InvalidCursor,
    /// Temporarily unavailable (throttled, busy, network): retry later.
    #[error("store unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("store failure")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn other(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Other(Box::new(e))
    }
    pub fn msg(m: impl Into<String>) -> Self {
        StoreError::Other(Box::new(crate::error::Message(m.into())))
    }
}

impl From<StoreError> for crate::error::Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => crate::error::Error::unavailable(e),
            StoreError::InvalidCursor => crate::error::Error::new(
                crate::error::ErrorKind::Malformed,
                "invalid_cursor",
                "The cursor is not one this server issued; start again without it.",
                "Con trỏ phân trang không hợp lệ; hãy bắt đầu lại không có cursor.",
            )
            .with_field("cursor"),
            _ => crate::error::Error::internal(e),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

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

/// A registered account (the registration drive counts them).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Account {
    pub sub: String,
    pub role: crate::auth::Role,
    /// The official's unit (none for citizens).
    pub unit: Option<UnitCode>,
    pub registered_at: DateTime<Utc>,
}

impl Account {
    /// The counters this account adds to: citizens, or officials and their unit.
    pub fn scopes(&self) -> Vec<AccountScope> {
        if self.role == crate::auth::Role::Citizen {
            return vec![AccountScope::Citizens];
        }
        let mut v = vec![AccountScope::Officials];
        if let Some(u) = &self.unit {
            v.push(AccountScope::Unit(u.clone()));
        }
        v
    }
}

/// What to count accounts over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountScope {
    Citizens,
    /// Officials and public employees (every non-citizen role).
    Officials,
    /// Officials of one unit.
    Unit(UnitCode),
}

impl AccountScope {
    /// A stable key (`citizens`, `officials`, `unit:<code>`).
    pub fn key(&self) -> String {
        match self {
            AccountScope::Citizens => "citizens".into(),
            AccountScope::Officials => "officials".into(),
            AccountScope::Unit(u) => format!("unit:{u}"),
        }
    }
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

#[derive(Debug, Clone, Default)]
pub struct CasePage {
    pub cases: Vec<Case>,
    pub next_cursor: Option<String>,
}

#[async_trait]
pub trait CaseStore: Send + Sync {
    /// Does `create_case` also enqueue the case in the same transaction?
    fn enqueues_on_create(&self) -> bool;
    /// Put the case if absent, with its idempotency record and tracking code, atomically.
    async fn create_case(&self, new: &NewCase, now: DateTime<Utc>) -> StoreResult<Created>;
    async fn get_case(&self, id: &CaseId) -> StoreResult<Option<Case>>;
    async fn case_id_by_tracking_code(&self, code: &str) -> StoreResult<Option<CaseId>>;
    async fn timeline(&self, id: &CaseId) -> StoreResult<Vec<TimelineEvent>>;
    /// Commit a change; `Conflict` if the version moved or a decision exists.
    async fn commit(&self, c: &Commit) -> StoreResult<()>;
    async fn list_cases(&self, q: &CaseQuery) -> StoreResult<CasePage>;
    /// Open cases whose `next_action_at <= now`, earliest first.
    async fn due_cases(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Case>>;
    /// Notifications decided but not yet acknowledged by the notifier.
    async fn pending_notifications(&self, limit: usize) -> StoreResult<Vec<Notification>>;
    async fn mark_published(&self, dedup_id: &str) -> StoreResult<()>;
    /// Put a notification decision that has no case change (digests); `false` if it exists.
    async fn decide_once(&self, n: &Notification) -> StoreResult<bool>;
    async fn get_roster(&self, unit: &UnitCode) -> StoreResult<Roster>;
    async fn put_roster(&self, unit: &UnitCode, roster: &Roster) -> StoreResult<()>;
    async fn get_headcount(&self, unit: &UnitCode) -> StoreResult<Option<u32>>;
    async fn put_headcount(&self, unit: &UnitCode, staff: u32) -> StoreResult<()>;
    /// Rollup rows of one scope (`ALL` or a unit) for local days in `[from, to)`.
    async fn rollups(
        &self,
        scope: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Rollup>>;
    /// (open, overdue) cases now, city-wide or at one unit.
    async fn count_open(
        &self,
        unit: Option<&UnitCode>,
        now: DateTime<Utc>,
    ) -> StoreResult<(i64, i64)>;
    async fn get_inspection(&self, id: &str) -> StoreResult<Option<Inspection>>;
    async fn list_inspections(
        &self,
        status: Option<&str>,
        unit: Option<&UnitCode>,
    ) -> StoreResult<Vec<Inspection>>;
    /// Put an inspection: if absent when `expected_version` is 0, else on that version.
    async fn put_inspection(&self, i: &Inspection, expected_version: u64) -> StoreResult<()>;
    /// Register an account once (and count it in each of its scopes); `true` if new.
    async fn register_account(&self, a: &Account) -> StoreResult<bool>;
    async fn count_accounts(&self, scope: &AccountScope) -> StoreResult<i64>;
    /// Has this marker been written (e.g. `daily:<date>`, the daily checks done)?
    async fn get_marker(&self, key: &str) -> StoreResult<bool>;
    async fn put_marker(&self, key: &str) -> StoreResult<()>;
    /// Every notification decided for a case (its outbox), oldest first, with
    /// when it was published (`None` while pending).
    async fn notifications_for_case(
        &self,
        id: &CaseId,
    ) -> StoreResult<Vec<(Notification, Option<DateTime<Utc>>)>>;
}

/// The intake queue (send side; receiving is the runtime's business).
#[async_trait]
pub trait Queue: Send + Sync {
    async fn send(&self, ids: &[CaseId]) -> StoreResult<()>;
}

/// Publishes decided notifications (SNS, or the local notifier).
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn publish(&self, n: &Notification) -> StoreResult<()>;
}

/// Time, injected so deadline logic is tested at any instant.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock tests (and `pakn serve --clock-speed`) set and move by hand.
#[derive(Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        ManualClock(Arc::new(Mutex::new(at)))
    }
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
    pub fn advance(&self, d: chrono::Duration) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *g += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A clock that runs `speed` times faster than real time from the instant
/// it was made (`pakn serve` with `PAKN_CLOCK_SPEED`, to watch a month of
/// deadlines go by in minutes). Never for production.
pub struct ScaledClock {
    origin: DateTime<Utc>,
    started: std::time::Instant,
    speed: f64,
}

impl ScaledClock {
    pub fn new(origin: DateTime<Utc>, speed: f64) -> Self {
        ScaledClock {
            origin,
            started: std::time::Instant::now(),
            speed: speed.max(0.0),
        }
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> DateTime<Utc> {
        let real = self.started.elapsed().as_secs_f64();
        let scaled = (real * self.speed * 1e6).min(i64::MAX as f64) as i64;
        self.origin + chrono::Duration::microseconds(scaled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scaled_clock_runs_faster_and_never_backwards() {
        let origin = Utc::now();
        let c = ScaledClock::new(origin, 3600.0);
        let a = c.now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let b = c.now();
        assert!(a >= origin && b > a);
        // 20 ms of real time at 3600x is at least 72 s of clock time.
        assert!(
            b - origin >= chrono::Duration::seconds(72),
            "{}",
            b - origin
        );
    }
}
