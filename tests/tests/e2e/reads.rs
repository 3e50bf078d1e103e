//! Reads bounded by the answer on DynamoDB: every non-paged read endpoint
//! makes the same DynamoDB requests for a city of 10 units as for the 137
//! units of Hanoi (and at most 10 for a period of up to a month, one more
//! for each further month), and a listing one query (and one batch read)
//! per page. Counted by a proxy in front of the emulator
//! (`pakn_tests::counting`, the approach of `pakn bench lifecycle-units`):
//! counts, not timings.
//!
//! Each city is a table loaded with the same synthetic history
//! (`pakn_testkit::synthetic`: 600 cases over 50 days, spread over its
//! units, with the deltas pakn-core's own changes make), the unit facts
//! (rosters, headcounts, officials' accounts), the inspections the sweep
//! would have opened, and the sweep's daily snapshots.

use axum::body::Body;
use axum::http::Request;
use chrono::{DateTime, NaiveDate, Utc};
use pakn_api::{AppState, Auth, app};
use pakn_aws::dynamo::bulk::Bulk;
use pakn_aws::{AwsResources, DynamoStore};
use pakn_core::auth::{Official, Roster};
use pakn_core::ports::ManualClock;
use pakn_core::refdata::RefData;
use pakn_core::sweep::snapshot::Snapshots;
use pakn_core::unit::UnitCode;
use pakn_testkit::hanoi;
use pakn_tests::counting::Counting;
use pakn_tests::http_app::{SECRET, inspector};
use pakn_tests::moto;
use std::collections::BTreeMap;
use std::sync::Arc;
use tower::ServiceExt;

/// Wednesday 10 September 2025, 10:00 in Hanoi.
fn now() -> DateTime<Utc> {
    hanoi(2025, 9, 10, 10, 0, 0)
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a day")
}

/// The embedded reference data cut to its first `n` units.
fn city_of(n: usize) -> RefData {
    let mut rd = RefData::embedded();
    let keep: Vec<UnitCode> = rd.units.keys().take(n).cloned().collect();
    rd.units.retain(|k, _| keep.contains(k));
    rd
}

/// What each read endpoint asked of DynamoDB, by endpoint.
type Requests = BTreeMap<&'static str, Vec<String>>;

