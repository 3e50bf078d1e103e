//! pakn-local: the embedded default backend. One SQLite file holds the case
//! store, the intake queue and the local notifier's records; no AWS at all.
//!
//! # What the CLI calls
//!
//! ```text
//! // Open (create + migrate) the database and start its writer thread.
//! // Synchronous: call it once at startup (or inside spawn_blocking).
//! let backend = pakn_local::LocalBackend::open(&config.db)?;          // -> Result<LocalBackend, StoreError>
//! let pakn: pakn_core::Pakn = backend.pakn(clock, refdata);            // (Arc<dyn Clock>, Arc<RefData>)
//!
//! // The routing worker, until shutdown is set to true:
//! let (stop, stopped) = tokio::sync::watch::channel(false);
//! tokio::spawn(pakn_local::run_router(pakn.clone(), backend.queue.clone(), stopped));
//!
//! // One-shot draining (tests, `pakn` commands): how many messages were acknowledged.
//! let n: usize = pakn_local::drain_once(&pakn, &backend.queue).await;
//!
//! // Dead letters (`pakn redrive`):
//! backend.queue.dlq_list().await?;        // -> Vec<DeadLetter>
//! backend.queue.redrive(limit).await?;    // -> usize moved back
//!
//! // Webhooks and what was published:
//! backend.notifier.subscribe("https://ward.example/hook", json!({"unit": ["ward:00070"]})).await?; // -> id + secret
//! backend.notifier.subscriptions().await?;  // -> Vec<Subscription> (last success / failure)
//! backend.notifier.published(after_seq, limit).await?;  // -> Vec<Published>
//!
//! // `pakn backup`:
//! backend.store.backup(Path::new("copy.db")).await?;
//! ```
//!
//! The tuple form `pakn_local::open(path) -> Result<(Arc<SqliteStore>, LocalQueue, Arc<LocalNotifier>), StoreError>`
//! is the same thing unpacked.
//!
//! # Durability and throughput
//!
//! WAL mode with `synchronous=FULL`: a write is answered only after its
//! transaction is on disk, so a `2xx` survives a power cut. One writer thread
//! batches concurrent writes into one transaction (group commit; see
//! `writer`), so many requests share one fsync. The intake queue message of
//! a new case is written in the case's own transaction: a stored case is
//! always on the queue, and a queued id always names a stored case.

mod aggregates;
mod apikeys;
mod blobs;
mod cases;
mod db;
mod followers;
mod messenger;
mod notices;
mod notifier;
mod privacy;
mod queue;
mod records;
mod store;
mod wards;
mod webhooks;
mod worker;
mod writer;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;

pub use blobs::{LocalBlobs, OnReceived};
pub use messenger::LocalMessenger;
pub use notifier::{Attempt, LocalNotifier, NewSubscription, Published, Subscription};
pub use queue::{DEFAULT_MAX_RECEIVES, DeadLetter, LocalQueue, Received};
pub use store::SqliteStore;
pub use webhooks::{WebhookPolicy, signature};
pub use worker::{
    VISIBILITY_TIMEOUT, backoff, drain_once, handle, handle_batch, route, run_router,
};
pub use writer::MAX_BATCH;

use pakn_core::Pakn;
use pakn_core::ports::{Clock, StoreError, SystemClock};
use pakn_core::refdata::RefData;
use std::path::Path;
use std::sync::Arc;

/// Settings of the embedded backend.
#[derive(Clone)]
pub struct LocalOptions {
    /// Infrastructure time: queue visibility, `sent_at`, `published_at`.
    /// The system clock, unless a test drives the queue by hand.
    pub queue_clock: Arc<dyn Clock>,
    /// Deliveries before a message goes to the dead letters (SQS `maxReceiveCount`).
    pub max_receives: u32,
    /// Webhook attempts, retries and give-up.
    pub webhooks: WebhookPolicy,
}

impl Default for LocalOptions {
    fn default() -> Self {
        LocalOptions {
            queue_clock: Arc::new(SystemClock),
            max_receives: DEFAULT_MAX_RECEIVES,
            webhooks: WebhookPolicy::default(),
        }
    }
}

/// The three adapters over one SQLite file.
#[derive(Clone)]
pub struct LocalBackend {
    pub store: Arc<SqliteStore>,
    pub queue: LocalQueue,
    pub notifier: Arc<LocalNotifier>,
}

impl LocalBackend {
    /// Open with the default options (system clock, 5 receives).
    pub fn open(path: &Path) -> Result<LocalBackend, StoreError> {
        Self::open_with(path, LocalOptions::default())
    }

    pub fn open_with(path: &Path, opts: LocalOptions) -> Result<LocalBackend, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(StoreError::other)?;
        }
        private_file(path)?;
        let db = Arc::new(writer::Db::open(path)?);
        Ok(LocalBackend {
            store: Arc::new(SqliteStore::new(db.clone(), opts.queue_clock.clone())),
            queue: LocalQueue::new(db.clone(), opts.queue_clock.clone(), opts.max_receives),
            notifier: Arc::new(LocalNotifier::new(db, opts.queue_clock, opts.webhooks)?),
        })
    }

    /// The application over this backend.
    /// Citizens' notices are logged only ([`LocalMessenger`] without a
    /// webhook) until the caller sets another messenger.
    pub fn pakn(&self, clock: Arc<dyn Clock>, refdata: Arc<RefData>) -> Pakn {
        let logged = LocalMessenger::new(None).expect("a messenger without a webhook");
        Pakn::new(self.store.clone(), self.notifier.clone(), clock, refdata)
            .with_messenger(Arc::new(logged))
    }
}

/// Create `path` empty and readable by its owner only (0600) unless it
/// exists. SQLite gives the `-wal` and `-shm` files the database file's
/// permissions, so personal data never lands in a world-readable file
/// whatever the umask.
pub fn private_file(path: &Path) -> Result<(), StoreError> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    match o.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::other(e)),
    }
}

/// [`LocalBackend::open`], unpacked.
pub fn open(path: &Path) -> Result<(Arc<SqliteStore>, LocalQueue, Arc<LocalNotifier>), StoreError> {
    let b = LocalBackend::open(path)?;
    Ok((b.store, b.queue, b.notifier))
}
