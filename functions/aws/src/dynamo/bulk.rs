//! Loading a table in bulk, for the read benches and the bounded-read
//! tests: final case states (state, submission, tracking code), the rollup
//! rows their deltas add up to, inspections, rosters and headcounts, and
//! the unit summaries all of that makes, written with `BatchWriteItem` (25
//! items a request) instead of one transaction per change (the emulator
//! copies the whole table for each transaction: loading 10,000 cases one
//! transaction at a time would take hours). Not for a table in use: a
//! batch is not a transaction, and rows and summaries are put, not added to.

use super::DynamoStore;
use super::items::*;
use crate::error::classify;
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use chrono::NaiveDate;
use pakn_core::auth::Roster;
use pakn_core::case::Case;
use pakn_core::inspection::Inspection;
use pakn_core::ports::{StoreError, StoreResult, UnitSummary};
use pakn_core::stats::StatDelta;
use pakn_core::unit::UnitCode;
use std::collections::BTreeMap;

/// What to load.
#[derive(Debug, Default)]
pub struct Bulk<'a> {
    pub cases: &'a [Case],
    /// Summed per day and scope into rollup rows.
    pub deltas: &'a [StatDelta],
    pub inspections: &'a [Inspection],
    pub rosters: &'a [(UnitCode, Roster)],
    pub headcounts: &'a [(UnitCode, u32)],
    /// Official accounts registered per unit (counted in the summaries only).
    pub registered: &'a [(UnitCode, i64)],
}

impl DynamoStore {
    /// Put everything in `b`; returns the number of items written.
    pub async fn bulk_load(&self, b: &Bulk<'_>) -> StoreResult<usize> {
        let (cases, deltas) = (b.cases, b.deltas);
        let mut items = Vec::new();
        let mut summaries: BTreeMap<UnitCode, UnitSummary> = BTreeMap::new();
        fn summary<'m>(
            all: &'m mut BTreeMap<UnitCode, UnitSummary>,
            u: &UnitCode,
        ) -> &'m mut UnitSummary {
            all.entry(u.clone())
                .or_insert_with(|| UnitSummary::empty(u.clone()))
        }
        for i in b.inspections {
            items.push(inspection_item(i)?);
            if i.status != "closed" {
                summary(&mut summaries, &i.unit).open_inspections += 1;
            }
        }
        for (u, r) in b.rosters {
            items.push(roster_item(u.as_str(), r)?);
            summary(&mut summaries, u).roster_size = r.officials.len();
        }
        for (u, staff) in b.headcounts {
            items.push(headcount_item(u.as_str(), *staff));
            summary(&mut summaries, u).headcount = Some(*staff);
        }
        for (u, n) in b.registered {
            summary(&mut summaries, u).registered_officials += n;
        }
        for s in summaries.values() {
            items.push(unit_summary_item(s));
        }
        for c in cases {
            let rec = CaseRecord::try_from(c)?;
            items.push(rec.state);
            items.push(rec.body);
            items.push(track_item(&c.tracking_code, &c.id));
        }
        let mut rows: BTreeMap<(NaiveDate, String), BTreeMap<String, i64>> = BTreeMap::new();
        for d in deltas {
            *rows
                .entry((d.day, d.scope.clone()))
                .or_default()
                .entry(d.counter.name())
                .or_default() += d.amount;
        }
        for ((day, scope), counters) in rows {
            items.push(rollup_item(day, &scope, &counters));
        }
        let n = items.len();
        self.put_all(&items).await?;
        Ok(n)
    }

    /// Put `items` with `BatchWriteItem` (25 a request), retrying what the
    /// table leaves unprocessed: one write each, no conditions.
    pub(super) async fn put_all(&self, items: &[Item]) -> StoreResult<()> {
        for chunk in items.chunks(25) {
            let mut pending: Vec<WriteRequest> = chunk
                .iter()
                .map(|i| {
                    PutRequest::builder()
                        .set_item(Some(i.clone()))
                        .build()
                        .map(|p| WriteRequest::builder().put_request(p).build())
                        .map_err(StoreError::other)
                })
                .collect::<StoreResult<_>>()?;
            for attempt in 0..10u32 {
                if pending.is_empty() {
                    break;
                }
                let res = self
                    .client()
                    .batch_write_item()
                    .request_items(self.table(), std::mem::take(&mut pending))
                    .send()
                    .await
                    .map_err(classify)?;
                if let Some(left) = res.unprocessed_items().and_then(|u| u.get(self.table())) {
                    pending = left.clone();
                    tokio::time::sleep(std::time::Duration::from_millis(20 << attempt.min(6)))
                        .await;
                }
            }
            if !pending.is_empty() {
                return Err(StoreError::msg("BatchWriteItem kept items unprocessed"));
            }
        }
        Ok(())
    }
}
