//! Cognito ID tokens verified by pakn itself, against the keys of two user
//! pools: the **staff** pool (accounts created by an administrator only,
//! TOTP MFA required) and the **citizen** pool (self sign-up with a
//! verified phone number or e-mail). Both pools' users call the same routes.
//!
//! Why here and not in API Gateway: an HTTP API JWT authorizer trusts one
//! issuer, and pakn must also know *which* pool a token came from — a staff
//! role is only ever taken from the staff pool. A Lambda REQUEST authorizer
//! could do the same at the price of a second function and a second cold
//! start per request path; checking here keeps one function and lets the
//! tests drive the real check (`tests/tests/e2e/cognito.rs`).
//!
//! What is checked, in this order, before anything in the token is believed:
//! - the header says `"alg":"RS256"` and names a `kid` (`none`, `HS256` —
//!   even "signed" with the public key — and every other algorithm are
//!   refused: the token cannot choose how it is checked);
//! - `iss` is exactly one of the two pools' issuers (this picks the pool
//!   and so the only keys that may have signed it);
//! - the signature verifies with that pool's key of that `kid` (RSA PKCS#1
//!   v1.5 with SHA-256, 2048 to 8192 bits);
//! - `token_use` is `id`: pakn takes **ID tokens**, because the official's
//!   unit is the admin-only attribute `custom:unit`, which Cognito puts in
//!   ID tokens only (an access token would need a pre-token-generation
//!   trigger). An ID token's `aud` is the app client id, checked exactly;
//! - `exp` (required), `nbf` and `iat` (when present) against the system
//!   clock with [`crate::token::LEEWAY_SECS`] of leeway;
//! - the role from `cognito:groups` only (set by pool administrators, never
//!   by the user): from the staff pool, the first group naming a staff role
//!   (`operator`, `official`, `unit_admin`, `triage`, `inspector`, `admin`),
//!   none → `401 no_role`; from the citizen pool always `citizen`, and a
//!   token whose groups name a staff role is refused
//!   (`401 staff_role_from_citizen_pool`): a citizen account cannot be made
//!   staff by a group added in the wrong pool.
//!
//! Keys: each pool's JWKS is fetched from `<issuer>/.well-known/jwks.json`
//! at cold start ([`Verifier::prefetch`]) and kept; a token naming an
//! unknown `kid` triggers one refresh, at most once per
//! [`Verifier::min_refresh`] per pool, so a stream of forged `kid`s cannot
//! make pakn hammer Cognito. `PAKN_STAFF_JWKS` / `PAKN_CITIZEN_JWKS` give a
//! pool's keys instead (inline or a file): then nothing is ever fetched.

use crate::token::LEEWAY_SECS;
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use pakn_config::{ConfigError, IssuerSettings, Issuers};
use pakn_core::auth::{Principal, Role};
use pakn_core::{Error, ErrorKind};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// Largest token accepted (a Cognito ID token with a few groups is ~1–2 KiB).
const MAX_TOKEN_LEN: usize = 16 * 1024;
/// Largest JWKS document read (Cognito's has two keys, about 1 KiB).
const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Default for [`Verifier::min_refresh`].
pub const MIN_REFRESH: Duration = Duration::from_secs(60);
/// How long a key fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Which pool a token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    Staff,
    Citizen,
}

/// An RSA public key of a JWKS.
#[derive(Clone)]
struct Key {
    n: Vec<u8>,
    e: Vec<u8>,
}

struct Pool {
    kind: PoolKind,
    issuer: String,
    client_id: String,
    /// Where the keys are fetched from; `None` when they were given.
    url: Option<String>,
    keys: RwLock<HashMap<String, Key>>,
    /// When the keys were last fetched (or tried); one fetch at a time.
    fetched: tokio::sync::Mutex<Option<Instant>>,
}

