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
        /// `MEDIA_QUEUE_URL`: the media bucket's events, checked by a poller.
        media_queue_url: Option<String>,
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
                let pakn = backend
                    .pakn(clock, refdata.clone())
                    .with_messenger(Arc::new(pakn_local::LocalMessenger::new(
                        cfg.citizen_webhook.as_deref(),
                    )?));
                let pakn = local_media(cfg, pakn)?;
                (pakn, Parts::Local(backend))
            }
            Backend::Aws => {
                let resources = cfg.require_aws()?;
                if resources.publish_from_stream {
                    tracing::warn!(
                        "PAKN_PUBLISH=stream: changes made here are published by pakn-publisher \
                         on the table's stream, not by this process (set PAKN_PUBLISH=inline on \
                         a table with no publisher)"
                    );
                }
                let sdk = aws_sdk(cfg).await;
                let pakn = pakn_aws::pakn_with(&sdk, &resources, refdata.clone(), clock);
                // Uploads in the media bucket when one is named (`MEDIA_BUCKET`).
                let pakn = match &cfg.aws.media_bucket {
                    Some(bucket) => pakn_aws::with_media(pakn, &sdk, bucket),
                    None => pakn,
                };
                let pakn = pakn_aws::with_push(
                    pakn,
                    &sdk,
                    cfg.aws.push_fcm_app_arn.as_deref(),
                    cfg.aws.push_apns_app_arn.as_deref(),
                );
                (
                    pakn,
                    Parts::Aws {
                        sdk: Box::new(sdk),
                        resources,
                        media_queue_url: cfg.aws.media_queue_url.clone(),
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
    /// SQLite queue, or one poller of the intake queue on AWS, and one of
    /// the media queue when it is configured (Lambda's SQS event sources
    /// do that job for `pakn-router`).
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
            Parts::Aws {
                sdk,
                resources,
                media_queue_url,
            } => {
                let sqs = aws_sdk_sqs::Client::new(sdk);
                let mut tasks = vec![tokio::spawn(aws_worker::poll_intake(
                    self.pakn.clone(),
                    sqs.clone(),
                    resources.intake_queue_url.clone(),
                    stop.clone(),
                ))];
                if let Some(url) = media_queue_url {
                    tasks.push(tokio::spawn(aws_worker::poll_media(
                        self.pakn.clone(),
                        sqs,
                        url.clone(),
                        stop.clone(),
                    )));
                }
                tasks
            }
        }
    }
}

/// Open the SQLite backend at `PAKN_DB` (WAL, `synchronous=FULL`): the only
/// Uploads kept under `PAKN_MEDIA_DIR`, each checked by a worker task as
/// soon as its bytes are on disk (off the request path); files put before
/// a crash and never checked are checked at start.
pub fn local_media(cfg: &Config, pakn: pakn_core::Pakn) -> Result<pakn_core::Pakn> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let send = tx.clone();
    let blobs = pakn_local::LocalBlobs::new(&cfg.media_dir, local_secret(cfg)?)?.on_received(
        Arc::new(move |id| {
            let _ = send.send(id);
        }),
    );
    if let Ok(dir) = std::fs::read_dir(blobs.dir().join("raw")) {
        for e in dir.flatten() {
            if let Some(id) = e.file_name().to_str().filter(|n| !n.ends_with(".part")) {
                let _ = tx.send(id.to_string());
            }
        }
    }
    let pakn = pakn.with_blobs(Arc::new(blobs));
    let worker = pakn.clone();
    tokio::spawn(async move {
        while let Some(id) = rx.recv().await {
            if let Err(e) = pakn_media::process_upload(&*worker.uploads, &*worker.blobs, &id).await
            {
                tracing::warn!(upload = %id, error = %e, "checking an upload failed; it stays pending");
            }
        }
    });
    Ok(pakn)
}

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
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let secret: String = rand::random::<[u8; 32]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    // Created at once with O_EXCL and mode 0600: never through a symlink,
    // never readable by others even for an instant.
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    match o.open(&path) {
        Ok(mut f) => {
            use std::io::Write;
            f.write_all(secret.as_bytes())
                .and_then(|_| f.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(secret.into_bytes())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_secret_file(&path),
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

/// An existing secret file is trusted only if it is a regular file (not a
/// symlink), owned by this user, and readable by no one else.
fn read_secret_file(path: &std::path::Path) -> Result<Vec<u8>> {
    let meta =
        std::fs::symlink_metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.file_type().is_symlink() || !meta.is_file() {
        anyhow::bail!(
            "{} is not a regular file (a symlink?); remove it and pakn will create a new secret",
            path.display()
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            anyhow::bail!(
                "{} belongs to another user (uid {}); remove it or set PAKN_JWT_SECRET",
                path.display(),
                meta.uid()
            );
        }
        if meta.mode() & 0o077 != 0 {
            anyhow::bail!(
                "{} is readable by group or others (mode {:o}); run chmod 600 on it",
                path.display(),
                meta.mode() & 0o777
            );
        }
    }
    let s = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let s = s.trim().to_string();
    if s.len() < pakn_config::MIN_JWT_SECRET_BYTES {
        anyhow::bail!(
            "{} holds a secret shorter than {} bytes; remove it and pakn will create a new one",
            path.display(),
            pakn_config::MIN_JWT_SECRET_BYTES
        );
    }
    Ok(s.into_bytes())
}

#[cfg(all(test, unix))]
mod secret_tests {
    use super::read_secret_file;
    use std::os::unix::fs::PermissionsExt;

    fn dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!(
            "pakn-secret-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn only_a_private_regular_file_of_ours_is_trusted() {
        let d = dir();
        let good = d.join("good");
        std::fs::write(&good, "a".repeat(64)).unwrap();
        std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_secret_file(&good).unwrap().len(), 64);

        let open = d.join("open");
        std::fs::write(&open, "b".repeat(64)).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_secret_file(&open).unwrap_err().to_string();
        assert!(e.contains("readable by group or others"), "{e}");

        let link = d.join("link");
        std::os::unix::fs::symlink(&good, &link).unwrap();
        let e = read_secret_file(&link).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");

        let short = d.join("short");
        std::fs::write(&short, "c").unwrap();
        std::fs::set_permissions(&short, std::fs::Permissions::from_mode(0o600)).unwrap();
        let e = read_secret_file(&short).unwrap_err().to_string();
        assert!(e.contains("shorter than"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
