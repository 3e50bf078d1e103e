//! A period's figures in a bounded number of reads, whatever the number of
//! units or cases: the period counters and the open/overdue levels of the
//! city, one unit, or every unit at once.
//!
//! Local days `[from, to)` are cut into month segments. A segment `[a, b)`
//! of a month is `month(b − 1) − month(a − 1)` (the month-to-date counters
//! of two daily snapshots, `crate::snapshot`; nothing to subtract when `a`
//! is the 1st). Today is not in a snapshot yet: its rows are read (with
//! yesterday's, for the time between midnight and the sweep that takes
//! yesterday's snapshot). So a period of any length costs one batch read of
//! snapshots (at most two per month) and, when it includes today, one read
//! of two days' rows. Only where a snapshot is missing (the sweep did not
//! run that day) is a segment summed from its rows instead: still exact,
//! one query per month (a batch read for one unit).
//!
//! Open and overdue-open at the end of the period: for a period that has
//! not ended, now (yesterday's snapshot plus today's level changes); for one
//! that has, the snapshot of its last day, `None` without one. Before the
//! sweep has taken any snapshot on a store, the live counts are counted
//! from the cases (`StatsStore::count_open`).

use crate::error::Result;
use crate::ports::StatsStore;
use crate::refdata::RefData;
use crate::snapshot::{Levels, Snapshot, level_changes};
use crate::stats::{self, ALL, Rollup};
use crate::unit::UnitCode;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// Whose figures.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// The city (`ALL`): its receipts, every unit's other counters.
    City,
    Unit(&'a UnitCode),
    /// Every unit (not the city), for scorecards.
    Units,
}

/// A period's totals by scope (`ALL` for the city, unit codes).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeriodTotals {
    pub sums: BTreeMap<String, Rollup>,
    /// Open and overdue-open at the end of the period by scope (absent: 0),
    /// `None` when not known (a past period without its snapshot).
    pub levels: Option<BTreeMap<String, Levels>>,
}

impl PeriodTotals {
    pub fn sum(&self, scope: &str) -> Rollup {
        self.sums.get(scope).cloned().unwrap_or_default()
    }

    pub fn levels(&self, scope: &str) -> Option<Levels> {
        self.levels
            .as_ref()
            .map(|l| l.get(scope).copied().unwrap_or((0, 0)))
    }
}

type Counters = BTreeMap<String, i64>;
type ByScope = BTreeMap<String, Counters>;

/// The first day of the month after `d`'s.
fn next_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(NaiveDate::MAX)
}

fn prev(d: NaiveDate) -> NaiveDate {
    d.pred_opt().unwrap_or(d)
}

/// `[from, to)` cut at month boundaries.
pub fn month_segments(from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = Vec::new();
    let mut a = from;
    while a < to {
        let b = next_month(a).min(to);
        out.push((a, b));
        a = b;
    }
    out
}

fn add_rows(into: &mut ByScope, rows: &[Rollup]) {
    for r in rows {
        let e = into.entry(r.scope.clone()).or_default();
        for (k, v) in &r.counters {
            if stats::is_period_counter(k) {
                *e.entry(k.clone()).or_default() += v;
            }
        }
    }
}

fn month_of(s: &Snapshot) -> ByScope {
    s.scopes
        .iter()
        .map(|(k, v)| (k.clone(), v.month.clone()))
        .collect()
}

fn diff(end: &ByScope, start: &ByScope) -> ByScope {
    let mut out = end.clone();
    for (scope, cs) in start {
        let e = out.entry(scope.clone()).or_default();
        for (k, v) in cs {
            *e.entry(k.clone()).or_default() -= v;
        }
    }
    out
}

/// What was read for one period.
struct Reads {
    snaps: BTreeMap<NaiveDate, Snapshot>,
    /// Rows of the recent days (yesterday and today) when they were read.
    recent: Option<(NaiveDate, BTreeMap<NaiveDate, Vec<Rollup>>)>,
}

impl Reads {
    fn recent_rows(&self, day: NaiveDate) -> Option<&[Rollup]> {
        let (first, rows) = self.recent.as_ref()?;
        (day >= *first && day <= first.succ_opt()?)
            .then(|| rows.get(&day).map(Vec::as_slice).unwrap_or(&[]))
    }

    /// Month-to-date counters through `day`, by scope.
    fn month_through(&self, day: NaiveDate) -> Option<ByScope> {
        if let Some(s) = self.snaps.get(&day) {
            return Some(month_of(s));
        }
        let rows = self.recent_rows(day)?;
        let mut base = if day.day() == 1 {
            ByScope::new()
        } else {
            self.month_through(prev(day))?
        };
        add_rows(&mut base, rows);
        Some(base)
    }

    /// Open and overdue at the end of `day`, by scope.
    fn levels_at(&self, day: NaiveDate) -> Option<BTreeMap<String, Levels>> {
        if let Some(s) = self.snaps.get(&day) {
            return Some(
                s.scopes
                    .iter()
                    .map(|(k, v)| (k.clone(), (v.open, v.overdue)))
                    .collect(),
            );
        }
        let rows = self.recent_rows(day)?;
        let mut base = self.levels_at(prev(day))?;
        for (scope, (o, d)) in level_changes(rows) {
            let e = base.entry(scope).or_default();
            e.0 += o;
            e.1 += d;
        }
        Some(base)
    }
}

