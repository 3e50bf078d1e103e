//! A small Lambda Runtime API on 127.0.0.1, so the real `bootstrap`
//! binaries (host target) run exactly as on Lambda: they long-poll
//! `GET /2018-06-01/runtime/invocation/next`, and answer on
//! `/invocation/{id}/response` or `/invocation/{id}/error`. It also records
//! when the binary first asked for work (cold init time).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// What the function answered.
#[derive(Debug, Clone)]
pub enum Answer {
    Response(Value),
    Error(Value),
}

struct Inner {
    next: tokio::sync::Mutex<mpsc::Receiver<(String, Value)>>,
    waiters: Mutex<HashMap<String, oneshot::Sender<Answer>>>,
    started: Instant,
    first_poll: Mutex<Option<Duration>>,
    init_error: Mutex<Option<Value>>,
}

pub struct RuntimeStub {
    pub addr: String,
    tx: mpsc::Sender<(String, Value)>,
    inner: Arc<Inner>,
    seq: std::sync::atomic::AtomicU64,
}

impl RuntimeStub {
    pub async fn start() -> RuntimeStub {
        let (tx, rx) = mpsc::channel(16);
        let inner = Arc::new(Inner {
            next: tokio::sync::Mutex::new(rx),
            waiters: Mutex::new(HashMap::new()),
            started: Instant::now(),
            first_poll: Mutex::new(None),
            init_error: Mutex::new(None),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind runtime stub");
        let addr = listener.local_addr().expect("addr").to_string();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        RuntimeStub {
            addr,
            tx,
            inner,
            seq: Default::default(),
        }
    }

    /// Hand one event to the function and wait for its answer.
    pub async fn invoke(&self, event: Value, timeout: Duration) -> Answer {
        let n = self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("req-{n:04}-{}", std::process::id());
        let (otx, orx) = oneshot::channel();
        self.inner
            .waiters
            .lock()
            .expect("lock")
            .insert(id.clone(), otx);
        self.tx
            .send((id.clone(), event))
            .await
            .expect("queue event");
        match tokio::time::timeout(timeout, orx).await {
            Ok(Ok(a)) => a,
            _ => panic!(
                "the function did not answer invocation {id} within {timeout:?} (init error: {:?})",
                self.inner.init_error.lock().expect("lock")
            ),
        }
    }

    /// Time from the stub's start to the function's first `next` poll.
    pub fn cold_init(&self) -> Option<Duration> {
        *self.inner.first_poll.lock().expect("lock")
    }
}

async fn next(State(s): State<Arc<Inner>>) -> (HeaderMap, Json<Value>) {
    {
        let mut fp = s.first_poll.lock().expect("lock");
        if fp.is_none() {
            *fp = Some(s.started.elapsed());
        }
    }
    let (id, event) = s
        .next
        .lock()
        .await
        .recv()
        .await
        .unwrap_or_else(|| ("closed".into(), Value::Null));
    let mut h = HeaderMap::new();
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() + 30_000)
        .unwrap_or(0);
    let hv = |s: &str| HeaderValue::from_str(s).expect("header value");
    h.insert("lambda-runtime-aws-request-id", hv(&id));
    h.insert("lambda-runtime-deadline-ms", hv(&deadline.to_string()));
    h.insert(
        "lambda-runtime-invoked-function-arn",
        hv("arn:aws:lambda:ap-southeast-1:123456789012:function:pakn-test"),
    );
    h.insert(
        "lambda-runtime-trace-id",
        hv("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"),
    );
    (h, Json(event))
}

fn answer(s: &Inner, id: &str, a: Answer) -> StatusCode {
    match s.waiters.lock().expect("lock").remove(id) {
        Some(tx) => {
            let _ = tx.send(a);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn response(
    State(s): State<Arc<Inner>>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> StatusCode {
    let v = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
    answer(&s, &id, Answer::Response(v))
}

async fn error(
    State(s): State<Arc<Inner>>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> StatusCode {
    let v = serde_json::from_slice(&body).unwrap_or(Value::Null);
    answer(&s, &id, Answer::Error(v))
}

async fn init_error(State(s): State<Arc<Inner>>, body: axum::body::Bytes) -> StatusCode {
    *s.init_error.lock().expect("lock") =
        Some(serde_json::from_slice(&body).unwrap_or(Value::Null));
    StatusCode::ACCEPTED
}
