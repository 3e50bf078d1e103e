//! Telling citizens what happened to the cases they reported or follow:
//! their preferences and devices ([`NoticePrefs`]), the messages decided
//! for them ([`Notice`], one per change and recipient) and the messenger
//! that delivers those on the citizen's own channel ([`Messenger`]: SNS SMS
//! and mobile push on AWS; locally a webhook or the log). Phone numbers and
//! device tokens live here only: never in a case, an outbox entry or a
//! message on the agencies' topic.

use super::StoreResult;
use crate::case::Status;
use crate::ids::CaseId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How a citizen wants to hear about their cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeChannel {
    /// Push to the devices the app registered (the default).
    #[default]
    Push,
    /// SMS to a verified phone the citizen opted in.
    Sms,
    /// Nothing (the citizen looks the case up themselves).
    Off,
}

impl NoticeChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeChannel::Push => "push",
            NoticeChannel::Sms => "sms",
            NoticeChannel::Off => "off",
        }
    }
}

/// A mobile push platform (an SNS platform application on AWS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// Firebase Cloud Messaging (Android, and the web app).
    Fcm,
    /// Apple Push Notification service.
    Apns,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Fcm => "fcm",
            Platform::Apns => "apns",
        }
    }
}

/// A device the app registered for push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// pakn's id for it (what `DELETE /v1/me/devices/{id}` takes).
    pub id: String,
    pub platform: Platform,
    /// The platform's token (personal data: never shown back, never published).
    pub token: String,
    /// Where the messenger pushes to: an SNS endpoint ARN on AWS, the token locally.
    pub endpoint: String,
    pub registered_at: DateTime<Utc>,
}

/// A verification code sent to a phone, kept as a hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhoneCode {
    /// SHA-256 of the subject, the phone and the code.
    pub hash: String,
    pub sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Wrong codes tried so far.
    pub attempts: u32,
}

/// One citizen's notification preferences and devices: one record each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticePrefs {
    pub sub: String,
    #[serde(default)]
    pub channel: NoticeChannel,
    /// E.164 (`+84…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// When the citizen proved the phone is theirs (a code sent to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_verified_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<PhoneCode>,
    #[serde(default)]
    pub devices: Vec<Device>,
    /// 1 for the first save; each save adds one (optimistic concurrency).
    pub version: u64,
    pub updated_at: DateTime<Utc>,
}

impl NoticePrefs {
    /// Nothing chosen yet: push by default, no device, no phone.
    pub fn new(sub: &str, now: DateTime<Utc>) -> Self {
        NoticePrefs {
            sub: sub.into(),
            channel: NoticeChannel::Push,
            phone: None,
            phone_verified_at: None,
            code: None,
            devices: vec![],
            version: 0,
            updated_at: now,
        }
    }

    /// The verified phone, if SMS is chosen and the phone is proved.
    pub fn sms_phone(&self) -> Option<&str> {
        match (self.channel, &self.phone, self.phone_verified_at) {
            (NoticeChannel::Sms, Some(p), Some(_)) => Some(p),
            _ => None,
        }
    }

    /// Whether a notice on `channel` can be delivered now.
    pub fn reachable_on(&self, channel: NoticeChannel) -> bool {
        match channel {
            NoticeChannel::Sms => self.sms_phone().is_some(),
            NoticeChannel::Push => self.channel == NoticeChannel::Push && !self.devices.is_empty(),
            NoticeChannel::Off => false,
        }
    }

    /// The channel a new notice goes on, if any.
    pub fn deliverable(&self) -> Option<NoticeChannel> {
        [NoticeChannel::Sms, NoticeChannel::Push]
            .into_iter()
            .find(|c| self.reachable_on(*c))
    }
}

/// Where a notice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeState {
    /// Decided; waiting for `next_at` (quiet hours, a retry).
    Pending,
    /// The messenger accepted it (SNS answered a message id).
    Sent,
    /// Tried as often as policy allows; `last_error` says why.
    GaveUp,
    /// Not sent: the citizen turned the channel off (or erased their data) first.
    Dropped,
}

