//! A unit's roster of handling officials and its staff headcount (for the
//! registration drive). Read by its officials, inspectors and admins;
//! written by its unit admin and admins.

use crate::AppState;
use crate::auth::Caller;
use crate::commands;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, P};
use axum::Json;
use axum::extract::State;
use pakn_core::Error;
use pakn_core::auth::Roster;
use pakn_core::unit::UnitCode;
use serde::Serialize;

/// A unit code from the path; a malformed one names no unit: `404`.
pub(crate) fn unit(code: &str) -> Result<UnitCode, ApiError> {
    UnitCode::parse(code).map_err(|_| ApiError::from(Error::not_found()))
}

#[utoipa::path(get, path = "/v1/units/{code}/roster", tag = "units",
    params(("code" = String, Path, example = "ward:00070")), security(("bearer" = [])),
    responses((status = 200, body = Roster), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_roster(
    State(s): State<AppState>,
    Caller(p): Caller,
    P(code): P<String>,
) -> Result<Json<Roster>, ApiError> {
    Ok(Json(s.pakn.people().get_roster(&p, &unit(&code)?).await?))
}

/// Replace the roster: `{"officials":[{"sub","name","title"}]}`.
#[utoipa::path(put, path = "/v1/units/{code}/roster", tag = "units",
    params(("code" = String, Path, example = "ward:00070")), request_body = Roster, security(("bearer" = [])),
    responses((status = 200, body = Roster), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_roster(
    State(s): State<AppState>,
    Caller(p): Caller,
    P(code): P<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Roster>, ApiError> {
    let u = unit(&code)?;
    let officials = commands::roster(&body)?;
    Ok(Json(s.pakn.people().put_roster(&p, &u, officials).await?))
}

/// A unit's staff headcount (`null` until its admin reports it).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Headcount {
    pub unit: UnitCode,
    pub staff: Option<u32>,
}

#[utoipa::path(get, path = "/v1/units/{code}/headcount", tag = "units",
    params(("code" = String, Path, example = "ward:00070")), security(("bearer" = [])),
    responses((status = 200, body = Headcount), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_headcount(
    State(s): State<AppState>,
    Caller(p): Caller,
    P(code): P<String>,
) -> Result<Json<Headcount>, ApiError> {
    let u = unit(&code)?;
    let staff = s.pakn.people().get_headcount(&p, &u).await?;
    Ok(Json(Headcount { unit: u, staff }))
}

/// Set the headcount: `{"staff": N}`.
#[utoipa::path(put, path = "/v1/units/{code}/headcount", tag = "units",
    params(("code" = String, Path, example = "ward:00070")), request_body(content = Object, example = json!({"staff": 42})),
    security(("bearer" = [])),
    responses((status = 200, body = Headcount), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_headcount(
    State(s): State<AppState>,
    Caller(p): Caller,
    P(code): P<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Headcount>, ApiError> {
    let u = unit(&code)?;
    let staff = s
        .pakn
        .people()
        .put_headcount(&p, &u, commands::headcount(&body)?)
        .await?;
    Ok(Json(Headcount {
        unit: u,
        staff: Some(staff),
    }))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationParams {
    /// First local day (YYYY-MM-DD), inclusive. Default: 30 days before `to`.
    pub from: Option<String>,
    /// Local day (YYYY-MM-DD), exclusive. Default: tomorrow.
    pub to: Option<String>,
}

/// What was published for the unit and when (the outbox: decided, then
/// published; `published_at` is `null` while pending).
#[utoipa::path(get, path = "/v1/units/{code}/notifications", tag = "units",
    params(("code" = String, Path, example = "ward:00070"), NotificationParams), security(("bearer" = [])),
    responses((status = 200, body = pakn_core::oversight::UnitNotifications), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn notifications(
    State(s): State<AppState>,
    Caller(p): Caller,
    P(code): P<String>,
    crate::extract::Q(q): crate::extract::Q<NotificationParams>,
) -> Result<Json<pakn_core::oversight::UnitNotifications>, ApiError> {
    let u = unit(&code)?;
    let today = s.pakn.refdata.calendar.local_date(s.pakn.now());
    let period = commands::period(None, q.from.as_deref(), q.to.as_deref(), today)?;
    Ok(Json(s.pakn.notifications().for_unit(&p, &u, period).await?))
}
