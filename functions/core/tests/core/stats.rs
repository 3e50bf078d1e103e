//! Statistics from the deltas real workflow outcomes produce.
//!
//! A synthetic history of 20 cases is run through `workflow::route`/`apply`
//! at fixed instants; the test sums every outcome's deltas per (scope, local
//! day) itself, as the store does, and compares `stats::figures` for June 2025
//! with totals counted by hand below.
//!
//! Units: W1 = ward:00070, W2 = ward:00073, D = dept:construction.
//! Deadlines (received Mon 16 Jun 09:00): lighting (24h) Thu 19 Jun 09:00;
//! road-damage and admin-procedure (40h) Mon 23 Jun 09:00.

use crate::common::{act, hn, hns, new_case, rd};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use pakn_core::case::Case;
use pakn_core::category::{Kind, Urgency};
use pakn_core::change::Outcome;
use pakn_core::routing;
use pakn_core::stats::{self, ALL, Counter, Rollup, figures, percentile};
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Rollup rows keyed by (scope, local day), summed from deltas.
#[derive(Default)]
struct History {
    rows: BTreeMap<(String, NaiveDate), BTreeMap<Counter, i64>>,
}

impl History {
    fn record(&mut self, o: Outcome) -> Case {
        for d in &o.deltas {
            *self
                .rows
                .entry((d.scope.clone(), d.day))
                .or_default()
                .entry(d.counter)
                .or_default() += d.amount;
        }
        o.case
    }

    /// Intake (city-wide counts on the local day of receipt, as `Pakn::submit`
    /// records them) and routing by the real rules.
    fn submit(&mut self, category: &str, ward: Option<&str>, at: DateTime<Utc>) -> Case {
        let c = new_case(category, Urgency::Normal, ward, at);
        let local_day = (at + Duration::hours(7)).date_naive();
        let kind = if c.kind == Kind::Field {
            Counter::ReceivedField
        } else {
            Counter::ReceivedProcedure
        };
        for counter in [Counter::Received, kind] {
            *self
                .rows
                .entry((ALL.into(), local_day))
                .or_default()
                .entry(counter)
                .or_default() += 1;
        }
        let to = routing::target(&c, rd());
        self.record(routing::route_to(&c, to, at, rd()).unwrap())
    }

    fn act(&mut self, c: &Case, name: &str, body: Value, at: DateTime<Utc>) -> Case {
        self.record(act(c, name, body, at))
    }

    fn accept_resolve(&mut self, c: &Case, resolve_at: DateTime<Utc>) -> Case {
        let accepted = self.act(c, "accept", json!({}), resolve_at - Duration::minutes(30));
        self.act(
            &accepted,
            "resolve",
            json!({"answer": "Đã xử lý"}),
            resolve_at,
        )
    }

    /// The rollup of a scope over local days [from, to); the city's from
    /// every scope's rows, as `stats::city` adds them up (its receipts, its
    /// units' everything else).
    fn rollup(&self, scope: &str, from: NaiveDate, to: NaiveDate) -> Rollup {
        let rows: Vec<Rollup> = self
            .rows
            .iter()
            .filter(|((s, d), _)| (scope == ALL || s == scope) && from <= *d && *d < to)
            .map(|((s, d), cs)| Rollup {
                day: Some(*d),
                scope: s.clone(),
                counters: cs.iter().map(|(c, n)| (c.name(), *n)).collect(),
            })
            .collect();
        if scope == ALL {
            stats::city(&rows)
        } else {
            stats::sum(&rows)
        }
    }
}

