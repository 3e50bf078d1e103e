//! Home Affairs' inspections: inspectors list and read them with the
//! evidence (the case, the notifications sent and when, the roster), record
//! findings and close them; the inspected unit's admin reads and answers
//! its own. Opened by the sweep (a case long overdue, unit checks).

use crate::auth::{self, Permission, Principal, Rule, Target};
use crate::error::{Error, ErrorKind, Result};
use crate::inspection::{Finding, Inspection};
use crate::notify::{Audience, Notification, event};
use crate::ports::{
    CaseStore, Clock, InspectionPage, InspectionQuery, InspectionStore, Ledger, PeopleStore,
};
use crate::refdata::RefData;
use crate::unit::UnitCode;
use crate::views::{CaseView, Viewer};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

pub const FINDING_KINDS: [&str; 3] = ["justified_delay", "unit_at_fault", "official_at_fault"];

/// A finding as the edge parsed it (`kind` one of [`FINDING_KINDS`], text bounded).
#[derive(Debug, Clone, PartialEq)]
pub struct FindingInput {
    pub kind: String,
    pub officials: Vec<String>,
    pub text: String,
}

/// A notification that was decided for a case, and when it went out.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SentNotification {
    pub event: String,
    pub dedup_id: String,
    pub decided_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

/// An inspection with the evidence an inspector needs.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InspectionView {
    pub inspection: Inspection,
    /// The case (full view), for a case inspection.
    pub case: Option<CaseView>,
    /// Reminders and alerts decided for the case, and when they were published.
    pub notifications: Vec<SentNotification>,
    /// The unit's roster of officials now.
    pub roster: crate::auth::Roster,
}

fn inspection_closed(action: &str) -> Error {
    Error::new(ErrorKind::Conflict, "invalid_transition")
        .with("subject", "inspection")
        .with("action", action)
}

/// Inspections over the ports they need.
pub struct Inspections<'a> {
    pub inspections: &'a dyn InspectionStore,
    pub cases: &'a dyn CaseStore,
    pub people: &'a dyn PeopleStore,
    pub ledger: &'a dyn Ledger,
    pub clock: &'a dyn Clock,
    pub refdata: &'a RefData,
}

