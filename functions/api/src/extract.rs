//! Extractors whose rejections are [`ApiError`]s, so a bad body, query or
//! path gets the contract's error body in both languages rather than
//! axum's plain-text rejection.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

/// Largest request body accepted (CONTRACT.md: `413` above it).
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON body (required): `415` without a JSON content type, `413` over
/// [`BODY_LIMIT`], `400 malformed_json` when it does not parse. Validation
/// of the fields is the domain's (`422`).
pub struct JsonBody(pub serde_json::Value);

/// A JSON body that may be absent (actions such as `accept`): an empty body
/// without a content type is JSON `null`.
pub struct OptionalJsonBody(pub serde_json::Value);

fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

async fn read_json<S: Send + Sync>(
    req: Request,
    state: &S,
    optional: bool,
) -> Result<serde_json::Value, ApiError> {
    let json = is_json(req.headers());
    let has_type = req.headers().contains_key(CONTENT_TYPE);
    let bytes = Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large(BODY_LIMIT)
        } else {
            ApiError::http(StatusCode::BAD_REQUEST, "unreadable_body")
        }
    })?;
    if optional && bytes.iter().all(u8::is_ascii_whitespace) && (!has_type || json) {
        return Ok(serde_json::Value::Null);
    }
    if !json {
        return Err(ApiError::unsupported_media_type());
    }
    serde_json::from_slice(&bytes).map_err(ApiError::malformed_json)
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_json(req, state, false).await.map(JsonBody)
    }
}

impl<S: Send + Sync> FromRequest<S> for OptionalJsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_json(req, state, true).await.map(OptionalJsonBody)
    }
}

/// Query parameters; a value of the wrong type is `400 malformed_query`.
pub struct Q<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(t)| Q(t))
            .map_err(|e| ApiError::malformed_query(e.body_text()))
    }
}

/// Path parameters; a segment that is not UTF-8 is `400 malformed_path`.
pub struct P<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for P<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(t)| P(t))
            .map_err(|_| ApiError::malformed_path())
    }
}

/// `If-Match: "7"` or `If-Match: 7` → `Some(7)`; absent → `None` (the
/// domain answers `428`); anything else (`*`, a list, a weak tag) → `400`.
pub fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(v) = headers.get(axum::http::header::IF_MATCH) else {
        return Ok(None);
    };
    let parsed = v.to_str().ok().map(str::trim).and_then(|s| {
        let inner = match s.strip_prefix('"') {
            Some(rest) => rest.strip_suffix('"')?,
            None => s,
        };
        if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        inner.parse::<u64>().ok()
    });
    parsed.map(Some).ok_or_else(|| {
        ApiError::http(StatusCode::BAD_REQUEST, "malformed_if_match").with_field("If-Match")
    })
}

/// The `Idempotency-Key` header, if any (checked by the domain).
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => v.to_str().map(Some).map_err(|_| {
            ApiError::http(StatusCode::BAD_REQUEST, "malformed").with_field("Idempotency-Key")
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn h(v: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(
            axum::http::header::IF_MATCH,
            HeaderValue::from_str(v).expect("header"),
        );
        m
    }

    #[test]
    fn if_match_quoted_or_bare() {
        assert_eq!(if_match(&HeaderMap::new()).ok(), Some(None));
        assert_eq!(if_match(&h("\"3\"")).ok(), Some(Some(3)));
        assert_eq!(if_match(&h("3")).ok(), Some(Some(3)));
        for bad in [
            "*",
            "W/\"3\"",
            "\"3",
            "abc",
            "\"\"",
            "-1",
            "1, 2",
            "99999999999999999999999",
        ] {
            assert!(if_match(&h(bad)).is_err(), "{bad}");
        }
    }
}
