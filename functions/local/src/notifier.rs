//! [`LocalNotifier`]: the [`Notifier`] port without SNS. Every published
//! notification is stored (table `published`, for tests, the CLI and
//! `GET /v1/units/{code}/notifications`) and logged; webhook subscribers
//! receive the ones their SNS-style filter policy matches (the same policy
//! JSON as on AWS, matched by [`pakn_core::notify::filter_matches`] on
//! [`Notification::attributes`]).
//!
//! The publish only records, in the same transaction, one delivery row per
//! matching subscriber; the signed, retried delivery happens in each
//! subscriber's own task (see [`crate::webhooks`]), so a slow or failing
//! subscriber never fails nor delays the publish, nor another subscriber.

use crate::db::{classify, from_json, from_micros, micros, to_json};
use crate::webhooks::{WebhookPolicy, Webhooks, new_secret};
use crate::writer::Db;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pakn_core::notify::{Notification, filter_matches};
use pakn_core::ports::{Clock, Notifier, StoreError, StoreResult};
use rusqlite::{Connection, params};
use std::sync::Arc;

/// A webhook subscriber and its delivery health.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub id: i64,
    pub url: String,
    pub filter_policy: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Deliveries not yet delivered nor given up.
    pub pending: i64,
}

/// A new subscription: its id and the signing secret (shown only now).
#[derive(Debug, Clone, PartialEq)]
pub struct NewSubscription {
    pub id: i64,
    pub secret: String,
}

/// One delivery attempt, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub subscription_id: i64,
    pub dedup_id: String,
    pub attempt: u32,
    pub at: DateTime<Utc>,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    /// The delivery's state now: `pending`, `delivered` or `gave_up`.
    pub delivery_status: String,
}

/// A stored publication.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub seq: i64,
    pub notification: Notification,
    pub published_at: DateTime<Utc>,
}

pub struct LocalNotifier {
    db: Arc<Db>,
    clock: Arc<dyn Clock>,
    webhooks: Arc<Webhooks>,
    resumed: std::sync::atomic::AtomicBool,
}

