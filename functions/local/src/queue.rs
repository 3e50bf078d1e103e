//! The intake queue, durable in the same SQLite file, with SQS semantics so
//! the worker code is exercised the way it runs on AWS: a received message
//! is invisible for a visibility timeout, its receive count grows with each
//! delivery, `ack` deletes it, and a message received `max_receives` times
//! goes to the dead-letter table instead of being delivered again
//! (SQS `maxReceiveCount`). `create_case` and `commit` write their messages
//! into the same table, in their own transaction.
//!
//! Queue time comes from the backend's queue clock (the system clock unless
//! a test injects one); it is infrastructure time, not the domain clock.

use crate::db::{classify, from_micros, micros};
use crate::writer::Db;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pakn_core::ids::CaseId;
use pakn_core::ports::{Clock, Queue, StoreError, StoreResult};
use rusqlite::{Connection, params};
use std::sync::Arc;
use std::time::Duration;

/// SQS's `maxReceiveCount` in pakn's template.
pub const DEFAULT_MAX_RECEIVES: u32 = 5;

/// A delivered message. `receipt` changes with every delivery; only the
/// latest one acknowledges the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub receipt: String,
    pub case_id: CaseId,
    /// Deliveries so far, this one included (1 on the first).
    pub receive_count: u32,
}

/// A message that was received too often without being acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub id: i64,
    pub case_id: CaseId,
    pub receive_count: u32,
    pub sent_at: DateTime<Utc>,
    pub dead_at: DateTime<Utc>,
}

/// The local intake queue (cheap to clone; shares the backend's database).
#[derive(Clone)]
pub struct LocalQueue {
    db: Arc<Db>,
    clock: Arc<dyn Clock>,
    max_receives: u32,
}

/// Put messages on the queue, visible at once (inside the caller's transaction).
pub(crate) fn enqueue(conn: &Connection, ids: &[CaseId], now: i64) -> StoreResult<()> {
    let mut s = conn
        .prepare_cached("INSERT INTO queue (case_id, sent_at, visible_at) VALUES (?1, ?2, ?2)")
        .map_err(classify)?;
    for id in ids {
        s.execute(params![id.as_str(), now]).map_err(classify)?;
    }
    Ok(())
}

fn as_micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

impl LocalQueue {
    pub(crate) fn new(db: Arc<Db>, clock: Arc<dyn Clock>, max_receives: u32) -> Self {
        LocalQueue {
            db,
            clock,
            max_receives: max_receives.max(1),
        }
    }

    pub fn max_receives(&self) -> u32 {
        self.max_receives
    }

    fn now(&self) -> i64 {
        micros(self.clock.now())
    }

