//! Telling citizens what happened (issue 12): every change a citizen should
//! know about reaches the reporter and the followers of the case on their
//! own channel, in Vietnamese.
//!
//! Decisions (README "Telling citizens"):
//! - **What is told.** A `case.status_changed` to `assigned` (routed or
//!   transferred), `awaiting_info` (a question: the reporter only, who alone
//!   can answer it), `resolved`, `rejected` and `closed`. Accepting
//!   (`in_progress`) and triage are not told: nothing for the citizen to do.
//! - **Who.** The reporter (a citizen's own report, not yet erased) and
//!   every follower; each on their channel: push to the devices the app
//!   registered (the default), or SMS to a phone they verified and opted in
//!   to. Nobody with no reachable channel gets a record.
//! - **Decided once.** The outbox's publish of the change decides the
//!   notices, one per recipient, keyed by the change's `dedup_id` and the
//!   recipient, with a conditional write; the outbox entry is marked
//!   published only once that decision is stored, so a crash before it is
//!   redone by the drain and a repeat decides nothing new.
//! - **Sent until accepted.** A notice is claimed (a conditional write
//!   counting the attempt) before it is sent, so two senders never both
//!   send it; a failure is retried with backoff by the sweep, and after
//!   [`MAX_ATTEMPTS`] it is given up with its last error on record.
//! - **Quiet hours.** No SMS from 21:00 to 07:00 in Hanoi except for urgent
//!   cases: such a notice waits until 07:00. Push is not held.
//! - **Privacy.** Phone numbers and device tokens stay in the citizen's
//!   preferences; the agencies' topic carries the status change only.

use crate::auth::{self, Permission, Principal, Target};
use crate::case::{Case, Status};
use crate::category::Urgency;
use crate::error::{Error, ErrorKind, Result};
use crate::notify::{Notification, event};
use crate::ports::{
    CaseStore, Clock, Device, FollowerStore, Messenger, Notice, NoticeChannel, NoticePrefs,
    NoticeState, NoticeStore, Outgoing, PhoneCode, Platform, QuotaStore, StoreError, StoreResult,
};
use crate::refdata::RefData;
use crate::unit::UnitCode;
use chrono::{DateTime, Duration, NaiveTime, Timelike, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Attempts at one notice before it is given up.
pub const MAX_ATTEMPTS: u32 = 6;
/// How long a claimed notice is left to its sender before another may retry it.
pub const CLAIM: i64 = 120;
/// Quiet hours for SMS, local time: from 21:00 to 07:00.
pub const QUIET_FROM_HOUR: u32 = 21;
pub const QUIET_TO_HOUR: u32 = 7;
/// A verification code is valid this long (minutes).
pub const CODE_MINUTES: i64 = 10;
/// Wrong codes allowed before the code is void.
pub const CODE_ATTEMPTS: u32 = 5;
/// At most this many codes per citizen per hour, and one a minute.
pub const CODES_PER_HOUR: u32 = 5;
pub const CODE_COOLDOWN_SECONDS: i64 = 60;
/// Devices kept per citizen (the oldest goes first).
pub const MAX_DEVICES: usize = 10;
/// Notices sent at once by the change that decided them; the rest (many
/// followers) go out with the sweep's next pass.
pub const SEND_AT_ONCE: usize = 10;
/// A citizen's recent notices shown with their preferences.
const RECENT: usize = 20;

/// The statuses citizens are told about.
pub fn told(status: Status) -> bool {
    matches!(
        status,
        Status::Assigned
            | Status::AwaitingInfo
            | Status::Resolved
            | Status::Rejected
            | Status::Closed
    )
}

/// Backoff after a failed attempt `n` (1-based): 1, 5, 15, 60, 240 minutes.
pub fn backoff(attempt: u32) -> Duration {
    Duration::minutes(match attempt {
        0 | 1 => 1,
        2 => 5,
        3 => 15,
        4 => 60,
        _ => 240,
    })
}

/// The earliest time at or after `t` an SMS may go out (07:00 local the
/// same or the next morning when `t` falls in the quiet hours).
pub fn sms_allowed_at(t: DateTime<Utc>, refdata: &RefData) -> DateTime<Utc> {
    let off = refdata.calendar.offset();
    let local = t.with_timezone(&off);
    let h = local.hour();
    if (QUIET_TO_HOUR..QUIET_FROM_HOUR).contains(&h) {
        return t;
    }
    let mut day = local.date_naive();
    if h >= QUIET_FROM_HOUR {
        day = day.succ_opt().unwrap_or(day);
    }
    let morning = day.and_time(NaiveTime::from_hms_opt(QUIET_TO_HOUR, 0, 0).unwrap_or_default());
    morning
        .and_local_timezone(off)
        .single()
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(t)
}

/// A Vietnamese mobile number in E.164 (`+84` and nine digits), from what
/// people type: `0912 345 678`, `84912345678`, `+84 912-345-678`.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let cleaned: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    let national = if let Some(rest) = cleaned.strip_prefix("+84") {
        rest
    } else if let Some(rest) = cleaned.strip_prefix("84").filter(|r| r.len() == 9) {
        rest
    } else if let Some(rest) = cleaned.strip_prefix('0') {
        rest
    } else {
        return None;
    };
    let ok = national.len() == 9
        && national.chars().all(|c| c.is_ascii_digit())
        && matches!(national.as_bytes()[0], b'3' | b'5' | b'7' | b'8' | b'9');
    ok.then(|| format!("+84{national}"))
}

