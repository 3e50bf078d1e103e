//! Duplicate and out-of-order delivery: every case is put on the intake
//! queue twice, and every batch received is handed to two workers at the
//! same time — one in the order received, one in reverse (two Lambda
//! invocations with the same records, as SQS's at-least-once delivery
//! allows) — so each case is routed up to four times at once. After the
//! units act, every case is sent to the queue again (a late duplicate
//! arriving after the case moved on), and every sweep of the month runs
//! twice at once. Each case must be routed once and each milestone decided
//! once: one assignment, one notification decision per milestone, each
//! published at least once.

use super::rig::{Rig, Side, drill_refdata, receive};
use super::{Tally, line, scale, scenario};
use pakn_core::ids::CaseId;
use pakn_core::ports::Queue;
use pakn_tests::faults::Faults;

/// Cases per scale unit.
const CASES: usize = 9;

/// Send every case to the intake queue once more.
async fn send_again(rig: &Rig, ids: &[CaseId]) {
    match &rig.side {
        Side::Sqlite { local, .. } => local.queue.send(ids).await.expect("send"),
        Side::Dynamo { sqs, p, .. } => pakn_aws::SqsQueue::new(sqs.clone(), &p.queue_url)
            .send(ids)
            .await
            .expect("send"),
    }
}

/// Take every message on the queue, each batch by two workers at once (one
/// in reverse order); answers the deliveries.
async fn deliver_twice(rig: &Rig) -> usize {
    let mut deliveries = 0;
    for _ in 0..100 {
        match &rig.side {
            Side::Sqlite { local, .. } => {
                let batch = local
                    .queue
                    .receive(10, pakn_local::VISIBILITY_TIMEOUT)
                    .await
                    .expect("receive");
                if batch.is_empty() {
                    return deliveries;
                }
                let reversed: Vec<_> = batch.iter().rev().cloned().collect();
                let worker = |ms: Vec<pakn_local::Received>| async move {
                    for m in &ms {
                        assert!(
                            pakn_local::handle(&rig.pakn, &local.queue, m).await,
                            "a duplicate delivery is a success"
                        );
                    }
                };
                deliveries += 2 * batch.len();
                tokio::join!(worker(batch), worker(reversed));
            }
            Side::Dynamo { sqs, p, .. } => {
                let got = receive(sqs, &p.queue_url).await;
                if got.is_empty() {
                    return deliveries;
                }
                deliveries += 2 * got.len();
                let (a, b) = tokio::join!(
                    rig.lambda_batch(sqs, &p.queue_url, &got, false),
                    rig.lambda_batch(sqs, &p.queue_url, &got, true),
                );
                assert_eq!((a, b), (0, 0), "a duplicate delivery is a success");
            }
        }
    }
    panic!("{}: the queue never emptied", rig.backend);
}

async fn drill(rig: Rig) {
    let n = CASES * scale();
    let ids = rig.submit(n, "drill-duplicates").await;
    send_again(&rig, &ids).await;
    let mut deliveries = deliver_twice(&rig).await;
    assert_eq!(rig.queue_depth().await, 0);
    for (i, id) in ids.iter().enumerate() {
        rig.play(i, id).await;
    }
    // Late duplicates of messages already handled, after the units acted.
    send_again(&rig, &ids).await;
    deliveries += deliver_twice(&rig).await;
    rig.walk_milestones(&ids, 2).await;

    let published = rig.published().await;
    let mut t = Tally::default();
    let mut routed = 0;
    for (i, id) in ids.iter().enumerate() {
        let s = scenario(i);
        t.check_decisions(&rig, id, &s.decisions(), &published)
            .await;
        t.check_timeline(&rig, id).await;
        let timeline = rig.raw.timeline(id).await.expect("timeline");
        routed += usize::from(timeline.iter().filter(|e| e.action == "routed").count() == 1);
        for a in s.actions() {
            match timeline.iter().filter(|e| e.action == *a).count() {
                0 => t.lose(format!("{id}: no '{a}' on the timeline")),
                1 => {}
                k => t.duplicate(format!("{id}: {k} '{a}' entries")),
            }
        }
    }
    t.count_publishes(&published);
    line(&format!(
        "drill duplicates/{}: cases={n}, messages={}, deliveries={deliveries}, routed={routed}, lost={}, duplicated={}, decisions={}, published={}, republished={}",
        rig.backend,
        4 * n,
        t.lost,
        t.duplicated,
        t.decisions,
        t.published,
        t.republished,
    ));
    t.assert_clean(&format!("duplicates/{}", rig.backend));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_sqlite() {
    drill(Rig::sqlite("drill-dup", Faults::none(), drill_refdata())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_dynamodb() {
    drill(Rig::dynamo(Faults::none(), drill_refdata()).await).await;
}