impl LocalNotifier {
    pub(crate) fn new(
        db: Arc<Db>,
        clock: Arc<dyn Clock>,
        policy: WebhookPolicy,
    ) -> StoreResult<Self> {
        let http = reqwest::Client::builder()
            .timeout(policy.timeout)
            .build()
            .map_err(StoreError::other)?;
        Ok(LocalNotifier {
            webhooks: Webhooks::new(db.clone(), clock.clone(), http, policy),
            db,
            clock,
            resumed: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Subscribe an `https://` or `http://` URL with a filter policy (`{}`
    /// matches everything); answers the id and the signing secret.
    pub async fn subscribe(
        &self,
        url: &str,
        filter_policy: serde_json::Value,
    ) -> StoreResult<NewSubscription> {
        let parsed = reqwest::Url::parse(url).map_err(StoreError::other)?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(StoreError::msg(format!(
                "webhook URL must be https://host/... or http://host/...: '{url}'"
            )));
        }
        if !filter_policy.is_object() {
            return Err(StoreError::msg(
                "a filter policy is a JSON object, e.g. {\"unit\":[\"ward:00070\"]}",
            ));
        }
        let secret = new_secret();
        let (url, policy, now, s) = (
            parsed.to_string(),
            to_json(&filter_policy)?,
            micros(self.clock.now()),
            secret.clone(),
        );
        let id = self
            .db
            .write(move |c| {
                c.execute(
                    "INSERT INTO subscriptions (url, filter_policy, created_at, secret) VALUES (?1, ?2, ?3, ?4)",
                    params![url, policy, now, s],
                )
                .map_err(classify)?;
                Ok(c.last_insert_rowid())
            })
            .await?;
        Ok(NewSubscription { id, secret })
    }

    /// Remove a subscription and its undelivered messages; `false` if there
    /// was none with that id.
    pub async fn unsubscribe(&self, id: i64) -> StoreResult<bool> {
        self.db
            .write(move |c| {
                c.execute(
                    "DELETE FROM deliveries WHERE subscription_id = ?1 AND status = 'pending'",
                    [id],
                )
                .map_err(classify)?;
                Ok(c.execute("DELETE FROM subscriptions WHERE id = ?1", [id])
                    .map_err(classify)?
                    == 1)
            })
            .await
    }

    pub async fn subscriptions(&self) -> StoreResult<Vec<Subscription>> {
        self.db
            .read(|c| {
                let mut s = c
                    .prepare_cached(
                        "SELECT s.id, s.url, s.filter_policy, s.created_at, s.last_success_at, s.last_failure_at, s.last_error,
                                (SELECT COUNT(*) FROM deliveries d WHERE d.subscription_id = s.id AND d.status = 'pending')
                         FROM subscriptions s ORDER BY s.id",
                    )
                    .map_err(classify)?;
                let rows = s
                    .query_map([], |r| {
                        Ok((
                            (r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?),
                            (r.get::<_, i64>(3)?, r.get::<_, Option<i64>>(4)?, r.get::<_, Option<i64>>(5)?),
                            (r.get::<_, Option<String>>(6)?, r.get::<_, i64>(7)?),
                        ))
                    })
                    .map_err(classify)?;
                let mut out = Vec::new();
                for row in rows {
                    let ((id, url, policy), (at, ok, failed), (last_error, pending)) =
                        row.map_err(classify)?;
                    out.push(Subscription {
                        id,
                        url,
                        filter_policy: from_json(&policy)?,
                        created_at: from_micros(at)?,
                        last_success_at: ok.map(from_micros).transpose()?,
                        last_failure_at: failed.map(from_micros).transpose()?,
                        last_error,
                        pending,
                    });
                }
                Ok(out)
            })
            .await
    }

    /// Every recorded delivery attempt of a subscription, oldest first.
    pub async fn attempts(&self, subscription_id: i64) -> StoreResult<Vec<Attempt>> {
        self.db
            .read(move |c| {
                let mut s = c
                    .prepare_cached(
                        "SELECT p.dedup_id, a.attempt, a.at, a.http_status, a.error, d.status
                         FROM deliveries d JOIN delivery_attempts a ON a.delivery_id = d.id
                         JOIN published p ON p.seq = d.seq
                         WHERE d.subscription_id = ?1 ORDER BY a.at, d.id, a.attempt",
                    )
                    .map_err(classify)?;
                let rows = s
                    .query_map([subscription_id], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, u32>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, Option<u16>>(3)?,
                            r.get::<_, Option<String>>(4)?,
                            r.get::<_, String>(5)?,
                        ))
                    })
                    .map_err(classify)?;
                let mut out = Vec::new();
                for row in rows {
                    let (dedup_id, attempt, at, http_status, error, delivery_status) =
                        row.map_err(classify)?;
                    out.push(Attempt {
                        subscription_id,
                        dedup_id,
                        attempt,
                        at: from_micros(at)?,
                        http_status,
                        error,
                        delivery_status,
                    });
                }
                Ok(out)
            })
            .await
    }

    /// Start delivering what was left pending (by a restart); `pakn serve`
    /// calls it at start, and the first publish does it otherwise.
    pub async fn resume_deliveries(&self) -> StoreResult<()> {
        self.resumed
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.webhooks.resume().await
    }

    /// What was published, oldest first, starting after `after_seq` (0: from the start).
    pub async fn published(&self, after_seq: i64, limit: usize) -> StoreResult<Vec<Published>> {
        let limit = limit.min(i64::MAX as usize) as i64;
        self.db
            .read(move |c| {
                let mut s = c
                    .prepare_cached("SELECT seq, json, published_at FROM published WHERE seq > ?1 ORDER BY seq LIMIT ?2")
                    .map_err(classify)?;
                let rows = s
                    .query_map(params![after_seq, limit], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
                    })
                    .map_err(classify)?;
                let mut out = Vec::new();
                for row in rows {
                    let (seq, json, at) = row.map_err(classify)?;
                    out.push(Published { seq, notification: from_json(&json)?, published_at: from_micros(at)? });
                }
                Ok(out)
            })
            .await
    }
}

