//! The status machine in detail: transfer, triage, extend, pause, resolve,
//! rate, reopen, and the validation of action bodies.
//!
//! The usual case: `lighting`, normal urgency, ward 00070, received and routed
//! Mon 16 Jun 2025 09:00. Policy: ack 8 working hours, resolve 24 working
//! hours. ack_due = Tue 17 Jun 09:00; resolve_due: Mon 09–17 is 7h, Tue 15,
//! Wed 23, Thu 19 Jun 08:00 + 1h = Thu 09:00.

use crate::common::{
    act, assigned_lighting, events, hn, hns, new_case, parse, rd, route_to, try_act, unit,
};
use chrono::{DateTime, NaiveDate, Utc};
use pakn_core::actions::{self as workflow, Action};
use pakn_core::auth::Principal;
use pakn_core::case::Status;
use pakn_core::category::Urgency;
use pakn_core::change::Outcome;
use pakn_core::error::ErrorKind;
use pakn_core::notify::Audience;
use pakn_core::stats::Counter;
use serde_json::json;

fn t0() -> DateTime<Utc> {
    hn(2025, 6, 16, 9, 0)
}

fn due() -> DateTime<Utc> {
    hn(2025, 6, 19, 9, 0)
}

/// Sum of one counter's deltas for a scope.
fn delta(o: &Outcome, scope: &str, c: Counter) -> i64 {
    o.deltas
        .iter()
        .filter(|d| d.scope == scope && d.counter == c)
        .map(|d| d.amount)
        .sum()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn routing_sets_the_deadlines_and_stamps_the_policy() {
    let case = new_case("lighting", Urgency::Normal, Some("00070"), t0());
    let o = route_to(&case, "ward:00070", t0());
    let c = &o.case;
    assert_eq!(c.status, Status::Assigned);
    assert_eq!(c.version, 2);
    assert_eq!(c.unit, Some(unit("ward:00070")));
    assert_eq!(c.ack_due, Some(hn(2025, 6, 17, 9, 0)));
    assert_eq!(c.resolve_due, Some(due()));
    assert_eq!(c.policy_version.as_deref(), Some("2025-07-01.1"));
    assert_eq!(c.routed_at, Some(t0()));
    assert_eq!(c.holds.len(), 1);
    assert_eq!(c.holds[0].unit, unit("ward:00070"));
    assert_eq!(c.holds[0].from, t0());
    assert_eq!(c.holds[0].to, None);
    assert_eq!(o.event.action, "routed");
    assert_eq!(events(&o), ["case.assigned", "case.status_changed"]);
    let n = &o.notifications[0];
    assert_eq!(n.unit, "ward:00070");
    assert_eq!(n.audience, vec![Audience::Unit]);
    assert_eq!(n.urgency, "normal");
    assert_eq!(n.body["tracking_code"], json!("HN-25-7K3QX"));
    // The next look of the sweep is the acknowledge deadline.
    assert_eq!(c.next_action_at, Some(hn(2025, 6, 17, 9, 0)));
    // Intake at the unit is counted once, on the local day of routing (here, of receipt).
    assert_eq!(delta(&o, "ward:00070", Counter::Received), 1);
    assert_eq!(delta(&o, "ward:00070", Counter::ReceivedField), 1);
    assert!(o.deltas.iter().all(|d| d.day == day(2025, 6, 16)));
    // A complex procedure report gets the category's own resolve SLA (120h = 15 working days).
    let p = new_case("admin-procedure", Urgency::Complex, Some("00070"), t0());
    let o = route_to(&p, "ward:00070", t0());
    // Mon 16 Jun 09:00 + 15 working days: 15 × 8h ends Mon 7 Jul 09:00 (no holidays in between).
    assert_eq!(o.case.resolve_due, Some(hn(2025, 7, 7, 9, 0)));
    assert_eq!(delta(&o, "ward:00070", Counter::ReceivedProcedure), 1);
}

#[test]
fn a_transfer_moves_the_case_and_keeps_the_citizens_deadline() {
    let accepted = act(
        &assigned_lighting(t0()),
        "accept",
        json!({}),
        hn(2025, 6, 16, 10, 0),
    )
    .case;
    let at = hn(2025, 6, 17, 10, 30);
    let o = act(
        &accepted,
        "transfer",
        json!({"to_unit": "dept:construction", "reason": "Cột điện của Sở"}),
        at,
    );
    let c = &o.case;
    assert_eq!(c.status, Status::Assigned);
    assert_eq!(c.unit, Some(unit("dept:construction")));
    assert_eq!(c.accepted_at, None);
    assert_eq!(c.transfers, 1);
    // Fresh ack: Tue 10:30 + 8h = Tue 10:30–12 (1.5), 13–17 (5.5), Wed 08:00 + 2.5h.
    assert_eq!(c.ack_due, Some(hn(2025, 6, 18, 10, 30)));
    assert_eq!(c.resolve_due, Some(due()));
    // The ward held it Mon 09–12 (3), 13–17 (4), Tue 08–10:30 (2.5) = 9.5 working hours.
    assert_eq!(c.holds.len(), 2);
    assert_eq!(c.holds[0].unit, unit("ward:00070"));
    assert_eq!(c.holds[0].to, Some(at));
    assert_eq!(c.holds[0].working_hours, Some(9.5));
    assert_eq!(c.holds[1].unit, unit("dept:construction"));
    assert_eq!(c.holds[1].from, at);
    assert_eq!(c.holds[1].to, None);
    assert_eq!(events(&o), ["case.transferred", "case.status_changed"]);
    let n = &o.notifications[0];
    assert_eq!(n.unit, "dept:construction");
    assert_eq!(n.audience, vec![Audience::Unit]);
    assert_eq!(n.body["from_unit"], json!("ward:00070"));
    assert_eq!(o.event.text.as_deref(), Some("Cột điện của Sở"));
    assert!(!o.event.public);
    assert_eq!(delta(&o, "ward:00070", Counter::TransfersOut), 1);
    assert_eq!(
        delta(&o, "ALL", Counter::TransfersOut),
        0,
        "the city adds up its units"
    );
    assert_eq!(delta(&o, "dept:construction", Counter::TransfersOut), 0);
    // The open case moves from one unit's count to the other's.
    assert_eq!(delta(&o, "ward:00070", Counter::Open), -1);
    assert_eq!(delta(&o, "dept:construction", Counter::Open), 1);
    // The new unit has to accept it.
    let o2 = act(c, "accept", json!({}), hn(2025, 6, 17, 11, 0));
    assert_eq!(o2.case.status, Status::InProgress);
    // Not to the same unit, not to triage.
    for to in ["dept:construction", "city:triage"] {
        let e = try_act(c, "transfer", json!({"to_unit": to, "reason": "x"}), at).unwrap_err();
        assert_eq!(
            (e.kind, e.code),
            (ErrorKind::Invalid, "invalid_target_unit"),
            "{to}"
        );
    }
}

#[test]
fn the_third_transfer_flags_the_case_as_passed_around_once() {
    let mut c = assigned_lighting(t0());
    let hops = [
        ("dept:construction", hn(2025, 6, 16, 10, 0)),
        ("dept:transport", hn(2025, 6, 16, 11, 0)),
        ("ward:00073", hn(2025, 6, 16, 14, 0)),
        ("ward:00070", hn(2025, 6, 16, 15, 0)),
        ("dept:construction", hn(2025, 6, 16, 16, 0)),
    ];
    let mut flagged = vec![];
    for (i, (to, at)) in hops.iter().enumerate() {
        let o = act(
            &c,
            "transfer",
            json!({"to_unit": to, "reason": "Không thuộc thẩm quyền"}),
            *at,
        );
        assert_eq!(o.case.transfers as usize, i + 1);
        for n in o
            .notifications
            .iter()
            .filter(|n| n.event == "case.passed_around")
        {
            flagged.push((
                i + 1,
                n.clone(),
                delta(&o, "ward:00073", Counter::PassedAround),
            ));
        }
        c = o.case;
    }
    assert_eq!(flagged.len(), 1, "exactly one passed_around");
    let (nth, n, counted) = &flagged[0];
    assert_eq!(*nth, 3);
    assert_eq!(n.unit, "ward:00073");
    assert_eq!(n.audience, vec![Audience::Triage, Audience::HomeAffairs]);
    assert_eq!(*counted, 1);
    // Six holds; each closed one charged: 09–10, 10–11, 11–14 (2h: lunch is not charged), 14–15, 15–16.
    assert_eq!(c.holds.len(), 6);
    let charged: Vec<_> = c.holds.iter().map(|h| h.working_hours).collect();
    assert_eq!(
        charged,
        [Some(1.0), Some(1.0), Some(2.0), Some(1.0), Some(1.0), None]
    );
}

#[test]
fn routing_out_of_triage_is_not_a_transfer() {
    let case = new_case("lighting", Urgency::Normal, None, t0());
    let o = route_to(&case, "city:triage", t0());
    let c = &o.case;
    assert_eq!(c.status, Status::Triage);
    // Triage has 4 working hours: Mon 09–12 (3) + 13:00–14:00.
    assert_eq!(c.ack_due, Some(hn(2025, 6, 16, 14, 0)));
    assert_eq!(c.resolve_due, Some(due()));
    assert_eq!(o.notifications[0].audience, vec![Audience::Triage]);
    assert_eq!(o.notifications[0].unit, "city:triage");
    assert_eq!(delta(&o, "city:triage", Counter::Received), 1);

    let at = hn(2025, 6, 16, 11, 0);
    let r = act(c, "route", json!({"to_unit": "ward:00070"}), at);
    assert_eq!(r.case.status, Status::Assigned);
    assert_eq!(r.case.unit, Some(unit("ward:00070")));
    assert_eq!(r.case.transfers, 0);
    assert_eq!(delta(&r, "ALL", Counter::TransfersOut), 0);
    assert_eq!(delta(&r, "city:triage", Counter::TransfersOut), 0);
    assert_eq!(events(&r), ["case.assigned", "case.status_changed"]);
    assert_eq!(r.notifications[0].audience, vec![Audience::Unit]);
    assert_eq!(r.notifications[0].unit, "ward:00070");
    // Fresh ack at the ward from 11:00: 1h + 4h Monday, Tue 08:00 + 3h.
    assert_eq!(r.case.ack_due, Some(hn(2025, 6, 17, 11, 0)));
    assert_eq!(r.case.resolve_due, Some(due()));
    assert_eq!(r.case.holds[0].unit, unit("city:triage"));
    assert_eq!(r.case.holds[0].working_hours, Some(2.0));
    // Triage's own "transfer from triage" is not counted as a transfer either.
    let t = act(
        c,
        "transfer",
        json!({"to_unit": "dept:police", "reason": "An ninh"}),
        at,
    );
    assert_eq!(t.case.status, Status::Assigned);
    assert_eq!(t.case.transfers, 0);
    assert_eq!(delta(&t, "ALL", Counter::TransfersOut), 0);
    // Routing to triage itself is refused.
    let e = try_act(c, "route", json!({"to_unit": "city:triage"}), at).unwrap_err();
    assert_eq!(e.code, "invalid_target_unit");
}

#[test]
fn an_extension_moves_the_deadline_once() {
    let c = assigned_lighting(t0());
    let at = hn(2025, 6, 17, 10, 0);
    let o = act(
        &c,
        "extend",
        json!({"working_days": 3, "reason": "Chờ vật tư"}),
        at,
    );
    // Thu 19 Jun 09:00 + 24h: Thu 7, Fri 15, Mon 23, Tue 24 Jun 08:00 + 1h.
    assert_eq!(o.case.resolve_due, Some(hn(2025, 6, 24, 9, 0)));
    assert_eq!(o.case.status, Status::Assigned);
    assert_eq!(o.case.ack_due, c.ack_due);
    let ext = o.case.extension.as_ref().unwrap();
    assert_eq!(
        (ext.working_days, ext.at, ext.by.as_str()),
        (3, at, "off-1")
    );
    assert_eq!(delta(&o, "ward:00070", Counter::Extensions), 1);
    assert_eq!(delta(&o, "ALL", Counter::Extensions), 0);
    assert_eq!(delta(&o, "ward:00070", Counter::Open), 0, "still open");
    assert_eq!(o.event.data["old_resolve_due"], json!(due()));
    let e = try_act(
        &o.case,
        "extend",
        json!({"working_days": 1, "reason": "Lần nữa"}),
        at,
    )
    .unwrap_err();
    assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "already_extended"));
    // The policy bound: 5 working days (policy.json), 1 at least.
    let max = rd().policy.extend_max_working_days;
    assert_eq!(max, 5);
    let five = act(
        &c,
        "extend",
        json!({"working_days": 5, "reason": "Tối đa"}),
        at,
    );
    // Thu 19 Jun 09:00 + 40h = Thu 26 Jun 09:00.
    assert_eq!(five.case.resolve_due, Some(hn(2025, 6, 26, 9, 0)));
    for n in [6, 0, -1] {
        // The bound is the policy's, so the domain checks it (not the edge).
        let e = try_act(&c, "extend", json!({"working_days": n, "reason": "x"}), at).unwrap_err();
        assert_eq!(
            (e.kind, e.code, e.field.as_deref()),
            (ErrorKind::Invalid, "out_of_range", Some("working_days"))
        );
    }
}

