//! The retention step of the deadline sweep: erase the personal data of
//! every closed case whose `erase_after` has come (5 years after closing by
//! default, or at once when its reporter asked for erasure while it was
//! open), with the reporter's uploaded files of the case.
//!
//! Bounded: one read of the store's sparse retention index for at most
//! `limit` cases that are due (never a scan), then per case its timeline and
//! access records and one conditional commit. Idempotent and safe under two
//! concurrent sweeps: an erased case leaves the index, and the commit is
//! conditioned on the version read, so the second sweep's commit is refused
//! (a conflict, counted) and writes nothing the first did not.

use super::{Eraser, erase};
use crate::case::Status;
use crate::error::Result;
use crate::ports::{CaseStore, PrivacyStore, StoreError};
use crate::principal::Principal;
use crate::refdata::RefData;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What one retention step did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RetentionReport {
    /// Cases whose personal data was erased.
    pub erased: usize,
    /// Erased meanwhile by someone else (another sweep, the reporter).
    pub conflicts: usize,
    /// Left for the next pass after a store failure (logged).
    pub failed: usize,
}

/// The retention step over the ports it needs.
pub struct Retention<'a> {
    pub cases: &'a dyn CaseStore,
    pub privacy: &'a dyn PrivacyStore,
    /// The reporter's uploads go with the case.
    pub media: crate::media::MediaFiles<'a>,
    pub refdata: &'a RefData,
}

impl Retention<'_> {
    /// Erase what is due at `now`, at most `limit` cases. Only reading the
    /// index can fail the step; a failure on one case is logged and left
    /// for the next pass (it stays in the index).
    pub async fn run(&self, now: DateTime<Utc>, limit: usize) -> Result<RetentionReport> {
        let mut report = RetentionReport::default();
        let actor = Principal::system("retention");
        for case in self.privacy.due_erasures(now, limit).await? {
            // The index may lag the case: erase only what is really due.
            let due = case.status == Status::Closed
                && case.erased_at.is_none()
                && case.erase_after.is_some_and(|t| t <= now);
            if !due {
                continue;
            }
            let reason = if case.erasure_requested_at.is_some() {
                "request"
            } else {
                "retention"
            };
            let ports = Eraser {
                cases: self.cases,
                privacy: self.privacy,
                media: self.media,
                refdata: self.refdata,
            };
            match erase(ports, &case, &actor, reason, now).await {
                Ok(()) => report.erased += 1,
                Err(StoreError::Conflict(_)) => report.conflicts += 1,
                Err(e) => {
                    report.failed += 1;
                    tracing::warn!(case_id = %case.id, error = %e, "retention: case left for the next pass");
                }
            }
        }
        Ok(report)
    }
}
