//! Regrade: triage or the holding unit changes a case's urgency (a citizen
//! only *asks* for one). The deadlines are recomputed from the original
//! receipt with the new urgency's SLA, keeping the time paused for the
//! citizen and any extension; the holding unit may not lower the urgency of
//! a case that is already overdue, and its downgrades are counted.

use super::{Step, bad};
use crate::case::Status::*;
use crate::category::Urgency;
use crate::change::Change;
use crate::error::{Error, ErrorKind, Result};
use crate::principal::{Principal, Role};
use crate::stats::Counter;
use serde_json::json;

/// Higher is more pressing: urgent, then normal, then complex (which gets
/// the longest deadlines).
fn rank(u: Urgency) -> u8 {
    match u {
        Urgency::Urgent => 2,
        Urgency::Normal => 1,
        Urgency::Complex => 0,
    }
}

pub(super) fn regrade(
    ch: &mut Change<'_>,
    actor: &Principal,
    urgency: Urgency,
    reason: String,
) -> Result<Step> {
    let case = ch.before;
    let now = ch.now;
    if !matches!(case.status, Triage | Assigned | InProgress | AwaitingInfo) {
        return Err(bad(ch, "regrade"));
    }
    if urgency == case.urgency {
        return Err(Error::invalid("urgency", "urgency_unchanged"));
    }
    let lowered = rank(urgency) < rank(case.urgency);
    let by_unit = actor.role != Role::Triage;
    if lowered && by_unit && case.is_overdue(now) {
        return Err(Error::new(ErrorKind::Conflict, "overdue_downgrade"));
    }
    let refdata = ch.refdata;
    let cal = &refdata.calendar;
    let sla = refdata.policy.sla(&case.category, urgency);
    let clock = sla.resolve.clock;
    // From the original receipt, plus every finished pause (on the new
    // clock), plus the extension; an open pause is added when it ends.
    let mut due = cal.add(case.received_at, sla.resolve.hours, clock);
    for p in case.pauses.iter() {
        if let (Some(to), Some(d)) = (p.to, due) {
            due = cal.add(d, cal.elapsed_hours(p.from, to, clock), clock);
        }
    }
    if let (Some(x), Some(d)) = (&case.extension, due) {
        due = cal.add_working_minutes(d, x.working_days as i64 * cal.minutes_per_day());
    }
    ch.case.urgency = urgency;
    ch.case.resolve_due = due;
    ch.case.resolve_clock = clock;
    // Not yet acknowledged at a unit: the acknowledgement deadline follows
    // the new urgency too, from when the case reached that unit.
    if case.status == Assigned {
        let reached = if case.holds.len() <= 1 {
            case.received_at
        } else {
            case.holds
                .last()
                .map(|h| h.from)
                .unwrap_or(case.received_at)
        };
        ch.case.ack_due = cal.add(reached, sla.ack.hours, sla.ack.clock);
    }
    if lowered && by_unit {
        let unit = case.unit.clone();
        ch.count(now, unit.as_ref(), Counter::Downgrades, 1);
    }
    Ok((
        Some(reason),
        true,
        json!({"from": case.urgency, "to": urgency, "old_resolve_due": case.resolve_due, "new_resolve_due": ch.case.resolve_due}),
    ))
}
