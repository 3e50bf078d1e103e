//! The view matrix (README "What each role sees"), from its own literal
//! table: for each role, whether it may read the case at all, and which
//! fields and timeline entries it sees. The case has been through triage, a
//! transfer between wards, an internal and a public note and an extension,
//! so every staff-only text exists somewhere in it. A second case entered by
//! a hotline operator gives the operator rows.
//!
//! The table is written by hand from the README's prose, not derived from
//! `pakn_core::auth`: if the code and the table disagree, one of them is a
//! bug.

use chrono::{DateTime, Utc};
use pakn_core::auth::Role;
use pakn_core::ids::CaseId;
use pakn_tests::http_app::{Api, Bodies, HOAN_KIEM, at, tok};
use serde_json::{Value, json};

fn t0() -> DateTime<Utc> {
    // Tuesday 1 July 2025, 09:00 in Hanoi.
    at("2025-07-01T02:00:00Z")
}

const CUA_NAM: &str = "ward:00073";
const BA_DINH: &str = "ward:00004";

/// Texts planted in the case; each column of the table looks for one.
const PHONE: &str = "0912345678";
const EMAIL: &str = "nguoi.dan@example.vn";
const DESCRIPTION: &str = "Cột đèn số 7 ngõ Tràng Tiền đổ nghiêng";
const INTERNAL_NOTE: &str = "Nội bộ: chờ đội công trình";
const PUBLIC_NOTE: &str = "Đã cử người kiểm tra hiện trường";
const TRANSFER_REASON: &str = "Lý do chuyển: sai địa bàn";
const EXTENSION_REASON: &str = "Lý do gia hạn: thiếu vật tư";
/// The subject of the official who acted last (accept, notes, extension).
const OFFICIAL: &str = "can-bo-cua-nam";
/// The subject of the reporter.
const REPORTER: &str = "cong-dan-ma-tran";

/// Which case a row reads: the citizen's, or the one an operator entered.
#[derive(Clone, Copy, Debug)]
enum Which {
    Citizen,
    Operator,
}

/// How the row reads it.
#[derive(Clone, Copy, Debug)]
enum How {
    /// `GET /v1/cases/{id}` with this role's token.
    Case(Role, &'static str, Option<&'static str>),
    /// `GET /v1/track/{code}`, no token.
    Public,
}

struct Row {
    who: &'static str,
    how: How,
    case: Which,
    /// 200, or 404 (a case one may not read does not exist for them).
    status: u16,
    /// `GET /v1/cases` (the caller's own list or queue) includes the case.
    listed: bool,
    contact: bool,
    description: bool,
    internal_note: bool,
    public_note: bool,
    transfer_reason: bool,
    extension_reason: bool,
    official_subject: bool,
    reporter_subject: bool,
}

const NONE: Row = Row {
    who: "",
    how: How::Public,
    case: Which::Citizen,
    status: 404,
    listed: false,
    contact: false,
    description: false,
    internal_note: false,
    public_note: false,
    transfer_reason: false,
    extension_reason: false,
    official_subject: false,
    reporter_subject: false,
};

/// Everything: the case's staff.
const STAFF: Row = Row {
    status: 200,
    listed: true,
    contact: true,
    description: true,
    internal_note: true,
    public_note: true,
    transfer_reason: true,
    extension_reason: true,
    official_subject: true,
    reporter_subject: true,
    ..NONE
};

/// The reporter: their own data and public entries, no official's subject,
/// no staff-only reason.
const REPORTER_VIEW: Row = Row {
    status: 200,
    listed: true,
    contact: true,
    description: true,
    public_note: true,
    reporter_subject: true,
    ..NONE
};

