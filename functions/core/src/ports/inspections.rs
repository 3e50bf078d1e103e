//! Home Affairs' inspection records.

use super::StoreResult;
use crate::inspection::Inspection;
use crate::unit::UnitCode;
use async_trait::async_trait;

#[async_trait]
pub trait InspectionStore: Send + Sync {
    async fn get_inspection(&self, id: &str) -> StoreResult<Option<Inspection>>;
    async fn list_inspections(
        &self,
        status: Option<&str>,
        unit: Option<&UnitCode>,
    ) -> StoreResult<Vec<Inspection>>;
    /// Put an inspection: if absent when `expected_version` is 0, else on that version.
    async fn put_inspection(&self, i: &Inspection, expected_version: u64) -> StoreResult<()>;
}
