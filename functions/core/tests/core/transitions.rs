//! Every (status, action) pair against a table written from CONTRACT.md
//! "Statuses": the allowed ones succeed with the right status, version,
//! timeline event and notifications; every other one is `invalid_transition`.

use crate::common::{
    act, actor_for, assigned_lighting, events, hn, new_case, rd, route_to, try_act,
};
use chrono::{DateTime, Utc};
use pakn_core::actions::ACTION_NAMES;
use pakn_core::case::{Case, Status};
use pakn_core::category::Urgency;
use pakn_core::error::ErrorKind;
use pakn_core::notify::Audience;
use pakn_core::{change, routing};
use serde_json::{Value, json};

/// Received Mon 16 Jun 2025 09:00, routed at once.
fn t0() -> DateTime<Utc> {
    hn(2025, 6, 16, 9, 0)
}

/// When the action under test is taken: Tue 17 Jun 10:00 (inside every window).
fn now() -> DateTime<Utc> {
    hn(2025, 6, 17, 10, 0)
}

/// A case in each status, reached through the real status machine.
fn case_in(status: Status) -> Case {
    let assigned = assigned_lighting(t0());
    let in_progress = || act(&assigned, "accept", json!({}), hn(2025, 6, 16, 10, 0)).case;
    let resolved = || {
        act(
            &in_progress(),
            "resolve",
            json!({"answer": "Đã thay bóng đèn"}),
            hn(2025, 6, 16, 11, 0),
        )
        .case
    };
    let c = match status {
        Status::Received => new_case("lighting", Urgency::Normal, Some("00070"), t0()),
        Status::Triage => {
            route_to(
                &new_case("lighting", Urgency::Normal, None, t0()),
                "city:triage",
                t0(),
            )
            .case
        }
        Status::Assigned => assigned,
        Status::InProgress => in_progress(),
        Status::AwaitingInfo => {
            act(
                &in_progress(),
                "request_info",
                json!({"question": "Số nhà?"}),
                hn(2025, 6, 16, 11, 0),
            )
            .case
        }
        Status::Resolved => resolved(),
        Status::Rejected => {
            act(
                &assigned,
                "reject",
                json!({"reason_code": "duplicate", "answer": "Trùng"}),
                hn(2025, 6, 16, 10, 0),
            )
            .case
        }
        Status::Closed => {
            act(
                &resolved(),
                "rate",
                json!({"score": 5}),
                hn(2025, 6, 16, 12, 0),
            )
            .case
        }
    };
    assert_eq!(c.status, status, "fixture");
    c
}

/// A valid body for each action (targets differ from any unit a fixture is at).
fn body(name: &str, case: &Case) -> Value {
    match name {
        "accept" => json!({}),
        "note" => json!({"text": "Đã liên hệ người dân", "public": false}),
        "transfer" if case.status == Status::Triage => {
            json!({"to_unit": "ward:00070", "reason": "Thuộc phường"})
        }
        "transfer" => json!({"to_unit": "dept:construction", "reason": "Thuộc Sở Xây dựng"}),
        "request_info" => json!({"question": "Vị trí chính xác?"}),
        "resolve" => json!({"answer": "Đã sửa", "evidence": ["https://img.example.vn/a.jpg"]}),
        "reject" => json!({"reason_code": "not_city_matter", "answer": "Không thuộc thẩm quyền"}),
        "extend" => json!({"working_days": 2, "reason": "Chờ vật tư"}),
        "route" => json!({"to_unit": "ward:00070"}),
        "info" => json!({"text": "Trước số 10"}),
        "rate" => json!({"score": 4, "comment": "Tốt"}),
        "reopen" => json!({"reason": "Đèn lại hỏng"}),
        "regrade" => json!({"urgency": "urgent", "reason": "Dây điện hở, nguy hiểm"}),
        "duplicate" => json!({"of": "HN-26-7K3QX-9MPTR"}),
        other => panic!("unknown action {other}"),
    }
}

