//! `pakn`: run pakn on one machine, mint local tokens, provision AWS
//! resources, move dead letters back, replay the stream's failed batches.

mod apikey;
mod aws_worker;
mod bench;
mod bench_all;
mod bench_reads;
mod bench_submit;
mod bench_units;
mod compose;
mod loopback;
mod serve;
mod subscribe;
mod wards;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use pakn_config::{Backend, Config};
use pakn_core::auth::Role;
use pakn_core::unit::UnitCode;

#[derive(Parser)]
#[command(
    name = "pakn",
    version,
    about = "pakn — citizens' reports to the unit that must act, on time"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API, the routing workers and the deadline scheduler in one process (default).
    Serve {
        /// sqlite (default, embedded) or aws (DynamoDB/SQS/SNS, or moto via AWS_ENDPOINT_URL).
        #[arg(long, value_enum)]
        backend: Option<Backend>,
    },
    /// Print a bearer token for local use (HS256, secret from PAKN_JWT_SECRET or beside PAKN_DB).
    Token {
        #[arg(long)]
        role: String,
        #[arg(long)]
        sub: String,
        /// The official's unit, e.g. ward:00070.
        #[arg(long)]
        unit: Option<String>,
        /// Lifetime in hours.
        #[arg(long, default_value_t = 24)]
        ttl_hours: i64,
    },
    /// Create the DynamoDB table, queues, SNS topic and media bucket on an AWS endpoint (AWS_ENDPOINT_URL for an emulator).
    Provision {
        /// Name prefix, e.g. pakn-dev.
        #[arg(long, default_value = "pakn-dev")]
        prefix: String,
        /// Skip the media bucket and its queues (no uploads).
        #[arg(long)]
        no_media: bool,
        /// The media bucket's name, when `<prefix>-media` is taken (S3 names are global).
        #[arg(long)]
        media_bucket: Option<String>,
    },
    /// Move dead-lettered intake messages back to the intake queue.
    Redrive {
        #[arg(long, value_enum)]
        backend: Option<Backend>,
    },
    /// Publish the table-stream batches pakn-publisher gave up on: read the
    /// failure queue's messages, the records they name back from the
    /// stream (or, after its 24 hours, their events from the table by the
    /// batch's arrival times), and hand them to the publisher's handler; a
    /// message is deleted once its batch is published or parked.
    ReplayStreamFailures {
        /// The publisher's failure queue (the stack's `PublisherFailureQueue`).
        #[arg(long)]
        queue_url: String,
        /// Messages to take at most.
        #[arg(long, default_value_t = 1000)]
        max: usize,
    },
    /// Copy the SQLite database (consistent, while pakn serves) to a new file.
    Backup {
        /// The copy to write (must not exist).
        dest: std::path::PathBuf,
    },
    /// Write every case (full view, one JSON object per line) to standard output.
    Export {
        #[arg(long, value_enum)]
        backend: Option<Backend>,
    },
    /// Subscribe an agency's endpoint to the notifications its filter selects.
    Subscribe(subscribe::SubscribeArgs),
    /// The subscriptions (`pakn subscriptions list`).
    #[command(subcommand)]
    Subscriptions(subscribe::Subscriptions),
    /// Remove a subscription by the id `pakn subscribe` printed.
    Unsubscribe {
        id: String,
        #[arg(long, value_enum)]
        backend: Option<Backend>,
    },
    /// Client applications' API keys (Open311): create (printed once), list, revoke.
    #[command(subcommand)]
    Apikey(apikey::ApiKeyCommand),
    /// Ward boundaries (GeoJSON): load a new version, show the current one.
    #[command(subcommand)]
    Wards(wards::WardsCommand),
    /// Measurements for BENCHMARKS.md (loopback only, bounded). With no
    /// subcommand: every local benchmark, briefly (`--json` for one object).
    Bench(bench::BenchArgs),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve { backend: None });
    // The configuration, read once for the whole process; `--backend` wins
    // over PAKN_BACKEND, and `backup` is SQLite-only.
    let backend_flag = match &command {
        Command::Serve { backend }
        | Command::Redrive { backend }
        | Command::Export { backend }
        | Command::Unsubscribe { backend, .. } => *backend,
        Command::Subscribe(a) => a.backend,
        Command::Subscriptions(s) => s.backend(),
        Command::Apikey(a) => a.backend(),
        Command::Wards(w) => w.backend(),
        Command::Backup { .. } => Some(Backend::Sqlite),
        Command::ReplayStreamFailures { .. } => Some(Backend::Aws),
        Command::Token { .. } | Command::Provision { .. } | Command::Bench(_) => None,
    };
    let cfg = Config::from_env(backend_flag)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match command {
        Command::Serve { .. } => {
            init_tracing(&cfg);
            rt.block_on(serve::serve(cfg))
        }
        Command::Token {
            role,
            sub,
            unit,
            ttl_hours,
        } => {
            let role = Role::parse(&role).with_context(|| {
                format!(
                    "unknown role '{role}'; one of: {}",
                    Role::ALL
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            let unit = unit
                .map(|u| UnitCode::try_from(u).map_err(anyhow::Error::msg))
                .transpose()?;
            if role.needs_unit() && unit.is_none() {
                anyhow::bail!(
                    "--role {} needs --unit (e.g. --unit ward:00070)",
                    role.as_str()
                );
            }
            if let Some(u) = &unit {
                if cfg.refdata()?.unit(u).is_none() {
                    anyhow::bail!("unknown unit {u}; see GET /v1/units");
                }
            }
            let secret = compose::local_secret(&cfg)?;
            let token = pakn_api::token::mint(
                &secret,
                &sub,
                role,
                unit.as_ref(),
                chrono::Duration::hours(ttl_hours.clamp(1, 24 * 30)),
                chrono::Utc::now(),
            );
            println!("{token}");
            Ok(())
        }
        Command::Provision {
            prefix,
            no_media,
            media_bucket,
        } => {
            init_tracing(&cfg);
            rt.block_on(serve::provision(&cfg, &prefix, no_media, media_bucket))
        }
        Command::Redrive { .. } => {
            init_tracing(&cfg);
            rt.block_on(serve::redrive(cfg))
        }
        Command::ReplayStreamFailures { queue_url, max } => {
            init_tracing(&cfg);
            rt.block_on(serve::replay_stream_failures(cfg, &queue_url, max))
        }
        Command::Bench(b) => bench::run(&rt, &cfg, b),
        Command::Backup { dest } => {
            init_tracing(&cfg);
            rt.block_on(serve::backup(cfg, dest))
        }
        Command::Export { .. } => {
            init_tracing(&cfg);
            rt.block_on(serve::export(cfg))
        }
        Command::Subscribe(a) => rt.block_on(subscribe::subscribe(&cfg, a)),
        Command::Subscriptions(_) => rt.block_on(subscribe::list(&cfg)),
        Command::Unsubscribe { id, .. } => rt.block_on(subscribe::unsubscribe(&cfg, &id)),
        Command::Apikey(a) => rt.block_on(apikey::run(&cfg, a)),
        Command::Wards(w) => rt.block_on(wards::run(&cfg, w)),
    }
}

/// Logs on standard error, filtered by PAKN_LOG (`info` when it does not parse).
fn init_tracing(cfg: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&cfg.log).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only on a terminal: a log file or a pipe gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}
