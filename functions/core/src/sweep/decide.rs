//! The sweep's decision for one due case: every milestone due now, in one
//! change (a close, reminders, the overdue alert, an inspection, a requeue).

use crate::actions::close_after_window;
use crate::case::{Case, Status};
use crate::change::{Change, Outcome};
use crate::milestones::{Milestone, MilestoneKind, milestones};
use crate::notify::{Audience, event};
use crate::principal::Principal;
use crate::refdata::RefData;
use chrono::{DateTime, Utc};
use serde_json::json;

/// What the sweep decided for one case.
#[derive(Debug, Clone)]
pub struct Decision {
    pub outcome: Outcome,
    /// The case must be sent to the intake queue again.
    pub requeue: bool,
    /// An inspection must be opened for this case.
    pub open_inspection: bool,
}

/// Decide every milestone of `case` that is due at `now`. `None` if nothing is due
/// (e.g. another sweep already moved it on).
pub fn decide(case: &Case, now: DateTime<Utc>, refdata: &RefData) -> Option<Decision> {
    use MilestoneKind::*;
    let due: Vec<Milestone> = milestones(case, refdata)
        .into_iter()
        .filter(|m| m.at <= now && !case.milestones_done.contains(&m.key))
        .collect();
    if due.is_empty() {
        return None;
    }
    if due.iter().any(|m| m.kind == Close) {
        return close_after_window(case, now, refdata)
            .ok()
            .map(|outcome| Decision {
                outcome,
                requeue: false,
                open_inspection: false,
            });
    }
    let mut ch = Change::new(case, now, refdata);
    let unit = case
        .unit
        .as_ref()
        .map(|u| u.to_string())
        .unwrap_or_default();
    let audience = |c: &Case| {
        if c.status == Status::Triage {
            Audience::Triage
        } else {
            Audience::Unit
        }
    };
    let mut requeue = false;
    let mut open_inspection = false;
    let mut names = Vec::new();
    for m in &due {
        ch.case.milestones_done.push(m.key.clone());
        ch.decisions.push(m.key.clone());
        names.push(m.key.clone());
        let base = json!({
            "case_id": case.id, "tracking_code": case.tracking_code, "unit": case.unit,
            "status": case.status, "ack_due": case.ack_due, "resolve_due": case.resolve_due,
            "milestone": m.key, "title": case.title,
        });
        match m.kind {
            Requeue => requeue = true,
            AckDue => ch.notify(event::REMINDER, &m.key, &unit, vec![audience(case)], base),
            BeforeDue => {
                // A reminder before the deadline is pointless once the deadline has passed.
                if case.resolve_due.is_some_and(|d| now <= d) {
                    ch.notify(event::REMINDER, &m.key, &unit, vec![audience(case)], base);
                }
            }
            Overdue => ch.notify(event::OVERDUE, &m.key, &unit, vec![audience(case)], base),
            Inspection => {
                open_inspection = true;
                ch.notify(
                    event::INSPECTION_OPENED,
                    &m.key,
                    &unit,
                    vec![Audience::HomeAffairs, audience(case)],
                    base,
                );
            }
            Close => unreachable!("handled above"),
        }
    }
    if requeue {
        // Looked again after the next interval: the next requeue is keyed by the new updated_at.
        ch.case
            .milestones_done
            .retain(|k| !k.starts_with("requeue@"));
    }
    let outcome = ch.finish(
        "sweep",
        &Principal::system("deadlines"),
        None,
        false,
        json!({"milestones": names}),
    );
    Some(Decision {
        outcome,
        requeue,
        open_inspection,
    })
}
