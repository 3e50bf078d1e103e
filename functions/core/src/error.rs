//! The one error type of the domain. Every failure a client can see carries a
//! stable machine `code`, an English and a Vietnamese message, and the field
//! at fault where there is one. Adapters wrap their own errors in
//! [`Error::Internal`] (the source chain is kept for the logs, never sent).

use std::fmt;

/// What kind of failure this is; the HTTP layer maps each kind to a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400: the request could not be parsed.
    Malformed,
    /// 401: no token, or a token that does not verify.
    Unauthorized,
    /// 403: the resource exists and is visible, but the role may not do this.
    Forbidden,
    /// 404: unknown, or not visible to the caller.
    NotFound,
    /// 409: invalid transition, idempotency-key reuse with another body.
    Conflict,
    /// 412: stale `If-Match`.
    PreconditionFailed,
    /// 413: body too large.
    PayloadTooLarge,
    /// 415: wrong content type.
    UnsupportedMediaType,
    /// 422: well-formed but invalid.
    Invalid,
    /// 428: an action without `If-Match`.
    PreconditionRequired,
    /// 429: rate limited.
    TooManyRequests,
    /// 503: a dependency is unavailable; the client may retry.
    Unavailable,
    /// 500: a bug or an unexpected failure; details only in the logs.
    Internal,
}

/// A failure with a stable code and bilingual messages.
#[derive(Debug)]
pub struct Error {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub message: String,
    pub message_vi: String,
    pub field: Option<String>,
    pub source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(
        kind: ErrorKind,
        code: &'static str,
        message: impl Into<String>,
        message_vi: impl Into<String>,
    ) -> Self {
        Error {
            kind,
            code,
            message: message.into(),
            message_vi: message_vi.into(),
            field: None,
            source: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 422 on one field.
    pub fn invalid(
        field: &str,
        code: &'static str,
        en: impl Into<String>,
        vi: impl Into<String>,
    ) -> Self {
        Error::new(ErrorKind::Invalid, code, en, vi).with_field(field)
    }

    pub fn malformed(en: impl Into<String>, vi: impl Into<String>) -> Self {
        Error::new(ErrorKind::Malformed, "malformed", en, vi)
    }

    pub fn not_found() -> Self {
        Error::new(
            ErrorKind::NotFound,
            "not_found",
            "Not found.",
            "Không tìm thấy.",
        )
    }

    pub fn forbidden() -> Self {
        Error::new(
            ErrorKind::Forbidden,
            "forbidden",
            "Your role may not do this.",
            "Vai trò của bạn không được phép thực hiện thao tác này.",
        )
    }

    pub fn unauthorized(en: impl Into<String>, vi: impl Into<String>) -> Self {
        Error::new(ErrorKind::Unauthorized, "unauthorized", en, vi)
    }

    pub fn invalid_transition(from: &str, action: &str) -> Self {
        Error::new(
            ErrorKind::Conflict,
            "invalid_transition",
            format!("A case in status '{from}' does not allow '{action}'."),
            format!("Phản ánh đang ở trạng thái '{from}' không cho phép thao tác '{action}'."),
        )
    }

    pub fn stale_version() -> Self {
        Error::new(
            ErrorKind::PreconditionFailed,
            "stale_version",
            "The case changed since you read it; read it again and retry.",
            "Phản ánh đã thay đổi kể từ khi bạn đọc; hãy tải lại và thử lại.",
        )
    }

    /// An unexpected failure in a dependency; the source is kept for logs.
    pub fn internal(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error {
            source: Some(Box::new(source)),
            ..Error::new(
                ErrorKind::Internal,
                "internal",
                "Internal error; it has been logged.",
                "Lỗi hệ thống; sự cố đã được ghi nhận.",
            )
        }
    }

    /// A dependency is unavailable (the client may retry).
    pub fn unavailable(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error {
            source: Some(Box::new(source)),
            ..Error::new(
                ErrorKind::Unavailable,
                "unavailable",
                "Service temporarily unavailable; please retry.",
                "Dịch vụ tạm thời gián đoạn; vui lòng thử lại.",
            )
        }
    }

    /// A message-only internal error (no source to chain).
    pub fn bug(what: impl Into<String>) -> Self {
        Error::internal(Message(what.into()))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        let mut src: Option<&(dyn std::error::Error + 'static)> = self
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static));
        while let Some(e) = src {
            write!(f, ": {e}")?;
            src = e.source();
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// A plain message used as an error source.
#[derive(Debug)]
pub struct Message(pub String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Message {}