#[rustfmt::skip]
const MATRIX: &[Row] = &[
    Row { who: "reporter (citizen)",            how: How::Case(Role::Citizen, REPORTER, None),            ..REPORTER_VIEW },
    Row { who: "another citizen",               how: How::Case(Role::Citizen, "cong-dan-khac", None),     ..NONE },
    Row { who: "operator who entered it",       how: How::Case(Role::Operator, "tong-dai-1", None),       case: Which::Operator, ..REPORTER_VIEW },
    Row { who: "another operator",              how: How::Case(Role::Operator, "tong-dai-2", None),       case: Which::Operator, ..NONE },
    Row { who: "operator, a citizen's case",    how: How::Case(Role::Operator, "tong-dai-1", None),       ..NONE },
    Row { who: "official of the holding unit",  how: How::Case(Role::Official, "can-bo-khac", Some(CUA_NAM)), ..STAFF },
    Row { who: "unit admin of the holding unit", how: How::Case(Role::UnitAdmin, "thu-truong", Some(CUA_NAM)), ..STAFF },
    Row { who: "official of the unit that transferred it", how: How::Case(Role::Official, "can-bo-hk", Some(HOAN_KIEM)), ..NONE },
    Row { who: "official of another unit",      how: How::Case(Role::Official, "can-bo-bd", Some(BA_DINH)), ..NONE },
    Row { who: "unit admin of another unit",    how: How::Case(Role::UnitAdmin, "thu-truong-bd", Some(BA_DINH)), ..NONE },
    Row { who: "triage, after routing it out",  how: How::Case(Role::Triage, "dieu-phoi", Some("city:triage")), ..NONE },
    Row { who: "inspector",                     how: How::Case(Role::Inspector, "thanh-tra", None),       ..STAFF },
    Row { who: "admin",                         how: How::Case(Role::Admin, "quan-tri", None),            ..STAFF },
    Row { who: "public (tracking code)",        how: How::Public, status: 200, public_note: true,         ..NONE },
];

/// A report without `ward_code` in a ward category: it goes to triage.
fn citizen_report() -> Value {
    json!({
        "category": "lighting",
        "title": "Cột đèn đổ",
        "description": DESCRIPTION,
        "location": {"lat": 21.0245, "lng": 105.8530},
        "contact": {"name": "Nguyễn Văn A", "phone": PHONE, "email": EMAIL}
    })
}

async fn route(api: &Api, id: &str) {
    api.pakn
        .routing()
        .route_case(&CaseId::parse(id).expect("ulid"))
        .await
        .expect("routed");
}

async fn act(api: &Api, token: &str, id: &str, action: &str, body: Value) {
    let v = api.version(token, id).await;
    api.act(token, id, action, Some(&v), Some(&body))
        .await
        .expect(200);
}

/// The citizen's case, through triage, Hoàn Kiếm and on to Cửa Nam.
async fn citizen_case(api: &Api) -> (String, String) {
    let reporter = tok(Role::Citizen, REPORTER, None);
    let a = api.submit(&reporter, &citizen_report()).await.expect(202);
    let id = a.body["id"].as_str().expect("id").to_string();
    let code = a.body["tracking_code"]
        .as_str()
        .expect("tracking code")
        .to_string();
    route(api, &id).await;

    // While triage holds it, triage sees it whole.
    let triage = tok(Role::Triage, "dieu-phoi", Some("city:triage"));
    let held = api
        .get(&format!("/v1/cases/{id}"), Some(&triage))
        .await
        .expect(200);
    assert_eq!(held.body["unit"], "city:triage");
    assert!(
        held.text().contains(PHONE),
        "triage holding it sees contact"
    );

    act(api, &triage, &id, "route", json!({"to_unit": HOAN_KIEM})).await;
    let hk = tok(Role::Official, "can-bo-hk", Some(HOAN_KIEM));
    act(
        api,
        &hk,
        &id,
        "transfer",
        json!({"to_unit": CUA_NAM, "reason": TRANSFER_REASON}),
    )
    .await;
    let cn = tok(Role::Official, OFFICIAL, Some(CUA_NAM));
    act(api, &cn, &id, "accept", json!({})).await;
    act(
        api,
        &cn,
        &id,
        "note",
        json!({"text": INTERNAL_NOTE, "public": false}),
    )
    .await;
    act(
        api,
        &cn,
        &id,
        "note",
        json!({"text": PUBLIC_NOTE, "public": true}),
    )
    .await;
    act(
        api,
        &cn,
        &id,
        "extend",
        json!({"working_days": 2, "reason": EXTENSION_REASON}),
    )
    .await;
    (id, code)
}

