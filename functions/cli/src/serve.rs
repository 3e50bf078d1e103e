//! `pakn serve`: the API, the routing workers and the deadline scheduler in
//! one process — the same handlers the Lambda functions run.

use crate::compose::{self, Composed};
use anyhow::{Context, Result};
use pakn_api::{AppState, Auth, app};
use pakn_config::{Backend, Config};
use pakn_core::Pakn;
use pakn_core::ports::SystemClock;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Routing workers in `pakn serve` on SQLite (each handles one message at a time).
pub const ROUTER_WORKERS: usize = 2;
/// Cases the sweep looks at per pass (more are picked up by the next pass).
const SWEEP_LIMIT: usize = 1000;

pub async fn serve(cfg: Config) -> Result<()> {
    // Fail fast on a refused PAKN_DEV_LOGIN, before anything is opened.
    let dev_login = cfg.dev_login()?;
    let composed = Composed::build(&cfg, compose::clock(&cfg)).await?;
    let auth = Auth::Hs256 {
        secret: compose::local_secret(&cfg)?,
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = composed.spawn_routers(ROUTER_WORKERS, &stop_rx);
    if let compose::Parts::Local(backend) = &composed.parts {
        // Webhook deliveries left pending by the last run start again now.
        backend.notifier.resume_deliveries().await?;
    }
    let what = composed.describe(&cfg);
    let Composed { pakn, refdata, .. } = composed;
    tasks.push(tokio::spawn(scheduler(
        pakn.clone(),
        cfg.sweep_every,
        stop_rx.clone(),
    )));

    let listener = tokio::net::TcpListener::bind(cfg.addr)
        .await
        .with_context(|| format!("binding {} (set PAKN_ADDR to another address)", cfg.addr))?;
    let addr = listener.local_addr()?;
    let units = refdata.units.len();
    let cats = refdata.categories.len();
    eprintln!(
        "pakn serving on http://{addr}  ({what}; {units} units, {cats} categories, policy {})\n\
         Console:         http://{addr}/  (developer sign-in {})\n\
         API description: http://{addr}/openapi.json\n\
         Get a token:     pakn token --role citizen --sub cong-dan-1\n\
         \x20                pakn token --role official --sub can-bo-1 --unit ward:00070\n\
         (with cargo: cargo run -q --release -- token --role citizen --sub cong-dan-1)",
        refdata.policy.version,
        if dev_login {
            "on"
        } else {
            "off: PAKN_DEV_LOGIN"
        },
    );
    let console = pakn_api::console::ConsoleSettings {
        dev_login,
        hosted_ui: cfg
            .issuers
            .as_ref()
            .and_then(pakn_api::console::HostedUi::from_issuers),
        media_origin: pakn_api::console::media_origin(&cfg.aws),
    };
    let state = AppState {
        pakn,
        auth,
        console,
    };
    let shutdown = async move {
        wait_for_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
        let _ = stop_tx.send(true);
    };
    // The peer address is what the per-address limit of public routes keys on.
    let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await?;
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// The deadline sweep on a timer (EventBridge's job on AWS).
async fn scheduler(pakn: Pakn, every_secs: u64, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(every_secs));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                match pakn.sweep().run(SWEEP_LIMIT).await {
                    Ok(r) if r.decided > 0 || r.published > 0 => tracing::info!(?r, "sweep"),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "sweep failed; retrying on the next tick"),
                }
            }
            _ = stop.changed() => return,
        }
    }
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// `pakn provision`: the template's resources on any AWS endpoint: the
/// table, the intake queues and the topic, and (unless `no_media`) the
/// media bucket with the queue of its events (`media_bucket` names it
/// when `<prefix>-media` is taken: bucket names are global on AWS).
pub async fn provision(
    cfg: &Config,
    prefix: &str,
    no_media: bool,
    media_bucket: Option<String>,
) -> Result<()> {
    let sdk = compose::aws_sdk(cfg).await;
    let mut names = pakn_aws::Names::with_prefix(prefix);
    if !no_media {
        names = names.with_media(prefix);
        if let (Some(m), Some(b)) = (names.media.as_mut(), media_bucket) {
            m.bucket = b;
        }
    }
    let p = pakn_aws::provision(&sdk, &names)
        .await
        .context("provisioning")?;
    println!("export TABLE_NAME={}", p.table);
    println!("export INTAKE_QUEUE_URL={}", p.queue_url);
    println!("export INTAKE_DLQ_URL={}", p.dlq_url);
    println!("export TOPIC_ARN={}", p.topic_arn);
    if let Some(m) = &p.media {
        println!("export MEDIA_BUCKET={}", m.bucket);
        println!("export MEDIA_QUEUE_URL={}", m.queue_url);
        println!("export MEDIA_DLQ_URL={}", m.dlq_url);
    }
    Ok(())
}

