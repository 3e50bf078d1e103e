//! Scorecards: one unit's record for a period, every unit's ranked, and the
//! CSV export Home Affairs uses for year-end evaluation. A unit's officials
//! and admin see their own unit; inspectors and admins see all.

use crate::AppState;
use crate::auth::Caller;
use crate::commands;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{P, Q};
use crate::routes::units::unit;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use pakn_core::reporting::Period;
use pakn_core::scorecard::{Scorecard, to_csv};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodParams {
    /// `YYYY-MM` (a month) or `YYYY` (a year) of local days; wins over `from`/`to`.
    pub period: Option<String>,
    /// First local day (YYYY-MM-DD), inclusive. Default: 30 days before `to`.
    pub from: Option<String>,
    /// Local day (YYYY-MM-DD) the period ends before (exclusive). Default: tomorrow.
    pub to: Option<String>,
}

fn period(s: &AppState, q: &PeriodParams) -> Result<Period, ApiError> {
    let today = s.pakn.refdata.calendar.local_date(s.pakn.now());
    Ok(commands::period(
        q.period.as_deref(),
        q.from.as_deref(),
        q.to.as_deref(),
        today,
    )?)
}

/// One unit's scorecard for `[from, to)`.
#[utoipa::path(get, path = "/v1/units/{code}/scorecard", tag = "scorecards",
    params(("code" = String, Path, example = "ward:00070"), PeriodParams), security(("bearer" = [])),
    responses((status = 200, body = Scorecard), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn unit_scorecard(
    State(s): State<AppState>,
    Caller(p): Caller,
    P(code): P<String>,
    Q(q): Q<PeriodParams>,
) -> Result<Json<Scorecard>, ApiError> {
    let u = unit(&code)?;
    let period = period(&s, &q)?;
    Ok(Json(s.pakn.reporting().scorecard(&p, &u, period).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ScorecardList {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Ranked units first (by on-time rate), then those that resolved too few cases to rank.
    pub items: Vec<Scorecard>,
}

/// Every unit's scorecard, ranked (inspectors, admins); a unit's officials
/// and admin get their own unit's row.
#[utoipa::path(get, path = "/v1/scorecards", tag = "scorecards", params(PeriodParams), security(("bearer" = [])),
    responses((status = 200, body = ScorecardList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    Q(q): Q<PeriodParams>,
) -> Result<Json<ScorecardList>, ApiError> {
    let period = period(&s, &q)?;
    let (from, to) = (period.from(), period.to());
    let items = s.pakn.reporting().scorecards(&p, period).await?;
    Ok(Json(ScorecardList { from, to, items }))
}

/// The same rows as `GET /v1/scorecards`, as CSV: UTF-8 with a BOM (so Excel
/// opens Vietnamese correctly), CRLF line ends, a header row.
#[utoipa::path(get, path = "/v1/scorecards.csv", tag = "scorecards", params(PeriodParams), security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv; charset=utf-8", body = String,
            headers(("Content-Disposition" = String, description = "attachment; filename=\"pakn-scorecards-<from>-<to>.csv\""))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn csv(
    State(s): State<AppState>,
    Caller(p): Caller,
    Q(q): Q<PeriodParams>,
) -> Result<Response, ApiError> {
    let period = period(&s, &q)?;
    let (from, to) = (period.from(), period.to());
    let cards = s.pakn.reporting().scorecards(&p, period).await?;
    let disposition = HeaderValue::from_str(&format!(
        "attachment; filename=\"pakn-scorecards-{from}-{to}.csv\""
    ))
    .map_err(|_| ApiError::internal("a filename of dates is not a header value"))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        to_csv(&cards),
    )
        .into_response())
}
