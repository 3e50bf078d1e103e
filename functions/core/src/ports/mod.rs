//! Ports: what the domain needs from the outside, split by concern and
//! implemented twice (SQLite in `pakn-local`, DynamoDB/SQS/SNS in
//! `pakn-aws`). The contract suite in `tests/` runs the same tests against
//! both.
//!
//! - [`CaseStore`]: cases, their timeline and idempotency records, and the
//!   atomic commit of a change (with its outbox and ledger decisions);
//! - [`Ledger`]: the outbox's publishing side, decisions with no case change
//!   (digests) and daily markers;
//! - [`PeopleStore`]: accounts, rosters and headcounts;
//! - [`InspectionStore`]: Home Affairs' inspection records;
//! - [`StatsStore`]: daily rollups, daily snapshots and live open/overdue counts;
//! - [`QuotaStore`]: exact per-key request quotas in fixed windows;
//! - [`PrivacyStore`]: access records, the retention index, erasures;
//! - [`ApiKeyStore`]: client applications' API keys (hashed);
//! - [`WardMapStore`]: ward boundaries, versioned;
//! - [`FollowerStore`]: citizens following cases;
//! - [`NoticeStore`]: citizens' notification preferences, devices and
//!   the notices decided for them ([`Messenger`] delivers those);
//! - [`Queue`], [`Notifier`], [`Clock`].

mod apikeys;
mod cases;
mod clock;
mod followers;
mod inspections;
mod ledger;
mod media;
mod messaging;
mod notices;
mod people;
mod privacy;
mod quota;
mod stats;
mod wards;

pub use apikeys::*;
pub use cases::*;
pub use clock::*;
pub use followers::*;
pub use inspections::*;
pub use ledger::*;
pub use media::*;
pub use messaging::*;
pub use notices::*;
pub use people::*;
pub use privacy::*;
pub use quota::*;
pub use stats::*;
pub use wards::*;

/// Everything a backend stores, for composing [`crate::Pakn`] from one adapter.
pub trait Store:
    CaseStore
    + Ledger
    + PeopleStore
    + InspectionStore
    + StatsStore
    + QuotaStore
    + PrivacyStore
    + ApiKeyStore
    + UploadStore
    + WardMapStore
    + FollowerStore
    + NoticeStore
{
}

impl<
    T: CaseStore
        + Ledger
        + PeopleStore
        + InspectionStore
        + StatsStore
        + QuotaStore
        + PrivacyStore
        + ApiKeyStore
        + UploadStore
        + WardMapStore
        + FollowerStore
        + NoticeStore,
> Store for T
{
}

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
            StoreError::InvalidCursor => {
                crate::error::Error::new(crate::error::ErrorKind::Malformed, "invalid_cursor")
                    .with_field("cursor")
            }
            _ => crate::error::Error::internal(e),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
