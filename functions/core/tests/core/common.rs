//! Shared helpers: Hanoi local time, reference data, cases and principals.

use chrono::{DateTime, Duration, TimeZone, Utc};
use pakn_core::Result;
use pakn_core::actions::{self, Action};
use pakn_core::auth::{Principal, Role};
use pakn_core::case::{Case, Channel, Location, Submission};
use pakn_core::category::Urgency;
use pakn_core::change::Outcome;
use pakn_core::ids::CaseId;
use pakn_core::refdata::RefData;
use pakn_core::routing;
use pakn_core::unit::UnitCode;
use serde_json::Value;
use std::sync::OnceLock;

/// The reference data compiled into the binary (real holidays and swaps).
pub fn rd() -> &'static RefData {
    static RD: OnceLock<RefData> = OnceLock::new();
    RD.get_or_init(RefData::embedded)
}

/// A Hanoi wall-clock time (UTC+7, no DST) as the UTC instant the API uses.
pub fn hn(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    hns(y, mo, d, h, mi, 0)
}

pub fn hns(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("valid date")
        - Duration::hours(7)
}

pub fn unit(s: &str) -> UnitCode {
    UnitCode::parse(s).expect("unit code")
}

pub const CITIZEN: &str = "cit-1";

/// A case as intake stores it: status `received`, version 1, submitted by `cit-1`.
pub fn new_case(
    category: &str,
    urgency: Urgency,
    ward: Option<&str>,
    received_at: DateTime<Utc>,
) -> Case {
    let kind = rd()
        .category(category)
        .map(|c| c.kind)
        .expect("known category");
    Case::received(
        CaseId::new(received_at),
        "HN-25-7K3QX".into(),
        Submission {
            kind,
            category: category.into(),
            title: "Đèn đường hỏng".into(),
            description: "Đèn đường trước số 10 không sáng".into(),
            urgency,
            location: Location {
                lat: 21.0285,
                lng: 105.8542,
                address: None,
                ward_code: ward.map(String::from),
            },
            media: vec![],
            channel: Channel::App,
            contact: None,
        },
        CITIZEN.into(),
        Role::Citizen,
        received_at,
    )
}

/// Route a received case to `unit` at `now`.
pub fn route_to(case: &Case, to: &str, now: DateTime<Utc>) -> Outcome {
    routing::route_to(case, unit(to), now, rd()).expect("route")
}

/// A normal `lighting` case in ward 00070 received and routed at `at`.
pub fn assigned_lighting(at: DateTime<Utc>) -> Case {
    route_to(
        &new_case("lighting", Urgency::Normal, Some("00070"), at),
        "ward:00070",
        at,
    )
    .case
}

pub use pakn_testkit::{citizen, official, unit_admin};

pub fn triage_officer() -> Principal {
    pakn_testkit::triage("tri-1")
}

/// The principal that would take `name` on `case` (apply does not authorize).
pub fn actor_for(name: &str, case: &Case) -> Principal {
    match name {
        "info" | "rate" | "reopen" => citizen(CITIZEN),
        "route" => triage_officer(),
        "transfer" | "regrade" | "duplicate"
            if case.unit.as_ref().is_some_and(|u| u.is_triage()) =>
        {
            triage_officer()
        }
        _ => official(
            "off-1",
            case.unit
                .as_ref()
                .map(|u| u.as_str())
                .unwrap_or("ward:00070"),
        ),
    }
}

pub fn parse(name: &str, body: Value) -> Result<Action> {
    pakn_api::commands::action(name, &body)
}

/// Parse and apply an action; the error if either refuses.
/// A `duplicate` is applied against an open case at the same ward (the
/// original the use case would have looked up), received an hour earlier.
pub fn try_act(case: &Case, name: &str, body: Value, now: DateTime<Utc>) -> Result<Outcome> {
    let action = parse(name, body)?;
    let original =
        (name == "duplicate").then(|| assigned_lighting(case.received_at - Duration::hours(1)));
    actions::apply_with(
        case,
        &actor_for(name, case),
        action,
        original.as_ref(),
        now,
        rd(),
    )
}

/// Parse and apply an action that must succeed.
#[track_caller]
pub fn act(case: &Case, name: &str, body: Value, now: DateTime<Utc>) -> Outcome {
    match try_act(case, name, body, now) {
        Ok(o) => o,
        Err(e) => panic!("{name} on a {} case failed: {e}", case.status.as_str()),
    }
}

/// Event names of an outcome's notifications, in order.
pub fn events(o: &Outcome) -> Vec<&str> {
    o.notifications.iter().map(|n| n.event.as_str()).collect()
}
