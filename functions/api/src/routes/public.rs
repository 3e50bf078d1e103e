//! Routes anyone may call: health, reference data, statistics, the public
//! view of a case by tracking code.

use crate::AppState;
use crate::commands;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{P, Q};
use axum::Json;
use axum::extract::State;
use pakn_core::Error;
use pakn_core::category::{Kind, Responsible, Urgency, UrgencySla};
use pakn_core::reporting::UnitStatsList;
use pakn_core::stats::Stats;
use pakn_core::unit::{Unit, UnitCode};
use pakn_core::views::PublicCase;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// Liveness: answers without touching the store.
#[utoipa::path(get, path = "/healthz", tag = "public", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// A category (an Open311 service) with the SLA in force for each urgency.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CategoryView {
    pub code: String,
    pub kind: Kind,
    pub name_vi: String,
    pub name_en: String,
    /// `ward` (the ward/commune of the report's place) or a unit code.
    pub responsible: String,
    /// `urgent`, `normal`, `complex` → ack and resolve deadlines.
    pub sla: BTreeMap<String, UrgencySla>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CategoryList {
    /// The SLA policy version these deadlines come from.
    pub policy_version: String,
    pub items: Vec<CategoryView>,
}

/// The categories a report may have, with their deadlines.
#[utoipa::path(get, path = "/v1/categories", tag = "public", responses((status = 200, body = CategoryList)))]
pub async fn categories(State(s): State<AppState>) -> Json<CategoryList> {
    let r = &s.pakn.refdata;
    let items = r
        .categories
        .iter()
        .map(|c| CategoryView {
            code: c.code.clone(),
            kind: c.kind,
            name_vi: c.name_vi.clone(),
            name_en: c.name_en.clone(),
            responsible: match &c.responsible {
                Responsible::WardOfLocation => "ward".into(),
                Responsible::Unit(u) => u.to_string(),
            },
            sla: [Urgency::Urgent, Urgency::Normal, Urgency::Complex]
                .into_iter()
                .map(|u| (u.as_str().to_string(), r.policy.sla(&c.code, u)))
                .collect(),
        })
        .collect();
    Json(CategoryList {
        policy_version: r.policy.version.clone(),
        items,
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitParams {
    /// Only the units directly under this one (e.g. `city:hanoi`).
    pub parent: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UnitList {
    pub items: Vec<Unit>,
}

/// Units of government: wards and communes, departments, the triage office.
#[utoipa::path(get, path = "/v1/units", tag = "public", params(UnitParams),
    responses((status = 200, body = UnitList), (status = 422, body = ErrorBody)))]
pub async fn units(
    State(s): State<AppState>,
    Q(q): Q<UnitParams>,
) -> Result<Json<UnitList>, ApiError> {
    let r = &s.pakn.refdata;
    let parent = match q.parent.as_deref() {
        None => None,
        Some(p) => {
            let code = UnitCode::parse(p).map_err(|e| e.with_field("parent"))?;
            if r.unit(&code).is_none() {
                return Err(unknown_unit("parent", &code).into());
            }
            Some(code)
        }
    };
    let items = r
        .units
        .values()
        .filter(|u| parent.as_ref().is_none_or(|p| u.parent.as_ref() == Some(p)))
        .cloned()
        .collect();
    Ok(Json(UnitList { items }))
}

pub(crate) fn unknown_unit(field: &str, u: &UnitCode) -> Error {
    Error::invalid(field, "unknown_unit").with("unit", u)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// First local day (YYYY-MM-DD), inclusive. Default: 29 days before `to`'s last day.
    pub from: Option<String>,
    /// Local day (YYYY-MM-DD) the period ends before (exclusive). Default: tomorrow,
    /// so the default period is the last 30 days up to today inclusive.
    pub to: Option<String>,
    /// A unit code; city-wide when absent.
    pub unit: Option<String>,
}

/// The public figures: the domain's [`Stats`] and, city-wide, the number
/// of citizen accounts (the registration drive).
#[derive(Serialize, utoipa::ToSchema)]
pub struct PublicStats {
    #[serde(flatten)]
    pub stats: Stats,
    /// Registered citizen accounts; city-wide figures only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citizen_accounts: Option<i64>,
}

/// Honest figures for a period `[from, to)` of local days (CONTRACT.md "Statistics").
#[utoipa::path(get, path = "/v1/stats", tag = "public", params(StatsParams),
    responses((status = 200, body = PublicStats), (status = 422, body = ErrorBody)))]
