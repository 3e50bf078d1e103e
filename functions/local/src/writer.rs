//! Group commit and the read pool.
//!
//! One dedicated thread owns the only write connection. Writers hand it a job
//! (a closure over the connection) through a channel and await a oneshot
//! answer. The thread takes whatever jobs are waiting (up to [`MAX_BATCH`]),
//! runs them inside ONE transaction, each in its own `SAVEPOINT` so that a
//! job that fails (a version conflict, a taken tracking code) rolls back only
//! its own writes, then `COMMIT`s once and answers every job. With
//! `synchronous=FULL` the fsync of that one commit is shared by the whole
//! batch: under load, throughput grows with the batch instead of being
//! capped at one fsync per request. A job's answer is sent only after the
//! commit is durable (a failed job is answered at once: it wrote nothing).
//!
//! Reads run on a small pool of read-only connections (WAL readers never
//! block the writer) through `spawn_blocking`, so the async runtime is
//! never blocked by SQLite.

use crate::db::{self, classify};
use pakn_core::ports::{StoreError, StoreResult};
use rusqlite::Connection;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// At most this many jobs share one transaction.
pub const MAX_BATCH: usize = 64;
/// Idle read connections kept open.
const READ_POOL: usize = 4;

/// A unit of work for the writer thread.
trait Job: Send {
    /// Run inside the job's savepoint; `true` if it succeeded (keep its writes).
    fn run(&mut self, conn: &Connection) -> bool;
    /// Send the answer: the job's own result, or `batch_error` if the batch failed.
    fn answer(self: Box<Self>, batch_error: Option<StoreError>);
}

struct TypedJob<R, F> {
    f: Option<F>,
    out: Option<StoreResult<R>>,
    tx: oneshot::Sender<StoreResult<R>>,
}

impl<R, F> Job for TypedJob<R, F>
where
    R: Send,
    F: FnOnce(&Connection) -> StoreResult<R> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(f) = self.f.take() else { return false };
        let out = catch_unwind(AssertUnwindSafe(|| f(conn)))
            .unwrap_or_else(|_| Err(StoreError::msg("a write job panicked (rolled back)")));
        let ok = out.is_ok();
        self.out = Some(out);
        ok
    }

    fn answer(self: Box<Self>, batch_error: Option<StoreError>) {
        let res = match (self.out, batch_error) {
            // The job's own failure is the truest answer.
            (Some(Err(e)), _) => Err(e),
            (_, Some(e)) => Err(e),
            (Some(ok), None) => ok,
            (None, None) => Err(StoreError::msg("write job was not run")),
        };
        // The caller may have gone away (request cancelled): nothing to do.
        let _ = self.tx.send(res);
    }
}

/// Handle on the database: the writer thread's channel and the read pool.
pub struct Db {
    /// Signalled after a write that put messages on the local queue, so an
    /// idle router wakes at once instead of at its next poll.
    pub(crate) queued: tokio::sync::Notify,
    jobs: mpsc::Sender<Box<dyn Job>>,
    readers: Arc<Readers>,
    path: PathBuf,
    counters: Arc<Counters>,
}

/// How well group commit is doing: jobs per transaction = `jobs / batches`.
#[derive(Debug, Default)]
pub struct Counters {
    pub batches: AtomicU64,
    pub jobs: AtomicU64,
    /// Reads run on the read pool.
    pub reads: AtomicU64,
}

struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Db {
    /// Open (creating and migrating) the database and start the writer thread.
    pub fn open(path: &Path) -> StoreResult<Db> {
        let mut conn = db::connect(path, false)?;
        db::migrate(&mut conn)?;
        let (tx, rx) = mpsc::channel::<Box<dyn Job>>();
        let counters = Arc::new(Counters::default());
        let c = counters.clone();
        std::thread::Builder::new()
            .name("pakn-sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx, &c))
            .map_err(StoreError::other)?;
        let readers = Arc::new(Readers {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        });
        Ok(Db {
            queued: tokio::sync::Notify::new(),
            jobs: tx,
            readers,
            path: path.to_path_buf(),
            counters,
        })
    }

    /// (write transactions run, write jobs run) since open.
    pub fn group_commit_counts(&self) -> (u64, u64) {
        (
            self.counters.batches.load(Ordering::Relaxed),
            self.counters.jobs.load(Ordering::Relaxed),
        )
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Run `f` in the next group-commit batch; answers once it is durable.
    pub async fn write<R, F>(&self, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(TypedJob {
            f: Some(f),
            out: None,
            tx,
        });
        self.jobs.send(job).map_err(|_| {
            StoreError::Unavailable(Box::new(pakn_core::error::Message(
                "the SQLite writer has stopped".into(),
            )))
        })?;
        rx.await
            .map_err(|_| StoreError::msg("the SQLite writer dropped a job without answering"))?
    }

    /// Reads run since open.
    pub fn read_count(&self) -> u64 {
        self.counters.reads.load(Ordering::Relaxed)
    }

    /// Run `f` on a read connection, off the async runtime.
    pub async fn read<R, F>(&self, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        self.counters.reads.fetch_add(1, Ordering::Relaxed);
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = readers.take()?;
            let out = f(&conn);
            readers.give_back(conn);
            out
        })
        .await
        .map_err(StoreError::other)?
    }
}