/// `pakn redrive`: dead letters back to the intake queue.
pub async fn redrive(cfg: Config) -> Result<()> {
    match cfg.backend {
        Backend::Sqlite => {
            let backend = compose::open_local(&cfg).await?;
            let dead = backend.queue.dlq_list().await?;
            let n = backend.queue.redrive(usize::MAX).await?;
            println!(
                "moved {n} of {} dead-lettered messages back to the intake queue",
                dead.len()
            );
        }
        Backend::Aws => {
            let resources = cfg.require_aws()?;
            let dlq = cfg.require_dlq()?;
            let sdk = compose::aws_sdk(&cfg).await;
            let n = pakn_aws::redrive(
                &aws_sdk_sqs::Client::new(&sdk),
                dlq,
                &resources.intake_queue_url,
                usize::MAX,
            )
            .await?;
            println!("moved {n} dead-lettered messages back to the intake queue");
        }
    }
    Ok(())
}

/// `pakn replay-stream-failures --queue-url URL`: see `pakn_aws::replay`.
/// Fails (exit 1) when a message had to be kept, naming each.
pub async fn replay_stream_failures(cfg: Config, queue_url: &str, max: usize) -> Result<()> {
    let (pakn, store) = pakn_aws::pakn_and_store(&cfg).await?;
    let sdk = compose::aws_sdk(&cfg).await;
    let r = pakn_aws::replay::replay_failures(&pakn, &store, &sdk, queue_url, max).await?;
    println!(
        "{} failed batches read ({} found in the table, the stream no longer having them), {} done: {} outbox entries, {} published now, {} parked for the sweep's drain",
        r.messages, r.from_table, r.done, r.entries, r.sent, r.parked
    );
    if !r.kept.is_empty() {
        for k in &r.kept {
            eprintln!("kept on the queue: {k}");
        }
        anyhow::bail!("{} failed batches kept on the queue", r.kept.len());
    }
    Ok(())
}

/// `pakn backup DEST`: `VACUUM INTO` a new file (a consistent copy while serving).
pub async fn backup(cfg: Config, dest: std::path::PathBuf) -> Result<()> {
    if dest.exists() {
        anyhow::bail!("{} exists; choose a new file", dest.display());
    }
    let backend = compose::open_local(&cfg).await?;
    backend
        .store
        .backup(&dest)
        .await
        .with_context(|| format!("backing up to {}", dest.display()))?;
    println!("{} → {}", cfg.db.display(), dest.display());
    Ok(())
}

/// `pakn export`: every case as JSON lines, read the way an admin reads them.
pub async fn export(cfg: Config) -> Result<()> {
    let pakn = Composed::build(&cfg, Arc::new(SystemClock)).await?.pakn;
    let admin = pakn_core::auth::Principal::system("export");
    let mut filter = pakn_core::lookup::CaseFilter {
        page: pakn_core::lookup::Page {
            cursor: None,
            limit: 200,
        },
        ..Default::default()
    };
    let mut n = 0usize;
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    loop {
        let page = pakn.lookup().list(&admin, filter.clone()).await?;
        for c in page.cases {
            let view = pakn.lookup().get_case(&admin, c.id.as_str()).await?;
            serde_json::to_writer(&mut out, &view)?;
            out.write_all(b"\n")?;
            n += 1;
        }
        match page.next_cursor {
            Some(c) => filter.page.cursor = Some(c),
            None => break,
        }
    }
    out.flush()?;
    tracing::info!(cases = n, "exported");
    Ok(())
}
