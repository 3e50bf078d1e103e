//! Home Affairs' inspection records.

use super::StoreResult;
use crate::inspection::Inspection;
use crate::unit::UnitCode;
use async_trait::async_trait;

/// One page of inspections, oldest first (`opened_at`, then id). At most
/// one of `status`/`unit` narrows what is read; the other filters
/// (`reason`, and `status` with a unit) may leave a page short of `limit`:
/// follow `next_cursor` until it is absent.
#[derive(Debug, Clone, Default)]
pub struct InspectionQuery {
    pub status: Option<String>,
    pub unit: Option<UnitCode>,
    pub reason: Option<String>,
    /// Opaque cursor from the previous page.
    pub cursor: Option<String>,
    pub limit: usize,
}

#[derive(Debug, Clone, Default)]
pub struct InspectionPage {
    pub items: Vec<Inspection>,
    pub next_cursor: Option<String>,
}

#[async_trait]
pub trait InspectionStore: Send + Sync {
    async fn get_inspection(&self, id: &str) -> StoreResult<Option<Inspection>>;
    /// A page of inspections: one query (and one batch read of its items).
    async fn list_inspections(&self, q: &InspectionQuery) -> StoreResult<InspectionPage>;
    /// Put an inspection: if absent when `expected_version` is 0, else on
    /// that version. A closed inspection is final (`Conflict`): the count of
    /// a unit's open inspections is kept with these writes.
    async fn put_inspection(&self, i: &Inspection, expected_version: u64) -> StoreResult<()>;
}
