//! Poison messages: one case of a batch of ten cannot be read (its item is
//! poisoned: every read fails, as one no released code can map would), so
//! its queue message fails on every delivery. Its nine neighbours, in the
//! same batch, are routed at once; it is received five times and then dead-lettered
//! (the local queue's `max_receives`, SQS's redrive policy with
//! `maxReceiveCount` 5 on the emulator). Meanwhile the sweep finds the case
//! still `received` ten minutes on and queues it again: five more receives,
//! a second dead letter. The fix is deployed (the poison cured), the real
//! `pakn redrive` binary moves both back to the intake queue, and the case
//! is routed once: one routing on its timeline, one assignment decided and
//! published, the second copy a no-op.

use super::rig::{Rig, Side, drill_refdata};
use super::{Tally, line};
use chrono::Duration;
use pakn_core::case::Status;
use pakn_tests::faults::Faults;
use std::process::Command;

const CASES: usize = 10;
const POISONED: usize = 4;

/// Run `pakn redrive` against the rig's backend; its standard output.
fn pakn_redrive(rig: &Rig) -> String {
    let mut cmd = Command::new(pakn_tests::process::pakn_binary());
    cmd.arg("redrive")
        .env("PAKN_LOG", "warn")
        .env_remove("PAKN_BACKEND");
    match &rig.side {
        Side::Sqlite { dir, .. } => {
            cmd.env("PAKN_DB", dir.path().join("pakn.db"));
        }
        Side::Dynamo { p, .. } => {
            cmd.args(["--backend", "aws"])
                .env("AWS_ENDPOINT_URL", pakn_tests::moto::endpoint())
                .env("AWS_REGION", pakn_tests::moto::REGION)
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing")
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .env("TABLE_NAME", &p.table)
                .env("INTAKE_QUEUE_URL", &p.queue_url)
                .env("INTAKE_DLQ_URL", &p.dlq_url)
                .env("TOPIC_ARN", &p.topic_arn);
        }
    }
    let out = cmd.output().expect("run pakn redrive");
    assert!(
        out.status.success(),
        "pakn redrive failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn drill(rig: Rig) {
    let ids = rig.submit(CASES, "drill-poison").await;
    let poison = ids[POISONED].clone();
    rig.faults.poison(&poison);

    // One batch of all ten: only the poisoned message fails.
    let (batch, failed) = rig.one_batch().await;
    assert_eq!(batch.len(), CASES, "one batch holds every message");
    assert!(batch.contains(&poison));
    assert_eq!(failed, 1, "only the poisoned message failed");
    // Delivered again until dead-lettered.
    let first = rig.route_all().await;
    let receives = rig.faults.injected().poison;
    let dead = rig.dead_letters().await;
    let mut routed_first = 0;
    for id in &ids {
        let status = rig.case(id).await.status;
        if id == &poison {
            assert_eq!(status, Status::Received, "the poisoned case is not routed");
        } else {
            assert_eq!(status, Status::Assigned, "{id}: a neighbour is routed");
            routed_first += 1;
        }
    }
    assert_eq!(receives, 5, "received five times ({first:?})");
    assert_eq!(dead, 1, "then dead-lettered");
    assert_eq!(
        rig.queue_depth().await,
        0,
        "nothing left on the intake queue"
    );
    if let Side::Sqlite { local, .. } = &rig.side {
        let dlq = local.queue.dlq_list().await.expect("dlq");
        assert_eq!(
            (&dlq[0].case_id, dlq[0].receive_count),
            (&poison, 5),
            "the dead letter is the poisoned case's message"
        );
    }

    // Meanwhile the sweep finds the case still `received` and queues it
    // again: five more receives, a second dead letter.
    let requeue = rig.refdata.policy.requeue_received_after_minutes as i64 + 1;
    rig.clock.advance(Duration::minutes(requeue));
    let swept = rig.pakn.sweep().run(1000).await.expect("sweep");
    assert_eq!(
        swept.requeued, 1,
        "the sweep queued the poisoned case again"
    );
    rig.route_all().await;
    assert_eq!(rig.faults.injected().poison, 2 * receives);
    let dead = rig.dead_letters().await;
    assert_eq!(dead, 2, "a second copy dead-lettered");

    // The fix is deployed; `pakn redrive` brings both messages back.
    rig.faults.cure(&poison);
    let out = pakn_redrive(&rig);
    assert!(out.contains("moved 2 "), "pakn redrive: {out}");
    assert_eq!(
        rig.dead_letters().await,
        0,
        "the dead-letter queue is empty"
    );
    let after = rig.route_all().await;
    assert_eq!(
        (after.deliveries, after.failures),
        (2, 0),
        "both copies handled at their first delivery, the second a no-op"
    );
    let again = rig.route_all().await;
    assert_eq!(again.deliveries, 0, "nothing more to route");
    rig.settle().await;

    let published = rig.published().await;
    let mut t = Tally::default();
    for id in &ids {
        let expected = [
            ("case.assigned", "assigned"),
            ("case.status_changed", "status:assigned"),
        ];
        t.check_decisions(&rig, id, &expected, &published).await;
        t.check_timeline(&rig, id).await;
        let routed = rig
            .raw
            .timeline(id)
            .await
            .expect("timeline")
            .iter()
            .filter(|e| e.action == "routed")
            .count();
        match routed {
            0 => t.lose(format!("{id}: never routed")),
            1 => {}
            n => t.duplicate(format!("{id}: routed {n} times")),
        }
    }
    t.count_publishes(&published);
    line(&format!(
        "drill poison/{}: cases={CASES}, routed_first={routed_first}, poison_receives={}, dead_letters={dead}, redriven={dead}, deliveries_after_fix={}, lost={}, duplicated={}, decisions={}, published={}",
        rig.backend,
        2 * receives,
        after.deliveries,
        t.lost,
        t.duplicated,
        t.decisions,
        t.published,
    ));
    t.assert_clean(&format!("poison/{}", rig.backend));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_sqlite() {
    drill(Rig::sqlite("drill-poison", Faults::none(), drill_refdata())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_dynamodb() {
    drill(Rig::dynamo(Faults::none(), drill_refdata()).await).await;
}