    /// Receive up to `max` visible messages, hiding each for `visibility_timeout`.
    /// Messages already received `max_receives` times go to the dead letters instead.
    pub async fn receive(
        &self,
        max: usize,
        visibility_timeout: Duration,
    ) -> StoreResult<Vec<Received>> {
        let now = self.now();
        // At least 1µs, so a message received now is not selected again by this same call.
        let until = now.saturating_add(as_micros(visibility_timeout).max(1));
        let max_receives = self.max_receives as i64;
        let max = max.clamp(1, 1000) as i64;
        // Idle pollers ask a read connection first, leaving the writer to real writes.
        let any = self
            .db
            .read(move |c| {
                c.prepare_cached("SELECT EXISTS (SELECT 1 FROM queue WHERE visible_at <= ?1)")
                    .and_then(|mut s| s.query_row([now], |r| r.get::<_, bool>(0)))
                    .map_err(classify)
            })
            .await?;
        if !any {
            return Ok(Vec::new());
        }
        self.db
            .write(move |c| {
                let mut out = Vec::new();
                loop {
                    let want = max - out.len() as i64;
                    let rows: Vec<(i64, String, i64, i64)> = {
                        let mut s = c
                            .prepare_cached(
                                "SELECT id, case_id, receive_count, sent_at FROM queue
                                 WHERE visible_at <= ?1 ORDER BY visible_at, id LIMIT ?2",
                            )
                            .map_err(classify)?;
                        let rows = s
                            .query_map(params![now, want], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                            .map_err(classify)?;
                        rows.collect::<Result<_, _>>().map_err(classify)?
                    };
                    if rows.is_empty() {
                        return Ok(out);
                    }
                    for (id, case_id, count, sent_at) in rows {
                        if count >= max_receives {
                            c.prepare_cached(
                                "INSERT INTO dead_letters (id, case_id, sent_at, receive_count, dead_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                            )
                            .and_then(|mut s| s.execute(params![id, case_id, sent_at, count, now]))
                            .map_err(classify)?;
                            c.execute("DELETE FROM queue WHERE id = ?1", [id]).map_err(classify)?;
                            tracing::warn!(case_id = %case_id, receive_count = count, "message moved to the dead-letter queue");
                            continue;
                        }
                        let count = count + 1;
                        let receipt = format!("{id}.{count}");
                        c.prepare_cached("UPDATE queue SET visible_at = ?1, receive_count = ?2, receipt = ?3 WHERE id = ?4")
                            .and_then(|mut s| s.execute(params![until, count, receipt, id]))
                            .map_err(classify)?;
                        match CaseId::parse(&case_id) {
                            Some(case_id) => out.push(Received { receipt, case_id, receive_count: count as u32 }),
                            None => {
                                // Not a case id at all: nothing could ever route it.
                                tracing::warn!(%case_id, "dropping a queue message that is not a case id");
                                c.execute("DELETE FROM queue WHERE id = ?1", [id]).map_err(classify)?;
                            }
                        }
                    }
                    if out.len() as i64 >= max {
                        return Ok(out);
                    }
                }
            })
            .await
    }

    /// Delete a received message; `false` if the receipt is stale (redelivered since) or unknown.
    pub async fn ack(&self, receipt: &str) -> StoreResult<bool> {
        let receipt = receipt.to_string();
        self.db
            .write(move |c| {
                let n = c
                    .execute("DELETE FROM queue WHERE receipt = ?1", [&receipt])
                    .map_err(classify)?;
                Ok(n == 1)
            })
            .await
    }

    /// Delete several received messages in one write; how many were still
    /// held under those receipts (a stale receipt deletes nothing).
    pub async fn ack_all(&self, receipts: Vec<String>) -> StoreResult<usize> {
        if receipts.is_empty() {
            return Ok(0);
        }
        self.db
            .write(move |c| {
                let mut s = c
                    .prepare_cached("DELETE FROM queue WHERE receipt = ?1")
                    .map_err(classify)?;
                let mut n = 0;
                for r in &receipts {
                    n += s.execute([r]).map_err(classify)?;
                }
                Ok(n)
            })
            .await
    }

    /// Give a received message back: visible again after `delay` (zero: at once).
    pub async fn nack(&self, receipt: &str, delay: Duration) -> StoreResult<bool> {
        let receipt = receipt.to_string();
        let at = self.now().saturating_add(as_micros(delay));
        self.db
            .write(move |c| {
                let n = c
                    .execute(
                        "UPDATE queue SET visible_at = ?1 WHERE receipt = ?2",
                        params![at, receipt],
                    )
                    .map_err(classify)?;
                Ok(n == 1)
            })
            .await
    }

    /// Messages waiting (visible or in flight).
    pub async fn depth(&self) -> StoreResult<u64> {
        self.db
            .read(|c| {
                c.query_row("SELECT COUNT(*) FROM queue", [], |r| r.get::<_, i64>(0))
                    .map_err(classify)
            })
            .await
            .map(|n| n.max(0) as u64)
    }

    /// The dead letters, oldest first.
    pub async fn dlq_list(&self) -> StoreResult<Vec<DeadLetter>> {
        self.db
            .read(|c| {
                let mut s = c
                    .prepare_cached("SELECT id, case_id, receive_count, sent_at, dead_at FROM dead_letters ORDER BY dead_at, id")
                    .map_err(classify)?;
                let rows = s
                    .query_map([], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?, r.get::<_, i64>(4)?))
                    })
                    .map_err(classify)?;
                let mut out = Vec::new();
                for row in rows {
                    let (id, case_id, count, sent_at, dead_at) = row.map_err(classify)?;
                    let case_id = CaseId::parse(&case_id)
                        .ok_or_else(|| StoreError::msg(format!("dead letter {id} holds '{case_id}', not a case id")))?;
                    out.push(DeadLetter {
                        id,
                        case_id,
                        receive_count: count.max(0) as u32,
                        sent_at: from_micros(sent_at)?,
                        dead_at: from_micros(dead_at)?,
                    });
                }
                Ok(out)
            })
            .await
    }

    /// Move up to `limit` dead letters (oldest first) back to the queue, with
    /// a fresh receive count; answers how many moved.
    pub async fn redrive(&self, limit: usize) -> StoreResult<usize> {
        let now = self.now();
        let limit = limit.min(i64::MAX as usize) as i64;
        self.db
            .write(move |c| {
                let ids: Vec<i64> = {
                    let mut s = c.prepare_cached("SELECT id FROM dead_letters ORDER BY dead_at, id LIMIT ?1").map_err(classify)?;
                    let rows = s.query_map([limit], |r| r.get(0)).map_err(classify)?;
                    rows.collect::<Result<_, _>>().map_err(classify)?
                };
                for id in &ids {
                    c.execute(
                        "INSERT INTO queue (case_id, sent_at, visible_at) SELECT case_id, ?1, ?1 FROM dead_letters WHERE id = ?2",
                        params![now, id],
                    )
                    .map_err(classify)?;
                    c.execute("DELETE FROM dead_letters WHERE id = ?1", [id]).map_err(classify)?;
                }
                Ok(ids.len())
            })
            .await
            .inspect(|n| {
                if *n > 0 {
                    self.db.queued.notify_waiters();
                }
            })
    }

    /// Resolves when messages are next put on the queue. Create it (and
    /// `enable` it) *before* a receive that may find nothing, so a message
    /// sent in between is not missed.
    pub fn on_queued(&self) -> tokio::sync::futures::Notified<'_> {
        self.db.queued.notified()
    }
}

