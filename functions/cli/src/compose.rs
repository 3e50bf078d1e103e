//! The CLI's composition root: the one place that opens the SQLite backend
//! ([`open_local`]) or builds the AWS one ([`Composed::build`]) from the one
//! configuration, for `serve`, `bench`, `backup`, `export` and `redrive`.
//! (The Lambdas' composition root is `pakn_aws::pakn_from_env`.)

use crate::aws_worker;
use anyhow::{Context, Result};
use pakn_config::{AwsResources, Backend, Config};
use pakn_core::Pakn;
use pakn_core::ports::{Clock, SystemClock};
use pakn_core::refdata::RefData;
use pakn_local::LocalBackend;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// pakn on the configured backend, with what the commands need beside it.
pub struct Composed {
    pub pakn: Pakn,
    pub refdata: Arc<RefData>,
    pub parts: Parts,
}

/// The backend-specific pieces the commands use directly.
pub enum Parts {
    /// The embedded store and its durable queue.
    Local(LocalBackend),
    /// The SDK configuration and the resources pakn runs on.
    Aws {
        sdk: Box<aws_config::SdkConfig>,
        resources: AwsResources,
    },
}

impl Composed {
    /// Build pakn on `cfg.backend` with `clock`: opens the SQLite database,
    /// or checks the AWS variables (fail fast) and connects the SDK.
    pub async fn build(cfg: &Config, clock: Arc<dyn Clock>) -> Result<Composed> {
        let refdata = Arc::new(cfg.refdata()?);
        let (pakn, parts) = match cfg.backend {
            Backend::Sqlite => {
                let backend = open_local(cfg).await?;
                (backend.pakn(clock, refdata.clone()), Parts::Local(backend))
            }
            Backend::Aws => {
                let resources = cfg.require_aws()?;
                let sdk = aws_sdk(cfg).await;
                let pakn = pakn_aws::pakn_with(&sdk, &resources, refdata.clone(), clock);
                (
                    pakn,
                    Parts::Aws {
                        sdk: Box::new(sdk),
                        resources,
                    },
                )
            }
        };
        Ok(Composed {
            pakn,
            refdata,
            parts,
        })
    }

    /// What `pakn serve` says it runs on.
    pub fn describe(&self, cfg: &Config) -> String {
        match &self.parts {
            Parts::Local(_) => format!("SQLite {}", cfg.db.display()),
            Parts::Aws { resources, .. } => format!("DynamoDB table {}", resources.table_name),
        }
    }

    /// The routing workers beside the API: `local_workers` over the durable
    /// SQLite queue, or one poller of the intake queue on AWS (Lambda's SQS
    /// event source does that job for `pakn-router`).
    pub fn spawn_routers(
        &self,
        local_workers: usize,
        stop: &watch::Receiver<bool>,
    ) -> Vec<JoinHandle<()>> {
        match &self.parts {
            Parts::Local(backend) => (0..local_workers)
                .map(|_| {
                    tokio::spawn(pakn_local::run_router(
                        self.pakn.clone(),
                        backend.queue.clone(),
                        stop.clone(),
                    ))
                })
                .collect(),
            Parts::Aws { sdk, resources } => vec![tokio::spawn(aws_worker::poll_intake(
                self.pakn.clone(),
                aws_sdk_sqs::Client::new(sdk),
                resources.intake_queue_url.clone(),
                stop.clone(),
            ))],
        }
    }
}

/// Open the SQLite backend at `PAKN_DB` (WAL, `synchronous=FULL`): the only
/// `LocalBackend::open` of the CLI.
pub async fn open_local(cfg: &Config) -> Result<LocalBackend> {
    let path = cfg.db.clone();
    let mut opts = pakn_local::LocalOptions::default();
    if let Some(secs) = cfg.webhook_give_up {
        opts.webhooks.give_up_after = std::time::Duration::from_secs(secs);
    }
    tokio::task::spawn_blocking(move || LocalBackend::open_with(&path, opts))
        .await?
        .with_context(|| format!("opening the database {}", cfg.db.display()))
}

/// The SDK configuration from `AWS_REGION` / `AWS_ENDPOINT_URL` and the SDK's
/// own credential chain.
pub async fn aws_sdk(cfg: &Config) -> aws_config::SdkConfig {
    pakn_aws::sdk_config(&cfg.aws).await
}

/// The clock: real time, or `PAKN_CLOCK_SPEED` times faster (demos only).
pub fn clock(cfg: &Config) -> Arc<dyn Clock> {
    match cfg.clock_speed {
        Some(speed) => {
            tracing::warn!(
                speed,
                "PAKN_CLOCK_SPEED: the clock runs faster than real time (demo only)"
            );
            Arc::new(pakn_core::ports::ScaledClock::new(
                chrono::Utc::now(),
                speed,
            ))
        }
        None => Arc::new(SystemClock),
    }
}

/// The local token secret: PAKN_JWT_SECRET, or one generated once and
/// stored beside the database (`<db>.jwt-secret`, mode 0600).
pub fn local_secret(cfg: &Config) -> Result<Vec<u8>> {
    if let Some(s) = cfg.explicit_jwt_secret()? {
        return Ok(s.to_vec());
    }
    let path = cfg.jwt_secret_file();
    if let Ok(s) = std::fs::read_to_string(&path) {
        let s = s.trim().to_string();
        if s.len() >= pakn_config::MIN_JWT_SECRET_BYTES {
            return Ok(s.into_bytes());
        }
    }
    let secret: String = rand::random::<[u8; 32]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(secret.into_bytes())
}
