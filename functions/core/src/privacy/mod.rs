//! Personal data under Decree 13/2023/NĐ-CP, as use cases: what pakn holds
//! about the caller ([`Privacy::export`], `GET /v1/me/data`), erasing it
//! ([`Privacy::erase_mine`], `DELETE /v1/me/data`), a case's audit trail
//! ([`Privacy::audit`], `GET /v1/cases/{id}/audit`), and the retention step
//! of the sweep ([`retention`]). What erasing means is `crate::retention`.
//!
//! Every export is recorded on each case it exposed (an [`AccessRecord`],
//! written before the data is answered); every erasure request and every
//! erasure is a change of the case with its own timeline entry. Both appear
//! in the case's audit trail with who, role, channel and when.

pub mod retention;
mod views;

pub use views::*;

use crate::actions::load_authorized;
use crate::auth::{self, Permission, Principal, Role, Target};
use crate::case::{Case, Status, TimelineEvent};
use crate::change::Change;
use crate::error::{Error, Result};
use crate::ids::CaseId;
use crate::media::{MediaFiles, UploadStatus};
use crate::notices::{DeviceView, NoticeView};
use crate::ports::{
    AccessRecord, CaseQuery, CaseStore, Clock, Commit, Erasure, FollowerStore, NoticeStore,
    PeopleStore, PrivacyStore, QuotaStore, StoreError, StoreResult,
};
use crate::quota::{self, Usage};
use crate::refdata::RefData;
use crate::views::{CaseView, Viewer};
use chrono::{DateTime, Utc};
use serde_json::json;

/// Attempts at one case when its version keeps moving under a request.
const ATTEMPTS: usize = 5;
/// Cases read per page when gathering the caller's cases.
const PAGE: usize = 100;
/// A citizen's messages listed in an export, newest first.
const NOTICES_EXPORTED: usize = 1000;

/// The personal-data use cases over the ports they need.
pub struct Privacy<'a> {
    pub cases: &'a dyn CaseStore,
    pub people: &'a dyn PeopleStore,
    pub privacy: &'a dyn PrivacyStore,
    pub followers: &'a dyn FollowerStore,
    /// The caller's notification settings and messages (exported, forgotten).
    pub notices: &'a dyn NoticeStore,
    /// The caller's uploads (listed, erased).
    pub media: MediaFiles<'a>,
    /// An export or an erasure counts as one of the caller's actions.
    pub quota: &'a dyn QuotaStore,
    pub clock: &'a dyn Clock,
    pub refdata: &'a RefData,
}

