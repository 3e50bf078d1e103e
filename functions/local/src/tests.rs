//! The store's condition refusals and group commit, end to end through the
//! public adapters (the cross-backend contract suite lives in `tests/`).

use crate::LocalBackend;
use crate::testutil::{TempDir, case, t0};
use chrono::Duration;
use pakn_core::case::Case;
use pakn_core::change::Outcome;
use pakn_core::ports::{
    CaseStore, Commit, Created, IdemRecord, InspectionStore, Ledger, StatsStore, StoreError,
};
use pakn_core::refdata::RefData;
use pakn_core::routing;
use pakn_core::stats::{ALL, Counter};
use pakn_core::unit::UnitCode;
use pakn_testkit::new_case;

fn backend(dir: &TempDir) -> LocalBackend {
    LocalBackend::open(&dir.path().join("pakn.db")).unwrap()
}

fn routed(c: &Case) -> Outcome {
    routing::route_to(
        c,
        UnitCode::ward("00070"),
        c.received_at + Duration::minutes(1),
        &RefData::embedded(),
    )
    .unwrap()
}

async fn received(store: &dyn StatsStore) -> i64 {
    let d = t0().date_naive();
    let rows = store.rollups(ALL, d, d.succ_opt().unwrap()).await.unwrap();
    rows.first().map(|r| r.get(Counter::Received)).unwrap_or(0)
}

#[tokio::test]
async fn create_writes_case_event_counters_and_queue_message_together() {
    let dir = TempDir::new("local");
    let b = backend(&dir);
    let c = case(t0(), "citizen-1");
    assert_eq!(
        b.store.create_case(&new_case(&c), t0()).await.unwrap(),
        Created::New
    );
    assert_eq!(b.store.get_case(&c.id).await.unwrap(), Some(c.clone()));
    assert_eq!(
        b.store
            .case_id_by_tracking_code(&c.tracking_code)
            .await
            .unwrap(),
        Some(c.id.clone())
    );
    assert_eq!(b.store.timeline(&c.id).await.unwrap().len(), 1);
    assert_eq!(received(b.store.as_ref()).await, 1);
    let msgs = b
        .queue
        .receive(10, std::time::Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(
        msgs.iter().map(|m| m.case_id.clone()).collect::<Vec<_>>(),
        [c.id]
    );
}

#[tokio::test]
async fn a_taken_tracking_code_is_refused_and_writes_nothing() {
    let dir = TempDir::new("local");
    let b = backend(&dir);
    let first = case(t0(), "a");
    b.store.create_case(&new_case(&first), t0()).await.unwrap();
    let mut second = case(t0(), "b");
    second.tracking_code = first.tracking_code.clone();
    let err = b
        .store
        .create_case(&new_case(&second), t0())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::TrackingCodeTaken), "{err:?}");
    assert_eq!(b.store.get_case(&second.id).await.unwrap(), None);
    assert_eq!(
        received(b.store.as_ref()).await,
        1,
        "the refused case counted nothing"
    );
    assert_eq!(b.queue.depth().await.unwrap(), 1, "nor queued anything");
}

#[tokio::test]
async fn idempotency_replays_until_expiry_then_creates_again() {
    let dir = TempDir::new("local");
    let b = backend(&dir);
    let c = case(t0(), "a");
    let rec = IdemRecord {
        key: "k1".into(),
        body_hash: "h1".into(),
        case_id: c.id.clone(),
        tracking_code: c.tracking_code.clone(),
        expires_at: t0() + Duration::hours(24),
    };
    let mut n = new_case(&c);
    n.idempotency = Some(rec.clone());
    assert_eq!(b.store.create_case(&n, t0()).await.unwrap(), Created::New);

    let c2 = case(t0(), "a");
    let mut n2 = new_case(&c2);
    n2.idempotency = Some(IdemRecord {
        case_id: c2.id.clone(),
        tracking_code: c2.tracking_code.clone(),
        ..rec.clone()
    });
    let later = t0() + Duration::hours(23);
    assert_eq!(
        b.store.create_case(&n2, later).await.unwrap(),
        Created::Replayed(rec.clone())
    );
    assert_eq!(
        b.store.get_case(&c2.id).await.unwrap(),
        None,
        "a replay writes nothing"
    );

    let expired = t0() + Duration::hours(25);
    n2.idempotency.as_mut().unwrap().expires_at = expired + Duration::hours(24);
    assert_eq!(
        b.store.create_case(&n2, expired).await.unwrap(),
        Created::New,
        "an expired key is replaced"
    );
    assert!(b.store.get_case(&c2.id).await.unwrap().is_some());
}

#[tokio::test]
async fn a_stale_version_is_a_conflict() {
    let dir = TempDir::new("local");
    let b = backend(&dir);
    let c = case(t0(), "a");
    b.store.create_case(&new_case(&c), t0()).await.unwrap();
    let out = routed(&c);
    let commit = Commit {
        expected_version: 1,
        outcome: out.clone(),
        inspection: None,
        enqueue: false,
    };
    b.store.commit(&commit).await.unwrap();
    let err = b.store.commit(&commit).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(b.store.get_case(&c.id).await.unwrap().unwrap().version, 2);
}

