//! The API's one error type: a domain [`pakn_core::Error`] turned into a
//! status and the contract's body `{"error":{"code","message","message_vi","field"?}}`.
//!
//! Axum's own rejections (bad JSON, wrong content type, body too large,
//! unknown route, wrong method, a panic) are mapped here too, so every
//! failure a client sees has the same shape and both languages.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pakn_core::{Error, ErrorKind};
use serde::Serialize;

/// Seconds a client is told to wait after a `429`.
pub const RETRY_AFTER_SECS: u32 = 30;

/// Any failure of a request: a domain error, or one of HTTP's own (a body
/// too large, a wrong content type, rate limited), with its status.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: Error,
}

impl From<Error> for ApiError {
    fn from(mut e: Error) -> Self {
        if e.kind == ErrorKind::VersionRequired {
            // The domain's "say which version" is HTTP's If-Match.
            e.message = "Send the case's ETag in If-Match.".into();
            e.message_vi = "Hãy gửi ETag của phản ánh trong tiêu đề If-Match.".into();
        }
        ApiError {
            status: status_of(e.kind),
            error: e,
        }
    }
}

impl ApiError {
    /// An error only HTTP knows (413, 415, 429, a malformed header, …).
    pub fn http(
        status: StatusCode,
        code: &'static str,
        en: impl Into<String>,
        vi: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            error: Error::new(ErrorKind::Malformed, code, en, vi),
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.error.field = Some(field.into());
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
        // A 500 never shows what went wrong, whatever message it was built with.
        let body = if status.is_server_error() {
            ErrorBody {
                error: ErrorDetail {
                    code: "internal".into(),
                    message: "Internal error; it has been logged.".into(),
                    message_vi: "Lỗi hệ thống; sự cố đã được ghi nhận.".into(),
                    field: None,
                },
            }
        } else {
            ErrorBody {
                error: ErrorDetail {
                    code: e.code.to_string(),
                    message: e.message.clone(),
                    message_vi: e.message_vi.clone(),
                    field: e.field.clone(),
                },
            }
        };
        let mut res = (status, Json(body)).into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
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
        ApiError::http(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("The body is not valid JSON: {detail}."),
            format!("Nội dung gửi lên không phải JSON hợp lệ: {detail}."),
        )
    }

    pub fn unsupported_media_type() -> Self {
        ApiError::http(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the body as JSON with 'Content-Type: application/json'.",
            "Hãy gửi nội dung dạng JSON với tiêu đề 'Content-Type: application/json'.",
        )
    }

    pub fn payload_too_large(limit: usize) -> Self {
        ApiError::http(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The body is larger than {} KiB.", limit / 1024),
            format!("Nội dung gửi lên vượt quá {} KiB.", limit / 1024),
        )
    }

    pub fn no_route() -> Self {
        ApiError::http(
            StatusCode::NOT_FOUND,
            "no_route",
            "There is no such address in this API; see /openapi.json.",
            "Không có địa chỉ này trong API; xem /openapi.json.",
        )
    }

    pub fn malformed_query(detail: impl std::fmt::Display) -> Self {
        ApiError::http(
            StatusCode::BAD_REQUEST,
            "malformed_query",
            format!("The query string is not valid: {detail}."),
            format!("Tham số truy vấn không hợp lệ: {detail}."),
        )
    }

    pub fn malformed_path() -> Self {
        ApiError::http(
            StatusCode::BAD_REQUEST,
            "malformed_path",
            "The address is not valid UTF-8 after percent-decoding.",
            "Địa chỉ không phải UTF-8 hợp lệ sau khi giải mã phần trăm.",
        )
    }

    /// A failure that is not a client's (a bug, a broken invariant).
    pub fn internal(what: impl Into<String>) -> Self {
        Error::bug(what).into()
    }
}

/// `405` with the error body (axum's `method_not_allowed_fallback`).
pub async fn method_not_allowed() -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: "method_not_allowed".into(),
            message: "This address does not accept that method; see /openapi.json.".into(),
            message_vi: "Địa chỉ này không chấp nhận phương thức đó; xem /openapi.json.".into(),
            field: None,
        },
    };
    (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response()
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
            (ErrorKind::Unavailable, 503),
            (ErrorKind::Internal, 500),
        ];
        for (k, s) in cases {
            assert_eq!(status_of(k).as_u16(), s, "{k:?}");
        }
    }

    #[test]
    fn rate_limited_answers_carry_retry_after() {
        let res = ApiError::http(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Slow down.",
            "Chậm lại.",
        )
        .into_response();
        assert_eq!(res.status(), 429);
        assert_eq!(res.headers()[header::RETRY_AFTER], "30");
    }

    #[tokio::test]
    async fn internal_errors_hide_their_detail() {
        let e = Error::new(
            ErrorKind::Internal,
            "oops",
            "secret database path /var/x",
            "bí mật",
        )
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
