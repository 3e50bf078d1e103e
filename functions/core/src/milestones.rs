//! Deadline milestones of a case and the sweep's decisions on them.
//!
//! A milestone is keyed by what it is and the deadline it belongs to
//! (`overdue@2025-08-01T10:00:00Z`), so an extension or a transfer that moves
//! a deadline makes a new, legitimate decision, while the same milestone is
//! never decided twice. Decided keys are kept on the case (checked with the
//! version on commit) and written to the reminder ledger with a
//! put-if-absent condition, so even two racing sweeps decide each once.
//! What the sweep does at a milestone is `crate::sweep::decide`.

use crate::calendar::ClockKind;
use crate::case::{Case, Status};
use crate::refdata::RefData;
use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MilestoneKind {
    /// Still `received` (a lost queue message): send it to the queue again.
    Requeue,
    /// Not acknowledged by `ack_due`.
    AckDue,
    /// One reminder before `resolve_due` (default 8 working hours).
    BeforeDue,
    /// `resolve_due` reached: the overdue alert.
    Overdue,
    /// More than N calendar days overdue: an inspection for Home Affairs.
    Inspection,
    /// The dispute window after resolve/reject ended: close.
    Close,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Milestone {
    pub key: String,
    pub at: DateTime<Utc>,
    pub kind: MilestoneKind,
}

fn key(name: &str, due: DateTime<Utc>) -> String {
    format!("{name}@{}", due.format("%Y-%m-%dT%H:%M:%SZ"))
}

/// All milestones of the case in its current state (decided or not).
pub fn milestones(case: &Case, refdata: &RefData) -> Vec<Milestone> {
    use MilestoneKind::*;
    use Status::*;
    let p = &refdata.policy;
    let mut out = Vec::new();
    let mut push = |kind, key: String, at| out.push(Milestone { key, at, kind });
    match case.status {
        Received => {
            let at = case.updated_at + Duration::minutes(p.requeue_received_after_minutes as i64);
            push(Requeue, key("requeue", at), at);
        }
        Triage | Assigned | InProgress => {
            if matches!(case.status, Triage | Assigned) {
                if let Some(a) = case.ack_due {
                    push(AckDue, key("ack_due", a), a);
                }
            }
            if let Some(due) = case.resolve_due {
                // One reminder before the deadline, on the case's own clock; never
                // dated before the case reached its unit (an urgent 4-hour case has none).
                let hours = p.reminder_before_working_hours;
                let before = match case.resolve_clock {
                    ClockKind::Working => refdata
                        .calendar
                        .sub_working_minutes(due, (hours * 60.0).round() as i64),
                    ClockKind::Calendar => {
                        Some(due - Duration::seconds((hours * 3600.0).round() as i64))
                    }
                };
                let floor = case.routed_at.unwrap_or(case.received_at);
                if let Some(before) = before.filter(|b| hours > 0.0 && *b > floor) {
                    push(BeforeDue, key("before_due", due), before);
                }
                push(Overdue, key("overdue", due), due);
                let insp = due + Duration::days(p.inspection_threshold_days as i64);
                // "More than" N days: the first sweep after the threshold instant.
                push(Inspection, "inspection".into(), insp + Duration::seconds(1));
            }
        }
        AwaitingInfo => {} // the resolve clock is paused
        Resolved | Rejected => {
            let since = if case.status == Resolved {
                case.resolved_at
            } else {
                case.rejected_at
            };
            if let Some(t) = since {
                let at = t + Duration::days(p.dispute_window_days as i64) + Duration::seconds(1);
                push(Close, key("close", t), at);
            }
        }
        Closed => {}
    }
    out
}

/// Does the case count as overdue in the statistics? Open with its resolve
/// clock running, and the sweep has decided the overdue milestone of its
/// current `resolve_due` (so the count follows the sweep, at most one pass
/// behind the clock; an extension, a pause or a regrade that moves the
/// deadline stops the count until the sweep decides the new one).
pub fn overdue_counted(case: &Case) -> bool {
    case.status.clock_runs()
        && case
            .resolve_due
            .is_some_and(|d| case.milestones_done.contains(&key("overdue", d)))
}

/// When the sweep must next look at the case: its earliest undecided milestone.
pub fn next_action_at(case: &Case, refdata: &RefData) -> Option<DateTime<Utc>> {
    milestones(case, refdata)
        .into_iter()
        .filter(|m| !case.milestones_done.contains(&m.key))
        .map(|m| m.at)
        .min()
}