/// Verifies ID tokens of the staff and citizen pools.
pub struct Verifier {
    pools: [Pool; 2],
    http: Option<reqwest::Client>,
    /// The shortest time between two fetches of one pool's keys.
    pub min_refresh: Duration,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let issuers: Vec<&str> = self.pools.iter().map(|p| p.issuer.as_str()).collect();
        f.debug_struct("Verifier")
            .field("issuers", &issuers)
            .finish_non_exhaustive()
    }
}

/// `invalid_token` with why (for the message).
fn invalid(reason: Option<&'static str>) -> Error {
    let e = Error::new(ErrorKind::Unauthorized, "invalid_token");
    match reason {
        Some(r) => e.with("reason", r),
        None => e,
    }
}

impl Verifier {
    /// The verifier of `issuers`. Keys given in `PAKN_*_JWKS` are read now
    /// (a bad document stops the process with the variable's name); the
    /// others are fetched by [`Verifier::prefetch`] or on first use.
    pub fn new(issuers: &Issuers) -> Result<Verifier, ConfigError> {
        let pool = |s: &IssuerSettings, kind: PoolKind, var: &'static str| {
            let given = match &s.jwks {
                None => None,
                Some(v) => {
                    Some(load_override(v).map_err(|message| ConfigError::Jwks { var, message })?)
                }
            };
            Ok::<_, ConfigError>(Pool {
                kind,
                issuer: s.issuer.clone(),
                client_id: s.client_id.clone(),
                url: given.is_none().then(|| s.jwks_url()),
                keys: RwLock::new(given.unwrap_or_default()),
                fetched: tokio::sync::Mutex::new(None),
            })
        };
        let pools = [
            pool(&issuers.staff, PoolKind::Staff, "PAKN_STAFF_JWKS")?,
            pool(&issuers.citizen, PoolKind::Citizen, "PAKN_CITIZEN_JWKS")?,
        ];
        let http = if pools.iter().any(|p| p.url.is_some()) {
            Some(
                reqwest::Client::builder()
                    .timeout(FETCH_TIMEOUT)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| ConfigError::Jwks {
                        var: "PAKN_STAFF_ISSUER",
                        message: format!("cannot build the HTTPS client for the key fetch: {e}"),
                    })?,
            )
        } else {
            None
        };
        Ok(Verifier {
            pools,
            http,
            min_refresh: MIN_REFRESH,
        })
    }

    /// Fetch every pool's keys that were not given (at cold start). A
    /// failure is logged, not fatal: the keys are fetched again when a
    /// token needs them.
    pub async fn prefetch(&self) {
        for pool in &self.pools {
            if pool.url.is_some() {
                self.refresh(pool, true).await;
            }
        }
    }

    /// How many keys a pool holds now (for logs and tests).
    pub fn key_count(&self, kind: PoolKind) -> usize {
        self.pools
            .iter()
            .find(|p| p.kind == kind)
            .map(|p| p.keys.read().map(|k| k.len()).unwrap_or(0))
            .unwrap_or(0)
    }

    /// Fetch `pool`'s keys unless that was done less than `min_refresh`
    /// ago (`force` ignores the limit). True if a fetch was made.
    async fn refresh(&self, pool: &Pool, force: bool) -> bool {
        let (Some(url), Some(http)) = (&pool.url, &self.http) else {
            return false;
        };
        let mut last = pool.fetched.lock().await;
        if !force && last.is_some_and(|t| t.elapsed() < self.min_refresh) {
            return false;
        }
        *last = Some(Instant::now());
        match fetch(http, url).await {
            Ok(keys) => {
                tracing::info!(issuer = %pool.issuer, keys = keys.len(), "signing keys fetched");
                if let Ok(mut k) = pool.keys.write() {
                    *k = keys;
                }
            }
            Err(e) => tracing::warn!(issuer = %pool.issuer, error = %e, "signing keys not fetched"),
        }
        true
    }

    fn key(pool: &Pool, kid: &str) -> Option<Key> {
        pool.keys.read().ok().and_then(|k| k.get(kid).cloned())
    }

    /// Check `token` at `now`; the caller it names.
    pub async fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Principal, Error> {
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
        #[derive(Deserialize)]
        struct Header {
            alg: String,
            #[serde(default)]
            kid: Option<String>,
        }
        let header: Header = decode_json(h).ok_or_else(bad)?;
        if header.alg != "RS256" {
            return Err(invalid(Some("algorithm")).with("expected", "RS256"));
        }
        let kid = header.kid.ok_or_else(bad)?;
        let claims: Map<String, Value> = decode_json(c).ok_or_else(bad)?;
        // The issuer only picks the keys; nothing else is believed before
        // the signature is checked with them.
        let iss = claims.get("iss").and_then(Value::as_str);
        let pool = self
            .pools
            .iter()
            .find(|p| Some(p.issuer.as_str()) == iss)
            .ok_or_else(|| invalid(Some("issuer")))?;
        let key = match Self::key(pool, &kid) {
            Some(k) => k,
            None => {
                self.refresh(pool, false).await;
                Self::key(pool, &kid).ok_or_else(|| invalid(Some("unknown_key")))?
            }
        };
        let sig = B64.decode(s).map_err(|_| bad())?;
        RsaPublicKeyComponents {
            n: &key.n,
            e: &key.e,
        }
        .verify(
            &RSA_PKCS1_2048_8192_SHA256,
            format!("{h}.{c}").as_bytes(),
            &sig,
        )
        .map_err(|_| bad())?;
        check_claims(pool, &claims, now)
    }
}

