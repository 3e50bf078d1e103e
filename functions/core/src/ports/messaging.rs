//! The intake queue and the notifier.

use super::StoreResult;
use crate::ids::CaseId;
use crate::notify::Notification;
use async_trait::async_trait;

/// The intake queue (send side; receiving is the runtime's business).
#[async_trait]
pub trait Queue: Send + Sync {
    async fn send(&self, ids: &[CaseId]) -> StoreResult<()>;
}

/// Publishes decided notifications (SNS, or the local notifier).
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn publish(&self, n: &Notification) -> StoreResult<()>;
    /// Publish several, one answer per notification in order. A notifier
    /// that can publish them in one request (or one transaction) says so
    /// by overriding this; the default publishes one at a time.
    async fn publish_all(&self, ns: &[Notification]) -> Vec<StoreResult<()>> {
        let mut out = Vec::with_capacity(ns.len());
        for n in ns {
            out.push(self.publish(n).await);
        }
        out
    }
}