/// One notification as the writer thread records it.
struct Row {
    dedup_id: String,
    event: String,
    unit: String,
    json: String,
    attrs: Vec<(String, pakn_core::notify::AttrValue)>,
}

impl Row {
    fn new(n: &Notification) -> StoreResult<Row> {
        Ok(Row {
            dedup_id: n.dedup_id.clone(),
            event: n.event.clone(),
            unit: n.unit.clone(),
            json: to_json(n)?,
            attrs: n
                .attributes()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        })
    }
}

/// Record one published notification and a pending delivery for each
/// subscription whose filter policy matches; the matched subscriptions.
fn record(c: &Connection, r: &Row, now: i64) -> StoreResult<Vec<i64>> {
    c.prepare_cached(
        "INSERT INTO published (dedup_id, event, unit, json, published_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut s| s.execute(params![r.dedup_id, r.event, r.unit, r.json, now]))
    .map_err(classify)?;
    let seq = c.last_insert_rowid();
    let attrs: Vec<(&str, pakn_core::notify::AttrValue)> = r
        .attrs
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let mut s = c
        .prepare_cached("SELECT id, filter_policy FROM subscriptions")
        .map_err(classify)?;
    let subs = s
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .map_err(classify)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(classify)?;
    let mut matched = Vec::new();
    for (id, policy) in subs {
        if filter_matches(&from_json(&policy)?, &attrs) {
            c.prepare_cached(
                "INSERT INTO deliveries (subscription_id, seq, status, first_at, next_attempt_at) VALUES (?1, ?2, 'pending', ?3, ?3)",
            )
            .and_then(|mut s| s.execute(params![id, seq, now]))
            .map_err(classify)?;
            matched.push(id);
        }
    }
    Ok(matched)
}

impl LocalNotifier {
    /// After a durable publish: log it and wake the webhook deliveries.
    async fn published_now(&self, ns: &[Notification], subscribers: &[i64]) {
        for n in ns {
            tracing::info!(event = %n.event, unit = %n.unit, dedup_id = %n.dedup_id, case_id = ?n.case_id, "notification published");
        }
        if !self
            .resumed
            .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            if let Err(e) = self.webhooks.resume().await {
                tracing::warn!(error = %e, "could not resume webhook deliveries");
            }
        }
        self.webhooks.wake(subscribers);
    }
}

#[async_trait]
impl Notifier for LocalNotifier {
    async fn publish(&self, n: &Notification) -> StoreResult<()> {
        let row = Row::new(n)?;
        let now = micros(self.clock.now());
        let subscribers = self.db.write(move |c| record(c, &row, now)).await?;
        self.published_now(std::slice::from_ref(n), &subscribers)
            .await;
        Ok(())
    }

    /// All in one write job (one transaction): all published, or none.
    async fn publish_all(&self, ns: &[Notification]) -> Vec<StoreResult<()>> {
        let rows = match ns.iter().map(Row::new).collect::<StoreResult<Vec<_>>>() {
            Ok(rows) => rows,
            Err(e) => {
                // A notification that cannot be encoded: publish one by one
                // so the others still go out.
                tracing::warn!(error = %e, "publishing one at a time");
                let mut out = Vec::with_capacity(ns.len());
                for n in ns {
                    out.push(self.publish(n).await);
                }
                return out;
            }
        };
        let now = micros(self.clock.now());
        let written = self
            .db
            .write(move |c| {
                let mut all = Vec::new();
                for r in &rows {
                    all.extend(record(c, r, now)?);
                }
                Ok(all)
            })
            .await;
        match written {
            Ok(subscribers) => {
                self.published_now(ns, &subscribers).await;
                ns.iter().map(|_| Ok(())).collect()
            }
            Err(e) => {
                let msg = e.to_string();
                ns.iter()
                    .map(|_| Err(StoreError::msg(msg.clone())))
                    .collect()
            }
        }
    }
}

#[cfg(test)]
#[path = "notifier_tests.rs"]
mod tests;
