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

use crate::case::Status;
use crate::category::Urgency;
use crate::notify::{Notification, event};
use crate::ports::{
    CaseStore, Clock, FollowerStore, Messenger, Notice, NoticeChannel, NoticeState, NoticeStore,
    Outgoing, QuotaStore, StoreError, StoreResult,
};
use crate::refdata::RefData;
use crate::unit::UnitCode;
use chrono::Duration;
use serde::Serialize;
use sha2::{Digest, Sha256};

mod settings;
mod words;

pub use settings::*;
pub use words::*;

/// Attempts at one notice before it is given up.
pub const MAX_ATTEMPTS: u32 = 6;
/// How long a claimed notice is left to its sender before another may retry it.
pub const CLAIM: i64 = 120;
/// Quiet hours for SMS, local time: from 21:00 to 07:00.
pub const QUIET_FROM_HOUR: u32 = 21;
pub const QUIET_TO_HOUR: u32 = 7;
/// Notices sent at once by the change that decided them; the rest (many
/// followers) go out with the sweep's next pass.
pub const SEND_AT_ONCE: usize = 10;

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

fn recipient_hash(sub: &str) -> String {
    let d = Sha256::digest(sub.as_bytes());
    d[..8].iter().map(|b| format!("{b:02x}")).collect()
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
        // The first few due now are decided already claimed by this sender
        // (their first attempt counted, leased for CLAIM seconds): one write
        // less each, and a crash before sending leaves them to the sweep
        // once the lease ends.
        for n in notices
            .iter_mut()
            .filter(|n| n.next_at.is_some_and(|t| t <= now))
            .take(SEND_AT_ONCE)
        {
            n.attempts = 1;
            n.next_at = Some(now + Duration::seconds(CLAIM));
        }
        let new = self.store.decide_notices(&notices).await?;
        // A repeat after a partial failure finds some already decided:
        // their sending is the sweep's.
        let fresh = notices
            .into_iter()
            .zip(new)
            .filter_map(|(n, new)| (new && n.attempts == 1).then_some(n))
            .collect();
        Ok(fresh)
    }

    /// Send what [`Notices::decide`] just decided claimed (the rest, and
    /// whatever fails, is the sweep's).
    pub async fn send_now(&self, notices: &[Notice]) {
        for n in notices.iter().filter(|n| n.attempts == 1) {
            if let Err(e) = self.send_claimed(n).await {
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
        self.send_claimed(&claimed).await
    }

    /// Send a notice this sender claimed (its attempt already counted) and
    /// record the outcome.
    async fn send_claimed(&self, claimed: &Notice) -> StoreResult<Delivered> {
        let now = self.clock.now();
        let n = claimed;
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
