//! Intake: a citizen's (or a hotline operator's) report becomes a durable
//! `received` case. The edge hands over a [`Report`] whose shape is checked
//! (lengths, NFC text, URL and phone formats); intake checks what needs the
//! city's reference data or the caller's role, draws the ids and stores the
//! case with its idempotency record in one write.
//!
//! A citizen's `urgent` (a 1-hour acknowledgement, alerts day and night)
//! applies at once up to `rate_limits.citizen_urgent_per_day` reports per
//! local day; beyond that the report is accepted as `normal`, the receipt
//! carries the notice `urgency_capped` and the `submitted` timeline entry
//! records it (`data.urgency_capped`). Staff can still `regrade` it.

use crate::auth::{self, Permission, Principal, Role, Target};
use crate::case::{Case, Channel, Contact, Location, Status, Submission, TimelineEvent};
use crate::category::{Kind, Urgency};
use crate::error::{Error, ErrorKind, Result};
use crate::ids::{self, CaseId};
use crate::milestones::next_action_at;
use crate::ports::{CaseStore, Clock, Created, IdemRecord, NewCase, QuotaStore, StoreError};
use crate::quota::{self, Usage};
use crate::refdata::RefData;
use crate::stats::{ALL, Counter, StatDelta};
use crate::unit::UnitCode;
use chrono::Duration;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Hanoi's bounding box (with a margin): coordinates outside are refused.
pub const BBOX: (f64, f64, f64, f64) = (20.50, 21.42, 105.25, 106.05);
pub const MAX_DESCRIPTION: usize = 4000;
pub const MAX_TITLE: usize = 200;
pub const MAX_ADDRESS: usize = 500;
pub const MAX_MEDIA: usize = 10;
pub const IDEMPOTENCY_TTL_HOURS: i64 = 24;

/// A report as the edge parsed it: every text NFC-normalised and bounded,
/// URLs and contact formats checked, `ward_code` a 5-digit string.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub kind: Option<Kind>,
    pub category: String,
    pub title: String,
    pub description: String,
    pub urgency: Option<Urgency>,
    pub location: Location,
    pub media: Vec<String>,
    pub channel: Option<Channel>,
    pub contact: Option<Contact>,
}

/// The caller's `Idempotency-Key` and the hash of the body it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    /// 1–255 ASCII characters, as the client sent it.
    pub key: String,
    /// SHA-256 (hex) of the body's canonical JSON.
    pub body_hash: String,
}

/// The answer to a submission.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Receipt {
    pub id: String,
    /// For the citizen, the hotline and the public lookup: nine random
    /// characters and a check character, in two groups of five.
    #[schema(example = "HN-26-7K3QX-9MPTR")]
    pub tracking_code: String,
    pub status: Status,
    /// True when an earlier request with the same Idempotency-Key created the case.
    #[serde(skip)]
    pub replayed: bool,
    /// What the caller should know about how the report was taken (worded
    /// by the API's catalogue).
    #[serde(skip)]
    pub notice: Option<Notice>,
}

/// Something a submitter should know though the report was accepted: a
/// stable code and the named parameters of its message (like an
/// [`Error`]'s). The one kind today: `urgency_capped` (`limit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub code: &'static str,
    pub params: Vec<(&'static str, String)>,
}

impl Notice {
    /// The urgent report beyond the day's `limit`, taken as `normal`.
    pub fn urgency_capped(limit: u32) -> Notice {
        Notice {
            code: "urgency_capped",
            params: vec![("limit", limit.to_string())],
        }
    }

    /// The notice a `submitted` timeline entry recorded, if any.
    fn from_submitted(e: &TimelineEvent) -> Option<Notice> {
        let capped = e.data.get("urgency_capped")?;
        let limit = capped.get("limit").and_then(serde_json::Value::as_u64)?;
        Some(Notice::urgency_capped(u32::try_from(limit).ok()?))
    }
}

/// SHA-256 as lowercase hex.
pub fn sha256_hex(s: &[u8]) -> String {
    Sha256::digest(s)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Intake over the ports it needs.
pub struct Intake<'a> {
    pub cases: &'a dyn CaseStore,
    pub quota: &'a dyn QuotaStore,
    pub clock: &'a dyn Clock,
    pub refdata: &'a RefData,
}

