//! Inspections for the Department of Home Affairs: inspectors and admins
//! list, read (with the evidence), record findings and close; a unit's
//! admin reads and answers their own unit's. An inspection the caller may
//! not read answers `404`.

use crate::AppState;
use crate::auth::Caller;
use crate::commands;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, OptionalJsonBody, P, Q};
use crate::routes::public::unknown_unit;
use axum::Json;
use axum::extract::State;
use pakn_core::Error;
use pakn_core::inspection::Inspection;
use pakn_core::oversight::InspectionView;
use pakn_core::unit::UnitCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InspectionParams {
    /// `open`, `answered` or `closed`; all when absent.
    pub status: Option<String>,
    /// A unit code (a unit admin may only give their own).
    pub unit: Option<String>,
    /// `overdue`, `empty_roster`, `low_on_time_rate`, `registration_below_target`.
    pub reason: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–100 (default 50).
    pub limit: Option<usize>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InspectionList {
    /// Oldest first. A page may hold fewer than `limit` (filters apply after
    /// the page is read): follow `next_cursor` until it is absent.
    pub items: Vec<Inspection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Inspections, oldest first, a page at a time, filtered by status, unit
/// and reason (inspectors, admins; a unit admin gets their own unit's).
#[utoipa::path(get, path = "/v1/inspections", tag = "inspections", params(InspectionParams),
    security(("bearer" = [])),
    responses((status = 200, body = InspectionList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    Q(q): Q<InspectionParams>,
) -> Result<Json<InspectionList>, ApiError> {
    let unit = match q.unit.as_deref() {
        None => None,
        Some(u) => {
            let code = UnitCode::parse(u).map_err(|e| e.with_field("unit"))?;
            if s.pakn.refdata.unit(&code).is_none() {
                return Err(unknown_unit("unit", &code).into());
            }
            Some(code)
        }
    };
    let limit = commands::page_limit(q.limit)?;
    let page = s
        .pakn
        .inspections()
        .list(
            &p,
            q.status.as_deref(),
            unit.as_ref(),
            q.reason.as_deref(),
            q.cursor,
            limit,
        )
        .await?;
    Ok(Json(InspectionList {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// An inspection with its evidence: the case (timeline, time held by each
/// unit), the reminders and alerts decided for it and when they went out,
/// and the unit's roster now.
#[utoipa::path(get, path = "/v1/inspections/{id}", tag = "inspections",
    params(("id" = String, Path, description = "`case-<case id>` or `unit-<unit>-<reason>-<period>`")),
    security(("bearer" = [])),
    responses((status = 200, body = InspectionView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(p): Caller,
    P(id): P<String>,
) -> Result<Json<InspectionView>, ApiError> {
    Ok(Json(s.pakn.inspections().get(&p, &id).await?))
}

/// Record a finding: `{"kind","officials":[sub],"text"}`; `kind` is
/// `justified_delay`, `unit_at_fault` or `official_at_fault` (which names
/// officials on the unit's roster). Inspectors, admins.
#[utoipa::path(post, path = "/v1/inspections/{id}/findings", tag = "inspections",
    params(("id" = String, Path)),
    request_body(content = Object, example = json!({"kind": "official_at_fault", "officials": ["o1"], "text": "Không xử lý đúng hạn."})),
    security(("bearer" = [])),
    responses((status = 200, body = Inspection, description = "the inspection with the finding"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 412, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_finding(
    State(s): State<AppState>,
    Caller(p): Caller,
    P(id): P<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Inspection>, ApiError> {
    Ok(Json(
        s.pakn
            .inspections()
            .add_finding(&p, &id, commands::finding(&body)?)
            .await?,
    ))
}

/// The unit's explanation: `{"text"}`. The admin of the inspected unit only.
#[utoipa::path(post, path = "/v1/inspections/{id}/answer", tag = "inspections",
    params(("id" = String, Path)),
    request_body(content = Object, example = json!({"text": "Đơn vị đã bổ sung cán bộ xử lý."})),
    security(("bearer" = [])),
    responses((status = 200, body = Inspection, description = "the inspection, now `answered`"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 412, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn answer(
    State(s): State<AppState>,
    Caller(p): Caller,
    P(id): P<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Inspection>, ApiError> {
    Ok(Json(
        s.pakn
            .inspections()
            .answer(&p, &id, commands::answer(&body)?)
            .await?,
    ))
}

/// Close the inspection (at least one finding first, else `409
/// findings_required`). Body `{}` or none. Inspectors, admins.
#[utoipa::path(post, path = "/v1/inspections/{id}/close", tag = "inspections",
    params(("id" = String, Path)),
    request_body(content = Object, description = "`{}` or no body"),
    security(("bearer" = [])),
    responses((status = 200, body = Inspection, description = "the inspection, now `closed`"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 412, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn close(
    State(s): State<AppState>,
    Caller(p): Caller,
    P(id): P<String>,
    OptionalJsonBody(body): OptionalJsonBody,
) -> Result<Json<Inspection>, ApiError> {
    let empty = match &body {
        Value::Null => true,
        Value::Object(o) => o.is_empty(),
        _ => false,
    };
    if !empty {
        return Err(Error::invalid("body", "invalid_body")
            .with("expected", "nothing")
            .into());
    }
    Ok(Json(s.pakn.inspections().close(&p, &id).await?))
}
