//! Test support written once, for the tests of pakn-core, pakn-local,
//! pakn-aws and the end-to-end suite:
//!
//! - principals ([`citizen`], [`official`], [`unit_admin`], [`triage`],
//!   [`inspector`], [`admin`]) and Hanoi local instants ([`hanoi`]);
//! - a well-formed report body ([`report_body`]); a received case and what
//!   intake writes with it ([`sample_case`], [`event`], [`new_case`]);
//! - a temporary directory ([`TempDir`]) and the store tests' "now" ([`t0`]);
//! - [`jwt::TestPool`]: a user pool's key pair, JWKS and signed ID tokens;
//! - [`synthetic::history`]: a city's worth of cases over many days, for
//!   the read benches and the bounded-read tests;
//! - [`JsonCalls`]: drive the use cases with JSON bodies exactly as the API
//!   does (the same `pakn_api::commands` parsers), so a test written against
//!   `pakn.submit(&p, &body, key)` exercises the edge's validation too.

#![allow(async_fn_in_trait)]

pub mod jwt;
pub mod schema;
pub mod streams;
pub mod synthetic;
pub mod wards;

use chrono::{DateTime, TimeZone, Utc};
use pakn_api::commands;
use pakn_core::Pakn;
use pakn_core::auth::{Principal, Role, Roster};
use pakn_core::case::{Case, Channel, Location, Submission, TimelineEvent};
use pakn_core::category::{Kind, Urgency};
use pakn_core::error::Result;
use pakn_core::ids::{self, CaseId};
use pakn_core::inspection::Inspection;
use pakn_core::intake::Receipt;
use pakn_core::ports::NewCase;
use pakn_core::stats::{ALL, Counter, StatDelta};
use pakn_core::unit::UnitCode;
use pakn_core::views::CaseView;
use serde_json::{Value, json};

fn principal(sub: &str, role: Role, unit: Option<&str>) -> Principal {
    let unit = unit.map(|u| UnitCode::parse(u).expect("a well-formed unit code"));
    Principal::new(sub, role, unit).expect("a valid principal")
}

pub fn citizen(sub: &str) -> Principal {
    principal(sub, Role::Citizen, None)
}

pub fn operator(sub: &str) -> Principal {
    principal(sub, Role::Operator, None)
}

pub fn official(sub: &str, unit: &str) -> Principal {
    principal(sub, Role::Official, Some(unit))
}

pub fn unit_admin(sub: &str, unit: &str) -> Principal {
    principal(sub, Role::UnitAdmin, Some(unit))
}

pub fn triage(sub: &str) -> Principal {
    principal(sub, Role::Triage, None)
}

pub fn inspector(sub: &str) -> Principal {
    principal(sub, Role::Inspector, None)
}

pub fn admin(sub: &str) -> Principal {
    principal(sub, Role::Admin, None)
}

/// An instant given in Hanoi local time (UTC+7, no DST).
pub fn hanoi(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(7 * 3600)
        .expect("UTC+7")
        .with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("a valid local instant")
        .with_timezone(&Utc)
}

/// A well-formed field report in `ward` (a 5-digit code) of `category`.
pub fn report_body(category: &str, ward: &str, title: &str) -> Value {
    json!({
        "kind": "field", "category": category, "title": title,
        "description": "Mô tả chi tiết sự việc tại hiện trường.",
        "urgency": "normal",
        "location": {"lat": 21.0285, "lng": 105.8542, "address": "Hàng Khay", "ward_code": ward},
        "contact": {"name": "Nguyễn Văn A", "phone": "0912345678"}
    })
}

