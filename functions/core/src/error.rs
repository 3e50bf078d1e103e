//! The one error type of the domain. Every failure a client can see carries a
//! stable machine `code`, the field at fault where there is one, and the
//! named parameters its message needs (`category`, `max`, …). The wording,
//! in English and Vietnamese, is the API's (`pakn_api::messages`): the
//! domain says *what* went wrong, never how to phrase it. Adapters wrap
//! their own errors in [`Error::internal`] (the source chain is kept for the
//! logs, never sent).

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
    /// The caller used up a quota; the `retry_after` parameter says in
    /// how many seconds it may try again.
    RateLimited,
    /// A dependency is unavailable; the caller may retry.
    Unavailable,
    /// A bug or an unexpected failure; details only in the logs.
    Internal,
}

/// A failure: its kind, a stable code, the field at fault and the named
/// parameters a message about it needs.
#[derive(Debug)]
pub struct Error {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub field: Option<String>,
    /// Named values for the message (`("category", "lighting")`), in the
    /// order they were given; a name appears at most once.
    pub params: Vec<(&'static str, String)>,
    pub source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, code: &'static str) -> Self {
        Error {
            kind,
            code,
            field: None,
            params: Vec::new(),
            source: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// A named parameter of the message (set again, it replaces the value).
    pub fn with(mut self, name: &'static str, value: impl fmt::Display) -> Self {
        let value = value.to_string();
        match self.params.iter_mut().find(|(n, _)| *n == name) {
            Some(p) => p.1 = value,
            None => self.params.push((name, value)),
        }
        self
    }

    /// The value of a named parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// An invalid field.
    pub fn invalid(field: &str, code: &'static str) -> Self {
        Error::new(ErrorKind::Invalid, code).with_field(field)
    }

    /// A value that cannot be read (code `malformed`).
    pub fn malformed() -> Self {
        Error::new(ErrorKind::Malformed, "malformed")
    }

    pub fn not_found() -> Self {
        Error::new(ErrorKind::NotFound, "not_found")
    }

    pub fn forbidden() -> Self {
        Error::new(ErrorKind::Forbidden, "forbidden")
    }

    /// The caller's identity is missing or not valid; `reason` says why
    /// (`no_subject`, `no_unit`, …).
    pub fn unauthorized(reason: &'static str) -> Self {
        Error::new(ErrorKind::Unauthorized, "unauthorized").with("reason", reason)
    }

    pub fn invalid_transition(from: &str, action: &str) -> Self {
        Error::new(ErrorKind::Conflict, "invalid_transition")
            .with("from", from)
            .with("action", action)
    }

    /// A quota is used up: try again in `retry_after_secs` seconds (at least 1).
    pub fn rate_limited(retry_after_secs: i64) -> Self {
        Error::new(ErrorKind::RateLimited, "rate_limited")
            .with("retry_after", retry_after_secs.max(1))
    }

    pub fn stale_version() -> Self {
        Error::new(ErrorKind::StaleVersion, "stale_version")
    }

    /// An unexpected failure in a dependency; the source is kept for logs.
    pub fn internal(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error {
            source: Some(Box::new(source)),
            ..Error::new(ErrorKind::Internal, "internal")
        }
    }

    /// A dependency is unavailable (the client may retry).
    pub fn unavailable(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error {
            source: Some(Box::new(source)),
            ..Error::new(ErrorKind::Unavailable, "unavailable")
        }
    }

    /// A message-only internal error (no source to chain).
    pub fn bug(what: impl Into<String>) -> Self {
        Error::internal(Message(what.into()))
    }
}

/// For the logs: `code [field] (name=value, …): source: source…`.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)?;
        if let Some(field) = &self.field {
            write!(f, " [{field}]")?;
        }
        for (i, (name, value)) in self.params.iter().enumerate() {
            let sep = if i == 0 { " (" } else { ", " };
            write!(f, "{sep}{name}={value:?}")?;
        }
        if !self.params.is_empty() {
            f.write_str(")")?;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_code_field_params_and_sources() {
        let e = Error::invalid("category", "unknown_category")
            .with("category", "x")
            .with("category", "lighting");
        assert_eq!(e.param("category"), Some("lighting"));
        assert_eq!(e.params.len(), 1);
        assert_eq!(
            e.to_string(),
            "unknown_category [category] (category=\"lighting\")"
        );
        assert_eq!(
            Error::bug("disk on fire").to_string(),
            "internal: disk on fire"
        );
    }
}
