//! Statistics (CONTRACT.md "Statistics") from daily per-unit rollups.
//!
//! Every state change carries the counter deltas it causes ([`StatDelta`]);
//! the store applies them in the same transaction as the change, so the
//! rollups are exact, idempotent (a change commits once, by version), and
//! statistics never scan cases.
//!
//! One row per (local day, scope), and a change touches one scope: the
//! unit that holds the case (two when a case moves between units). The city
//! has its own row (`ALL`) only for what happens before a case has a unit:
//! its receipt. The city's figures are therefore `ALL`'s received counters
//! plus every unit's other counters ([`city`]); a unit's `received` counts
//! the cases first routed to it, on the local day they were routed.
//!
//! [`Counter::Open`] and [`Counter::Overdue`] are not period sums but level
//! changes: +1 when a case starts counting as open (or overdue) at a unit,
//! −1 when it stops. Daily snapshots (`crate::snapshot`) add them up into
//! each unit's open and overdue-open counts at the end of each day.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The scope of a rollup row for the whole city.
pub const ALL: &str = "ALL";

/// Upper bounds (working hours) of the resolution-time histogram buckets;
/// the last bucket is open-ended.
pub const HIST_BOUNDS: [f64; 10] = [1.0, 2.0, 4.0, 8.0, 16.0, 24.0, 40.0, 80.0, 160.0, 320.0];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Counter {
    Received,
    ReceivedField,
    ReceivedProcedure,
    Resolved,
    ResolvedOnTime,
    ResolvedLate,
    Rejected,
    TransfersOut,
    Extensions,
    Reopens,
    PassedAround,
    RatingSum,
    RatingCount,
    /// The holding unit lowered a case's urgency.
    Downgrades,
    /// A report closed as a duplicate of another open case (not resolved,
    /// not rejected: counted apart, never against the unit).
    Duplicates,
    /// Resolution-time histogram bucket `i` (see [`HIST_BOUNDS`]).
    Hist(u8),
    /// A level change: cases open at the unit (+1 when one starts counting, −1 when it stops).
    Open,
    /// A level change: open cases the sweep found overdue at the unit.
    Overdue,
}

impl Counter {
    pub fn name(self) -> String {
        match self {
            Counter::Hist(i) => format!("h{i}"),
            c => serde_json::to_value(c)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
        }
    }

    pub fn parse(s: &str) -> Option<Counter> {
        if let Some(i) = s.strip_prefix('h').and_then(|n| n.parse::<u8>().ok()) {
            return (i as usize <= HIST_BOUNDS.len()).then_some(Counter::Hist(i));
        }
        serde_json::from_value(serde_json::Value::String(s.into())).ok()
    }

    pub fn hist_bucket(hours: f64) -> Counter {
        let i = HIST_BOUNDS
            .iter()
            .position(|b| hours <= *b)
            .unwrap_or(HIST_BOUNDS.len());
        Counter::Hist(i as u8)
    }
}

/// One counter change for one (local day, scope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatDelta {
    pub day: NaiveDate,
    /// `ALL` or a unit code.
    pub scope: String,
    pub counter: Counter,
    pub amount: i64,
}

/// A rollup row as stored: counters by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rollup {
    pub day: Option<NaiveDate>,
    pub scope: String,
    pub counters: BTreeMap<String, i64>,
}

impl Rollup {
    pub fn get(&self, c: Counter) -> i64 {
        self.counters.get(&c.name()).copied().unwrap_or(0)
    }
}

/// The counters a unit also counts, that the city takes from its own row
/// (`ALL`, counted at receipt) rather than from its units (at routing).
pub const RECEIPT_COUNTERS: [Counter; 3] = [
    Counter::Received,
    Counter::ReceivedField,
    Counter::ReceivedProcedure,
];

/// Is this counter a period sum (not a level change)?
pub fn is_period_counter(name: &str) -> bool {
    name != Counter::Open.name() && name != Counter::Overdue.name()
}

/// The city's rollup from rows of every scope: `ALL`'s receipt counters,
/// every unit's other counters (level changes left out).
pub fn city(rows: &[Rollup]) -> Rollup {
    let receipt: Vec<String> = RECEIPT_COUNTERS.iter().map(|c| c.name()).collect();
    let mut out = Rollup {
        scope: ALL.into(),
        ..Default::default()
    };
    for r in rows {
        for (k, v) in &r.counters {
            if !is_period_counter(k) || (r.scope != ALL && receipt.contains(k)) {
                continue;
            }
            *out.counters.entry(k.clone()).or_default() += v;
        }
    }
    out
}