fn build() -> History {
    let mut h = History::default();
    let t = hn(2025, 6, 16, 9, 0);
    let w1 = Some("00070");
    let w2 = Some("00073");
    // c1–c6: lighting at W1.
    let c1 = h.submit("lighting", w1, t);
    h.accept_resolve(&c1, hn(2025, 6, 17, 10, 0)); // on time
    let c2 = h.submit("lighting", w1, t);
    h.accept_resolve(&c2, hn(2025, 6, 19, 9, 0)); // on time, at the deadline
    let c3 = h.submit("lighting", w1, t);
    h.accept_resolve(&c3, hns(2025, 6, 19, 9, 0, 1)); // late by a second
    let c4 = h.submit("lighting", w1, t);
    h.act(
        &c4,
        "reject",
        json!({"reason_code": "duplicate", "answer": "Trùng"}),
        hn(2025, 6, 16, 11, 0),
    );
    let _c5 = h.submit("lighting", w1, t); // still open
    let c6 = h.submit("lighting", w1, t);
    let r6 = h.accept_resolve(&c6, hn(2025, 6, 17, 9, 0)); // on time
    let o6 = h.act(
        &r6,
        "reopen",
        json!({"reason": "Vẫn hỏng"}),
        hn(2025, 6, 18, 9, 0),
    );
    h.act(
        &o6,
        "resolve",
        json!({"answer": "Đã sửa lại"}),
        hn(2025, 6, 20, 9, 0),
    ); // not a second resolution
    // c7–c10: road-damage at D.
    let c7 = h.submit("road-damage", w1, t);
    h.accept_resolve(&c7, hn(2025, 6, 20, 10, 0)); // on time
    let c8 = h.submit("road-damage", w2, t);
    let e8 = h.act(
        &c8,
        "extend",
        json!({"working_days": 2, "reason": "Chờ nhựa đường"}),
        hn(2025, 6, 20, 9, 0),
    );
    assert_eq!(e8.resolve_due, Some(hn(2025, 6, 25, 9, 0))); // Mon 23 09:00 + 16h
    h.accept_resolve(&e8, hn(2025, 6, 24, 10, 0)); // on time thanks to the extension
    let c9 = h.submit("road-damage", None, t);
    h.accept_resolve(&c9, hn(2025, 6, 24, 10, 0)); // late
    let c10 = h.submit("road-damage", w1, t);
    let t10 = h.act(
        &c10,
        "transfer",
        json!({"to_unit": "ward:00070", "reason": "Ngõ của phường"}),
        hn(2025, 6, 16, 14, 0),
    );
    h.accept_resolve(&t10, hn(2025, 6, 18, 9, 0)); // on time, at W1
    // c11–c14: admin-procedure at W2.
    let c11 = h.submit("admin-procedure", w2, t);
    h.accept_resolve(&c11, hn(2025, 6, 19, 10, 0)); // on time; 25 working hours
    let c12 = h.submit("admin-procedure", w2, t);
    h.accept_resolve(&c12, hn(2025, 6, 24, 10, 0)); // late; 49 working hours
    let c13 = h.submit("admin-procedure", w2, t);
    let a13 = h.act(&c13, "accept", json!({}), hn(2025, 6, 16, 10, 0));
    let q13 = h.act(
        &a13,
        "request_info",
        json!({"question": "Số hồ sơ?"}),
        hn(2025, 6, 16, 11, 0),
    );
    let i13 = h.act(
        &q13,
        "info",
        json!({"text": "HS-123"}),
        hn(2025, 6, 17, 11, 0),
    );
    // Paused Mon 11–12, 13–17, Tue 08–11 = 8h: due Mon 23 09:00 → Tue 24 09:00.
    assert_eq!(i13.resolve_due, Some(hn(2025, 6, 24, 9, 0)));
    h.act(
        &i13,
        "resolve",
        json!({"answer": "Đã cấp"}),
        hn(2025, 6, 24, 8, 30),
    ); // on time; 47.5 working hours
    let _c14 = h.submit("admin-procedure", w2, t); // still open
    // c15–c16: no ward → triage.
    let c15 = h.submit("lighting", None, t);
    let r15 = h.act(
        &c15,
        "route",
        json!({"to_unit": "ward:00070"}),
        hn(2025, 6, 16, 10, 0),
    );
    h.accept_resolve(&r15, hn(2025, 6, 18, 9, 0)); // on time, at W1
    let _c16 = h.submit("lighting", None, t); // waits in triage
    // c17: received Sat 31 May 23:30 (May), resolved Mon 2 Jun 10:00 (June), on time.
    let c17 = h.submit("lighting", w1, hn(2025, 5, 31, 23, 30));
    h.accept_resolve(&c17, hn(2025, 6, 2, 10, 0));
    // c18: Mon 30 Jun 23:30 local is still June.
    let _c18 = h.submit("lighting", w1, hn(2025, 6, 30, 23, 30));
    // c19: Tue 1 Jul 00:30 local is 30 Jun 17:30 UTC, but July in Hanoi.
    let _c19 = h.submit("lighting", w1, hn(2025, 7, 1, 0, 30));
    // c20: received in June, resolved (late) in July.
    let c20 = h.submit("lighting", w1, t);
    h.accept_resolve(&c20, hn(2025, 7, 1, 9, 0));
    h
}

