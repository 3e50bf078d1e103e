//! Who is calling: a [`Principal`] from the request's
//! `Authorization: Bearer <jwt>`, by one of two means.
//!
//! * [`Auth::Hs256`] (local, `pakn serve`): verified here with the shared
//!   secret (see [`crate::token`]).
//! * [`Auth::Cognito`] (AWS): a Cognito ID token of the staff or the
//!   citizen user pool, verified here against that pool's keys (see
//!   [`crate::cognito`]: why pakn checks tokens itself rather than API
//!   Gateway, and how the role follows from the pool and `cognito:groups`).
//!
//! Expiry is checked against the system clock, not the application's
//! injectable clock: a token's lifetime is real time even when `pakn serve`
//! runs its deadlines on a fast or fixed clock. A request without a token
//! is `401 no_token` on a protected route; public routes never ask.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use pakn_core::Error;
use pakn_core::auth::Principal;
use std::sync::Arc;

/// How tokens are checked.
#[derive(Clone)]
pub enum Auth {
    /// Verify HS256 bearer tokens with this secret (local runs, tests).
    Hs256 { secret: Vec<u8> },
    /// Verify Cognito ID tokens of the staff and citizen user pools.
    Cognito(Arc<crate::cognito::Verifier>),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // Never print the secret.
            Auth::Hs256 { .. } => f.write_str("Auth::Hs256"),
            Auth::Cognito(v) => write!(f, "Auth::Cognito({v:?})"),
        }
    }
}

/// The verified caller of a protected route.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

fn missing() -> Error {
    Error::unauthorized("no_token")
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or_else(missing)?;
        let p = match &state.auth {
            Auth::Hs256 { secret } => crate::token::verify(secret, token, chrono::Utc::now())?,
            Auth::Cognito(v) => v.verify(token, chrono::Utc::now()).await?,
        };
        let channel = parts.headers.get(crate::commands::CHANNEL_HEADER);
        let p = crate::commands::with_channel(p, channel.map(|v| v.as_bytes()))?;
        Ok(Caller(p))
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}