/// One message to one citizen about one change: decided once (its `id`
/// is derived from the change's `dedup_id` and the recipient), then sent
/// until the messenger accepts it or given up with a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// `<dedup_id>@<recipient hash>`: the same change and recipient, the same id.
    pub id: String,
    /// The change's `dedup_id` (`case.status_changed`).
    pub dedup_id: String,
    /// The recipient (personal data).
    pub sub: String,
    pub case_id: CaseId,
    pub tracking_code: String,
    /// The status the case moved to.
    pub status: Status,
    /// `true` for the reporter, `false` for a follower.
    pub reporter: bool,
    pub channel: NoticeChannel,
    /// The message, in Vietnamese.
    pub text: String,
    /// Urgent cases are told at night too (SMS).
    pub urgent: bool,
    pub state: NoticeState,
    /// When to try next (pending only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_at: Option<DateTime<Utc>>,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    /// SMS segments billed (0 for push).
    #[serde(default)]
    pub segments: u32,
}

#[async_trait]
pub trait NoticeStore: Send + Sync {
    /// A citizen's preferences, if they ever saved any.
    async fn notice_prefs(&self, sub: &str) -> StoreResult<Option<NoticePrefs>>;
    /// Several citizens' preferences (those that exist), in any order.
    async fn notice_prefs_many(&self, subs: &[String]) -> StoreResult<Vec<NoticePrefs>> {
        let mut out = Vec::new();
        for s in subs {
            if let Some(p) = self.notice_prefs(s).await? {
                out.push(p);
            }
        }
        Ok(out)
    }
    /// Save `p` on the condition that the stored version is `p.version - 1`
    /// (absent for version 1); `Conflict` (nothing written) otherwise.
    async fn save_notice_prefs(&self, p: &NoticePrefs) -> StoreResult<()>;
    /// Forget a citizen's preferences, phone and devices (idempotent).
    async fn delete_notice_prefs(&self, sub: &str) -> StoreResult<()>;
    /// Record each notice unless one with its id exists (decided once);
    /// answers, per notice in order, whether it was new.
    async fn decide_notices(&self, notices: &[Notice]) -> StoreResult<Vec<bool>>;
    /// Pending notices with `next_at <= now`, earliest first, at most `limit`.
    async fn due_notices(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Notice>>;
    /// Overwrite a notice with `n` on the condition that it is still
    /// pending with `expected_attempts` attempts; `false` (nothing written)
    /// otherwise. A sender claims a notice this way (counting the attempt)
    /// before sending it, and records the result the same way. It stays
    /// due only while pending.
    async fn settle_notice(&self, n: &Notice, expected_attempts: u32) -> StoreResult<bool>;
    /// A citizen's notices, newest first, at most `limit`.
    async fn notices_of(&self, sub: &str, limit: usize) -> StoreResult<Vec<Notice>>;
    /// Forget every notice of a citizen (an erasure): none is listed,
    /// due or sent again, and a pending one can no longer be settled.
    /// Answers how many were forgotten (idempotent: 0 the second time).
    async fn forget_notices(&self, sub: &str) -> StoreResult<usize>;
}

/// One message for the messenger.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outgoing<'a> {
    pub channel: NoticeChannel,
    /// A phone (SMS) or a device endpoint (push).
    pub to: &'a str,
    pub text: &'a str,
    /// The notice's id (a receiver drops repeats by it).
    pub id: &'a str,
    pub tracking_code: &'a str,
    pub status: Status,
}

/// Delivers messages on citizens' own channels.
#[async_trait]
pub trait Messenger: Send + Sync {
    /// The push platforms devices can be registered on (none: push is off).
    fn push_platforms(&self) -> Vec<Platform>;
    /// Register a device token; answers the endpoint to push to.
    async fn register_device(&self, platform: Platform, token: &str) -> StoreResult<String>;
    /// Send one message; `Ok` once the provider accepted it.
    async fn send(&self, m: &Outgoing<'_>) -> StoreResult<()>;
}

/// No messenger: push cannot be registered and nothing can be sent (what
/// a `Pakn` has until its composition root sets one).
pub struct NoMessenger;

#[async_trait]
impl Messenger for NoMessenger {
    fn push_platforms(&self) -> Vec<Platform> {
        vec![]
    }
    async fn register_device(&self, _: Platform, _: &str) -> StoreResult<String> {
        Err(super::StoreError::msg("no messenger is configured"))
    }
    async fn send(&self, _: &Outgoing<'_>) -> StoreResult<()> {
        Err(super::StoreError::msg("no messenger is configured"))
    }
}
