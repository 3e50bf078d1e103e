//! `pakn bench`: measurements whose numbers go in BENCHMARKS.md (never in
//! tests). Everything runs on 127.0.0.1 only and is bounded in time and size.
//!
//! - `pakn bench lifecycle-units`: the DynamoDB write and read units (and
//!   the SQS/SNS requests) of one case lifecycle, driven through the real
//!   API, and of the sweep's reminder and overdue decisions, against a
//!   local AWS emulator ([`crate::bench_units`]).
//! - `pakn bench reads`: DynamoDB requests, read units and latency of every
//!   read endpoint, for 10 units and for 137, over 90 days of cases, on a
//!   local AWS emulator ([`crate::bench_reads`]).
//! - `pakn bench submit`: accepted submissions per second, latency and the
//!   SQLite group-commit ratio of the embedded backend ([`crate::bench_submit`]).
//! - `pakn bench` alone: every local benchmark briefly ([`crate::bench_all`]).

use crate::loopback::loopback_only;
use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use pakn_config::Config;

/// `pakn bench [SUBCOMMAND]`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub which: Option<Bench>,
    /// One JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Seconds of each load phase (intake, its ceiling, end to end), 1–120.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Concurrent clients of the intake phases, 1–256.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Open cases the sweep phase writes (1 % due), 1,000–5,000,000.
    #[arg(long, default_value_t = 1_000_000)]
    pub sweep_cases: usize,
    /// The `moto_server` the units section starts (on 127.0.0.1, a free
    /// port, stopped at the end) when AWS_ENDPOINT_URL names no emulator.
    #[arg(long, env = "PAKN_MOTO_SERVER")]
    pub moto_server: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
pub enum Bench {
    /// DynamoDB write/read units of one lifecycle (submit → route → accept → resolve → rate/close)
    /// and of the sweep's reminder and overdue decisions on a case left alone (clock moved),
    /// computed from the exact items each call writes and reads, against moto on 127.0.0.1.
    LifecycleUnits {
        /// The emulator (default AWS_ENDPOINT_URL); must be a 127.0.0.1/localhost address.
        #[arg(long)]
        endpoint: Option<String>,
        /// Also print every item written and every read, with sizes.
        #[arg(long)]
        detail: bool,
        /// Print JSON instead of a table: `{"lifecycle":{"wru","rru",…},"reminder":{"wru",…},
        /// "overdue":{"wru",…},"steps":[…]}`.
        #[arg(long)]
        json: bool,
    },
    /// DynamoDB requests, read units and latency of each read endpoint (stats, registration,
    /// scorecards, a unit's inspections, a case, a tracking lookup) for a city of 10 units and
    /// one of 137 with the same cases over 90 days, against moto on 127.0.0.1.
    Reads {
        /// The emulator (default AWS_ENDPOINT_URL); must be a 127.0.0.1/localhost address.
        #[arg(long)]
        endpoint: Option<String>,
        /// Cases over the 90 days (1,000 to 50,000).
        #[arg(long, default_value_t = 10_000)]
        cases: usize,
        /// Times each read is made (latency p50 and max over them), 1 to 20.
        #[arg(long, default_value_t = 5)]
        repeat: usize,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Accepted submissions per second on the embedded backend (in-process `pakn serve`
    /// composition on a temp database, loopback HTTP), with p50/p99 latency and group commit.
    Submit {
        /// Concurrent clients (each sends one request at a time), at most 256.
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Duration of the run, at most 120 s.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Load a running `pakn serve` instead (loopback only; token from PAKN_DB / PAKN_JWT_SECRET;
        /// group-commit counts are then not available).
        #[arg(long)]
        url: Option<String>,
    },
}

/// The emulator a bench talks to: `--endpoint`, else `AWS_ENDPOINT_URL`; loopback only.
fn emulator(cfg: &Config, endpoint: Option<String>, bench: &str) -> Result<String> {
    let endpoint = endpoint
        .or_else(|| cfg.aws.endpoint_url.clone())
        .unwrap_or_default();
    if endpoint.is_empty() {
        bail!(
            "pakn bench {bench} needs an emulator: --endpoint http://127.0.0.1:<port> \
             (start one with .venv/bin/moto_server -H 127.0.0.1 -p <port>)"
        );
    }
    loopback_only(&endpoint)?;
    Ok(endpoint)
}

pub fn run(rt: &tokio::runtime::Runtime, cfg: &Config, args: BenchArgs) -> Result<()> {
    let Some(b) = args.which else {
        if !(1..=120).contains(&args.seconds) {
            bail!("--seconds must be 1 to 120");
        }
        if !(1..=256).contains(&args.clients) {
            bail!("--clients must be 1 to 256");
        }
        if !(1_000..=5_000_000).contains(&args.sweep_cases) {
            bail!("--sweep-cases must be 1000 to 5000000");
        }
        let o = crate::bench_all::Options {
            json: args.json,
            seconds: args.seconds,
            clients: args.clients,
            sweep_cases: args.sweep_cases,
            moto_server: args.moto_server.filter(|p| !p.as_os_str().is_empty()),
        };
        return rt.block_on(crate::bench_all::run(cfg, o));
    };
    match b {
        Bench::Reads {
            endpoint,
            cases,
            repeat,
            json,
        } => {
            let endpoint = emulator(cfg, endpoint, "reads")?;
            if !(1_000..=50_000).contains(&cases) {
                bail!("--cases must be 1,000 to 50,000");
            }
            if !(1..=20).contains(&repeat) {
                bail!("--repeat must be 1 to 20");
            }
            let region = cfg.aws.region.as_deref().unwrap_or("ap-southeast-1");
            rt.block_on(crate::bench_reads::run(
                &endpoint, region, cases, repeat, json,
            ))
        }
        Bench::LifecycleUnits {
            endpoint,
            detail,
            json,
        } => {
            let endpoint = emulator(cfg, endpoint, "lifecycle-units")?;
            let region = cfg.aws.region.as_deref().unwrap_or("ap-southeast-1");
            rt.block_on(crate::bench_units::run(&endpoint, region, detail, json))
        }
        Bench::Submit {
            clients,
            seconds,
            url,
        } => {
            if !(1..=256).contains(&clients) {
                bail!("--clients must be 1 to 256");
            }
            if !(1..=120).contains(&seconds) {
                bail!("--seconds must be 1 to 120");
            }
            if let Some(u) = &url {
                loopback_only(u)?;
            }
            rt.block_on(crate::bench_submit::run(cfg, clients, seconds, url))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_pass() {
        for ok in [
            "http://127.0.0.1:5000",
            "http://localhost:8080/",
            "http://[::1]:9000",
            "http://127.0.0.2",
        ] {
            assert!(loopback_only(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://127.0.0.1:5000",
            "http://10.0.0.1:5000",
            "http://dynamodb.ap-southeast-1.amazonaws.com",
            "http://127.0.0.1.example.com:80",
        ] {
            assert!(loopback_only(bad).is_err(), "{bad}");
        }
    }
}
