//! Committing a change and publishing what it decided. The decision is
//! durable with the change (the outbox); publishing is at-least-once from
//! there: what fails to publish now stays pending for the sweep's drain.

use crate::change::Outcome;
use crate::inspection::Inspection;
use crate::notices::Notices;
use crate::notify::Notification;
use crate::ports::{CaseStore, Commit, Ledger, Notifier, StoreResult};

/// The ports a change is committed and published through.
pub struct Outbox<'a> {
    pub cases: &'a dyn CaseStore,
    pub ledger: &'a dyn Ledger,
    pub notifier: &'a dyn Notifier,
    /// Decides (and starts sending) the citizens' notices of a published
    /// `case.status_changed`.
    pub notices: Notices<'a>,
}

impl Outbox<'_> {
    /// Commit on `expected_version`, then publish (best effort), unless the
    /// store's change stream publishes ([`Ledger::publishes_on_commit`]).
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
        if self.ledger.publishes_on_commit() {
            self.publish(&commit.outcome.notifications).await;
        }
        Ok(())
    }

    /// Publish and mark them; failures stay in the outbox. Returns how many
    /// went out. Published together and marked together, so a backend that
    /// batches does so (one write each on the embedded store).
    ///
    /// The citizens' notices of each are decided first: an entry whose
    /// notices could not be stored is not published now and stays pending,
    /// so the drain decides them again (a repeat decides nothing new). Those
    /// just decided are sent once the entries are marked.
    pub async fn publish(&self, ns: &[Notification]) -> usize {
        if ns.is_empty() {
            return 0;
        }
        let mut ready = Vec::with_capacity(ns.len());
        let mut fresh = Vec::new();
        for n in ns {
            match self.notices.decide(n).await {
                Ok(decided) => {
                    fresh.extend(decided);
                    ready.push(n.clone());
                }
                Err(e) => {
                    tracing::warn!(dedup_id = %n.dedup_id, error = %e, "citizen notices not decided; left in the outbox")
                }
            }
        }
        let ns = &ready[..];
        let results = self.notifier.publish_all(ns).await;
        let mut sent = Vec::with_capacity(ns.len());
        for (n, r) in ns.iter().zip(results) {
            match r {
                Ok(()) => sent.push(n),
                Err(e) => {
                    tracing::warn!(dedup_id = %n.dedup_id, error = %e, "publish failed; left in the outbox")
                }
            }
        }
        let marked = self.ledger.mark_all_published(&sent).await;
        self.notices.send_now(&fresh).await;
        match marked {
            Ok(()) => sent.len(),
            Err(e) => {
                // Published but still pending: the drain publishes them
                // again with the same dedup_id (at least once).
                tracing::warn!(error = %e, count = sent.len(), "mark published failed");
                0
            }
        }
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
