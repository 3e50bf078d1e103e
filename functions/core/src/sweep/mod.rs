//! The deadline sweep: every pass decides each milestone due now exactly
//! once (reminders, overdue alerts, inspections opened by time, the close
//! after the dispute window, a requeue of a case whose queue message was
//! lost), runs the once-a-day unit checks ([`daily`]), erases the personal
//! data whose retention ended (`crate::privacy::retention`), and drains the
//! outbox.
//!
//! Each due case is handled on its own: a store failure on one case is
//! logged with its id and left for the next pass (its milestone is still
//! undecided), and the rest of the pass goes on. A requeue is committed
//! with the case; the store sends it (see `CaseStore::commit`), and a send
//! that fails there is retried by the next requeue milestone.

pub mod daily;
mod decide;
pub mod snapshot;

pub use daily::DailyReport;
pub use decide::{Decision, decide};

use crate::case::Case;
use crate::error::Result;
use crate::inspection::Inspection;
use crate::outbox::Outbox;
use crate::oversight::inspections::Inspections;
use crate::ports::{
    CaseStore, Clock, Commit, Ledger, PeopleStore, PrivacyStore, StatsStore, StoreError,
};
use crate::privacy::retention::{Retention, RetentionReport};
use crate::refdata::RefData;
use crate::unit::UnitCode;
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct SweepReport {
    pub looked: usize,
    pub decided: usize,
    pub conflicts: usize,
    /// Due cases whose commit failed this pass (logged; tried again next pass).
    pub failed: usize,
    pub requeued: usize,
    pub inspections_opened: usize,
    pub published: usize,
    /// The once-a-day unit checks (digests, unit inspections), when they ran.
    pub daily: DailyReport,
    /// Personal data erased because its retention ended.
    pub retention: RetentionReport,
    /// The local day whose snapshot this pass took (the first pass after midnight).
    #[schema(value_type = Option<String>)]
    pub snapshot: Option<chrono::NaiveDate>,
    /// Citizens' notices sent, retried, given up, dropped or held for morning.
    pub notices: crate::notices::NoticeReport,
}

/// What happened to one due case.
enum Handled {
    Nothing,
    Decided { requeued: bool, opened: bool },
    Conflict,
}

/// The sweep over the ports it needs.
pub struct Sweep<'a> {
    pub cases: &'a dyn CaseStore,
    pub ledger: &'a dyn Ledger,
    pub people: &'a dyn PeopleStore,
    pub stats: &'a dyn StatsStore,
    pub inspections: Inspections<'a>,
    pub privacy: &'a dyn PrivacyStore,
    /// Uploads erased with their case's personal data.
    pub media: crate::media::MediaFiles<'a>,
    pub outbox: Outbox<'a>,
    pub clock: &'a dyn Clock,
    pub refdata: &'a RefData,
}

impl Sweep<'_> {
    /// One pass: decide every milestone due now (at most `limit` cases), the
    /// daily checks, then drain the outbox. Only reading the due cases can
    /// fail the pass; everything after it goes on past a failure.
    #[tracing::instrument(skip_all, err)]
    pub async fn run(&self, limit: usize) -> Result<SweepReport> {
        let now = self.clock.now();
        let mut report = SweepReport::default();
        let due = self.cases.due_cases(now, limit).await?;
        report.looked = due.len();
        for case in due {
            match self.handle(&case, now).await {
                Ok(Handled::Nothing) => {}
                Ok(Handled::Decided { requeued, opened }) => {
                    report.decided += 1;
                    report.requeued += requeued as usize;
                    report.inspections_opened += opened as usize;
                }
                Ok(Handled::Conflict) => report.conflicts += 1,
                Err(e) => {
                    report.failed += 1;
                    tracing::warn!(case_id = %case.id, error = %e, "sweep: case left for the next pass");
                }
            }
        }
        match self.snapshots().run(now).await {
            Ok(d) => report.snapshot = d,
            Err(e) => tracing::warn!(error = %e, "sweep: daily snapshot left for the next pass"),
        }
        match self.daily().run().await {
            Ok(d) => report.daily = d,
            Err(e) => tracing::warn!(error = %e, "sweep: daily checks left for the next pass"),
        }
        match self.retention().run(now, limit).await {
            Ok(r) => report.retention = r,
            Err(e) => tracing::warn!(error = %e, "sweep: retention left for the next pass"),
        }
        match self.outbox.drain().await {
            Ok(n) => report.published = n,
            Err(e) => tracing::warn!(error = %e, "sweep: outbox drain left for the next pass"),
        }
        match self.outbox.notices.send_due(limit).await {
            Ok(r) => report.notices = r,
            Err(e) => tracing::warn!(error = %e, "sweep: citizen notices left for the next pass"),
        }
        Ok(report)
    }

    async fn handle(&self, case: &Case, now: DateTime<Utc>) -> Result<Handled, StoreError> {
        let Some(d) = decide(case, now, self.refdata) else {
            return Ok(Handled::Nothing);
        };
        let inspection = d.open_inspection.then(|| {
            let unit = case.unit.clone().unwrap_or_else(UnitCode::triage);
            Inspection::for_overdue_case(
                &case.id,
                &unit,
                now,
                serde_json::json!({"resolve_due": case.resolve_due, "holds": case.holds, "transfers": case.transfers}),
            )
        });
        let commit = Commit {
            expected_version: case.version,
            outcome: d.outcome,
            inspection,
            enqueue: d.requeue,
        };
        match self.cases.commit(&commit).await {
            Ok(()) => Ok(Handled::Decided {
                requeued: d.requeue,
                opened: d.open_inspection,
            }),
            Err(StoreError::Conflict(_)) => Ok(Handled::Conflict),
            Err(e) => Err(e),
        }
    }

    fn retention(&self) -> Retention<'_> {
        Retention {
            cases: self.cases,
            privacy: self.privacy,
            media: self.media,
            refdata: self.refdata,
        }
    }

    fn snapshots(&self) -> snapshot::Snapshots<'_> {
        snapshot::Snapshots {
            stats: self.stats,
            ledger: self.ledger,
            refdata: self.refdata,
        }
    }

    fn daily(&self) -> daily::Daily<'_> {
        daily::Daily {
            cases: self.cases,
            ledger: self.ledger,
            people: self.people,
            stats: self.stats,
            inspections: &self.inspections,
            clock: self.clock,
            refdata: self.refdata,
        }
    }
}
