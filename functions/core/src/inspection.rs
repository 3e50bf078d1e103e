//! Inspection records for the Department of Home Affairs.

use crate::ids::CaseId;
use crate::unit::UnitCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Why an inspection was opened.
pub const REASONS: [&str; 4] = [
    "overdue",
    "empty_roster",
    "low_on_time_rate",
    "registration_below_target",
];
pub const STATUSES: [&str; 3] = ["open", "answered", "closed"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Finding {
    /// `justified_delay`, `unit_at_fault` or `official_at_fault`.
    pub kind: String,
    #[serde(default)]
    pub officials: Vec<String>,
    pub text: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Inspection {
    /// `case-<case id>` (one per case) or `unit-<unit>-<reason>-<period>`.
    pub id: String,
    pub unit: UnitCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub case_id: Option<CaseId>,
    /// One of [`REASONS`].
    pub reason: String,
    /// One of [`STATUSES`]: `open`, `answered` (the unit explained), `closed`.
    pub status: String,
    pub opened_at: DateTime<Utc>,
    #[serde(default)]
    pub findings: Vec<Finding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_answer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    pub version: u64,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl Inspection {
    pub fn for_overdue_case(
        case_id: &CaseId,
        unit: &UnitCode,
        at: DateTime<Utc>,
        details: serde_json::Value,
    ) -> Self {
        Inspection {
            id: format!("case-{case_id}"),
            unit: unit.clone(),
            case_id: Some(case_id.clone()),
            reason: "overdue".into(),
            status: "open".into(),
            opened_at: at,
            findings: vec![],
            unit_answer: None,
            closed_at: None,
            version: 1,
            details,
        }
    }
}
