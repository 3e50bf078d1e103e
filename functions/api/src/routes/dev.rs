//! The console's developer sign-in: a local HS256 token (the one `pakn
//! token` prints) for a chosen role, subject and unit. Open only where
//! [`crate::console::ConsoleSettings::dev_login`] says so — by default
//! `pakn serve` on the embedded backend at a loopback address; never on the
//! Lambda. Closed, it answers `404 dev_login_off`.

use crate::AppState;
use crate::auth::Auth;
use crate::commands::body;
use crate::error::{ApiError, ErrorBody};
use crate::extract::JsonBody;
use axum::Json;
use axum::extract::State;
use pakn_core::Error;
use pakn_core::ErrorKind;
use pakn_core::auth::{Principal, Role};
use pakn_core::unit::UnitCode;
use serde::{Deserialize, Serialize};

/// How long a developer token lives.
pub const TTL_HOURS: i64 = 12;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DevTokenRequest {
    /// A pakn role (`citizen`, `official`, …; not `client_app`).
    pub role: String,
    /// The subject the token names (1–128 characters).
    pub sub: String,
    /// The unit (required for `official` and `unit_admin`).
    #[serde(default)]
    pub unit: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DevToken {
    /// `Authorization: Bearer <token>`.
    pub token: String,
    pub role: Role,
    pub sub: String,
    pub unit: Option<UnitCode>,
    /// RFC 3339.
    pub expires_at: String,
}

/// Developer sign-in (local runs only): a token for any role, subject and
/// unit, signed with the local secret. `404 dev_login_off` where it is off.
#[utoipa::path(post, path = "/v1/dev/token", tag = "public",
    request_body(content = DevTokenRequest, example = json!({"role":"official","sub":"can-bo-1","unit":"ward:00070"})),
    responses((status = 200, body = DevToken),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn token(
    State(s): State<AppState>,
    JsonBody(v): JsonBody,
) -> Result<Json<DevToken>, ApiError> {
    let secret = match (&s.auth, s.console.dev_login) {
        (Auth::Hs256 { secret }, true) => secret,
        _ => return Err(Error::new(ErrorKind::NotFound, "dev_login_off").into()),
    };
    let b: DevTokenRequest = body(&v, "dev_token")?;
    let role = Role::parse(b.role.trim())
        .filter(|r| *r != Role::ClientApp)
        .ok_or_else(|| Error::invalid("role", "unknown_role").with("value", b.role.trim()))?;
    let unit = match b.unit.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        None => None,
        Some(u) => {
            let code = UnitCode::parse(u)?;
            if s.pakn.refdata.unit(&code).is_none() {
                return Err(Error::invalid("unit", "unknown_unit")
                    .with("unit", &code)
                    .into());
            }
            Some(code)
        }
    };
    if role.needs_unit() && unit.is_none() {
        return Err(Error::invalid("unit", "unit_required").into());
    }
    let sub = b.sub.trim().to_string();
    // The same checks a verified token's claims get.
    let p = Principal::new(sub.clone(), role, unit.clone()).map_err(|e| {
        Error::invalid("sub", "invalid_body")
            .with("expected", "dev_token")
            .with("detail", e.code)
    })?;
    let now = chrono::Utc::now();
    let ttl = chrono::Duration::hours(TTL_HOURS);
    let token = crate::token::mint(secret, &p.sub, role, unit.as_ref(), ttl, now);
    Ok(Json(DevToken {
        token,
        role,
        sub,
        unit,
        expires_at: (now + ttl).to_rfc3339(),
    }))
}
