//! Daily snapshots: what every scope (the city, `ALL`, and each unit) had at
//! the end of one local day — its open and overdue-open cases, and its
//! month-to-date counters (the sum of its rollup rows from the 1st of the
//! month through that day).
//!
//! The sweep writes one snapshot a day, the first pass after local midnight
//! (`crate::sweep::snapshot`), as ONE item for the whole city, so that any
//! period's figures for every unit are two snapshots per month apart
//! (`month(end) − month(start − 1)`), never a read per unit or per day
//! (`crate::aggregate`). A day's rows are final when it is over: every
//! counter is dated when it is committed.
//!
//! Stored compactly (about 100 bytes a unit, so a city of 1,000 units is
//! about 100 KB, well under DynamoDB's 400 KB item limit): per scope an
//! array `[open, overdue, <the counters of SLOTS in order>]`, trailing zeros
//! left out. `SLOTS` only ever grows at its end.

use crate::stats::{ALL, Counter, RECEIPT_COUNTERS, Rollup};
use chrono::NaiveDate;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The period counters a snapshot keeps, in their stored order (append only).
pub const SLOTS: [Counter; 26] = [
    Counter::Received,
    Counter::ReceivedField,
    Counter::ReceivedProcedure,
    Counter::Resolved,
    Counter::ResolvedOnTime,
    Counter::ResolvedLate,
    Counter::Rejected,
    Counter::TransfersOut,
    Counter::Extensions,
    Counter::Reopens,
    Counter::PassedAround,
    Counter::RatingSum,
    Counter::RatingCount,
    Counter::Downgrades,
    Counter::Hist(0),
    Counter::Hist(1),
    Counter::Hist(2),
    Counter::Hist(3),
    Counter::Hist(4),
    Counter::Hist(5),
    Counter::Hist(6),
    Counter::Hist(7),
    Counter::Hist(8),
    Counter::Hist(9),
    Counter::Hist(10),
    Counter::Duplicates,
];

/// Open and overdue-open cases of a scope at an instant.
pub type Levels = (i64, i64);

/// One scope at the end of a day.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScopeTotals {
    /// Month-to-date period counters, by `Counter::name()` (zeros left out).
    pub month: BTreeMap<String, i64>,
    pub open: i64,
    pub overdue: i64,
}

impl ScopeTotals {
    fn is_empty(&self) -> bool {
        self.open == 0 && self.overdue == 0 && self.month.values().all(|v| *v == 0)
    }
}

/// Every scope at the end of `day`; a scope absent is all zeros.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub day: NaiveDate,
    pub scopes: BTreeMap<String, ScopeTotals>,
}

impl Snapshot {
    /// The scope's entry (zeros when absent).
    pub fn get(&self, scope: &str) -> ScopeTotals {
        self.scopes.get(scope).cloned().unwrap_or_default()
    }

    pub fn levels(&self, scope: &str) -> Levels {
        self.scopes
            .get(scope)
            .map(|s| (s.open, s.overdue))
            .unwrap_or((0, 0))
    }

    /// The snapshot of the next day: `rows` are that day's rollup rows (every
    /// scope). The month counters restart on the 1st.
    pub fn next(&self, rows: &[Rollup]) -> Snapshot {
        let day = self.day.succ_opt().unwrap_or(self.day);
        let mut scopes = self.scopes.clone();
        if chrono::Datelike::day(&day) == 1 {
            for s in scopes.values_mut() {
                s.month.clear();
            }
        }
        let levels = level_changes(rows);
        for r in rows {
            let s = scopes.entry(r.scope.clone()).or_default();
            for (k, v) in &r.counters {
                if crate::stats::is_period_counter(k) {
                    *s.month.entry(k.clone()).or_default() += v;
                }
            }
        }
        for (scope, (o, d)) in levels {
            let s = scopes.entry(scope).or_default();
            s.open += o;
            s.overdue += d;
        }
        let mut out = Snapshot { day, scopes };
        out.compact();
        out
    }

    /// A first snapshot of `day` from its month's rows through `day` and
    /// the levels at its end.
    pub fn genesis(
        day: NaiveDate,
        month_rows: &[Rollup],
        levels: &BTreeMap<String, Levels>,
    ) -> Self {
        let mut scopes: BTreeMap<String, ScopeTotals> = BTreeMap::new();
        for r in month_rows.iter().filter(|r| r.day.is_none_or(|d| d <= day)) {
            let s = scopes.entry(r.scope.clone()).or_default();
            for (k, v) in &r.counters {
                if crate::stats::is_period_counter(k) {
                    *s.month.entry(k.clone()).or_default() += v;
                }
            }
        }
        for (scope, (o, d)) in levels {
            let s = scopes.entry(scope.clone()).or_default();
            s.open = *o;
            s.overdue = *d;
        }
        let mut out = Snapshot { day, scopes };
        out.compact();
        out
    }

    fn compact(&mut self) {
        for s in self.scopes.values_mut() {
            s.month.retain(|_, v| *v != 0);
        }
        self.scopes.retain(|_, s| !s.is_empty());
    }

    /// The stored form (see the module docs).
    pub fn to_json(&self) -> String {
        let scopes: serde_json::Map<String, Value> = self
            .scopes
            .iter()
            .map(|(k, s)| {
                let mut v = vec![s.open, s.overdue];
                v.extend(
                    SLOTS
                        .iter()
                        .map(|c| s.month.get(&c.name()).copied().unwrap_or(0)),
                );
                while v.len() > 2 && v.last() == Some(&0) {
                    v.pop();
                }
                (k.clone(), json!(v))
            })
            .collect();
        json!({"v": 1, "day": self.day, "scopes": scopes}).to_string()
    }

