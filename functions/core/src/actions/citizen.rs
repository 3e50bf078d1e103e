//! What the reporter does: answer the unit's question, rate the answer,
//! reopen within the dispute window (CONTRACT.md "Statuses").

use super::{Step, bad};
use crate::case::{Rating, Status::*};
use crate::change::{Change, round2, within_window};
use crate::error::{Error, Result};
use crate::notify::Audience;
use crate::stats::Counter;
use crate::unit::UnitCode;
use serde_json::json;

/// The citizen answers: the resolve clock resumes, and `resolve_due` moves
/// on by the time it stood still.
pub(super) fn info(ch: &mut Change<'_>, text: String, media: Vec<String>) -> Result<Step> {
    let case = ch.before;
    let now = ch.now;
    if case.status != AwaitingInfo {
        return Err(bad(ch, "info"));
    }
    let cal = &ch.refdata.calendar;
    ch.case.status = InProgress;
    ch.case.open_question = None;
    let clock = case.resolve_clock;
    let mut paused = 0.0;
    if let Some(p) = ch.case.pauses.iter_mut().rev().find(|p| p.to.is_none()) {
        paused = cal.elapsed_hours(p.from, now, clock);
        p.to = Some(now);
        p.hours = Some(round2(paused));
    }
    if let Some(due) = case.resolve_due {
        ch.case.resolve_due = cal.add(due, paused, clock);
    }
    ch.notify_status();
    Ok((
        Some(text),
        false,
        json!({"media": media, "paused_hours": round2(paused)}),
    ))
}

/// Rating closes a resolved case.
pub(super) fn rate(ch: &mut Change<'_>, score: u8, comment: Option<String>) -> Result<Step> {
    let now = ch.now;
    if ch.before.status != Resolved {
        return Err(bad(ch, "rate"));
    }
    ch.case.status = Closed;
    ch.case.closed_at = Some(now);
    ch.case.rating = Some(Rating {
        score,
        comment: comment.clone(),
        at: now,
    });
    let unit = ch.before.unit.clone();
    ch.count(now, unit.as_ref(), Counter::RatingSum, score as i64);
    ch.count(now, unit.as_ref(), Counter::RatingCount, 1);
    ch.notify_status();
    Ok((comment, false, json!({"score": score})))
}

/// Within the window: a resolved case goes back to its unit (a reopen), a
/// rejected one to triage.
pub(super) fn reopen(ch: &mut Change<'_>, reason: String) -> Result<Step> {
    let case = ch.before;
    let (now, refdata) = (ch.now, ch.refdata);
    match case.status {
        Resolved if within_window(case.resolved_at, now, refdata) => {
            let u = case
                .unit
                .clone()
                .ok_or_else(|| Error::bug("resolved case without unit"))?;
            ch.case.status = InProgress;
            ch.case.resolved_at = None;
            ch.case.reopens += 1;
            ch.start_hold(&u);
            ch.count(now, Some(&u), Counter::Reopens, 1);
            ch.notify_status();
            // The unit must hear that its answer was disputed.
            if let Some(n) = ch.notifications.last_mut() {
                n.audience.push(Audience::Unit);
            }
            Ok((Some(reason), false, json!({})))
        }
        Rejected if within_window(case.rejected_at, now, refdata) => {
            let t = UnitCode::triage();
            ch.case.status = Triage;
            ch.case.rejected_at = None;
            ch.case.reopens += 1;
            ch.case.unit = Some(t.clone());
            ch.start_hold(&t);
            ch.case.ack_due = ch.fresh_ack_due(&t);
            ch.count(now, Some(&t), Counter::Reopens, 1);
            ch.notify_assigned(&t, Audience::Triage);
            ch.notify_status();
            Ok((Some(reason), false, json!({})))
        }
        _ => Err(bad(ch, "reopen")),
    }
}