/// The use cases driven with JSON bodies through the API's parsers.
pub trait JsonCalls {
    async fn submit(&self, p: &Principal, body: &Value, key: Option<&str>) -> Result<Receipt>;
    async fn act(
        &self,
        p: &Principal,
        id: &str,
        action: &str,
        body: &Value,
        if_match: Option<u64>,
    ) -> Result<CaseView>;
    async fn put_roster(&self, p: &Principal, unit: &UnitCode, body: &Value) -> Result<Roster>;
    async fn put_headcount(&self, p: &Principal, unit: &UnitCode, body: &Value) -> Result<u32>;
    async fn add_finding(&self, p: &Principal, id: &str, body: &Value) -> Result<Inspection>;
    async fn answer_inspection(&self, p: &Principal, id: &str, body: &Value) -> Result<Inspection>;
}

impl JsonCalls for Pakn {
    async fn submit(&self, p: &Principal, body: &Value, key: Option<&str>) -> Result<Receipt> {
        let idempotency = commands::idempotency(key, body)?;
        let report = commands::report(body)?;
        self.intake().submit(p, report, idempotency).await
    }

    async fn act(
        &self,
        p: &Principal,
        id: &str,
        action: &str,
        body: &Value,
        if_match: Option<u64>,
    ) -> Result<CaseView> {
        let action = commands::action(action, body)?;
        self.actions().act(p, id, action, if_match).await
    }

    async fn put_roster(&self, p: &Principal, unit: &UnitCode, body: &Value) -> Result<Roster> {
        let officials = commands::roster(body)?;
        self.people().put_roster(p, unit, officials).await
    }

    async fn put_headcount(&self, p: &Principal, unit: &UnitCode, body: &Value) -> Result<u32> {
        let staff = commands::headcount(body)?;
        self.people().put_headcount(p, unit, staff).await
    }

    async fn add_finding(&self, p: &Principal, id: &str, body: &Value) -> Result<Inspection> {
        let f = commands::finding(body)?;
        self.inspections().add_finding(p, id, f).await
    }

    async fn answer_inspection(&self, p: &Principal, id: &str, body: &Value) -> Result<Inspection> {
        let text = commands::answer(body)?;
        self.inspections().answer(p, id, text).await
    }
}

/// A fresh temporary directory (removed on drop), unique per process and call.
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!(
            "pakn-test-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Monday 28 July 2025, 09:00 in Hanoi: the store tests' fixed "now".
pub fn t0() -> DateTime<Utc> {
    hanoi(2025, 7, 28, 9, 0, 0)
}

/// A freshly received field report (version 1) in ward 00070, as intake builds it.
pub fn sample_case(at: DateTime<Utc>, by: &str) -> Case {
    Case::received(
        CaseId::new(at),
        ids::new_tracking_code(at),
        Submission {
            kind: Kind::Field,
            category: "lighting".into(),
            title: "Đèn đường hỏng".into(),
            description: "Đèn đường trước số 12 không sáng.".into(),
            urgency: Urgency::Normal,
            location: Location {
                lat: 21.0285,
                lng: 105.8542,
                address: Some("12 Hàng Bài".into()),
                ward_code: Some("00070".into()),
            },
            media: vec![],
            channel: Channel::App,
            contact: None,
        },
        by.into(),
        Role::Citizen,
        at,
    )
}

/// The timeline event of the case's current version, by its reporter.
pub fn event(c: &Case, action: &str) -> TimelineEvent {
    TimelineEvent {
        at: c.updated_at,
        version: c.version,
        action: action.into(),
        actor: c.submitted_by.clone(),
        actor_role: c.submitted_role.as_str().into(),
        channel: Some(c.channel),
        from_status: None,
        to_status: Some(c.status),
        unit: c.unit.clone(),
        text: None,
        public: true,
        data: serde_json::Value::Null,
    }
}

/// What intake writes with a case: its event and one `received` count for the city.
pub fn new_case(c: &Case) -> NewCase {
    NewCase {
        case: c.clone(),
        event: event(c, "submitted"),
        deltas: vec![StatDelta {
            day: c.received_at.date_naive(),
            scope: ALL.into(),
            counter: Counter::Received,
            amount: 1,
        }],
        idempotency: None,
    }
}
