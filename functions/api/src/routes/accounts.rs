//! The registration drive: callers register their account; anyone reads the
//! counts per unit and city-wide (counts only, no personal data).

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pakn_core::auth::Role;
use pakn_core::oversight::RegistrationReport;
use pakn_core::unit::UnitCode;
use serde::Serialize;

/// The caller's account as registered.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Registered {
    pub sub: String,
    pub role: Role,
    /// The official's unit (null for citizens and city-wide roles).
    pub unit: Option<UnitCode>,
    /// `true` when this call registered the account, `false` when it already was.
    pub new: bool,
}

/// Register the caller's account (any role; idempotent). Officials and unit
/// admins count toward their unit's registration rate, citizens toward the
/// city's citizen accounts. No body.
#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", security(("bearer" = [])),
    responses((status = 201, body = Registered, description = "registered now"),
        (status = 200, body = Registered, description = "already registered"),
        (status = 401, body = ErrorBody)))]
pub async fn register(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<(StatusCode, Json<Registered>), ApiError> {
    let new = s.pakn.people().register_account(&p).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(Registered {
            sub: p.sub,
            role: p.role,
            unit: p.unit,
            new,
        }),
    ))
}

/// Registered accounts against each unit's headcount, city-wide rate and
/// the campaigns' status. Counts only.
#[utoipa::path(get, path = "/v1/registration", tag = "public",
    responses((status = 200, body = RegistrationReport)))]
pub async fn registration(State(s): State<AppState>) -> Result<Json<RegistrationReport>, ApiError> {
    Ok(Json(s.pakn.people().registration().await?))
}
