//! A citizen's `urgent` applies at once up to `citizen_urgent_per_day`
//! reports per account per local day; beyond, the report is accepted as
//! `normal` with the notice `urgency_capped`, recorded in the timeline.
//! Counted exactly in the store: the same scenario runs on SQLite and on
//! DynamoDB (moto), with the test clock across local midnight.

use chrono::{DateTime, Duration, Utc};
use pakn_core::Pakn;
use pakn_core::calendar::ClockKind;
use pakn_core::category::Urgency;
use pakn_core::ids::CaseId;
use pakn_core::intake::{Notice, Receipt};
use pakn_core::ports::ManualClock;
use pakn_core::refdata::RefData;
use pakn_local::LocalBackend;
use pakn_testkit::{JsonCalls, citizen, hanoi, operator, report_body};
use pakn_tests::http_app::{Api, Bodies, citizen as citizen_token};
use pakn_tests::moto;
use pakn_tests::process::TempDir;
use serde_json::{Value, json};
use std::sync::Arc;

fn urgent(title: &str) -> Value {
    let mut b = report_body("drainage", "00070", title);
    b["urgency"] = json!("urgent");
    b
}

async fn urgency_of(pakn: &Pakn, r: &Receipt) -> Urgency {
    let id = CaseId::parse(&r.id).expect("ulid");
    pakn.cases
        .get_case(&id)
        .await
        .expect("read")
        .expect("stored")
        .urgency
}

/// The whole rule, on whichever store `pakn` runs on.
async fn scenario(pakn: Pakn, clock: ManualClock) {
    let limit = pakn.refdata.policy.rate_limits.citizen_urgent_per_day;
    assert!(limit >= 1, "the scenario needs a cap of at least one");
    // 23:30 in Hanoi on 3 December = 16:30 UTC: the local day ends at 17:00 UTC.
    let evening: DateTime<Utc> = hanoi(2026, 12, 3, 23, 30, 0);
    clock.set(evening);
    let c = citizen("lu-lut");

    // The first urgent report, then its replays: they do not count.
    let first = pakn
        .submit(&c, &urgent("Ngập sâu 1"), Some("k-1"))
        .await
        .expect("accepted");
    assert_eq!(first.notice, None);
    assert_eq!(urgency_of(&pakn, &first).await, Urgency::Urgent);
    for _ in 0..limit + 1 {
        let again = pakn
            .submit(&c, &urgent("Ngập sâu 1"), Some("k-1"))
            .await
            .expect("replay");
        assert!(again.replayed);
        assert_eq!((again.id.as_str(), again.notice), (first.id.as_str(), None));
    }
    // A normal report does not count either.
    let normal = pakn
        .submit(&c, &report_body("lighting", "00070", "Đèn hỏng"), None)
        .await
        .expect("normal");
    assert_eq!(normal.notice, None);
    // Up to the cap, urgent stays urgent.
    for i in 2..=limit {
        let r = pakn
            .submit(&c, &urgent(&format!("Ngập sâu {i}")), None)
            .await
            .expect("accepted");
        assert_eq!(r.notice, None, "urgent report {i} of {limit}");
        assert_eq!(urgency_of(&pakn, &r).await, Urgency::Urgent);
    }

    // Beyond the cap: accepted as normal, with the notice, in the timeline.
    let over = pakn
        .submit(&c, &urgent("Ngập sâu nữa"), Some("k-over"))
        .await
        .expect("accepted, not refused");
    assert_eq!(over.notice, Some(Notice::urgency_capped(limit)));
    assert_eq!(urgency_of(&pakn, &over).await, Urgency::Normal);
    let id = CaseId::parse(&over.id).expect("ulid");
    let timeline = pakn.cases.timeline(&id).await.expect("timeline");
    assert_eq!(timeline[0].action, "submitted");
    assert_eq!(
        timeline[0].data["urgency_capped"],
        json!({"requested": "urgent", "applied": "normal", "limit": limit})
    );
    // Its deadlines are a normal report's: the working clock, not the calendar.
    pakn.routing().route_case(&id).await.expect("routed");
    let routed = pakn.cases.get_case(&id).await.expect("read").expect("case");
    assert_eq!(routed.resolve_clock, ClockKind::Working);
    // Its replay answers the same notice and is not counted again.
    let again = pakn
        .submit(&c, &urgent("Ngập sâu nữa"), Some("k-over"))
        .await
        .expect("replay");
    assert!(again.replayed);
    assert_eq!(
        (again.id.as_str(), again.notice),
        (over.id.as_str(), Some(Notice::urgency_capped(limit)))
    );

    // Per account: another citizen's urgent applies; a hotline operator
    // grading a caller's emergency is not capped.
    let other = pakn
        .submit(&citizen("hang-xom"), &urgent("Ngập sâu"), None)
        .await
        .expect("accepted");
    assert_eq!(other.notice, None);
    let op = operator("tong-dai-1022");
    for i in 0..=limit {
        let mut b = urgent(&format!("Cuộc gọi {i}"));
        b["channel"] = json!("hotline");
        let r = pakn.submit(&op, &b, None).await.expect("accepted");
        assert_eq!(r.notice, None, "operator report {i}");
        assert_eq!(urgency_of(&pakn, &r).await, Urgency::Urgent);
    }

    // One second before local midnight the day is still used up; at
    // midnight in Hanoi (still 3 December in UTC) it starts again.
    clock.set(hanoi(2026, 12, 3, 23, 59, 59));
    let late = pakn
        .submit(&c, &urgent("Vẫn ngập"), None)
        .await
        .expect("accepted");
    assert_eq!(late.notice, Some(Notice::urgency_capped(limit)));
    let midnight = hanoi(2026, 12, 4, 0, 0, 0);
    assert_eq!(midnight, evening + Duration::minutes(30));
    clock.set(midnight);
    let next_day = pakn
        .submit(&c, &urgent("Sáng sớm vẫn ngập"), None)
        .await
        .expect("accepted");
    assert_eq!(next_day.notice, None);
    assert_eq!(urgency_of(&pakn, &next_day).await, Urgency::Urgent);
}