#[test]
fn an_extension_across_tet_counts_working_days() {
    // Received Thu 23 Jan 2025 09:00 → due Tue 4 Feb 09:00 (24h across Tết, see calendar tests).
    let c = assigned_lighting(hn(2025, 1, 23, 9, 0));
    assert_eq!(c.resolve_due, Some(hn(2025, 2, 4, 9, 0)));
    // + 2 working days: Tue 7, Wed 15, Thu 6 Feb 08:00 + 1h.
    let o = act(
        &c,
        "extend",
        json!({"working_days": 2, "reason": "Tết"}),
        hn(2025, 1, 24, 9, 0),
    );
    assert_eq!(o.case.resolve_due, Some(hn(2025, 2, 6, 9, 0)));
}

#[test]
fn waiting_for_information_pauses_the_resolve_clock() {
    let accepted = act(
        &assigned_lighting(t0()),
        "accept",
        json!({}),
        hn(2025, 6, 16, 10, 0),
    )
    .case;
    let asked = act(
        &accepted,
        "request_info",
        json!({"question": "Cột số mấy?"}),
        hn(2025, 6, 16, 15, 0),
    );
    assert_eq!(asked.case.status, Status::AwaitingInfo);
    assert_eq!(asked.case.open_question.as_deref(), Some("Cột số mấy?"));
    assert_eq!(asked.case.pauses.len(), 1);
    assert_eq!(asked.case.resolve_due, Some(due()));
    // Paused: no deadline runs, so the sweep has nothing to look at.
    assert_eq!(asked.case.next_action_at, None);
    let answered = act(
        &asked.case,
        "info",
        json!({"text": "Cột 12", "media": ["https://img.example.vn/c.jpg"]}),
        hn(2025, 6, 17, 11, 0),
    );
    let c = &answered.case;
    assert_eq!(c.status, Status::InProgress);
    assert_eq!(c.open_question, None);
    // Paused Mon 15–17 (2) + Tue 08–11 (3) = 5 working hours; due Thu 09:00 + 5h = Thu 15:00.
    assert_eq!(c.pauses[0].to, Some(hn(2025, 6, 17, 11, 0)));
    assert_eq!(c.pauses[0].hours, Some(5.0));
    assert_eq!(c.resolve_due, Some(hn(2025, 6, 19, 15, 0)));
    assert_eq!(answered.event.data["paused_hours"], json!(5.0));
    // A pause that ends the same working day it started: Thu 10:00 → 10:45 moves due by 45 min.
    let again = act(
        c,
        "request_info",
        json!({"question": "Ảnh?"}),
        hn(2025, 6, 19, 10, 0),
    )
    .case;
    let back = act(
        &again,
        "info",
        json!({"text": "Đây"}),
        hn(2025, 6, 19, 10, 45),
    )
    .case;
    assert_eq!(back.resolve_due, Some(hn(2025, 6, 19, 15, 45)));
    assert_eq!(back.pauses.len(), 2);
}

