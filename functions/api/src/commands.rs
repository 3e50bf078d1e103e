//! The edge's half of validation: request bodies and query strings become
//! pakn-core's typed commands here, with their shape checked (types,
//! lengths, formats, NFC). What needs reference data or case state
//! (category, ward, the city's bounding box, transitions) is core's.
//!
//! The domain never sees a client's `serde_json::Value`.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use pakn_core::actions::{ACTION_NAMES, Action, MAX_TEXT, REJECT_REASONS};
use pakn_core::auth::{Official, Principal};
use pakn_core::calendar::WorkingCalendar;
use pakn_core::case::{Channel, Contact, Location, Status};
use pakn_core::category::{Kind, Urgency};
use pakn_core::intake::{
    Idempotency, MAX_ADDRESS, MAX_DESCRIPTION, MAX_MEDIA, MAX_TITLE, Report, sha256_hex,
};
use pakn_core::lookup::{CaseFilter, Page};
use pakn_core::oversight::people::{MAX_HEADCOUNT, MAX_ROSTER};
use pakn_core::oversight::{FINDING_KINDS, FindingInput};
use pakn_core::ports::CaseSort;
use pakn_core::reporting::{MAX_PERIOD_DAYS, Period, YEARS};
use pakn_core::text;
use pakn_core::unit::{UnitCode, normalize_ward_code};
use pakn_core::{Error, Result};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// A body of the shape `expected` names (its wording is in
/// [`crate::messages`]); serde's complaint is the message's `detail`.
pub(crate) fn body<T: DeserializeOwned>(
    v: &serde_json::Value,
    expected: &'static str,
) -> Result<T> {
    serde_json::from_value(v.clone()).map_err(|e| {
        Error::invalid("body", "invalid_body")
            .with("expected", expected)
            .with("detail", e)
    })
}

// ------------------------------------------------------------------ submit

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitLocation {
    pub lat: f64,
    pub lng: f64,
    #[serde(default)]
    pub address: Option<String>,
    /// 5-digit official code (`"00070"`); a number (`70`) is accepted.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "00070")]
    pub ward_code: Option<serde_json::Value>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "field", "category": "lighting", "title": "Đèn đường hỏng",
    "description": "Cột đèn trước số 5 Hàng Khay không sáng từ ba hôm nay.",
    "urgency": "normal",
    "location": {"lat": 21.0285, "lng": 105.8542, "address": "5 Hàng Khay", "ward_code": "00070"},
    "contact": {"name": "Nguyễn Văn A", "phone": "0912345678"}
}))]
pub struct SubmitRequest {
    #[serde(default)]
    pub kind: Option<Kind>,
    pub category: String,
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub urgency: Option<Urgency>,
    pub location: Option<SubmitLocation>,
    #[serde(default)]
    pub media: Vec<String>,
    #[serde(default)]
    pub channel: Option<Channel>,
    #[serde(default)]
    pub contact: Option<Contact>,
}

/// A submission body → a [`Report`].
pub fn report(v: &serde_json::Value) -> Result<Report> {
    let r: SubmitRequest = body(v, "report")?;
    let title = text::required("title", &r.title, MAX_TITLE)?;
    let description = text::required("description", &r.description, MAX_DESCRIPTION)?;
    let loc = r
        .location
        .ok_or_else(|| Error::invalid("location", "location_required"))?;
    let ward_code = match &loc.ward_code {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(
            ward_code(v)
                .ok_or_else(|| Error::invalid("location.ward_code", "invalid_ward_code"))?,
        ),
    };
    let address = text::optional("location.address", loc.address.as_deref(), MAX_ADDRESS)?;
    let media = text::urls("media", &r.media, MAX_MEDIA)?;
    let contact = r.contact.map(contact).transpose()?;
    Ok(Report {
        kind: r.kind,
        category: r.category.trim().to_string(),
        title,
        description,
        urgency: r.urgency,
        location: Location {
            lat: loc.lat,
            lng: loc.lng,
            address,
            ward_code,
        },
        media,
        channel: r.channel,
        contact,
    })
}

/// `"00070"`, `"70"` or `70` → `"00070"`.
pub fn ward_code(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => normalize_ward_code(s),
        serde_json::Value::Number(n) => normalize_ward_code(&n.as_u64()?.to_string()),
        _ => None,
    }
}

