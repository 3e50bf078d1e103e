//! Deadline milestones and the sweep's decisions.
//!
//! The usual case: `lighting`, normal, ward 00070, received and routed Mon 16
//! Jun 2025 09:00 (Hanoi). ack_due Tue 17 Jun 09:00; resolve_due Thu 19 Jun
//! 09:00; 8 working hours before it: Thu 08–09 (1h), Wed 13–17 (4h), Wed
//! 09–12 (3h) → Wed 18 Jun 09:00; inspection: resolve_due + 15 calendar days = Fri 4 Jul 09:00,
//! "more than" → 09:00:01.

use crate::common::{act, assigned_lighting, events, hn, hns, new_case, rd, route_to};
use chrono::{DateTime, Utc};
use pakn_core::case::{Case, Status};
use pakn_core::category::Urgency;
use pakn_core::milestones::{MilestoneKind, milestones, next_action_at};
use pakn_core::notify::Audience;
use pakn_core::sweep::{Decision, decide};
use serde_json::json;

fn t0() -> DateTime<Utc> {
    hn(2025, 6, 16, 9, 0)
}

/// Decide at `now`, check that deciding again on the result at the same instant is a no-op.
#[track_caller]
fn sweep(case: &Case, now: DateTime<Utc>) -> Decision {
    let d = decide(case, now, rd()).expect("something is due");
    assert!(
        decide(&d.outcome.case, now, rd()).is_none(),
        "decided twice at {now}"
    );
    assert_eq!(d.outcome.case.version, case.version + 1);
    d
}

#[test]
fn the_milestones_of_an_assigned_case() {
    let c = assigned_lighting(t0());
    let ms = milestones(&c, rd());
    let got: Vec<_> = ms.iter().map(|m| (m.kind, m.at, m.key.as_str())).collect();
    assert_eq!(
        got,
        [
            // Keys name the deadline they belong to, in UTC (09:00 Hanoi = 02:00Z).
            (
                MilestoneKind::AckDue,
                hn(2025, 6, 17, 9, 0),
                "ack_due@2025-06-17T02:00:00Z"
            ),
            (
                MilestoneKind::BeforeDue,
                hn(2025, 6, 18, 9, 0),
                "before_due@2025-06-19T02:00:00Z"
            ),
            (
                MilestoneKind::Overdue,
                hn(2025, 6, 19, 9, 0),
                "overdue@2025-06-19T02:00:00Z"
            ),
            (
                MilestoneKind::Inspection,
                hns(2025, 7, 4, 9, 0, 1),
                "inspection"
            ),
        ]
    );
    assert_eq!(next_action_at(&c, rd()), Some(hn(2025, 6, 17, 9, 0)));
    assert_eq!(c.next_action_at, Some(hn(2025, 6, 17, 9, 0)));
    // Accepted: no acknowledge reminder any more.
    let accepted = act(&c, "accept", json!({}), hn(2025, 6, 16, 10, 0)).case;
    assert!(
        milestones(&accepted, rd())
            .iter()
            .all(|m| m.kind != MilestoneKind::AckDue)
    );
    assert_eq!(accepted.next_action_at, Some(hn(2025, 6, 18, 9, 0)));
    // Waiting for the citizen: the clock is paused, nothing is due.
    let waiting = act(
        &accepted,
        "request_info",
        json!({"question": "?"}),
        hn(2025, 6, 16, 11, 0),
    )
    .case;
    assert!(milestones(&waiting, rd()).is_empty());
}

#[test]
fn the_reminder_before_the_deadline_skips_the_weekend() {
    // Received Wed 18 Jun 09:00 → due Mon 23 Jun 09:00 (Wed 7, Thu 15, Fri 23, Mon +1).
    // 8 working hours before: Mon 08–09 (1h), Fri 13–17 (4h), Fri 09–12 (3h) → Fri 20 Jun 09:00.
    let c = assigned_lighting(hn(2025, 6, 18, 9, 0));
    assert_eq!(c.resolve_due, Some(hn(2025, 6, 23, 9, 0)));
    let before = milestones(&c, rd())
        .into_iter()
        .find(|m| m.kind == MilestoneKind::BeforeDue)
        .unwrap();
    assert_eq!(before.at, hn(2025, 6, 20, 9, 0));
}

