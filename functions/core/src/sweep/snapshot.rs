//! The daily snapshot (`crate::snapshot`): the first sweep after local
//! midnight of day D records every scope's open and overdue-open cases at
//! the end of D − 1 and its month-to-date counters, as one item.
//!
//! - Idempotent and safe under concurrent sweeps: a marker skips the work
//!   once it is done, and the snapshot is a put-if-absent of a value
//!   computed only from final data (D − 1's snapshot from D − 2's and D − 1's
//!   rows, which no commit changes any more), so two sweeps write the same.
//! - Bounded: one item a day; it reads the previous snapshot and one day's
//!   rows (every unit's, one query).
//! - A gap (no sweep for some days) is filled from the latest snapshot of
//!   the last [`BACKFILL_DAYS`] days, day by day. With none (a new store, or
//!   one from before snapshots) the first snapshot counts the open cases
//!   now and takes back today's level changes (`StatsStore::count_open`,
//!   once).
//! - It waits [`SETTLE`] after midnight, so that a change committed at
//!   23:59:59 has landed before its day is summed.

use crate::error::Result;
use crate::ports::{Ledger, StatsStore};
use crate::refdata::RefData;
use crate::snapshot::{Levels, Snapshot, level_changes};
use crate::stats::ALL;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use std::collections::BTreeMap;

/// How far back a missing snapshot is rebuilt from an earlier one.
pub const BACKFILL_DAYS: i64 = 62;
/// How long after local midnight the day before is summed.
pub const SETTLE: Duration = Duration::minutes(1);

/// The snapshot step over the ports it needs.
pub struct Snapshots<'a> {
    pub stats: &'a dyn StatsStore,
    pub ledger: &'a dyn Ledger,
    pub refdata: &'a RefData,
}

impl Snapshots<'_> {
    /// Take yesterday's snapshot if it is due and not taken: the day it
    /// took (and any days of a gap before it), or `None`.
    pub async fn run(&self, now: DateTime<Utc>) -> Result<Option<NaiveDate>> {
        let cal = &self.refdata.calendar;
        let today = cal.local_date(now);
        if now < cal.local_midnight(today) + SETTLE {
            return Ok(None);
        }
        let Some(day) = today.pred_opt() else {
            return Ok(None);
        };
        let marker = format!("snapshot:{day}");
        if self.ledger.get_marker(&marker).await? {
            return Ok(None);
        }
        let since = day - Duration::days(BACKFILL_DAYS);
        match self.stats.latest_snapshot(day, since).await? {
            Some(s) if s.day == day => {}
            Some(s) => self.chain(s, day).await?,
            None => self.first(day, today, now).await?,
        }
        self.ledger.put_marker(&marker).await?;
        Ok(Some(day))
    }

    /// Every day after `from`'s through `to`, from `from` and the rows.
    async fn chain(&self, from: Snapshot, to: NaiveDate) -> Result<()> {
        let first = from.day.succ_opt().unwrap_or(from.day);
        let mut by_day: BTreeMap<NaiveDate, Vec<_>> = BTreeMap::new();
        for r in self
            .stats
            .rollups_all(first, to.succ_opt().unwrap_or(to))
            .await?
        {
            if let Some(d) = r.day {
                by_day.entry(d).or_default().push(r);
            }
        }
        let mut s = from;
        while s.day < to {
            let next_day = s.day.succ_opt().unwrap_or(s.day);
            s = s.next(by_day.get(&next_day).map(Vec::as_slice).unwrap_or(&[]));
            self.stats.put_snapshot(&s).await?;
        }
        Ok(())
    }

    /// The first snapshot: yesterday's month rows, and the open cases now
    /// less today's level changes.
    async fn first(&self, day: NaiveDate, today: NaiveDate, now: DateTime<Utc>) -> Result<()> {
        let month_start = day.with_day(1).unwrap_or(day);
        let rows = self
            .stats
            .rollups_all(month_start, today.succ_opt().unwrap_or(today))
            .await?;
        let (before, todays): (Vec<_>, Vec<_>) = rows
            .into_iter()
            .partition(|r| r.day.is_some_and(|d| d <= day));
        let mut levels: BTreeMap<String, Levels> = BTreeMap::new();
        levels.insert(ALL.into(), self.stats.count_open(None, now).await?);
        for u in self.refdata.units.values() {
            let l = self.stats.count_open(Some(&u.code), now).await?;
            if l != (0, 0) {
                levels.insert(u.code.to_string(), l);
            }
        }
        for (scope, (o, d)) in level_changes(&todays) {
            let e = levels.entry(scope).or_default();
            e.0 -= o;
            e.1 -= d;
        }
        self.stats
            .put_snapshot(&Snapshot::genesis(day, &before, &levels))
            .await?;
        Ok(())
    }
}
