//! The outbox's publishing side, decisions without a case change, markers.

use super::StoreResult;
use crate::notify::Notification;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// A decided notification and when it was published (`None` while pending).
pub type Sent = (Notification, Option<DateTime<Utc>>);

#[async_trait]
pub trait Ledger: Send + Sync {
    /// Whether a committed change's notifications are published by the
    /// committer (`true`, the default), or by a consumer of the store's own
    /// change stream (DynamoDB Streams and `pakn-publisher`): then the
    /// committer must not publish them too.
    fn publishes_on_commit(&self) -> bool {
        true
    }
    /// Notifications decided but not yet acknowledged by the notifier.
    async fn pending_notifications(&self, limit: usize) -> StoreResult<Vec<Notification>>;
    async fn mark_published(&self, dedup_id: &str) -> StoreResult<()>;
    /// Mark several just published; the default marks one at a time by
    /// dedup id. A store whose change stream publishes may not have stored
    /// them yet (they travelled on the change's stream record), so it is
    /// handed the whole notification to record as published.
    async fn mark_all_published(&self, sent: &[&Notification]) -> StoreResult<()> {
        for n in sent {
            self.mark_published(&n.dedup_id).await?;
        }
        Ok(())
    }
    /// Put a notification decision that has no case change (digests); `false` if it exists.
    async fn decide_once(&self, n: &Notification) -> StoreResult<bool>;
    /// Has this marker been written (e.g. `daily:<date>`, the daily checks done)?
    async fn get_marker(&self, key: &str) -> StoreResult<bool>;
    async fn put_marker(&self, key: &str) -> StoreResult<()>;
    /// What was decided for `unit` (the notification's `unit` attribute)
    /// with `from <= created_at < to`, oldest first, at most `limit`: one
    /// bounded read on a unit-keyed index, never a scan.
    async fn notifications_for_unit(
        &self,
        unit: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<Sent>>;
}