/// Period figures over the statistics port.
pub struct Aggregates<'a> {
    pub stats: &'a dyn StatsStore,
    pub refdata: &'a RefData,
}

impl Aggregates<'_> {
    async fn rows(&self, scope: Scope<'_>, from: NaiveDate, to: NaiveDate) -> Result<Vec<Rollup>> {
        Ok(match scope {
            Scope::Unit(u) => self.stats.rollups(u.as_str(), from, to).await?,
            _ => self.stats.rollups_all(from, to).await?,
        })
    }

    /// The totals of `[from, to)` for `scope`, at `now`.
    pub async fn period(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        scope: Scope<'_>,
        now: DateTime<Utc>,
    ) -> Result<PeriodTotals> {
        let today = self.refdata.calendar.local_date(now);
        let tomorrow = today.succ_opt().unwrap_or(today);
        let end = to.min(tomorrow);
        let live = to > today;
        let segments = month_segments(from, end);
        let includes_today = end > today && from <= today;
        let mut want = BTreeSet::new();
        for (a, b) in &segments {
            if prev(*b) < today {
                want.insert(prev(*b));
            }
            if a.day() != 1 {
                want.insert(prev(*a));
            }
        }
        let recent = live || includes_today;
        let yesterday = prev(today);
        if recent {
            want.extend([yesterday, prev(yesterday)]);
        } else {
            want.insert(prev(to));
        }
        let want: Vec<NaiveDate> = want.into_iter().collect();
        let snaps = self
            .stats
            .snapshots(&want)
            .await?
            .into_iter()
            .map(|s| (s.day, s))
            .collect();
        let mut reads = Reads {
            snaps,
            recent: None,
        };
        if recent {
            let mut by_day: BTreeMap<NaiveDate, Vec<Rollup>> = BTreeMap::new();
            for r in self.rows(scope, yesterday, tomorrow).await? {
                if let Some(d) = r.day {
                    by_day.entry(d).or_default().push(r);
                }
            }
            reads.recent = Some((yesterday, by_day));
        }

        let mut sums = ByScope::new();
        for (a, b) in segments {
            let end_m = reads.month_through(prev(b));
            let start_m = if a.day() == 1 {
                Some(ByScope::new())
            } else {
                reads.month_through(prev(a))
            };
            let seg = match (end_m, start_m) {
                (Some(e), Some(s)) => diff(&e, &s),
                _ => {
                    let mut m = ByScope::new();
                    add_rows(&mut m, &self.rows(scope, a, b).await?);
                    m
                }
            };
            for (scope, cs) in seg {
                let e = sums.entry(scope).or_default();
                for (k, v) in cs {
                    *e.entry(k).or_default() += v;
                }
            }
        }

        let levels = if live {
            match reads.levels_at(today) {
                Some(l) => Some(l),
                None => Some(self.counted(scope, now).await?),
            }
        } else {
            reads.levels_at(prev(to))
        };
        Ok(project(scope, sums, levels))
    }

    /// Live levels counted from the cases (before the first snapshot).
    async fn counted(
        &self,
        scope: Scope<'_>,
        now: DateTime<Utc>,
    ) -> Result<BTreeMap<String, Levels>> {
        let mut out = BTreeMap::new();
        match scope {
            Scope::City => {
                out.insert(ALL.to_string(), self.stats.count_open(None, now).await?);
            }
            Scope::Unit(u) => {
                out.insert(u.to_string(), self.stats.count_open(Some(u), now).await?);
            }
            Scope::Units => {
                for u in self
                    .refdata
                    .units
                    .values()
                    .filter(|u| u.unit_type != "city")
                {
                    out.insert(
                        u.code.to_string(),
                        self.stats.count_open(Some(&u.code), now).await?,
                    );
                }
            }
        }
        Ok(out)
    }
}

/// Keep what `scope` asked for; the city's sums by [`stats::city`].
fn project(
    scope: Scope<'_>,
    sums: ByScope,
    levels: Option<BTreeMap<String, Levels>>,
) -> PeriodTotals {
    let rollup = |scope: &str, counters: Counters| Rollup {
        day: None,
        scope: scope.to_string(),
        counters,
    };
    let keep = |k: &str| match scope {
        Scope::City => k == ALL,
        Scope::Unit(u) => k == u.as_str(),
        Scope::Units => k != ALL,
    };
    let sums = match scope {
        Scope::City => {
            let rows: Vec<Rollup> = sums.into_iter().map(|(k, v)| rollup(&k, v)).collect();
            BTreeMap::from([(ALL.to_string(), stats::city(&rows))])
        }
        _ => sums
            .into_iter()
            .filter(|(k, _)| keep(k))
            .map(|(k, v)| {
                let r = rollup(&k, v);
                (k, r)
            })
            .collect(),
    };
    PeriodTotals {
        sums,
        levels: levels.map(|l| l.into_iter().filter(|(k, _)| keep(k)).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, m, day).unwrap()
    }

    #[test]
    fn periods_cut_at_month_ends() {
        assert_eq!(
            month_segments(d(7, 15), d(9, 2)),
            vec![(d(7, 15), d(8, 1)), (d(8, 1), d(9, 1)), (d(9, 1), d(9, 2))]
        );
        assert_eq!(month_segments(d(7, 1), d(8, 1)), vec![(d(7, 1), d(8, 1))]);
        assert!(month_segments(d(7, 2), d(7, 2)).is_empty());
        let dec = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
        assert_eq!(
            next_month(dec),
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
        );
    }
}
