//! The status machine (CONTRACT.md "Statuses", "Transfer", "Clocks").
//!
//! Every change of a case goes through here as a pure function of the case,
//! the actor, the action and the time: it returns the new case (version + 1),
//! the timeline event, the notifications decided and the statistics deltas.
//! The store then commits all of it at once, on the condition that the
//! version it read is still current.

use crate::auth::{CaseAccess, Principal, Role};
use crate::case::{Answer, Case, Extension, Hold, Pause, Rating, Status, TimelineEvent};
use crate::error::{Error, Result};
use crate::notify::{Audience, Notification, event};
use crate::refdata::RefData;
use crate::stats::{ALL, Counter, StatDelta};
use crate::text;
use crate::unit::UnitCode;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::json;

/// Reason codes for `reject`.
pub const REJECT_REASONS: [&str; 6] = [
    "not_city_matter",
    "duplicate",
    "insufficient_info",
    "not_in_jurisdiction",
    "under_court_proceedings",
    "abusive",
];

pub const MAX_TEXT: usize = 4000;

/// An action on a case, validated and NFC-normalised.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Accept,
    Note {
        text: String,
        public: bool,
    },
    Transfer {
        to_unit: UnitCode,
        reason: String,
    },
    RequestInfo {
        question: String,
    },
    Resolve {
        answer: String,
        evidence: Vec<String>,
    },
    Reject {
        reason_code: String,
        answer: String,
    },
    Extend {
        working_days: u32,
        reason: String,
    },
    Route {
        to_unit: UnitCode,
    },
    Info {
        text: String,
        media: Vec<String>,
    },
    Rate {
        score: u8,
        comment: Option<String>,
    },
    Reopen {
        reason: String,
    },
}

