//! What each GeoReport v2 resource says, as a [`Node`] tree, in the
//! element order of the specification's examples. Dates are W3C with the
//! city's offset (`+07:00`); a request shows pakn's public view only.

use super::doc::Node;
use chrono::{DateTime, Utc};
use pakn_core::calendar::ClockKind;
use pakn_core::category::{Category, Kind, Urgency};
use pakn_core::open311::{PublicRequest, is_ward_service};
use pakn_core::refdata::RefData;

/// The specification this endpoint follows.
pub const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";
/// When this endpoint last changed (the discovery's `changeset`).
pub const CHANGESET: &str = "2026-12-03T00:00:00+07:00";

/// A W3C date-time at the city's offset, e.g. `2026-12-03T09:15:30+07:00`.
pub fn w3c(t: DateTime<Utc>, refdata: &RefData) -> String {
    t.with_timezone(&refdata.calendar.offset())
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn hours(h: f64) -> String {
    if h.fract() == 0.0 {
        format!("{h:.0}")
    } else {
        format!("{h}")
    }
}

/// The deadline a request of this service and urgency gets, in Vietnamese
/// and English.
pub fn service_notice(refdata: &RefData, service_code: &str, urgency: Urgency) -> String {
    let sla = refdata.policy.sla(service_code, urgency).resolve;
    let h = hours(sla.hours);
    match sla.clock {
        ClockKind::Working => format!(
            "Thời hạn giải quyết: {h} giờ làm việc kể từ khi tiếp nhận. To be resolved within {h} working hours of receipt."
        ),
        ClockKind::Calendar => format!(
            "Thời hạn giải quyết: {h} giờ kể từ khi tiếp nhận. To be resolved within {h} hours of receipt."
        ),
    }
}

/// `GET /discovery`: where this endpoint is and what it speaks.
pub fn discovery(url: &str) -> Node {
    Node::Obj(vec![
        ("changeset", Node::str(CHANGESET)),
        (
            "contact",
            Node::str(
                "Đường dây nóng 1022, nhánh 8 (Thành phố Hà Nội). Hanoi city hotline 1022, branch 8.",
            ),
        ),
        (
            "key_service",
            Node::str(
                "Khoá API do thành phố cấp cho từng ứng dụng (pakn apikey create). An API key is issued by the city to each client application (pakn apikey create).",
            ),
        ),
        (
            "endpoints",
            Node::List(
                "endpoint",
                vec![Node::Obj(vec![
                    ("specification", Node::str(SPECIFICATION)),
                    ("url", Node::str(url)),
                    ("changeset", Node::str(CHANGESET)),
                    ("type", Node::str("production")),
                    (
                        "formats",
                        Node::List(
                            "format",
                            vec![Node::str("text/xml"), Node::str("application/json")],
                        ),
                    ),
                ])],
            ),
        ),
    ])
}

fn group(kind: Kind) -> &'static str {
    match kind {
        Kind::Field => "Phản ánh hiện trường",
        Kind::Procedure => "Phản ánh thủ tục hành chính",
    }
}

/// One entry of `GET /services`.
pub fn service(c: &Category, refdata: &RefData) -> Node {
    Node::Obj(vec![
        ("service_code", Node::str(&c.code)),
        ("service_name", Node::str(&c.name_vi)),
        (
            "description",
            Node::str(format!(
                "{} — {}. {}",
                c.name_vi,
                c.name_en,
                service_notice(refdata, &c.code, Urgency::Normal)
            )),
        ),
        ("metadata", Node::Bool(is_ward_service(c))),
        ("type", Node::str("realtime")),
        ("keywords", Node::str(format!("{}, {}", c.code, c.name_en))),
        ("group", Node::str(group(c.kind))),
    ])
}

