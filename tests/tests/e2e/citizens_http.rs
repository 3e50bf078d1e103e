//! Over HTTP, on both backends (SQLite, and DynamoDB on moto): the nearby
//! search before a new report, following a case, and marking duplicates.
//! Each scenario is written once over [`Api`] and run on each backend.

use chrono::{DateTime, TimeZone, Utc};
use pakn_core::ports::ManualClock;
use pakn_core::refdata::RefData;
use pakn_tests::http_app::{Api, Bodies, citizen, report};
use pakn_tests::moto;
use serde_json::json;
use std::sync::Arc;

/// Monday 4 August 2025, 09:00 in Hanoi.
fn monday_morning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 8, 4, 2, 0, 0).unwrap()
}

async fn dynamo_api() -> Api {
    let (sdk, p) = moto::provisioned(&moto::names()).await;
    let clock = ManualClock::new(monday_morning());
    let cfg = pakn_aws::AwsResources {
        table_name: p.table.clone(),
        intake_queue_url: p.queue_url.clone(),
        topic_arn: p.topic_arn.clone(),
    };
    let pakn = pakn_aws::pakn_with(
        &sdk,
        &cfg,
        Arc::new(RefData::embedded()),
        Arc::new(clock.clone()),
    );
    Api::over(pakn, clock, Bodies::AllJson)
}

fn sqlite_api(name: &str) -> Api {
    Api::new(name, monday_morning(), Bodies::AllJson)
}

/// The nearby search: the public view with a distance, nearest first;
/// other categories and far cases left out; bad queries refused with 422.
async fn nearby_search(api: Api) {
    let cit = citizen("cong-dan-gan-day");
    // report(): lighting at (21.0245, 105.8530); a second one 150 m north.
    let near = api.routed_case(&cit, &report("Đèn hỏng")).await;
    let mut north = report("Đèn hỏng nữa");
    north["location"]["lat"] = json!(21.0245 + 150.0 / 111_195.0);
    let north = api.routed_case(&cit, &north).await;
    let mut far = report("Đèn hỏng xa");
    far["location"]["lat"] = json!(21.0245 + 300.0 / 111_195.0);
    api.routed_case(&cit, &far).await;

    let a = api
        .get(
            "/v1/cases/nearby?lat=21.0245&lng=105.8530&category=lighting",
            None,
        )
        .await
        .expect(200);
    assert_eq!(a.body["radius_m"], json!(250.0));
    let items = a.items();
    assert_eq!(items.len(), 2, "{}", a.body);
    let code = |id: &str| {
        let c = api.pakn.clone();
        let id = id.to_string();
        async move {
            c.cases
                .get_case(&pakn_core::ids::CaseId::parse(&id).unwrap())
                .await
                .unwrap()
                .unwrap()
                .tracking_code
        }
    };
    assert_eq!(items[0]["tracking_code"], json!(code(&near).await));
    assert_eq!(items[0]["distance_m"], json!(0));
    assert_eq!(items[1]["tracking_code"], json!(code(&north).await));
    assert_eq!(items[1]["distance_m"], json!(150));
    // The public view of /v1/track: no description, contact or reporter.
    for i in items {
        assert!(
            i.get("description").is_none() && i.get("contact").is_none(),
            "{i}"
        );
        assert!(
            i.get("submitted_by").is_none() && i["timeline"].is_array(),
            "{i}"
        );
        assert_eq!(i["status"], "assigned");
    }
    let a = api
        .get(
            "/v1/cases/nearby?lat=21.0245&lng=105.8530&category=drainage",
            None,
        )
        .await
        .expect(200);
    assert!(a.items().is_empty());

    for (q, field, code) in [
        (
            "lat=abc&lng=105.85&category=lighting",
            "lat",
            "invalid_coordinate",
        ),
        ("lng=105.85&category=lighting", "lat", "required"),
        ("lat=21.02&lng=105.85", "category", "required"),
        (
            "lat=10.0&lng=105.85&category=lighting",
            "lat",
            "outside_city",
        ),
        (
            "lat=21.02&lng=105.85&category=ufo",
            "category",
            "unknown_category",
        ),
    ] {
        let a = api
            .get(&format!("/v1/cases/nearby?{q}"), None)
            .await
            .error(422, code);
        assert_eq!(a.body["error"]["field"], field, "{q}");
    }
}

#[tokio::test]
async fn nearby_search_on_sqlite() {
    nearby_search(sqlite_api("nearby")).await;
}

#[tokio::test]
async fn nearby_search_on_dynamodb() {
    nearby_search(dynamo_api().await).await;
}
