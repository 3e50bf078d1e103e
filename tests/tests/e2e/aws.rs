//! The AWS adapters against the local emulator (moto on 127.0.0.1, started
//! once per test process by `pakn_tests::moto`): item mapping, every
//! condition expression, the store's queries, SQS, SNS filter policies, the
//! router's partial batch responses, the dead-letter queue and its redrive,
//! and the pipeline end to end.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use chrono::{DateTime, Duration, TimeZone, Utc};
use pakn_aws::dynamo::items::CaseRecord;
use pakn_aws::provision::{Names, Provisioned, Subscription};
use pakn_aws::{AwsResources, DynamoStore};
use pakn_core::Pakn;
use pakn_core::auth::{Official, Principal, Role, Roster};
use pakn_core::case::{Case, Status};
use pakn_core::ids::CaseId;
use pakn_core::inspection::Inspection;
use pakn_core::notify::{Audience, Notification};
use pakn_core::ports::*;
use pakn_core::refdata::RefData;
use pakn_core::stats::ALL;
use pakn_core::unit::UnitCode;
use pakn_testkit::JsonCalls as _;
use pakn_tests::moto;
use serde_json::json;
use std::sync::Arc;

/// Monday 4 August 2025, 09:00 in Hanoi.
pub(crate) fn monday_morning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 8, 4, 2, 0, 0).unwrap()
}

struct Env {
    sdk: aws_config::SdkConfig,
    p: Provisioned,
    pakn: Pakn,
    clock: ManualClock,
    store: Arc<DynamoStore>,
}

async fn env_with(names: Names) -> Env {
    let (sdk, p) = moto::provisioned(&names).await;
    let clock = ManualClock::new(monday_morning());
    let cfg = AwsResources {
        table_name: p.table.clone(),
        intake_queue_url: p.queue_url.clone(),
        topic_arn: p.topic_arn.clone(),
        publish_from_stream: false,
    };
    let pakn = pakn_aws::pakn_with(
        &sdk,
        &cfg,
        Arc::new(RefData::embedded()),
        Arc::new(clock.clone()),
    );
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        &p.table,
    ));
    Env {
        sdk,
        p,
        pakn,
        clock,
        store,
    }
}

async fn env() -> Env {
    env_with(moto::names()).await
}

use pakn_testkit::citizen;

fn report(ward: &str) -> serde_json::Value {
    json!({
        "category": "lighting",
        "title": "Đèn đường hỏng",
        "description": "Ba cột đèn trên phố Hàng Bài không sáng từ tối qua.",
        "location": {"lat": 21.0285, "lng": 105.8542, "ward_code": ward},
        "contact": {"name": "Nguyễn Văn A", "phone": "0912 345 678"}
    })
}

async fn submit(e: &Env, sub: &str, ward: &str) -> CaseId {
    let r = e
        .pakn
        .submit(&citizen(sub), &report(ward), None)
        .await
        .expect("submit");
    CaseId::parse(&r.id).unwrap()
}

async fn case(e: &Env, id: &CaseId) -> Case {
    e.store.get_case(id).await.unwrap().expect("case exists")
}

use moto::drain;

fn sqs_event(ms: &[aws_sdk_sqs::types::Message]) -> SqsEvent {
    let mut ev = SqsEvent::default();
    ev.records = ms
        .iter()
        .map(|m| {
            let mut r = SqsMessage::default();
            r.message_id = m.message_id().map(String::from);
            r.receipt_handle = m.receipt_handle().map(String::from);
            r.body = m.body().map(String::from);
            r
        })
        .collect();
    ev
}

// ------------------------------------------------------------ item mapping

/// An intake queue that refuses to send one case (a throttled or poisoned
/// send), and sends the others.
struct FlakyQueue {
    inner: pakn_aws::SqsQueue,
    refuse: std::sync::Mutex<Option<CaseId>>,
}