impl Privacy<'_> {
    /// Everything pakn holds about `p`: the account record and, for a
    /// citizen, each case they reported (not yet erased) with its contact,
    /// texts and their own timeline entries. Each case exported is
    /// recorded in its audit trail first.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn export(&self, p: &Principal) -> Result<MyData> {
        auth::require(p, Permission::ExportOwnData, Target::Nothing)?;
        let now = self.clock.now();
        quota::charge(self.quota, self.refdata, p, Usage::Act, now).await?;
        let account = self.privacy.account(&p.sub).await?.map(|a| AccountRecord {
            sub: a.sub,
            role: a.role,
            unit: a.unit,
            registered_at: a.registered_at,
        });
        let mut cases = Vec::new();
        let mut records = Vec::new();
        let mut attached = std::collections::HashMap::new();
        for case in self.reported_by(p).await? {
            let tl = self.cases.timeline(&case.id).await?;
            for id in reporter_uploads(&case, &tl) {
                attached.insert(
                    id,
                    UploadCase {
                        id: case.id.to_string(),
                        tracking_code: case.tracking_code.clone(),
                    },
                );
            }
            let your_entries = tl
                .iter()
                .filter(|e| crate::retention::by_reporter(&case, e))
                .cloned()
                .collect();
            records.push(access(&case.id, "export", p, now));
            cases.push(MyCase {
                erase_after: case.erase_after,
                erasure_requested_at: case.erasure_requested_at,
                case: CaseView::new(case, tl, self.refdata, now, Viewer::Reporter),
                your_entries,
            });
        }
        let uploads = self
            .uploads_of(p)
            .await?
            .into_iter()
            .map(|u| MyUpload {
                case: attached.get(&u.id).cloned(),
                // A slot that ended with nothing put into it never will be.
                status: if u.status == UploadStatus::Pending
                    && u.slot_expires_at + chrono::Duration::minutes(5) < now
                {
                    UploadStatus::Rejected
                } else {
                    u.status
                },
                id: u.id,
                content_type: u.content_type,
                bytes: u.bytes,
                created_at: u.created_at,
            })
            .collect();
        let following = if p.role == Role::Citizen {
            self.followers
                .following(&p.sub)
                .await?
                .into_iter()
                .map(|f| MyFollow {
                    tracking_code: f.tracking_code,
                    since: f.since,
                    reason: f.reason,
                })
                .collect()
        } else {
            vec![]
        };
        let notifications = match self.notices.notice_prefs(&p.sub).await? {
            Some(prefs) => Some(MyNotifications {
                channel: prefs.channel,
                phone: prefs.phone,
                phone_verified_at: prefs.phone_verified_at,
                devices: prefs.devices.into_iter().map(DeviceView::from).collect(),
                notices: self
                    .notices
                    .notices_of(&p.sub, NOTICES_EXPORTED)
                    .await?
                    .into_iter()
                    .map(NoticeView::from)
                    .collect(),
            }),
            None => None,
        };
        self.privacy.record_accesses(&records).await?;
        tracing::info!(cases = cases.len(), "personal data exported");
        Ok(MyData {
            subject: p.sub.clone(),
            role: p.role,
            exported_at: now,
            account,
            cases,
            uploads,
            following,
            notifications,
        })
    }

    /// Erase `p`'s personal data: closed cases now (with the reporter's
    /// uploads on them); the others are marked (`erasure_requested`) and
    /// erased by the retention sweep as soon as they close; every follow
    /// of theirs, and their uploads not attached to any case, at once.
    /// Idempotent and retry-safe: erased cases are no longer found, marked
    /// ones are not marked twice, and what was deleted stays deleted, so a
    /// retry after a failure half way completes the rest.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn erase_mine(&self, p: &Principal) -> Result<ErasureReport> {
        auth::require(p, Permission::EraseOwnData, Target::Nothing)?;
        quota::charge(self.quota, self.refdata, p, Usage::Act, self.clock.now()).await?;
        let mut report = ErasureReport::default();
        // The uploads of cases left open stay with them until they are erased.
        let mut kept = std::collections::HashSet::new();
        for case in self.reported_by(p).await? {
            let r = CaseRef {
                id: case.id.to_string(),
                tracking_code: case.tracking_code.clone(),
                status: case.status,
            };
            let id = case.id.clone();
            if self.erase_or_mark(p, case).await? {
                report.erased.push(CaseRef {
                    status: Status::Closed,
                    ..r
                });
            } else {
                let case = self.cases.get_case(&id).await?;
                if let Some(case) = case.filter(|c| c.erased_at.is_none()) {
                    let tl = self.cases.timeline(&id).await?;
                    kept.extend(reporter_uploads(&case, &tl));
                }
                report.pending.push(r);
            }
        }
        if p.role == Role::Citizen {
            report.follows_removed = self.followers.forget_citizen(&p.sub).await?;
        }
        let unattached: Vec<String> = self
            .uploads_of(p)
            .await?
            .into_iter()
            .map(|u| u.id)
            .filter(|id| !kept.contains(id))
            .collect();
        report.uploads_deleted = self.media.erase(&unattached).await?;
        // Settings first: no new message is decided for them after this.
        report.notifications_forgotten = self.notices.notice_prefs(&p.sub).await?.is_some();
        self.notices.delete_notice_prefs(&p.sub).await?;
        report.notices_forgotten = self.notices.forget_notices(&p.sub).await?;
        tracing::info!(
            erased = report.erased.len(),
            pending = report.pending.len(),
            follows = report.follows_removed,
            uploads = report.uploads_deleted,
            notices = report.notices_forgotten,
            "personal data erasure requested"
        );
        Ok(report)
    }

    /// One case of an erasure request: `true` if erased now, `false` if
    /// marked (or marked before). Retried when the case moves on meanwhile.
    async fn erase_or_mark(&self, p: &Principal, mut case: Case) -> Result<bool> {
        for _ in 0..ATTEMPTS {
            let now = self.clock.now();
            let res = if case.status == Status::Closed {
                erase(
                    Eraser {
                        cases: self.cases,
                        privacy: self.privacy,
                        media: self.media,
                        refdata: self.refdata,
                    },
                    &case,
                    p,
                    "request",
                    now,
                )
                .await
            } else if case.erasure_requested_at.is_some() {
                return Ok(false);
            } else {
                let mut ch = Change::new(&case, now, self.refdata);
                ch.case.erasure_requested_at = Some(now);
                let outcome = ch.finish("erasure_requested", p, None, false, json!({}));
                let commit = Commit {
                    expected_version: case.version,
                    outcome,
                    inspection: None,
                    enqueue: false,
                };
                self.cases.commit(&commit).await
            };
            match res {
                Ok(()) => return Ok(case.status == Status::Closed),
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
            case = match self.cases.get_case(&case.id).await? {
                Some(c) if c.erased_at.is_none() => c,
                // Erased meanwhile (the sweep): done.
                Some(_) => return Ok(true),
                None => return Err(Error::bug("a case disappeared")),
            };
        }
        Err(Error::unavailable(crate::error::Message(
            "the case kept changing; retry".into(),
        )))
    }

    /// `p`'s uploads as a citizen (staff uploads are evidence: official
    /// records), oldest first.
    async fn uploads_of(&self, p: &Principal) -> Result<Vec<crate::media::Upload>> {
        if p.role != Role::Citizen {
            return Ok(vec![]);
        }
        Ok(self
            .media
            .uploads
            .uploads_of(&p.sub)
            .await?
            .into_iter()
            .filter(|u| u.owner_role == p.role)
            .collect())
    }

    /// The cases `p` reported as a citizen whose data is not erased yet
    /// (every page of the submitter index).
    async fn reported_by(&self, p: &Principal) -> Result<Vec<Case>> {
        if p.role != Role::Citizen {
            return Ok(vec![]);
        }
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let q = CaseQuery {
                submitted_by: Some(p.sub.clone()),
                cursor,
                limit: PAGE,
                ..Default::default()
            };
            let page = self.cases.list_cases(&q).await?;
            out.extend(page.cases.into_iter().filter(|c| {
                c.submitted_by == p.sub && c.submitted_role == p.role && c.erased_at.is_none()
            }));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// A case's audit trail: `404` unless `p` may read the case, `403`
    /// unless `p` is an inspector or an admin.
    pub async fn audit(&self, p: &Principal, id: &str) -> Result<AuditTrail> {
        let (case, _) =
            load_authorized(self.cases, self.people, p, id, |_| Permission::ReadAudit).await?;
        let tl = self.cases.timeline(&case.id).await?;
        let accesses = self.privacy.accesses(&case.id).await?;
        let mut entries: Vec<AuditEntry> = tl.iter().map(AuditEntry::change).collect();
        entries.extend(accesses.iter().map(AuditEntry::access));
        entries.sort_by(|a, b| a.at.cmp(&b.at).then(a.version.cmp(&b.version)));
        Ok(AuditTrail {
            case_id: case.id.to_string(),
            tracking_code: case.tracking_code,
            erase_after: case.erase_after,
            erasure_requested_at: case.erasure_requested_at,
            erased_at: case.erased_at,
            entries,
        })
    }
}

/// An access record of `p` on case `id` now.
fn access(id: &CaseId, action: &str, p: &Principal, now: DateTime<Utc>) -> AccessRecord {
    AccessRecord {
        case_id: id.clone(),
        id: format!(
            "{}#{}",
            now.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
            ulid::Ulid::new()
        ),
        at: now,
        action: action.into(),
        actor: p.sub.clone(),
        actor_role: p.role,
        channel: p.channel,
    }
}

/// The erasure of a closed `case` by `actor` for `reason` (`retention` or
/// `request`), from its `timeline` and `accesses` as read now: a pure
/// function, so every eraser of the same case writes the same entries.
pub fn erasure(
    case: &Case,
    timeline: &[crate::case::TimelineEvent],
    accesses: Vec<AccessRecord>,
    actor: &Principal,
    reason: &str,
    now: DateTime<Utc>,
    refdata: &RefData,
) -> Erasure {
    let mut ch = Change::new(case, now, refdata);
    crate::retention::erase_case(&mut ch.case);
    ch.case.erased_at = Some(now);
    let mut outcome = ch.finish("erase", actor, None, false, json!({"reason": reason}));
    // The reporter's own request is theirs like any of their entries.
    if let Some(e) = crate::retention::erase_entry(case, &outcome.event) {
        outcome.event = e;
    }
    let rewritten = timeline
        .iter()
        .filter_map(|e| crate::retention::erase_entry(case, e))
        .collect();
    let accesses = accesses
        .into_iter()
        .filter(|a| a.actor_role == Role::Citizen && a.actor == case.submitted_by)
        .map(|mut a| {
            a.actor = String::new();
            a
        })
        .collect();
    Erasure {
        expected_version: case.version,
        case: outcome.case,
        event: outcome.event,
        rewritten,
        accesses,
    }
}

/// The uploads of the reporter's that erasing `case` deletes: those its
/// report names (its own media, uploaded by the citizen or by the operator
/// for a caller) and those of the reporter's own entries (answers to
/// questions). Officials' evidence is named on their own entries: never here.
pub fn reporter_uploads(case: &Case, timeline: &[TimelineEvent]) -> Vec<String> {
    let mut ids = crate::media::upload_ids(&case.media);
    for e in timeline
        .iter()
        .filter(|e| crate::retention::by_reporter(case, e))
    {
        if let Some(m) = e.data.get("media").and_then(|m| m.as_array()) {
            ids.extend(
                m.iter()
                    .filter_map(|v| v.as_str())
                    .filter_map(crate::media::upload_id)
                    .map(str::to_string),
            );
        }
    }
    ids.sort();
    ids.dedup();
    ids
}

/// The ports an erasure writes through.
#[derive(Clone, Copy)]
pub(crate) struct Eraser<'a> {
    pub cases: &'a dyn CaseStore,
    pub privacy: &'a dyn PrivacyStore,
    pub media: MediaFiles<'a>,
    pub refdata: &'a RefData,
}

/// Erase the personal data of a closed `case` (read at its current
/// version): the reporter's uploads on it (files and records, before the
/// commit: once committed, the case no longer names them, so a crash after
/// it could not find them again), then [`erasure`] over what the store
/// holds now, committed. `Conflict` if the case moved on; anything else is
/// worth a retry.
pub(crate) async fn erase(
    ports: Eraser<'_>,
    case: &Case,
    actor: &Principal,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let Eraser {
        cases,
        privacy,
        media,
        refdata,
    } = ports;
    if case.status != Status::Closed || case.erased_at.is_some() {
        return Err(StoreError::Conflict(format!(
            "case {} is not a closed case with personal data",
            case.id
        )));
    }
    let timeline = cases.timeline(&case.id).await?;
    media.erase(&reporter_uploads(case, &timeline)).await?;
    let accesses = privacy.accesses(&case.id).await?;
    let e = erasure(case, &timeline, accesses, actor, reason, now, refdata);
    privacy.erase(&e).await
}
