//! The local routing worker: the same per-message function the SQS worker
//! runs ([`Pakn::route_case`]), over the local queue. A routed (or already
//! routed) case is acknowledged; a failure leaves the message for
//! redelivery with a growing delay, so a case that can never be routed
//! reaches the dead-letter table after `max_receives` deliveries, as with
//! SQS's redrive policy.

use crate::queue::{LocalQueue, Received};
use pakn_core::Pakn;
use std::time::Duration;
use tokio::sync::watch;

/// Messages taken per receive by [`drain_once`] (SQS's maximum, as the
/// Lambda event source uses).
pub const BATCH: usize = 10;
/// Messages a running router takes per receive and routes concurrently:
/// their commits share the writer's group commits, and the batch is
/// acknowledged in one write.
pub const ROUTER_BATCH: usize = 64;
/// How long a received message stays invisible (routing takes milliseconds).
pub const VISIBILITY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the worker sleeps when the queue is empty.
pub const IDLE_POLL: Duration = Duration::from_millis(250);

/// Delay before a failed message is delivered again: 1 s, 2 s, 4 s … capped at 5 min.
pub fn backoff(receive_count: u32) -> Duration {
    let exp = receive_count.saturating_sub(1).min(9);
    Duration::from_secs(1u64 << exp).min(Duration::from_secs(300))
}

/// Route one message; `true` if it is done with (routed now or before)
/// and may be acknowledged. A failure gives the message back for
/// redelivery after [`backoff`].
#[tracing::instrument(skip_all, fields(case_id = %m.case_id, receive_count = m.receive_count))]
pub async fn route(pakn: &Pakn, queue: &LocalQueue, m: &Received) -> bool {
    match pakn.routing().route_case(&m.case_id).await {
        Ok(r) => {
            tracing::debug!(result = ?r, "routed");
            true
        }
        Err(e) => {
            let delay = backoff(m.receive_count);
            tracing::warn!(error = %e, retry_in = ?delay, "routing failed; left for redelivery");
            if let Err(e) = queue.nack(&m.receipt, delay).await {
                tracing::warn!(error = %e, "nack failed; the visibility timeout will redeliver");
            }
            false
        }
    }
}

/// One message on its own: route it and, when done with, acknowledge it
/// (drills that deliver messages one by one, in their own order). `true`
/// if it is done with.
pub async fn handle(pakn: &Pakn, queue: &LocalQueue, m: &Received) -> bool {
    if !route(pakn, queue, m).await {
        return false;
    }
    if let Err(e) = queue.ack(&m.receipt).await {
        tracing::warn!(error = %e, "ack failed; the message will be redelivered");
    }
    true
}

/// Route a received batch concurrently, then acknowledge what was routed
/// in one write. Answers how many were acknowledged. A failed
/// acknowledgement only means redelivery: routing a routed case is a no-op.
pub async fn handle_batch(pakn: &Pakn, queue: &LocalQueue, batch: Vec<Received>) -> usize {
    let mut tasks = tokio::task::JoinSet::new();
    for m in batch {
        let (pakn, queue) = (pakn.clone(), queue.clone());
        tasks.spawn(async move { route(&pakn, &queue, &m).await.then_some(m.receipt) });
    }
    let mut done = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(Some(receipt)) => done.push(receipt),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "routing task failed; the message will be redelivered")
            }
        }
    }
    match queue.ack_all(done).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "ack failed; the batch will be redelivered");
            0
        }
    }
}

/// Process what is visible now until nothing is visible (failures are
/// delayed by [`backoff`], so this ends). Answers how many messages were
/// acknowledged. For tests and `pakn` one-shot commands.
pub async fn drain_once(pakn: &Pakn, queue: &LocalQueue) -> usize {
    let mut acked = 0;
    loop {
        let batch = match queue.receive(BATCH, VISIBILITY_TIMEOUT).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "receive failed");
                return acked;
            }
        };
        if batch.is_empty() {
            return acked;
        }
        acked += handle_batch(pakn, queue, batch).await;
    }
}