#[test]
fn each_milestone_is_decided_once_in_turn() {
    let c = assigned_lighting(t0());
    assert!(decide(&c, hns(2025, 6, 17, 8, 59, 59), rd()).is_none());

    let d = sweep(&c, hn(2025, 6, 17, 9, 0));
    assert_eq!(d.outcome.decisions, ["ack_due@2025-06-17T02:00:00Z"]);
    assert_eq!(events(&d.outcome), ["case.reminder"]);
    let n = &d.outcome.notifications[0];
    assert_eq!(n.unit, "ward:00070");
    assert_eq!(n.audience, vec![Audience::Unit]);
    assert_eq!(n.dedup_id, format!("{}:ack_due@2025-06-17T02:00:00Z", c.id));
    // Two sweeps racing on the same case version decide the same thing with the same id.
    let racing = decide(&c, hn(2025, 6, 17, 9, 5), rd()).unwrap();
    assert_eq!(racing.outcome.notifications[0].dedup_id, n.dedup_id);
    assert_eq!(racing.outcome.decisions, d.outcome.decisions);
    assert!(!d.requeue && !d.open_inspection);
    assert_eq!(d.outcome.case.status, Status::Assigned);
    assert_eq!(d.outcome.case.next_action_at, Some(hn(2025, 6, 18, 9, 0)));
    // Later, before the next milestone: nothing.
    assert!(decide(&d.outcome.case, hn(2025, 6, 18, 8, 59), rd()).is_none());

    let d = sweep(&d.outcome.case, hn(2025, 6, 18, 9, 0));
    assert_eq!(events(&d.outcome), ["case.reminder"]);
    assert_eq!(d.outcome.decisions, ["before_due@2025-06-19T02:00:00Z"]);
    assert_eq!(d.outcome.case.next_action_at, Some(hn(2025, 6, 19, 9, 0)));

    let d = sweep(&d.outcome.case, hn(2025, 6, 19, 9, 0));
    assert_eq!(events(&d.outcome), ["case.overdue"]);
    assert_eq!(d.outcome.notifications[0].audience, vec![Audience::Unit]);
    assert!(!d.open_inspection);
    assert_eq!(
        d.outcome.case.next_action_at,
        Some(hns(2025, 7, 4, 9, 0, 1))
    );

    // Exactly 15 days overdue is not "more than 15 days".
    assert!(decide(&d.outcome.case, hn(2025, 7, 4, 9, 0), rd()).is_none());
    let d = sweep(&d.outcome.case, hns(2025, 7, 4, 9, 0, 1));
    assert!(d.open_inspection);
    assert_eq!(events(&d.outcome), ["inspection.opened"]);
    assert_eq!(
        d.outcome.notifications[0].audience,
        vec![Audience::HomeAffairs, Audience::Unit]
    );
    assert_eq!(d.outcome.case.next_action_at, None);
    assert!(decide(&d.outcome.case, hn(2026, 1, 1, 0, 0), rd()).is_none());
}

#[test]
fn a_late_sweep_records_a_stale_reminder_without_sending_it() {
    let c = assigned_lighting(t0());
    // First look after the deadline: ack, before-due and overdue are all due.
    let d = sweep(&c, hn(2025, 6, 19, 10, 0));
    let mut decided = d.outcome.decisions.clone();
    decided.sort();
    assert_eq!(
        decided,
        [
            "ack_due@2025-06-17T02:00:00Z",
            "before_due@2025-06-19T02:00:00Z",
            "overdue@2025-06-19T02:00:00Z"
        ]
    );
    for k in &decided {
        assert!(d.outcome.case.milestones_done.contains(k), "{k}");
    }
    let mut sent = events(&d.outcome);
    sent.sort();
    assert_eq!(sent, ["case.overdue", "case.reminder"]);
    assert!(
        d.outcome
            .notifications
            .iter()
            .all(|n| !n.dedup_id.contains("before_due"))
    );
}

#[test]
fn moved_deadlines_make_new_decisions() {
    let c = assigned_lighting(t0());
    let acked = sweep(&c, hn(2025, 6, 17, 9, 0)).outcome.case;
    // A transfer at Tue 10:30 gives a fresh ack_due, Wed 10:30, at the new unit.
    let moved = act(
        &acked,
        "transfer",
        json!({"to_unit": "dept:construction", "reason": "x"}),
        hn(2025, 6, 17, 10, 30),
    )
    .case;
    assert_eq!(moved.next_action_at, Some(hn(2025, 6, 18, 9, 0)));
    let d = sweep(&moved, hn(2025, 6, 18, 10, 30));
    let mut keys = d.outcome.decisions.clone();
    keys.sort();
    assert_eq!(
        keys,
        [
            "ack_due@2025-06-18T03:30:00Z",
            "before_due@2025-06-19T02:00:00Z"
        ]
    );
    assert!(
        d.outcome
            .notifications
            .iter()
            .all(|n| n.unit == "dept:construction")
    );
    // An extension after the overdue alert: a new overdue at the new deadline.
    let overdue = sweep(&d.outcome.case, hn(2025, 6, 19, 9, 0)).outcome.case;
    let ext = act(
        &overdue,
        "extend",
        json!({"working_days": 1, "reason": "y"}),
        hn(2025, 6, 19, 10, 0),
    )
    .case;
    // Thu 09:00 + 8h = Fri 20 Jun 09:00.
    assert_eq!(ext.resolve_due, Some(hn(2025, 6, 20, 9, 0)));
    let d = decide(&ext, hn(2025, 6, 20, 9, 0), rd()).unwrap();
    assert!(
        d.outcome
            .decisions
            .contains(&"overdue@2025-06-20T02:00:00Z".to_string())
    );
    assert!(events(&d.outcome).contains(&"case.overdue"));
}

