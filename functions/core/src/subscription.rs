//! An agency's subscription request, checked and turned into the SNS filter
//! policy both backends apply (SNS on AWS; the local notifier through
//! [`crate::notify::filter_matches`]). The attribute names are those of
//! CONTRACT.md "Notifications": `unit`, `audience`, `event`, `urgency`.
//!
//! Everything is checked before anything is created: a unit that is not in
//! the reference data, an audience or an event pakn does not publish is a
//! `422` with the field to fix.

use crate::error::{Error, Result};
use crate::notify::{Audience, event};
use crate::refdata::RefData;
use crate::unit::UnitCode;
use serde_json::{Value, json};

/// Every event pakn publishes (CONTRACT.md "Notifications").
pub const EVENTS: &[&str] = &[
    event::ASSIGNED,
    event::TRANSFERRED,
    event::REMINDER,
    event::OVERDUE,
    event::OVERDUE_DIGEST,
    event::PASSED_AROUND,
    event::INSPECTION_OPENED,
    event::STATUS_CHANGED,
];

/// The audiences a message may carry.
pub const AUDIENCES: &[Audience] = &[
    Audience::Unit,
    Audience::Triage,
    Audience::HomeAffairs,
    Audience::Citizen,
];

/// What an agency asks to receive; empty lists mean "any".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubscriptionRequest {
    pub units: Vec<String>,
    pub audiences: Vec<String>,
    pub events: Vec<String>,
    pub urgencies: Vec<String>,
}

/// The filter policy for `req`, or the first thing wrong with it.
pub fn filter_policy(req: &SubscriptionRequest, refdata: &RefData) -> Result<Value> {
    if req.units.is_empty() && req.audiences.is_empty() && req.events.is_empty() {
        return Err(Error::invalid("unit", "empty_filter"));
    }
    let mut policy = serde_json::Map::new();
    let mut units = Vec::new();
    for u in &req.units {
        let code = UnitCode::parse(u).map_err(|_| unknown_unit(u))?;
        if refdata.unit(&code).is_none() {
            return Err(unknown_unit(u));
        }
        units.push(code.to_string());
    }
    let mut audiences = Vec::new();
    for a in &req.audiences {
        let a = a.trim();
        if !AUDIENCES.iter().any(|x| x.as_str() == a) {
            return Err(Error::invalid("audience", "unknown_audience").with("value", a));
        }
        audiences.push(a.to_string());
    }
    let mut events = Vec::new();
    for e in &req.events {
        let e = e.trim();
        if !EVENTS.contains(&e) {
            return Err(Error::invalid("event", "unknown_event")
                .with("value", e)
                .with("allowed", EVENTS.join(", ")));
        }
        events.push(e.to_string());
    }
    let mut urgencies = Vec::new();
    for u in &req.urgencies {
        let u = u.trim();
        if !["urgent", "normal", "complex"].contains(&u) {
            return Err(Error::invalid("urgency", "unknown_urgency").with("value", u));
        }
        urgencies.push(u.to_string());
    }
    for (name, mut values) in [
        ("unit", units),
        ("audience", audiences),
        ("event", events),
        ("urgency", urgencies),
    ] {
        if !values.is_empty() {
            values.sort();
            values.dedup();
            policy.insert(name.into(), json!(values));
        }
    }
    Ok(Value::Object(policy))
}

fn unknown_unit(u: &str) -> Error {
    Error::invalid("unit", "unknown_unit").with("unit", u)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::{AttrValue, filter_matches};

    fn req(units: &[&str], audiences: &[&str], events: &[&str]) -> SubscriptionRequest {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect();
        SubscriptionRequest {
            units: v(units),
            audiences: v(audiences),
            events: v(events),
            urgencies: vec![],
        }
    }

    #[test]
    fn builds_the_policy_the_notifiers_match() {
        let r = RefData::embedded();
        let p = filter_policy(
            &req(
                &["ward:00070"],
                &["unit"],
                &["case.overdue", "case.reminder"],
            ),
            &r,
        )
        .unwrap();
        assert_eq!(
            p,
            json!({"unit": ["ward:00070"], "audience": ["unit"], "event": ["case.overdue", "case.reminder"]})
        );
        let attrs = |unit: &str, ev: &str| {
            vec![
                ("event", AttrValue::String(ev.into())),
                ("unit", AttrValue::String(unit.into())),
                ("audience", AttrValue::StringArray(vec!["unit".into()])),
            ]
        };
        assert!(filter_matches(&p, &attrs("ward:00070", "case.overdue")));
        assert!(!filter_matches(&p, &attrs("ward:00073", "case.overdue")));
        assert!(!filter_matches(&p, &attrs("ward:00070", "case.assigned")));
    }

    #[test]
    fn unknown_units_audiences_and_events_are_refused() {
        let r = RefData::embedded();
        let code = |q: SubscriptionRequest| filter_policy(&q, &r).unwrap_err();
        for u in ["ward:99999", "ward:7", "dept:nowhere"] {
            let e = code(req(&[u], &[], &[]));
            assert_eq!((e.code, e.field.as_deref()), ("unknown_unit", Some("unit")));
        }
        let e = code(req(&["ward:00070"], &["mayor"], &[]));
        assert_eq!(
            (e.code, e.field.as_deref()),
            ("unknown_audience", Some("audience"))
        );
        let e = code(req(&["ward:00070"], &[], &["case.deleted"]));
        assert_eq!(
            (e.code, e.field.as_deref()),
            ("unknown_event", Some("event"))
        );
        assert_eq!(e.param("value"), Some("case.deleted"));
        assert_eq!(code(req(&[], &[], &[])).code, "empty_filter");
    }
}
