//! Request ids and one tracing span per request.
//!
//! The request id is API Gateway's on Lambda (a client cannot choose it),
//! else the client's `x-request-id` when it is a sane token (up to 128
//! visible ASCII characters, e.g. locally behind a proxy), else a fresh
//! ULID; it is echoed on the response. On Lambda a client's own header is
//! logged as a separate field, `client_request_id`. The span records the
//! method, the *matched* route template (`/v1/cases/{id}`, never the
//! concrete path, so no tracking code or id lands in the logs), the status
//! and the latency. No body, query or header values are logged.

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use lambda_http::request::RequestContext;
use std::time::Instant;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn sane(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    (!s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| s.to_string())
}

/// (the request id, the client's own header when the gateway's won)
fn request_id(req: &Request) -> (String, Option<String>) {
    let client = req.headers().get(&REQUEST_ID).and_then(sane);
    let gateway = match req.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        _ => None,
    };
    match gateway {
        Some(g) => (g, client),
        None => (
            client.unwrap_or_else(|| ulid::Ulid::new().to_string()),
            None,
        ),
    }
}

/// The middleware (`axum::middleware::from_fn`).
pub async fn request_context(req: Request, next: Next) -> Response {
    let (id, client_id) = request_id(&req);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "<unmatched>".into());
    let span = tracing::info_span!("request", request_id = %id, client_request_id = client_id.as_deref().unwrap_or(""), method = %req.method(), route = %route, status = tracing::field::Empty);
    let start = Instant::now();
    let mut res = next.run(req).instrument(span.clone()).await;
    let status = res.status().as_u16();
    span.record("status", status);
    span.in_scope(|| tracing::info!(latency_ms = start.elapsed().as_millis() as u64, "answered"));
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    res
}