pub(crate) fn contact(c: Contact) -> Result<Contact> {
    let name = text::optional("contact.name", c.name.as_deref(), 200)?;
    let phone = match text::optional("contact.phone", c.phone.as_deref(), 32)? {
        None => None,
        Some(p) => {
            let digits = p.chars().filter(|c| c.is_ascii_digit()).count();
            if !(8..=15).contains(&digits)
                || !p
                    .chars()
                    .all(|c| c.is_ascii_digit() || " +-.()".contains(c))
            {
                return Err(Error::invalid("contact.phone", "invalid_phone"));
            }
            Some(p)
        }
    };
    let email = match text::optional("contact.email", c.email.as_deref(), 254)? {
        None => None,
        Some(e) => {
            let ok = e
                .split_once('@')
                .is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !b.starts_with('.'))
                && !e.contains(' ');
            if !ok {
                return Err(Error::invalid("contact.email", "invalid_email"));
            }
            Some(e)
        }
    };
    Ok(Contact { name, phone, email })
}

/// The `Idempotency-Key` (1–255 ASCII) and the SHA-256 of the body's
/// canonical JSON (the same hash pakn has always stored, so keys stored
/// before keep matching).
pub fn idempotency(key: Option<&str>, v: &serde_json::Value) -> Result<Option<Idempotency>> {
    let Some(k) = key else { return Ok(None) };
    if k.is_empty() || k.len() > 255 || !k.is_ascii() {
        return Err(Error::malformed().with_field("Idempotency-Key"));
    }
    Ok(Some(Idempotency {
        key: k.to_string(),
        body_hash: sha256_hex(v.to_string().as_bytes()),
    }))
}

// ---------------------------------------------------------------- channel

/// The request header naming a citizen's channel.
pub const CHANNEL_HEADER: &str = "x-pakn-channel";

/// `X-Pakn-Channel: app|web` → the caller with that channel (citizens
/// only); absent → the caller's channel by role. Anything else, or a staff
/// caller naming a channel, is `422 invalid_channel`.
pub fn with_channel(p: Principal, header: Option<&[u8]>) -> Result<Principal> {
    let Some(raw) = header else {
        return Ok(p);
    };
    let channel = std::str::from_utf8(raw)
        .ok()
        .map(|v| v.trim().to_ascii_lowercase())
        .and_then(|v| Channel::parse(&v))
        .filter(|c| c.is_citizens())
        .ok_or_else(|| Error::invalid("X-Pakn-Channel", "invalid_channel"))?;
    p.with_channel(channel)
}