async fn reads_of_a_city(n_units: usize) -> Requests {
    let refdata = city_of(n_units);
    assert_eq!(refdata.units.len(), n_units);
    let units: Vec<UnitCode> = refdata
        .units
        .values()
        .filter(|u| u.unit_type != "city" && !u.code.is_triage())
        .map(|u| u.code.clone())
        .collect();
    let names = moto::names();
    let (sdk, p) = moto::provisioned(&names).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &p.table);
    let snapshots = Snapshots {
        stats: &store,
        ledger: &store,
        refdata: &refdata,
    };
    // The first snapshot on the empty table, the day before the history.
    let first = day(2025, 7, 20);
    assert_eq!(
        snapshots.run(hanoi(2025, 7, 20, 0, 30, 0)).await.unwrap(),
        Some(day(2025, 7, 19))
    );
    let h = pakn_testkit::synthetic::history(&refdata, &units, 600, first, 50, now());
    let roster = |k: usize| Roster {
        officials: vec![Official {
            sub: format!("off-{k}"),
            name: "Nguyễn Văn A".into(),
            title: "Chuyên viên".into(),
        }],
        updated_at: None,
        updated_by: None,
    };
    let rosters: Vec<_> = units
        .iter()
        .enumerate()
        .filter(|(k, _)| k % 2 == 0)
        .map(|(k, u)| (u.clone(), roster(k)))
        .collect();
    let headcounts: Vec<_> = units
        .iter()
        .enumerate()
        .map(|(k, u)| (u.clone(), 20 + k as u32))
        .collect();
    let registered: Vec<_> = units.iter().map(|u| (u.clone(), 1)).collect();
    store
        .bulk_load(&Bulk {
            cases: &h.cases,
            deltas: &h.deltas,
            inspections: &h.inspections,
            rosters: &rosters,
            headcounts: &headcounts,
            registered: &registered,
        })
        .await
        .expect("load");
    // The sweep fills in every day since.
    assert_eq!(snapshots.run(now()).await.unwrap(), Some(day(2025, 9, 9)));

    // The API on the same table, its SDK through the counting proxy.
    let proxy = Counting::start(moto::endpoint()).await;
    let via_proxy = pakn_aws::emulator_sdk_config(&proxy.endpoint, moto::REGION).await;
    let cfg = AwsResources {
        table_name: p.table.clone(),
        intake_queue_url: p.queue_url.clone(),
        topic_arn: p.topic_arn.clone(),
        publish_from_stream: false,
    };
    let pakn = pakn_aws::pakn_with(
        &via_proxy,
        &cfg,
        Arc::new(refdata.clone()),
        Arc::new(ManualClock::new(now())),
    );
    let api = app(AppState {
        pakn,
        auth: Auth::Hs256 {
            secret: SECRET.to_vec(),
        },
        console: Default::default(),
    });
    let unit = units[0].as_str();
    let inspected = h
        .inspections
        .first()
        .expect("some inspections")
        .unit
        .clone();
    let case = &h.cases[0];
    let endpoints: Vec<(&'static str, String)> = vec![
        (
            "stats: city, 30 days to now",
            "/v1/stats?from=2025-08-12&to=2025-09-11".into(),
        ),
        (
            "stats: city, August",
            "/v1/stats?from=2025-08-01&to=2025-09-01".into(),
        ),
        (
            "stats: city, 365 days",
            "/v1/stats?from=2024-09-11&to=2025-09-11".into(),
        ),
        (
            "stats: one unit, 30 days",
            format!("/v1/stats?from=2025-08-12&to=2025-09-11&unit={unit}"),
        ),
        (
            "stats: every unit, 30 days",
            "/v1/stats/units?from=2025-08-12&to=2025-09-11".into(),
        ),
        (
            "stats: every unit, 365 days",
            "/v1/stats/units?from=2024-09-11&to=2025-09-11".into(),
        ),
        (
            "a unit's queue by due: one page",
            format!("/v1/cases?unit={unit}&sort=due&limit=20"),
        ),
        ("registration", "/v1/registration".into()),
        (
            "scorecards: this month",
            "/v1/scorecards?period=2025-09".into(),
        ),
        ("scorecards: August", "/v1/scorecards?period=2025-08".into()),
        ("scorecards: the year", "/v1/scorecards?period=2025".into()),
        (
            "scorecards.csv: August",
            "/v1/scorecards.csv?period=2025-08".into(),
        ),
        (
            "a unit's scorecard: this month",
            format!("/v1/units/{unit}/scorecard?period=2025-09"),
        ),
        (
            "a unit's inspections: one page",
            format!("/v1/inspections?unit={inspected}&limit=20"),
        ),
        ("a case", format!("/v1/cases/{}", case.id)),
        (
            "tracking lookup",
            format!("/v1/track/{}", case.tracking_code),
        ),
    ];
    let token = inspector();
    let mut out = Requests::new();
    for (name, path) in endpoints {
        proxy.take();
        let res = api
            .clone()
            .oneshot(
                Request::get(&path)
                    .header("authorization", format!("Bearer {token}"))
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("answer");
        assert_eq!(res.status().as_u16(), 200, "{name}: {path}");
        out.insert(name, proxy.take());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_cost_the_same_for_10_units_as_for_137() {
    let small = reads_of_a_city(10).await;
    let hanoi = reads_of_a_city(137).await;

    for (name, ops) in &hanoi {
        assert_eq!(
            Some(ops),
            small.get(name),
            "{name}: the same DynamoDB requests for 10 units and for 137"
        );
        // At most 10 for up to a month, one more per further month (the
        // year's months before the history have no snapshot: a query each).
        let budget = if name.contains("365") || name.contains("year") {
            10 + 11
        } else {
            10
        };
        assert!(
            ops.len() <= budget,
            "{name}: {} requests: {ops:?}",
            ops.len()
        );
        assert!(!ops.is_empty(), "{name}: it did read the table");
        assert!(
            !ops.iter().any(|o| o == "Scan"),
            "{name}: never a scan: {ops:?}"
        );
    }
    // A month's figures for every unit at once: snapshots in one batch
    // read, the unit summaries in one query.
    assert_eq!(
        hanoi["scorecards: August"],
        vec!["BatchGetItem".to_string(), "Query".to_string()],
        "{hanoi:?}"
    );
}