impl Readers {
    fn take(&self) -> StoreResult<Connection> {
        let pooled = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match pooled {
            Some(c) => Ok(c),
            None => db::connect(&self.path, true),
        }
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < READ_POOL {
            idle.push(conn);
        }
    }
}

fn writer_loop(conn: Connection, rx: mpsc::Receiver<Box<dyn Job>>, counters: &Counters) {
    // Ends when every `Db` handle (every sender) is dropped.
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        counters.batches.fetch_add(1, Ordering::Relaxed);
        counters
            .jobs
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        run_batch(&conn, batch);
    }
    tracing::debug!("SQLite writer stopped");
}

fn run_batch(conn: &Connection, batch: Vec<Box<dyn Job>>) {
    let size = batch.len();
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let msg = e.to_string();
        let busy = matches!(classify(e), StoreError::Unavailable(_));
        tracing::warn!(error = %msg, size, "could not begin a write transaction");
        for j in batch {
            j.answer(Some(batch_error(busy, &msg)));
        }
        return;
    }
    let mut done: Vec<Box<dyn Job>> = Vec::with_capacity(size);
    let mut broken: Option<(bool, String)> = None;
    let mut rest = batch.into_iter();
    for mut job in rest.by_ref() {
        if let Err(e) = conn.execute_batch("SAVEPOINT job") {
            broken = Some(describe(e));
            done.push(job);
            break;
        }
        if job.run(conn) {
            if let Err(e) = conn.execute_batch("RELEASE job") {
                broken = Some(describe(e));
                done.push(job);
                break;
            }
            done.push(job);
        } else {
            match conn.execute_batch("ROLLBACK TO job; RELEASE job") {
                // Nothing of this job remains: answer its own error now.
                Ok(()) => job.answer(None),
                Err(e) => {
                    broken = Some(describe(e));
                    job.answer(None);
                    break;
                }
            }
        }
    }
    let leftover: Vec<Box<dyn Job>> = rest.collect();
    let commit = match broken {
        Some(b) => Err(b),
        None => conn.execute_batch("COMMIT").map_err(describe),
    };
    match commit {
        Ok(()) => {
            for j in done {
                j.answer(None);
            }
        }
        Err((busy, msg)) => {
            tracing::warn!(error = %msg, size, "write batch rolled back");
            if let Err(e) = conn.execute_batch("ROLLBACK") {
                tracing::debug!(error = %e, "rollback after a failed batch");
            }
            for j in done.into_iter().chain(leftover) {
                j.answer(Some(batch_error(busy, &msg)));
            }
        }
    }
}

fn describe(e: rusqlite::Error) -> (bool, String) {
    let msg = e.to_string();
    (matches!(classify(e), StoreError::Unavailable(_)), msg)
}

/// Every job of a failed batch gets its own error value (errors are not `Clone`).
fn batch_error(busy: bool, msg: &str) -> StoreError {
    let m = Box::new(pakn_core::error::Message(format!(
        "write batch failed: {msg}"
    )));
    if busy {
        StoreError::Unavailable(m)
    } else {
        StoreError::Other(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    fn db(dir: &TempDir) -> Db {
        let d = Db::open(&dir.path().join("w.db")).unwrap();
        d.jobs
            .send(Box::new(TypedJob {
                f: Some(|c: &Connection| {
                    c.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY)")
                        .map_err(classify)
                }),
                out: None,
                tx: oneshot::channel().0,
            }))
            .unwrap();
        d
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_share_transactions_and_failures_stay_alone() {
        let dir = TempDir::new("local");
        let d = Arc::new(db(&dir));
        let mut tasks = tokio::task::JoinSet::new();
        for k in 0..200i64 {
            let d = d.clone();
            tasks.spawn(async move {
                // Every 10th job inserts a key twice: it fails alone.
                d.write(move |c| {
                    c.execute("INSERT INTO t (k) VALUES (?1)", [k])
                        .map_err(classify)?;
                    if k % 10 == 0 {
                        c.execute("INSERT INTO t (k) VALUES (?1)", [k])
                            .map_err(classify)?;
                    }
                    Ok(k)
                })
                .await
            });
        }
        let mut ok = 0;
        let mut failed = 0;
        while let Some(r) = tasks.join_next().await {
            match r.unwrap() {
                Ok(_) => ok += 1,
                Err(_) => failed += 1,
            }
        }
        assert_eq!((ok, failed), (180, 20));
        let (n, tens): (i64, i64) = d
            .read(|c| {
                c.query_row("SELECT COUNT(*), SUM(k % 10 = 0) FROM t", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .map_err(classify)
            })
            .await
            .unwrap();
        assert_eq!(n, 180, "every successful job landed");
        assert_eq!(tens, 0, "the failed jobs left nothing behind");
        let (batches, jobs) = d.group_commit_counts();
        assert_eq!(jobs, 201, "200 inserts and the CREATE TABLE");
        assert!(
            batches < jobs,
            "concurrent writers shared transactions ({batches} for {jobs} jobs)"
        );
    }

    #[tokio::test]
    async fn a_panicking_job_does_not_kill_the_writer() {
        let dir = TempDir::new("local");
        let d = db(&dir);
        let r: StoreResult<()> = d.write(|_| panic!("boom")).await;
        assert!(r.is_err());
        d.write(|c| {
            c.execute("INSERT INTO t (k) VALUES (1)", [])
                .map_err(classify)
        })
        .await
        .unwrap();
    }
}