/// Sum rows (e.g. the days of a period) into one.
pub fn sum(rows: &[Rollup]) -> Rollup {
    let mut out = Rollup::default();
    for r in rows {
        for (k, v) in &r.counters {
            *out.counters.entry(k.clone()).or_default() += v;
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ByKind {
    pub field: i64,
    pub procedure: i64,
}

/// The published figures for a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Stats {
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub total: i64,
    pub by_kind: ByKind,
    pub resolved: i64,
    pub resolved_on_time: i64,
    pub resolved_late: i64,
    pub on_time_rate: Option<f64>,
    pub late_rate: Option<f64>,
    pub rejected: i64,
    /// Reports closed as duplicates of another case in the period (each
    /// report still counts once in `total`; a duplicate is neither
    /// resolved nor rejected).
    pub duplicates: i64,
    /// Open at the end of the period: now for a period that has not ended,
    /// else from the daily snapshot of its last day (`null` without one).
    pub open: Option<i64>,
    pub overdue_open: Option<i64>,
}

/// Figures from the period's summed rollup and the open counts.
pub fn figures(
    from: NaiveDate,
    to: NaiveDate,
    unit: Option<String>,
    r: &Rollup,
    open: Option<(i64, i64)>,
) -> Stats {
    let resolved = r.get(Counter::Resolved);
    let on_time = r.get(Counter::ResolvedOnTime);
    let late = r.get(Counter::ResolvedLate);
    let rate = |n: i64| (resolved > 0).then(|| n as f64 / resolved as f64);
    Stats {
        from,
        to,
        unit,
        total: r.get(Counter::Received),
        by_kind: ByKind {
            field: r.get(Counter::ReceivedField),
            procedure: r.get(Counter::ReceivedProcedure),
        },
        resolved,
        resolved_on_time: on_time,
        resolved_late: late,
        on_time_rate: rate(on_time),
        late_rate: rate(late),
        rejected: r.get(Counter::Rejected),
        duplicates: r.get(Counter::Duplicates),
        open: open.map(|o| o.0),
        overdue_open: open.map(|o| o.1),
    }
}

/// The p-th percentile (0–1) of the histogram, as the bucket's upper bound
/// (working hours); `None` without data. The open last bucket reports its lower bound.
pub fn percentile(r: &Rollup, p: f64) -> Option<f64> {
    let counts: Vec<i64> = (0..=HIST_BOUNDS.len())
        .map(|i| r.get(Counter::Hist(i as u8)))
        .collect();
    let total: i64 = counts.iter().sum();
    if total <= 0 {
        return None;
    }
    let rank = (p * total as f64).ceil().max(1.0) as i64;
    let mut seen = 0;
    for (i, c) in counts.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return Some(
                *HIST_BOUNDS
                    .get(i)
                    .unwrap_or(&HIST_BOUNDS[HIST_BOUNDS.len() - 1]),
            );
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_names_round_trip() {
        for c in [
            Counter::Received,
            Counter::ResolvedOnTime,
            Counter::Hist(0),
            Counter::Hist(10),
        ] {
            assert_eq!(Counter::parse(&c.name()), Some(c));
        }
        assert_eq!(Counter::Received.name(), "received");
        assert_eq!(Counter::parse("h11"), None);
        assert_eq!(Counter::hist_bucket(0.5), Counter::Hist(0));
        assert_eq!(Counter::hist_bucket(8.0), Counter::Hist(3));
        assert_eq!(Counter::hist_bucket(1000.0), Counter::Hist(10));
    }

    #[test]
    fn the_city_figures_add_up() {
        // iHanoi's first month: 846 received (772 field, 74 procedure), 523 resolved,
        // of which 97.45% on time: 523 * 0.9745 = 509.66 -> 510 on time, 13 late.
        let mut r = Rollup::default();
        for (c, n) in [
            (Counter::Received, 846),
            (Counter::ReceivedField, 772),
            (Counter::ReceivedProcedure, 74),
            (Counter::Resolved, 523),
            (Counter::ResolvedOnTime, 510),
            (Counter::ResolvedLate, 13),
        ] {
            r.counters.insert(c.name(), n);
        }
        let d = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
        let s = figures(d, d, None, &r, None);
        assert_eq!(s.total, 846);
        assert_eq!(s.by_kind.field + s.by_kind.procedure, s.total);
        assert_eq!(s.resolved_on_time + s.resolved_late, s.resolved);
        assert!((s.on_time_rate.unwrap() - 0.9751).abs() < 1e-3);
        assert!(
            figures(d, d, None, &Rollup::default(), None)
                .on_time_rate
                .is_none()
        );
    }

    #[test]
    fn percentiles_from_histogram() {
        let mut r = Rollup::default();
        r.counters.insert(Counter::Hist(2).name(), 5); // <= 4h
        r.counters.insert(Counter::Hist(6).name(), 5); // <= 40h
        assert_eq!(percentile(&r, 0.5), Some(4.0));
        assert_eq!(percentile(&r, 0.9), Some(40.0));
        assert_eq!(percentile(&Rollup::default(), 0.5), None);
    }
}