#[test]
fn triage_reminders_go_to_triage() {
    let c = route_to(
        &new_case("lighting", Urgency::Normal, None, t0()),
        "city:triage",
        t0(),
    )
    .case;
    // Triage ack: 4 working hours → Mon 14:00.
    let d = sweep(&c, hn(2025, 6, 16, 14, 0));
    assert_eq!(events(&d.outcome), ["case.reminder"]);
    assert_eq!(d.outcome.notifications[0].audience, vec![Audience::Triage]);
    assert_eq!(d.outcome.notifications[0].unit, "city:triage");
}

fn flood() -> Case {
    // Flood reported Fri 13 Jun 18:00: ack 19:00, due 22:00 (calendar clock).
    let at = hn(2025, 6, 13, 18, 0);
    route_to(
        &new_case("drainage", Urgency::Urgent, Some("00070"), at),
        "ward:00070",
        at,
    )
    .case
}

#[test]
fn urgent_reminders_run_day_and_night() {
    let c = flood();
    let d = decide(&c, hn(2025, 6, 13, 19, 0), rd()).unwrap();
    assert!(
        d.outcome
            .decisions
            .contains(&"ack_due@2025-06-13T12:00:00Z".to_string())
    );
    assert!(events(&d.outcome).contains(&"case.reminder"));
    assert!(
        d.outcome
            .notifications
            .iter()
            .all(|n| n.urgency == "urgent")
    );
    let d = sweep(&d.outcome.case, hn(2025, 6, 13, 22, 0));
    assert!(events(&d.outcome).contains(&"case.overdue"));
}

#[test]

fn an_urgent_case_gets_no_reminder_dated_before_it_was_routed() {
    // 8 working hours before Fri 22:00 is Fri 08:00, ten hours before the flood was reported;
    // the first sweep after routing sends a "reminder" next to case.assigned.
    let c = flood();
    for m in milestones(&c, rd()) {
        assert!(m.at >= hn(2025, 6, 13, 18, 0), "{:?} at {}", m.kind, m.at);
    }
    // At 18:30 nothing is due yet (ack at 19:00).
    assert!(decide(&c, hn(2025, 6, 13, 18, 30), rd()).is_none());
}

#[test]
fn a_resolved_case_closes_when_the_window_ends() {
    let accepted = act(
        &assigned_lighting(t0()),
        "accept",
        json!({}),
        hn(2025, 6, 16, 10, 0),
    )
    .case;
    let resolved = act(
        &accepted,
        "resolve",
        json!({"answer": "Xong"}),
        hn(2025, 6, 17, 9, 0),
    )
    .case;
    let ms = milestones(&resolved, rd());
    assert_eq!(ms.len(), 1);
    assert_eq!(
        (ms[0].kind, ms[0].at),
        (MilestoneKind::Close, hns(2025, 6, 24, 9, 0, 1))
    );
    assert_eq!(resolved.next_action_at, Some(hns(2025, 6, 24, 9, 0, 1)));
    assert!(decide(&resolved, hn(2025, 6, 24, 9, 0), rd()).is_none());
    let d = sweep(&resolved, hns(2025, 6, 24, 9, 0, 1));
    assert_eq!(d.outcome.case.status, Status::Closed);
    assert_eq!(d.outcome.event.action, "close");
    assert_eq!(events(&d.outcome), ["case.status_changed"]);
    assert_eq!(d.outcome.case.next_action_at, None);

    let rejected = act(
        &accepted,
        "reject",
        json!({"reason_code": "duplicate", "answer": "Trùng"}),
        hn(2025, 6, 16, 11, 0),
    )
    .case;
    let d = sweep(&rejected, hn(2025, 6, 30, 0, 0));
    assert_eq!(d.outcome.case.status, Status::Closed);
}

#[test]
fn a_case_stuck_in_received_is_requeued() {
    // Intake stored it at 09:00 and the queue message was lost.
    let c = new_case("lighting", Urgency::Normal, Some("00070"), t0());
    assert_eq!(next_action_at(&c, rd()), Some(hn(2025, 6, 16, 9, 10)));
    assert!(decide(&c, hns(2025, 6, 16, 9, 9, 59), rd()).is_none());
    let d = sweep(&c, hn(2025, 6, 16, 9, 10));
    assert!(d.requeue);
    assert!(d.outcome.notifications.is_empty());
    assert_eq!(d.outcome.case.status, Status::Received);
    assert_eq!(d.outcome.case.updated_at, hn(2025, 6, 16, 9, 10));
    // Looked at again ten minutes later if it is still there.
    assert_eq!(d.outcome.case.next_action_at, Some(hn(2025, 6, 16, 9, 20)));
    let again = sweep(&d.outcome.case, hn(2025, 6, 16, 9, 20));
    assert!(again.requeue);
}