#[test]
fn resolving_on_time_and_late() {
    let accepted = act(
        &assigned_lighting(t0()),
        "accept",
        json!({}),
        hn(2025, 6, 16, 10, 0),
    )
    .case;
    // At the deadline exactly: on time (24 working hours since receipt → bucket "≤ 24h").
    let on = act(
        &accepted,
        "resolve",
        json!({"answer": "Đã thay bóng", "evidence": ["https://img.example.vn/ok.jpg"]}),
        due(),
    );
    assert_eq!(on.case.status, Status::Resolved);
    assert_eq!(on.case.first_resolved_on_time, Some(true));
    assert_eq!(on.case.first_resolved_at, Some(due()));
    assert_eq!(on.case.resolved_at, Some(due()));
    let ans = on.case.answer.as_ref().unwrap();
    assert_eq!((ans.unit.as_str(), ans.evidence.len()), ("ward:00070", 1));
    assert_eq!(on.case.holds[0].working_hours, Some(24.0));
    let scope = "ward:00070";
    assert_eq!(delta(&on, scope, Counter::Resolved), 1);
    assert_eq!(delta(&on, scope, Counter::ResolvedOnTime), 1);
    assert_eq!(delta(&on, scope, Counter::ResolvedLate), 0);
    assert_eq!(delta(&on, scope, Counter::Hist(5)), 1);
    assert_eq!(delta(&on, scope, Counter::Open), -1, "no longer open");
    assert_eq!(delta(&on, "ALL", Counter::Resolved), 0);
    assert!(on.deltas.iter().all(|d| d.day == day(2025, 6, 19)));
    // One second later: late (bucket "≤ 40h").
    let late = act(
        &accepted,
        "resolve",
        json!({"answer": "Đã thay bóng"}),
        hns(2025, 6, 19, 9, 0, 1),
    );
    assert_eq!(late.case.first_resolved_on_time, Some(false));
    assert_eq!(delta(&late, "ward:00070", Counter::ResolvedLate), 1);
    assert_eq!(delta(&late, "ward:00070", Counter::ResolvedOnTime), 0);
    assert_eq!(delta(&late, "ward:00070", Counter::Hist(6)), 1);
    // On time against the extended deadline.
    let ext = act(
        &accepted,
        "extend",
        json!({"working_days": 1, "reason": "Mưa"}),
        hn(2025, 6, 18, 9, 0),
    )
    .case;
    let o = act(
        &ext,
        "resolve",
        json!({"answer": "Xong"}),
        hn(2025, 6, 20, 8, 30),
    );
    assert_eq!(o.case.first_resolved_on_time, Some(true));
}

