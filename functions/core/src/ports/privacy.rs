//! Personal data: the audit records of who accessed a case's personal data
//! (exports), the retention index, the erasure of a case, and the caller's
//! account record (`GET /v1/me/data`).

use super::{Account, StoreResult};
use crate::case::{Case, TimelineEvent};
use crate::channel::Channel;
use crate::ids::CaseId;
use crate::principal::Role;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One access to a case's personal data that changed nothing (an export of
/// `GET /v1/me/data`), kept for the case's audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessRecord {
    pub case_id: CaseId,
    /// Unique within the case; sorts by time (`<instant>#<ulid>`).
    pub id: String,
    pub at: DateTime<Utc>,
    /// `export`.
    pub action: String,
    /// The subject who accessed (empty once the reporter's data is erased).
    #[serde(default)]
    pub actor: String,
    pub actor_role: Role,
    pub channel: Channel,
}

/// The erasure of a closed case's personal data, committed at once on the
/// condition that the case is still at `expected_version`: the erased case
/// (version + 1, `erased_at` set, out of the retention and submitter
/// indexes), its `erase` timeline entry, the earlier entries rewritten
/// without the reporter's data, and the case's access records rewritten
/// the same way. The store also removes every idempotency record naming the
/// case.
#[derive(Debug, Clone)]
pub struct Erasure {
    pub expected_version: u64,
    pub case: Case,
    pub event: TimelineEvent,
    /// Earlier entries, rewritten (same versions).
    pub rewritten: Vec<TimelineEvent>,
    /// Access records, rewritten (same ids).
    pub accesses: Vec<AccessRecord>,
}

#[async_trait]
pub trait PrivacyStore: Send + Sync {
    /// Keep these access records (put; the same id again overwrites).
    async fn record_accesses(&self, records: &[AccessRecord]) -> StoreResult<()>;
    /// A case's access records, oldest first.
    async fn accesses(&self, id: &CaseId) -> StoreResult<Vec<AccessRecord>>;
    /// Cases whose `erase_after <= now`, earliest first, at most `limit`:
    /// one bounded read of the sparse retention index, never a scan.
    async fn due_erasures(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Case>>;
    /// Commit an erasure; `Conflict` (and nothing written) if the case
    /// moved on from `expected_version`. Rewriting the earlier entries and
    /// access records may happen before the conditional commit (they are
    /// the same whoever erases), so a retry after any failure completes it.
    async fn erase(&self, e: &Erasure) -> StoreResult<()>;
    /// The account registered under `sub`, if any.
    async fn account(&self, sub: &str) -> StoreResult<Option<Account>>;
}