/// `+84912345678` → `+84912***678` (logs and answers to others).
pub fn mask_phone(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    if chars.len() < 8 {
        return "***".into();
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("{head}***{tail}")
}

/// SMS segments a text is billed as: GSM-7 (160, or 153 per part) when
/// every character is in the basic alphabet, otherwise UCS-2 (70, or 67
/// per part) — Vietnamese with its diacritics is UCS-2.
pub fn sms_segments(text: &str) -> u32 {
    const GSM: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    let gsm = text.chars().all(|c| GSM.contains(c));
    let units = if gsm {
        text.chars().count()
    } else {
        text.encode_utf16().count()
    } as u32;
    let (single, part) = if gsm { (160, 153) } else { (70, 67) };
    if units <= single {
        1
    } else {
        units.div_ceil(part)
    }
}

fn recipient_hash(sub: &str) -> String {
    let d = Sha256::digest(sub.as_bytes());
    d[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn code_hash(sub: &str, phone: &str, code: &str) -> String {
    let d = Sha256::digest(format!("{sub}\n{phone}\n{code}").as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The message for a change, in Vietnamese (one SMS segment where it fits).
pub fn text(
    case: &Case,
    status: Status,
    reporter: bool,
    unit: Option<&UnitCode>,
    refdata: &RefData,
) -> String {
    let code = &case.tracking_code;
    let whose = if reporter {
        "Phản ánh"
    } else {
        "Phản ánh bạn theo dõi"
    };
    let unit_name = unit
        .and_then(|u| refdata.unit(u))
        .map(|u| u.name_vi.clone())
        .unwrap_or_else(|| "cơ quan chức năng".into());
    match status {
        Status::Assigned => format!("{whose} {code} đã được chuyển tới {unit_name} xử lý."),
        Status::AwaitingInfo => format!(
            "{unit_name} cần bạn bổ sung thông tin cho phản ánh {code}. Hãy mở ứng dụng để trả lời."
        ),
        Status::Resolved if reporter => {
            format!("Phản ánh {code} đã được {unit_name} xử lý. Mời bạn xem kết quả và đánh giá.")
        }
        Status::Resolved => format!("{whose} {code} đã được {unit_name} xử lý."),
        Status::Rejected => {
            format!("{whose} {code} không được {unit_name} tiếp nhận. Xem lý do trong ứng dụng.")
        }
        Status::Closed => match &case.duplicate_of {
            Some(d) => format!(
                "{whose} {code} trùng với phản ánh {}; bạn sẽ nhận tin về phản ánh đó.",
                d.tracking_code
            ),
            None => format!("{whose} {code} đã kết thúc. Cảm ơn bạn."),
        },
        other => format!("{whose} {code}: {}.", other.label_vi()),
    }
}

/// What `GET /v1/me/notifications` answers.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NoticeSettings {
    /// The channel chosen: `push` (default), `sms` or `off`.
    pub channel: NoticeChannel,
    /// The channel notices go on now (`null`: nothing reaches the citizen,
    /// e.g. push chosen with no device, or SMS with the phone unverified).
    pub active: Option<NoticeChannel>,
    pub phone: Option<String>,
    pub phone_verified: bool,
    /// A code was sent to `phone` and can still be entered.
    pub verification_pending: bool,
    pub devices: Vec<DeviceView>,
    /// Platforms a device can be registered on here.
    pub push_platforms: Vec<Platform>,
    /// No SMS in these hours (Hanoi time) except for urgent cases.
    pub quiet_hours: QuietHours,
    /// The latest messages decided for the citizen, newest first.
    pub recent: Vec<NoticeView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QuietHours {
    pub from: String,
    pub to: String,
}

/// A device as its owner sees it (never the token).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeviceView {
    pub id: String,
    pub platform: Platform,
    pub registered_at: DateTime<Utc>,
}

/// A notice as its recipient sees it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NoticeView {
    pub id: String,
    pub tracking_code: String,
    pub status: Status,
    pub channel: NoticeChannel,
    pub state: NoticeState,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// While pending: when it will be tried (after 07:00 in quiet hours).
    pub next_at: Option<DateTime<Utc>>,
    pub attempts: u32,
}

impl From<Notice> for NoticeView {
    fn from(n: Notice) -> Self {
        NoticeView {
            id: n.id,
            tracking_code: n.tracking_code,
            status: n.status,
            channel: n.channel,
            state: n.state,
            text: n.text,
            created_at: n.created_at,
            sent_at: n.sent_at,
            next_at: n.next_at,
            attempts: n.attempts,
        }
    }
}

/// `PUT /v1/me/notifications`: only what is given changes.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrefsInput {
    pub channel: Option<NoticeChannel>,
    /// A Vietnamese mobile number; a new one is unverified until the code
    /// sent to it is entered (`POST /v1/me/notifications/verify`). Giving
    /// the same unverified number again sends a new code. `""` removes it.
    pub phone: Option<String>,
}

/// What a change of preferences did.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PrefsChanged {
    #[serde(flatten)]
    pub settings: NoticeSettings,
    /// A verification code was sent to `phone` by this request.
    pub code_sent: bool,
}

/// Sweep figures of the notices step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NoticeReport {
    pub sent: usize,
    pub retried: usize,
    pub gave_up: usize,
    pub dropped: usize,
    pub deferred: usize,
}