#[test]
fn rating_closes_the_case() {
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
    let at = hn(2025, 6, 18, 20, 0);
    let o = act(
        &resolved,
        "rate",
        json!({"score": 4, "comment": "Nhanh"}),
        at,
    );
    assert_eq!(o.case.status, Status::Closed);
    assert_eq!(o.case.closed_at, Some(at));
    let r = o.case.rating.as_ref().unwrap();
    assert_eq!((r.score, r.comment.as_deref()), (4, Some("Nhanh")));
    assert_eq!(delta(&o, "ward:00070", Counter::RatingSum), 4);
    assert_eq!(delta(&o, "ward:00070", Counter::RatingCount), 1);
    assert_eq!(delta(&o, "ALL", Counter::RatingCount), 0);
    assert_eq!(
        delta(&o, "ward:00070", Counter::Open),
        0,
        "resolved was not open"
    );
    assert_eq!(o.case.next_action_at, None);
}

#[test]
fn reopening_within_the_dispute_window() {
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
    // Exactly 7 calendar days later: still inside the window.
    let at = hn(2025, 6, 24, 9, 0);
    let o = act(&resolved, "reopen", json!({"reason": "Đèn lại tắt"}), at);
    let c = &o.case;
    assert_eq!(c.status, Status::InProgress);
    assert_eq!(c.unit, Some(unit("ward:00070")));
    assert_eq!(c.reopens, 1);
    assert_eq!(c.resolved_at, None);
    assert_eq!(c.first_resolved_at, Some(hn(2025, 6, 17, 9, 0)));
    assert_eq!(c.first_resolved_on_time, Some(true));
    assert_eq!(c.holds.last().unwrap().from, at);
    assert_eq!(c.holds.last().unwrap().to, None);
    assert_eq!(delta(&o, "ward:00070", Counter::Reopens), 1);
    assert_eq!(events(&o), ["case.status_changed"]);
    // Resolving again is not a second first resolution.
    let again = act(
        c,
        "resolve",
        json!({"answer": "Đã sửa lại"}),
        hn(2025, 6, 25, 9, 0),
    );
    assert_eq!(delta(&again, "ALL", Counter::Resolved), 0);
    assert_eq!(again.case.first_resolved_on_time, Some(true));
    assert_eq!(again.case.resolved_at, Some(hn(2025, 6, 25, 9, 0)));
    // One second after the window: refused.
    let e = try_act(
        &resolved,
        "reopen",
        json!({"reason": "Muộn"}),
        hns(2025, 6, 24, 9, 0, 1),
    )
    .unwrap_err();
    assert_eq!(e.code, "invalid_transition");
}

