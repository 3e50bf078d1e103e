//! Report categories (each an Open311 service) and the SLA policy.

use crate::calendar::ClockKind;
use crate::unit::UnitCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Field report or administrative-procedure report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Field,
    Procedure,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Field => "field",
            Kind::Procedure => "procedure",
        }
    }
}

/// Urgency levels of Decision 1207/QĐ-UBND.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Urgent,
    Normal,
    Complex,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Urgent => "urgent",
            Urgency::Normal => "normal",
            Urgency::Complex => "complex",
        }
    }
}

/// Who must act on a category's reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Responsible {
    /// The ward/commune of the report's location.
    WardOfLocation,
    /// A named unit, wherever the report is.
    Unit(UnitCode),
}

impl Serialize for Responsible {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Responsible::WardOfLocation => s.serialize_str("ward"),
            Responsible::Unit(u) => s.serialize_str(u.as_str()),
        }
    }
}

impl<'de> Deserialize<'de> for Responsible {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == "ward" {
            Ok(Responsible::WardOfLocation)
        } else {
            UnitCode::try_from(s)
                .map(Responsible::Unit)
                .map_err(serde::de::Error::custom)
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Category {
    pub code: String,
    pub kind: Kind,
    pub name_vi: String,
    pub name_en: String,
    pub responsible: Responsible,
}

/// An amount of time on a clock.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SlaSpec {
    pub hours: f64,
    #[serde(default)]
    pub clock: ClockKind,
}

/// Acknowledge and resolve deadlines for one urgency.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UrgencySla {
    pub ack: SlaSpec,
    pub resolve: SlaSpec,
}

/// A category's partial override for one urgency.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct UrgencySlaOverride {
    pub ack: Option<SlaSpec>,
    pub resolve: Option<SlaSpec>,
}

/// The city's SLA policy and the thresholds that hold units to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SlaPolicy {
    pub version: String,
    pub default: BTreeMap<Urgency, UrgencySla>,
    #[serde(default)]
    pub categories: BTreeMap<String, BTreeMap<Urgency, UrgencySlaOverride>>,
    pub triage_ack: SlaSpec,
    pub extend_max_working_days: u32,
    pub dispute_window_days: u32,
    pub inspection_threshold_days: u32,
    pub passed_around_transfers: u32,
    pub reminder_before_working_hours: f64,
    pub roster_grace_working_days: u32,
    pub requeue_received_after_minutes: u32,
    pub min_resolved_for_ranking: u32,
    /// A unit whose on-time rate over the last `on_time_window_days` is below this opens a unit inspection.
    #[serde(default = "default_low_rate")]
    pub low_on_time_rate: f64,
    #[serde(default = "default_window")]
    pub on_time_window_days: u32,
    /// Local hour from which the daily unit checks (digests, unit inspections) run.
    #[serde(default = "default_digest_hour")]
    pub digest_hour_local: u32,
    /// Rosters are required from this local date (the grace period counts from it).
    #[serde(default = "default_roster_from")]
    pub roster_required_from: chrono::NaiveDate,
    /// Registration campaigns (e.g. 100% of officials by a deadline).
    #[serde(default)]
    pub campaigns: Vec<Campaign>,
    /// Request quotas (per account, exact; per client address, per instance).
    #[serde(default)]
    pub rate_limits: RateLimits,
    /// Years after a case closes until the retention sweep erases its
    /// reporter's personal data (Decree 13/2023/NĐ-CP; see `crate::retention`).
    #[serde(default = "default_retention_years")]
    pub personal_data_retention_years: u32,
    /// Photo and video limits, link lifetimes, the evidence rule.
    #[serde(default)]
    pub media: MediaPolicy,
    /// `GET /v1/cases/nearby`: how far and how many open cases it lists.
    #[serde(default)]
    pub nearby: NearbyPolicy,
}

