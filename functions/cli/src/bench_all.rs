//! `pakn bench` with no subcommand: every local benchmark, briefly, in one
//! run — a readable table, or one JSON object with `--json`.
//!
//! - **intake**: `POST /v1/cases` from a fixed number of clients against
//!   `pakn serve`'s composition on a fresh database (WAL,
//!   `synchronous=FULL`: every `202` durable), routing running as in
//!   production; and its **ceiling**, the same requests answered `202` by a
//!   bare route that only parses the JSON body, on the same runtime and
//!   clients: the cost of HTTP and JSON alone on this machine.
//! - **end to end**: submissions at half the measured peak rate; the
//!   submit latency, and submit → assigned (the routed case's first hold
//!   starts when it is assigned) p50/p99; the routing backlog at the end.
//! - **sweep**: one sweep over `--sweep-cases` open cases (default one
//!   million) of which 1 % are due, written directly into the store; its
//!   time and store reads (which must follow the due count, not the open
//!   count). The once-a-day unit checks run in an earlier sweep the same
//!   day; their reads (which follow the number of units) are reported apart.
//! - **lambda**: each release bootstrap's size, cold init (process start to
//!   its first Runtime API poll) and resident memory at that moment.
//! - **units**: exactly `pakn bench lifecycle-units --json`
//!   ([`crate::bench_units`]): the DynamoDB units of a lifecycle, a reminder
//!   and an overdue decision. It needs the AWS emulator: the one
//!   `AWS_ENDPOINT_URL` names (loopback only), else a `moto_server`
//!   (`PAKN_MOTO_SERVER` / `--moto-server`) the bench starts on 127.0.0.1 on
//!   a free port and stops at the end; with neither, `null` and how to get it.
//!
//! A section whose prerequisite is missing prints `null` with the reason.
//! Submissions come from a citizen per 10 requests, so the per-account
//! quotas (policy.json `rate_limits`) are not what is measured.

use crate::bench_submit::{self, percentile};
use anyhow::{Context, Result};
use axum::Json;
use axum::http::StatusCode;
use chrono::{Duration as CDuration, Utc};
use pakn_core::auth::{Principal, Role};
use pakn_core::case::{Case, Status};
use pakn_core::ids::{self, CaseId};
use pakn_core::ports::{CaseStore, ManualClock};
use pakn_core::refdata::RefData;
use pakn_local::{LocalBackend, LocalOptions};
use serde_json::{Value, json};
use std::io::IsTerminal as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What `pakn bench` runs.
pub struct Options {
    pub json: bool,
    /// Seconds of each load phase (intake, ceiling, end to end).
    pub seconds: u64,
    pub clients: usize,
    pub sweep_cases: usize,
    /// A `moto_server` to start for the units section.
    pub moto_server: Option<std::path::PathBuf>,
}

fn progress(what: &str) {
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[2K[pakn bench] {what}…");
    }
}

fn ms(us: u64) -> f64 {
    (us as f64 / 10.0).round() / 100.0
}

pub async fn run(cfg: &pakn_config::Config, o: Options) -> Result<()> {
    let started = Instant::now();
    progress("intake");
    let intake = intake(cfg, &o).await?;
    let peak = intake["throughput"].as_f64().unwrap_or(0.0);
    progress("end to end at half the peak rate");
    let e2e = end_to_end(cfg, &o, peak / 2.0).await?;
    progress("sweep");
    let sweep = match sweep(o.sweep_cases).await {
        Ok(v) => v,
        Err(e) => json!({"null_reason": format!("{e:#}")}),
    };
    progress("lambda cold init");
    let lambda = lambda().await;
    progress("units (DynamoDB, on the emulator)");
    let (units, units_null_reason) = match units(cfg, &o).await {
        Ok(v) => (v, None),
        Err(reason) => (Value::Null, Some(reason)),
    };
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[2K");
    }
    let mut intake = intake;
    intake["p50_ms_at_half_rate"] = e2e["submit_p50_ms"].clone();
    intake["p99_ms_at_half_rate"] = e2e["submit_p99_ms"].clone();
    let mut all = json!({
        "machine": machine(),
        "date": Utc::now().format("%Y-%m-%d").to_string(),
        "seconds_in_all": started.elapsed().as_secs(),
        "intake": intake,
        "end_to_end": e2e,
        "sweep": sweep,
        "lambda": lambda,
        "units": units,
    });
    if let Some(reason) = units_null_reason {
        all["units_null_reason"] = json!(reason);
    }
    if o.json {
        println!("{all}");
    } else {
        print_table(&all);
    }
    Ok(())
}