#[test]
fn reopening_a_rejection_sends_it_to_triage() {
    let rejected = act(
        &assigned_lighting(t0()),
        "reject",
        json!({"reason_code": "not_in_jurisdiction", "answer": "Không thuộc phường"}),
        hn(2025, 6, 16, 10, 0),
    );
    assert_eq!(rejected.case.status, Status::Rejected);
    assert_eq!(
        rejected
            .case
            .answer
            .as_ref()
            .unwrap()
            .reason_code
            .as_deref(),
        Some("not_in_jurisdiction")
    );
    assert_eq!(delta(&rejected, "ward:00070", Counter::Rejected), 1);
    assert_eq!(delta(&rejected, "ALL", Counter::Resolved), 0);
    assert_eq!(rejected.case.holds[0].working_hours, Some(1.0));
    let at = hn(2025, 6, 18, 16, 0);
    let o = act(
        &rejected.case,
        "reopen",
        json!({"reason": "Đúng là của phường"}),
        at,
    );
    assert_eq!(o.case.status, Status::Triage);
    assert_eq!(o.case.unit, Some(unit("city:triage")));
    assert_eq!(o.case.reopens, 1);
    assert_eq!(o.case.rejected_at, None);
    // Triage ack from Wed 16:00: 1h Wednesday, Thu 08:00 + 3h.
    assert_eq!(o.case.ack_due, Some(hn(2025, 6, 19, 11, 0)));
    assert_eq!(events(&o), ["case.assigned", "case.status_changed"]);
    assert_eq!(o.notifications[0].audience, vec![Audience::Triage]);
    assert_eq!(delta(&o, "city:triage", Counter::Reopens), 1);
    // After the window (7 days + 1 s after the rejection): refused.
    let e = try_act(
        &rejected.case,
        "reopen",
        json!({"reason": "x"}),
        hns(2025, 6, 23, 10, 0, 1),
    )
    .unwrap_err();
    assert_eq!(e.code, "invalid_transition");
}

