//! Routing rules: category × place → the responsible unit.
//!
//! A category names its unit, or "the ward of the location". The ward comes
//! from the report's `ward_code` when it names one of the 126 wards; else,
//! when ward boundaries are loaded (`pakn wards load`), from the ward whose
//! boundary contains the report's point (`crate::wards`, with its border
//! rule); else the case goes to the city triage office, which routes it by
//! hand. A `ward_code` that the point contradicts still decides the route
//! (the reporter may know better than a boundary file, e.g. a report about
//! a street on the ward's edge), and the case is flagged for staff
//! (`Case::ward_check.mismatch`, shown in the staff view). Without loaded
//! boundaries routing is exactly as it was before they existed.
//!
//! The router reads the boundaries once per version ([`WardCache`]): it
//! looks at the store's pointer to the current version at most once per
//! [`WardCache::refresh`] and rebuilds its R-tree only when the version
//! changed, so a Lambda reads the polygons once per cold start or new
//! version, never per message.

use crate::case::{Case, Status};
use crate::category::Responsible;
use crate::change::{Change, Outcome};
use crate::error::{Error, ErrorKind, Result};
use crate::ids::CaseId;
use crate::notify::Audience;
use crate::outbox::Outbox;
use crate::ports::{CaseStore, Clock, StoreError, WardMapStore};
use crate::principal::Principal;
use crate::refdata::RefData;
use crate::stats::{Counter, StatDelta};
use crate::unit::UnitCode;
use crate::wards::{WardCheck, WardIndex};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The unit a rule names for this case, or `city:triage` (no boundaries).
pub fn target(case: &Case, refdata: &RefData) -> UnitCode {
    target_with(case, refdata, None).0
}

/// The unit a rule names for this case, using `wards` (the loaded
/// boundaries, if any) for a case without a valid `ward_code`; and what the
/// boundaries say of the case's point (`None` without boundaries).
pub fn target_with(
    case: &Case,
    refdata: &RefData,
    wards: Option<&WardIndex>,
) -> (UnitCode, Option<WardCheck>) {
    let named = case
        .location
        .ward_code
        .as_deref()
        .map(UnitCode::ward)
        .filter(|u| refdata.unit(u).is_some());
    let check = wards.map(|w| {
        let holding = w.wards_at(case.location.lat, case.location.lng);
        let named_code = named
            .as_ref()
            .and_then(|n| n.as_str().strip_prefix("ward:"));
        WardCheck {
            boundaries: w.version().to_string(),
            mismatch: named_code.is_some_and(|n| !holding.is_empty() && !holding.contains(&n)),
            ward_at_point: holding.first().map(|s| s.to_string()),
        }
    });
    let Some(cat) = refdata.category(&case.category) else {
        return (UnitCode::triage(), check);
    };
    let unit = match &cat.responsible {
        Responsible::Unit(u) if refdata.unit(u).is_some() => u.clone(),
        Responsible::Unit(_) => UnitCode::triage(),
        Responsible::WardOfLocation => named
            .or_else(|| {
                check
                    .as_ref()
                    .and_then(|c| c.ward_at_point.as_deref())
                    .map(UnitCode::ward)
                    .filter(|u| refdata.unit(u).is_some())
            })
            .unwrap_or_else(UnitCode::triage),
    };
    (unit, check)
}

/// The router's copy of the current ward boundaries, shared by every
/// message a process routes (see the module docs).
pub struct WardCache {
    /// How long a look at the current version is trusted.
    pub refresh: Duration,
    state: Mutex<Option<Cached>>,
}

struct Cached {
    checked: Instant,
    index: Option<Arc<WardIndex>>,
}

impl Default for WardCache {
    fn default() -> Self {
        WardCache::new(Duration::from_secs(60))
    }
}

impl WardCache {
    pub fn new(refresh: Duration) -> Self {
        WardCache {
            refresh,
            state: Mutex::new(None),
        }
    }

    /// The current boundaries, `None` when none are loaded.
    pub async fn current(&self, store: &dyn WardMapStore) -> Result<Option<Arc<WardIndex>>> {
        let held = {
            let g = self.state.lock().unwrap_or_else(|p| p.into_inner());
            match &*g {
                Some(c) if c.checked.elapsed() < self.refresh => return Ok(c.index.clone()),
                Some(c) => c.index.clone(),
                None => None,
            }
        };
        let index = match store.current_ward_map().await? {
            None => None,
            Some(info) if held.as_ref().is_some_and(|h| h.version() == info.version) => held,
            Some(info) => match store.ward_map(&info.version).await? {
                Some(map) => {
                    tracing::info!(version = %map.version, wards = map.wards.len(), "ward boundaries loaded");
                    Some(Arc::new(WardIndex::new(&map)))
                }
                None => {
                    return Err(Error::internal(StoreError::msg(format!(
                        "the current ward boundaries {} are not stored whole",
                        info.version
                    ))));
                }
            },
        };
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = Some(Cached {
            checked: Instant::now(),
            index: index.clone(),
        });
        Ok(index)
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
    route_checked(case, unit, None, now, refdata)
}

/// [`route_to`], keeping what the boundaries said of the case's place on it.
pub fn route_checked(
    case: &Case,
    unit: UnitCode,
    ward_check: Option<WardCheck>,
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
    ch.case.ward_check = ward_check;
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
    pub ward_maps: &'a dyn WardMapStore,
    pub wards: &'a WardCache,
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
            let wards = self.wards.current(self.ward_maps).await?;
            let (unit, check) = target_with(&case, self.refdata, wards.as_deref());
            let outcome =
                route_checked(&case, unit.clone(), check, self.clock.now(), self.refdata)?;
            match self.outbox.commit(case.version, outcome, None, false).await {
                Ok(()) => return Ok(RouteResult::Routed(unit)),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::bug("routing kept conflicting"))
    }
}
