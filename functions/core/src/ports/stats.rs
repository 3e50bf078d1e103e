//! Statistics: daily rollup rows, daily snapshots, live counts.

use super::StoreResult;
use crate::snapshot::Snapshot;
use crate::stats::Rollup;
use crate::unit::UnitCode;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

#[async_trait]
pub trait StatsStore: Send + Sync {
    /// Rollup rows of one scope (`ALL` or a unit) for local days in
    /// `[from, to)`, in day order. DynamoDB: one batch read of the days' keys
    /// (at most 100 days a request).
    async fn rollups(
        &self,
        scope: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Rollup>>;
    /// Rollup rows of every scope for local days in `[from, to)`, by day
    /// then scope. DynamoDB: one query per month (a month's rows are one
    /// item collection), paged by 1 MB.
    async fn rollups_all(&self, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<Rollup>>;
    /// The snapshots of these days that exist (one read for all of them).
    async fn snapshots(&self, days: &[NaiveDate]) -> StoreResult<Vec<Snapshot>>;
    /// The latest snapshot of a day in `[not_before, on_or_before]`.
    async fn latest_snapshot(
        &self,
        on_or_before: NaiveDate,
        not_before: NaiveDate,
    ) -> StoreResult<Option<Snapshot>>;
    /// Write a day's snapshot once; `false` if that day has one already
    /// (which is kept: two sweeps computing it race harmlessly).
    async fn put_snapshot(&self, s: &Snapshot) -> StoreResult<bool>;
    /// (open, overdue) cases now, city-wide or at one unit, counted from the
    /// cases themselves (reads grow with the open cases: the sweep's daily
    /// checks and the first snapshot use it, never a read endpoint once a
    /// snapshot exists).
    async fn count_open(
        &self,
        unit: Option<&UnitCode>,
        now: DateTime<Utc>,
    ) -> StoreResult<(i64, i64)>;
}
