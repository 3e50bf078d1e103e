//! Government units: wards/communes, city departments, the city triage office.
//! Codes follow CONTRACT.md: `ward:<5-digit code>`, `dept:<slug>`, `city:<slug>`.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A unit code such as `ward:00070`, `dept:construction` or `city:triage`.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "ward:00070")]
pub struct UnitCode(String);

pub const TRIAGE: &str = "city:triage";
pub const HOME_AFFAIRS: &str = "dept:home-affairs";

impl UnitCode {
    /// Parse and check the shape of a unit code (not whether the unit exists).
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        let ok = match s.split_once(':') {
            Some(("ward", rest)) => rest.len() == 5 && rest.bytes().all(|b| b.is_ascii_digit()),
            Some(("dept" | "city", rest)) => {
                !rest.is_empty()
                    && rest.len() <= 48
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            }
            _ => false,
        };
        if ok {
            Ok(UnitCode(s.to_string()))
        } else {
            Err(Error::invalid("unit", "invalid_unit_code").with("value", s))
        }
    }

    pub fn ward(code5: &str) -> Self {
        UnitCode(format!("ward:{code5}"))
    }

    pub fn triage() -> Self {
        UnitCode(TRIAGE.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_triage(&self) -> bool {
        self.0 == TRIAGE
    }
}

/// For deserializers, the reference-data loader and the CLI: a parser's
/// diagnostic in English, like serde's own "invalid type" text (an API
/// client sees it inside the API's bilingual `malformed_json` or
/// `malformed_query` message).
impl TryFrom<String> for UnitCode {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        UnitCode::parse(&s).map_err(|_| {
            format!(
                "'{}' is not a unit code (ward:00070, dept:construction, city:triage).",
                s.trim()
            )
        })
    }
}

impl From<UnitCode> for String {
    fn from(u: UnitCode) -> String {
        u.0
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A unit of government, in a tree of any depth (`parent`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Unit {
    pub code: UnitCode,
    pub name_vi: String,
    pub name_en: String,
    /// `city`, `office`, `department`, `utility`, `ward` (phường) or `commune` (xã).
    #[serde(rename = "type")]
    pub unit_type: String,
    pub parent: Option<UnitCode>,
}

/// Normalise a ward code from a request: `"00070"`, `"70"` or `70` → `"00070"`.
pub fn normalize_ward_code(digits: &str) -> Option<String> {
    let digits = digits.trim();
    if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("{:0>5}", digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_codes() {
        assert!(UnitCode::parse("ward:00070").is_ok());
        assert!(UnitCode::parse("dept:natural-resources").is_ok());
        assert!(UnitCode::parse("city:triage").unwrap().is_triage());
        for bad in [
            "ward:70",
            "ward:0007a",
            "dept:",
            "DEPT:x",
            "x:y",
            "dept:a b",
            "",
        ] {
            assert!(UnitCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ward_codes_normalise() {
        assert_eq!(normalize_ward_code("70").as_deref(), Some("00070"));
        assert_eq!(normalize_ward_code("00070").as_deref(), Some("00070"));
        assert_eq!(normalize_ward_code("70").as_deref(), Some("00070"));
        assert_eq!(normalize_ward_code("123456"), None);
        assert_eq!(normalize_ward_code("-1"), None);
        assert_eq!(normalize_ward_code("7a"), None);
        assert_eq!(normalize_ward_code(""), None);
    }
}