#[async_trait]
impl Queue for LocalQueue {
    async fn send(&self, ids: &[CaseId]) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids = ids.to_vec();
        let now = self.now();
        self.db.write(move |c| enqueue(c, &ids, now)).await?;
        self.db.queued.notify_waiters();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{TempDir, t0};
    use pakn_core::ports::ManualClock;

    fn queue(dir: &TempDir) -> (LocalQueue, ManualClock) {
        let clock = ManualClock::new(t0());
        let b = crate::LocalBackend::open_with(
            &dir.path().join("q.db"),
            crate::LocalOptions {
                queue_clock: Arc::new(clock.clone()),
                max_receives: DEFAULT_MAX_RECEIVES,
                ..Default::default()
            },
        )
        .unwrap();
        (b.queue.clone(), clock)
    }

    fn id() -> CaseId {
        CaseId::new(t0())
    }

    #[tokio::test]
    async fn visibility_timeout_hides_a_received_message_until_it_ends() {
        let dir = TempDir::new("local");
        let (q, clock) = queue(&dir);
        let a = id();
        q.send(std::slice::from_ref(&a)).await.unwrap();
        let got = q.receive(10, Duration::from_secs(30)).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].case_id.clone(), got[0].receive_count),
            (a.clone(), 1)
        );
        assert!(
            q.receive(10, Duration::from_secs(30))
                .await
                .unwrap()
                .is_empty(),
            "in flight: invisible"
        );
        clock.advance(chrono::Duration::seconds(29));
        assert!(
            q.receive(10, Duration::from_secs(30))
                .await
                .unwrap()
                .is_empty()
        );
        clock.advance(chrono::Duration::seconds(2));
        let again = q.receive(10, Duration::from_secs(30)).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].receive_count, 2, "the receive count grows");
        assert_ne!(
            again[0].receipt, got[0].receipt,
            "a new receipt per delivery"
        );
        assert!(
            !q.ack(&got[0].receipt).await.unwrap(),
            "a stale receipt does not delete"
        );
        assert!(q.ack(&again[0].receipt).await.unwrap());
        assert_eq!(q.depth().await.unwrap(), 0);
        clock.advance(chrono::Duration::minutes(5));
        assert!(
            q.receive(10, Duration::from_secs(30))
                .await
                .unwrap()
                .is_empty(),
            "acked: gone for good"
        );
    }

    #[tokio::test]
    async fn nack_makes_a_message_visible_again_after_its_delay() {
        let dir = TempDir::new("local");
        let (q, clock) = queue(&dir);
        q.send(&[id()]).await.unwrap();
        let got = q.receive(1, Duration::from_secs(300)).await.unwrap();
        assert!(q.nack(&got[0].receipt, Duration::ZERO).await.unwrap());
        let got = q.receive(1, Duration::from_secs(300)).await.unwrap();
        assert_eq!(got[0].receive_count, 2);
        assert!(
            q.nack(&got[0].receipt, Duration::from_secs(10))
                .await
                .unwrap()
        );
        assert!(
            q.receive(1, Duration::from_secs(300))
                .await
                .unwrap()
                .is_empty()
        );
        clock.advance(chrono::Duration::seconds(10));
        assert_eq!(
            q.receive(1, Duration::from_secs(300)).await.unwrap().len(),
            1
        );
    }

    #[tokio::test]
    async fn receive_respects_max_and_order() {
        let dir = TempDir::new("local");
        let (q, _clock) = queue(&dir);
        let ids: Vec<CaseId> = (0..5).map(|_| id()).collect();
        q.send(&ids).await.unwrap();
        let first = q.receive(3, Duration::from_secs(30)).await.unwrap();
        let rest = q.receive(3, Duration::from_secs(30)).await.unwrap();
        let got: Vec<CaseId> = first
            .iter()
            .chain(&rest)
            .map(|r| r.case_id.clone())
            .collect();
        assert_eq!(first.len(), 3);
        assert_eq!(got, ids);
    }

    #[tokio::test]
    async fn a_message_received_five_times_goes_to_the_dlq_and_redrive_brings_it_back() {
        let dir = TempDir::new("local");
        let (q, clock) = queue(&dir);
        let a = id();
        q.send(std::slice::from_ref(&a)).await.unwrap();
        for n in 1..=5 {
            let got = q.receive(10, Duration::from_secs(30)).await.unwrap();
            assert_eq!(got.len(), 1, "delivery {n}");
            assert_eq!(got[0].receive_count, n);
            clock.advance(chrono::Duration::seconds(31));
        }
        assert!(
            q.receive(10, Duration::from_secs(30))
                .await
                .unwrap()
                .is_empty(),
            "the sixth delivery is refused"
        );
        let dlq = q.dlq_list().await.unwrap();
        assert_eq!(dlq.len(), 1);
        assert_eq!(
            (dlq[0].case_id.clone(), dlq[0].receive_count),
            (a.clone(), 5)
        );
        assert_eq!(q.depth().await.unwrap(), 0);

        assert_eq!(q.redrive(10).await.unwrap(), 1);
        assert!(q.dlq_list().await.unwrap().is_empty());
        let got = q.receive(10, Duration::from_secs(30)).await.unwrap();
        assert_eq!(
            (got[0].case_id.clone(), got[0].receive_count),
            (a, 1),
            "redriven with a fresh count"
        );
        assert!(q.ack(&got[0].receipt).await.unwrap());
        assert_eq!(q.redrive(10).await.unwrap(), 0);
    }
}