fn machine() -> Value {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_kb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0);
    json!({"cores": cores, "memory_gib": (mem_kb as f64 / 1048576.0).round(), "durability": "SQLite WAL, synchronous=FULL"})
}

// ------------------------------------------------------------------ intake

async fn intake(cfg: &pakn_config::Config, o: &Options) -> Result<Value> {
    let target = bench_submit::Local::start(cfg).await?;
    let run = bench_submit::load(&target.base, &target.secret, o.clients, o.seconds, None).await?;
    let backlog = target.backend.queue.depth().await?;
    target.stop().await;
    let ceiling = ceiling(o).await?;
    let throughput = run.accepted_per_s();
    Ok(json!({
        "clients": o.clients,
        "seconds": o.seconds,
        "accepted": run.accepted(),
        "throughput": throughput.round(),
        "p50_ms": ms(run.percentile(50.0)),
        "p99_ms": ms(run.percentile(99.0)),
        "backlog_at_end": backlog,
        "ceiling": ceiling.round(),
        "ratio": if ceiling > 0.0 { ((throughput / ceiling) * 100.0).round() / 100.0 } else { 0.0 },
    }))
}

/// The same requests, answered `202` by a route that only parses the body.
async fn ceiling(o: &Options) -> Result<f64> {
    let app = axum::Router::new().route(
        "/v1/cases",
        axum::routing::post(|Json(body): Json<Value>| async move {
            (StatusCode::ACCEPTED, Json(json!({"ok": body.is_object()})))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop_rx.changed().await;
            })
            .await;
    });
    let run = bench_submit::load(&base, b"unused", o.clients, o.seconds, None).await?;
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    Ok(run.accepted_per_s())
}

// -------------------------------------------------------------- end to end

async fn end_to_end(cfg: &pakn_config::Config, o: &Options, rate: f64) -> Result<Value> {
    if rate < 1.0 {
        return Ok(json!({"null_reason": "no intake throughput measured"}));
    }
    let target = bench_submit::Local::start(cfg).await?;
    let run = bench_submit::load(
        &target.base,
        &target.secret,
        o.clients,
        o.seconds,
        Some(rate),
    )
    .await?;
    let backlog = target.backend.queue.depth().await?;
    // Let routing finish, then read when each case was assigned.
    let deadline = Instant::now() + Duration::from_secs(60);
    while target.backend.queue.depth().await? > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut assigned = Vec::with_capacity(run.ids.len());
    for id in &run.ids {
        let Some(c) = target.backend.store.get_case(id).await? else {
            anyhow::bail!("accepted case {id} is not in the store");
        };
        if let Some(h) = c.holds.first() {
            let us = (h.from - c.received_at)
                .num_microseconds()
                .unwrap_or(0)
                .max(0);
            assigned.push(us as u64);
        }
    }
    target.stop().await;
    assigned.sort_unstable();
    Ok(json!({
        "rate": rate.round(),
        "accepted": run.accepted(),
        "submit_p50_ms": ms(run.percentile(50.0)),
        "submit_p99_ms": ms(run.percentile(99.0)),
        "assigned": assigned.len(),
        "p50_ms": ms(percentile(&assigned, 50.0)),
        "p99_ms": ms(percentile(&assigned, 99.0)),
        "backlog_at_end": backlog,
    }))
}

// ------------------------------------------------------------------- sweep

/// `n` open cases, 1 % due, written straight into a fresh store; one sweep.
async fn sweep(n: usize) -> Result<Value> {
    let dir = std::env::temp_dir().join(format!(
        "pakn-bench-sweep-{}-{}",
        std::process::id(),
        Utc::now().timestamp_millis()
    ));
    std::fs::create_dir_all(&dir)?;
    let out = sweep_in(&dir, n).await;
    let _ = std::fs::remove_dir_all(&dir);
    out
}

