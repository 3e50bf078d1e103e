//! The local notifier against real HTTP endpoints on 127.0.0.1: filter
//! policies, signatures, retries, give-up and isolation between subscribers.

use super::*;
use crate::testutil::{TempDir, notification};
use crate::webhooks::{WebhookPolicy, signature};
use serde_json::json;
use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// What a test endpoint does with each request.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Answer 204.
    Ok,
    /// Answer 500 to the first `n` requests, then 204.
    FailFirst(usize),
    /// Never answer (the client's timeout ends each attempt).
    Hang,
}

/// A request as the endpoint saw it.
#[derive(Debug)]
struct Hit {
    body: serde_json::Value,
    signature_ok: bool,
}

/// A one-route HTTP server on 127.0.0.1 that checks each request's
/// signature against the secret set in `secret` and reports every request.
async fn endpoint(
    behaviour: Behaviour,
) -> (String, Arc<StdMutex<String>>, mpsc::UnboundedReceiver<Hit>) {
    endpoint_on("127.0.0.1:0", behaviour).await
}

async fn endpoint_on(
    addr: &str,
    behaviour: Behaviour,
) -> (String, Arc<StdMutex<String>>, mpsc::UnboundedReceiver<Hit>) {
    let l = TcpListener::bind(addr).await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let secret = Arc::new(StdMutex::new(String::new()));
    let (tx, rx) = mpsc::unbounded_channel();
    let (sec, count) = (secret.clone(), Arc::new(AtomicUsize::new(0)));
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = l.accept().await {
            let (tx, sec, count) = (tx.clone(), sec.clone(), count.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    let Some((head, body)) = text.split_once("\r\n\r\n") else {
                        continue;
                    };
                    let header = |name: &str| {
                        head.lines().find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                        })
                    };
                    let len: usize = header("content-length")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    if body.len() < len {
                        continue;
                    }
                    let body = &body[..len];
                    let sig = header("x-pakn-signature").unwrap_or_default();
                    let t: i64 = sig
                        .strip_prefix("t=")
                        .and_then(|s| s.split(',').next())
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0);
                    let expected = signature(&sec.lock().unwrap(), t, body.as_bytes());
                    let fresh = (chrono::Utc::now().timestamp() - t).abs() < 300;
                    let _ = tx.send(Hit {
                        body: serde_json::from_str(body).unwrap(),
                        signature_ok: sig == expected && fresh,
                    });
                    let nth = count.fetch_add(1, Ordering::SeqCst);
                    let reply: &[u8] = match behaviour {
                        Behaviour::Ok => b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n",
                        Behaviour::FailFirst(k) if nth < k => {
                            b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        }
                        Behaviour::FailFirst(_) => {
                            b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n"
                        }
                        Behaviour::Hang => {
                            tokio::time::sleep(Duration::from_secs(60)).await;
                            return;
                        }
                    };
                    let _ = sock.write_all(reply).await;
                    return;
                }
            });
        }
    });
    (url, secret, rx)
}

fn open(dir: &TempDir, policy: WebhookPolicy) -> crate::LocalBackend {
    crate::LocalBackend::open_with(
        &dir.path().join("n.db"),
        crate::LocalOptions {
            webhooks: policy,
            ..Default::default()
        },
    )
    .unwrap()
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Hit>) -> Hit {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a delivery within 10 s")
        .unwrap()
}

