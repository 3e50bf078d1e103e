//! Request ids and one tracing span per request.
//!
//! `x-request-id` is taken from the request when it is a sane token (up to
//! 128 visible ASCII characters), else API Gateway's request id on Lambda,
//! else a fresh ULID; it is echoed on the response. The span records the
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

fn request_id(req: &Request) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(sane)
        .or_else(|| match req.extensions().get::<RequestContext>() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
            _ => None,
        })
        .unwrap_or_else(|| ulid::Ulid::new().to_string())
}

/// The middleware (`axum::middleware::from_fn`).
pub async fn request_context(req: Request, next: Next) -> Response {
    let id = request_id(&req);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "<unmatched>".into());
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), route = %route, status = tracing::field::Empty);
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