// ----------------------------------------------------------------- actions

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    text: String,
    #[serde(default)]
    public: bool,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransferBody {
    to_unit: String,
    reason: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionBody {
    question: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveBody {
    answer: String,
    #[serde(default)]
    evidence: Vec<String>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RejectBody {
    reason_code: String,
    answer: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtendBody {
    working_days: i64,
    reason: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteBody {
    to_unit: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InfoBody {
    text: String,
    #[serde(default)]
    media: Vec<String>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateBody {
    score: i64,
    #[serde(default)]
    comment: Option<String>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReopenBody {
    reason: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegradeBody {
    urgency: Urgency,
    reason: String,
}

fn action_body<T: DeserializeOwned>(v: &serde_json::Value) -> Result<T> {
    body(v, "action")
}

fn unit_code(field: &str, s: &str) -> Result<UnitCode> {
    UnitCode::parse(s).map_err(|e| e.with_field(field))
}

/// Is `name` an action at all? (An unknown one is `404`, like an unknown route.)
pub fn is_action(name: &str) -> bool {
    ACTION_NAMES.contains(&name)
}

/// An action's route name and body (`null` for none) → an [`Action`].
pub fn action(name: &str, v: &serde_json::Value) -> Result<Action> {
    let empty = serde_json::json!({});
    let v = if v.is_null() { &empty } else { v };
    Ok(match name {
        "accept" => {
            action_body::<Empty>(v)?;
            Action::Accept
        }
        "note" => {
            let b: NoteBody = action_body(v)?;
            Action::Note {
                text: text::required("text", &b.text, MAX_TEXT)?,
                public: b.public,
            }
        }
        "transfer" => {
            let b: TransferBody = action_body(v)?;
            Action::Transfer {
                to_unit: unit_code("to_unit", &b.to_unit)?,
                reason: text::required("reason", &b.reason, MAX_TEXT)?,
            }
        }
        "request_info" => {
            let b: QuestionBody = action_body(v)?;
            Action::RequestInfo {
                question: text::required("question", &b.question, MAX_TEXT)?,
            }
        }
        "resolve" => {
            let b: ResolveBody = action_body(v)?;
            Action::Resolve {
                answer: text::required("answer", &b.answer, MAX_TEXT)?,
                evidence: text::urls("evidence", &b.evidence, 10)?,
            }
        }
        "reject" => {
            let b: RejectBody = action_body(v)?;
            if !REJECT_REASONS.contains(&b.reason_code.as_str()) {
                return Err(Error::invalid("reason_code", "unknown_reason_code")
                    .with("allowed", REJECT_REASONS.join(", ")));
            }
            Action::Reject {
                reason_code: b.reason_code,
                answer: text::required("answer", &b.answer, MAX_TEXT)?,
            }
        }
        "extend" => {
            let b: ExtendBody = action_body(v)?;
            // The policy's maximum is the domain's to check; here only the type.
            let working_days = u32::try_from(b.working_days).unwrap_or(0);
            Action::Extend {
                working_days,
                reason: text::required("reason", &b.reason, MAX_TEXT)?,
            }
        }
        "route" => {
            let b: RouteBody = action_body(v)?;
            Action::Route {
                to_unit: unit_code("to_unit", &b.to_unit)?,
            }
        }
        "info" => {
            let b: InfoBody = action_body(v)?;
            Action::Info {
                text: text::required("text", &b.text, MAX_TEXT)?,
                media: text::urls("media", &b.media, 10)?,
            }
        }
        "rate" => {
            let b: RateBody = action_body(v)?;
            if !(1..=5).contains(&b.score) {
                return Err(Error::invalid("score", "out_of_range"));
            }
            Action::Rate {
                score: b.score as u8,
                comment: text::optional("comment", b.comment.as_deref(), 1000)?,
            }
        }
        "reopen" => {
            let b: ReopenBody = action_body(v)?;
            Action::Reopen {
                reason: text::required("reason", &b.reason, MAX_TEXT)?,
            }
        }
        "regrade" => {
            let b: RegradeBody = action_body(v)?;
            Action::Regrade {
                urgency: b.urgency,
                reason: text::required("reason", &b.reason, MAX_TEXT)?,
            }
        }
        _ => return Err(Error::not_found()),
    })
}

// --------------------------------------------------------- rosters, staff

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RosterBody {
    officials: Vec<OfficialBody>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OfficialBody {
    sub: String,
    name: String,
    #[serde(default)]
    title: String,
}

/// `{"officials":[{"sub","name","title"}]}` → the officials, each checked, no subject twice.
pub fn roster(v: &serde_json::Value) -> Result<Vec<Official>> {
    let b: RosterBody = serde_json::from_value(v.clone()).map_err(|e| {
        Error::invalid("officials", "invalid_body")
            .with("expected", "roster")
            .with("detail", e)
    })?;
    if b.officials.len() > MAX_ROSTER {
        return Err(Error::invalid("officials", "too_many").with("max", MAX_ROSTER));
    }
    let mut officials: Vec<Official> = Vec::with_capacity(b.officials.len());
    for o in b.officials {
        let sub = text::required("officials.sub", &o.sub, 128)?;
        if officials.iter().any(|x| x.sub == sub) {
            return Err(Error::invalid("officials.sub", "duplicate").with("value", sub));
        }
        officials.push(Official {
            sub,
            name: text::required("officials.name", &o.name, 200)?,
            title: text::optional("officials.title", Some(&o.title), 200)?.unwrap_or_default(),
        });
    }
    Ok(officials)
}

/// `{"staff": N}` with 0 ≤ N ≤ 1,000,000.
pub fn headcount(v: &serde_json::Value) -> Result<u32> {
    v.get("staff")
        .and_then(|v| v.as_u64())
        .filter(|n| *n <= MAX_HEADCOUNT as u64 && v.as_object().is_some_and(|o| o.len() == 1))
        .map(|n| n as u32)
        .ok_or_else(|| Error::invalid("staff", "invalid_body").with("expected", "headcount"))
}

// ------------------------------------------------------------- inspections

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FindingBody {
    kind: String,
    #[serde(default)]
    officials: Vec<String>,
    text: String,
}

/// `{"kind","officials","text"}` → a finding.
pub fn finding(v: &serde_json::Value) -> Result<FindingInput> {
    let b: FindingBody = body(v, "finding")?;
    if !FINDING_KINDS.contains(&b.kind.as_str()) {
        return Err(Error::invalid("kind", "unknown_finding_kind")
            .with("allowed", FINDING_KINDS.join(", ")));
    }
    Ok(FindingInput {
        kind: b.kind,
        officials: b.officials,
        text: text::required("text", &b.text, 4000)?,
    })
}

/// `{"text"}` → the unit's answer.
pub fn answer(v: &serde_json::Value) -> Result<String> {
    let t = v
        .get("text")
        .and_then(|t| t.as_str())
        .filter(|_| v.as_object().is_some_and(|o| o.len() == 1));
    text::required("text", t.unwrap_or(""), 4000)
}

// ---------------------------------------------------------------- listing

/// Filters a caller may give when listing.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    pub mine: Option<bool>,
    pub unit: Option<String>,
    pub status: Option<String>,
    pub category: Option<String>,
    pub overdue: Option<bool>,
    /// Received at or after (RFC 3339 or YYYY-MM-DD, local day).
    pub from: Option<String>,
    /// Received before (RFC 3339 or YYYY-MM-DD, local day).
    pub to: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<usize>,
    /// `received` (newest first, the default) or `due`: a unit's open
    /// queue by what is due next (the acknowledgement while `assigned`,
    /// else the resolution), cases with nothing due last. `due` needs a
    /// unit (given, or the caller's own).
    pub sort: Option<String>,
}

/// The query of `GET /v1/cases` → a [`CaseFilter`].
pub fn case_filter(q: ListParams, cal: &WorkingCalendar) -> Result<CaseFilter> {
    let status = q
        .status
        .as_deref()
        .map(|s| {
            Status::parse(s)
                .ok_or_else(|| Error::invalid("status", "unknown_status").with("status", s))
        })
        .transpose()?;
    let unit = q
        .unit
        .as_deref()
        .map(UnitCode::parse)
        .transpose()
        .map_err(|e| e.with_field("unit"))?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::invalid("limit", "out_of_range").with("max", MAX_PAGE.to_string()));
    }
    let from = q
        .from
        .as_deref()
        .map(|s| instant("from", s, cal))
        .transpose()?;
    let to = q.to.as_deref().map(|s| instant("to", s, cal)).transpose()?;
    if let (Some(f), Some(t)) = (from, to) {
        if t <= f || (t - f).num_days() > MAX_PERIOD_DAYS {
            return Err(Error::invalid("to", "invalid_period"));
        }
    }
    let sort = match q.sort.as_deref() {
        None | Some("received") => CaseSort::Received,
        Some("due") => CaseSort::Due,
        Some(_) => return Err(Error::invalid("sort", "unknown_sort")),
    };
    Ok(CaseFilter {
        sort,
        mine: q.mine == Some(true),
        unit,
        status,
        category: q.category,
        overdue: q.overdue == Some(true),
        from,
        to,
        page: Page {
            cursor: q.cursor,
            limit: q.limit.unwrap_or(50).clamp(1, 200),
        },
    })
}

/// The largest page of a listing.
pub const MAX_PAGE: usize = 100;

/// A listing's `limit`: 1 to [`MAX_PAGE`], 50 when absent.
pub fn page_limit(limit: Option<usize>) -> Result<usize> {
    let limit = limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::invalid("limit", "out_of_range").with("max", MAX_PAGE.to_string()));
    }
    Ok(limit)
}

/// RFC 3339, or a local day (its local midnight); between 2000 and 2100.
fn instant(field: &str, s: &str, cal: &WorkingCalendar) -> Result<DateTime<Utc>> {
    let bad = || Error::invalid(field, "invalid_date").with("expected", "date_or_rfc3339");
    let t = match DateTime::parse_from_rfc3339(s) {
        Ok(t) => t.with_timezone(&Utc),
        Err(_) => cal.local_midnight(NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())?),
    };
    if YEARS.contains(&t.year()) {
        Ok(t)
    } else {
        Err(bad())
    }
}

// ----------------------------------------------------------------- periods

/// The one period parser: `period=YYYY-MM|YYYY` (where offered), or
/// `from`/`to` local days (`to` exclusive); by default the last 30 days up
/// to today inclusive. A date that does not parse is `invalid_date`; a
/// period that is not one is `invalid_period`.
pub fn period(
    period: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
) -> Result<Period> {
    let bad = |f: &str| Error::invalid(f, "invalid_period").with("expected", "period");
    if let Some(p) = period.map(str::trim) {
        let (start, end) = match p.split_once('-') {
            Some((y, m)) => {
                let (y, m) = (
                    y.parse::<i32>().map_err(|_| bad("period"))?,
                    m.parse::<u32>().map_err(|_| bad("period"))?,
                );
                let start = NaiveDate::from_ymd_opt(y, m, 1);
                let end = if m == 12 {
                    NaiveDate::from_ymd_opt(y.saturating_add(1), 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(y, m + 1, 1)
                };
                (start, end)
            }
            None => {
                let y = p.parse::<i32>().map_err(|_| bad("period"))?;
                (
                    NaiveDate::from_ymd_opt(y, 1, 1),
                    NaiveDate::from_ymd_opt(y.saturating_add(1), 1, 1),
                )
            }
        };
        return match (start, end) {
            (Some(s), Some(e)) => Period::new(s, e).map_err(|_| bad("period")),
            _ => Err(bad("period")),
        };
    }
    let date = |field: &str, s: &str| {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .ok()
            .filter(|d| YEARS.contains(&d.year()))
            .ok_or_else(|| Error::invalid(field, "invalid_date").with("expected", "date"))
    };
    let to = match to {
        Some(s) => date("to", s)?,
        None => today + Duration::days(1),
    };
    let from = match from {
        Some(s) => date("from", s)?,
        None => to
            .checked_sub_signed(Duration::days(30))
            .ok_or_else(|| bad("to"))?,
    };
    Period::new(from, to)
}