#[tokio::test]
async fn a_duplicate_decision_refuses_the_whole_commit() {
    let dir = TempDir::new("local");
    let b = backend(&dir);
    let c = case(t0(), "a");
    b.store.create_case(&new_case(&c), t0()).await.unwrap();
    let mut first = routed(&c);
    first.decisions = vec!["overdue@2025-08-01T10:00:00Z".into()];
    b.store
        .commit(&Commit {
            expected_version: 1,
            outcome: first.clone(),
            inspection: None,
            enqueue: false,
        })
        .await
        .unwrap();
    let pending_before = b.store.pending_notifications(100).await.unwrap().len();
    let queued_before = b.queue.depth().await.unwrap();

    // A second change at the right version that re-decides the same milestone.
    let now = c.received_at + Duration::minutes(5);
    let mut second = routing::route_to(
        &Case {
            status: pakn_core::case::Status::Received,
            ..first.case.clone()
        },
        UnitCode::triage(),
        now,
        &RefData::embedded(),
    )
    .unwrap();
    second.case.version = 3;
    second.event.version = 3;
    second.decisions = vec!["overdue@2025-08-01T10:00:00Z".into()];
    let inspection = pakn_core::inspection::Inspection::for_overdue_case(
        &c.id,
        &UnitCode::ward("00070"),
        now,
        serde_json::Value::Null,
    );
    let err = b
        .store
        .commit(&Commit {
            expected_version: 2,
            outcome: second,
            inspection: Some(inspection),
            enqueue: true,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let stored = b.store.get_case(&c.id).await.unwrap().unwrap();
    assert_eq!(stored, first.case, "the case is untouched");
    assert_eq!(b.store.timeline(&c.id).await.unwrap().len(), 2, "no event");
    assert_eq!(
        b.store.pending_notifications(100).await.unwrap().len(),
        pending_before,
        "no notification"
    );
    assert_eq!(
        b.queue.depth().await.unwrap(),
        queued_before,
        "no queue message"
    );
    assert!(
        b.store
            .get_inspection(&format!("case-{}", c.id))
            .await
            .unwrap()
            .is_none(),
        "no inspection"
    );
    let d = t0().date_naive();
    let triage = b
        .store
        .rollups(UnitCode::triage().as_str(), d, d.succ_opt().unwrap())
        .await
        .unwrap();
    assert!(triage.is_empty(), "no counters");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_all_land_and_a_failing_one_does_not_undo_its_batch() {
    let dir = TempDir::new("local");
    let b = backend(&dir);
    let mut cases = Vec::new();
    for i in 0..60 {
        let c = case(t0() + Duration::seconds(i), &format!("citizen-{i}"));
        b.store.create_case(&new_case(&c), t0()).await.unwrap();
        cases.push(c);
    }
    let store = b.store.clone();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, c) in cases.iter().enumerate() {
        let store = store.clone();
        let outcome = routed(c);
        // Every third commit carries a stale expected version.
        let expected = if i % 3 == 0 { 7 } else { 1 };
        tasks.spawn(async move {
            let r = store
                .commit(&Commit {
                    expected_version: expected,
                    outcome,
                    inspection: None,
                    enqueue: false,
                })
                .await;
            (expected, r)
        });
    }
    while let Some(r) = tasks.join_next().await {
        let (expected, r) = r.unwrap();
        if expected == 1 {
            r.unwrap();
        } else {
            assert!(matches!(r, Err(StoreError::Conflict(_))));
        }
    }
    for (i, c) in cases.iter().enumerate() {
        let v = store.get_case(&c.id).await.unwrap().unwrap().version;
        assert_eq!(v, if i % 3 == 0 { 1 } else { 2 }, "case {i}");
    }
    let d = t0().date_naive();
    let unit = store
        .rollups("ward:00070", d, d.succ_opt().unwrap())
        .await
        .unwrap();
    assert_eq!(
        unit[0].get(Counter::Received),
        40,
        "exactly the committed routings were counted"
    );
}

#[tokio::test]
async fn the_sweep_reads_the_sparse_index() {
    let dir = TempDir::new("local");
    let b = backend(&dir);
    let plan = b.store.due_cases_plan().await.unwrap();
    assert!(plan.contains("cases_next_action"), "{plan}");
    assert!(!plan.contains("SCAN cases"), "{plan}");
}

#[tokio::test]
async fn the_retention_step_reads_its_partial_index_in_order() {
    let dir = TempDir::new("local");
    let b = backend(&dir);
    let plan = b.store.due_erasures_plan().await.unwrap();
    assert!(plan.contains("cases_erase_after"), "{plan}");
    assert!(!plan.contains("SCAN cases"), "{plan}");
    assert!(!plan.contains("TEMP B-TREE"), "no sort: {plan}");
}

#[tokio::test]
async fn backup_copies_the_database() {
    let dir = TempDir::new("local");
    let b = backend(&dir);
    let c = case(t0(), "a");
    b.store.create_case(&new_case(&c), t0()).await.unwrap();
    let copy = dir.path().join("copy.db");
    b.store.backup(&copy).await.unwrap();
    let restored = LocalBackend::open(&copy).unwrap();
    assert_eq!(restored.store.get_case(&c.id).await.unwrap(), Some(c));
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_its_wal_and_backups_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("local");
    let path = dir.path().join("pakn.db");
    let b = LocalBackend::open(&path).unwrap();
    let c = case(t0(), "cit-perm");
    b.store.create_case(&new_case(&c), t0()).await.unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    let wal = dir.path().join("pakn.db-wal");
    assert!(wal.exists());
    assert_eq!(mode(&wal), 0o600);
    let copy = dir.path().join("copy.db");
    b.store.backup(&copy).await.unwrap();
    assert_eq!(mode(&copy), 0o600);
    assert!(
        b.store.backup(&copy).await.is_err(),
        "never over an existing file"
    );
}
