//! Routing rules: category × place → the responsible unit.
//!
//! A category names its unit, or "the ward of the location". The ward comes
//! from the report's `ward_code` (the app resolves it from GPS). With no ward
//! (and no boundary file to find it from the coordinates — not built yet, see
//! README "Not yet") the case goes to the city triage office, which routes it
//! by hand.

use crate::case::{Case, Status};
use crate::category::Responsible;
use crate::change::{Change, Outcome};
use crate::error::{Error, ErrorKind, Result};
use crate::ids::CaseId;
use crate::notify::Audience;
use crate::outbox::Outbox;
use crate::ports::{CaseStore, Clock, StoreError};
use crate::principal::Principal;
use crate::refdata::RefData;
use crate::stats::{Counter, StatDelta};
use crate::unit::UnitCode;
use chrono::{DateTime, Utc};
use serde_json::json;

/// The unit a rule names for this case, or `city:triage`.
pub fn target(case: &Case, refdata: &RefData) -> UnitCode {
    let Some(cat) = refdata.category(&case.category) else {
        return UnitCode::triage();
    };
    match &cat.responsible {
        Responsible::Unit(u) if refdata.unit(u).is_some() => u.clone(),
        Responsible::Unit(_) => UnitCode::triage(),
        Responsible::WardOfLocation => case
            .location
            .ward_code
            .as_deref()
            .map(UnitCode::ward)
            .filter(|u| refdata.unit(u).is_some())
            .unwrap_or_else(UnitCode::triage),
    }
}

/// Route a `received` case: to `unit` (assigned) or to triage. Computes the
/// deadlines with the policy in force now and stamps its version.
pub fn route_to(
    case: &Case,
    unit: UnitCode,
    now: DateTime<Utc>,
    refdata: &RefData,
) -> Result<Outcome> {
    if case.status != Status::Received {
        return Err(Error::invalid_transition(case.status.as_str(), "route"));
    }
    let mut ch = Change::new(case, now, refdata);
    let sla = refdata.policy.sla(&case.category, case.urgency);
    let cal = &refdata.calendar;
    // The citizen's resolve clock runs from receipt, wherever the case goes first.
    ch.case.resolve_due = cal.add(case.received_at, sla.resolve.hours, sla.resolve.clock);
    ch.case.resolve_clock = sla.resolve.clock;
    ch.case.policy_version = Some(refdata.policy.version.clone());
    ch.case.routed_at = Some(now);
    ch.case.ack_due = if unit.is_triage() {
        cal.add(
            now,
            refdata.policy.triage_ack.hours,
            refdata.policy.triage_ack.clock,
        )
    } else {
        cal.add(case.received_at, sla.ack.hours, sla.ack.clock)
    };
    ch.case.status = if unit.is_triage() {
        Status::Triage
    } else {
        Status::Assigned
    };
    ch.case.unit = Some(unit.clone());
    ch.start_hold(&unit);
    let kind_counter = match case.kind {
        crate::category::Kind::Field => Counter::ReceivedField,
        crate::category::Kind::Procedure => Counter::ReceivedProcedure,
    };
    // Per-unit intake is counted on the local day of routing (within a
    // second of receipt, so the same day but around midnight): every
    // counter is dated when it is committed, so a day's rows are final once
    // the day is over and the daily snapshot can sum them.
    let day = refdata.calendar.local_date(now);
    for c in [Counter::Received, kind_counter] {
        ch.deltas.push(StatDelta {
            day,
            scope: unit.to_string(),
            counter: c,
            amount: 1,
        });
    }
    let audience = if unit.is_triage() {
        Audience::Triage
    } else {
        Audience::Unit
    };
    ch.notify_assigned(&unit, audience);
    ch.notify_status();
    let data = json!({"policy_version": refdata.policy.version});
    Ok(ch.finish("routed", &Principal::system("router"), None, true, data))
}

/// What routing one queue message did.
#[derive(Debug, Clone, PartialEq)]
pub enum RouteResult {
    Routed(UnitCode),
    /// A duplicate delivery: the case was routed before.
    AlreadyRouted,
}

/// The routing worker's use case over the ports it needs.
pub struct Routing<'a> {
    pub cases: &'a dyn CaseStore,
    pub outbox: Outbox<'a>,
    pub clock: &'a dyn Clock,
    pub refdata: &'a RefData,
}

impl Routing<'_> {
    /// Route one queued case. Safe under duplicate delivery and concurrent
    /// workers: only a `received` case is routed, with a version check.
    #[tracing::instrument(skip_all, fields(case_id = %id), err)]
    pub async fn route_case(&self, id: &CaseId) -> Result<RouteResult> {
        for _ in 0..5 {
            let case =
                self.cases.get_case(id).await?.ok_or_else(|| {
                    Error::new(ErrorKind::NotFound, "unknown_case").with("id", id)
                })?;
            if case.status != Status::Received {
                return Ok(RouteResult::AlreadyRouted);
            }
            let unit = target(&case, self.refdata);
            let outcome = route_to(&case, unit.clone(), self.clock.now(), self.refdata)?;
            match self.outbox.commit(case.version, outcome, None, false).await {
                Ok(()) => return Ok(RouteResult::Routed(unit)),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::bug("routing kept conflicting"))
    }
}
