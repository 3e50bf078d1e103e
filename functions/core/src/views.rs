//! What each reader sees of a case (CONTRACT.md "What each role sees of a
//! case"): the full view for its staff (the holding unit, triage while it
//! holds it, inspectors, admins); the same case for its reporter (the
//! citizen, or the operator who entered it) with public timeline entries
//! only, never an official's subject nor a staff-only reason; and the
//! public, redacted view (anyone, by tracking code). Who is which is
//! decided in `crate::auth` (`Permission::ReadStaffView`).

use crate::calendar::ClockKind;
use crate::case::*;
use crate::category::{Kind, Urgency};
use crate::refdata::RefData;
use crate::unit::UnitCode;
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    pub id: String,
    /// The public tracking code (`HN-25-7K3QX` if issued before 2026-12-03).
    #[schema(example = "HN-26-7K3QX-9MPTR")]
    pub tracking_code: String,
    pub kind: Kind,
    pub category: String,
    pub title: String,
    pub description: String,
    pub urgency: Urgency,
    pub location: Location,
    pub media: Vec<String>,
    pub channel: Channel,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    pub submitted_by: String,
    pub received_at: DateTime<Utc>,
    pub status: Status,
    pub status_label: &'static str,
    pub unit: Option<UnitCode>,
    pub unit_name: Option<String>,
    pub version: u64,
    pub policy_version: Option<String>,
    pub ack_due: Option<DateTime<Utc>>,
    pub resolve_due: Option<DateTime<Utc>>,
    pub resolve_clock: ClockKind,
    pub overdue: bool,
    pub accepted_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub first_resolved_on_time: Option<bool>,
    pub holds: Vec<Hold>,
    pub pauses: Vec<Pause>,
    pub transfers: u32,
    pub reopens: u32,
    pub extension: Option<Extension>,
    pub answer: Option<Answer>,
    pub rating: Option<Rating>,
    pub open_question: Option<String>,
    /// Closed as a duplicate of this case (follow it there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<DuplicateOf>,
    /// Staff only: the ward the point lies in under the loaded boundaries,
    /// and `mismatch` when the report named another ward (it was routed by
    /// the named code; staff should check the place).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ward_check: Option<crate::wards::WardCheck>,
    pub timeline: Vec<TimelineEvent>,
    /// The uploads among `media`: their state and short-lived links (filled by the API).
    pub media_links: Vec<crate::media::MediaLink>,
    /// The uploads among the answer's evidence, likewise.
    pub evidence_links: Vec<crate::media::MediaLink>,
}

/// Who looks at a full case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// The holding unit, triage while it holds the case, inspectors, admins.
    Staff,
    /// The reporter: the citizen, or the operator who entered the case.
    Reporter,
}

/// Timeline actions whose text is a staff-only reason.
const STAFF_ONLY_TEXT: [&str; 3] = ["transfer", "extend", "regrade"];

/// The reporter's timeline: public entries, with the acting unit and role
/// but no official's subject, and no staff-only reason.
fn reporter_timeline(timeline: Vec<TimelineEvent>) -> Vec<TimelineEvent> {
    timeline
        .into_iter()
        .filter(|e| e.public)
        .map(|mut e| {
            if e.actor_role != "citizen" && e.actor_role != "operator" {
                e.actor = String::new();
            }
            if STAFF_ONLY_TEXT.contains(&e.action.as_str()) {
                e.text = None;
            }
            e
        })
        .collect()
}

