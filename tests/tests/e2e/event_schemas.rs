//! Every message pakn publishes matches its documented JSON Schema
//! (`GET /v1/events/schemas`), on both backends: a scenario that makes pakn
//! publish all eight events, then each message as the subscriber receives
//! it (the local notifier's record on SQLite; a raw SQS subscription of the
//! topic on moto) checked against the schema of its event. And a unit's
//! record of what it was sent (`GET /v1/units/{code}/notifications`).

use chrono::{DateTime, TimeZone, Utc};
use pakn_core::Pakn;
use pakn_core::ids::CaseId;
use pakn_core::ports::ManualClock;
use pakn_core::refdata::RefData;
use pakn_testkit::JsonCalls as _;
use pakn_testkit::{citizen, official, report_body};
use pakn_tests::http_app::{self, Api, Bodies};
use pakn_tests::moto;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Monday 4 August 2025, 09:00 in Hanoi.
fn monday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 8, 4, 2, 0, 0).unwrap()
}

/// Make pakn publish every kind of event: routing, a case passed around
/// (three transfers), and an ignored case swept five weeks later (reminder,
/// overdue, inspection, the unit's daily digest).
async fn publish_everything(pakn: &Pakn, clock: &ManualClock) {
    let me = citizen("cong-dan-schemas");
    let passed = pakn
        .submit(
            &me,
            &report_body("lighting", "00070", "Đèn đường hỏng"),
            None,
        )
        .await
        .unwrap();
    let ignored = pakn
        .submit(
            &me,
            &report_body("lighting", "00070", "Cột đèn nghiêng"),
            None,
        )
        .await
        .unwrap();
    for r in [&passed, &ignored] {
        pakn.routing()
            .route_case(&CaseId::parse(&r.id).unwrap())
            .await
            .unwrap();
    }
    let mut version = 2;
    for (from, to) in [("00070", "00073"), ("00073", "00070"), ("00070", "00073")] {
        clock.advance(chrono::Duration::minutes(5));
        let p = official(&format!("can-bo-{from}"), &format!("ward:{from}"));
        let body =
            json!({"to_unit": format!("ward:{to}"), "reason": "Không thuộc địa bàn phường."});
        version = pakn
            .act(&p, &passed.id, "transfer", &body, Some(version))
            .await
            .unwrap()
            .version;
    }
    // A third report closed as a duplicate of the ignored one.
    let again = pakn
        .submit(
            &me,
            &report_body("lighting", "00070", "Cột đèn nghiêng lần nữa"),
            None,
        )
        .await
        .unwrap();
    pakn.routing()
        .route_case(&CaseId::parse(&again.id).unwrap())
        .await
        .unwrap();
    pakn.act(
        &official("can-bo-00070", "ward:00070"),
        &again.id,
        "duplicate",
        &json!({"of": ignored.id}),
        Some(2),
    )
    .await
    .unwrap();
    // Monday 8 September 2025, 09:00 in Hanoi: the ignored case is weeks overdue.
    clock.set(Utc.with_ymd_and_hms(2025, 9, 8, 2, 0, 0).unwrap());
    for _ in 0..3 {
        pakn.sweep().run(100).await.unwrap();
    }
}

/// Check each message against its event's schema; answers the events seen.
fn check_all(messages: &[Value]) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for m in messages {
        let event = m["event"].as_str().expect("an event name");
        let schema = pakn_api::routes::events::schema(event)
            .unwrap_or_else(|| panic!("no schema for published event {event}"));
        if let Err(e) = pakn_testkit::schema::validate(schema, m) {
            panic!("{event} does not match its schema: {e}\n{m:#}");
        }
        assert_eq!(m["body"]["schema_version"], 1);
        seen.insert(event.to_string());
    }
    // The duplicate's status change says which case it duplicates.
    let dup: Vec<&Value> = messages
        .iter()
        .filter(|m| m["event"] == "case.status_changed" && m["body"]["status"] == "closed")
        .collect();
    assert_eq!(dup.len(), 1, "one case closed: the duplicate");
    assert!(
        dup[0]["body"]["duplicate_of"]["tracking_code"]
            .as_str()
            .is_some_and(|c| c.starts_with("HN-")),
        "{:#}",
        dup[0]
    );
    assert!(
        messages
            .iter()
            .filter(|m| m["event"] == "case.status_changed" && m["body"]["status"] != "closed")
            .all(|m| m["body"].get("duplicate_of").is_none()),
        "only a duplicate carries duplicate_of"
    );
    seen
}