/// The nearby search ("Đã có người phản ánh?" before a new report).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NearbyPolicy {
    /// Radius in metres (great-circle distance).
    pub radius_m: f64,
    /// At most this many cases, nearest first.
    pub limit: usize,
}

impl Default for NearbyPolicy {
    fn default() -> Self {
        NearbyPolicy {
            radius_m: 250.0,
            limit: 5,
        }
    }
}

/// Request quotas. Per-account quotas are counted in the store, in fixed
/// windows aligned to the Unix epoch (a minute, an hour, a UTC day); the
/// per-address limit of the public endpoints is a token bucket per instance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimits {
    pub citizen_submissions_per_hour: u32,
    pub citizen_submissions_per_day: u32,
    pub citizen_actions_per_minute: u32,
    pub operator_submissions_per_hour: u32,
    pub operator_submissions_per_day: u32,
    pub operator_actions_per_minute: u32,
    /// Submissions of one client application (one Open311 API key).
    pub client_app_submissions_per_hour: u32,
    pub client_app_submissions_per_day: u32,
    /// Public endpoints (tracking lookup, stats, registration, Open311) per client
    /// address: the bucket's size, refilled at this many a minute.
    pub public_per_address_per_minute: u32,
    /// A citizen's `urgent` applies at once for this many reports per local
    /// day (Asia/Ho_Chi_Minh); beyond, the report is accepted as `normal`
    /// with a notice (never refused). Operators are not capped.
    pub citizen_urgent_per_day: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            citizen_submissions_per_hour: 10,
            citizen_submissions_per_day: 30,
            citizen_actions_per_minute: 60,
            operator_submissions_per_hour: 200,
            operator_submissions_per_day: 2000,
            operator_actions_per_minute: 300,
            client_app_submissions_per_hour: 600,
            client_app_submissions_per_day: 5000,
            public_per_address_per_minute: 60,
            citizen_urgent_per_day: 3,
        }
    }
}

/// A registration drive: the share of a unit's staff with an account by a deadline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Campaign {
    pub id: String,
    pub name_vi: String,
    pub name_en: String,
    /// Target share of the unit's headcount, 0–1.
    pub target_rate: f64,
    pub deadline: chrono::NaiveDate,
}

fn default_retention_years() -> u32 {
    5
}
fn default_low_rate() -> f64 {
    0.8
}
fn default_window() -> u32 {
    30
}
fn default_digest_hour() -> u32 {
    8
}
fn default_roster_from() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2025, 7, 1).expect("valid date")
}

impl SlaPolicy {
    /// The SLA in force for a category and urgency.
    pub fn sla(&self, category: &str, urgency: Urgency) -> UrgencySla {
        let base = self.default.get(&urgency).copied().unwrap_or(UrgencySla {
            ack: SlaSpec {
                hours: 8.0,
                clock: ClockKind::Working,
            },
            resolve: SlaSpec {
                hours: 40.0,
                clock: ClockKind::Working,
            },
        });
        match self.categories.get(category).and_then(|m| m.get(&urgency)) {
            Some(o) => UrgencySla {
                ack: o.ack.unwrap_or(base.ack),
                resolve: o.resolve.unwrap_or(base.resolve),
            },
            None => base,
        }
    }
}

/// The media limits of `policy.json` (`media`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MediaPolicy {
    pub max_photos: u32,
    pub max_photo_bytes: u64,
    pub max_videos: u32,
    pub max_video_bytes: u64,
    /// How long an upload slot stays valid.
    pub upload_minutes: u32,
    /// How long a link to a processed file stays valid.
    pub link_minutes: u32,
    /// A field report is resolved only with at least one evidence photo.
    pub require_evidence_photo: bool,
}

impl Default for MediaPolicy {
    fn default() -> Self {
        MediaPolicy {
            max_photos: 5,
            max_photo_bytes: 10 * 1024 * 1024,
            max_videos: 1,
            max_video_bytes: 50 * 1024 * 1024,
            upload_minutes: 10,
            link_minutes: 15,
            require_evidence_photo: false,
        }
    }
}
