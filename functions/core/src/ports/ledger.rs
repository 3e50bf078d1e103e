//! The outbox's publishing side, decisions without a case change, markers.

use super::StoreResult;
use crate::notify::Notification;
use async_trait::async_trait;

#[async_trait]
pub trait Ledger: Send + Sync {
    /// Notifications decided but not yet acknowledged by the notifier.
    async fn pending_notifications(&self, limit: usize) -> StoreResult<Vec<Notification>>;
    async fn mark_published(&self, dedup_id: &str) -> StoreResult<()>;
    /// Put a notification decision that has no case change (digests); `false` if it exists.
    async fn decide_once(&self, n: &Notification) -> StoreResult<bool>;
    /// Has this marker been written (e.g. `daily:<date>`, the daily checks done)?
    async fn get_marker(&self, key: &str) -> StoreResult<bool>;
    async fn put_marker(&self, key: &str) -> StoreResult<()>;
}
