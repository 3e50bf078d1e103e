//! `pakn bench reads`: what each read endpoint costs on DynamoDB — requests,
//! read units and latency — for a city of 10 units and for Hanoi's 137,
//! with the same cases, on the local emulator.
//!
//! For each city: a fresh table (`pakn provision`'s definition), the day
//! before the history snapshotted on the empty table (the sweep's first
//! snapshot), then `--cases` cases over 90 days spread over the city's
//! units (`pakn_testkit::synthetic`: each driven through pakn-core's own
//! routing, actions and sweep decisions) loaded in batches
//! (`pakn_aws::dynamo::bulk`, with rosters, headcounts, registered
//! officials and the inspections the sweep opened), and the sweep's daily
//! snapshots of every day since. Then the API (the axum app the API Lambda
//! runs) answers each read through the recording proxy of `lifecycle-units`
//! (requests forwarded unchanged; read units by DynamoDB's rules from the
//! items returned, since the emulator's `ConsumedCapacity` is a constant),
//! `--repeat` times; the latency is the client's, on loopback, through the
//! proxy to the emulator (so it measures the emulator, not AWS).

use crate::bench_units::{Recorder, set_step, start_proxy, step_reads};
use anyhow::{Context, Result, bail};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use pakn_api::{AppState, Auth, app};
use pakn_aws::DynamoStore;
use pakn_aws::dynamo::bulk::Bulk;
use pakn_core::auth::{Official, Role, Roster};
use pakn_core::ports::ManualClock;
use pakn_core::refdata::RefData;
use pakn_core::sweep::snapshot::Snapshots;
use pakn_core::unit::UnitCode;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::sync::Mutex;

/// Days of history.
pub const DAYS: u32 = 90;
/// The cities compared: the first 10 units of the reference data, and all.
pub const CITIES: [usize; 2] = [10, 137];

/// One endpoint's costs in one city.
#[derive(Debug, Clone)]
struct Row {
    name: &'static str,
    path: String,
    ops: Vec<String>,
    rru: f64,
    /// Milliseconds, sorted.
    latencies: Vec<f64>,
}

impl Row {
    fn p50(&self) -> f64 {
        self.latencies[self.latencies.len() / 2]
    }
    fn max(&self) -> f64 {
        self.latencies.last().copied().unwrap_or(0.0)
    }
}

/// The embedded reference data cut to its first `n` units.
fn city_of(n: usize) -> RefData {
    let mut rd = RefData::embedded();
    let keep: Vec<UnitCode> = rd.units.keys().take(n).cloned().collect();
    rd.units.retain(|k, _| keep.contains(k));
    rd
}

fn local_midnight_plus(rd: &RefData, day: NaiveDate, minutes: i64) -> DateTime<Utc> {
    rd.calendar.local_midnight(day) + Duration::minutes(minutes)
}

