//! Local bearer tokens: compact JWTs signed with HS256 (RFC 7519), for
//! `pakn serve` and the tests. On AWS the API verifies the Cognito user
//! pools' RS256 ID tokens instead (see [`crate::cognito`]).
//!
//! Claims: `sub` (required), `role` (a pakn role name, required), `unit`
//! (required for `official` and `unit_admin`), `iss` ([`ISSUER`]) and `aud`
//! ([`AUDIENCE`]) (required: a token minted for something else with the same
//! key is refused), `iat`, `exp` (required, seconds since the epoch). The header must say `"alg":"HS256"`; anything
//! else (`none`, `RS256`, …) is refused, so a token cannot choose how it is
//! checked.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use pakn_core::Error;
use pakn_core::auth::{Principal, Role};
use pakn_core::unit::UnitCode;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Leeway for clock skew between the minting and the verifying machine.
pub const LEEWAY_SECS: i64 = 60;

/// The issuer of local tokens (`pakn token`, the console's dev sign-in).
pub const ISSUER: &str = "pakn-local";
/// The audience local tokens are for: this API.
pub const AUDIENCE: &str = "pakn-api";

/// Largest token accepted (a pakn token is a few hundred bytes).
const MAX_TOKEN_LEN: usize = 4096;

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    typ: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unit: Option<String>,
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    aud: Option<String>,
    #[serde(default)]
    iat: Option<i64>,
    exp: i64,
}

