//! The API's one error type: a domain [`pakn_core::Error`] turned into a
//! status and the contract's body `{"error":{"code","message","message_vi","field"?}}`,
//! its two messages from the catalogue ([`crate::messages`]).
//!
//! Axum's own rejections (bad JSON, wrong content type, body too large,
//! unknown route, wrong method, a panic) are mapped here too, so every
//! failure a client sees has the same shape and both languages.

use crate::messages::messages;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pakn_core::{Error, ErrorKind};
use serde::Serialize;

/// Seconds a client is told to wait after a `429` whose error does not say.
pub const RETRY_AFTER_SECS: u32 = 30;

/// Any failure of a request: a domain error, or one of HTTP's own (a body
/// too large, a wrong content type, rate limited), with its status.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: Error,
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError {
            status: status_of(e.kind),
            error: e,
        }
    }
}

impl ApiError {
    /// An error only HTTP knows (413, 415, 429, a malformed header, …);
    /// its messages are the catalogue's for `code`.
    pub fn http(status: StatusCode, code: &'static str) -> Self {
        ApiError {
            status,
            error: Error::new(ErrorKind::Malformed, code),
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.error.field = Some(field.into());
        self
    }

    /// A named parameter of the message.
    pub fn with(mut self, name: &'static str, value: impl std::fmt::Display) -> Self {
        self.error = self.error.with(name, value);
        self
    }
}

/// The error body (CONTRACT.md "Errors").
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code, e.g. `invalid_transition`.
    pub code: String,
    /// English message.
    pub message: String,
    /// Vietnamese message (NFC).
    pub message_vi: String,
    /// The request field at fault, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The status for each kind of domain error (the only place that knows).
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Malformed => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::StaleVersion => StatusCode::PRECONDITION_FAILED,
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::VersionRequired => StatusCode::PRECONDITION_REQUIRED,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let ApiError { status, error: e } = self;
        if status.is_server_error() {
            // The whole chain goes to the log (Display walks the sources);
            // the client gets the generic message of the kind.
            tracing::error!(code = e.code, error = %e, "request failed");
        }
        // A 5xx never shows what went wrong, whatever it was built with.
        let e = if status.is_server_error() {
            Error::new(ErrorKind::Internal, "internal")
        } else {
            e
        };
        let (message, message_vi) = messages(&e);
        let secs = e
            .param("retry_after")
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(RETRY_AFTER_SECS);
        let body = ErrorBody {
            error: ErrorDetail {
                code: e.code.to_string(),
                message,
                message_vi,
                field: e.field,
            },
        };
        let mut res = (status, Json(body)).into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

impl ApiError {
    pub fn malformed_json(detail: impl std::fmt::Display) -> Self {
        ApiError::http(StatusCode::BAD_REQUEST, "malformed_json").with("detail", detail)
    }

    pub fn unsupported_media_type() -> Self {
        ApiError::http(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    }

    pub fn payload_too_large(limit: usize) -> Self {
        ApiError::http(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").with("kib", limit / 1024)
    }

    pub fn no_route() -> Self {
        ApiError::http(StatusCode::NOT_FOUND, "no_route")
    }

    pub fn malformed_query(detail: impl std::fmt::Display) -> Self {
        ApiError::http(StatusCode::BAD_REQUEST, "malformed_query").with("detail", detail)
    }

    pub fn malformed_path() -> Self {
        ApiError::http(StatusCode::BAD_REQUEST, "malformed_path")
    }

    /// A failure that is not a client's (a bug, a broken invariant).
    pub fn internal(what: impl Into<String>) -> Self {
        Error::bug(what).into()
    }
}

/// `405` with the error body (axum's `method_not_allowed_fallback`).
pub async fn method_not_allowed() -> Response {
    ApiError::http(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").into_response()
}

/// `404` for any address the router does not know.
pub async fn no_route() -> ApiError {
    ApiError::no_route()
}

/// A panic in a handler: a `500` with the generic body; the panic message
/// goes to the log only.
pub fn panic_response(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into());
    ApiError::internal(format!("handler panicked: {what}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_status() {
        let cases = [
            (ErrorKind::Malformed, 400),
            (ErrorKind::Unauthorized, 401),
            (ErrorKind::Forbidden, 403),
            (ErrorKind::NotFound, 404),
            (ErrorKind::Conflict, 409),
            (ErrorKind::StaleVersion, 412),
            (ErrorKind::Invalid, 422),
            (ErrorKind::VersionRequired, 428),
            (ErrorKind::RateLimited, 429),
            (ErrorKind::Unavailable, 503),
            (ErrorKind::Internal, 500),
        ];
        for (k, s) in cases {
            assert_eq!(status_of(k).as_u16(), s, "{k:?}");
        }
    }

    #[test]
    fn rate_limited_answers_carry_retry_after() {
        let res = ApiError::http(StatusCode::TOO_MANY_REQUESTS, "rate_limited").into_response();
        assert_eq!(res.status(), 429);
        assert_eq!(res.headers()[header::RETRY_AFTER], "30");
        let res = ApiError::from(Error::rate_limited(17)).into_response();
        assert_eq!(res.status(), 429);
        assert_eq!(res.headers()[header::RETRY_AFTER], "17");
    }

    async fn body(res: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .expect("body");
        serde_json::from_slice(&bytes).expect("json")
    }

    #[tokio::test]
    async fn the_body_is_worded_by_the_catalogue() {
        let e = Error::invalid("category", "unknown_category").with("category", "x");
        let res = ApiError::from(e).into_response();
        assert_eq!(res.status(), 422);
        let v = body(res).await;
        assert_eq!(v["error"]["code"], "unknown_category");
        assert_eq!(v["error"]["field"], "category");
        assert_eq!(
            v["error"]["message"],
            "Unknown category 'x'; see GET /v1/categories."
        );
        assert_eq!(
            v["error"]["message_vi"],
            "Lĩnh vực 'x' không tồn tại; xem GET /v1/categories."
        );

        // The domain's "say which version" is HTTP's If-Match.
        let e = Error::new(ErrorKind::VersionRequired, "if_match_required");
        let res = ApiError::from(e).into_response();
        assert_eq!(res.status(), 428);
        assert_eq!(
            body(res).await["error"]["message"],
            "Send the case's ETag in If-Match."
        );

        let v = body(method_not_allowed().await).await;
        assert_eq!(v["error"]["code"], "method_not_allowed");
        assert!(v["error"].get("field").is_none());
        assert_eq!(
            v["error"]["message_vi"],
            "Địa chỉ này không chấp nhận phương thức đó; xem /openapi.json."
        );
    }

    #[tokio::test]
    async fn internal_errors_hide_their_detail() {
        let e = Error::new(ErrorKind::Internal, "oops")
            .with("path", "secret database path /var/x")
            .with_field("f");
        let res = ApiError::from(e).into_response();
        assert_eq!(res.status(), 500);
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .expect("body");
        let v: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(v["error"]["code"], "internal");
        assert!(v["error"].get("field").is_none());
        assert!(!String::from_utf8_lossy(&bytes).contains("secret"));
    }
}