/// Load one city and read it; (rows, cases loaded, items written, seconds to load).
async fn city(
    endpoint: &str,
    region: &str,
    n_units: usize,
    cases: usize,
    repeat: usize,
    now: DateTime<Utc>,
) -> Result<(Vec<Row>, usize, usize, f64)> {
    let refdata = city_of(n_units);
    let units: Vec<UnitCode> = refdata
        .units
        .values()
        .filter(|u| u.unit_type != "city" && !u.code.is_triage())
        .map(|u| u.code.clone())
        .collect();
    let direct = pakn_aws::emulator_sdk_config(endpoint, region).await;
    let prefix = format!("pakn-reads-{n_units}-{}", Utc::now().timestamp_millis());
    let prov = pakn_aws::provision(&direct, &pakn_aws::Names::with_prefix(&prefix))
        .await
        .context("provisioning on the emulator")?;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&direct), &prov.table);
    let snapshots = Snapshots {
        stats: &store,
        ledger: &store,
        refdata: &refdata,
    };
    let started = std::time::Instant::now();
    let today = refdata.calendar.local_date(now);
    let first = today - Duration::days(DAYS as i64);
    snapshots
        .run(local_midnight_plus(&refdata, first, 30))
        .await
        .map_err(|e| anyhow::anyhow!("first snapshot: {e:?}"))?;
    let h = pakn_testkit::synthetic::history(&refdata, &units, cases, first, DAYS, now);
    let roster = |k: usize| Roster {
        officials: (0..1 + k % 3)
            .map(|i| Official {
                sub: format!("can-bo-{k}-{i}"),
                name: "Nguyễn Văn A".into(),
                title: "Chuyên viên".into(),
            })
            .collect(),
        updated_at: None,
        updated_by: None,
    };
    let rosters: Vec<_> = units
        .iter()
        .enumerate()
        .filter(|(k, _)| k % 5 != 0)
        .map(|(k, u)| (u.clone(), roster(k)))
        .collect();
    let headcounts: Vec<_> = units
        .iter()
        .enumerate()
        .map(|(k, u)| (u.clone(), 20 + (k % 40) as u32))
        .collect();
    let registered: Vec<_> = units
        .iter()
        .enumerate()
        .map(|(k, u)| (u.clone(), 10 + (k % 25) as i64))
        .collect();
    let items = store
        .bulk_load(&Bulk {
            cases: &h.cases,
            deltas: &h.deltas,
            inspections: &h.inspections,
            rosters: &rosters,
            headcounts: &headcounts,
            registered: &registered,
        })
        .await
        .map_err(|e| anyhow::anyhow!("load: {e:?}"))?;
    // The sweep's snapshots of every day since (at most 62 days a pass).
    let mut day = first;
    while day < today {
        day = (day + Duration::days(60)).min(today);
        snapshots
            .run(local_midnight_plus(&refdata, day, 30))
            .await
            .map_err(|e| anyhow::anyhow!("snapshots: {e:?}"))?;
    }
    let load_seconds = started.elapsed().as_secs_f64();

    let (proxy, rec) = start_proxy(endpoint).await?;
    let via_proxy = pakn_aws::emulator_sdk_config(&proxy, region).await;
    let cfg = pakn_aws::AwsResources {
        table_name: prov.table.clone(),
        intake_queue_url: prov.queue_url.clone(),
        topic_arn: prov.topic_arn.clone(),
        publish_from_stream: false,
    };
    let pakn = pakn_aws::pakn_with(
        &via_proxy,
        &cfg,
        Arc::new(refdata.clone()),
        Arc::new(ManualClock::new(now)),
    );
    let secret: Vec<u8> = rand::random::<[u8; 32]>().to_vec();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = AppState {
        pakn,
        auth: Auth::Hs256 {
            secret: secret.clone(),
        },
        console: Default::default(),
    };
    tokio::spawn(axum::serve(listener, app(state)).into_future());
    let token = pakn_api::token::mint(
        &secret,
        "thanh-tra-bench",
        Role::Inspector,
        None,
        Duration::hours(1),
        Utc::now(),
    );
    let http = reqwest::Client::new();
    let rows = read_all(&http, &base, &token, &rec, &h, &units, today, repeat).await?;
    Ok((rows, h.cases.len(), items, load_seconds))
}

#[allow(clippy::too_many_arguments)]
async fn read_all(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    rec: &Mutex<Recorder>,
    h: &pakn_testkit::synthetic::History,
    units: &[UnitCode],
    today: NaiveDate,
    repeat: usize,
) -> Result<Vec<Row>> {
    let month = today.format("%Y-%m").to_string();
    let last_month = (today.with_day0(0).unwrap_or(today) - Duration::days(1))
        .format("%Y-%m")
        .to_string();
    let year = today.format("%Y").to_string();
    let to = today + Duration::days(1);
    let (from30, from365) = (to - Duration::days(30), to - Duration::days(365));
    let unit = units.first().context("a unit")?.as_str();
    let inspected = h
        .inspections
        .first()
        .map(|i| i.unit.to_string())
        .unwrap_or_else(|| unit.to_string());
    let case = h.cases.first().context("a case")?;
    let endpoints: Vec<(&'static str, String)> = vec![
        (
            "GET /v1/stats (city, last 30 days)",
            format!("/v1/stats?from={from30}&to={to}"),
        ),
        (
            "GET /v1/stats (city, last month)",
            format!("/v1/stats?from={last_month}-01&to={month}-01"),
        ),
        (
            "GET /v1/stats (city, 365 days)",
            format!("/v1/stats?from={from365}&to={to}"),
        ),
        (
            "GET /v1/stats?unit= (30 days)",
            format!("/v1/stats?from={from30}&to={to}&unit={unit}"),
        ),
        ("GET /v1/registration", "/v1/registration".into()),
        (
            "GET /v1/scorecards (this month)",
            format!("/v1/scorecards?period={month}"),
        ),
        (
            "GET /v1/scorecards (last month)",
            format!("/v1/scorecards?period={last_month}"),
        ),
        (
            "GET /v1/scorecards (the year)",
            format!("/v1/scorecards?period={year}"),
        ),
        (
            "GET /v1/scorecards.csv (last month)",
            format!("/v1/scorecards.csv?period={last_month}"),
        ),
        (
            "GET /v1/units/{code}/scorecard (this month)",
            format!("/v1/units/{unit}/scorecard?period={month}"),
        ),
        (
            "GET /v1/inspections?unit= (a page of 50)",
            format!("/v1/inspections?unit={inspected}&limit=50"),
        ),
        ("GET /v1/cases/{id}", format!("/v1/cases/{}", case.id)),
        (
            "GET /v1/track/{code}",
            format!("/v1/track/{}", case.tracking_code),
        ),
    ];
    let mut rows = Vec::new();
    for (name, path) in endpoints {
        let mut latencies = Vec::new();
        let mut first = None;
        for i in 0..repeat.max(1) {
            let step = format!("{name}#{i}");
            set_step(rec, &step).await;
            let t = std::time::Instant::now();
            let res = http
                .get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await?;
            let status = res.status();
            let _ = res.bytes().await?;
            latencies.push(t.elapsed().as_secs_f64() * 1000.0);
            if !status.is_success() {
                bail!("{name} ({path}) answered {status}");
            }
            if first.is_none() {
                first = Some(step_reads(&*rec.lock().await, &step));
            }
        }
        latencies.sort_by(|a, b| a.total_cmp(b));
        let (ops, rru) = first.unwrap_or_default();
        rows.push(Row {
            name,
            path,
            ops,
            rru,
            latencies,
        });
    }
    Ok(rows)
}