impl Inspections<'_> {
    /// A page of inspections, oldest first (see `InspectionQuery`).
    pub async fn list(
        &self,
        p: &Principal,
        status: Option<&str>,
        unit: Option<&UnitCode>,
        reason: Option<&str>,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<InspectionPage> {
        // Inspectors list any unit's (or all); a unit admin only their own.
        let unit = match unit {
            Some(u) => {
                auth::require(p, Permission::ReadInspection, Target::Unit(u))?;
                Some(u.clone())
            }
            None if auth::rule(Permission::ReadInspection, p.role) == Rule::Any => None,
            None => {
                let own = p.unit.as_ref().ok_or_else(Error::forbidden)?;
                auth::require(p, Permission::ReadInspection, Target::Unit(own))?;
                Some(own.clone())
            }
        };
        let q = InspectionQuery {
            status: status.map(String::from),
            unit,
            reason: reason.map(String::from),
            cursor,
            limit,
        };
        Ok(self.inspections.list_inspections(&q).await?)
    }

    async fn load_inspection(&self, p: &Principal, id: &str) -> Result<Inspection> {
        let i = self
            .inspections
            .get_inspection(id)
            .await?
            .ok_or_else(Error::not_found)?;
        auth::authorize_inspection(p, &i.unit, Permission::ReadInspection)?;
        Ok(i)
    }

    pub async fn get(&self, p: &Principal, id: &str) -> Result<InspectionView> {
        let inspection = self.load_inspection(p, id).await?;
        let (case, notifications) = match &inspection.case_id {
            Some(cid) => {
                let case = self.cases.get_case(cid).await?;
                let tl = self.cases.timeline(cid).await?;
                let sent = self
                    .cases
                    .notifications_for_case(cid)
                    .await?
                    .into_iter()
                    .map(|(n, published_at)| SentNotification {
                        event: n.event,
                        dedup_id: n.dedup_id,
                        decided_at: n.created_at,
                        published_at,
                    })
                    .collect();
                (
                    // Only inspectors and the inspected unit read an inspection: staff.
                    case.map(|c| {
                        CaseView::new(c, tl, self.refdata, self.clock.now(), Viewer::Staff)
                    }),
                    sent,
                )
            }
            None => (None, vec![]),
        };
        let roster = self.people.get_roster(&inspection.unit).await?;
        Ok(InspectionView {
            inspection,
            case,
            notifications,
            roster,
        })
    }

    async fn update_inspection(
        &self,
        mut i: Inspection,
        change: impl FnOnce(&mut Inspection),
    ) -> Result<Inspection> {
        let expected = i.version;
        change(&mut i);
        i.version = expected + 1;
        match self.inspections.put_inspection(&i, expected).await {
            Ok(()) => Ok(i),
            Err(crate::ports::StoreError::Conflict(_)) => {
                Err(Error::stale_version().with("subject", "inspection"))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// An inspector records a finding.
    pub async fn add_finding(
        &self,
        p: &Principal,
        id: &str,
        f: FindingInput,
    ) -> Result<Inspection> {
        let i = self.load_inspection(p, id).await?;
        auth::authorize_inspection(p, &i.unit, Permission::Inspect)?;
        if i.status == "closed" {
            return Err(inspection_closed("finding"));
        }
        let roster = self.people.get_roster(&i.unit).await?;
        if f.kind == "official_at_fault" {
            if f.officials.is_empty() {
                return Err(Error::invalid("officials", "officials_required"));
            }
            if let Some(x) = f.officials.iter().find(|s| !roster.contains(s)) {
                return Err(Error::invalid("officials", "not_on_roster").with("official", x));
            }
        }
        let finding = Finding {
            kind: f.kind,
            officials: f.officials,
            text: f.text,
            by: p.sub.clone(),
            at: self.clock.now(),
        };
        self.update_inspection(i, |i| i.findings.push(finding))
            .await
    }

    /// The unit answers with an explanation.
    pub async fn answer(&self, p: &Principal, id: &str, text: String) -> Result<Inspection> {
        let i = self.load_inspection(p, id).await?;
        auth::authorize_inspection(p, &i.unit, Permission::AnswerInspection)?;
        if i.status == "closed" {
            return Err(inspection_closed("answer"));
        }
        self.update_inspection(i, |i| {
            i.unit_answer = Some(text);
            i.status = "answered".into();
        })
        .await
    }

    /// An inspector closes the inspection (at least one finding first).
    pub async fn close(&self, p: &Principal, id: &str) -> Result<Inspection> {
        let i = self.load_inspection(p, id).await?;
        auth::authorize_inspection(p, &i.unit, Permission::Inspect)?;
        if i.status == "closed" {
            return Err(inspection_closed("close"));
        }
        if i.findings.is_empty() {
            return Err(Error::new(ErrorKind::Conflict, "findings_required"));
        }
        let now = self.clock.now();
        self.update_inspection(i, |i| {
            i.status = "closed".into();
            i.closed_at = Some(now);
        })
        .await
    }

    /// Open a unit inspection once, and decide its notification once.
    pub async fn open_unit_inspection(
        &self,
        unit: &UnitCode,
        id: String,
        reason: &str,
        details: serde_json::Value,
    ) -> Result<bool> {
        let now = self.clock.now();
        let i = Inspection {
            id: id.clone(),
            unit: unit.clone(),
            case_id: None,
            reason: reason.into(),
            status: "open".into(),
            opened_at: now,
            findings: vec![],
            unit_answer: None,
            closed_at: None,
            version: 1,
            details: details.clone(),
        };
        let created = match self.inspections.put_inspection(&i, 0).await {
            Ok(()) => true,
            Err(crate::ports::StoreError::Conflict(_)) => false,
            Err(e) => return Err(e.into()),
        };
        // Decided once even if a crash came between the two writes.
        let n = Notification {
            dedup_id: format!("inspection:{id}"),
            event: event::INSPECTION_OPENED.into(),
            unit: unit.to_string(),
            urgency: "normal".into(),
            audience: vec![Audience::HomeAffairs, Audience::Unit],
            case_id: None,
            body: crate::notify::versioned(
                json!({"inspection_id": id, "unit": unit, "reason": reason, "details": details}),
            ),
            created_at: now,
        };
        self.ledger.decide_once(&n).await?;
        Ok(created)
    }
}
