//! The retention sweep end to end, on SQLite and on DynamoDB (moto): a case
//! closed, the test clock moved past the retention period (5 years), the
//! sweep erases its personal data once and keeps the case, its public
//! lookup and its figures; two sweeps at once erase it once.

use chrono::{DateTime, Duration, Months, TimeZone, Utc};
use pakn_core::Pakn;
use pakn_core::case::Case;
use pakn_core::ids::CaseId;
use pakn_core::ports::ManualClock;
use pakn_core::refdata::RefData;
use pakn_core::reporting::Period;
use pakn_testkit::{JsonCalls as _, citizen, official};
use pakn_tests::moto;
use pakn_tests::process::TempDir;
use serde_json::json;
use std::sync::Arc;

/// Tuesday 5 August 2025, 09:00 in Hanoi.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 8, 5, 2, 0, 0).unwrap()
}

const PHONE: &str = "0987 654 321";

/// Submit as `sub`, route, accept, resolve and rate: the closed case.
async fn closed_case(pakn: &Pakn, sub: &str) -> Case {
    let body = json!({
        "category": "lighting", "title": "Đèn đường hỏng",
        "description": "Cột đèn trước nhà tôi, số 8 ngõ 5 Hàng Bài, không sáng.",
        "location": {"lat": 21.024_51, "lng": 105.853_04, "ward_code": "00070", "address": "8 ngõ 5 Hàng Bài"},
        "contact": {"name": "Lê Văn Cường", "phone": PHONE}
    });
    let p = citizen(sub);
    let id = pakn.submit(&p, &body, None).await.expect("submit").id;
    let case_id = CaseId::parse(&id).expect("ulid");
    pakn.routing().route_case(&case_id).await.expect("route");
    let off = official("can-bo-1", "ward:00070");
    let mut v = pakn
        .lookup()
        .get_case(&off, &id)
        .await
        .expect("read")
        .version;
    for (who, action, body) in [
        (&off, "accept", json!({})),
        (&off, "resolve", json!({"answer": "Đã thay bóng đèn."})),
        (
            &p,
            "rate",
            json!({"score": 5, "comment": "Cảm ơn anh Hùng"}),
        ),
    ] {
        v = pakn
            .act(who, &id, action, &body, Some(v))
            .await
            .unwrap_or_else(|e| panic!("{action}: {e}"))
            .version;
    }
    pakn.cases
        .get_case(&case_id)
        .await
        .expect("get")
        .expect("stored")
}

async fn case(pakn: &Pakn, id: &CaseId) -> Case {
    pakn.cases.get_case(id).await.expect("get").expect("stored")
}

async fn retention_flow(pakn: Pakn, clock: ManualClock) {
    let c = closed_case(&pakn, "cong-dan-cuong").await;
    let closed = c.closed_at.expect("closed");
    let due = closed + Months::new(60);
    assert_eq!(c.erase_after, Some(due));
    let day = pakn.refdata.calendar.local_date(t0());
    let period = || Period::new(day, day + Duration::days(1)).expect("period");

    // A minute before: nothing to erase.
    clock.set(due - Duration::minutes(1));
    let stats = pakn.reporting().stats(period(), None).await.expect("stats");
    let r = pakn.sweep().run(100).await.expect("sweep");
    assert_eq!(r.retention.erased, 0);
    assert_eq!(case(&pakn, &c.id).await, c);

    // Past the retention period: erased, once.
    clock.set(due + Duration::minutes(1));
    let r = pakn.sweep().run(100).await.expect("sweep");
    assert_eq!((r.retention.erased, r.retention.failed), (1, 0));
    let erased = case(&pakn, &c.id).await;
    assert_eq!(erased.erased_at, Some(due + Duration::minutes(1)));
    // The case, its timeline, and what was published about it (which
    // never carried the reporter's data: nothing there to erase).
    let all = serde_json::to_string(&erased).unwrap()
        + &serde_json::to_string(&pakn.cases.timeline(&c.id).await.unwrap()).unwrap()
        + &serde_json::to_string(&pakn.cases.notifications_for_case(&c.id).await.unwrap()).unwrap();
    for gone in [
        PHONE,
        "Lê Văn Cường",
        "8 ngõ 5",
        "cong-dan-cuong",
        "anh Hùng",
        "trước nhà tôi",
    ] {
        assert!(!all.contains(gone), "{gone} survived: {all}");
    }
    assert!(all.contains("Đã thay bóng đèn."), "official records stay");
    let again = pakn.sweep().run(100).await.expect("sweep");
    assert_eq!(again.retention, Default::default(), "nothing left to erase");
    // The case, its public lookup and its figures stay.
    let public = pakn.lookup().track(&c.tracking_code).await.expect("track");
    assert_eq!(
        (public.title.as_str(), public.lat),
        ("Đèn đường hỏng", 21.025)
    );
    let after = pakn.reporting().stats(period(), None).await.expect("stats");
    assert_eq!(
        serde_json::to_value(&after).unwrap(),
        serde_json::to_value(&stats).unwrap()
    );

    // Two sweeps at once erase a case once.
    clock.set(t0() + Duration::days(1));
    let second = closed_case(&pakn, "cong-dan-khac").await;
    clock.set(second.erase_after.expect("due") + Duration::seconds(1));
    let sweep = |pakn: Pakn| tokio::spawn(async move { pakn.sweep().run(100).await });
    let (a, b) = tokio::join!(sweep(pakn.clone()), sweep(pakn.clone()));
    let a = a.expect("task a").expect("sweep a").retention;
    let b = b.expect("task b").expect("sweep b").retention;
    assert_eq!(a.erased + b.erased, 1, "{a:?} {b:?}");
    assert_eq!(a.failed + b.failed, 0);
    let tl = pakn.cases.timeline(&second.id).await.unwrap();
    assert_eq!(tl.iter().filter(|e| e.action == "erase").count(), 1);
    assert!(case(&pakn, &second.id).await.contact.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_erases_personal_data_after_the_retention_period_on_sqlite() {
    let dir = TempDir::new("retention");
    let clock = ManualClock::new(t0());
    let backend = pakn_local::LocalBackend::open(&dir.path().join("pakn.db")).expect("sqlite");
    let pakn = backend.pakn(Arc::new(clock.clone()), Arc::new(RefData::embedded()));
    retention_flow(pakn, clock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_erases_personal_data_after_the_retention_period_on_dynamodb() {
    let (sdk, p) = moto::provisioned(&moto::names()).await;
    let clock = ManualClock::new(t0());
    let cfg = pakn_aws::AwsResources {
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
    retention_flow(pakn, clock).await;
}