    pub fn from_json(s: &str) -> Result<Snapshot, String> {
        let v: Value = serde_json::from_str(s).map_err(|e| e.to_string())?;
        let day: NaiveDate = v
            .get("day")
            .and_then(|d| d.as_str())
            .and_then(|d| d.parse().ok())
            .ok_or("snapshot without a day")?;
        let mut scopes = BTreeMap::new();
        for (k, a) in v
            .get("scopes")
            .and_then(|s| s.as_object())
            .ok_or("snapshot without scopes")?
        {
            let nums: Vec<i64> = a
                .as_array()
                .ok_or("a scope is an array")?
                .iter()
                .map(|n| n.as_i64().ok_or("a count is an integer"))
                .collect::<Result<_, _>>()?;
            let at = |i: usize| nums.get(i).copied().unwrap_or(0);
            let month = SLOTS
                .iter()
                .enumerate()
                .map(|(i, c)| (c.name(), at(i + 2)))
                .filter(|(_, v)| *v != 0)
                .collect();
            scopes.insert(
                k.clone(),
                ScopeTotals {
                    month,
                    open: at(0),
                    overdue: at(1),
                },
            );
        }
        Ok(Snapshot { day, scopes })
    }
}

/// The open and overdue level changes of a day's rows, per scope; the
/// city's (`ALL`) is every unit's plus the cases received and not routed:
/// `ALL`'s `received` minus the units' (a unit counts `received` when a
/// case is first routed to it, and from then on its `open`).
pub fn level_changes(rows: &[Rollup]) -> BTreeMap<String, Levels> {
    let mut out: BTreeMap<String, Levels> = BTreeMap::new();
    let mut city = (0, 0);
    for r in rows {
        let (o, d) = (r.get(Counter::Open), r.get(Counter::Overdue));
        if r.scope == ALL {
            city.0 += r.get(RECEIPT_COUNTERS[0]);
            continue;
        }
        city.0 += o - r.get(RECEIPT_COUNTERS[0]);
        city.1 += d;
        if o != 0 || d != 0 {
            let e = out.entry(r.scope.clone()).or_default();
            e.0 += o;
            e.1 += d;
        }
    }
    if city != (0, 0) {
        out.insert(ALL.into(), city);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(day: u32, scope: &str, counters: &[(Counter, i64)]) -> Rollup {
        Rollup {
            day: NaiveDate::from_ymd_opt(2025, 7, day),
            scope: scope.into(),
            counters: counters.iter().map(|(c, n)| (c.name(), *n)).collect(),
        }
    }

    #[test]
    fn stored_form_round_trips_and_is_small() {
        let rows = vec![
            row(
                31,
                ALL,
                &[(Counter::Received, 3), (Counter::ReceivedField, 3)],
            ),
            row(
                31,
                "ward:00070",
                &[
                    (Counter::Received, 2),
                    (Counter::Open, 2),
                    (Counter::Hist(10), 1),
                    (Counter::Resolved, 1),
                ],
            ),
        ];
        let s = Snapshot::genesis(
            NaiveDate::from_ymd_opt(2025, 7, 31).unwrap(),
            &rows,
            &BTreeMap::from([
                ("ward:00070".to_string(), (4, 1)),
                (ALL.to_string(), (5, 1)),
            ]),
        );
        let j = s.to_json();
        assert_eq!(Snapshot::from_json(&j).unwrap(), s);
        assert!(j.contains("\"ward:00070\":[4,1,2,0,0,1"), "{j}");
        assert_eq!(s.get("ward:00070").month.get("h10"), Some(&1));
        assert_eq!(s.levels("dept:construction"), (0, 0), "absent is zero");
    }

    #[test]
    fn the_next_day_adds_its_rows_and_restarts_the_month() {
        let d31 = Snapshot::genesis(
            NaiveDate::from_ymd_opt(2025, 7, 30).unwrap(),
            &[row(30, "ward:00070", &[(Counter::Resolved, 5)])],
            &BTreeMap::from([
                ("ward:00070".to_string(), (2, 0)),
                (ALL.to_string(), (2, 0)),
            ]),
        )
        .next(&[
            row(
                31,
                "ward:00070",
                &[(Counter::Resolved, 1), (Counter::Open, -1)],
            ),
            row(31, ALL, &[(Counter::Received, 2)]),
            row(
                31,
                "ward:00073",
                &[
                    (Counter::Received, 1),
                    (Counter::Open, 1),
                    (Counter::Overdue, 1),
                ],
            ),
        ]);
        assert_eq!(d31.get("ward:00070").month.get("resolved"), Some(&6));
        assert_eq!(d31.levels("ward:00070"), (1, 0));
        assert_eq!(d31.levels("ward:00073"), (1, 1));
        // The city: 70's two open, one resolved; 2 received, one of them
        // routed to 73: 1 at 70 + 1 at 73 + 1 not routed yet.
        assert_eq!(d31.levels(ALL), (3, 1));
        let aug1 = d31.next(&[]);
        assert_eq!(aug1.day, NaiveDate::from_ymd_opt(2025, 8, 1).unwrap());
        assert!(aug1.get("ward:00070").month.is_empty(), "a new month");
        assert_eq!(aug1.levels("ward:00070"), (1, 0), "levels carry over");
    }
}
