//! What the personal-data routes answer: the caller's data
//! (`GET /v1/me/data`), what an erasure did (`DELETE /v1/me/data`), and a
//! case's audit trail (`GET /v1/cases/{id}/audit`).

use crate::case::{Status, TimelineEvent};
use crate::channel::Channel;
use crate::media::UploadStatus;
use crate::notices::{DeviceView, NoticeView};
use crate::ports::{AccessRecord, FollowReason, NoticeChannel};
use crate::principal::Role;
use crate::unit::UnitCode;
use crate::views::CaseView;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Everything pakn holds about the caller.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MyData {
    pub subject: String,
    pub role: Role,
    pub exported_at: DateTime<Utc>,
    /// The registration record (`POST /v1/accounts`), if the caller registered.
    pub account: Option<AccountRecord>,
    /// The cases the caller reported as a citizen and whose personal data
    /// is not erased yet, newest first (staff: none; their actions are
    /// official records, not personal data pakn exports).
    pub cases: Vec<MyCase>,
    /// The caller's uploads (photos, videos) not erased yet, oldest first:
    /// what was declared and what the check found, never a link.
    pub uploads: Vec<MyUpload>,
    /// The cases the caller follows, most recent first.
    pub following: Vec<MyFollow>,
    /// The caller's notification settings (phone, devices without their
    /// tokens) and the messages decided for them, if they ever saved any.
    pub notifications: Option<MyNotifications>,
}

/// A citizen's notification settings and messages, as exported.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MyNotifications {
    pub channel: NoticeChannel,
    pub phone: Option<String>,
    pub phone_verified_at: Option<DateTime<Utc>>,
    pub devices: Vec<DeviceView>,
    /// The messages decided for them, newest first.
    pub notices: Vec<NoticeView>,
}

/// One of the caller's uploads.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MyUpload {
    pub id: String,
    pub content_type: String,
    pub bytes: u64,
    pub status: UploadStatus,
    pub created_at: DateTime<Utc>,
    /// The case of theirs that names it (its report or an answer), if any.
    pub case: Option<UploadCase>,
}

/// The case an upload is attached to.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UploadCase {
    pub id: String,
    pub tracking_code: String,
}

/// A case the caller follows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MyFollow {
    pub tracking_code: String,
    pub since: DateTime<Utc>,
    pub reason: FollowReason,
}

/// The registration record of an account.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountRecord {
    pub sub: String,
    pub role: Role,
    pub unit: Option<UnitCode>,
    pub registered_at: DateTime<Utc>,
}

/// One of the caller's cases.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MyCase {
    /// The case as its reporter sees it (contact, description, public entries).
    pub case: CaseView,
    /// Every timeline entry the caller wrote (answers, ratings, reopen
    /// reasons), public or not.
    pub your_entries: Vec<TimelineEvent>,
    /// When the personal data of this case will be erased (set once closed).
    pub erase_after: Option<DateTime<Utc>>,
    /// When the caller asked for erasure, if they did.
    pub erasure_requested_at: Option<DateTime<Utc>>,
}

/// A case named in an erasure's answer.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CaseRef {
    pub id: String,
    pub tracking_code: String,
    pub status: Status,
}

/// What `DELETE /v1/me/data` did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ErasureReport {
    /// Closed cases whose personal data was erased now.
    pub erased: Vec<CaseRef>,
    /// Cases not closed yet: staff keep what they need to finish them; each
    /// is erased by the retention sweep as soon as it closes.
    pub pending: Vec<CaseRef>,
    /// Follows removed now (all of the caller's).
    pub follows_removed: usize,
    /// The caller's uploads not attached to any case, deleted now (those
    /// of an erased case go with it; those of a pending case with it later).
    pub uploads_deleted: usize,
    /// Their notification settings (phone, devices) were forgotten now.
    pub notifications_forgotten: bool,
    /// The messages decided for them, forgotten now (none is sent after).
    pub notices_forgotten: usize,
}

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// A change of the case (a timeline entry), including `erasure_requested` and `erase`.
    Change,
    /// An access to its personal data that changed nothing (`export`).
    Access,
}

/// One line of a case's audit trail: what, who, which role, which channel, when.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub kind: AuditKind,
    /// `submitted`, `routed`, `accept`, … `sweep`, `close`,
    /// `erasure_requested`, `erase`; or `export`.
    pub action: String,
    /// The case version a change produced.
    pub version: Option<u64>,
    /// The subject; `null` once the reporter's data is erased (their role stays).
    pub actor: Option<String>,
    pub actor_role: String,
    /// `null` only for entries written before channels were recorded.
    pub channel: Option<Channel>,
    pub from_status: Option<Status>,
    pub to_status: Option<Status>,
    pub unit: Option<UnitCode>,
}

impl AuditEntry {
    pub fn change(e: &TimelineEvent) -> Self {
        AuditEntry {
            at: e.at,
            kind: AuditKind::Change,
            action: e.action.clone(),
            version: Some(e.version),
            actor: (!e.actor.is_empty()).then(|| e.actor.clone()),
            actor_role: e.actor_role.clone(),
            channel: e.channel_or_inferred(),
            from_status: e.from_status,
            to_status: e.to_status,
            unit: e.unit.clone(),
        }
    }

    pub fn access(a: &AccessRecord) -> Self {
        AuditEntry {
            at: a.at,
            kind: AuditKind::Access,
            action: a.action.clone(),
            version: None,
            actor: (!a.actor.is_empty()).then(|| a.actor.clone()),
            actor_role: a.actor_role.as_str().into(),
            channel: Some(a.channel),
            from_status: None,
            to_status: None,
            unit: None,
        }
    }
}

/// A case's audit trail (inspectors, admins).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditTrail {
    pub case_id: String,
    pub tracking_code: String,
    pub erase_after: Option<DateTime<Utc>>,
    pub erasure_requested_at: Option<DateTime<Utc>>,
    pub erased_at: Option<DateTime<Utc>>,
    /// Oldest first.
    pub entries: Vec<AuditEntry>,
}