#[test]
fn the_window_closes_resolved_and_rejected_cases() {
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
    assert!(workflow::close_after_window(&resolved, hn(2025, 6, 24, 9, 0), rd()).is_err());
    let o = workflow::close_after_window(&resolved, hns(2025, 6, 24, 9, 0, 1), rd()).unwrap();
    assert_eq!(o.case.status, Status::Closed);
    assert_eq!(events(&o), ["case.status_changed"]);
    let rejected = act(
        &accepted,
        "reject",
        json!({"reason_code": "duplicate", "answer": "Trùng"}),
        hn(2025, 6, 17, 9, 0),
    )
    .case;
    let o = workflow::close_after_window(&rejected, hn(2025, 6, 25, 9, 0), rd()).unwrap();
    assert_eq!(o.case.status, Status::Closed);
    // An open case is never closed by the window.
    assert!(workflow::close_after_window(&accepted, hn(2026, 1, 1, 0, 0), rd()).is_err());
}

#[test]
fn action_bodies_are_validated() {
    let invalid = |name: &str, body: serde_json::Value| {
        let e = parse(name, body).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid, "{name}: {e}");
        (e.code, e.field)
    };
    // Unknown fields are refused.
    assert_eq!(invalid("accept", json!({"force": true})).0, "invalid_body");
    assert_eq!(
        invalid("note", json!({"text": "x", "pin": true})).0,
        "invalid_body"
    );
    assert_eq!(
        invalid("rate", json!({"score": 5, "stars": 5})).0,
        "invalid_body"
    );
    // Missing or wrongly typed fields.
    assert_eq!(
        invalid("transfer", json!({"to_unit": "dept:police"})).0,
        "invalid_body"
    );
    assert_eq!(invalid("rate", json!({"score": "five"})).0, "invalid_body");
    // Reason codes.
    assert_eq!(
        invalid("reject", json!({"reason_code": "lazy", "answer": "x"})),
        ("unknown_reason_code", Some("reason_code".into()))
    );
    for code in workflow::REJECT_REASONS {
        assert!(
            parse("reject", json!({"reason_code": code, "answer": "x"})).is_ok(),
            "{code}"
        );
    }
    // Scores 1–5.
    for s in [0, 6, -3, 100] {
        assert_eq!(
            invalid("rate", json!({"score": s})),
            ("out_of_range", Some("score".into()))
        );
    }
    assert_eq!(
        parse("rate", json!({"score": 1})).unwrap(),
        Action::Rate {
            score: 1,
            comment: None
        }
    );
    assert_eq!(
        parse("rate", json!({"score": 5, "comment": "  "})).unwrap(),
        Action::Rate {
            score: 5,
            comment: None
        }
    );
    // Units must be well formed (the edge) and exist (the domain, which
    // holds the reference data).
    assert_eq!(
        invalid("transfer", json!({"to_unit": "Hoàn Kiếm", "reason": "x"})).0,
        "invalid_unit_code"
    );
    let at = hn(2025, 6, 16, 10, 0);
    let c = assigned_lighting(hn(2025, 6, 16, 9, 0));
    let e = try_act(
        &c,
        "transfer",
        json!({"to_unit": "ward:99999", "reason": "x"}),
        at,
    )
    .unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        ("unknown_unit", Some("to_unit"))
    );
    let triaged = route_to(
        &new_case("lighting", Urgency::Normal, None, hn(2025, 6, 16, 9, 0)),
        "city:triage",
        at,
    )
    .case;
    let e = try_act(&triaged, "route", json!({"to_unit": "dept:nowhere"}), at).unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        ("unknown_unit", Some("to_unit"))
    );
    // Required text, bounded text, URLs.
    assert_eq!(
        invalid("note", json!({"text": "   "})),
        ("required", Some("text".into()))
    );
    assert_eq!(
        invalid("reopen", json!({"reason": "x".repeat(4001)})).0,
        "too_long"
    );
    assert_eq!(
        invalid(
            "resolve",
            json!({"answer": "x", "evidence": ["file:///etc/passwd"]})
        )
        .0,
        "invalid_url"
    );
    // Text is NFC-normalised and trimmed.
    assert_eq!(
        parse(
            "note",
            json!({"text": " Hoa\u{0300}n Kie\u{0302}\u{0301}m "})
        )
        .unwrap(),
        Action::Note {
            text: "Hoàn Kiếm".into(),
            public: false
        }
    );
    // accept takes an empty or absent body; an unknown action is 404.
    assert_eq!(
        parse("accept", serde_json::Value::Null).unwrap(),
        Action::Accept
    );
    assert_eq!(
        parse("escalate", json!({})).unwrap_err().kind,
        ErrorKind::NotFound
    );
}