fn mac(secret: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

/// Sign a token for `sub` with `role` (and `unit`), valid for `ttl` from `now`.
pub fn mint(
    secret: &[u8],
    sub: &str,
    role: Role,
    unit: Option<&UnitCode>,
    ttl: Duration,
    now: DateTime<Utc>,
) -> String {
    let header = Header {
        alg: "HS256".into(),
        typ: Some("JWT".into()),
    };
    let claims = Claims {
        sub: sub.to_string(),
        role: role.as_str().to_string(),
        unit: unit.map(|u| u.to_string()),
        iss: Some(ISSUER.into()),
        aud: Some(AUDIENCE.into()),
        iat: Some(now.timestamp()),
        exp: (now + ttl).timestamp(),
    };
    // Serialising these plain structs cannot fail.
    let h = B64.encode(serde_json::to_vec(&header).unwrap_or_default());
    let c = B64.encode(serde_json::to_vec(&claims).unwrap_or_default());
    let signing_input = format!("{h}.{c}");
    let mut m = mac(secret);
    m.update(signing_input.as_bytes());
    let sig = B64.encode(m.finalize().into_bytes());
    format!("{signing_input}.{sig}")
}

/// `invalid_token`, with why (`algorithm`, `issuer`, `expired`, `no_role`, `unit`)
/// for the message; `None` for a token that is simply not valid.
fn invalid(reason: Option<&'static str>) -> Error {
    let e = Error::new(pakn_core::ErrorKind::Unauthorized, "invalid_token");
    match reason {
        Some(r) => e.with("reason", r),
        None => e,
    }
}

/// Check a token's signature, algorithm and expiry at `now`; the caller it names.
pub fn verify(secret: &[u8], token: &str, now: DateTime<Utc>) -> Result<Principal, Error> {
    let bad = || invalid(None);
    if token.len() > MAX_TOKEN_LEN {
        return Err(bad());
    }
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let header: Header = B64
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(bad)?;
    if header.alg != "HS256" {
        return Err(invalid(Some("algorithm")));
    }
    let sig = B64.decode(s).map_err(|_| bad())?;
    let mut m = mac(secret);
    m.update(h.as_bytes());
    m.update(b".");
    m.update(c.as_bytes());
    // Constant-time comparison.
    m.verify_slice(&sig).map_err(|_| bad())?;
    let claims: Claims = B64
        .decode(c)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(bad)?;
    if claims.iss.as_deref() != Some(ISSUER) || claims.aud.as_deref() != Some(AUDIENCE) {
        return Err(invalid(Some("issuer")));
    }
    if now.timestamp() > claims.exp + LEEWAY_SECS {
        return Err(invalid(Some("expired")));
    }
    principal(&claims.sub, &claims.role, claims.unit.as_deref())
}

/// A principal from verified claims (shared with the API Gateway path).
pub(crate) fn principal(sub: &str, role: &str, unit: Option<&str>) -> Result<Principal, Error> {
    let role = Role::parse(role).ok_or_else(|| invalid(Some("no_role")))?;
    let unit = match unit.map(str::trim).filter(|u| !u.is_empty()) {
        None => None,
        Some(u) => Some(UnitCode::parse(u).map_err(|_| invalid(Some("unit")))?),
    };
    Principal::new(sub, role, unit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pakn_core::ErrorKind;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-07-01T02:00:00Z")
            .map(|t| t.to_utc())
            .expect("time")
    }

    #[test]
    fn minted_tokens_verify() {
        let unit = UnitCode::ward("00070");
        let t = mint(
            b"k",
            "u1",
            Role::Official,
            Some(&unit),
            Duration::hours(1),
            now(),
        );
        let p = verify(b"k", &t, now()).expect("valid");
        assert_eq!(p.sub, "u1");
        assert_eq!(p.role, Role::Official);
        assert_eq!(p.unit, Some(unit));
    }

    #[test]
    fn wrong_key_expired_and_tampered_tokens_fail() {
        let t = mint(b"k", "u1", Role::Citizen, None, Duration::hours(1), now());
        assert_eq!(
            verify(b"other", &t, now()).map_err(|e| e.kind),
            Err(ErrorKind::Unauthorized)
        );
        assert!(verify(b"k", &t, now() + Duration::hours(2)).is_err());
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged = B64.encode(br#"{"sub":"u1","role":"admin","exp":99999999999}"#);
        parts[1] = &forged;
        assert!(verify(b"k", &parts.join("."), now()).is_err());
        assert!(verify(b"k", "a.b", now()).is_err());
        assert!(verify(b"k", "", now()).is_err());
    }

    /// A token signed with the right key but without pakn's issuer and
    /// audience (minted for something else sharing the key) is refused.
    #[test]
    fn tokens_for_another_issuer_or_audience_are_refused() {
        let sign = |claims: &str| {
            let h = B64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
            let c = B64.encode(claims.as_bytes());
            let mut m = mac(b"k");
            m.update(format!("{h}.{c}").as_bytes());
            format!("{h}.{c}.{}", B64.encode(m.finalize().into_bytes()))
        };
        let exp = now().timestamp() + 600;
        for claims in [
            format!(r#"{{"sub":"u1","role":"admin","exp":{exp}}}"#),
            format!(r#"{{"sub":"u1","role":"admin","iss":"other","aud":"pakn-api","exp":{exp}}}"#),
            format!(
                r#"{{"sub":"u1","role":"admin","iss":"pakn-local","aud":"other","exp":{exp}}}"#
            ),
        ] {
            let e = verify(b"k", &sign(&claims), now()).expect_err(&claims);
            assert_eq!(e.param("reason"), Some("issuer"), "{claims}");
        }
        let ok = format!(
            r#"{{"sub":"u1","role":"admin","iss":"pakn-local","aud":"pakn-api","exp":{exp}}}"#
        );
        assert!(verify(b"k", &sign(&ok), now()).is_ok());
    }

    #[test]
    fn other_algorithms_are_refused() {
        let h = B64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let c = B64.encode(br#"{"sub":"u1","role":"admin","exp":99999999999}"#);
        let e = verify(b"k", &format!("{h}.{c}."), now()).expect_err("alg none");
        assert_eq!(
            (e.code, e.param("reason")),
            ("invalid_token", Some("algorithm"))
        );
        assert!(crate::messages::messages(&e).0.contains("HS256"));
    }

    #[test]
    fn officials_need_a_unit() {
        let t = mint(b"k", "u1", Role::Official, None, Duration::hours(1), now());
        assert!(verify(b"k", &t, now()).is_err());
    }
}
