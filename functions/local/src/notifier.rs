//! [`LocalNotifier`]: the [`Notifier`] port without SNS. Every published
//! notification is stored (table `published`, for tests and the CLI) and
//! logged; HTTP webhook subscribers receive the ones their SNS-style filter
//! policy matches (the same policy JSON as on AWS, matched by
//! [`pakn_core::notify::filter_matches`] on [`Notification::attributes`]).
//!
//! Webhook delivery is best effort and in the background: a slow or failing
//! subscriber never fails nor delays the publish (the outbox contract is
//! about the decision being published, and `dedup_id` lets a subscriber drop
//! repeats). Only the URLs subscribed are ever called, over plain HTTP.

use crate::db::{classify, from_json, from_micros, micros, to_json};
use crate::writer::Db;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pakn_core::notify::{Notification, filter_matches};
use pakn_core::ports::{Clock, Notifier, StoreError, StoreResult};
use rusqlite::params;
use std::sync::Arc;
use std::time::Duration;

/// A webhook timeout: a subscriber that takes longer is logged as failed.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub id: i64,
    pub url: String,
    pub filter_policy: serde_json::Value,
    pub created_at: DateTime<Utc>,
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
    http: reqwest::Client,
}

impl LocalNotifier {
    pub(crate) fn new(db: Arc<Db>, clock: Arc<dyn Clock>) -> StoreResult<Self> {
        let http = reqwest::Client::builder()
            .timeout(WEBHOOK_TIMEOUT)
            .build()
            .map_err(StoreError::other)?;
        Ok(LocalNotifier { db, clock, http })
    }

    /// Subscribe an `http://` URL with a filter policy (`{}` matches everything).
    pub async fn subscribe(&self, url: &str, filter_policy: serde_json::Value) -> StoreResult<i64> {
        let parsed = reqwest::Url::parse(url).map_err(StoreError::other)?;
        if parsed.scheme() != "http" || parsed.host_str().is_none() {
            return Err(StoreError::msg(format!(
                "webhook URL must be http://host/...: '{url}'"
            )));
        }
        if !filter_policy.is_object() {
            return Err(StoreError::msg(
                "a filter policy is a JSON object, e.g. {\"unit\":[\"ward:00070\"]}",
            ));
        }
        let (url, policy, now) = (
            parsed.to_string(),
            to_json(&filter_policy)?,
            micros(self.clock.now()),
        );
        self.db
            .write(move |c| {
                c.execute(
                    "INSERT INTO subscriptions (url, filter_policy, created_at) VALUES (?1, ?2, ?3)",
                    params![url, policy, now],
                )
                .map_err(classify)?;
                Ok(c.last_insert_rowid())
            })
            .await
    }

    /// Remove a subscription; `false` if there was none with that id.
    pub async fn unsubscribe(&self, id: i64) -> StoreResult<bool> {
        self.db
            .write(move |c| {
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
                        "SELECT id, url, filter_policy, created_at FROM subscriptions ORDER BY id",
                    )
                    .map_err(classify)?;
                let rows = s
                    .query_map([], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, i64>(3)?,
                        ))
                    })
                    .map_err(classify)?;
                let mut out = Vec::new();
                for row in rows {
                    let (id, url, policy, at) = row.map_err(classify)?;
                    out.push(Subscription {
                        id,
                        url,
                        filter_policy: from_json(&policy)?,
                        created_at: from_micros(at)?,
                    });
                }
                Ok(out)
            })
            .await
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

    fn deliver(&self, n: &Notification, subs: Vec<Subscription>) {
        let attrs = n.attributes();
        for sub in subs
            .into_iter()
            .filter(|s| filter_matches(&s.filter_policy, &attrs))
        {
            let req = self
                .http
                .post(&sub.url)
                .header("x-pakn-event", n.event.as_str())
                .header("x-pakn-dedup-id", n.dedup_id.as_str())
                .json(n);
            let (dedup_id, event, url) = (n.dedup_id.clone(), n.event.clone(), sub.url.clone());
            let send = async move {
                match req.send().await.and_then(|r| r.error_for_status()) {
                    Ok(_) => tracing::debug!(%url, %dedup_id, %event, "webhook delivered"),
                    Err(e) => {
                        tracing::warn!(%url, %dedup_id, %event, error = %e, "webhook delivery failed")
                    }
                }
            };
            match tokio::runtime::Handle::try_current() {
                Ok(h) => {
                    h.spawn(send);
                }
                Err(_) => tracing::warn!(url = %sub.url, "no async runtime: webhook not delivered"),
            }
        }
    }
}