#[async_trait::async_trait]
impl Queue for FlakyQueue {
    async fn send(&self, ids: &[CaseId]) -> StoreResult<()> {
        let refused = self.refuse.lock().unwrap().clone();
        if refused.is_some_and(|r| ids.contains(&r)) {
            return Err(StoreError::Unavailable(Box::new(std::io::Error::other(
                "injected send failure",
            ))));
        }
        self.inner.send(ids).await
    }
}

/// One requeue send fails among several: it is logged, the pass goes on
/// for the others, and the next requeue milestone sends it.
#[tokio::test]
async fn one_failing_send_never_stops_the_sweep() {
    let e = env().await;
    let flaky = Arc::new(FlakyQueue {
        inner: pakn_aws::SqsQueue::new(aws_sdk_sqs::Client::new(&e.sdk), &e.p.queue_url),
        refuse: std::sync::Mutex::new(None),
    });
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&e.sdk), &e.p.table)
        .with_intake(flaky.clone());
    let pakn = Pakn::new(
        Arc::new(store),
        Arc::new(pakn_aws::SnsNotifier::new(
            aws_sdk_sns::Client::new(&e.sdk),
            &e.p.topic_arn,
        )),
        Arc::new(e.clock.clone()),
        Arc::new(RefData::embedded()),
    );
    let mut ids = Vec::new();
    for n in 0..5 {
        let r = pakn
            .submit(&citizen(&format!("cit-flaky-{n}")), &report("00070"), None)
            .await
            .expect("submit");
        ids.push(r.id);
    }
    let sqs = aws_sdk_sqs::Client::new(&e.sdk);
    // The workers took the messages and died: nothing routed them.
    assert_eq!(drain(&sqs, &e.p.queue_url).await.len(), 5);
    let victim = CaseId::parse(&ids[2]).unwrap();
    *flaky.refuse.lock().unwrap() = Some(victim.clone());

    e.clock.advance(chrono::Duration::minutes(11));
    let r = pakn.sweep().run(100).await.expect("the pass succeeds");
    assert_eq!((r.looked, r.requeued, r.failed), (5, 5, 0));
    let sent: Vec<String> = drain(&sqs, &e.p.queue_url)
        .await
        .iter()
        .map(|m| m.body().unwrap_or_default().to_string())
        .collect();
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert!(
        !sent.iter().any(|b| b.contains(victim.as_str())),
        "{sent:?}"
    );

    // The fault clears; the next requeue milestone sends the victim too.
    *flaky.refuse.lock().unwrap() = None;
    e.clock.advance(chrono::Duration::minutes(11));
    let r = pakn.sweep().run(100).await.expect("second pass");
    assert_eq!(r.requeued, 5);
    let sent: Vec<String> = drain(&sqs, &e.p.queue_url)
        .await
        .iter()
        .map(|m| m.body().unwrap_or_default().to_string())
        .collect();
    assert!(sent.iter().any(|b| b.contains(victim.as_str())), "{sent:?}");
}

#[tokio::test]
async fn case_items_round_trip_and_split_the_submission_off() {
    let e = env().await;
    let id = submit(&e, "citizen-map", "00070").await;
    e.pakn.routing().route_case(&id).await.unwrap();
    let c = case(&e, &id).await;
    assert_eq!(c.status, Status::Assigned);
    assert!(!c.holds.is_empty() && c.resolve_due.is_some() && c.contact.is_some());
    let rec = CaseRecord::try_from(&c).unwrap();
    assert_eq!(Case::try_from(&rec).unwrap(), c);
    // The small, often rewritten item carries no submission text (its
    // JSON is deflated: read back inflated).
    let state = pakn_aws::dynamo::items::state_json(&rec.state).unwrap();
    assert!(state.contains(c.id.as_str()), "{state}");
    assert!(
        !state.contains("Hàng Bài") && !state.contains("0912"),
        "{state}"
    );
    let raw = format!("{:?}", rec.state);
    assert!(!raw.contains("Hàng Bài") && !raw.contains("0912"), "{raw}");
}

// ------------------------------------------------------ conditions refuse