fn ops_text(ops: &[String]) -> String {
    let mut out: Vec<(String, usize)> = Vec::new();
    for o in ops {
        match out.last_mut() {
            Some((last, n)) if last == o => *n += 1,
            _ => out.push((o.clone(), 1)),
        }
    }
    out.iter()
        .map(|(o, n)| {
            if *n > 1 {
                format!("{o} ×{n}")
            } else {
                o.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn run(
    endpoint: &str,
    region: &str,
    cases: usize,
    repeat: usize,
    as_json: bool,
) -> Result<()> {
    let endpoint = endpoint.trim_end_matches('/').to_string();
    let now = Utc::now();
    let mut cities = Vec::new();
    for n in CITIES {
        cities.push((n, city(&endpoint, region, n, cases, repeat, now).await?));
    }
    let (small, hanoi) = (&cities[0].1.0, &cities[1].1.0);
    let equal = small
        .iter()
        .zip(hanoi)
        .all(|(a, b)| a.name == b.name && a.ops == b.ops);
    if as_json {
        let city_json =
            |(n, (rows, loaded, items, secs)): &(usize, (Vec<Row>, usize, usize, f64))| {
                json!({
                    "units": n, "cases": loaded, "items_loaded": items, "load_seconds": secs,
                    "endpoints": rows.iter().map(|r| json!({
                        "endpoint": r.name, "path": r.path, "requests": r.ops.len(), "calls": r.ops,
                        "rru": r.rru, "p50_ms": r.p50(), "max_ms": r.max(),
                    })).collect::<Vec<Value>>(),
                })
            };
        let out = json!({
            "days": DAYS, "repeat": repeat,
            "cities": cities.iter().map(city_json).collect::<Vec<_>>(),
            "requests_equal": equal,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for (n, (_, loaded, items, secs)) in &cities {
            println!(
                "{n} units: {loaded} cases over {DAYS} days, {items} items loaded in {secs:.1} s"
            );
        }
        println!(
            "\n| endpoint | DynamoDB requests (10 units = 137 units) | RRU, 10 units | RRU, 137 units | p50 / max ms, 10 units | p50 / max ms, 137 units |"
        );
        println!("|---|---|---:|---:|---:|---:|");
        for (a, b) in small.iter().zip(hanoi) {
            let same = if a.ops == b.ops { "" } else { " **≠**" };
            println!(
                "| {} | {}: {}{same} | {} | {} | {:.1} / {:.1} | {:.1} / {:.1} |",
                a.name,
                b.ops.len(),
                ops_text(&b.ops),
                a.rru,
                b.rru,
                a.p50(),
                a.max(),
                b.p50(),
                b.max()
            );
        }
        println!(
            "\nThe same requests for 10 units as for 137: {}",
            if equal { "yes" } else { "NO" }
        );
    }
    if !equal {
        bail!("the requests differ between 10 and 137 units");
    }
    Ok(())
}
