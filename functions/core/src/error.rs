//! The one error type of the domain. Every failure a client can see carries a
//! stable machine `code`, an English and a Vietnamese message, and the field
//! at fault where there is one. Adapters wrap their own errors in
//! [`Error::Internal`] (the source chain is kept for the logs, never sent).

use std::fmt;

/// What kind of failure this is, in the domain's words. Only the API crate
/// knows which HTTP status each kind becomes (`pakn_api::error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A value the caller handed back cannot be read (a cursor this server
    /// did not issue).
    Malformed,
    /// The caller's identity is missing or not valid.
    Unauthorized,
    /// The thing exists and is visible, but the role may not do this.
    Forbidden,
    /// Unknown, or not visible to the caller.
    NotFound,
    /// The case (or inspection) is not in a state that allows this: an
    /// invalid transition, an idempotency key reused with another body.
    Conflict,
    /// The caller acted on a version that is no longer current.
    StaleVersion,
    /// The caller did not say which version it acts on (optimistic
    /// concurrency needs it).
    VersionRequired,
    /// A field is well-formed but not acceptable (unknown category, outside
    /// the city, out of range).
    Invalid,
    /// A dependency is unavailable; the caller may retry.
    Unavailable,
    /// A bug or an unexpected failure; details only in the logs.
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

    /// An invalid field.
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
            ErrorKind::StaleVersion,
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