#[tokio::test]
async fn a_stale_version_is_refused() {
    let e = env().await;
    let id = submit(&e, "citizen-stale", "00070").await;
    let c = case(&e, &id).await;
    let rd = RefData::embedded();
    let outcome =
        pakn_core::routing::route_to(&c, UnitCode::ward("00070"), e.clock.now(), &rd).unwrap();
    let commit = Commit {
        expected_version: c.version,
        outcome,
        inspection: None,
        enqueue: false,
    };
    e.store.commit(&commit).await.unwrap();
    let again = e.store.commit(&commit).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(case(&e, &id).await.version, c.version + 1);
    assert_eq!(e.store.timeline(&id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_ledger_decision_is_recorded_once() {
    let e = env().await;
    let id = submit(&e, "citizen-ledger", "00070").await;
    let c = case(&e, &id).await;
    let rd = RefData::embedded();
    let mut o =
        pakn_core::routing::route_to(&c, UnitCode::ward("00070"), e.clock.now(), &rd).unwrap();
    o.decisions = vec!["overdue@2025-08-05T10:00:00Z".into()];
    e.store
        .commit(&Commit {
            expected_version: c.version,
            outcome: o,
            inspection: None,
            enqueue: false,
        })
        .await
        .unwrap();
    // A second change at the current version that decides the same milestone again.
    let c2 = case(&e, &id).await;
    let p = Principal::new("u1", Role::Official, Some(UnitCode::ward("00070"))).unwrap();
    let mut o2 = pakn_core::actions::apply(
        &c2,
        &p,
        pakn_core::actions::Action::Accept,
        e.clock.now(),
        &rd,
    )
    .unwrap();
    o2.decisions = vec!["overdue@2025-08-05T10:00:00Z".into()];
    o2.notifications.clear();
    let r = e
        .store
        .commit(&Commit {
            expected_version: c2.version,
            outcome: o2,
            inspection: None,
            enqueue: false,
        })
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert_eq!(
        case(&e, &id).await.status,
        Status::Assigned,
        "nothing of the refused change was written"
    );
}

#[tokio::test]
async fn a_taken_tracking_code_is_refused() {
    let e = env().await;
    let id = submit(&e, "citizen-track", "00070").await;
    let c = case(&e, &id).await;
    let mut twin = c.clone();
    twin.id = CaseId::new(e.clock.now());
    let event = e.store.timeline(&id).await.unwrap().remove(0);
    let new = NewCase {
        case: twin.clone(),
        event,
        deltas: vec![],
        idempotency: None,
    };
    let r = e.store.create_case(&new, e.clock.now()).await;
    assert!(matches!(r, Err(StoreError::TrackingCodeTaken)), "{r:?}");
    assert!(
        e.store.get_case(&twin.id).await.unwrap().is_none(),
        "nothing of the refused case was written"
    );
    assert_eq!(
        e.store
            .case_id_by_tracking_code(&c.tracking_code)
            .await
            .unwrap(),
        Some(id)
    );
}

#[tokio::test]
async fn an_idempotency_key_replays_until_it_expires() {
    let e = env().await;
    let who = citizen("citizen-idem");
    let a = e
        .pakn
        .submit(&who, &report("00070"), Some("key-1"))
        .await
        .unwrap();
    let b = e
        .pakn
        .submit(&who, &report("00070"), Some("key-1"))
        .await
        .unwrap();
    assert_eq!((a.id.as_str(), b.replayed), (b.id.as_str(), true));
    let other = e.pakn.submit(&who, &report("00073"), Some("key-1")).await;
    assert_eq!(other.unwrap_err().code, "idempotency_key_reused");
    // Moto never expires TTL items: the condition `expires_at < :now` lets a new record replace it.
    e.clock.advance(Duration::hours(25));
    let c = e
        .pakn
        .submit(&who, &report("00070"), Some("key-1"))
        .await
        .unwrap();
    assert!(!c.replayed);
    assert_ne!(c.id, a.id);
}

#[tokio::test]
async fn inspections_are_put_if_absent_then_by_version() {
    let e = env().await;
    let id = CaseId::new(e.clock.now());
    let unit = UnitCode::ward("00070");
    let mut i = Inspection::for_overdue_case(&id, &unit, e.clock.now(), json!({"why": "test"}));
    e.store.put_inspection(&i, 0).await.unwrap();
    assert!(matches!(
        e.store.put_inspection(&i, 0).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        e.store.get_inspection(&i.id).await.unwrap().as_ref(),
        Some(&i)
    );
    i.status = "answered".into();
    i.version = 2;
    e.store.put_inspection(&i, 1).await.unwrap();
    assert!(matches!(
        e.store.put_inspection(&i, 1).await,
        Err(StoreError::Conflict(_))
    ));
    let st: &dyn Store = e.store.as_ref();
    assert_eq!(
        crate::contract::all_inspections(st, Some("answered"), Some(&unit)).await,
        vec![i.clone()]
    );
    assert!(
        crate::contract::all_inspections(st, Some("open"), None)
            .await
            .is_empty()
    );
    assert!(
        crate::contract::all_inspections(st, None, Some(&UnitCode::ward("00073")))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn outbox_decisions_are_once_and_published_until_marked() {
    let e = env().await;
    let n = Notification {
        dedup_id: "digest:ward:00070:2025-08-04".into(),
        event: "unit.overdue_digest".into(),
        unit: "ward:00070".into(),
        urgency: "normal".into(),
        audience: vec![Audience::Unit, Audience::HomeAffairs],
        case_id: None,
        body: json!({"overdue": 3}),
        created_at: e.clock.now(),
    };
    assert!(e.store.decide_once(&n).await.unwrap());
    assert!(!e.store.decide_once(&n).await.unwrap());
    assert_eq!(
        e.store.pending_notifications(10).await.unwrap(),
        vec![n.clone()]
    );
    e.store.mark_published(&n.dedup_id).await.unwrap();
    assert!(e.store.pending_notifications(10).await.unwrap().is_empty());
}

// ------------------------------------------------------------- store queries

#[tokio::test]
async fn queues_listings_counts_rollups_rosters() {
    let e = env().await;
    let a = submit(&e, "citizen-q1", "00070").await;
    let b = submit(&e, "citizen-q1", "00070").await;
    let c = submit(&e, "citizen-q2", "00073").await;
    for id in [&a, &b, &c] {
        e.pakn.routing().route_case(id).await.unwrap();
    }
    let ward = UnitCode::ward("00070");
    // The unit queue, by status, with a cursor.
    let q = CaseQuery {
        unit: Some(ward.clone()),
        limit: 1,
        ..Default::default()
    };
    let p1 = e.store.list_cases(&q).await.unwrap();
    assert_eq!(p1.cases.len(), 1);
    let p2 = e
        .store
        .list_cases(&CaseQuery {
            cursor: p1.next_cursor.clone(),
            ..q.clone()
        })
        .await
        .unwrap();
    assert_eq!(p2.cases.len(), 1);
    assert!(p2.next_cursor.is_none());
    let mut got = vec![p1.cases[0].id.clone(), p2.cases[0].id.clone()];
    got.sort();
    let mut want = vec![a.clone(), b.clone()];
    want.sort();
    assert_eq!(got, want);
    let q = CaseQuery {
        unit: Some(ward.clone()),
        status: Some(Status::InProgress),
        limit: 10,
        ..Default::default()
    };
    assert!(e.store.list_cases(&q).await.unwrap().cases.is_empty());
    // "Mine".
    let q = CaseQuery {
        submitted_by: Some("citizen-q2".into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        e.store
            .list_cases(&q)
            .await
            .unwrap()
            .cases
            .iter()
            .map(|c| &c.id)
            .collect::<Vec<_>>(),
        vec![&c]
    );
    // Everything (admin), newest first.
    let all = e
        .store
        .list_cases(&CaseQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.cases.len(), 3);
    // Open and overdue counts, now and after the deadline.
    assert_eq!(
        e.store
            .count_open(Some(&ward), e.clock.now())
            .await
            .unwrap(),
        (2, 0)
    );
    assert_eq!(
        e.store.count_open(None, e.clock.now()).await.unwrap(),
        (3, 0)
    );
    let later = e.clock.now() + Duration::days(60);
    assert_eq!(
        e.store.count_open(Some(&ward), later).await.unwrap(),
        (2, 2)
    );
    let q = CaseQuery {
        unit: Some(ward.clone()),
        overdue_at: Some(later),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(e.store.list_cases(&q).await.unwrap().cases.len(), 2);
    // Due for the sweep: nothing now, all three at the acknowledge deadline.
    assert!(
        e.store
            .due_cases(e.clock.now(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let due = e.store.due_cases(later, 10).await.unwrap();
    assert_eq!(due.len(), 3);
    assert!(
        due.windows(2)
            .all(|w| w[0].next_action_at <= w[1].next_action_at)
    );
    assert_eq!(e.store.due_cases(later, 2).await.unwrap().len(), 2);
    // Rollups written with the changes.
    let day = monday_morning().date_naive();
    let rows = e
        .store
        .rollups(ALL, day, day + Duration::days(1))
        .await
        .unwrap();
    let sum = pakn_core::stats::sum(&rows);
    assert_eq!(sum.get(pakn_core::stats::Counter::Received), 3);
    let ward_rows = e
        .store
        .rollups(ward.as_str(), day, day + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(
        pakn_core::stats::sum(&ward_rows).get(pakn_core::stats::Counter::Received),
        2
    );
    assert!(
        e.store
            .rollups(ALL, day + Duration::days(1), day + Duration::days(2))
            .await
            .unwrap()
            .is_empty()
    );
    // Rosters and headcounts.
    assert_eq!(e.store.get_roster(&ward).await.unwrap(), Roster::default());
    let roster = Roster {
        officials: vec![Official {
            sub: "u1".into(),
            name: "Trần Thị B".into(),
            title: "Chuyên viên".into(),
        }],
        updated_at: Some(e.clock.now()),
        updated_by: Some("admin".into()),
    };
    e.store.put_roster(&ward, &roster).await.unwrap();
    assert_eq!(e.store.get_roster(&ward).await.unwrap(), roster);
    assert_eq!(e.store.get_headcount(&ward).await.unwrap(), None);
    e.store.put_headcount(&ward, 42).await.unwrap();
    assert_eq!(e.store.get_headcount(&ward).await.unwrap(), Some(42));
}

#[tokio::test]
async fn the_sweep_decides_each_milestone_once() {
    let e = env().await;
    let id = submit(&e, "citizen-sweep", "00070").await;
    e.pakn.routing().route_case(&id).await.unwrap();
    e.clock.advance(Duration::days(40));
    let t = pakn_deadlines::sweep_until_done(&e.pakn, 50, None)
        .await
        .unwrap();
    assert!(t.decided >= 1 && t.inspections_opened == 1, "{t:?}");
    let again = pakn_deadlines::sweep_until_done(&e.pakn, 50, None)
        .await
        .unwrap();
    assert_eq!(
        (again.decided, again.inspections_opened),
        (0, 0),
        "{again:?}"
    );
    let i = e
        .store
        .get_inspection(&format!("case-{id}"))
        .await
        .unwrap()
        .expect("inspection opened");
    assert_eq!(i.unit, UnitCode::ward("00070"));
    assert!(
        e.store.pending_notifications(10).await.unwrap().is_empty(),
        "the outbox was drained"
    );
}

// ------------------------------------------------------------------ messaging

#[tokio::test]
async fn sqs_sends_in_batches_and_receives() {
    let e = env().await;
    let ids: Vec<CaseId> = (0..13).map(|_| CaseId::new(e.clock.now())).collect();
    let intake = pakn_aws::SqsQueue::new(aws_sdk_sqs::Client::new(&e.sdk), &e.p.queue_url);
    intake.send(&ids).await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(&e.sdk);
    let mut got: Vec<String> = drain(&sqs, &e.p.queue_url)
        .await
        .iter()
        .map(|m| {
            serde_json::from_str::<serde_json::Value>(m.body().unwrap()).unwrap()["case_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for _ in 0..3 {
        if got.len() >= 13 {
            break;
        }
        got.extend(drain(&sqs, &e.p.queue_url).await.iter().map(|m| {
            serde_json::from_str::<serde_json::Value>(m.body().unwrap()).unwrap()["case_id"]
                .as_str()
                .unwrap()
                .to_string()
        }));
    }
    got.sort();
    let mut want: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    want.sort();
    assert_eq!(got, want);
}

/// A queue subscribed to the topic with a filter policy (raw delivery).
async fn subscribed_queue(e: &Env, policy: serde_json::Value) -> String {
    let sqs = aws_sdk_sqs::Client::new(&e.sdk);
    let (url, arn) = moto::queue(&sqs, "sub").await;
    let s = Subscription {
        protocol: "sqs".into(),
        endpoint: arn,
        filter_policy: Some(policy),
        raw: true,
    };
    pakn_aws::provision::subscribe(&aws_sdk_sns::Client::new(&e.sdk), &e.p.topic_arn, &s)
        .await
        .unwrap();
    url
}

fn units_of(ms: &[aws_sdk_sqs::types::Message]) -> Vec<String> {
    ms.iter()
        .map(|m| {
            serde_json::from_str::<serde_json::Value>(m.body().unwrap()).unwrap()["unit"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn sns_filter_policies_deliver_one_ward_only() {
    let e = env().await;
    let ward = subscribed_queue(&e, json!({"unit": ["ward:00070"]})).await;
    let home_affairs = subscribed_queue(&e, json!({"audience": ["home-affairs"]})).await;
    let mk = |unit: &str, aud: Vec<Audience>, k: &str| Notification {
        dedup_id: format!("test:{k}"),
        event: "case.assigned".into(),
        unit: unit.into(),
        urgency: "normal".into(),
        audience: aud,
        case_id: None,
        body: json!({}),
        created_at: e.clock.now(),
    };
    e.pakn
        .notifier
        .publish(&mk("ward:00070", vec![Audience::Unit], "a"))
        .await
        .unwrap();
    e.pakn
        .notifier
        .publish(&mk("ward:00073", vec![Audience::Unit], "b"))
        .await
        .unwrap();
    e.pakn
        .notifier
        .publish(&mk(
            "ward:00073",
            vec![Audience::Unit, Audience::HomeAffairs],
            "c",
        ))
        .await
        .unwrap();
    let sqs = aws_sdk_sqs::Client::new(&e.sdk);
    assert_eq!(units_of(&drain(&sqs, &ward).await), vec!["ward:00070"]);
    let ha = drain(&sqs, &home_affairs).await;
    assert_eq!(ha.len(), 1);
    let n: Notification = serde_json::from_str(ha[0].body().unwrap()).unwrap();
    assert_eq!(n.dedup_id, "test:c");
}

// ------------------------------------------------------------------ pipeline

#[tokio::test]
async fn end_to_end_submit_route_assign_notify_by_ward() {
    let e = env().await;
    let ward_q = subscribed_queue(
        &e,
        json!({"unit": ["ward:00070"], "event": ["case.assigned"]}),
    )
    .await;
    let a = submit(&e, "citizen-e2e", "00070").await;
    let b = submit(&e, "citizen-e2e", "00073").await;
    let sqs = aws_sdk_sqs::Client::new(&e.sdk);
    let mut received = drain(&sqs, &e.p.queue_url).await;
    if received.len() < 2 {
        received.extend(drain(&sqs, &e.p.queue_url).await);
    }
    assert_eq!(
        received.len(),
        2,
        "both submissions are on the intake queue"
    );
    let resp = pakn_router::handle_batch(&e.pakn, sqs_event(&received)).await;
    assert!(
        resp.batch_item_failures.is_empty(),
        "{:?}",
        resp.batch_item_failures
    );
    let ca = case(&e, &a).await;
    assert_eq!(
        (ca.status, ca.unit.as_ref().map(|u| u.as_str())),
        (Status::Assigned, Some("ward:00070"))
    );
    assert_eq!(case(&e, &b).await.unit, Some(UnitCode::ward("00073")));
    // A duplicate delivery is a no-op, not a failure.
    let resp = pakn_router::handle_batch(&e.pakn, sqs_event(&received)).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(case(&e, &a).await.version, ca.version);
    let got = drain(&sqs, &ward_q).await;
    assert_eq!(got.len(), 1, "exactly ward 00070's assignment");
    let n: Notification = serde_json::from_str(got[0].body().unwrap()).unwrap();
    assert_eq!(
        (n.event.as_str(), n.unit.as_str(), n.case_id.as_ref()),
        ("case.assigned", "ward:00070", Some(&a))
    );
    assert!(
        e.store.pending_notifications(10).await.unwrap().is_empty(),
        "published and marked"
    );
}

#[tokio::test]
async fn a_poison_message_reaches_the_dlq_after_five_receives_and_redrives() {
    let mut names = moto::names();
    names.visibility_timeout_seconds = 1;
    let e = env_with(names).await;
    let sqs = aws_sdk_sqs::Client::new(&e.sdk);
    sqs.send_message()
        .queue_url(&e.p.queue_url)
        .message_body("{\"case\":\"oops\"}")
        .send()
        .await
        .unwrap();
    let mut receives = 0;
    for _ in 0..30 {
        let r = sqs
            .receive_message()
            .queue_url(&e.p.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        if !r.messages().is_empty() {
            receives += 1;
            let resp = pakn_router::handle_batch(&e.pakn, sqs_event(r.messages())).await;
            let failed: Vec<&str> = resp
                .batch_item_failures
                .iter()
                .map(|f| f.item_identifier.as_str())
                .collect();
            assert_eq!(
                failed,
                vec![r.messages()[0].message_id().unwrap()],
                "exactly the poison record fails"
            );
        }
        let dlq = sqs
            .get_queue_attributes()
            .queue_url(&e.p.dlq_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .unwrap();
        let n = dlq
            .attributes()
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            })
            .cloned()
            .unwrap_or_default();
        if n == "1" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }
    assert_eq!(receives, 5, "received five times, then dead-lettered");
    let moved = pakn_aws::redrive(&sqs, &e.p.dlq_url, &e.p.queue_url, 10)
        .await
        .unwrap();
    assert_eq!(moved, 1);
    let back = drain(&sqs, &e.p.queue_url).await;
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].body(), Some("{\"case\":\"oops\"}"));
}

// ------------------------------------------------- the store contract suite

/// A fresh, empty DynamoDB store (its own table) on the emulator.
/// A fresh table on the emulator, for the store contract suite. Its calls
/// pass one at a time (`Faulty::serialized`, no faults injected): moto
/// applies a conditional write without isolating it from a concurrent one
/// (eight concurrent `take`s under a limit of five let six through, about
/// one run in four), which DynamoDB itself does. Concurrent callers are
/// still concurrent up to the store's port: what the contract checks is
/// that pakn makes each of those writes conditional.
async fn fresh_dynamo_store() -> Arc<dyn Store> {
    let names = moto::names();
    let (sdk, p) = moto::provisioned(&names).await;
    let raw: Arc<dyn Store> = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        &p.table,
    ));
    Arc::new(
        pakn_tests::faults::Faulty::new(raw, pakn_tests::faults::Faults::new(0, 0.0)).serialized(),
    )
}

mod contract_on_dynamodb {
    use super::fresh_dynamo_store;

    macro_rules! dynamo_contract {
        ($($t:ident),* $(,)?) => {
            $(
                #[tokio::test]
                async fn $t() {
                    crate::contract::$t(fresh_dynamo_store().await).await;
                }
            )*

        };
    }

    crate::contract::for_each_contract_test!(dynamo_contract);
}

/// `pakn provision` with the media bucket: private, encrypted, raw files
/// expiring after a day, every object created under `raw/` an event on
/// the media queue (which dead-letters after five receives); provisioning
/// again finds it all as it is.
#[tokio::test]
async fn provision_creates_the_media_bucket_whose_raw_files_are_events_on_its_queue() {
    let prefix = moto::unique("media");
    let names = Names::with_prefix(&prefix).with_media(&prefix);
    let (sdk, p) = moto::provisioned(&names).await;
    let m = p.media.clone().expect("the media bucket");
    assert_eq!(m.bucket, format!("{prefix}-media").to_lowercase());
    let again = pakn_aws::provision(&sdk, &names).await.expect("again");
    assert_eq!(again, p, "idempotent");
    // Without asking, none.
    assert!(Names::with_prefix(&prefix).media.is_none());

    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let block = s3
        .get_public_access_block()
        .bucket(&m.bucket)
        .send()
        .await
        .expect("public access block");
    let c = block.public_access_block_configuration().expect("config");
    assert_eq!(
        (
            c.block_public_acls(),
            c.block_public_policy(),
            c.ignore_public_acls(),
            c.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let enc = s3
        .get_bucket_encryption()
        .bucket(&m.bucket)
        .send()
        .await
        .expect("encryption");
    let rule = &enc
        .server_side_encryption_configuration()
        .expect("sse")
        .rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .map(|d| d.sse_algorithm().as_str()),
        Some("AES256")
    );
    let life = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&m.bucket)
        .send()
        .await
        .expect("lifecycle");
    let r = &life.rules()[0];
    assert_eq!(r.expiration().and_then(|e| e.days()), Some(1));
    assert_eq!(r.filter().and_then(|f| f.prefix()), Some("raw/"), "{r:?}");

    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&m.queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .expect("queue attributes");
    let attrs = attrs.attributes().expect("attributes");
    use aws_sdk_sqs::types::QueueAttributeName as Q;
    assert_eq!(attrs[&Q::VisibilityTimeout], "180");
    let redrive: serde_json::Value = serde_json::from_str(&attrs[&Q::RedrivePolicy]).unwrap();
    assert_eq!(redrive["maxReceiveCount"], 5);
    let dlq_arn = pakn_aws::provision::queue_arn(&sqs, &m.dlq_url)
        .await
        .unwrap();
    assert_eq!(redrive["deadLetterTargetArn"], json!(dlq_arn));
    assert!(attrs[&Q::Policy].contains(&format!("arn:aws:s3:::{}", m.bucket)));
    let queue_arn = &attrs[&Q::QueueArn];
    let n = s3
        .get_bucket_notification_configuration()
        .bucket(&m.bucket)
        .send()
        .await
        .expect("notifications");
    assert_eq!(n.queue_configurations()[0].queue_arn(), queue_arn);

    // A file put under raw/ is an event on the queue; a checked copy is not.
    let id = CaseId::new(monday_morning()).to_string();
    for key in [format!("media/{id}"), format!("raw/{id}")] {
        s3.put_object()
            .bucket(&m.bucket)
            .key(key)
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"x"))
            .send()
            .await
            .expect("put");
    }
    let got = sqs
        .receive_message()
        .queue_url(&m.queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(2)
        .send()
        .await
        .expect("receive");
    let keys: Vec<String> = got
        .messages()
        .iter()
        .filter_map(|msg| serde_json::from_str::<serde_json::Value>(msg.body()?).ok())
        .flat_map(|v| {
            v["Records"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| r["s3"]["object"]["key"].as_str().map(String::from))
        })
        .collect();
    // Event keys are URL-encoded (moto encodes the slash as well).
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(keys[0].replace("%2F", "/"), format!("raw/{id}"));
    assert_eq!(pakn_aws::s3::id_of_raw_key(&keys[0]), Some(id.as_str()));
}
