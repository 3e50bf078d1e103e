//! The case: what a citizen reported, where it is, and its clocks.

use crate::calendar::{ClockKind, WorkingCalendar};
use crate::category::{Kind, Urgency};
use crate::ids::CaseId;
use crate::principal::Role;
use crate::unit::UnitCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Case status (CONTRACT.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Received,
    Triage,
    Assigned,
    InProgress,
    AwaitingInfo,
    Resolved,
    Rejected,
    Closed,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Received,
        Status::Triage,
        Status::Assigned,
        Status::InProgress,
        Status::AwaitingInfo,
        Status::Resolved,
        Status::Rejected,
        Status::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Triage => "triage",
            Status::Assigned => "assigned",
            Status::InProgress => "in_progress",
            Status::AwaitingInfo => "awaiting_info",
            Status::Resolved => "resolved",
            Status::Rejected => "rejected",
            Status::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The Vietnamese label shown to people.
    pub fn label_vi(self) -> &'static str {
        match self {
            Status::Received => "đã tiếp nhận",
            Status::Triage => "chờ phân loại",
            Status::Assigned => "chờ xử lý",
            Status::InProgress => "đang xử lý",
            Status::AwaitingInfo => "chờ bổ sung",
            Status::Resolved => "đã xử lý",
            Status::Rejected => "từ chối",
            Status::Closed => "đã đóng",
        }
    }

    /// Still the city's work: counts as open.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Resolved | Status::Rejected | Status::Closed)
    }

    /// Open with the resolve clock running: `awaiting_info` pauses the clock
    /// (its `resolve_due` moves on by the pause when the citizen answers), so a
    /// paused case is never overdue, in alerts, digests or counts alike.
    pub fn clock_runs(self) -> bool {
        self.is_open() && self != Status::AwaitingInfo
    }
}

/// How the report reached the city (and, on each timeline entry, the change).
pub use crate::channel::Channel;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Location {
    pub lat: f64,
    pub lng: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// 5-digit official code of the ward/commune, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ward_code: Option<String>,
}

/// The reporter's contact (personal data: only the reporter, the unit and inspectors see it).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Time a unit held the case (charged to it for lateness).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Hold {
    pub unit: UnitCode,
    pub from: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    /// Working hours held (set when the hold ends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_hours: Option<f64>,
}

/// A pause of the resolve clock while the unit waits for the citizen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Pause {
    pub from: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Extension {
    pub working_days: u32,
    /// Staff only (empty, and left out, in the reporter's view).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    pub at: DateTime<Utc>,
    /// The official who extended; staff only.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Answer {
    pub text: String,
    #[serde(default)]
    pub evidence: Vec<String>,
    pub at: DateTime<Utc>,
    pub unit: UnitCode,
    /// For a rejection: the reason code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rating {
    pub score: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

/// A case. The submission fields never change after intake; the rest is
/// the case's state, changed only through [`crate::actions`] with a
/// version check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: CaseId,
    pub tracking_code: String,
    // --- submission (immutable) ---
    pub kind: Kind,
    pub category: String,
    pub title: String,
    pub description: String,
    pub urgency: Urgency,
    pub location: Location,
    #[serde(default)]
    pub media: Vec<String>,
    pub channel: Channel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// Subject of the reporter (citizen) or of the operator who entered it.
    pub submitted_by: String,
    pub submitted_role: Role,
    pub received_at: DateTime<Utc>,
    // --- state ---
    pub status: Status,
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_due: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolve_due: Option<DateTime<Utc>>,
    #[serde(default)]
    pub resolve_clock: ClockKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_resolved_at: Option<DateTime<Utc>>,
    /// On time at first resolution (against the resolve_due then in force).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_resolved_on_time: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub holds: Vec<Hold>,
    #[serde(default)]
    pub pauses: Vec<Pause>,
    #[serde(default)]
    pub transfers: u32,
    #[serde(default)]
    pub reopens: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<Extension>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_question: Option<String>,
    /// Sweep milestones already decided (keys such as `overdue@<due>`).
    #[serde(default)]
    pub milestones_done: Vec<String>,
    /// When the deadline sweep must next look at this case (`None` once closed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_action_at: Option<DateTime<Utc>>,
    /// Last time any field of the case state changed.
    pub updated_at: DateTime<Utc>,
    // --- personal data (Decree 13/2023/NĐ-CP; see `crate::retention`) ---
    /// When the retention sweep must erase the reporter's personal data:
    /// set when the case closes, `None` once erased (the store keeps a
    /// sparse index of it, so the sweep reads only what is due).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erase_after: Option<DateTime<Utc>>,
    /// The reporter asked to erase their data (`DELETE /v1/me/data`) while
    /// the case was not closed: it is erased as soon as it closes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erasure_requested_at: Option<DateTime<Utc>>,
    /// When the reporter's personal data was erased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<DateTime<Utc>>,
}

