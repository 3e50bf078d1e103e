//! Ward boundaries, versioned: a version is stored whole, then made current
//! by one last write naming it, so a half-loaded version is never read.

use super::StoreResult;
use crate::wards::{WardMap, WardMapInfo};
use async_trait::async_trait;

#[async_trait]
pub trait WardMapStore: Send + Sync {
    /// Store `map` under its version, then make it the current one (the
    /// pointer is written last: a crash in between leaves the previous
    /// version current).
    async fn put_ward_map(&self, map: &WardMap) -> StoreResult<()>;
    /// The current version's summary (one small read), `None` before any load.
    async fn current_ward_map(&self) -> StoreResult<Option<WardMapInfo>>;
    /// A stored version, whole; `None` if it is not (completely) stored.
    async fn ward_map(&self, version: &str) -> StoreResult<Option<WardMap>>;
}