/// The claims of a token whose signature is good: use, audience, time, role.
fn check_claims(
    pool: &Pool,
    claims: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Principal, Error> {
    let str_claim = |name: &str| claims.get(name).and_then(Value::as_str);
    let num_claim = |name: &str| claims.get(name).and_then(Value::as_i64);
    if str_claim("token_use") != Some("id") {
        return Err(invalid(Some("token_use")));
    }
    if str_claim("aud") != Some(pool.client_id.as_str()) {
        return Err(invalid(Some("issuer")));
    }
    let now = now.timestamp();
    let exp = num_claim("exp").ok_or_else(|| invalid(None))?;
    if now > exp.saturating_add(LEEWAY_SECS) {
        return Err(invalid(Some("expired")));
    }
    for early in ["nbf", "iat"] {
        if num_claim(early).is_some_and(|t| t > now.saturating_add(LEEWAY_SECS)) {
            return Err(invalid(Some("not_yet_valid")));
        }
    }
    let sub = str_claim("sub").ok_or_else(|| Error::unauthorized("no_subject"))?;
    let groups: Vec<Role> = match claims.get("cognito:groups") {
        Some(Value::Array(gs)) => gs.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(g)) => vec![g.as_str()],
        _ => vec![],
    }
    .into_iter()
    .filter_map(Role::parse)
    .collect();
    match pool.kind {
        PoolKind::Staff => {
            let role = groups
                .into_iter()
                .find(|r| *r != Role::Citizen)
                .ok_or_else(|| Error::new(ErrorKind::Unauthorized, "no_role"))?;
            crate::token::principal(sub, role.as_str(), str_claim("custom:unit"))
        }
        PoolKind::Citizen => {
            if groups.iter().any(|r| *r != Role::Citizen) {
                return Err(Error::new(
                    ErrorKind::Unauthorized,
                    "staff_role_from_citizen_pool",
                ));
            }
            crate::token::principal(sub, Role::Citizen.as_str(), None)
        }
    }
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Option<T> {
    B64.decode(part)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
}

/// `PAKN_*_JWKS`: a JWKS inline (`{...}`) or the path of a file holding one.
fn load_override(v: &str) -> Result<HashMap<String, Key>, String> {
    let text = if v.trim_start().starts_with('{') {
        v.to_string()
    } else {
        let meta = std::fs::metadata(v).map_err(|e| format!("cannot read {v}: {e}"))?;
        if meta.len() > MAX_JWKS_BYTES as u64 {
            return Err(format!("{v} is larger than {MAX_JWKS_BYTES} bytes"));
        }
        std::fs::read_to_string(v).map_err(|e| format!("cannot read {v}: {e}"))?
    };
    parse_jwks(text.as_bytes())
}

async fn fetch(http: &reqwest::Client, url: &str) -> Result<HashMap<String, Key>, String> {
    let res = http.get(url).send().await.map_err(|e| e.to_string())?;
    if !res.status().is_success() {
        return Err(format!("{url} answered {}", res.status()));
    }
    if res
        .content_length()
        .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
    {
        return Err(format!("{url}: the key set is too large"));
    }
    let body = res.bytes().await.map_err(|e| e.to_string())?;
    if body.len() > MAX_JWKS_BYTES {
        return Err(format!("{url}: the key set is too large"));
    }
    parse_jwks(&body)
}

/// The RSA signing keys of a JWKS document, by `kid`. Keys of another
/// type, use or algorithm are skipped; a document with none is an error.
fn parse_jwks(bytes: &[u8]) -> Result<HashMap<String, Key>, String> {
    #[derive(Deserialize)]
    struct Jwks {
        keys: Vec<Jwk>,
    }
    #[derive(Deserialize)]
    struct Jwk {
        kty: String,
        #[serde(default)]
        kid: Option<String>,
        #[serde(default)]
        alg: Option<String>,
        #[serde(default, rename = "use")]
        use_: Option<String>,
        #[serde(default)]
        n: Option<String>,
        #[serde(default)]
        e: Option<String>,
    }
    let doc: Jwks =
        serde_json::from_slice(bytes).map_err(|e| format!("not a JWKS document: {e}"))?;
    let component = |s: &Option<String>| {
        let b = B64.decode(s.as_deref()?.trim_end_matches('=')).ok()?;
        let start = b.iter().position(|x| *x != 0)?;
        Some(b[start..].to_vec())
    };
    let keys: HashMap<String, Key> = doc
        .keys
        .iter()
        .filter(|k| k.kty == "RSA")
        .filter(|k| k.alg.as_deref().is_none_or(|a| a == "RS256"))
        .filter(|k| k.use_.as_deref().is_none_or(|u| u == "sig"))
        .filter_map(|k| {
            Some((
                k.kid.clone()?,
                Key {
                    n: component(&k.n)?,
                    e: component(&k.e)?,
                },
            ))
        })
        .collect();
    if keys.is_empty() {
        return Err("the JWKS document has no RS256 signing key with a kid".into());
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwks_keeps_rsa_signing_keys_with_a_kid_only() {
        let doc = br#"{"keys":[
            {"kty":"RSA","kid":"a","alg":"RS256","use":"sig","n":"AAEC","e":"AQAB"},
            {"kty":"RSA","kid":"enc","use":"enc","n":"AQI","e":"AQAB"},
            {"kty":"RSA","kid":"ps","alg":"PS256","n":"AQI","e":"AQAB"},
            {"kty":"EC","kid":"ec","crv":"P-256","x":"AQ","y":"AQ"},
            {"kty":"RSA","n":"AQI","e":"AQAB"}
        ]}"#;
        let keys = parse_jwks(doc).expect("one key");
        assert_eq!(keys.len(), 1);
        assert_eq!(keys["a"].n, vec![1, 2], "leading zero bytes are dropped");
        assert_eq!(keys["a"].e, vec![1, 0, 1]);
        assert!(parse_jwks(br#"{"keys":[]}"#).is_err());
        assert!(parse_jwks(b"[]").is_err());
        assert!(load_override("/nonexistent/jwks.json").is_err());
    }
}