/// `GET /services/{code}`: its attributes; a ward's service asks which ward
/// (required unless the city's ward boundaries are loaded: the point then
/// finds it).
pub fn service_definition(c: &Category, refdata: &RefData, boundaries: bool) -> Node {
    let mut attributes = Vec::new();
    if is_ward_service(c) {
        let wards = refdata
            .units
            .values()
            .filter_map(|u| {
                let code = u.code.as_str().strip_prefix("ward:")?;
                Some(Node::Obj(vec![
                    ("key", Node::str(code)),
                    ("name", Node::str(&u.name_vi)),
                ]))
            })
            .collect();
        attributes.push(Node::Obj(vec![
            ("variable", Node::Bool(true)),
            ("code", Node::str("ward_code")),
            ("datatype", Node::str("singlevaluelist")),
            ("required", Node::Bool(!boundaries)),
            (
                "datatype_description",
                Node::str(if boundaries {
                    "Mã 5 chữ số của phường, xã; không gửi thì xác định theo toạ độ. \
                     The ward's or commune's 5-digit code; without it, the point finds the ward."
                } else {
                    "Mã 5 chữ số của phường, xã. The ward's or commune's 5-digit code."
                }),
            ),
            ("order", Node::Int(1)),
            (
                "description",
                Node::str("Phường, xã nơi xảy ra sự việc. The ward or commune where it happened."),
            ),
            ("values", Node::List("value", wards)),
        ]));
    }
    Node::Obj(vec![
        ("service_code", Node::str(&c.code)),
        ("attributes", Node::List("attribute", attributes)),
    ])
}

/// The answer to `POST /requests` (the id at once: no token needed).
pub fn receipt(service_request_id: &str, notice: &str) -> Node {
    Node::List(
        "request",
        vec![Node::Obj(vec![
            ("service_request_id", Node::str(service_request_id)),
            ("service_notice", Node::str(notice)),
            ("account_id", Node::Null),
        ])],
    )
}

/// The answer to `GET /tokens/{token}`.
pub fn token(service_request_id: &str, token: &str) -> Node {
    Node::List(
        "request",
        vec![Node::Obj(vec![
            ("service_request_id", Node::str(service_request_id)),
            ("token", Node::str(token)),
        ])],
    )
}

/// One request, as the public may see it; `extensions` adds pakn's own
/// deadline accountability in `extended_attributes`.
pub fn request(r: &PublicRequest, refdata: &RefData, extensions: bool) -> Node {
    let status = if r.status.is_open() { "open" } else { "closed" };
    let mut fields = vec![
        ("service_request_id", Node::str(&r.id)),
        ("status", Node::str(status)),
        ("status_notes", Node::opt(r.status_notes.as_deref())),
        ("service_name", Node::str(&r.service_name)),
        ("service_code", Node::str(&r.service_code)),
        ("description", Node::str(&r.title)),
        ("agency_responsible", Node::opt(r.agency.as_deref())),
        (
            "service_notice",
            Node::str(service_notice(refdata, &r.service_code, r.urgency)),
        ),
        (
            "requested_datetime",
            Node::str(w3c(r.requested_at, refdata)),
        ),
        ("updated_datetime", Node::str(w3c(r.updated_at, refdata))),
        (
            "expected_datetime",
            Node::opt(r.expected_at.map(|t| w3c(t, refdata))),
        ),
        ("lat", Node::Num(r.lat)),
        ("long", Node::Num(r.lng)),
        ("media_url", Node::opt(r.media_url.as_deref())),
    ];
    if extensions {
        fields.push((
            "extended_attributes",
            Node::Obj(vec![
                ("tracking_code", Node::str(&r.tracking_code)),
                ("urgency", Node::str(r.urgency.as_str())),
                ("detailed_status", Node::str(r.status.as_str())),
                (
                    "unit_code",
                    Node::opt(r.unit.as_ref().map(|u| u.to_string())),
                ),
                ("overdue", Node::Bool(r.overdue)),
                ("overdue_working_hours", Node::Num(r.overdue_working_hours)),
                ("transfers", Node::Int(r.transfers.into())),
                (
                    "extension_until",
                    Node::opt(r.extension_until.map(|t| w3c(t, refdata))),
                ),
            ]),
        ));
    }
    Node::Obj(fields)
}
