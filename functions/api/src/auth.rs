//! Who is calling: a [`Principal`] from the request, by one of two means.
//!
//! * [`Auth::Hs256`] (local, `pakn serve`): `Authorization: Bearer <jwt>`
//!   verified here with the shared secret (see [`crate::token`]). Expiry is
//!   checked against the system clock, not the application's injectable
//!   clock: a token's lifetime is real time even when `pakn serve` runs
//!   its deadlines on a fast or fixed clock.
//! * [`Auth::ApiGateway`] (AWS): API Gateway's JWT authorizer has already
//!   verified the Cognito token before the Lambda runs; the claims arrive in
//!   the request context (`requestContext.authorizer.jwt.claims`). The
//!   mapping is:
//!   - `sub` → the subject;
//!   - `cognito:groups` → the role: the first group whose name is a pakn role
//!     (`citizen`, `operator`, `official`, `unit_admin`, `triage`,
//!     `inspector`, `admin`). Groups are set only by Cognito administrators,
//!     so a user cannot raise their own role. API Gateway flattens the array
//!     claim to a string such as `[official unit_admin]`; both that and a
//!     JSON array are understood.
//!   - `custom:unit` → the unit (`ward:00070`, `dept:construction`). The
//!     attribute must be left out of the app client's *write* attributes
//!     (template.yaml must do so), so only administrators set it.
//!
//! A request without claims (a public route, or a route the authorizer
//! does not cover) is `401` on a protected route.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use lambda_http::request::RequestContext;
use pakn_core::auth::{Principal, Role};
use pakn_core::{Error, ErrorKind};
use std::collections::HashMap;

/// How tokens are checked.
#[derive(Clone)]
pub enum Auth {
    /// Verify HS256 bearer tokens with this secret (local runs, tests).
    Hs256 { secret: Vec<u8> },
    /// Trust the claims API Gateway's JWT authorizer put in the request context.
    ApiGateway,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // Never print the secret.
            Auth::Hs256 { .. } => f.write_str("Auth::Hs256"),
            Auth::ApiGateway => f.write_str("Auth::ApiGateway"),
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
        let p = match &state.auth {
            Auth::Hs256 { secret } => {
                let token = bearer(parts).ok_or_else(missing)?;
                crate::token::verify(secret, token, chrono::Utc::now())?
            }
            Auth::ApiGateway => {
                let claims = match parts.extensions.get::<RequestContext>() {
                    Some(RequestContext::ApiGatewayV2(ctx)) => ctx
                        .authorizer
                        .as_ref()
                        .and_then(|a| a.jwt.as_ref())
                        .map(|j| &j.claims),
                    _ => None,
                };
                principal_from_claims(claims.ok_or_else(missing)?)?
            }
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

/// The principal from API Gateway's (already verified) JWT claims.
pub fn principal_from_claims(claims: &HashMap<String, String>) -> Result<Principal, Error> {
    let sub = claims.get("sub").ok_or_else(missing)?;
    let groups = claims
        .get("cognito:groups")
        .map(|g| parse_groups(g))
        .unwrap_or_default();
    let role = groups
        .iter()
        .find_map(|g| Role::parse(g))
        .ok_or_else(|| Error::new(ErrorKind::Unauthorized, "no_role"))?;
    crate::token::principal(
        sub,
        role.as_str(),
        claims.get("custom:unit").map(String::as_str),
    )
}

/// `[a b]`, `["a","b"]`, `a,b` or `a` → the group names, in order.
fn parse_groups(s: &str) -> Vec<String> {
    if let Ok(v) = serde_json::from_str::<Vec<String>>(s) {
        return v;
    }
    s.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(|g| g.trim_matches('"').to_string())
        .filter(|g| !g.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn role_comes_from_the_first_pakn_group() {
        let p = principal_from_claims(&claims(&[
            ("sub", "abc"),
            ("cognito:groups", "[staff official unit_admin]"),
            ("custom:unit", "ward:00070"),
        ]))
        .expect("principal");
        assert_eq!(p.role, Role::Official);
        assert_eq!(p.unit.map(|u| u.to_string()).as_deref(), Some("ward:00070"));
        let p = principal_from_claims(&claims(&[
            ("sub", "abc"),
            ("cognito:groups", r#"["inspector"]"#),
        ]))
        .expect("p");
        assert_eq!(p.role, Role::Inspector);
    }

    #[test]
    fn no_group_or_no_sub_is_unauthorized() {
        // A "role" claim a user could write is ignored.
        let e = principal_from_claims(&claims(&[("sub", "abc"), ("custom:role", "admin")]))
            .expect_err("no group");
        assert_eq!(e.kind, ErrorKind::Unauthorized);
        assert!(principal_from_claims(&claims(&[("cognito:groups", "[admin]")])).is_err());
    }
}