#[async_trait]
impl Notifier for LocalNotifier {
    async fn publish(&self, n: &Notification) -> StoreResult<()> {
        let (json, now) = (to_json(n)?, micros(self.clock.now()));
        let (dedup_id, event, unit) = (n.dedup_id.clone(), n.event.clone(), n.unit.clone());
        self.db
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO published (dedup_id, event, unit, json, published_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .and_then(|mut s| s.execute(params![dedup_id, event, unit, json, now]))
                .map_err(classify)?;
                Ok(())
            })
            .await?;
        tracing::info!(event = %n.event, unit = %n.unit, dedup_id = %n.dedup_id, case_id = ?n.case_id, "notification published");
        match self.subscriptions().await {
            Ok(subs) => self.deliver(n, subs),
            Err(e) => {
                tracing::warn!(error = %e, "could not read webhook subscriptions; stored and logged only")
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{TempDir, notification};
    use serde_json::json;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A one-route HTTP server on 127.0.0.1 that forwards each request body.
    async fn hook() -> (
        String,
        tokio::sync::mpsc::UnboundedReceiver<serde_json::Value>,
    ) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", l.local_addr().unwrap());
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = l.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        let n = sock.read(&mut chunk).await.unwrap();
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        let text = String::from_utf8_lossy(&buf).to_string();
                        if let Some((head, body)) = text.split_once("\r\n\r\n") {
                            let len: usize = head
                                .lines()
                                .find_map(|l| {
                                    l.to_ascii_lowercase()
                                        .strip_prefix("content-length:")
                                        .map(|v| v.trim().parse().unwrap())
                                })
                                .unwrap_or(0);
                            if body.len() >= len {
                                tx.send(serde_json::from_str(&body[..len]).unwrap())
                                    .unwrap();
                                sock.write_all(
                                    b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n",
                                )
                                .await
                                .unwrap();
                                return;
                            }
                        }
                    }
                });
            }
        });
        (url, rx)
    }

    #[tokio::test]
    async fn publishes_are_stored_and_reach_only_matching_subscribers() {
        let dir = TempDir::new("local");
        let b = crate::LocalBackend::open(&dir.path().join("n.db")).unwrap();
        let (ward_url, mut ward_rx) = hook().await;
        let (ha_url, mut ha_rx) = hook().await;
        b.notifier
            .subscribe(&ward_url, json!({"unit": ["ward:00070"]}))
            .await
            .unwrap();
        b.notifier
            .subscribe(&ha_url, json!({"audience": ["home-affairs"]}))
            .await
            .unwrap();
        // A subscriber that is down: the publish still succeeds.
        b.notifier
            .subscribe("http://127.0.0.1:9/down", json!({}))
            .await
            .unwrap();
        assert!(
            b.notifier
                .subscribe("https://example.com/x", json!({}))
                .await
                .is_err(),
            "plain HTTP only"
        );

        let n = notification("ward:00070", "d1");
        b.notifier.publish(&n).await.unwrap();
        let got = tokio::time::timeout(Duration::from_secs(5), ward_rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got["dedup_id"], "d1");
        assert_eq!(got["unit"], "ward:00070");

        b.notifier
            .publish(&notification("ward:00073", "d2"))
            .await
            .unwrap();
        let stored = b.notifier.published(0, 10).await.unwrap();
        assert_eq!(
            stored
                .iter()
                .map(|p| p.notification.dedup_id.as_str())
                .collect::<Vec<_>>(),
            ["d1", "d2"]
        );
        assert_eq!(
            b.notifier.published(stored[0].seq, 10).await.unwrap().len(),
            1
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            ward_rx.try_recv().is_err(),
            "the ward hook got only its unit's message"
        );
        assert!(
            ha_rx.try_recv().is_err(),
            "home affairs got nothing addressed to units only"
        );
        assert_eq!(b.notifier.subscriptions().await.unwrap().len(), 3);
        assert!(b.notifier.unsubscribe(3).await.unwrap());
    }
}
