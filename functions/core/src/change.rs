//! One change of a case, built step by step and finished into an
//! [`Outcome`]: the new case (version + 1), its timeline event, the
//! notifications decided and the statistics deltas. Routing, the actions and
//! the sweep all build their changes here; the store commits an outcome at
//! once, on the condition that the version it read is still current.

use crate::case::{Case, Hold, TimelineEvent};
use crate::notify::{Audience, Notification, event};
use crate::principal::Principal;
use crate::refdata::RefData;
use crate::stats::{ALL, Counter, StatDelta};
use crate::unit::UnitCode;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

/// Everything one change produces; committed together by the store.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub case: Case,
    pub event: TimelineEvent,
    pub notifications: Vec<Notification>,
    pub deltas: Vec<StatDelta>,
    /// Sweep decisions (ledger keys) made by this change.
    pub decisions: Vec<String>,
}

/// Builder for an outcome: starts from a copy of the case with version + 1.
pub struct Change<'a> {
    pub before: &'a Case,
    pub case: Case,
    pub now: DateTime<Utc>,
    pub refdata: &'a RefData,
    pub notifications: Vec<Notification>,
    pub deltas: Vec<StatDelta>,
    pub decisions: Vec<String>,
}

impl<'a> Change<'a> {
    pub fn new(before: &'a Case, now: DateTime<Utc>, refdata: &'a RefData) -> Self {
        let mut case = before.clone();
        case.version += 1;
        case.updated_at = now;
        Change {
            before,
            case,
            now,
            refdata,
            notifications: vec![],
            deltas: vec![],
            decisions: vec![],
        }
    }

    fn day(&self, t: DateTime<Utc>) -> chrono::NaiveDate {
        self.refdata.calendar.local_date(t)
    }

    /// Count for a unit (the city adds up its units, `crate::stats::city`),
    /// or for the city itself when there is no unit, on the local day of `at`.
    pub fn count(
        &mut self,
        at: DateTime<Utc>,
        unit: Option<&UnitCode>,
        counter: Counter,
        amount: i64,
    ) {
        let day = self.day(at);
        self.deltas.push(StatDelta {
            day,
            scope: unit.map(|u| u.to_string()).unwrap_or_else(|| ALL.into()),
            counter,
            amount,
        });
    }

    /// The level changes of this change: where the case counted as open
    /// and overdue before and where it counts after (net, zeros left out).
    fn count_levels(&mut self) {
        let mut net: std::collections::BTreeMap<(UnitCode, Counter), i64> = Default::default();
        for (case, sign) in [(self.before, -1), (&self.case, 1)] {
            let Some(unit) = &case.unit else { continue };
            if case.status.is_open() {
                *net.entry((unit.clone(), Counter::Open)).or_default() += sign;
            }
            if crate::milestones::overdue_counted(case) {
                *net.entry((unit.clone(), Counter::Overdue)).or_default() += sign;
            }
        }
        let day = self.day(self.now);
        for ((unit, counter), amount) in net.into_iter().filter(|(_, a)| *a != 0) {
            self.deltas.push(StatDelta {
                day,
                scope: unit.to_string(),
                counter,
                amount,
            });
        }
    }

    pub fn notify(
        &mut self,
        ev: &str,
        key: &str,
        unit: &str,
        audience: Vec<Audience>,
        body: serde_json::Value,
    ) {
        let c = &self.case;
        self.notifications.push(Notification {
            dedup_id: format!("{}:{key}", c.id),
            event: ev.into(),
            unit: unit.into(),
            urgency: c.urgency.as_str().into(),
            audience,
            case_id: Some(c.id.clone()),
            body: crate::notify::versioned(body),
            created_at: self.now,
        });
    }

