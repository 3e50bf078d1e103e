//! What the holding unit does with a case: accept, note, transfer, ask the
//! citizen, resolve, reject, extend (CONTRACT.md "Statuses", "Transfer",
//! "Clocks"). Each is a pure step on a [`Change`]; the status checks are
//! here, the permission checks in `crate::auth`.

use super::{Step, bad};
use crate::case::{Answer, Extension, Pause, Status::*};
use crate::change::Change;
use crate::error::{Error, ErrorKind, Result};
use crate::notify::{Audience, event};
use crate::principal::Principal;
use crate::stats::Counter;
use crate::unit::UnitCode;
use serde_json::json;

pub(super) fn accept(ch: &mut Change<'_>) -> Result<Step> {
    if ch.before.status != Assigned {
        return Err(bad(ch, "accept"));
    }
    ch.case.status = InProgress;
    ch.case.accepted_at = Some(ch.now);
    ch.notify_status();
    Ok((None, true, json!({})))
}

pub(super) fn note(ch: &mut Change<'_>, text: String, public: bool) -> Result<Step> {
    if matches!(ch.before.status, Received | Triage | Closed) {
        return Err(bad(ch, "note"));
    }
    Ok((Some(text), public, json!({})))
}

/// Transfer to another unit (also how triage hands a case on): a fresh
/// `ack_due` there, the citizen's `resolve_due` unchanged, the hold charged.
pub(super) fn transfer(ch: &mut Change<'_>, to_unit: UnitCode, reason: String) -> Result<Step> {
    let case = ch.before;
    let now = ch.now;
    let unit = case.unit.clone();
    let from_triage = unit.as_ref().is_some_and(|u| u.is_triage());
    if !(matches!(case.status, Assigned | InProgress) || (from_triage && case.status == Triage)) {
        return Err(bad(ch, "transfer"));
    }
    if to_unit.is_triage() || Some(&to_unit) == unit.as_ref() {
        return Err(Error::invalid("to_unit", "invalid_target_unit").with("action", "transfer"));
    }
    ch.end_hold();
    ch.start_hold(&to_unit);
    ch.case.unit = Some(to_unit.clone());
    ch.case.status = Assigned;
    ch.case.accepted_at = None;
    ch.case.ack_due = ch.fresh_ack_due(&to_unit);
    let from = unit.clone().map(|u| u.to_string()).unwrap_or_default();
    if !from_triage {
        // Routing out of triage is not a transfer.
        ch.case.transfers += 1;
        ch.count(now, unit.as_ref(), Counter::TransfersOut, 1);
    }
    let body = json!({"case_id": case.id, "tracking_code": case.tracking_code, "from_unit": from,
        "to_unit": to_unit, "reason": reason, "ack_due": ch.case.ack_due, "resolve_due": ch.case.resolve_due,
        "transfers": ch.case.transfers});
    let key = format!("transferred:v{}", ch.case.version);
    ch.notify(
        event::TRANSFERRED,
        &key,
        to_unit.as_str(),
        vec![Audience::Unit],
        body.clone(),
    );
    let threshold = ch.refdata.policy.passed_around_transfers;
    if !from_triage && ch.case.transfers == threshold && threshold > 0 {
        ch.count(now, Some(&to_unit), Counter::PassedAround, 1);
        ch.decisions.push("passed_around".into());
        ch.case.milestones_done.push("passed_around".into());
        ch.notify(
            event::PASSED_AROUND,
            "passed_around",
            to_unit.as_str(),
            vec![Audience::Triage, Audience::HomeAffairs],
            body,
        );
    }
    ch.notify_status();
    Ok((
        Some(reason),
        false,
        json!({"from_unit": from, "to_unit": to_unit}),
    ))
}

/// Ask the citizen for information: the resolve clock pauses.
pub(super) fn request_info(ch: &mut Change<'_>, question: String) -> Result<Step> {
    if ch.before.status != InProgress {
        return Err(bad(ch, "request_info"));
    }
    ch.case.status = AwaitingInfo;
    ch.case.open_question = Some(question.clone());
    ch.case.pauses.push(Pause {
        from: ch.now,
        to: None,
        hours: None,
    });
    ch.notify_status();
    Ok((Some(question), true, json!({})))
}

