//! Statistics on the table: daily rollup rows in one item collection per
//! month, daily snapshots in one per year, and the live counts from the
//! case indexes (see `keys` for the layout).

use super::items::*;
use super::keys::*;
use super::{DynamoStore, Expr, SkCond, Step, absent};
use crate::error::{classify, condition_held};
use async_trait::async_trait;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use pakn_core::aggregate::month_segments;
use pakn_core::ports::{StatsStore, StoreResult};
use pakn_core::snapshot::Snapshot;
use pakn_core::stats::Rollup;
use pakn_core::unit::UnitCode;

impl DynamoStore {
    /// The latest snapshot of one year's collection in `[lo, hi]` (one query, one item).
    async fn latest_in_year(
        &self,
        year: i32,
        lo: NaiveDate,
        hi: NaiveDate,
    ) -> StoreResult<Option<Snapshot>> {
        let e = Expr::new("#pk = :pk AND #sk BETWEEN :lo AND :hi")
            .name("#pk", PK)
            .name("#sk", SK)
            .value(":pk", s(snap_pk(year)))
            .value(":lo", s(snap_sk(lo)))
            .value(":hi", s(snap_sk(hi)));
        let res = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(&e.text)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        res.items()
            .first()
            .map(|i| snapshot_from(i).map_err(Into::into))
            .transpose()
    }
}

#[async_trait]
impl StatsStore for DynamoStore {
    async fn rollups(
        &self,
        scope: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Rollup>> {
        // The days' keys are known: one batch read (100 keys a request).
        let keys = from
            .iter_days()
            .take_while(|d| *d < to)
            .map(|d| key(stats_pk(d), stats_sk(d, scope)))
            .collect();
        let mut out = self
            .batch_get(keys)
            .await?
            .values()
            .map(|i| rollup_from(i).map_err(Into::into))
            .collect::<StoreResult<Vec<_>>>()?;
        out.sort_by_key(|r| r.day);
        Ok(out)
    }
    async fn rollups_all(&self, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<Rollup>> {
        let mut out = Vec::new();
        for (a, b) in month_segments(from, to) {
            let last = b.pred_opt().unwrap_or(b);
            // `<dd>#` sorts before every scope of the day, `<dd>#~` after.
            let e = Expr::new("#pk = :pk AND #sk BETWEEN :lo AND :hi")
                .name("#pk", PK)
                .name("#sk", SK)
                .value(":pk", s(stats_pk(a)))
                .value(":lo", s(format!("{}#", a.format("%d"))))
                .value(":hi", s(format!("{}#~", last.format("%d"))));
            for item in self.table_query(&e, true).await? {
                out.push(rollup_from(&item)?);
            }
        }
        Ok(out)
    }
    async fn snapshots(&self, days: &[NaiveDate]) -> StoreResult<Vec<Snapshot>> {
        let keys = days
            .iter()
            .map(|d| key(snap_pk(d.year()), snap_sk(*d)))
            .collect();
        let mut out = self
            .batch_get(keys)
            .await?
            .values()
            .map(|i| snapshot_from(i).map_err(Into::into))
            .collect::<StoreResult<Vec<_>>>()?;
        out.sort_by_key(|s| s.day);
        Ok(out)
    }
    async fn latest_snapshot(
        &self,
        on_or_before: NaiveDate,
        not_before: NaiveDate,
    ) -> StoreResult<Option<Snapshot>> {
        let mut year = on_or_before.year();
        while year >= not_before.year() {
            let lo = NaiveDate::from_ymd_opt(year, 1, 1)
                .unwrap_or(not_before)
                .max(not_before);
            let hi = NaiveDate::from_ymd_opt(year, 12, 31)
                .unwrap_or(on_or_before)
                .min(on_or_before);
            if let Some(s) = self.latest_in_year(year, lo, hi).await? {
                return Ok(Some(s));
            }
            year -= 1;
        }
        Ok(None)
    }
    async fn put_snapshot(&self, snap: &Snapshot) -> StoreResult<bool> {
        let c = absent();
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(snapshot_item(snap)))
            .condition_expression(&c.text)
            .set_expression_attribute_names(c.names())
            .send()
            .await;
        condition_held(res)
    }
    async fn count_open(
        &self,
        unit: Option<&UnitCode>,
        now: DateTime<Utc>,
    ) -> StoreResult<(i64, i64)> {
        let (mut open, mut overdue) = (0, 0);
        match unit {
            Some(u) => {
                for st in super::OPEN_UNIT_STATUSES {
                    let step = Step {
                        gsi: GSI1,
                        pk: unit_queue_pk(u.as_str(), st.as_str()),
                        sk: None,
                        forward: true,
                    };
                    open += self.count(&step, None).await?;
                    if st.clock_runs() {
                        overdue += self.count(&step, Some(now)).await?;
                    }
                }
            }
            None => {
                for sh in 0..SHARDS {
                    let mut step = Step {
                        gsi: GSI5,
                        pk: open_pk(sh),
                        sk: None,
                        forward: true,
                    };
                    open += self.count(&step, None).await?;
                    step.sk = Some(SkCond::Lt(ts(now)));
                    overdue += self.count(&step, None).await?;
                }
            }
        }
        Ok((open, overdue))
    }
}

/// The unit summary item's key.
pub(super) fn unit_summary_key(unit: &str) -> Item {
    key(UNITS_PK, unit)
}