/// A case a hotline operator entered for a caller, with the same history
/// after routing (it has a ward, so no triage).
async fn operator_case(api: &Api) -> (String, String) {
    let op = tok(Role::Operator, "tong-dai-1", None);
    let mut body = citizen_report();
    body["location"]["ward_code"] = json!("00073");
    let a = api.submit(&op, &body).await.expect(202);
    let id = a.body["id"].as_str().expect("id").to_string();
    let code = a.body["tracking_code"].as_str().expect("code").to_string();
    route(api, &id).await;
    let cn = tok(Role::Official, OFFICIAL, Some(CUA_NAM));
    act(api, &cn, &id, "accept", json!({})).await;
    act(
        api,
        &cn,
        &id,
        "note",
        json!({"text": INTERNAL_NOTE, "public": false}),
    )
    .await;
    act(
        api,
        &cn,
        &id,
        "note",
        json!({"text": PUBLIC_NOTE, "public": true}),
    )
    .await;
    act(
        api,
        &cn,
        &id,
        "extend",
        json!({"working_days": 2, "reason": EXTENSION_REASON}),
    )
    .await;
    (id, code)
}

#[tokio::test]
async fn each_role_sees_what_the_view_matrix_says() {
    let api = Api::new("view-matrix", t0(), Bodies::AllJson);
    let citizen = citizen_case(&api).await;
    let operator = operator_case(&api).await;
    // The operator case has no transfer; its reporter is the operator.
    let mut failures = Vec::new();
    for row in MATRIX {
        let ((id, code), transferred) = match row.case {
            Which::Citizen => (&citizen, true),
            Which::Operator => (&operator, false),
        };
        let (answer, listed) = match row.how {
            How::Case(role, sub, unit) => {
                let t = tok(role, sub, unit);
                let a = api.get(&format!("/v1/cases/{id}"), Some(&t)).await;
                let list = api.get("/v1/cases?limit=100", Some(&t)).await;
                let listed = list.status.as_u16() == 200
                    && list.items().iter().any(|c| c["id"] == id.as_str());
                (a, listed)
            }
            How::Public => (api.get(&format!("/v1/track/{code}"), None).await, false),
        };
        let status = answer.status.as_u16();
        let text = if status == 200 {
            answer.text()
        } else {
            String::new()
        };
        if status == 404 {
            assert_eq!(
                answer.body["error"]["code"],
                "not_found",
                "{}: {}",
                row.who,
                answer.text()
            );
        }
        let has = |s: &str| text.contains(s);
        let reporter = match row.case {
            Which::Citizen => REPORTER,
            Which::Operator => "tong-dai-1",
        };
        let seen = [
            ("status", status == row.status),
            ("listed", listed == row.listed),
            ("contact", (has(PHONE) && has(EMAIL)) == row.contact),
            ("description", has(DESCRIPTION) == row.description),
            ("internal note", has(INTERNAL_NOTE) == row.internal_note),
            ("public note", has(PUBLIC_NOTE) == row.public_note),
            (
                "transfer reason",
                !transferred || has(TRANSFER_REASON) == row.transfer_reason,
            ),
            (
                "extension reason",
                has(EXTENSION_REASON) == row.extension_reason,
            ),
            ("official's subject", has(OFFICIAL) == row.official_subject),
            ("reporter's subject", has(reporter) == row.reporter_subject),
        ];
        for (column, ok) in seen {
            if !ok {
                failures.push(format!("{}: {column} (HTTP {status})", row.who));
            }
        }
        // Whoever sees public entries sees them with the acting unit and
        // role; whoever is not staff never sees an official's subject.
        if row.public_note && !row.official_subject {
            let tl = answer.body["timeline"].as_array().expect("timeline");
            let note = tl
                .iter()
                .find(|e| e["action"] == "note")
                .expect("the public note");
            assert_eq!(note["actor_role"], "official", "{}", row.who);
            assert_eq!(note["unit"], CUA_NAM, "{}", row.who);
            assert!(note.get("actor").is_none(), "{}: {note}", row.who);
        }
    }
    assert!(
        failures.is_empty(),
        "the view matrix disagrees with the API:\n{}",
        failures.join("\n")
    );
}