/// CONTRACT.md "Statuses": the status after `action` on a case in `status`, or
/// `None` if the transition is invalid. `note`, `extend` and `regrade` change no status;
/// a note is allowed while a unit holds the case and it is not closed
/// (including after resolve/reject), an extension only while the case is open
/// at a unit. `transfer` out of `triage` is the triage office's "transfer from triage".
fn contract(status: Status, action: &str) -> Option<Status> {
    use Status::*;
    match (status, action) {
        (Triage, "route") | (Triage, "transfer") => Some(Assigned),
        (Assigned, "accept") => Some(InProgress),
        (Assigned | InProgress, "transfer") => Some(Assigned),
        (Assigned | InProgress, "reject") => Some(Rejected),
        (InProgress, "request_info") => Some(AwaitingInfo),
        (AwaitingInfo, "info") => Some(InProgress),
        (InProgress, "resolve") => Some(Resolved),
        (Resolved, "rate") => Some(Closed),
        (Resolved, "reopen") => Some(InProgress),
        (Rejected, "reopen") => Some(Triage),
        (Assigned | InProgress | AwaitingInfo | Resolved | Rejected, "note") => Some(status),
        (Assigned | InProgress | AwaitingInfo, "extend") => Some(status),
        (Triage | Assigned | InProgress | AwaitingInfo, "regrade") => Some(status),
        // Not a rejection: straight to closed, never reopenable.
        (Triage | Assigned | InProgress | AwaitingInfo, "duplicate") => Some(Closed),
        _ => None,
    }
}

/// The notifications each allowed transition sends (CONTRACT.md "Notifications").
fn expected_events(from: Status, action: &str) -> Vec<&'static str> {
    match (from, action) {
        (_, "note" | "extend" | "regrade") => vec![],
        (_, "route") | (Status::Rejected, "reopen") => vec!["case.assigned", "case.status_changed"],
        (_, "transfer") => vec!["case.transferred", "case.status_changed"],
        _ => vec!["case.status_changed"],
    }
}

#[test]
fn every_status_action_pair_follows_the_contract() {
    let mut allowed = 0;
    let mut refused = 0;
    for status in Status::ALL {
        let case = case_in(status);
        for name in ACTION_NAMES {
            let res = try_act(&case, name, body(name, &case), now());
            match contract(status, name) {
                Some(to) => {
                    allowed += 1;
                    let o = res.unwrap_or_else(|e| {
                        panic!("{} + {name} must be allowed: {e}", status.as_str())
                    });
                    assert_eq!(o.case.status, to, "{} + {name}", status.as_str());
                    assert_eq!(
                        o.case.version,
                        case.version + 1,
                        "{} + {name}",
                        status.as_str()
                    );
                    assert_eq!(o.case.updated_at, now());
                    assert_eq!(o.event.action, name);
                    assert_eq!(o.event.version, case.version + 1);
                    assert_eq!(o.event.at, now());
                    assert_eq!(o.event.from_status, Some(status));
                    assert_eq!(o.event.to_status, Some(to));
                    assert_eq!(o.event.actor, actor_for(name, &case).sub);
                    assert_eq!(
                        events(&o),
                        expected_events(status, name),
                        "{} + {name}",
                        status.as_str()
                    );
                    for n in &o.notifications {
                        assert_eq!(n.case_id.as_ref(), Some(&case.id));
                        assert!(n.dedup_id.starts_with(case.id.as_str()), "{}", n.dedup_id);
                        if n.event == "case.status_changed" {
                            // A reopen of a resolved case also tells the unit its answer was disputed.
                            let expected = if (status, name) == (Status::Resolved, "reopen") {
                                vec![Audience::Citizen, Audience::Unit]
                            } else {
                                vec![Audience::Citizen]
                            };
                            assert_eq!(n.audience, expected, "{} + {name}", status.as_str());
                            assert_eq!(n.body["status"], json!(to.as_str()));
                            assert_eq!(n.body["status_label"], json!(to.label_vi()));
                        }
                    }
                }
                None => {
                    refused += 1;
                    let e = res
                        .err()
                        .unwrap_or_else(|| panic!("{} + {name} must be refused", status.as_str()));
                    assert_eq!(
                        e.code,
                        "invalid_transition",
                        "{} + {name}: {e}",
                        status.as_str()
                    );
                    assert_eq!(e.kind, ErrorKind::Conflict);
                }
            }
        }
    }
    assert_eq!(allowed + refused, 8 * 13);
    // Triage 4, assigned 7, in_progress 8, awaiting_info 5, resolved 3, rejected 2.
    assert_eq!(allowed, 29);
}