#[test]
fn system_actors_are_not_people() {
    let p = Principal::system("router");
    assert!(p.sub.starts_with("system:"));
    let o = route_to(
        &new_case("waste", Urgency::Normal, Some("00070"), t0()),
        "ward:00070",
        t0(),
    );
    assert_eq!(o.event.actor, "system:router");
}

#[test]
fn regrade_recomputes_the_deadlines_from_the_receipt() {
    // Lighting, normal: received Mon 16 Jun 09:00, resolve_due Thu 19 Jun 09:00
    // (24 working hours).
    let c = assigned_lighting(hn(2025, 6, 16, 9, 0));
    assert_eq!(c.resolve_due, Some(hn(2025, 6, 19, 9, 0)));
    // Up to urgent at 10:00: 4 calendar hours from receipt (13:00), ack in 1 (10:00).
    let up = act(
        &c,
        "regrade",
        json!({"urgency": "urgent", "reason": "Dây điện hở"}),
        hn(2025, 6, 16, 10, 0),
    );
    assert_eq!(up.case.urgency, Urgency::Urgent);
    assert_eq!(up.case.resolve_due, Some(hn(2025, 6, 16, 13, 0)));
    assert_eq!(up.case.ack_due, Some(hn(2025, 6, 16, 10, 0)));
    assert_eq!(delta(&up, "ward:00070", Counter::Downgrades), 0);
    // Down to complex by the unit: 80 working hours from receipt, Mon 30 Jun
    // 09:00, and counted against the unit.
    let down = act(
        &c,
        "regrade",
        json!({"urgency": "complex", "reason": "Cần Sở Xây dựng phối hợp"}),
        hn(2025, 6, 16, 10, 0),
    );
    assert_eq!(down.case.resolve_due, Some(hn(2025, 6, 30, 9, 0)));
    assert_eq!(delta(&down, "ward:00070", Counter::Downgrades), 1);
    // The same urgency is no change.
    let e = try_act(
        &c,
        "regrade",
        json!({"urgency": "normal", "reason": "x"}),
        hn(2025, 6, 16, 10, 0),
    )
    .unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        ("urgency_unchanged", Some("urgency"))
    );
    // Overdue (Fri 20 Jun): the unit may not lower it; triage may, uncounted.
    let late = hn(2025, 6, 20, 10, 0);
    let e = try_act(
        &c,
        "regrade",
        json!({"urgency": "complex", "reason": "x"}),
        late,
    )
    .unwrap_err();
    assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "overdue_downgrade"));
    let action = parse("regrade", json!({"urgency": "complex", "reason": "x"})).unwrap();
    let o = workflow::apply(&c, &crate::common::triage_officer(), action, late, rd()).unwrap();
    assert_eq!(o.case.urgency, Urgency::Complex);
    assert_eq!(delta(&o, "ward:00070", Counter::Downgrades), 0);
}