#[track_caller]
/// Expected: [total, field, procedure, resolved, on_time, late, rejected].
fn check(s: &stats::Stats, expected: [i64; 7]) {
    let [total, field, procedure, resolved, on_time, late, rejected] = expected;
    assert_eq!(s.total, total, "total");
    assert_eq!(
        (s.by_kind.field, s.by_kind.procedure),
        (field, procedure),
        "by_kind"
    );
    assert_eq!(
        (s.resolved, s.resolved_on_time, s.resolved_late),
        (resolved, on_time, late),
        "resolved"
    );
    assert_eq!(s.rejected, rejected, "rejected");
    if resolved == 0 {
        assert_eq!((s.on_time_rate, s.late_rate), (None, None));
    } else {
        let r = resolved as f64;
        assert!((s.on_time_rate.unwrap() - on_time as f64 / r).abs() < 1e-12);
        assert!((s.late_rate.unwrap() - late as f64 / r).abs() < 1e-12);
    }
}

#[test]
fn june_2025_for_the_city_and_per_unit() {
    let h = build();
    let (from, to) = (day(2025, 6, 1), day(2025, 7, 1));
    let fig = |scope: &str| {
        let unit = (scope != ALL).then(|| scope.to_string());
        figures(from, to, unit, &h.rollup(scope, from, to), None)
    };
    // City: received c1–c16, c18, c20 = 18 (4 procedure); first resolved in June:
    // c1 c2 c3 c6 c7 c8 c9 c10 c11 c12 c13 c15 c17 = 13, late c3 c9 c12; rejected c4.
    let city = fig(ALL);
    check(&city, [18, 14, 4, 13, 10, 3, 1]);
    assert!((city.on_time_rate.unwrap() - 10.0 / 13.0).abs() < 1e-12);
    assert_eq!((city.from, city.to, city.unit.clone()), (from, to, None));
    assert_eq!((city.open, city.overdue_open), (None, None));
    // W1: received c1–c6, c18, c20 (c10 counts at D, c15 at triage, c17 in May, c19 in July);
    // resolved c1 c2 c3 c6 c10 c15 c17, late c3; rejected c4.
    let w1 = fig("ward:00070");
    check(&w1, [8, 8, 0, 7, 6, 1, 1]);
    assert_eq!(w1.unit.as_deref(), Some("ward:00070"));
    // D: received c7–c10; resolved c7 c8 c9, late c9.
    check(&fig("dept:construction"), [4, 4, 0, 3, 2, 1, 0]);
    // W2: received c11–c14; resolved c11 c12 c13, late c12.
    check(&fig("ward:00073"), [4, 0, 4, 3, 2, 1, 0]);
    // Triage: received c15, c16; resolves nothing.
    check(&fig("city:triage"), [2, 2, 0, 0, 0, 0, 0]);
    // The units' intake adds up to the city's.
    let units: i64 = [
        "ward:00070",
        "dept:construction",
        "ward:00073",
        "city:triage",
    ]
    .iter()
    .map(|u| fig(u).total)
    .sum();
    assert_eq!(units, city.total);
}