/// What a reporter submitted: validated by intake, never changed after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    pub kind: Kind,
    pub category: String,
    pub title: String,
    pub description: String,
    pub urgency: Urgency,
    pub location: Location,
    pub media: Vec<String>,
    pub channel: Channel,
    pub contact: Option<Contact>,
}

impl Case {
    /// A case as intake stores it: `received`, version 1, no unit or deadlines yet.
    pub fn received(
        id: CaseId,
        tracking_code: String,
        s: Submission,
        submitted_by: String,
        submitted_role: Role,
        at: DateTime<Utc>,
    ) -> Case {
        Case {
            id,
            tracking_code,
            kind: s.kind,
            category: s.category,
            title: s.title,
            description: s.description,
            urgency: s.urgency,
            location: s.location,
            media: s.media,
            channel: s.channel,
            contact: s.contact,
            submitted_by,
            submitted_role,
            received_at: at,
            status: Status::Received,
            version: 1,
            unit: None,
            policy_version: None,
            routed_at: None,
            ack_due: None,
            resolve_due: None,
            resolve_clock: Default::default(),
            accepted_at: None,
            first_resolved_at: None,
            first_resolved_on_time: None,
            resolved_at: None,
            rejected_at: None,
            closed_at: None,
            holds: vec![],
            pauses: vec![],
            transfers: 0,
            reopens: 0,
            extension: None,
            answer: None,
            rating: None,
            open_question: None,
            milestones_done: vec![],
            next_action_at: None,
            updated_at: at,
            erase_after: None,
            erasure_requested_at: None,
            erased_at: None,
        }
    }

    /// Overdue: past `resolve_due`, still open, the clock not paused.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status.clock_runs() && self.resolve_due.is_some_and(|d| now > d)
    }

    /// What the holding unit owes next, and by when: the acknowledgement
    /// while the case is `assigned`, the resolution while the resolve clock
    /// runs; none while paused (`awaiting_info`) or done (`resolved` on).
    pub fn queue_due(&self) -> Option<DateTime<Utc>> {
        queue_due_of(self.status, self.ack_due, self.resolve_due)
    }

    /// Working hours from `now` to [`Case::queue_due`] (on the case's own
    /// resolve clock for the resolution), negative once it has passed,
    /// rounded to a tenth; none when nothing is due. The console colours
    /// its deadline badges with it, so a browser needs no holiday calendar.
    pub fn working_hours_left(&self, now: DateTime<Utc>, cal: &WorkingCalendar) -> Option<f64> {
        let due = self.queue_due()?;
        let clock = if self.status == Status::Assigned {
            ClockKind::Working
        } else {
            self.resolve_clock
        };
        let h = if due >= now {
            cal.elapsed_hours(now, due, clock)
        } else {
            -cal.elapsed_hours(due, now, clock)
        };
        Some((h * 10.0).round() / 10.0)
    }

    /// The unit currently holding the case, if routed.
    pub fn current_hold_mut(&mut self) -> Option<&mut Hold> {
        self.holds.iter_mut().rev().find(|h| h.to.is_none())
    }
}

/// One entry of a case's timeline (append-only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimelineEvent {
    pub at: DateTime<Utc>,
    /// The case version this event produced (orders events and makes them idempotent).
    pub version: u64,
    /// `submitted`, `routed`, `accept`, `note`, `transfer`, ... `reminder`, `overdue`.
    pub action: String,
    /// Who acted; left out of the reporter's view when an official acted,
    /// and empty once the reporter's personal data is erased.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub actor: String,
    pub actor_role: String,
    /// Through which channel the change came. `None` only on entries
    /// written before channels were recorded (see [`TimelineEvent::channel_or_inferred`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Visible on the public (redacted) view.
    #[serde(default)]
    pub public: bool,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl TimelineEvent {
    /// The recorded channel; for an entry written before channels were
    /// recorded, `system` when pakn itself acted (its subjects are
    /// `system:<name>`), else unknown (`None`) rather than a guess.
    pub fn channel_or_inferred(&self) -> Option<Channel> {
        self.channel
            .or_else(|| self.actor.starts_with("system:").then_some(Channel::System))
    }
}

/// [`Case::queue_due`] from the three fields a unit-queue index keeps.
pub fn queue_due_of(
    status: Status,
    ack_due: Option<DateTime<Utc>>,
    resolve_due: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    match status {
        Status::Assigned => ack_due.or(resolve_due),
        s if s.clock_runs() => resolve_due,
        _ => None,
    }
}