#[test]
fn only_a_received_case_is_routed_by_the_router() {
    for status in Status::ALL {
        let case = case_in(status);
        let res = routing::route_to(&case, crate::common::unit("ward:00070"), now(), rd());
        if status == Status::Received {
            assert_eq!(res.unwrap().case.status, Status::Assigned);
        } else {
            assert_eq!(
                res.unwrap_err().code,
                "invalid_transition",
                "{}",
                status.as_str()
            );
        }
    }
}

#[test]
fn the_same_decision_gives_the_same_dedup_id() {
    for status in [
        Status::Assigned,
        Status::InProgress,
        Status::Triage,
        Status::Rejected,
    ] {
        let case = case_in(status);
        for name in ACTION_NAMES {
            if contract(status, name).is_none() {
                continue;
            }
            let a = try_act(&case, name, body(name, &case), now()).unwrap();
            let b = try_act(&case, name, body(name, &case), now()).unwrap();
            let ids = |o: &change::Outcome| {
                o.notifications
                    .iter()
                    .map(|n| n.dedup_id.clone())
                    .collect::<Vec<_>>()
            };
            assert_eq!(ids(&a), ids(&b), "{} + {name}", status.as_str());
            // Within one outcome every decision has its own id.
            let mut uniq = ids(&a);
            uniq.sort();
            uniq.dedup();
            assert_eq!(uniq.len(), a.notifications.len());
        }
    }
    // Different decisions (successive versions) never share an id.
    let c = case_in(Status::Assigned);
    let accept = act(&c, "accept", json!({}), now());
    let resolve = act(&accept.case, "resolve", json!({"answer": "Xong"}), now());
    assert_ne!(
        accept.notifications[0].dedup_id,
        resolve.notifications[0].dedup_id
    );
}

#[test]
fn a_duplicate_closes_into_an_open_original_and_counts_apart() {
    use pakn_core::stats::Counter;
    let case = case_in(Status::InProgress);
    let o = try_act(&case, "duplicate", json!({"of": "x"}), now()).unwrap();
    let dup = o.case.duplicate_of.clone().expect("duplicate_of");
    assert_ne!(dup.id, case.id);
    assert_eq!(o.case.closed_at, Some(now()));
    assert_eq!(
        o.case.next_action_at, None,
        "the sweep never looks at it again"
    );
    assert!(o.case.answer.is_none() && o.case.rejected_at.is_none());
    // Its own counter, never `rejected` or `resolved`; the open count drops.
    let counters: Vec<_> = o.deltas.iter().map(|d| (d.counter, d.amount)).collect();
    assert!(counters.contains(&(Counter::Duplicates, 1)), "{counters:?}");
    assert!(counters.contains(&(Counter::Open, -1)), "{counters:?}");
    assert!(
        !counters
            .iter()
            .any(|(c, _)| matches!(c, Counter::Rejected | Counter::Resolved))
    );
    // The holding unit's hold ends.
    assert!(o.case.holds.iter().all(|h| h.to.is_some()));
    // A closed duplicate takes no citizen action: no reopen, no rate.
    for name in ["reopen", "rate", "info"] {
        let e = try_act(&o.case, name, body(name, &o.case), now()).unwrap_err();
        assert_eq!(e.code, "invalid_transition", "{name}");
    }
}

#[test]
fn a_duplicate_needs_another_open_case() {
    let case = case_in(Status::Assigned);
    let actor = crate::common::actor_for("duplicate", &case);
    let action = pakn_core::actions::Action::Duplicate { of: "x".into() };
    // Itself.
    let e = pakn_core::actions::apply_with(&case, &actor, action.clone(), Some(&case), now(), rd())
        .unwrap_err();
    assert_eq!(e.code, "duplicate_of_itself");
    // A closed original.
    let closed = case_in(Status::Closed);
    let e =
        pakn_core::actions::apply_with(&case, &actor, action.clone(), Some(&closed), now(), rd())
            .unwrap_err();
    assert_eq!((e.code, e.kind), ("original_not_open", ErrorKind::Conflict));
    // A resolved original is not open either.
    let resolved = case_in(Status::Resolved);
    let e = pakn_core::actions::apply_with(&case, &actor, action, Some(&resolved), now(), rd())
        .unwrap_err();
    assert_eq!(e.code, "original_not_open");
}