pub async fn stats(
    State(s): State<AppState>,
    Q(q): Q<StatsParams>,
) -> Result<Json<PublicStats>, ApiError> {
    let today = s.pakn.refdata.calendar.local_date(s.pakn.now());
    let period = commands::period(None, q.from.as_deref(), q.to.as_deref(), today)?;
    let unit = q
        .unit
        .as_deref()
        .map(UnitCode::parse)
        .transpose()
        .map_err(|e| e.with_field("unit"))?;
    let stats = s.pakn.reporting().stats(period, unit.as_ref()).await?;
    let citizen_accounts = s.pakn.reporting().citizen_accounts(unit.as_ref()).await?;
    Ok(Json(PublicStats {
        stats,
        citizen_accounts,
    }))
}

/// A period `[from, to)` of local days.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodOnly {
    /// First local day (YYYY-MM-DD), inclusive. Default: 29 days before `to`'s last day.
    pub from: Option<String>,
    /// Local day (YYYY-MM-DD) the period ends before (exclusive). Default: tomorrow.
    pub to: Option<String>,
}

/// Every unit's public figures for a period in one answer (the league
/// table the city publishes): the same figures as `GET /v1/stats?unit=`,
/// ranked by on-time rate among the units that resolved at least
/// `min_resolved_for_ranking` cases; the others are listed, not ranked.
/// A few reads however many units (the period's aggregates of all units).
#[utoipa::path(get, path = "/v1/stats/units", tag = "public", params(PeriodOnly),
    responses((status = 200, body = UnitStatsList), (status = 422, body = ErrorBody),
        (status = 429, description = "Over the per-address limit", body = ErrorBody, headers(("Retry-After" = u32)))))]
pub async fn unit_stats(
    State(s): State<AppState>,
    Q(q): Q<PeriodOnly>,
) -> Result<Json<UnitStatsList>, ApiError> {
    let today = s.pakn.refdata.calendar.local_date(s.pakn.now());
    let period = commands::period(None, q.from.as_deref(), q.to.as_deref(), today)?;
    Ok(Json(s.pakn.reporting().unit_stats(period).await?))
}

/// The public, redacted view of a case, by its tracking code.
///
/// A code is `HN-<yy>-XXXXX-XXXXC`: nine random characters of the
/// 30-letter alphabet `23456789ABCDEFGHJKMNPQRSTVWXYZ` and a check
/// character (Luhn mod 30). Letter case, spaces and hyphens do not matter.
/// A code whose check character fails is `422 invalid_check_character`
/// before any lookup (and counts against the per-address limit like any
/// lookup); codes issued before the check character (`HN-25-7K3QX`) keep
/// resolving; anything else is `404`.
#[utoipa::path(get, path = "/v1/track/{tracking_code}", tag = "public",
    params(("tracking_code" = String, Path, example = "HN-26-7K3QX-9MPTR",
        description = "A tracking code, either form; case, spaces and hyphens are ignored")),
    responses((status = 200, body = PublicCase),
        (status = 404, description = "No case has this code, or it is not shaped like one", body = ErrorBody),
        (status = 422, description = "The check character fails (`invalid_check_character`): a typing mistake", body = ErrorBody),
        (status = 429, description = "Over the per-address limit", body = ErrorBody, headers(("Retry-After" = u32)))))]
pub async fn track(
    State(s): State<AppState>,
    P(code): P<String>,
) -> Result<Json<PublicCase>, ApiError> {
    Ok(Json(s.pakn.lookup().track(&code).await?))
}
