//! User text: NFC-normalised, trimmed, bounded, free of control characters.

use crate::error::{Error, Result};
use unicode_normalization::UnicodeNormalization;

/// NFC-normalise and trim.
pub fn nfc(s: &str) -> String {
    s.trim().nfc().collect()
}

/// Normalise a required text field and check its length in characters.
pub fn required(field: &str, value: &str, max_chars: usize) -> Result<String> {
    let v = nfc(value);
    if v.is_empty() {
        return Err(Error::invalid(field, "required"));
    }
    bounded(field, v, max_chars)
}

/// Normalise an optional text field.
pub fn optional(field: &str, value: Option<&str>, max_chars: usize) -> Result<Option<String>> {
    match value.map(nfc) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => bounded(field, v, max_chars).map(Some),
    }
}

fn bounded(field: &str, v: String, max_chars: usize) -> Result<String> {
    let n = v.chars().count();
    if n > max_chars {
        return Err(Error::invalid(field, "too_long")
            .with("chars", n)
            .with("max", max_chars));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(Error::invalid(field, "control_characters"));
    }
    Ok(v)
}

/// A list of http(s) URLs (media, evidence), bounded in count and length.
pub fn urls(field: &str, values: &[String], max: usize) -> Result<Vec<String>> {
    if values.len() > max {
        return Err(Error::invalid(field, "too_many")
            .with("count", values.len())
            .with("max", max));
    }
    values
        .iter()
        .map(|u| {
            let u = u.trim();
            let ok = (u.starts_with("https://") || u.starts_with("http://"))
                && u.len() <= 2048
                && u.len() > 8
                && !u.chars().any(|c| c.is_whitespace() || c.is_control());
            if ok {
                Ok(u.to_string())
            } else {
                Err(Error::invalid(field, "invalid_url"))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfc_composes_decomposed_vietnamese() {
        // "Hoàn Kiếm" written with combining marks.
        let decomposed = "Hoa\u{0300}n Kie\u{0302}\u{0301}m";
        assert_eq!(nfc(decomposed), "Hoàn Kiếm");
        assert_ne!(decomposed, "Hoàn Kiếm");
    }

    #[test]
    fn length_is_counted_in_characters_after_normalisation() {
        let s = "ế".repeat(10);
        assert!(required("t", &s, 10).is_ok());
        let err = required("t", &format!("{s}a"), 10).unwrap_err();
        assert_eq!(err.code, "too_long");
        assert_eq!(required("t", "  ", 10).unwrap_err().code, "required");
    }

    #[test]
    fn urls_are_checked() {
        assert!(urls("media", &["https://x.vn/a.jpg".into()], 5).is_ok());
        assert_eq!(
            urls("media", &["ftp://x".into()], 5).unwrap_err().code,
            "invalid_url"
        );
        assert_eq!(
            urls("media", &vec!["https://x.vn/a".into(); 6], 5)
                .unwrap_err()
                .code,
            "too_many"
        );
    }
}
