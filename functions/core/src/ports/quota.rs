//! Quotas: exact counters per key and fixed time window, shared by every
//! instance (they live in the store), expiring after their window.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

/// The answer to [`QuotaStore::take`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    /// The unit was counted (the count was below the limit).
    pub allowed: bool,
    /// When the window ends (and a refused caller may try again).
    pub window_end: DateTime<Utc>,
}

/// One quota to take: a key, its window and its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Take {
    pub key: String,
    pub window_start: DateTime<Utc>,
    pub window: Duration,
    pub limit: u32,
}

#[async_trait]
pub trait QuotaStore: Send + Sync {
    /// Count one unit against `key` in the window `[window_start,
    /// window_start + window)`, unless `limit` units were counted there
    /// already. Atomic: concurrent takes never count past `limit`.
    async fn take(
        &self,
        key: &str,
        window_start: DateTime<Utc>,
        window: Duration,
        limit: u32,
    ) -> StoreResult<Taken>;

    /// Take several in order, stopping at the first refusal (what was
    /// taken before it stays counted): the answers so far, the refusal
    /// last. A store that can do it in one write overrides this.
    async fn take_all(&self, takes: &[Take]) -> StoreResult<Vec<Taken>> {
        let mut out = Vec::with_capacity(takes.len());
        for t in takes {
            let taken = self.take(&t.key, t.window_start, t.window, t.limit).await?;
            out.push(taken);
            if !taken.allowed {
                break;
            }
        }
        Ok(out)
    }
}

/// The start of the fixed window of length `window` (aligned to the Unix
/// epoch) that holds `now`.
pub fn window_start(now: DateTime<Utc>, window: Duration) -> DateTime<Utc> {
    let w = window.num_seconds().max(1);
    let start = now.timestamp().div_euclid(w) * w;
    DateTime::<Utc>::from_timestamp(start, 0).unwrap_or(now)
}
