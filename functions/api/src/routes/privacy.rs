//! Personal data (Decree 13/2023/NĐ-CP): what pakn holds about the caller
//! (`GET /v1/me/data`), erasing it (`DELETE /v1/me/data`), and a case's
//! audit trail for inspectors and admins (`GET /v1/cases/{id}/audit`).

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::P;
use axum::Json;
use axum::extract::State;
use pakn_core::privacy::{AuditTrail, ErasureReport, MyData};

/// Everything pakn holds about the caller: the account record and, for a
/// citizen, every case they reported (contact, description, their own
/// timeline entries) whose personal data is not erased yet. Each case
/// exported is recorded in its audit trail.
#[utoipa::path(get, path = "/v1/me/data", tag = "privacy", security(("bearer" = [])),
    params(("X-Pakn-Channel" = Option<String>, Header, description = "app (default) or web; citizens only")),
    responses((status = 200, body = MyData), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn export(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<MyData>, ApiError> {
    Ok(Json(s.pakn.privacy().export(&p).await?))
}

/// Erase the caller's personal data (citizens): closed cases at once; the
/// others keep what staff need until they close, and are erased by the
/// retention sweep then. Officials' actions are official records and stay.
/// Idempotent; each erasure and request is in the case's audit trail.
#[utoipa::path(delete, path = "/v1/me/data", tag = "privacy", security(("bearer" = [])),
    params(("X-Pakn-Channel" = Option<String>, Header, description = "app (default) or web; citizens only")),
    responses((status = 200, body = ErasureReport), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "staff: their records are official records"),
        (status = 422, body = ErrorBody)))]
pub async fn erase(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<ErasureReport>, ApiError> {
    Ok(Json(s.pakn.privacy().erase_mine(&p).await?))
}

/// A case's audit trail, oldest first: every change (who, role, channel,
/// when, statuses), the exports of its personal data, the erasure request
/// and the erasure. Inspectors and admins; `404` if the caller may not read
/// the case, `403` if they may read it but not its audit trail.
#[utoipa::path(get, path = "/v1/cases/{id}/audit", tag = "privacy",
    params(("id" = String, Path, description = "case id (ULID)")),
    security(("bearer" = [])),
    responses((status = 200, body = AuditTrail), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn audit(
    State(s): State<AppState>,
    Caller(p): Caller,
    P(id): P<String>,
) -> Result<Json<AuditTrail>, ApiError> {
    Ok(Json(s.pakn.privacy().audit(&p, &id).await?))
}