    /// The citizen-facing status notification for this version.
    pub fn notify_status(&mut self) {
        let c = &self.case;
        let mut body = json!({
            "case_id": c.id, "tracking_code": c.tracking_code,
            "status": c.status, "status_label": c.status.label_vi(),
            "unit": c.unit,
        });
        // Closed as a duplicate: where its reporter and followers go on following.
        if let Some(d) = &c.duplicate_of {
            body["duplicate_of"] = json!({"id": d.id, "tracking_code": d.tracking_code});
        }
        let key = format!("status:v{}", c.version);
        let unit = c.unit.as_ref().map(|u| u.to_string()).unwrap_or_default();
        self.notify(
            event::STATUS_CHANGED,
            &key,
            &unit,
            vec![Audience::Citizen],
            body,
        );
    }

    /// `case.assigned` to `unit`, keyed by this version.
    pub fn notify_assigned(&mut self, unit: &UnitCode, audience: Audience) {
        let body = assignment_body(&self.case, self.refdata);
        let key = format!("assigned:v{}", self.case.version);
        self.notify(event::ASSIGNED, &key, unit.as_str(), vec![audience], body);
    }

    /// Close the current hold, charging its working hours to the unit.
    pub fn end_hold(&mut self) {
        let now = self.now;
        let cal = self.refdata.calendar.clone();
        if let Some(h) = self.case.current_hold_mut() {
            h.to = Some(now);
            h.working_hours = Some(round2(cal.working_hours_between(h.from, now)));
        }
    }

    pub fn start_hold(&mut self, unit: &UnitCode) {
        self.case.holds.push(Hold {
            unit: unit.clone(),
            from: self.now,
            to: None,
            working_hours: None,
        });
    }

    /// A fresh acknowledge deadline at `unit`, from now.
    pub fn fresh_ack_due(&self, unit: &UnitCode) -> Option<DateTime<Utc>> {
        let p = &self.refdata.policy;
        let spec = if unit.is_triage() {
            p.triage_ack
        } else {
            p.sla(&self.case.category, self.case.urgency).ack
        };
        self.refdata.calendar.add(self.now, spec.hours, spec.clock)
    }

    pub fn finish(
        mut self,
        action: &str,
        actor: &Principal,
        text: Option<String>,
        public: bool,
        data: serde_json::Value,
    ) -> Outcome {
        self.case.next_action_at = crate::milestones::next_action_at(&self.case, self.refdata);
        self.case.erase_after = crate::retention::erase_after(&self.case, &self.refdata.policy);
        self.count_levels();
        let event = TimelineEvent {
            at: self.now,
            version: self.case.version,
            action: action.into(),
            actor: actor.sub.clone(),
            actor_role: actor.role.as_str().into(),
            channel: Some(actor.channel),
            from_status: Some(self.before.status),
            to_status: Some(self.case.status),
            unit: self.case.unit.clone(),
            text,
            public,
            data,
        };
        Outcome {
            case: self.case,
            event,
            notifications: self.notifications,
            deltas: self.deltas,
            decisions: self.decisions,
        }
    }
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub fn within_window(at: Option<DateTime<Utc>>, now: DateTime<Utc>, refdata: &RefData) -> bool {
    at.is_some_and(|t| now <= t + Duration::days(refdata.policy.dispute_window_days as i64))
}

/// The body of `case.assigned`: what a unit needs to start.
pub fn assignment_body(c: &Case, refdata: &RefData) -> serde_json::Value {
    let unit_name = c
        .unit
        .as_ref()
        .and_then(|u| refdata.unit(u))
        .map(|u| u.name_vi.clone());
    json!({
        "case_id": c.id, "tracking_code": c.tracking_code, "category": c.category,
        "kind": c.kind, "urgency": c.urgency, "title": c.title,
        "unit": c.unit, "unit_name": unit_name,
        "ack_due": c.ack_due, "resolve_due": c.resolve_due,
        // Rounded to about 100 m: agencies' e-mail and SMS subscribers need
        // the place, not the reporter's doorstep.
        "location": {"lat": round3(c.location.lat), "lng": round3(c.location.lng), "ward_code": c.location.ward_code},
    })
}

/// Three decimals of a degree: about 110 m.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
