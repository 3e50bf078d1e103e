//! `pakn bench submit`: accepted submissions per second on the embedded
//! backend, with latency percentiles and the group-commit ratio.
//!
//! By default the bench composes exactly what `pakn serve` runs — the same
//! `compose::Composed::build` (WAL, `synchronous=FULL`), the same axum app,
//! the same routing workers — on a fresh database in a temp directory, and
//! loads it over real loopback HTTP, so it can read
//! `SqliteStore::group_commit_counts()` (transactions vs write jobs, which
//! include the routing workers' writes) before and after the run. With
//! `--url` it loads a running `pakn serve` instead (no counts then).
//!
//! Each client sends one `POST /v1/cases` at a time (own citizen token, a
//! fresh `Idempotency-Key` each time); only `202` answers count as accepted.

use crate::compose::{self, Composed, Parts};
use anyhow::{Context, Result, bail};
use chrono::Utc;
use pakn_api::{AppState, Auth, app};
use pakn_config::{Backend, Config};
use pakn_core::auth::Role;
use pakn_core::ports::SystemClock;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

struct ClientResult {
    /// Latency of every answered request (µs), and its status.
    answers: Vec<(u64, u16)>,
    transport_errors: usize,
}

pub async fn run(cfg: &Config, clients: usize, seconds: u64, url: Option<String>) -> Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let mut tmp = None;
    let (base, secret, backend) = match url {
        Some(u) => (
            u.trim_end_matches('/').to_string(),
            compose::local_secret(cfg)?,
            None,
        ),
        None => {
            let dir = std::env::temp_dir().join(format!(
                "pakn-bench-{}-{}",
                std::process::id(),
                Utc::now().timestamp_millis()
            ));
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            // `pakn serve`'s composition on a fresh database, the embedded
            // reference data and real time, whatever the environment says.
            let bench_cfg = Config {
                backend: Backend::Sqlite,
                db: dir.join("pakn.db"),
                clock_speed: None,
                refdata_dir: None,
                ..cfg.clone()
            };
            tmp = Some(dir);
            let composed = Composed::build(&bench_cfg, Arc::new(SystemClock)).await?;
            // As `pakn serve`: its routing workers over the durable queue.
            tasks.extend(composed.spawn_routers(crate::serve::ROUTER_WORKERS, &stop_rx));
            let Composed { pakn, parts, .. } = composed;
            let Parts::Local(backend) = parts else {
                unreachable!("bench_cfg is the SQLite backend")
            };
            let secret: Vec<u8> = rand::random::<[u8; 32]>()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
                .into_bytes();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let base = format!("http://{}", listener.local_addr()?);
            let state = AppState {
                pakn,
                auth: Auth::Hs256 {
                    secret: secret.clone(),
                },
            };
            let mut stop = stop_rx.clone();
            tasks.push(tokio::spawn(async move {
                let _ = axum::serve(listener, app(state))
                    .with_graceful_shutdown(async move {
                        let _ = stop.changed().await;
                    })
                    .await;
            }));
            (base, secret, Some(backend))
        }
    };

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .timeout(Duration::from_secs(30))
        .build()?;
    // Warm-up: one request, so connection set-up and first-page effects are not timed.
    let warm = pakn_api::token::mint(
        &secret,
        "bench-warmup",
        Role::Citizen,
        None,
        chrono::Duration::hours(1),
        Utc::now(),
    );
    let r = submit(&http, &base, &warm, "warmup").await?;
    if r != 202 {
        bail!("warm-up submission answered {r}, not 202 (is the token secret the server's?)");
    }

    let counts_before = backend.as_ref().map(|b| b.store.group_commit_counts());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut load = Vec::new();
    for c in 0..clients {
        let http = http.clone();
        let base = base.clone();
        let secret = secret.clone();
        load.push(tokio::spawn(async move {
            let mut out = ClientResult {
                answers: Vec::new(),
                transport_errors: 0,
            };
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                // A citizen per 10 submissions: the hourly quota
                // (policy.json `rate_limits`) is not what is measured.
                let token = pakn_api::token::mint(
                    &secret,
                    &format!("bench-citizen-{c}-{}", n / 10),
                    Role::Citizen,
                    None,
                    chrono::Duration::hours(1),
                    Utc::now(),
                );
                let t = Instant::now();
                match submit(&http, &base, &token, &format!("c{c}-{n}")).await {
                    Ok(st) => out.answers.push((t.elapsed().as_micros() as u64, st)),
                    Err(_) => out.transport_errors += 1,
                }
            }
            out
        }));
    }
    let mut answers = Vec::new();
    let mut transport_errors = 0;
    for l in load {
        let r = l.await?;
        answers.extend(r.answers);
        transport_errors += r.transport_errors;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let counts_after = backend.as_ref().map(|b| b.store.group_commit_counts());
    let backlog = match &backend {
        Some(b) => Some(b.queue.depth().await?),
        None => None,
    };

    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    for (_, st) in &answers {
        *by_status.entry(*st).or_default() += 1;
    }
    let accepted = by_status.get(&202).copied().unwrap_or(0);
    let mut lat: Vec<u64> = answers
        .iter()
        .filter(|(_, s)| *s == 202)
        .map(|(l, _)| *l)
        .collect();
    lat.sort_unstable();
    let ms = |us: u64| us as f64 / 1000.0;
    println!(
        "clients={clients} seconds={elapsed:.1} accepted={accepted} ({:.0}/s) p50={:.2} ms p99={:.2} ms max={:.2} ms statuses={by_status:?} transport_errors={transport_errors}",
        accepted as f64 / elapsed,
        ms(percentile(&lat, 50.0)),
        ms(percentile(&lat, 99.0)),
        ms(lat.last().copied().unwrap_or(0)),
    );
    if let (Some((b0, j0)), Some((b1, j1))) = (counts_before, counts_after) {
        let (b, j) = (b1 - b0, j1 - j0);
        println!(
            "group commit during the run: {b} SQLite transactions for {j} write jobs ({:.2} jobs per transaction; jobs include routing)",
            if b > 0 { j as f64 / b as f64 } else { 0.0 }
        );
    }
    if let Some(d) = backlog {
        println!("intake queue at the end of the run: {d} accepted cases not yet routed");
    }

    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
    }
    drop(backend);
    if let Some(dir) = tmp {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(())
}

async fn submit(http: &reqwest::Client, base: &str, token: &str, key: &str) -> Result<u16> {
    let body = json!({
        "kind": "field",
        "category": "lighting",
        "title": "Đèn đường hỏng",
        "description": "Ba cột đèn trên phố Hàng Bài không sáng từ tối qua.",
        "urgency": "normal",
        "location": {"lat": 21.0245, "lng": 105.8525, "ward_code": "00070"},
        "channel": "app",
        "contact": {"name": "Nguyễn Văn A", "phone": "0912 345 678"}
    });
    let r = http
        .post(format!("{base}/v1/cases"))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await?;
    let st = r.status().as_u16();
    let _ = r.bytes().await;
    Ok(st)
}

/// Sorted latencies (µs) → the p-th percentile (nearest rank).
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
    }
}
