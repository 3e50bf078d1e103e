//! A request-counting proxy in front of the emulator, the same approach as
//! `pakn bench lifecycle-units`: the SDK talks to 127.0.0.1:<port>, the proxy
//! records each request's operation (`DynamoDB_20120810.Query` → `Query`)
//! and forwards it unchanged. Counts, never timings, so tests may assert
//! them.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};

#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    seen: Arc<Mutex<Vec<String>>>,
    sns: Arc<Mutex<Vec<SnsCall>>>,
}

/// One SNS request as sent on the wire: its form parameters (`Action`,
/// `TopicArn`, `PhoneNumber`, `Message`, …) in order.
pub type SnsCall = Vec<(String, String)>;

/// The value of parameter `name` in an SNS call.
pub fn param<'a>(call: &'a SnsCall, name: &str) -> Option<&'a str> {
    call.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A running proxy: its endpoint and what went through it.
pub struct Counting {
    pub endpoint: String,
    seen: Arc<Mutex<Vec<String>>>,
    sns: Arc<Mutex<Vec<SnsCall>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Counting {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Counting {
    /// Start a proxy to `upstream` (an emulator on 127.0.0.1).
    pub async fn start(upstream: &str) -> Counting {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sns = Arc::new(Mutex::new(Vec::new()));
        let proxy = Proxy {
            upstream: upstream.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
            seen: seen.clone(),
            sns: sns.clone(),
        };
        let app = Router::new().fallback(forward).with_state(proxy);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Counting {
            endpoint: format!("http://{addr}"),
            seen,
            sns,
            task,
        }
    }

    /// The SNS requests since the last call (and forget them).
    pub fn take_sns(&self) -> Vec<SnsCall> {
        std::mem::take(&mut *self.sns.lock().expect("proxy lock"))
    }

    /// The DynamoDB operations since the last call (and forget them).
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.seen.lock().expect("proxy lock"))
    }
}

async fn forward(
    State(p): State<Proxy>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(op) = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.strip_prefix("DynamoDB_20120810."))
    {
        p.seen.lock().expect("proxy lock").push(op.to_string());
    } else if headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
    {
        let call: SnsCall = form_urlencoded::parse(&body).into_owned().collect();
        if param(&call, "Version") == Some("2010-03-31") {
            p.sns.lock().expect("proxy lock").push(call);
        }
    }
    let path = uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
    let mut req = p.http.request(method, format!("{}{path}", p.upstream));
    for (k, v) in &headers {
        if !matches!(
            k.as_str(),
            "host" | "content-length" | "connection" | "transfer-encoding"
        ) {
            req = req.header(k.clone(), v.clone());
        }
    }
    let res = match req.body(body).send().await {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = res.status();
    let res_headers = res.headers().clone();
    let bytes = res.bytes().await.unwrap_or_default();
    let mut out = Response::builder().status(status);
    for (k, v) in &res_headers {
        if !matches!(
            k.as_str(),
            "content-length" | "connection" | "transfer-encoding"
        ) {
            out = out.header(k.clone(), v.clone());
        }
    }
    out.body(axum::body::Body::from(bytes))
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}