fn all_events() -> BTreeSet<String> {
    pakn_core::subscription::EVENTS
        .iter()
        .map(|e| e.to_string())
        .collect()
}

#[tokio::test]
async fn every_message_published_on_sqlite_matches_its_schema() {
    let dir = pakn_tests::process::TempDir::new("schemas-sqlite");
    let backend = pakn_local::LocalBackend::open(&dir.path().join("p.db")).unwrap();
    let clock = ManualClock::new(monday());
    let pakn = backend.pakn(Arc::new(clock.clone()), Arc::new(RefData::embedded()));
    publish_everything(&pakn, &clock).await;
    let published = backend.notifier.published(0, 10_000).await.unwrap();
    // What a webhook receives: the stored JSON of each notification.
    let messages: Vec<Value> = published
        .iter()
        .map(|p| serde_json::to_value(&p.notification).unwrap())
        .collect();
    assert_eq!(check_all(&messages), all_events());
}

#[tokio::test]
async fn every_message_published_on_sns_matches_its_schema() {
    let (sdk, p) = moto::provisioned(&moto::names()).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue_url = moto::topic_queue(&sdk, &p.topic_arn, "everything").await;
    let clock = ManualClock::new(monday());
    let resources = pakn_aws::AwsResources {
        table_name: p.table.clone(),
        intake_queue_url: p.queue_url.clone(),
        topic_arn: p.topic_arn.clone(),
        publish_from_stream: false,
    };
    let pakn = pakn_aws::pakn_with(
        &sdk,
        &resources,
        Arc::new(RefData::embedded()),
        Arc::new(clock.clone()),
    );
    publish_everything(&pakn, &clock).await;
    let mut messages = Vec::new();
    let mut empty = 0;
    while empty < 2 {
        let r = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        if r.messages().is_empty() {
            empty += 1;
        }
        for m in r.messages() {
            messages.push(serde_json::from_str::<Value>(m.body().unwrap()).unwrap());
            sqs.delete_message()
                .queue_url(&queue_url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    assert_eq!(check_all(&messages), all_events());
}

#[tokio::test]
async fn a_unit_reads_what_it_was_sent_and_others_may_not() {
    let api = Api::new("unit-notifications", monday(), Bodies::JsonWhenTyped);
    publish_everything(&api.pakn, &api.clock).await;
    let today = "from=2025-08-01&to=2025-09-30";
    let own = http_app::official("can-bo-70", "ward:00070");
    let got = api
        .get(
            &format!("/v1/units/ward:00070/notifications?{today}"),
            Some(&own),
        )
        .await
        .expect(200);
    let items = got.items();
    assert!(!items.is_empty());
    let events: BTreeSet<&str> = items.iter().filter_map(|i| i["event"].as_str()).collect();
    for e in [
        "case.assigned",
        "case.transferred",
        "case.overdue",
        "unit.overdue_digest",
    ] {
        assert!(events.contains(e), "{e} missing from {events:?}");
    }
    assert!(items.iter().all(|i| i["published_at"].is_string()));
    assert!(
        items
            .windows(2)
            .all(|w| w[0]["decided_at"].as_str() <= w[1]["decided_at"].as_str())
    );
    let inspector = http_app::inspector();
    api.get(
        &format!("/v1/units/ward:00070/notifications?{today}"),
        Some(&inspector),
    )
    .await
    .expect(200);
    // A period before anything happened is empty.
    let early = api
        .get(
            "/v1/units/ward:00070/notifications?from=2025-07-01&to=2025-07-31",
            Some(&own),
        )
        .await
        .expect(200);
    assert!(early.items().is_empty());
    let other = http_app::official("can-bo-73", "ward:00073");
    api.get("/v1/units/ward:00070/notifications", Some(&other))
        .await
        .error(403, "forbidden");
    api.get(
        "/v1/units/ward:00070/notifications",
        Some(&http_app::citizen("c")),
    )
    .await
    .error(403, "forbidden");
    api.get("/v1/units/ward:99999/notifications", Some(&inspector))
        .await
        .error(404, "not_found");
    api.get("/v1/units/ward:00070/notifications", None)
        .await
        .expect(401);
    api.get(
        "/v1/units/ward:00070/notifications?from=yesterday",
        Some(&own),
    )
    .await
    .error(422, "invalid_date");
    // The schemas themselves are public.
    let schemas = api.get("/v1/events/schemas", None).await.expect(200);
    assert_eq!(schemas.body["schema_version"], 1);
    assert_eq!(schemas.body["events"].as_object().unwrap().len(), 8);
}