#[tokio::test]
async fn urgent_reports_are_capped_per_local_day_on_sqlite() {
    let dir = TempDir::new("urgency");
    let backend = LocalBackend::open(&dir.path().join("pakn.db")).expect("open sqlite");
    let clock = ManualClock::new(hanoi(2026, 12, 3, 9, 0, 0));
    let pakn = backend.pakn(Arc::new(clock.clone()), Arc::new(RefData::embedded()));
    scenario(pakn, clock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urgent_reports_are_capped_per_local_day_on_dynamodb() {
    let (sdk, p) = moto::provisioned(&moto::names()).await;
    let clock = ManualClock::new(hanoi(2026, 12, 3, 9, 0, 0));
    let pakn = pakn_aws::pakn_with(
        &sdk,
        &pakn_aws::AwsResources {
            table_name: p.table.clone(),
            intake_queue_url: p.queue_url.clone(),
            topic_arn: p.topic_arn.clone(),
            publish_from_stream: false,
        },
        Arc::new(RefData::embedded()),
        Arc::new(clock.clone()),
    );
    scenario(pakn, clock).await;
}

/// The `202` of a capped report carries the notice with its code and both
/// languages; the others carry none.
#[tokio::test]
async fn the_202_of_a_capped_report_carries_the_notice_in_both_languages() {
    let api = Api::new(
        "urgency-http",
        hanoi(2026, 12, 3, 10, 0, 0),
        Bodies::AllJson,
    );
    let limit = api.pakn.refdata.policy.rate_limits.citizen_urgent_per_day;
    let t = citizen_token("khan-cap-http");
    for i in 1..=limit {
        let a = api
            .submit(&t, &urgent(&format!("Ngập {i}")))
            .await
            .expect(202);
        assert!(a.body.get("notice").is_none(), "{}", a.body);
    }
    let a = api.submit(&t, &urgent("Ngập nữa")).await.expect(202);
    let n = &a.body["notice"];
    assert_eq!(n["code"], "urgency_capped", "{}", a.body);
    let (en, vi) = (
        n["message"].as_str().unwrap_or_default(),
        n["message_vi"].as_str().unwrap_or_default(),
    );
    assert!(en.contains(&limit.to_string()) && vi.contains(&limit.to_string()));
    assert!(vi.contains("khẩn cấp"), "{vi}");
    assert_ne!(en, vi);
    // The reporter's own view shows the urgency applied and why.
    let id = a.body["id"].as_str().expect("id");
    let case = api
        .get(&format!("/v1/cases/{id}"), Some(&t))
        .await
        .expect(200);
    assert_eq!(case.body["urgency"], "normal");
    assert_eq!(
        case.body["timeline"][0]["data"]["urgency_capped"]["requested"],
        "urgent"
    );
}