/// Run the router until `shutdown` turns `true` (or its sender is dropped).
pub async fn run_router(pakn: Pakn, queue: LocalQueue, mut shutdown: watch::Receiver<bool>) {
    tracing::info!("local router started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        let queued = queue.on_queued();
        tokio::pin!(queued);
        queued.as_mut().enable();
        let batch = match queue.receive(ROUTER_BATCH, VISIBILITY_TIMEOUT).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "receive failed; retrying");
                Vec::new()
            }
        };
        if batch.is_empty() {
            // Woken by the next submission; the poll still finds messages
            // that became visible again (redelivery after a failure).
            tokio::select! {
                _ = &mut queued => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
                changed = shutdown.changed() => if changed.is_err() { break },
            }
            continue;
        }
        handle_batch(&pakn, &queue, batch).await;
    }
    tracing::info!("local router stopped");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{TempDir, t0};
    use crate::{DEFAULT_MAX_RECEIVES, LocalBackend, LocalOptions};
    use pakn_core::auth::{Principal, Role};
    use pakn_core::case::Status;
    use pakn_core::ids::CaseId;
    use pakn_core::ports::{CaseStore, Ledger, ManualClock, Queue};
    use pakn_core::refdata::RefData;
    use pakn_testkit::JsonCalls as _;
    use std::sync::Arc;

    fn app(dir: &TempDir) -> (LocalBackend, Pakn, ManualClock) {
        let clock = ManualClock::new(t0());
        let opts = LocalOptions {
            queue_clock: Arc::new(clock.clone()),
            max_receives: DEFAULT_MAX_RECEIVES,
            ..Default::default()
        };
        let b = LocalBackend::open_with(&dir.path().join("w.db"), opts).unwrap();
        let pakn = b.pakn(Arc::new(clock.clone()), Arc::new(RefData::embedded()));
        (b, pakn, clock)
    }

    #[tokio::test]
    async fn drain_routes_submitted_cases_and_publishes() {
        let dir = TempDir::new("local");
        let (b, pakn, _clock) = app(&dir);
        let citizen = Principal::new("cong-dan-1", Role::Citizen, None).unwrap();
        let body = serde_json::json!({
            "category": "lighting", "title": "Đèn hỏng", "description": "Đèn đường không sáng",
            "location": {"lat": 21.0285, "lng": 105.8542, "ward_code": "00070"}
        });
        let r = pakn.submit(&citizen, &body, None).await.unwrap();
        assert_eq!(drain_once(&pakn, &b.queue).await, 1);
        assert_eq!(drain_once(&pakn, &b.queue).await, 0, "nothing left");
        let id = CaseId::parse(&r.id).unwrap();
        let case = b.store.get_case(&id).await.unwrap().unwrap();
        assert_eq!(case.status, Status::Assigned);
        let published = b.notifier.published(0, 10).await.unwrap();
        assert!(
            published
                .iter()
                .any(|p| p.notification.event == "case.assigned")
        );

        // A duplicate delivery is acknowledged as a no-op.
        b.queue.send(std::slice::from_ref(&id)).await.unwrap();
        assert_eq!(drain_once(&pakn, &b.queue).await, 1);
    }

    #[tokio::test]
    async fn a_message_that_keeps_failing_reaches_the_dlq_after_five_deliveries() {
        let dir = TempDir::new("local");
        let (b, pakn, clock) = app(&dir);
        let ghost = CaseId::new(t0());
        b.queue.send(std::slice::from_ref(&ghost)).await.unwrap();
        for n in 1..=5u32 {
            assert_eq!(drain_once(&pakn, &b.queue).await, 0, "delivery {n} fails");
            assert!(b.queue.dlq_list().await.unwrap().is_empty());
            clock.advance(chrono::Duration::from_std(backoff(n)).unwrap());
        }
        assert_eq!(drain_once(&pakn, &b.queue).await, 0);
        let dlq = b.queue.dlq_list().await.unwrap();
        assert_eq!(dlq.len(), 1);
        assert_eq!(dlq[0].case_id, ghost);
    }

    /// The write jobs (each a savepoint in a group commit) of intake and
    /// routing: the quota windows are taken in one job, a routed case's
    /// notifications are published in one and marked in one, and a batch is
    /// received in one and acknowledged in one.
    #[tokio::test]
    async fn intake_and_routing_cost_few_write_jobs() {
        let dir = TempDir::new("local");
        let (b, pakn, _clock) = app(&dir);
        let citizen = Principal::new("cong-dan-jobs", Role::Citizen, None).unwrap();
        let body = serde_json::json!({
            "category": "lighting", "title": "Đèn hỏng", "description": "Đèn đường không sáng",
            "location": {"lat": 21.0285, "lng": 105.8542, "ward_code": "00070"}
        });
        let (_, j0) = b.store.group_commit_counts();
        for i in 0..BATCH {
            pakn.submit(&citizen, &body, Some(&format!("jobs-{i}")))
                .await
                .unwrap();
        }
        let (_, j1) = b.store.group_commit_counts();
        assert_eq!(j1 - j0, 2 * BATCH as u64, "quota + create per submission");
        assert_eq!(drain_once(&pakn, &b.queue).await, BATCH);
        let (_, j2) = b.store.group_commit_counts();
        // Per case: commit, publish (two notifications), mark published;
        // per batch: receive and acknowledge (the empty receive that ends
        // the drain writes nothing).
        assert_eq!(j2 - j1, 3 * BATCH as u64 + 2, "routing write jobs");
        let published = b.notifier.published(0, 100).await.unwrap();
        assert_eq!(published.len(), 2 * BATCH, "assigned + status per case");
        assert!(
            b.store.pending_notifications(10).await.unwrap().is_empty(),
            "every notification marked published"
        );
    }

    /// A submission wakes an idle router at once (it does not wait for
    /// its next poll).
    #[tokio::test]
    async fn a_submission_wakes_the_idle_router() {
        let dir = TempDir::new("local");
        let (b, pakn, _clock) = app(&dir);
        let queued = b.queue.on_queued();
        tokio::pin!(queued);
        queued.as_mut().enable();
        let citizen = Principal::new("cong-dan-wake", Role::Citizen, None).unwrap();
        let body = serde_json::json!({
            "category": "lighting", "title": "Đèn hỏng", "description": "Đèn đường không sáng",
            "location": {"lat": 21.0285, "lng": 105.8542, "ward_code": "00070"}
        });
        pakn.submit(&citizen, &body, None).await.unwrap();
        // Already signalled: resolves without waiting (the bound only keeps
        // a regression from hanging the suite).
        tokio::time::timeout(Duration::from_secs(10), queued)
            .await
            .expect("the queue signalled the submission");
    }

    #[tokio::test]
    async fn run_router_stops_on_shutdown() {
        let dir = TempDir::new("local");
        let (b, pakn, _clock) = app(&dir);
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(run_router(pakn, b.queue.clone(), rx));
        tokio::time::sleep(Duration::from_millis(50)).await;
        tx.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(5), Duration::from_secs(16));
        assert_eq!(backoff(50), Duration::from_secs(300));
    }
}
