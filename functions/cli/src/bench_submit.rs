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
use pakn_core::ids::CaseId;
use pakn_core::ports::SystemClock;
use pakn_local::LocalBackend;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// `pakn serve`'s composition on a fresh database in a temp directory,
/// with its routing workers, served on a loopback port.
pub struct Local {
    pub base: String,
    pub secret: Vec<u8>,
    pub backend: LocalBackend,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    dir: std::path::PathBuf,
}

impl Local {
    pub async fn start(cfg: &Config) -> Result<Local> {
        let (stop, stop_rx) = watch::channel(false);
        let dir = std::env::temp_dir().join(format!(
            "pakn-bench-{}-{}",
            std::process::id(),
            Utc::now().timestamp_micros()
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
        let composed = Composed::build(&bench_cfg, Arc::new(SystemClock)).await?;
        // As `pakn serve`: its routing workers over the durable queue.
        let mut tasks = composed.spawn_routers(crate::serve::ROUTER_WORKERS, &stop_rx);
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
            console: Default::default(),
        };
        let mut stop_serving = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            let _ = axum::serve(listener, app(state))
                .with_graceful_shutdown(async move {
                    let _ = stop_serving.changed().await;
                })
                .await;
        }));
        Ok(Local {
            base,
            secret,
            backend,
            stop,
            tasks,
            dir,
        })
    }

    /// Stop serving and routing; remove the database.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
        drop(self.backend);
        let _ = std::fs::remove_dir_all(self.dir);
    }
}

/// What a load run got back.
pub struct Run {
    /// Latency (µs) and status of every answered request.
    pub answers: Vec<(u64, u16)>,
    /// The ids of accepted cases.
    pub ids: Vec<CaseId>,
    pub transport_errors: usize,
    pub elapsed: f64,
}

impl Run {
    pub fn accepted(&self) -> usize {
        self.answers.iter().filter(|(_, s)| *s == 202).count()
    }
    pub fn accepted_per_s(&self) -> f64 {
        self.accepted() as f64 / self.elapsed.max(1e-9)
    }
    /// Latency percentile of accepted requests (µs).
    pub fn percentile(&self, p: f64) -> u64 {
        let mut lat: Vec<u64> = self
            .answers
            .iter()
            .filter(|(_, s)| *s == 202)
            .map(|(l, _)| *l)
            .collect();
        lat.sort_unstable();
        percentile(&lat, p)
    }
}

/// `clients` concurrent clients, each sending one `POST /v1/cases` at a
/// time for `seconds` (own citizen token per 10 requests, a fresh
/// `Idempotency-Key` each time); with `rate`, paced to that many requests
/// a second in all instead of as fast as answers come.
pub async fn load(
    base: &str,
    secret: &[u8],
    clients: usize,
    seconds: u64,
    rate: Option<f64>,
) -> Result<Run> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .timeout(Duration::from_secs(30))
        .build()?;
    // Warm-up: one request, so connection set-up and first-page effects are not timed.
    let warm = pakn_api::token::mint(
        secret,
        "bench-warmup",
        Role::Citizen,
        None,
        chrono::Duration::hours(1),
        Utc::now(),
    );
    let (r, _) = submit(&http, base, &warm, &format!("warmup-{}", ulid_ish())).await?;
    if r != 202 {
        bail!("warm-up submission answered {r}, not 202 (is the token secret the server's?)");
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    // Each paced client sends every `clients / rate` seconds.
    let gap = rate.map(|r| Duration::from_secs_f64(clients as f64 / r.max(0.001)));
    let run_tag = ulid_ish();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, base, secret, run_tag) = (
            http.clone(),
            base.to_string(),
            secret.to_vec(),
            run_tag.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut out = Run {
                answers: Vec::new(),
                ids: Vec::new(),
                transport_errors: 0,
                elapsed: 0.0,
            };
            let mut n = 0u64;
            // Paced clients start spread over one gap.
            let mut next =
                started + gap.map_or(Duration::ZERO, |g| g.mul_f64(c as f64 / clients as f64));
            while Instant::now() < deadline {
                if gap.is_some() {
                    tokio::time::sleep_until(next.into()).await;
                    if Instant::now() >= deadline {
                        break;
                    }
                }
                n += 1;
                // A citizen per 10 submissions: the hourly quota
                // (policy.json `rate_limits`) is not what is measured.
                let token = pakn_api::token::mint(
                    &secret,
                    &format!("bench-{run_tag}-{c}-{}", n / 10),
                    Role::Citizen,
                    None,
                    chrono::Duration::hours(1),
                    Utc::now(),
                );
                let t = Instant::now();
                match submit(&http, &base, &token, &format!("{run_tag}-c{c}-{n}")).await {
                    Ok((st, id)) => {
                        out.answers.push((t.elapsed().as_micros() as u64, st));
                        out.ids.extend(id);
                    }
                    Err(_) => out.transport_errors += 1,
                }
                if let Some(g) = gap {
                    next += g;
                }
            }
            out
        }));
    }
    let mut all = Run {
        answers: Vec::new(),
        ids: Vec::new(),
        transport_errors: 0,
        elapsed: 0.0,
    };
    for t in tasks {
        let r = t.await?;
        all.answers.extend(r.answers);
        all.ids.extend(r.ids);
        all.transport_errors += r.transport_errors;
    }
    all.elapsed = started.elapsed().as_secs_f64();
    Ok(all)
}

fn ulid_ish() -> String {
    format!("{:x}", Utc::now().timestamp_micros())
}

pub async fn run(cfg: &Config, clients: usize, seconds: u64, url: Option<String>) -> Result<()> {
    let (base, secret, local) = match url {
        Some(u) => (
            u.trim_end_matches('/').to_string(),
            compose::local_secret(cfg)?,
            None,
        ),
        None => {
            let l = Local::start(cfg).await?;
            (l.base.clone(), l.secret.clone(), Some(l))
        }
    };
    let counts_before = local
        .as_ref()
        .map(|l| l.backend.store.group_commit_counts());
    let r = load(&base, &secret, clients, seconds, None).await?;
    let counts_after = local
        .as_ref()
        .map(|l| l.backend.store.group_commit_counts());
    let backlog = match &local {
        Some(l) => Some(l.backend.queue.depth().await?),
        None => None,
    };
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    for (_, st) in &r.answers {
        *by_status.entry(*st).or_default() += 1;
    }
    let ms = |us: u64| us as f64 / 1000.0;
    println!(
        "clients={clients} seconds={:.1} accepted={} ({:.0}/s) p50={:.2} ms p99={:.2} ms max={:.2} ms statuses={by_status:?} transport_errors={}",
        r.elapsed,
        r.accepted(),
        r.accepted_per_s(),
        ms(r.percentile(50.0)),
        ms(r.percentile(99.0)),
        ms(r.percentile(100.0)),
        r.transport_errors,
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
    if let Some(l) = local {
        l.stop().await;
    }
    Ok(())
}

async fn submit(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    key: &str,
) -> Result<(u16, Option<CaseId>)> {
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
    let bytes = r.bytes().await.unwrap_or_default();
    let id = (st == 202)
        .then(|| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .flatten()
        .and_then(|v| CaseId::parse(v["id"].as_str()?));
    Ok((st, id))
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
