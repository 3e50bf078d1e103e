//! Statistics: daily rollups and live counts.

use super::StoreResult;
use crate::stats::Rollup;
use crate::unit::UnitCode;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

#[async_trait]
pub trait StatsStore: Send + Sync {
    /// Rollup rows of one scope (`ALL` or a unit) for local days in `[from, to)`.
    async fn rollups(
        &self,
        scope: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Rollup>>;
    /// (open, overdue) cases now, city-wide or at one unit.
    async fn count_open(
        &self,
        unit: Option<&UnitCode>,
        now: DateTime<Utc>,
    ) -> StoreResult<(i64, i64)>;
}
