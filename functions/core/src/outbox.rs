//! Committing a change and publishing what it decided. The decision is
//! durable with the change (the outbox); publishing is at-least-once from
//! there: what fails to publish now stays pending for the sweep's drain.

use crate::change::Outcome;
use crate::inspection::Inspection;
use crate::notify::Notification;
use crate::ports::{CaseStore, Commit, Ledger, Notifier, StoreResult};

/// The ports a change is committed and published through.
pub struct Outbox<'a> {
    pub cases: &'a dyn CaseStore,
    pub ledger: &'a dyn Ledger,
    pub notifier: &'a dyn Notifier,
}

impl Outbox<'_> {
    /// Commit on `expected_version`, then publish (best effort).
    pub async fn commit(
        &self,
        expected_version: u64,
        outcome: Outcome,
        inspection: Option<Inspection>,
        enqueue: bool,
    ) -> StoreResult<()> {
        let commit = Commit {
            expected_version,
            outcome,
            inspection,
            enqueue,
        };
        self.cases.commit(&commit).await?;
        self.publish(&commit.outcome.notifications).await;
        Ok(())
    }

    /// Publish and mark each; failures stay in the outbox. Returns how many went out.
    pub async fn publish(&self, ns: &[Notification]) -> usize {
        let mut ok = 0;
        for n in ns {
            match self.notifier.publish(n).await {
                Ok(()) => match self.ledger.mark_published(&n.dedup_id).await {
                    Ok(()) => ok += 1,
                    Err(e) => {
                        tracing::warn!(dedup_id = %n.dedup_id, error = %e, "mark published failed")
                    }
                },
                Err(e) => {
                    tracing::warn!(dedup_id = %n.dedup_id, error = %e, "publish failed; left in the outbox")
                }
            }
        }
        ok
    }

    /// Publish everything decided but not yet acknowledged; stops at the
    /// first page that did not all go out (the next pass tries again).
    pub async fn drain(&self) -> StoreResult<usize> {
        let mut total = 0;
        loop {
            let pending = self.ledger.pending_notifications(100).await?;
            if pending.is_empty() {
                return Ok(total);
            }
            let n = self.publish(&pending).await;
            total += n;
            if n < pending.len() {
                return Ok(total);
            }
        }
    }
}
