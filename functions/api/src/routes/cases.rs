//! Cases: submit, list, read, act. Every answer about one case carries its
//! `ETag: "<version>"`; actions send it back in `If-Match`.

use crate::AppState;
use crate::auth::Caller;
use crate::commands::{self, ListParams, SubmitRequest};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, OptionalJsonBody, P, Q, idempotency_key, if_match};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use pakn_core::Error;
use pakn_core::calendar::WorkingCalendar;
use pakn_core::case::{Case, Status};
use pakn_core::category::{Kind, Urgency};
use pakn_core::intake::Receipt;
use pakn_core::unit::UnitCode;
use pakn_core::views::CaseView;
use serde::Serialize;

/// Set on a `202` that replays an earlier submission with the same key.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

fn etag(version: u64) -> HeaderValue {
    // Digits and quotes are always a valid header value.
    HeaderValue::from_str(&format!("\"{version}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// Submit a report (citizen for themselves, hotline operator for a caller).
/// `202`: stored durably, routing follows. The same `Idempotency-Key` with
/// the same body answers the same receipt; with another body, `409`.
#[utoipa::path(post, path = "/v1/cases", tag = "cases", request_body = SubmitRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "1–255 ASCII characters; kept 24 hours")),
    security(("bearer" = [])),
    responses(
        (status = 202, body = Submitted, headers(("Location" = String))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn submit(
    State(s): State<AppState>,
    Caller(p): Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let idempotency = commands::idempotency(key, &body)?;
    let report = commands::report(&body)?;
    let receipt = s.pakn.intake().submit(&p, report, idempotency).await?;
    let location = HeaderValue::from_str(&format!("/v1/cases/{}", receipt.id))
        .map_err(|_| ApiError::internal("case id is not a header value"))?;
    let notice = receipt.notice.as_ref().and_then(|n| {
        let (message, message_vi) = crate::messages::notice(n)?;
        Some(NoticeBody {
            code: n.code,
            message,
            message_vi,
        })
    });
    let mut res = (
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(Submitted {
            receipt: &receipt,
            notice,
        }),
    )
        .into_response();
    if receipt.replayed {
        res.headers_mut()
            .insert(REPLAYED, HeaderValue::from_static("true"));
    }
    Ok(res)
}

/// The answer to a submission: the receipt and, when the report was taken
/// otherwise than sent (an urgent report beyond the day's cap is taken as
/// normal), a notice with a stable code and both languages.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Submitted<'a> {
    #[serde(flatten)]
    pub receipt: &'a Receipt,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<NoticeBody>,
}

/// A notice on an accepted request (not an error).
#[derive(Serialize, utoipa::ToSchema)]
pub struct NoticeBody {
    /// Stable machine code, e.g. `urgency_capped`.
    pub code: &'static str,
    pub message: String,
    /// Vietnamese (NFC).
    pub message_vi: String,
}

/// A case in a list: enough for a queue screen; the full case is one GET away.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseSummary {
    pub id: String,
    pub tracking_code: String,
    pub kind: Kind,
    pub category: String,
    pub title: String,
    pub urgency: Urgency,
    pub status: Status,
    pub status_label: &'static str,
    pub unit: Option<UnitCode>,
    pub received_at: DateTime<Utc>,
    pub ack_due: Option<DateTime<Utc>>,
    pub resolve_due: Option<DateTime<Utc>>,
    pub overdue: bool,
    /// What the holding unit owes next, and by when: `ack_due` while
    /// `assigned`, `resolve_due` while the clock runs; null when paused or done.
    pub due: Option<DateTime<Utc>>,
    /// Working hours (on the case's clock, holidays and swap days counted)
    /// from now to `due`, negative once it has passed, to a tenth; null
    /// when nothing is due. A console colours its badges from it (e.g.
    /// amber at 8 or less, red below 0) without a holiday calendar.
    #[schema(example = 6.5)]
    pub working_hours_left: Option<f64>,
    pub transfers: u32,
    pub version: u64,
}

impl CaseSummary {
    fn new(c: Case, now: DateTime<Utc>, cal: &WorkingCalendar) -> Self {
        CaseSummary {
            overdue: c.is_overdue(now),
            due: c.queue_due(),
            working_hours_left: c.working_hours_left(now, cal),
            status_label: c.status.label_vi(),
            id: c.id.to_string(),
            tracking_code: c.tracking_code,
            kind: c.kind,
            category: c.category,
            title: c.title,
            urgency: c.urgency,
            status: c.status,
            unit: c.unit,
            received_at: c.received_at,
            ack_due: c.ack_due,
            resolve_due: c.resolve_due,
            transfers: c.transfers,
            version: c.version,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseList {
    pub items: Vec<CaseSummary>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The cases the caller may see: a citizen's own, an operator's entries, a
/// unit's queue, the triage queue, or all (inspectors, admins).
#[utoipa::path(get, path = "/v1/cases", tag = "cases", params(ListParams), security(("bearer" = [])),
    responses((status = 200, body = CaseList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    Q(params): Q<ListParams>,
) -> Result<Json<CaseList>, ApiError> {
    let filter = commands::case_filter(params, &s.pakn.refdata.calendar)?;
    let page = s.pakn.lookup().list(&p, filter).await?;
    let now = s.pakn.now();
    Ok(Json(CaseList {
        items: page
            .cases
            .into_iter()
            .map(|c| CaseSummary::new(c, now, &s.pakn.refdata.calendar))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

fn with_etag(view: CaseView) -> Response {
    let tag = etag(view.version);
    ([(header::ETAG, tag)], Json(view)).into_response()
}

/// The full case with its timeline (`404` if the caller may not read it).
#[utoipa::path(get, path = "/v1/cases/{id}", tag = "cases", params(("id" = String, Path, description = "case id (ULID)")),
    security(("bearer" = [])),
    responses((status = 200, body = CaseView, headers(("ETag" = String))), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(p): Caller,
    P(id): P<String>,
) -> Result<Response, ApiError> {
    Ok(with_etag(s.pakn.lookup().get_case(&p, &id).await?))
}

/// Act on a case: `accept`, `note`, `transfer`, `request_info`, `resolve`,
/// `reject`, `extend` (the unit), `route` (triage), `info`, `rate`,
/// `reopen` (the citizen). Needs `If-Match` with the case's ETag.
#[utoipa::path(post, path = "/v1/cases/{id}/{action}", tag = "cases",
    params(("id" = String, Path, description = "case id (ULID)"),
        ("action" = String, Path, description = "accept, note, transfer, request_info, resolve, reject, extend, route, info, rate, reopen"),
        ("If-Match" = String, Header, description = "the case's ETag, quoted or bare")),
    request_body(content = Object, description = "the action's body (CONTRACT.md \"Bodies worth fixing now\"); none for accept"),
    security(("bearer" = [])),
    responses((status = 200, body = CaseView, headers(("ETag" = String)), description = "the updated case"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 412, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 428, body = ErrorBody)))]
pub async fn act(
    State(s): State<AppState>,
    Caller(p): Caller,
    P((id, action)): P<(String, String)>,
    headers: HeaderMap,
    OptionalJsonBody(body): OptionalJsonBody,
) -> Result<Response, ApiError> {
    if !commands::is_action(&action) {
        return Err(Error::not_found().into());
    }
    let expected = if_match(&headers)?;
    let action = commands::action(&action, &body)?;
    // After a transfer or a route the caller may no longer read the case;
    // the domain still answers with the case as the action left it.
    Ok(with_etag(
        s.pakn.actions().act(&p, &id, action, expected).await?,
    ))
}