/// The citizen-notification use cases over the ports they need.
pub struct Notices<'a> {
    pub cases: &'a dyn CaseStore,
    pub followers: &'a dyn FollowerStore,
    pub store: &'a dyn NoticeStore,
    pub messenger: &'a dyn Messenger,
    pub quota: &'a dyn QuotaStore,
    pub clock: &'a dyn Clock,
    pub refdata: &'a RefData,
}

enum Delivered {
    Sent,
    Failed,
    GaveUp,
    Dropped,
    Deferred,
    Taken,
}

impl Notices<'_> {
    /// Decide the notices of one published notification (only a
    /// `case.status_changed` to a told status decides any); answers those
    /// newly decided. Idempotent: a repeat decides nothing new.
    pub async fn decide(&self, n: &Notification) -> StoreResult<Vec<Notice>> {
        if n.event != event::STATUS_CHANGED {
            return Ok(vec![]);
        }
        let Some(case_id) = &n.case_id else {
            return Ok(vec![]);
        };
        let Some(status) = n
            .body
            .get("status")
            .and_then(|s| serde_json::from_value::<Status>(s.clone()).ok())
        else {
            return Ok(vec![]);
        };
        if !told(status) {
            return Ok(vec![]);
        }
        let Some(case) = self.cases.get_case(case_id).await? else {
            return Ok(vec![]);
        };
        let unit = n
            .body
            .get("unit")
            .and_then(|u| serde_json::from_value::<UnitCode>(u.clone()).ok())
            .or_else(|| case.unit.clone());
        let mut recipients: Vec<(String, bool)> = Vec::new();
        if case.submitted_role == crate::auth::Role::Citizen
            && case.erased_at.is_none()
            && !case.submitted_by.is_empty()
        {
            recipients.push((case.submitted_by.clone(), true));
        }
        if status != Status::AwaitingInfo {
            for f in self.followers.followers(case_id).await? {
                if !recipients.iter().any(|(s, _)| *s == f.sub) {
                    recipients.push((f.sub, false));
                }
            }
        }
        if recipients.is_empty() {
            return Ok(vec![]);
        }
        let subs: Vec<String> = recipients.iter().map(|(s, _)| s.clone()).collect();
        let prefs = self.store.notice_prefs_many(&subs).await?;
        let now = self.clock.now();
        let urgent = case.urgency == Urgency::Urgent;
        let mut notices = Vec::new();
        for (sub, reporter) in recipients {
            let Some(channel) = prefs
                .iter()
                .find(|p| p.sub == sub)
                .and_then(|p| p.deliverable())
            else {
                continue;
            };
            let text = text(&case, status, reporter, unit.as_ref(), self.refdata);
            let next_at = if channel == NoticeChannel::Sms && !urgent {
                sms_allowed_at(now, self.refdata)
            } else {
                now
            };
            notices.push(Notice {
                id: format!("{}@{}", n.dedup_id, recipient_hash(&sub)),
                dedup_id: n.dedup_id.clone(),
                sub,
                case_id: case_id.clone(),
                tracking_code: case.tracking_code.clone(),
                status,
                reporter,
                channel,
                segments: if channel == NoticeChannel::Sms {
                    sms_segments(&text)
                } else {
                    0
                },
                text,
                urgent,
                state: NoticeState::Pending,
                next_at: Some(next_at),
                attempts: 0,
                last_error: None,
                created_at: now,
                sent_at: None,
            });
        }
        if notices.is_empty() {
            return Ok(vec![]);
        }
        let new = self.store.decide_notices(&notices).await?;
        // A repeat after a partial failure finds some already decided:
        // their sending is the sweep's.
        let fresh = notices
            .into_iter()
            .zip(new)
            .filter_map(|(n, new)| new.then_some(n))
            .collect();
        Ok(fresh)
    }

    /// Send what was just decided and is due, up to [`SEND_AT_ONCE`] (the
    /// rest, and whatever fails, is the sweep's).
    pub async fn send_now(&self, notices: &[Notice]) {
        let now = self.clock.now();
        for n in notices
            .iter()
            .filter(|n| n.next_at.is_some_and(|t| t <= now))
            .take(SEND_AT_ONCE)
        {
            if let Err(e) = self.deliver(n).await {
                tracing::warn!(notice = %n.id, error = %e, "notice left for the sweep");
            }
        }
    }

    /// The sweep's step: send every due notice (at most `limit`).
    pub async fn send_due(&self, limit: usize) -> StoreResult<NoticeReport> {
        let now = self.clock.now();
        let mut r = NoticeReport::default();
        for n in self.store.due_notices(now, limit).await? {
            match self.deliver(&n).await {
                Ok(Delivered::Sent) => r.sent += 1,
                Ok(Delivered::Failed) => r.retried += 1,
                Ok(Delivered::GaveUp) => r.gave_up += 1,
                Ok(Delivered::Dropped) => r.dropped += 1,
                Ok(Delivered::Deferred) => r.deferred += 1,
                Ok(Delivered::Taken) => {}
                Err(e) => {
                    tracing::warn!(notice = %n.id, error = %e, "notice left for the next pass")
                }
            }
        }
        Ok(r)
    }

    async fn deliver(&self, n: &Notice) -> StoreResult<Delivered> {
        let now = self.clock.now();
        if n.state != NoticeState::Pending {
            return Ok(Delivered::Taken);
        }
        // SMS in quiet hours (a retry can fall there): wait until morning.
        if n.channel == NoticeChannel::Sms && !n.urgent {
            let allowed = sms_allowed_at(now, self.refdata);
            if allowed > now {
                let mut later = n.clone();
                later.next_at = Some(allowed);
                return Ok(if self.store.settle_notice(&later, n.attempts).await? {
                    Delivered::Deferred
                } else {
                    Delivered::Taken
                });
            }
        }
        // Claim: count the attempt first, so no other sender sends it too.
        let mut claimed = n.clone();
        claimed.attempts += 1;
        claimed.next_at = Some(now + Duration::seconds(CLAIM));
        if !self.store.settle_notice(&claimed, n.attempts).await? {
            return Ok(Delivered::Taken);
        }
        let mut done = claimed.clone();
        let prefs = self.store.notice_prefs(&n.sub).await?;
        let targets: Vec<String> = match (&prefs, n.channel) {
            (Some(p), NoticeChannel::Sms) => p.sms_phone().map(|s| vec![s.to_string()]),
            (Some(p), NoticeChannel::Push) if p.reachable_on(NoticeChannel::Push) => {
                Some(p.devices.iter().map(|d| d.endpoint.clone()).collect())
            }
            _ => None,
        }
        .unwrap_or_default();
        if targets.is_empty() {
            done.state = NoticeState::Dropped;
            done.next_at = None;
            done.last_error = Some("channel_off".into());
            self.store.settle_notice(&done, claimed.attempts).await?;
            return Ok(Delivered::Dropped);
        }
        let mut accepted = 0;
        let mut last_error = None;
        for to in &targets {
            let m = Outgoing {
                channel: n.channel,
                to,
                text: &n.text,
                id: &n.id,
                tracking_code: &n.tracking_code,
                status: n.status,
            };
            match self.messenger.send(&m).await {
                Ok(()) => accepted += 1,
                Err(e) => last_error = Some(error_chain(&e)),
            }
        }
        let outcome = if accepted > 0 {
            done.state = NoticeState::Sent;
            done.sent_at = Some(now);
            done.next_at = None;
            done.last_error = last_error;
            Delivered::Sent
        } else if claimed.attempts >= MAX_ATTEMPTS {
            done.state = NoticeState::GaveUp;
            done.next_at = None;
            done.last_error = last_error;
            tracing::warn!(notice = %n.id, attempts = claimed.attempts, "notice given up");
            Delivered::GaveUp
        } else {
            done.next_at = Some(now + backoff(claimed.attempts));
            done.last_error = last_error;
            Delivered::Failed
        };
        self.store.settle_notice(&done, claimed.attempts).await?;
        Ok(outcome)
    }

    async fn prefs_of(&self, sub: &str) -> Result<NoticePrefs> {
        Ok(self
            .store
            .notice_prefs(sub)
            .await?
            .unwrap_or_else(|| NoticePrefs::new(sub, self.clock.now())))
    }

    async fn settings(&self, prefs: NoticePrefs) -> Result<NoticeSettings> {
        let now = self.clock.now();
        let recent = self
            .store
            .notices_of(&prefs.sub, RECENT)
            .await?
            .into_iter()
            .map(NoticeView::from)
            .collect();
        Ok(NoticeSettings {
            active: prefs.deliverable(),
            channel: prefs.channel,
            phone_verified: prefs.phone.is_some() && prefs.phone_verified_at.is_some(),
            verification_pending: prefs
                .code
                .as_ref()
                .is_some_and(|c| c.expires_at > now && c.attempts < CODE_ATTEMPTS),
            phone: prefs.phone,
            devices: prefs
                .devices
                .into_iter()
                .map(|d| DeviceView {
                    id: d.id,
                    platform: d.platform,
                    registered_at: d.registered_at,
                })
                .collect(),
            push_platforms: self.messenger.push_platforms(),
            quiet_hours: QuietHours {
                from: format!("{QUIET_FROM_HOUR:02}:00"),
                to: format!("{QUIET_TO_HOUR:02}:00"),
            },
            recent,
        })
    }

    /// `GET /v1/me/notifications`.
    pub async fn get(&self, p: &Principal) -> Result<NoticeSettings> {
        auth::require(p, Permission::OwnNotifications, Target::Nothing)?;
        let prefs = self.prefs_of(&p.sub).await?;
        self.settings(prefs).await
    }

    /// Read, change and save the caller's preferences, retrying when
    /// another request saved in between.
    async fn update<T>(
        &self,
        sub: &str,
        mut f: impl FnMut(&mut NoticePrefs) -> Result<T>,
    ) -> Result<(NoticePrefs, T)> {
        for _ in 0..4 {
            let mut prefs = self.prefs_of(sub).await?;
            let out = f(&mut prefs)?;
            prefs.version += 1;
            prefs.updated_at = self.clock.now();
            match self.store.save_notice_prefs(&prefs).await {
                Ok(()) => return Ok((prefs, out)),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::new(ErrorKind::Conflict, "concurrent_update"))
    }

    /// `PUT /v1/me/notifications`.
    pub async fn put(&self, p: &Principal, input: PrefsInput) -> Result<PrefsChanged> {
        auth::require(p, Permission::OwnNotifications, Target::Nothing)?;
        let now = self.clock.now();
        let phone = match input.phone.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(raw) => {
                Some(Some(normalize_phone(raw).ok_or_else(|| {
                    Error::invalid("phone", "not_a_mobile_phone")
                })?))
            }
        };
        let current = self.prefs_of(&p.sub).await?;
        // A code goes out for a new number, or again for the same unverified one.
        let send_code_to = match &phone {
            Some(Some(ph)) if current.phone.as_deref() != Some(ph.as_str()) => Some(ph.clone()),
            Some(Some(ph)) if current.phone_verified_at.is_none() => Some(ph.clone()),
            _ => None,
        };
        let code = match &send_code_to {
            Some(_) => {
                if let Some(c) = &current.code {
                    let wait = CODE_COOLDOWN_SECONDS - (now - c.sent_at).num_seconds();
                    if wait > 0 {
                        return Err(Error::rate_limited(wait));
                    }
                }
                let t = self
                    .quota
                    .take(
                        &format!("phone-code:{}", p.sub),
                        crate::ports::window_start(now, Duration::hours(1)),
                        Duration::hours(1),
                        CODES_PER_HOUR,
                    )
                    .await?;
                if !t.allowed {
                    return Err(Error::rate_limited((t.window_end - now).num_seconds()));
                }
                Some(format!("{:06}", rand::random::<u32>() % 1_000_000))
            }
            None => None,
        };
        let (prefs, ()) = self
            .update(&p.sub, |prefs| {
                if let Some(ph) = &phone {
                    if prefs.phone != *ph {
                        prefs.phone_verified_at = None;
                        prefs.code = None;
                    }
                    prefs.phone = ph.clone();
                }
                if let Some(c) = input.channel {
                    prefs.channel = c;
                }
                if prefs.channel == NoticeChannel::Sms && prefs.phone.is_none() {
                    return Err(Error::invalid("phone", "phone_required"));
                }
                if let (Some(ph), Some(code)) = (&send_code_to, &code) {
                    prefs.code = Some(PhoneCode {
                        hash: code_hash(&p.sub, ph, code),
                        sent_at: now,
                        expires_at: now + Duration::minutes(CODE_MINUTES),
                        attempts: 0,
                    });
                }
                Ok(())
            })
            .await?;
        let mut code_sent = false;
        if let (Some(ph), Some(code)) = (&send_code_to, &code) {
            // Asked for now by the citizen: sent day or night.
            let text = format!(
                "Mã xác nhận số điện thoại nhận tin phản ánh của bạn: {code}. Mã có hiệu lực {CODE_MINUTES} phút."
            );
            let m = Outgoing {
                channel: NoticeChannel::Sms,
                to: ph,
                text: &text,
                id: &format!("verify:{}:{}", recipient_hash(&p.sub), now.timestamp()),
                tracking_code: "",
                status: Status::Received,
            };
            self.messenger.send(&m).await.map_err(Error::from)?;
            code_sent = true;
        }
        Ok(PrefsChanged {
            settings: self.settings(prefs).await?,
            code_sent,
        })
    }

    /// `POST /v1/me/notifications/verify`: prove the phone with the code sent to it.
    pub async fn verify(&self, p: &Principal, code: &str) -> Result<NoticeSettings> {
        auth::require(p, Permission::OwnNotifications, Target::Nothing)?;
        let now = self.clock.now();
        let code: String = code.trim().chars().take(16).collect();
        let code = code.as_str();
        let (prefs, ok) = self
            .update(&p.sub, |prefs| {
                let (Some(phone), Some(c)) = (prefs.phone.clone(), prefs.code.as_mut()) else {
                    return Err(Error::new(ErrorKind::Conflict, "no_code_pending"));
                };
                if c.expires_at <= now || c.attempts >= CODE_ATTEMPTS {
                    return Err(Error::new(ErrorKind::Conflict, "code_expired"));
                }
                if c.hash == code_hash(&p.sub, &phone, code) {
                    prefs.code = None;
                    prefs.phone_verified_at = Some(now);
                    Ok(true)
                } else {
                    c.attempts += 1;
                    Ok(false)
                }
            })
            .await?;
        if !ok {
            let left = prefs
                .code
                .as_ref()
                .map(|c| CODE_ATTEMPTS.saturating_sub(c.attempts))
                .unwrap_or(0);
            return Err(Error::invalid("code", "wrong_code").with("attempts_left", left));
        }
        self.settings(prefs).await
    }

    /// `POST /v1/me/devices`: register a device for push; `(device, new)`.
    pub async fn register_device(
        &self,
        p: &Principal,
        platform: Platform,
        token: &str,
    ) -> Result<(DeviceView, bool)> {
        auth::require(p, Permission::OwnNotifications, Target::Nothing)?;
        let platforms = self.messenger.push_platforms();
        if platforms.is_empty() {
            return Err(Error::new(ErrorKind::NotFound, "push_not_configured"));
        }
        if !platforms.contains(&platform) {
            let accepted: Vec<&str> = platforms.iter().map(|p| p.as_str()).collect();
            return Err(Error::invalid("platform", "unsupported_platform")
                .with("accepted", accepted.join(", ")));
        }
        let token = token.trim();
        if token.is_empty()
            || token.len() > 4096
            || token.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(Error::invalid("token", "invalid_device_token"));
        }
        let existing = self.prefs_of(&p.sub).await?;
        if let Some(d) = existing
            .devices
            .iter()
            .find(|d| d.platform == platform && d.token == token)
        {
            return Ok((view(d), false));
        }
        let endpoint = self
            .messenger
            .register_device(platform, token)
            .await
            .map_err(Error::from)?;
        let now = self.clock.now();
        let device = Device {
            id: ulid::Ulid::new().to_string().to_lowercase(),
            platform,
            token: token.to_string(),
            endpoint,
            registered_at: now,
        };
        let (_, (d, new)) = self
            .update(&p.sub, |prefs| {
                if let Some(d) = prefs
                    .devices
                    .iter()
                    .find(|d| d.platform == platform && d.token == token)
                {
                    return Ok((view(d), false));
                }
                prefs.devices.push(device.clone());
                if prefs.devices.len() > MAX_DEVICES {
                    prefs.devices.remove(0);
                }
                Ok((view(&device), true))
            })
            .await?;
        Ok((d, new))
    }

    /// `DELETE /v1/me/devices/{id}` (idempotent).
    pub async fn remove_device(&self, p: &Principal, id: &str) -> Result<()> {
        auth::require(p, Permission::OwnNotifications, Target::Nothing)?;
        if self.store.notice_prefs(&p.sub).await?.is_none() {
            return Ok(());
        }
        self.update(&p.sub, |prefs| {
            prefs.devices.retain(|d| d.id != id);
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// A citizen's preferences and devices, for `GET /v1/me/data`.
    pub async fn export(&self, sub: &str) -> StoreResult<Option<NoticePrefs>> {
        self.store.notice_prefs(sub).await
    }
}

fn view(d: &Device) -> DeviceView {
    DeviceView {
        id: d.id.clone(),
        platform: d.platform,
        registered_at: d.registered_at,
    }
}

fn error_chain(e: &StoreError) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn hanoi(h: u32, m: u32) -> DateTime<Utc> {
        // 2025-08-04 local = UTC+7.
        Utc.with_ymd_and_hms(2025, 8, 4, 0, 0, 0).unwrap()
            + Duration::hours(h as i64 - 7)
            + Duration::minutes(m as i64)
    }

    #[test]
    fn sms_waits_for_morning_in_quiet_hours_only() {
        let r = RefData::embedded();
        assert_eq!(sms_allowed_at(hanoi(9, 0), &r), hanoi(9, 0));
        assert_eq!(sms_allowed_at(hanoi(20, 59), &r), hanoi(20, 59));
        assert_eq!(sms_allowed_at(hanoi(21, 0), &r), hanoi(31, 0));
        assert_eq!(sms_allowed_at(hanoi(23, 30), &r), hanoi(31, 0));
        assert_eq!(sms_allowed_at(hanoi(3, 15), &r), hanoi(7, 0));
        assert_eq!(sms_allowed_at(hanoi(7, 0), &r), hanoi(7, 0));
        assert_eq!(sms_allowed_at(hanoi(6, 59), &r), hanoi(7, 0));
    }

    #[test]
    fn phones_are_vietnamese_mobiles_in_e164() {
        for ok in [
            "0912345678",
            "+84912345678",
            "84912345678",
            "091 234 5678",
            "+84 (91) 234-5678",
            "0358.123.456",
        ] {
            assert!(normalize_phone(ok).is_some(), "{ok}");
        }
        assert_eq!(normalize_phone("0912345678").unwrap(), "+84912345678");
        assert_eq!(normalize_phone("0358.123.456").unwrap(), "+84358123456");
        for bad in [
            "",
            "0912",
            "02412345678",
            "+14155550100",
            "09123456789",
            "091234567a",
            "0112345678",
        ] {
            assert!(normalize_phone(bad).is_none(), "{bad}");
        }
        assert_eq!(mask_phone("+84912345678"), "+84912***678");
    }

    #[test]
    fn vietnamese_sms_is_billed_as_ucs2() {
        assert_eq!(sms_segments("Phan anh da xu ly"), 1);
        assert_eq!(sms_segments(&"a".repeat(160)), 1);
        assert_eq!(sms_segments(&"a".repeat(161)), 2);
        assert_eq!(sms_segments(&"đ".repeat(70)), 1);
        assert_eq!(sms_segments(&"đ".repeat(71)), 2);
        assert_eq!(sms_segments(&"đ".repeat(134)), 2);
        assert_eq!(sms_segments(&"đ".repeat(135)), 3);
    }

    #[test]
    fn backoff_grows_and_stays_bounded() {
        let ds: Vec<i64> = (1..=MAX_ATTEMPTS)
            .map(|a| backoff(a).num_minutes())
            .collect();
        assert!(ds.windows(2).all(|w| w[0] <= w[1]), "{ds:?}");
        assert_eq!(ds[0], 1);
        assert_eq!(*ds.last().unwrap(), 240);
    }

    #[test]
    fn only_changes_a_citizen_acts_on_are_told() {
        assert!(told(Status::Assigned) && told(Status::Resolved) && told(Status::Closed));
        assert!(told(Status::AwaitingInfo) && told(Status::Rejected));
        assert!(!told(Status::InProgress) && !told(Status::Triage) && !told(Status::Received));
    }
}
