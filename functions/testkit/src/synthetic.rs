//! A synthetic city history, for `pakn bench reads` and the bounded-read
//! tests: `n` cases spread over units and days, each driven through
//! pakn-core's own routing, actions and sweep decisions, so that the final
//! cases, the statistics deltas and the inspections are exactly what pakn
//! would have written. Deterministic: the same arguments give the same
//! history (ids and tracking codes aside).
//!
//! Of every ten cases: five are accepted and resolved (two of them late,
//! one in four of the resolved rated 1–5), one rejected, one transferred to
//! the next unit and left open, three left open — those past their
//! deadline at `until` decided overdue by the sweep's own decision, and
//! those more than 15 days late sent to inspection.

use crate::{citizen, hanoi, official};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use pakn_core::actions::{self, Action};
use pakn_core::calendar::ClockKind;
use pakn_core::case::{Case, Channel, Location, Submission};
use pakn_core::category::{Kind, Urgency};
use pakn_core::change::Outcome;
use pakn_core::ids::{self, CaseId};
use pakn_core::inspection::Inspection;
use pakn_core::refdata::RefData;
use pakn_core::routing;
use pakn_core::stats::{ALL, Counter, StatDelta};
use pakn_core::unit::UnitCode;

/// What a history leaves in a store.
#[derive(Debug, Default)]
pub struct History {
    /// Every case in its final state.
    pub cases: Vec<Case>,
    /// Every statistics delta of every change, in order.
    pub deltas: Vec<StatDelta>,
    /// Inspections the sweep opened (cases more than 15 days overdue).
    pub inspections: Vec<Inspection>,
}

impl History {
    fn take(&mut self, o: Outcome) -> Case {
        self.deltas.extend(o.deltas);
        o.case
    }
}

/// `n` cases received on the `days` local days from `first_day` (office
/// hours), at `units` in turn (units that accept cases: not triage), with
/// everything that happened to them up to `until`.
pub fn history(
    refdata: &RefData,
    units: &[UnitCode],
    n: usize,
    first_day: NaiveDate,
    days: u32,
    until: DateTime<Utc>,
) -> History {
    let mut h = History::default();
    let cal = &refdata.calendar;
    for i in 0..n {
        let day = first_day + Duration::days((i as u32 % days.max(1)) as i64);
        let minute = (i * 37) % 480;
        let at = hanoi(
            chrono::Datelike::year(&day),
            chrono::Datelike::month(&day),
            chrono::Datelike::day(&day),
            8 + (minute / 60) as u32,
            (minute % 60) as u32,
            (i % 60) as u32,
        );
        if at > until {
            continue;
        }
        let unit = units[i % units.len()].clone();
        let who = format!("cit-{}", i % 997);
        let case = Case::received(
            CaseId::new(at),
            ids::new_tracking_code(at),
            Submission {
                kind: Kind::Field,
                category: "lighting".into(),
                title: format!("Đèn đường hỏng số {i}"),
                description: "Đèn đường không sáng từ tối qua.".into(),
                urgency: Urgency::Normal,
                location: Location {
                    lat: 21.0285,
                    lng: 105.8542,
                    address: None,
                    ward_code: None,
                },
                media: vec![],
                channel: Channel::App,
                contact: None,
            },
            who.clone(),
            pakn_core::auth::Role::Citizen,
            at,
        );
        // What intake counts: the city's receipt.
        let local = cal.local_date(at);
        for counter in [Counter::Received, Counter::ReceivedField] {
            h.deltas.push(StatDelta {
                day: local,
                scope: ALL.into(),
                counter,
                amount: 1,
            });
        }
        let routed_at = at + Duration::seconds(1);
        let route = routing::route_to(&case, unit.clone(), routed_at, refdata).expect("route");
        let mut c = h.take(route);
        let off = official("off", unit.as_str());
        let step = |h: &mut History, c: &Case, action: Action, t: DateTime<Utc>, who| {
            let o = actions::apply(c, who, action, t, refdata).expect("a valid step");
            h.take(o)
        };
        match i % 10 {
            0..=4 => {
                let hours = [3.0, 10.0, 20.0, 30.0, 45.0][(i / 10) % 5];
                let accept_at = at + Duration::hours(1);
                let resolve_at = cal.add(at, hours, ClockKind::Working).unwrap_or(until);
                if resolve_at <= until {
                    c = step(&mut h, &c, Action::Accept, accept_at, &off);
                    let answer = Action::Resolve {
                        answer: "Đã thay bóng đèn.".into(),
                        evidence: vec![],
                    };
                    c = step(&mut h, &c, answer, resolve_at, &off);
                    let rate_at = resolve_at + Duration::days(1);
                    if i % 4 == 0 && rate_at <= until {
                        let rate = Action::Rate {
                            score: 1 + (i % 5) as u8,
                            comment: None,
                        };
                        c = step(&mut h, &c, rate, rate_at, &citizen(&who));
                    }
                }
            }
            5 => {
                let reject = Action::Reject {
                    reason_code: "not_city_matter".into(),
                    answer: "Không thuộc thẩm quyền của thành phố.".into(),
                };
                c = step(&mut h, &c, reject, at + Duration::hours(2), &off);
            }
            6 => {
                let to = units[(i + 1) % units.len()].clone();
                if to != unit {
                    let transfer = Action::Transfer {
                        to_unit: to,
                        reason: "Thuộc đơn vị khác.".into(),
                    };
                    c = step(&mut h, &c, transfer, at + Duration::hours(2), &off);
                }
            }
            _ => {}
        }
        // The sweep's decisions up to `until`: reminders, overdue, inspection.
        for _ in 0..4 {
            let Some(next) = c.next_action_at.filter(|t| *t <= until) else {
                break;
            };
            let Some(d) = pakn_core::sweep::decide(&c, next, refdata) else {
                break;
            };
            if d.open_inspection {
                let unit = c.unit.clone().unwrap_or_else(UnitCode::triage);
                h.inspections.push(Inspection::for_overdue_case(
                    &c.id,
                    &unit,
                    next,
                    serde_json::json!({}),
                ));
            }
            c = h.take(d.outcome);
        }
        h.cases.push(c);
    }
    h
}