#[test]
fn other_counters_of_june() {
    let h = build();
    let (from, to) = (day(2025, 6, 1), day(2025, 7, 1));
    let d = h.rollup("dept:construction", from, to);
    assert_eq!(d.get(Counter::TransfersOut), 1); // c10
    assert_eq!(d.get(Counter::Extensions), 1); // c8
    let w1 = h.rollup("ward:00070", from, to);
    assert_eq!(w1.get(Counter::Reopens), 1); // c6
    assert_eq!(w1.get(Counter::TransfersOut), 0);
    let city = h.rollup(ALL, from, to);
    assert_eq!(city.get(Counter::TransfersOut), 1);
    assert_eq!(city.get(Counter::Reopens), 1);
    // Routing out of triage (c15) is not a transfer.
    assert_eq!(
        h.rollup("city:triage", from, to).get(Counter::TransfersOut),
        0
    );
    // W2's resolution times: c11 25h (≤ 40), c12 49h and c13 47.5h (≤ 80).
    let w2 = h.rollup("ward:00073", from, to);
    assert_eq!((w2.get(Counter::Hist(6)), w2.get(Counter::Hist(7))), (1, 2));
    assert_eq!(percentile(&w2, 0.3), Some(40.0));
    assert_eq!(percentile(&w2, 0.5), Some(80.0));
    assert_eq!(percentile(&w2, 1.0), Some(80.0));
}

#[test]
fn the_neighbouring_months() {
    let h = build();
    // May: c17 received (Sat 31 May 23:30 local), nothing resolved.
    let may = figures(
        day(2025, 5, 1),
        day(2025, 6, 1),
        None,
        &h.rollup(ALL, day(2025, 5, 1), day(2025, 6, 1)),
        None,
    );
    check(&may, [1, 1, 0, 0, 0, 0, 0]);
    // July: c19 received (local 1 Jul 00:30); c20 resolved late.
    let jul = figures(
        day(2025, 7, 1),
        day(2025, 8, 1),
        None,
        &h.rollup(ALL, day(2025, 7, 1), day(2025, 8, 1)),
        Some((5, 2)),
    );
    check(&jul, [1, 1, 0, 1, 0, 1, 0]);
    assert_eq!(jul.late_rate, Some(1.0));
    assert_eq!((jul.open, jul.overdue_open), (Some(5), Some(2)));
    // The last day of June alone: c18 (23:30 local) but not c19.
    let june30 = h.rollup(ALL, day(2025, 6, 30), day(2025, 7, 1));
    assert_eq!(june30.get(Counter::Received), 1);
}

#[test]
fn percentiles_of_a_histogram() {
    let mut r = Rollup::default();
    let mut set = |i: u8, n: i64| {
        r.counters.insert(Counter::Hist(i).name(), n);
    };
    set(0, 2); // ≤ 1h
    set(3, 1); // ≤ 8h
    set(10, 1); // > 320h, the open bucket
    // Ranks: 2 of 4 in ≤1h, the 3rd in ≤8h, the 4th in the open bucket.
    assert_eq!(percentile(&r, 0.0), Some(1.0));
    assert_eq!(percentile(&r, 0.5), Some(1.0));
    assert_eq!(percentile(&r, 0.51), Some(8.0));
    assert_eq!(percentile(&r, 0.75), Some(8.0));
    // The open bucket reports its lower bound, 320h.
    assert_eq!(percentile(&r, 1.0), Some(320.0));
    assert_eq!(percentile(&Rollup::default(), 0.5), None);
}

#[test]
fn the_histogram_buckets() {
    let cases = [
        (0.0, 0),
        (1.0, 0),
        (1.01, 1),
        (8.0, 3),
        (24.0, 5),
        (24.5, 6),
        (320.0, 9),
        (320.5, 10),
    ];
    for (hours, bucket) in cases {
        assert_eq!(
            Counter::hist_bucket(hours),
            Counter::Hist(bucket),
            "{hours}"
        );
    }
}