/// Answer the citizen; the first resolution is what on-time is judged on.
pub(super) fn resolve(ch: &mut Change<'_>, answer: String, evidence: Vec<String>) -> Result<Step> {
    let case = ch.before;
    let now = ch.now;
    if case.status != InProgress {
        return Err(bad(ch, "resolve"));
    }
    let unit = case.unit.clone();
    ch.case.status = Resolved;
    ch.case.resolved_at = Some(now);
    let u = unit
        .clone()
        .ok_or_else(|| Error::bug("resolved case without unit"))?;
    ch.case.answer = Some(Answer {
        text: answer.clone(),
        evidence: evidence.clone(),
        at: now,
        unit: u,
        reason_code: None,
    });
    ch.end_hold();
    if case.first_resolved_at.is_none() {
        let on_time = case.resolve_due.is_none_or(|d| now <= d);
        ch.case.first_resolved_at = Some(now);
        ch.case.first_resolved_on_time = Some(on_time);
        ch.count(now, unit.as_ref(), Counter::Resolved, 1);
        let c = if on_time {
            Counter::ResolvedOnTime
        } else {
            Counter::ResolvedLate
        };
        ch.count(now, unit.as_ref(), c, 1);
        let hours = ch
            .refdata
            .calendar
            .working_hours_between(case.received_at, now);
        ch.count(now, unit.as_ref(), Counter::hist_bucket(hours), 1);
    }
    ch.notify_status();
    Ok((Some(answer), true, json!({"evidence": evidence})))
}

/// Not the city's to handle, with a reason code.
pub(super) fn reject(ch: &mut Change<'_>, reason_code: String, answer: String) -> Result<Step> {
    let case = ch.before;
    let now = ch.now;
    if !matches!(case.status, Assigned | InProgress) {
        return Err(bad(ch, "reject"));
    }
    let unit = case.unit.clone();
    ch.case.status = Rejected;
    ch.case.rejected_at = Some(now);
    let u = unit
        .clone()
        .ok_or_else(|| Error::bug("rejected case without unit"))?;
    ch.case.answer = Some(Answer {
        text: answer.clone(),
        evidence: vec![],
        at: now,
        unit: u,
        reason_code: Some(reason_code.clone()),
    });
    ch.end_hold();
    ch.count(now, unit.as_ref(), Counter::Rejected, 1);
    ch.notify_status();
    Ok((Some(answer), true, json!({"reason_code": reason_code})))
}

/// Once per case, at most the policy's number of working days.
pub(super) fn extend(
    ch: &mut Change<'_>,
    actor: &Principal,
    working_days: u32,
    reason: String,
) -> Result<Step> {
    let case = ch.before;
    let now = ch.now;
    let max = ch.refdata.policy.extend_max_working_days;
    if !(1..=max).contains(&working_days) {
        return Err(Error::invalid("working_days", "out_of_range").with("max", max));
    }
    if !matches!(case.status, Assigned | InProgress | AwaitingInfo) {
        return Err(bad(ch, "extend"));
    }
    if case.extension.is_some() {
        return Err(Error::new(ErrorKind::Conflict, "already_extended"));
    }
    let due = case
        .resolve_due
        .ok_or_else(|| Error::bug("extend without resolve_due"))?;
    let cal = &ch.refdata.calendar;
    let minutes = working_days as i64 * cal.minutes_per_day();
    ch.case.resolve_due = cal.add_working_minutes(due, minutes);
    ch.case.extension = Some(Extension {
        working_days,
        reason: reason.clone(),
        at: now,
        by: actor.sub.clone(),
    });
    ch.count(now, case.unit.as_ref(), Counter::Extensions, 1);
    Ok((
        Some(reason),
        true,
        json!({"working_days": working_days, "old_resolve_due": due, "new_resolve_due": ch.case.resolve_due}),
    ))
}