async fn sweep_in(dir: &std::path::Path, n: usize) -> Result<Value> {
    // Tuesday 3 June 2025, 09:00 in Hanoi: a working morning.
    let t0 = chrono::DateTime::parse_from_rfc3339("2025-06-03T02:00:00Z")?.to_utc();
    let clock = ManualClock::new(t0);
    let opts = LocalOptions {
        queue_clock: Arc::new(clock.clone()),
        ..Default::default()
    };
    let b = LocalBackend::open_with(&dir.join("sweep.db"), opts)?;
    let pakn = b.pakn(Arc::new(clock.clone()), Arc::new(RefData::embedded()));
    // One real routed case is the template of them all.
    let citizen = Principal::new("bench-sweep", Role::Citizen, None)?;
    let report = pakn_api::commands::report(&json!({
        "category": "lighting", "title": "Đèn đường hỏng",
        "description": "Cột đèn trước số 5 Hàng Khay không sáng.",
        "location": {"lat": 21.0285, "lng": 105.8542, "ward_code": "00070"}
    }))
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let r = pakn
        .intake()
        .submit(&citizen, report, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    pakn_local::drain_once(&pakn, &b.queue).await;
    let template = b
        .store
        .get_case(&CaseId::parse(&r.id).context("the template case id")?)
        .await?
        .context("the template case")?;
    anyhow::ensure!(template.status == Status::Assigned, "template not routed");
    let next = template
        .next_action_at
        .context("a routed case has a next look")?;
    // The sweep runs just after the template's next look: due clones keep
    // its times, the others are shifted 30 days later.
    let now = next + CDuration::minutes(1);
    // A first sweep at that time does the day's once-a-day unit checks
    // (their reads follow the number of units) and the template's own
    // decision; the measured sweep then sees only the seeded cases.
    clock.set(now);
    let before_daily = b.store.read_count();
    pakn.sweep()
        .run(1000)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let daily_reads = b.store.read_count() - before_daily;
    let due_every = 100;
    let started = Instant::now();
    let mut i = 0usize;
    // The bulk write has no redraw on a collision: codes are drawn distinct here.
    let mut drawn = std::collections::HashSet::from([template.tracking_code.clone()]);
    while i < n {
        let chunk: Vec<Case> = (i..(i + 10_000).min(n))
            .map(|k| {
                let shift = if k % due_every == 0 {
                    CDuration::zero()
                } else {
                    CDuration::days(30)
                };
                clone_case(&template, k, shift, &mut drawn)
            })
            .collect();
        i += chunk.len();
        b.store.seed_cases(chunk).await?;
        progress(&format!("sweep: {i}/{n} open cases written"));
    }
    let seeded_s = started.elapsed().as_secs_f64();
    let reads_before = b.store.read_count();
    let t = Instant::now();
    let mut decided = 0;
    let mut looked = 0;
    // One sweep: passes of 1,000 (as `pakn serve`) until nothing is due.
    loop {
        let rep = pakn
            .sweep()
            .run(1000)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        decided += rep.decided;
        looked += rep.looked;
        if rep.looked < 1000 {
            break;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let reads = b.store.read_count() - reads_before;
    Ok(json!({
        "open_cases": n,
        "due": n.div_ceil(due_every),
        "looked": looked,
        "decided": decided,
        "seconds": (secs * 100.0).round() / 100.0,
        "store_reads": reads,
        "daily_check_reads": daily_reads,
        "seeding_seconds": seeded_s.round(),
    }))
}

/// A copy of `t` with a new id and a tracking code not in `drawn` (a real
/// one, which the public lookup would find), its times moved by `shift`.
fn clone_case(
    t: &Case,
    k: usize,
    shift: CDuration,
    drawn: &mut std::collections::HashSet<String>,
) -> Case {
    let mut c = t.clone();
    let at = t.received_at + shift;
    c.id = CaseId::new(at);
    c.tracking_code = loop {
        let code = ids::new_tracking_code(at);
        if drawn.insert(code.clone()) {
            break code;
        }
    };
    c.submitted_by = format!("bench-sweep-{}", k % 5000);
    c.received_at = at;
    c.ack_due = t.ack_due.map(|d| d + shift);
    c.resolve_due = t.resolve_due.map(|d| d + shift);
    c.next_action_at = t.next_action_at.map(|d| d + shift);
    for h in &mut c.holds {
        h.from += shift;
    }
    c
}

// ------------------------------------------------------------------- units

/// The units bench's JSON, on the emulator `AWS_ENDPOINT_URL` names or on a
/// `moto_server` started for it; else why not (the section's null reason).
async fn units(cfg: &pakn_config::Config, o: &Options) -> Result<Value, String> {
    let region = cfg.aws.region.as_deref().unwrap_or("ap-southeast-1");
    let failed = |e: anyhow::Error| format!("the units bench failed: {e:#}");
    if let Some(endpoint) = cfg.aws.endpoint_url.as_deref().filter(|e| !e.is_empty()) {
        crate::loopback::loopback_only(endpoint).map_err(|e| format!("AWS_ENDPOINT_URL: {e:#}"))?;
        return crate::bench_units::units_json(endpoint, region)
            .await
            .map_err(failed);
    }
    let Some(bin) = &o.moto_server else {
        return Err(
            "needs the AWS emulator: set PAKN_MOTO_SERVER=<path to moto_server> (the bench \
             starts it on 127.0.0.1 and stops it), or AWS_ENDPOINT_URL=http://127.0.0.1:<port> \
             of a running one; or run pakn bench lifecycle-units --endpoint http://127.0.0.1:<port>"
                .into(),
        );
    };
    let mut moto = Moto::start(bin)
        .await
        .map_err(|e| format!("could not start the emulator: {e:#}"))?;
    let out = crate::bench_units::units_json(&moto.endpoint, region).await;
    moto.stop().await;
    out.map_err(failed)
}

/// A `moto_server` of the bench's own on 127.0.0.1 (killed when dropped).
struct Moto {
    child: tokio::process::Child,
    endpoint: String,
}

impl Moto {
    async fn start(bin: &std::path::Path) -> Result<Moto> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut child = tokio::process::Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let up = http
                .get(format!("{endpoint}/moto-api/"))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok();
            if up {
                return Ok(Moto { child, endpoint });
            }
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("{} exited: {status}", bin.display());
            }
            if Instant::now() > deadline {
                anyhow::bail!("{} did not answer on {endpoint} within 60 s", bin.display());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn stop(&mut self) {
        let _ = self.child.kill().await;
    }
}

// ------------------------------------------------------------------ lambda

async fn lambda() -> Value {
    let dir = match std::env::current_exe() {
        Ok(p) => p.parent().map(|d| d.to_path_buf()).unwrap_or_default(),
        Err(e) => return json!({"null_reason": e.to_string()}),
    };
    let mut out = serde_json::Map::new();
    for bin in [
        "pakn-api",
        "pakn-router",
        "pakn-deadlines",
        "pakn-publisher",
    ] {
        let path = dir.join(bin);
        let v = if path.exists() {
            match cold_init(&path).await {
                Ok(v) => v,
                Err(e) => json!({"null_reason": format!("{e:#}")}),
            }
        } else {
            json!({"null_reason": format!(
                "{} not built: cargo build --release -p pakn-api -p pakn-router -p pakn-deadlines",
                path.display()
            )})
        };
        out.insert(bin.into(), v);
    }
    out.insert(
        "baseline".into(),
        json!("published Rust-on-Lambda baseline: about 14–16 ms init, 15 MB"),
    );
    Value::Object(out)
}

/// Start a bootstrap against a Runtime API that only waits for its first
/// poll: init time and resident memory then (median of 5 starts).
async fn cold_init(path: &std::path::Path) -> Result<Value> {
    let size = std::fs::metadata(path)?.len();
    let mut inits = Vec::new();
    let mut rss = Vec::new();
    // The API verifies both user pools' ID tokens: their keys are given
    // (on Lambda they are fetched from Cognito at cold start, which this
    // init does not include).
    let staff = pakn_testkit::jwt::TestPool::new(
        "https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_staff",
        "staff-client",
        "staff-key",
    );
    let citizen = pakn_testkit::jwt::TestPool::new(
        "https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_citizen",
        "citizen-client",
        "citizen-key",
    );
    for _ in 0..5 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?.to_string();
        let t = Instant::now();
        let mut child = tokio::process::Command::new(path)
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", &addr)
            .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .env("AWS_REGION", "ap-southeast-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            // Nothing is called at init; a closed port keeps it on this machine.
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("TABLE_NAME", "bench")
            .env("INTAKE_QUEUE_URL", "http://127.0.0.1:9/000000000000/bench")
            .env("TOPIC_ARN", "arn:aws:sns:ap-southeast-1:000000000000:bench")
            // As deployed (the publisher refuses to start without it).
            .env("PAKN_PUBLISH", "stream")
            .env("PAKN_STAFF_ISSUER", &staff.issuer)
            .env("PAKN_STAFF_CLIENT_ID", &staff.client_id)
            .env("PAKN_STAFF_JWKS", staff.jwks().to_string())
            .env("PAKN_CITIZEN_ISSUER", &citizen.issuer)
            .env("PAKN_CITIZEN_CLIENT_ID", &citizen.client_id)
            .env("PAKN_CITIZEN_JWKS", citizen.jwks().to_string())
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", path.display()))?;
        let accepted = tokio::time::timeout(Duration::from_secs(10), listener.accept()).await;
        let init = t.elapsed();
        let pid = child.id();
        let mem = pid.and_then(rss_kb);
        let _ = child.kill().await;
        match accepted {
            Ok(Ok(_)) => {
                inits.push(init.as_micros() as u64);
                if let Some(m) = mem {
                    rss.push(m);
                }
            }
            _ => anyhow::bail!("{} never polled the Runtime API", path.display()),
        }
    }
    inits.sort_unstable();
    rss.sort_unstable();
    Ok(json!({
        "bytes": size,
        "init_ms": ms(percentile(&inits, 50.0)),
        "rss_mb": (percentile(&rss, 50.0) as f64 / 1024.0 * 10.0).round() / 10.0,
    }))
}

fn rss_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
}

// ------------------------------------------------------------------- table

fn print_table(v: &Value) {
    let f = |x: &Value| match x {
        Value::Null => "null".to_string(),
        other => other.to_string(),
    };
    println!(
        "pakn bench — {} cores, {} GiB, {}, {}",
        v["machine"]["cores"], v["machine"]["memory_gib"], v["machine"]["durability"], v["date"]
    );
    println!("\n| section | figure | value |\n|---|---|---:|");
    for section in ["intake", "end_to_end", "sweep"] {
        if let Some(o) = v[section].as_object() {
            for (k, x) in o {
                println!("| {section} | {k} | {} |", f(x));
            }
        }
    }
    if let Some(o) = v["lambda"].as_object() {
        for (bin, x) in o {
            match x.as_object() {
                Some(m) => {
                    for (k, y) in m {
                        println!("| lambda {bin} | {k} | {} |", f(y));
                    }
                }
                None => println!("| lambda | {bin} | {} |", f(x)),
            }
        }
    }
    let u = &v["units"];
    if u.is_null() {
        println!(
            "| units | — | null ({}) |",
            v["units_null_reason"].as_str().unwrap_or("")
        );
    } else {
        for part in ["lifecycle", "reminder", "overdue"] {
            for k in ["wru", "rru"] {
                println!("| units | {part} {k} | {} |", f(&u[part][k]));
            }
        }
        for s in u["steps"].as_array().into_iter().flatten() {
            println!(
                "| units step ({}) | {} | {} WRU, {} RRU |",
                s["part"].as_str().unwrap_or(""),
                s["step"].as_str().unwrap_or(""),
                s["wru"],
                s["rru"]
            );
        }
    }
    println!("\n{} s in all", v["seconds_in_all"]);
}