/// Poll until `f` holds (bounded: 10 s).
async fn eventually<F: Fn(&[Subscription]) -> bool>(
    b: &crate::LocalBackend,
    f: F,
) -> Vec<Subscription> {
    for _ in 0..200 {
        let subs = b.notifier.subscriptions().await.unwrap();
        if f(&subs) {
            return subs;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition not reached within 10 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_are_stored_and_reach_only_matching_subscribers() {
    let dir = TempDir::new("local");
    let b = open(&dir, WebhookPolicy::default());
    let (ward_url, ward_secret, mut ward_rx) = endpoint(Behaviour::Ok).await;
    let (ha_url, ha_secret, mut ha_rx) = endpoint(Behaviour::Ok).await;
    let ward = b
        .notifier
        .subscribe(&ward_url, json!({"unit": ["ward:00070"]}))
        .await
        .unwrap();
    *ward_secret.lock().unwrap() = ward.secret.clone();
    let ha = b
        .notifier
        .subscribe(&ha_url, json!({"audience": ["home-affairs"]}))
        .await
        .unwrap();
    *ha_secret.lock().unwrap() = ha.secret.clone();
    assert_ne!(ward.secret, ha.secret, "one secret per subscription");
    assert!(
        b.notifier
            .subscribe("https://ward70.example/hook", json!({}))
            .await
            .is_ok(),
        "https is accepted"
    );
    for bad in ["ftp://x/y", "mailto:a@b.c", "not a url"] {
        assert!(b.notifier.subscribe(bad, json!({})).await.is_err(), "{bad}");
    }
    assert!(b.notifier.subscribe(&ward_url, json!([])).await.is_err());

    b.notifier
        .publish(&notification("ward:00070", "d1"))
        .await
        .unwrap();
    let got = next(&mut ward_rx).await;
    assert!(got.signature_ok, "signed with the subscription's secret");
    assert_eq!(got.body["dedup_id"], "d1");
    assert_eq!(got.body["unit"], "ward:00070");

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
    let subs = b.notifier.subscriptions().await.unwrap();
    assert_eq!(subs.len(), 3);
    assert!(subs[0].last_success_at.is_some() && subs[0].last_failure_at.is_none());
    assert!(b.notifier.unsubscribe(ward.id).await.unwrap());
    assert!(!b.notifier.unsubscribe(ward.id).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_deliveries_are_retried_given_up_and_never_delay_another_subscriber() {
    let dir = TempDir::new("local");
    let b = open(
        &dir,
        WebhookPolicy {
            timeout: Duration::from_secs(3),
            first_retry: Duration::from_millis(50),
            max_retry: Duration::from_millis(200),
            give_up_after: Duration::from_millis(600),
        },
    );
    let (hang_url, _, mut hang_rx) = endpoint(Behaviour::Hang).await;
    let (flaky_url, flaky_secret, mut flaky_rx) = endpoint(Behaviour::FailFirst(2)).await;
    let (ok_url, ok_secret, mut ok_rx) = endpoint(Behaviour::Ok).await;
    // A port nobody listens on: every attempt fails at once.
    let dead_url = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hook", l.local_addr().unwrap())
    };
    let hang = b.notifier.subscribe(&hang_url, json!({})).await.unwrap();
    let flaky = b.notifier.subscribe(&flaky_url, json!({})).await.unwrap();
    *flaky_secret.lock().unwrap() = flaky.secret.clone();
    let ok = b.notifier.subscribe(&ok_url, json!({})).await.unwrap();
    *ok_secret.lock().unwrap() = ok.secret.clone();
    let dead = b.notifier.subscribe(&dead_url, json!({})).await.unwrap();

    b.notifier
        .publish(&notification("ward:00070", "d1"))
        .await
        .unwrap();

    // The healthy subscriber is served while the hanging one still holds
    // its first attempt open (its timeout is 3 s): nobody waits for it.
    let _ = next(&mut hang_rx).await;
    let got = next(&mut ok_rx).await;
    assert!(got.signature_ok);
    assert!(
        b.notifier.attempts(hang.id).await.unwrap().is_empty(),
        "the hanging subscriber's first attempt is still in flight"
    );

    // The flaky one: two 500s, then a 2xx; each attempt signed and recorded.
    for _ in 0..3 {
        assert!(next(&mut flaky_rx).await.signature_ok);
    }
    let subs = eventually(&b, |s| {
        let f = s.iter().find(|x| x.id == flaky.id).unwrap();
        let d = s.iter().find(|x| x.id == dead.id).unwrap();
        f.pending == 0 && d.pending == 0
    })
    .await;
    let attempts = b.notifier.attempts(flaky.id).await.unwrap();
    assert_eq!(
        attempts.iter().map(|a| a.http_status).collect::<Vec<_>>(),
        [Some(500), Some(500), Some(204)]
    );
    assert_eq!(attempts[2].delivery_status, "delivered");
    let f = subs.iter().find(|x| x.id == flaky.id).unwrap();
    assert!(f.last_success_at.is_some() && f.last_failure_at.is_some());
    assert_eq!(
        f.last_error.as_deref(),
        Some("HTTP 500 Internal Server Error")
    );

    // The dead one: retried with backoff, then given up after 600 ms.
    let attempts = b.notifier.attempts(dead.id).await.unwrap();
    assert!(attempts.len() >= 2, "retried: {attempts:?}");
    assert!(
        attempts
            .iter()
            .all(|a| a.error.as_deref() == Some("could not connect"))
    );
    assert!(attempts.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(attempts.last().unwrap().delivery_status, "gave_up");
    let d = subs.iter().find(|x| x.id == dead.id).unwrap();
    assert!(d.last_success_at.is_none() && d.last_failure_at.is_some());

    // A later message still reaches the healthy subscriber at once.
    b.notifier
        .publish(&notification("ward:00070", "d2"))
        .await
        .unwrap();
    assert_eq!(next(&mut ok_rx).await.body["dedup_id"], "d2");
}

#[test]
fn deliveries_pending_at_a_restart_are_resumed() {
    let dir = TempDir::new("local");
    let policy = WebhookPolicy {
        first_retry: Duration::from_millis(100),
        max_retry: Duration::from_millis(100),
        ..WebhookPolicy::default()
    };
    // The endpoint is down while pakn publishes; then pakn stops (its
    // runtime and delivery tasks are dropped) with the delivery pending.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let url = format!("http://{addr}/hook");
    let first = tokio::runtime::Runtime::new().unwrap();
    let secret = first.block_on(async {
        let b = open(&dir, policy);
        let s = b.notifier.subscribe(&url, json!({})).await.unwrap();
        b.notifier
            .publish(&notification("ward:00070", "d1"))
            .await
            .unwrap();
        eventually(&b, |s| s[0].last_failure_at.is_some()).await;
        s.secret
    });
    drop(first);

    // The endpoint comes back, pakn starts again: the delivery goes out.
    let second = tokio::runtime::Runtime::new().unwrap();
    second.block_on(async {
        let (_, sec, mut rx) = endpoint_on(&addr.to_string(), Behaviour::Ok).await;
        *sec.lock().unwrap() = secret;
        let b = open(&dir, policy);
        b.notifier.resume_deliveries().await.unwrap();
        let hit = next(&mut rx).await;
        assert_eq!(hit.body["dedup_id"], "d1");
        assert!(hit.signature_ok);
        let subs = eventually(&b, |s| s[0].pending == 0).await;
        assert!(subs[0].last_success_at.is_some());
    });
}