pub const ACTION_NAMES: [&str; 11] = [
    "accept",
    "note",
    "transfer",
    "request_info",
    "resolve",
    "reject",
    "extend",
    "route",
    "info",
    "rate",
    "reopen",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    text: String,
    #[serde(default)]
    public: bool,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransferBody {
    to_unit: String,
    reason: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionBody {
    question: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveBody {
    answer: String,
    #[serde(default)]
    evidence: Vec<String>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RejectBody {
    reason_code: String,
    answer: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtendBody {
    working_days: i64,
    reason: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteBody {
    to_unit: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InfoBody {
    text: String,
    #[serde(default)]
    media: Vec<String>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateBody {
    score: i64,
    #[serde(default)]
    comment: Option<String>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReopenBody {
    reason: String,
}

fn body<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Result<T> {
    serde_json::from_value(v.clone()).map_err(|e| {
        Error::invalid(
            "body",
            "invalid_body",
            format!("The request body does not fit this action: {e}."),
            format!("Nội dung yêu cầu không phù hợp với thao tác này: {e}."),
        )
    })
}

fn unit_code(field: &str, s: &str, refdata: &RefData) -> Result<UnitCode> {
    let u = UnitCode::parse(s).map_err(|e| e.with_field(field))?;
    if refdata.unit(&u).is_none() {
        return Err(Error::invalid(
            field,
            "unknown_unit",
            format!("Unit '{u}' does not exist."),
            format!("Đơn vị '{u}' không tồn tại."),
        ));
    }
    Ok(u)
}

impl Action {
    /// Parse an action from its route name and JSON body (unknown fields refused).
    pub fn parse(name: &str, v: &serde_json::Value, refdata: &RefData) -> Result<Action> {
        let v = if v.is_null() { &json!({}) } else { v };
        Ok(match name {
            "accept" => {
                body::<Empty>(v)?;
                Action::Accept
            }
            "note" => {
                let b: NoteBody = body(v)?;
                Action::Note {
                    text: text::required("text", &b.text, MAX_TEXT)?,
                    public: b.public,
                }
            }
            "transfer" => {
                let b: TransferBody = body(v)?;
                Action::Transfer {
                    to_unit: unit_code("to_unit", &b.to_unit, refdata)?,
                    reason: text::required("reason", &b.reason, MAX_TEXT)?,
                }
            }
            "request_info" => {
                let b: QuestionBody = body(v)?;
                Action::RequestInfo {
                    question: text::required("question", &b.question, MAX_TEXT)?,
                }
            }
            "resolve" => {
                let b: ResolveBody = body(v)?;
                Action::Resolve {
                    answer: text::required("answer", &b.answer, MAX_TEXT)?,
                    evidence: text::urls("evidence", &b.evidence, 10)?,
                }
            }
            "reject" => {
                let b: RejectBody = body(v)?;
                if !REJECT_REASONS.contains(&b.reason_code.as_str()) {
                    return Err(Error::invalid(
                        "reason_code",
                        "unknown_reason_code",
                        format!(
                            "Unknown reason code; use one of: {}.",
                            REJECT_REASONS.join(", ")
                        ),
                        format!(
                            "Mã lý do không hợp lệ; dùng một trong: {}.",
                            REJECT_REASONS.join(", ")
                        ),
                    ));
                }
                Action::Reject {
                    reason_code: b.reason_code,
                    answer: text::required("answer", &b.answer, MAX_TEXT)?,
                }
            }
            "extend" => {
                let b: ExtendBody = body(v)?;
                let max = refdata.policy.extend_max_working_days as i64;
                if !(1..=max).contains(&b.working_days) {
                    return Err(Error::invalid(
                        "working_days",
                        "out_of_range",
                        format!("An extension is 1 to {max} working days."),
                        format!("Gia hạn từ 1 đến {max} ngày làm việc."),
                    ));
                }
                Action::Extend {
                    working_days: b.working_days as u32,
                    reason: text::required("reason", &b.reason, MAX_TEXT)?,
                }
            }
            "route" => {
                let b: RouteBody = body(v)?;
                Action::Route {
                    to_unit: unit_code("to_unit", &b.to_unit, refdata)?,
                }
            }
            "info" => {
                let b: InfoBody = body(v)?;
                Action::Info {
                    text: text::required("text", &b.text, MAX_TEXT)?,
                    media: text::urls("media", &b.media, 10)?,
                }
            }
            "rate" => {
                let b: RateBody = body(v)?;
                if !(1..=5).contains(&b.score) {
                    return Err(Error::invalid(
                        "score",
                        "out_of_range",
                        "The score is a whole number from 1 to 5.",
                        "Điểm đánh giá là số nguyên từ 1 đến 5.",
                    ));
                }
                Action::Rate {
                    score: b.score as u8,
                    comment: text::optional("comment", b.comment.as_deref(), 1000)?,
                }
            }
            "reopen" => {
                let b: ReopenBody = body(v)?;
                Action::Reopen {
                    reason: text::required("reason", &b.reason, MAX_TEXT)?,
                }
            }
            _ => return Err(Error::not_found()),
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Note { .. } => "note",
            Action::Transfer { .. } => "transfer",
            Action::RequestInfo { .. } => "request_info",
            Action::Resolve { .. } => "resolve",
            Action::Reject { .. } => "reject",
            Action::Extend { .. } => "extend",
            Action::Route { .. } => "route",
            Action::Info { .. } => "info",
            Action::Rate { .. } => "rate",
            Action::Reopen { .. } => "reopen",
        }
    }

    /// Which permission the action needs on this case.
    pub fn access(&self, case: &Case) -> CaseAccess {
        match self {
            Action::Route { .. } => CaseAccess::TriageAction,
            Action::Transfer { .. } if case.unit.as_ref().is_some_and(|u| u.is_triage()) => {
                CaseAccess::TriageAction
            }
            Action::Info { .. } | Action::Rate { .. } | Action::Reopen { .. } => {
                CaseAccess::CitizenAction
            }
            _ => CaseAccess::UnitAction,
        }
    }
}

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
pub(crate) struct Change<'a> {
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

    /// Count for the city and for a unit, on the local day of `at`.
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
            scope: ALL.into(),
            counter,
            amount,
        });
        if let Some(u) = unit {
            self.deltas.push(StatDelta {
                day,
                scope: u.to_string(),
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
            body,
            created_at: self.now,
        });
    }

    /// The citizen-facing status notification for this version.
    fn notify_status(&mut self) {
        let c = &self.case;
        let body = json!({
            "case_id": c.id, "tracking_code": c.tracking_code,
            "status": c.status, "status_label": c.status.label_vi(),
            "unit": c.unit,
        });
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

    /// Close the current hold, charging its working hours to the unit.
    fn end_hold(&mut self) {
        let now = self.now;
        let cal = self.refdata.calendar.clone();
        if let Some(h) = self.case.current_hold_mut() {
            h.to = Some(now);
            h.working_hours = Some(round2(cal.working_hours_between(h.from, now)));
        }
    }

    fn start_hold(&mut self, unit: &UnitCode) {
        self.case.holds.push(Hold {
            unit: unit.clone(),
            from: self.now,
            to: None,
            working_hours: None,
        });
    }

    /// A fresh acknowledge deadline at `unit`, from now.
    fn fresh_ack_due(&self, unit: &UnitCode) -> Option<DateTime<Utc>> {
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
        self.case.next_action_at = crate::schedule::next_action_at(&self.case, self.refdata);
        let event = TimelineEvent {
            at: self.now,
            version: self.case.version,
            action: action.into(),
            actor: actor.sub.clone(),
            actor_role: actor.role.as_str().into(),
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

pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn within_window(at: Option<DateTime<Utc>>, now: DateTime<Utc>, refdata: &RefData) -> bool {
    at.is_some_and(|t| now <= t + Duration::days(refdata.policy.dispute_window_days as i64))
}

/// Route a `received` case: to `unit` (assigned) or to triage. Computes the
/// deadlines with the policy in force now and stamps its version.
pub fn route(
    case: &Case,
    unit: UnitCode,
    now: DateTime<Utc>,
    refdata: &RefData,
) -> Result<Outcome> {
    if case.status != Status::Received {
        return Err(Error::invalid_transition(case.status.as_str(), "route"));
    }
    let mut ch = Change::new(case, now, refdata);
    let sla = refdata.policy.sla(&case.category, case.urgency);
    let cal = &refdata.calendar;
    // The citizen's resolve clock runs from receipt, wherever the case goes first.
    ch.case.resolve_due = cal.add(case.received_at, sla.resolve.hours, sla.resolve.clock);
    ch.case.resolve_clock = sla.resolve.clock;
    ch.case.policy_version = Some(refdata.policy.version.clone());
    ch.case.routed_at = Some(now);
    ch.case.ack_due = if unit.is_triage() {
        cal.add(
            now,
            refdata.policy.triage_ack.hours,
            refdata.policy.triage_ack.clock,
        )
    } else {
        cal.add(case.received_at, sla.ack.hours, sla.ack.clock)
    };
    ch.case.status = if unit.is_triage() {
        Status::Triage
    } else {
        Status::Assigned
    };
    ch.case.unit = Some(unit.clone());
    ch.start_hold(&unit);
    let kind_counter = match case.kind {
        crate::category::Kind::Field => Counter::ReceivedField,
        crate::category::Kind::Procedure => Counter::ReceivedProcedure,
    };
    // Per-unit intake is counted on the day the case was received.
    let day = refdata.calendar.local_date(case.received_at);
    for c in [Counter::Received, kind_counter] {
        ch.deltas.push(StatDelta {
            day,
            scope: unit.to_string(),
            counter: c,
            amount: 1,
        });
    }
    let audience = if unit.is_triage() {
        vec![Audience::Triage]
    } else {
        vec![Audience::Unit]
    };
    let body = assignment_body(&ch.case, refdata);
    ch.notify(
        event::ASSIGNED,
        &format!("assigned:v{}", ch.case.version),
        unit.as_str(),
        audience,
        body,
    );
    ch.notify_status();
    let data = json!({"policy_version": refdata.policy.version});
    Ok(ch.finish("routed", &Principal::system("router"), None, true, data))
}

fn assignment_body(c: &Case, refdata: &RefData) -> serde_json::Value {
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
        "location": {"lat": c.location.lat, "lng": c.location.lng, "ward_code": c.location.ward_code},
    })
}

/// Apply an actor's action. Authorization is checked by the caller
/// ([`crate::auth::authorize`]); this checks the transition and the rules.
pub fn apply(
    case: &Case,
    actor: &Principal,
    action: Action,
    now: DateTime<Utc>,
    refdata: &RefData,
) -> Result<Outcome> {
    use Status::*;
    let name = action.name();
    let bad = || Error::invalid_transition(case.status.as_str(), name);
    let mut ch = Change::new(case, now, refdata);
    let cal = &refdata.calendar;
    let unit = case.unit.clone();
    let (text, public, data) = match action {
        Action::Accept => {
            if case.status != Assigned {
                return Err(bad());
            }
            ch.case.status = InProgress;
            ch.case.accepted_at = Some(now);
            ch.notify_status();
            (None, true, json!({}))
        }
        Action::Note { text, public } => {
            if matches!(case.status, Received | Triage | Closed) {
                return Err(bad());
            }
            (Some(text), public, json!({}))
        }
        Action::Transfer { to_unit, reason } => {
            let from_triage = unit.as_ref().is_some_and(|u| u.is_triage());
            if !(matches!(case.status, Assigned | InProgress)
                || (from_triage && case.status == Triage))
            {
                return Err(bad());
            }
            if to_unit.is_triage() || Some(&to_unit) == unit.as_ref() {
                return Err(Error::invalid(
                    "to_unit",
                    "invalid_target_unit",
                    "Transfer to another unit (not the same unit, not triage).",
                    "Chỉ chuyển sang đơn vị khác (không phải chính đơn vị, không phải bộ phận phân loại).",
                ));
            }
            ch.end_hold();
            ch.start_hold(&to_unit);
            ch.case.unit = Some(to_unit.clone());
            ch.case.status = Assigned;
            ch.case.accepted_at = None;
            ch.case.ack_due = ch.fresh_ack_due(&to_unit);
            let from = unit.clone().map(|u| u.to_string()).unwrap_or_default();
            if !from_triage {
                // Routing out of triage is not a transfer.
                ch.case.transfers += 1;
                ch.count(now, unit.as_ref(), Counter::TransfersOut, 1);
            }
            let body = json!({"case_id": case.id, "tracking_code": case.tracking_code, "from_unit": from,
                "to_unit": to_unit, "reason": reason, "ack_due": ch.case.ack_due, "resolve_due": ch.case.resolve_due,
                "transfers": ch.case.transfers});
            let key = format!("transferred:v{}", ch.case.version);
            ch.notify(
                event::TRANSFERRED,
                &key,
                to_unit.as_str(),
                vec![Audience::Unit],
                body.clone(),
            );
            let threshold = refdata.policy.passed_around_transfers;
            if !from_triage && ch.case.transfers == threshold && threshold > 0 {
                ch.count(now, Some(&to_unit), Counter::PassedAround, 1);
                ch.decisions.push("passed_around".into());
                ch.case.milestones_done.push("passed_around".into());
                ch.notify(
                    event::PASSED_AROUND,
                    "passed_around",
                    to_unit.as_str(),
                    vec![Audience::Triage, Audience::HomeAffairs],
                    body,
                );
            }
            ch.notify_status();
            (
                Some(reason),
                false,
                json!({"from_unit": from, "to_unit": to_unit}),
            )
        }
        Action::Route { to_unit } => {
            if case.status != Triage {
                return Err(bad());
            }
            if to_unit.is_triage() {
                return Err(Error::invalid(
                    "to_unit",
                    "invalid_target_unit",
                    "Route to a unit other than triage.",
                    "Hãy chuyển đến một đơn vị khác bộ phận phân loại.",
                ));
            }
            ch.end_hold();
            ch.start_hold(&to_unit);
            ch.case.unit = Some(to_unit.clone());
            ch.case.status = Assigned;
            ch.case.ack_due = ch.fresh_ack_due(&to_unit);
            let body = assignment_body(&ch.case, refdata);
            let key = format!("assigned:v{}", ch.case.version);
            ch.notify(
                event::ASSIGNED,
                &key,
                to_unit.as_str(),
                vec![Audience::Unit],
                body,
            );
            ch.notify_status();
            (None, false, json!({"to_unit": to_unit}))
        }
        Action::RequestInfo { question } => {
            if case.status != InProgress {
                return Err(bad());
            }
            ch.case.status = AwaitingInfo;
            ch.case.open_question = Some(question.clone());
            ch.case.pauses.push(Pause {
                from: now,
                to: None,
                hours: None,
            });
            ch.notify_status();
            (Some(question), true, json!({}))
        }
        Action::Info { text, media } => {
            if case.status != AwaitingInfo {
                return Err(bad());
            }
            ch.case.status = InProgress;
            ch.case.open_question = None;
            let clock = case.resolve_clock;
            let mut paused = 0.0;
            if let Some(p) = ch.case.pauses.iter_mut().rev().find(|p| p.to.is_none()) {
                paused = cal.elapsed_hours(p.from, now, clock);
                p.to = Some(now);
                p.hours = Some(round2(paused));
            }
            // The resolve clock stood still while the unit waited.
            if let Some(due) = case.resolve_due {
                ch.case.resolve_due = cal.add(due, paused, clock);
            }
            ch.notify_status();
            (
                Some(text),
                false,
                json!({"media": media, "paused_hours": round2(paused)}),
            )
        }
        Action::Resolve { answer, evidence } => {
            if case.status != InProgress {
                return Err(bad());
            }
            ch.case.status = Resolved;
            ch.case.resolved_at = Some(now);
            let u = unit
                .clone()
                .ok_or_else(|| Error::bug("resolved case without unit"))?;
            ch.case.answer = Some(Answer {
                text: answer.clone(),
                evidence: evidence.clone(),
                at: now,
                unit: u,
                reason_code: None,
            });
            ch.end_hold();
            if case.first_resolved_at.is_none() {
                let on_time = case.resolve_due.is_none_or(|d| now <= d);
                ch.case.first_resolved_at = Some(now);
                ch.case.first_resolved_on_time = Some(on_time);
                ch.count(now, unit.as_ref(), Counter::Resolved, 1);
                let c = if on_time {
                    Counter::ResolvedOnTime
                } else {
                    Counter::ResolvedLate
                };
                ch.count(now, unit.as_ref(), c, 1);
                let hours = cal.working_hours_between(case.received_at, now);
                ch.count(now, unit.as_ref(), Counter::hist_bucket(hours), 1);
            }
            ch.notify_status();
            (Some(answer), true, json!({"evidence": evidence}))
        }
        Action::Reject {
            reason_code,
            answer,
        } => {
            if !matches!(case.status, Assigned | InProgress) {
                return Err(bad());
            }
            ch.case.status = Rejected;
            ch.case.rejected_at = Some(now);
            let u = unit
                .clone()
                .ok_or_else(|| Error::bug("rejected case without unit"))?;
            ch.case.answer = Some(Answer {
                text: answer.clone(),
                evidence: vec![],
                at: now,
                unit: u,
                reason_code: Some(reason_code.clone()),
            });
            ch.end_hold();
            ch.count(now, unit.as_ref(), Counter::Rejected, 1);
            ch.notify_status();
            (Some(answer), true, json!({"reason_code": reason_code}))
        }
        Action::Extend {
            working_days,
            reason,
        } => {
            if !matches!(case.status, Assigned | InProgress | AwaitingInfo) {
                return Err(bad());
            }
            if case.extension.is_some() {
                return Err(Error::new(
                    crate::error::ErrorKind::Conflict,
                    "already_extended",
                    "A case may be extended only once.",
                    "Mỗi phản ánh chỉ được gia hạn một lần.",
                ));
            }
            let due = case
                .resolve_due
                .ok_or_else(|| Error::bug("extend without resolve_due"))?;
            let minutes = working_days as i64 * cal.minutes_per_day();
            ch.case.resolve_due = cal.add_working_minutes(due, minutes);
            ch.case.extension = Some(Extension {
                working_days,
                reason: reason.clone(),
                at: now,
                by: actor.sub.clone(),
            });
            ch.count(now, unit.as_ref(), Counter::Extensions, 1);
            (
                Some(reason),
                true,
                json!({"working_days": working_days, "old_resolve_due": due, "new_resolve_due": ch.case.resolve_due}),
            )
        }
        Action::Rate { score, comment } => {
            if case.status != Resolved {
                return Err(bad());
            }
            ch.case.status = Closed;
            ch.case.closed_at = Some(now);
            ch.case.rating = Some(Rating {
                score,
                comment: comment.clone(),
                at: now,
            });
            ch.count(now, unit.as_ref(), Counter::RatingSum, score as i64);
            ch.count(now, unit.as_ref(), Counter::RatingCount, 1);
            ch.notify_status();
            (comment, false, json!({"score": score}))
        }
        Action::Reopen { reason } => match case.status {
            Resolved if within_window(case.resolved_at, now, refdata) => {
                let u = unit
                    .clone()
                    .ok_or_else(|| Error::bug("resolved case without unit"))?;
                ch.case.status = InProgress;
                ch.case.resolved_at = None;
                ch.case.reopens += 1;
                ch.start_hold(&u);
                ch.count(now, Some(&u), Counter::Reopens, 1);
                ch.notify_status();
                // The unit must hear that its answer was disputed.
                if let Some(n) = ch.notifications.last_mut() {
                    n.audience.push(Audience::Unit);
                }
                (Some(reason), false, json!({}))
            }
            Rejected if within_window(case.rejected_at, now, refdata) => {
                let t = UnitCode::triage();
                ch.case.status = Triage;
                ch.case.rejected_at = None;
                ch.case.reopens += 1;
                ch.case.unit = Some(t.clone());
                ch.start_hold(&t);
                ch.case.ack_due = ch.fresh_ack_due(&t);
                ch.count(now, Some(&t), Counter::Reopens, 1);
                let body = assignment_body(&ch.case, refdata);
                let key = format!("assigned:v{}", ch.case.version);
                ch.notify(
                    event::ASSIGNED,
                    &key,
                    t.as_str(),
                    vec![Audience::Triage],
                    body,
                );
                ch.notify_status();
                (Some(reason), false, json!({}))
            }
            _ => return Err(bad()),
        },
    };
    Ok(ch.finish(name, actor, text, public, data))
}

/// The sweep closes a resolved or rejected case whose dispute window ended.
pub fn close_after_window(case: &Case, now: DateTime<Utc>, refdata: &RefData) -> Result<Outcome> {
    let since = match case.status {
        Status::Resolved => case.resolved_at,
        Status::Rejected => case.rejected_at,
        _ => None,
    };
    if within_window(since, now, refdata) || since.is_none() {
        return Err(Error::invalid_transition(case.status.as_str(), "close"));
    }
    let mut ch = Change::new(case, now, refdata);
    ch.case.status = Status::Closed;
    ch.case.closed_at = Some(now);
    ch.notify_status();
    Ok(ch.finish(
        "close",
        &Principal::system("deadlines"),
        None,
        true,
        json!({"reason": "dispute_window_ended"}),
    ))
}

/// Is this role ever able to take this action? (For 403 vs 409 ordering.)
pub fn role_may(role: Role, action: &Action) -> bool {
    match action {
        Action::Route { .. } => matches!(role, Role::Triage | Role::Admin),
        Action::Transfer { .. } => matches!(
            role,
            Role::Official | Role::UnitAdmin | Role::Triage | Role::Admin
        ),
        Action::Info { .. } | Action::Rate { .. } | Action::Reopen { .. } => role == Role::Citizen,
        _ => matches!(role, Role::Official | Role::UnitAdmin),
    }
}
