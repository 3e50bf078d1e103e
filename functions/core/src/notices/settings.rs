//! The citizen's side: their channel, a phone proved by a code sent to it,
//! the devices the app registers, and the notices they were sent
//! (`GET`/`PUT /v1/me/notifications`, `POST /v1/me/notifications/verify`,
//! `POST /v1/me/devices`, `DELETE /v1/me/devices/{id}`).

use super::{Notices, QUIET_FROM_HOUR, QUIET_TO_HOUR, normalize_phone, recipient_hash};
use crate::auth::{self, Permission, Principal, Target};
use crate::case::Status;
use crate::error::{Error, ErrorKind, Result};
use crate::ports::{
    Device, Notice, NoticeChannel, NoticePrefs, NoticeState, Outgoing, PhoneCode, Platform,
    StoreError, StoreResult,
};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A verification code is valid this long (minutes).
pub const CODE_MINUTES: i64 = 10;
/// Wrong codes allowed before the code is void.
pub const CODE_ATTEMPTS: u32 = 5;
/// At most this many codes per citizen per hour, and one a minute.
pub const CODES_PER_HOUR: u32 = 5;
/// At most this many codes to one phone per hour, whoever asks (so that
/// many accounts cannot flood somebody's phone with codes).
pub const CODES_PER_PHONE_HOUR: u32 = 5;
pub const CODE_COOLDOWN_SECONDS: i64 = 60;
/// Devices kept per citizen (the oldest goes first).
pub const MAX_DEVICES: usize = 10;
/// A citizen's recent notices shown with their preferences.
const RECENT: usize = 20;

fn code_hash(sub: &str, phone: &str, code: &str) -> String {
    let d = Sha256::digest(format!("{sub}\n{phone}\n{code}").as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
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

impl From<Device> for DeviceView {
    fn from(d: Device) -> Self {
        DeviceView {
            id: d.id,
            platform: d.platform,
            registered_at: d.registered_at,
        }
    }
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

impl Notices<'_> {
    /// A change of settings counts as one of the citizen's actions (the
    /// same per-minute limit as acting on a case: `429` over it).
    async fn charge(&self, p: &Principal) -> Result<()> {
        crate::quota::charge(
            self.quota,
            self.refdata,
            p,
            crate::quota::Usage::Act,
            self.clock.now(),
        )
        .await
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
            devices: prefs.devices.into_iter().map(DeviceView::from).collect(),
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
        self.charge(p).await?;
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
                // Keyed by a hash: the number itself is not kept in a counter.
                let to = send_code_to.as_deref().unwrap_or_default();
                let t = self
                    .quota
                    .take(
                        &format!("phone-code-to:{}", recipient_hash(to)),
                        crate::ports::window_start(now, Duration::hours(1)),
                        Duration::hours(1),
                        CODES_PER_PHONE_HOUR,
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
                "Mã xác nhận nhận tin phản ánh của bạn: {code} (hiệu lực {CODE_MINUTES} phút)."
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
        self.charge(p).await?;
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
        // Each new device is an endpoint made on the push service.
        self.charge(p).await?;
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
        self.charge(p).await?;
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