impl CaseView {
    pub fn new(
        c: Case,
        timeline: Vec<TimelineEvent>,
        refdata: &RefData,
        now: DateTime<Utc>,
        viewer: Viewer,
    ) -> Self {
        let (timeline, extension, ward_check) = match viewer {
            Viewer::Staff => (timeline, c.extension.clone(), c.ward_check.clone()),
            Viewer::Reporter => (
                reporter_timeline(timeline),
                c.extension.clone().map(|x| Extension {
                    reason: String::new(),
                    by: String::new(),
                    ..x
                }),
                None,
            ),
        };
        let unit_name = c
            .unit
            .as_ref()
            .and_then(|u| refdata.unit(u))
            .map(|u| u.name_vi.clone());
        CaseView {
            overdue: c.is_overdue(now),
            status_label: c.status.label_vi(),
            id: c.id.to_string(),
            tracking_code: c.tracking_code,
            kind: c.kind,
            category: c.category,
            title: c.title,
            description: c.description,
            urgency: c.urgency,
            location: c.location,
            media: c.media,
            channel: c.channel,
            contact: c.contact,
            submitted_by: c.submitted_by,
            received_at: c.received_at,
            status: c.status,
            unit: c.unit,
            unit_name,
            version: c.version,
            policy_version: c.policy_version,
            ack_due: c.ack_due,
            resolve_due: c.resolve_due,
            resolve_clock: c.resolve_clock,
            accepted_at: c.accepted_at,
            resolved_at: c.resolved_at,
            first_resolved_on_time: c.first_resolved_on_time,
            holds: c.holds,
            pauses: c.pauses,
            transfers: c.transfers,
            reopens: c.reopens,
            extension,
            answer: c.answer,
            rating: c.rating,
            open_question: c.open_question,
            duplicate_of: c.duplicate_of,
            ward_check,
            timeline,
            media_links: vec![],
            evidence_links: vec![],
        }
    }
}

/// A public timeline entry: what happened, which unit and role acted, and
/// public text; never who.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicEvent {
    pub at: DateTime<Utc>,
    pub action: String,
    pub status: Option<Status>,
    /// The unit holding the case after this entry.
    pub unit: Option<UnitCode>,
    /// The acting role (`citizen`, `official`, `triage`, `admin`, …).
    pub actor_role: String,
    pub text: Option<String>,
}

/// The redacted view: no reporter, no contact, no description, the place
/// rounded to about 100 m (personal data stays with those who need it).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicCase {
    /// The public tracking code (`HN-25-7K3QX` if issued before 2026-12-03).
    #[schema(example = "HN-26-7K3QX-9MPTR")]
    pub tracking_code: String,
    pub kind: Kind,
    pub category: String,
    pub title: String,
    pub status: Status,
    pub status_label: &'static str,
    pub unit: Option<UnitCode>,
    pub unit_name: Option<String>,
    pub received_at: DateTime<Utc>,
    pub ack_due: Option<DateTime<Utc>>,
    pub resolve_due: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub ward_code: Option<String>,
    pub lat: f64,
    pub lng: f64,
    pub answer: Option<String>,
    /// Closed as a duplicate of the case with this tracking code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    pub timeline: Vec<PublicEvent>,
    /// The resolution's evidence photos (ready uploads; short-lived links).
    pub evidence: Vec<crate::media::MediaLink>,
    /// The report's own photos its reporter chose to show the public.
    pub media: Vec<crate::media::MediaLink>,
    #[serde(skip)]
    pub evidence_entries: Vec<String>,
    #[serde(skip)]
    pub media_entries: Vec<String>,
}

impl PublicCase {
    pub fn new(
        c: &Case,
        timeline: &[TimelineEvent],
        refdata: &RefData,
        now: DateTime<Utc>,
    ) -> Self {
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        PublicCase {
            tracking_code: c.tracking_code.clone(),
            kind: c.kind,
            category: c.category.clone(),
            title: c.title.clone(),
            status: c.status,
            status_label: c.status.label_vi(),
            unit: c.unit.clone(),
            unit_name: c
                .unit
                .as_ref()
                .and_then(|u| refdata.unit(u))
                .map(|u| u.name_vi.clone()),
            received_at: c.received_at,
            ack_due: c.ack_due,
            resolve_due: c.resolve_due,
            overdue: c.is_overdue(now),
            ward_code: c.location.ward_code.clone(),
            lat: round(c.location.lat),
            lng: round(c.location.lng),
            answer: c.answer.as_ref().map(|a| a.text.clone()),
            evidence: vec![],
            media: vec![],
            evidence_entries: c
                .answer
                .as_ref()
                .map(|a| a.evidence.clone())
                .unwrap_or_default(),
            media_entries: c.media.clone(),
            duplicate_of: c.duplicate_of.as_ref().map(|d| d.tracking_code.clone()),
            timeline: timeline
                .iter()
                .filter(|e| e.public)
                .map(|e| PublicEvent {
                    at: e.at,
                    action: e.action.clone(),
                    status: e.to_status,
                    unit: e.unit.clone(),
                    actor_role: e.actor_role.clone(),
                    text: if e.action == "note" || e.action == "resolve" || e.action == "reject" {
                        e.text.clone()
                    } else {
                        None
                    },
                })
                .collect(),
        }
    }
}
