//! Notifications (CONTRACT.md "Notifications"): a JSON body plus the
//! attributes SNS filter policies match on.

use crate::ids::CaseId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub mod event {
    pub const ASSIGNED: &str = "case.assigned";
    pub const TRANSFERRED: &str = "case.transferred";
    pub const REMINDER: &str = "case.reminder";
    pub const OVERDUE: &str = "case.overdue";
    pub const OVERDUE_DIGEST: &str = "unit.overdue_digest";
    pub const PASSED_AROUND: &str = "case.passed_around";
    pub const INSPECTION_OPENED: &str = "inspection.opened";
    pub const STATUS_CHANGED: &str = "case.status_changed";
}

/// The version of the message bodies' shapes (`schema_version` in every
/// body; the JSON Schemas served at `GET /v1/events/schemas`). A change
/// that removes or retypes a field is a new version.
pub const SCHEMA_VERSION: u32 = 1;

/// `body` with its `schema_version` (every body pakn publishes goes through here).
pub fn versioned(mut body: serde_json::Value) -> serde_json::Value {
    if let Some(o) = body.as_object_mut() {
        o.insert("schema_version".into(), SCHEMA_VERSION.into());
    }
    body
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Audience {
    Unit,
    Triage,
    HomeAffairs,
    Citizen,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Unit => "unit",
            Audience::Triage => "triage",
            Audience::HomeAffairs => "home-affairs",
            Audience::Citizen => "citizen",
        }
    }
}

/// A decided notification (an outbox entry until published).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Notification {
    /// Stable for the same decision; subscribers drop repeats by it.
    pub dedup_id: String,
    pub event: String,
    /// The unit it concerns (filter policies match on it).
    pub unit: String,
    pub urgency: String,
    pub audience: Vec<Audience>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub case_id: Option<CaseId>,
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl Notification {
    /// The message attributes as (name, value) pairs; `audience` is a String.Array.
    pub fn attributes(&self) -> Vec<(&'static str, AttrValue)> {
        vec![
            ("event", AttrValue::String(self.event.clone())),
            ("unit", AttrValue::String(self.unit.clone())),
            ("urgency", AttrValue::String(self.urgency.clone())),
            (
                "audience",
                AttrValue::StringArray(
                    self.audience
                        .iter()
                        .map(|a| a.as_str().to_string())
                        .collect(),
                ),
            ),
            ("dedup_id", AttrValue::String(self.dedup_id.clone())),
        ]
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    String(String),
    StringArray(Vec<String>),
}

/// SNS-style filter policy matching on message attributes (the subset pakn's
/// subscribers use: exact strings, `prefix`, `anything-but`, `exists`; a
/// String.Array attribute matches if any element matches).
pub fn filter_matches(policy: &serde_json::Value, attrs: &[(&str, AttrValue)]) -> bool {
    let Some(obj) = policy.as_object() else {
        return false;
    };
    obj.iter().all(|(name, conds)| {
        let value = attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        let Some(conds) = conds.as_array() else {
            return false;
        };
        conds.iter().any(|c| condition_matches(c, value))
    })
}

fn condition_matches(c: &serde_json::Value, value: Option<&AttrValue>) -> bool {
    let values: Vec<&str> = match value {
        Some(AttrValue::String(s)) => vec![s.as_str()],
        Some(AttrValue::StringArray(a)) => a.iter().map(|s| s.as_str()).collect(),
        None => vec![],
    };
    match c {
        serde_json::Value::String(s) => values.contains(&s.as_str()),
        serde_json::Value::Object(o) => {
            if let Some(e) = o.get("exists").and_then(|v| v.as_bool()) {
                return value.is_some() == e;
            }
            if let Some(p) = o.get("prefix").and_then(|v| v.as_str()) {
                return values.iter().any(|v| v.starts_with(p));
            }
            if let Some(ab) = o.get("anything-but") {
                let excluded: Vec<&str> = match ab {
                    serde_json::Value::String(s) => vec![s.as_str()],
                    serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).collect(),
                    _ => return false,
                };
                return !values.is_empty() && values.iter().all(|v| !excluded.contains(v));
            }
            false
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(unit: &str, aud: &[&str]) -> Vec<(&'static str, AttrValue)> {
        vec![
            ("event", AttrValue::String("case.assigned".into())),
            ("unit", AttrValue::String(unit.into())),
            (
                "audience",
                AttrValue::StringArray(aud.iter().map(|s| s.to_string()).collect()),
            ),
        ]
    }

    #[test]
    fn filter_policies_match_like_sns() {
        let ward = json!({"unit": ["ward:00070"]});
        assert!(filter_matches(&ward, &attrs("ward:00070", &["unit"])));
        assert!(!filter_matches(&ward, &attrs("ward:00073", &["unit"])));
        let ha = json!({"audience": ["home-affairs"]});
        assert!(filter_matches(
            &ha,
            &attrs("ward:00070", &["unit", "home-affairs"])
        ));
        assert!(!filter_matches(&ha, &attrs("ward:00070", &["unit"])));
        let both =
            json!({"unit": [{"prefix": "ward:"}], "event": [{"anything-but": ["case.reminder"]}]});
        assert!(filter_matches(&both, &attrs("ward:00070", &[])));
        assert!(!filter_matches(&both, &attrs("dept:police", &[])));
        assert!(filter_matches(
            &json!({"urgency": [{"exists": false}]}),
            &attrs("x", &[])
        ));
        assert!(!filter_matches(&json!("nonsense"), &attrs("x", &[])));
    }
}