impl Intake<'_> {
    /// Accept a report. Answers only once the case is durably stored (and
    /// on its way to the intake queue: see [`CaseStore::create_case`]).
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn submit(
        &self,
        p: &Principal,
        report: Report,
        idempotency: Option<Idempotency>,
    ) -> Result<Receipt> {
        auth::require(p, Permission::Submit, Target::Nothing)?;
        let now = self.clock.now();
        let submission = self.check(p, report)?;
        let mut case = Case::received(
            CaseId::new(now),
            ids::new_tracking_code(now),
            submission,
            p.sub.clone(),
            p.role,
            now,
        );
        let idempotency = idempotency.map(|i| IdemRecord {
            key: sha256_hex(format!("{}\n{}\n{}", p.role.as_str(), p.sub, i.key).as_bytes()),
            body_hash: i.body_hash,
            case_id: case.id.clone(),
            tracking_code: case.tracking_code.clone(),
            expires_at: now + Duration::hours(IDEMPOTENCY_TTL_HOURS),
        });
        // A replay answers as before and is not counted; anything else is.
        if let Some(i) = &idempotency {
            if let Some(rec) = self.cases.idempotency(&i.key, now).await? {
                return self.replay(Some(&i.body_hash), rec).await;
            }
        }
        quota::charge(self.quota, self.refdata, p, Usage::Submit, now).await?;
        // Counted only once the submission itself is: a refused or replayed
        // one leaves the day's urgent count alone.
        let notice = if case.urgency == Urgency::Urgent
            && !quota::take_urgent(self.quota, self.refdata, p, now).await?
        {
            case.urgency = Urgency::Normal;
            Some(Notice::urgency_capped(
                self.refdata.policy.rate_limits.citizen_urgent_per_day,
            ))
        } else {
            None
        };
        case.next_action_at = next_action_at(&case, self.refdata);
        let kind_counter = match case.kind {
            Kind::Field => Counter::ReceivedField,
            Kind::Procedure => Counter::ReceivedProcedure,
        };
        let day = self.refdata.calendar.local_date(now);
        let deltas = [Counter::Received, kind_counter]
            .into_iter()
            .map(|counter| StatDelta {
                day,
                scope: ALL.into(),
                counter,
                amount: 1,
            })
            .collect();
        let event = TimelineEvent {
            at: now,
            version: 1,
            action: "submitted".into(),
            actor: p.sub.clone(),
            actor_role: p.role.as_str().into(),
            channel: Some(case.channel),
            from_status: None,
            to_status: Some(Status::Received),
            unit: None,
            text: None,
            public: true,
            data: match &notice {
                None => serde_json::json!({"channel": case.channel}),
                Some(_) => serde_json::json!({"channel": case.channel, "urgency_capped": {
                    "requested": Urgency::Urgent, "applied": Urgency::Normal,
                    "limit": self.refdata.policy.rate_limits.citizen_urgent_per_day}}),
            },
        };
        let mut new = NewCase {
            case,
            event,
            deltas,
            idempotency,
        };
        for _ in 0..8 {
            match self.cases.create_case(&new, now).await {
                Ok(Created::New) => {
                    return Ok(Receipt {
                        id: new.case.id.to_string(),
                        tracking_code: new.case.tracking_code,
                        status: Status::Received,
                        replayed: false,
                        notice,
                    });
                }
                Ok(Created::Replayed(rec)) => {
                    let mine = new.idempotency.as_ref().map(|i| i.body_hash.as_str());
                    return self.replay(mine, rec).await;
                }
                Err(StoreError::TrackingCodeTaken) => {
                    new.case.tracking_code = ids::new_tracking_code(now);
                    if let Some(i) = new.idempotency.as_mut() {
                        i.tracking_code = new.case.tracking_code.clone();
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::bug("could not draw a free tracking code"))
    }

    /// The same key again: the same receipt, or `409` for another body.
    async fn replay(&self, mine: Option<&str>, rec: IdemRecord) -> Result<Receipt> {
        if Some(rec.body_hash.as_str()) != mine {
            return Err(Error::new(ErrorKind::Conflict, "idempotency_key_reused")
                .with_field("Idempotency-Key"));
        }
        let status = match self.cases.get_case(&rec.case_id).await? {
            Some(c) => c.status,
            None => Status::Received,
        };
        // The same notice as the first answer, from what the timeline recorded.
        let notice = self
            .cases
            .timeline(&rec.case_id)
            .await?
            .iter()
            .find(|e| e.action == "submitted")
            .and_then(Notice::from_submitted);
        Ok(Receipt {
            id: rec.case_id.to_string(),
            tracking_code: rec.tracking_code,
            status,
            replayed: true,
            notice,
        })
    }

    /// What needs reference data or the caller's role.
    fn check(&self, p: &Principal, r: Report) -> Result<Submission> {
        let cat = self.refdata.category(&r.category).ok_or_else(|| {
            Error::invalid("category", "unknown_category").with("category", &r.category)
        })?;
        if r.kind.is_some_and(|k| k != cat.kind) {
            return Err(Error::invalid("kind", "kind_mismatch")
                .with("category", &cat.code)
                .with("kind", cat.kind.as_str()));
        }
        let loc = &r.location;
        let (lat0, lat1, lng0, lng1) = BBOX;
        if !(loc.lat.is_finite()
            && loc.lng.is_finite()
            && (lat0..=lat1).contains(&loc.lat)
            && (lng0..=lng1).contains(&loc.lng))
        {
            return Err(Error::invalid("location", "outside_city"));
        }
        if let Some(code) = &loc.ward_code {
            if self.refdata.unit(&UnitCode::ward(code)).is_none() {
                return Err(
                    Error::invalid("location.ward_code", "unknown_ward").with("ward_code", code)
                );
            }
        }
        let channel = match (p.role, r.channel) {
            // The request's channel (`X-Pakn-Channel`), `app` by default.
            (Role::Citizen, None) => p.channel,
            (Role::Citizen, Some(c @ (Channel::App | Channel::Web))) => c,
            (Role::Operator, None | Some(Channel::Hotline)) => Channel::Hotline,
            (Role::ClientApp, None | Some(Channel::Open311)) => Channel::Open311,
            _ => {
                return Err(Error::invalid("channel", "invalid_channel"));
            }
        };
        if p.role == Role::Operator
            && r.contact
                .as_ref()
                .is_none_or(|c| c.name.is_none() && c.phone.is_none())
        {
            return Err(Error::invalid("contact", "contact_required"));
        }
        Ok(Submission {
            kind: cat.kind,
            category: cat.code.clone(),
            title: r.title,
            description: r.description,
            urgency: r.urgency.unwrap_or(Urgency::Normal),
            location: r.location,
            media: r.media,
            channel,
            contact: r.contact,
        })
    }
}
