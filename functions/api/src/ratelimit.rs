//! The per-address limit of the public endpoints (tracking lookup, stats,
//! registration): a token bucket per client address, in this instance's
//! memory. On AWS each Lambda instance keeps its own buckets, so the limit
//! is per instance (a CloudFront + WAF rate rule would make it global). The
//! address is API Gateway's `requestContext.http.sourceIp` or, locally, the
//! socket's peer; `X-Forwarded-For` is never trusted. A request whose
//! address is unknown is not limited. Time is the `Pakn` clock's.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use lambda_http::request::RequestContext;
use pakn_core::Error;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

/// Buckets kept before idle (full) ones are dropped.
const MAX_BUCKETS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: DateTime<Utc>,
}

/// Token buckets per client address: `per_minute` tokens at most, refilled
/// at `per_minute` a minute.
#[derive(Debug, Default)]
pub struct AddressLimiter {
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl AddressLimiter {
    /// Take one token for `ip` at `now`: `Ok` or the seconds to wait.
    pub fn take(&self, ip: IpAddr, per_minute: u32, now: DateTime<Utc>) -> Result<(), i64> {
        if per_minute == 0 {
            return Err(60);
        }
        let cap = f64::from(per_minute);
        let rate = cap / 60.0; // tokens a second
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|_, b| refill(b, now, cap, rate) < cap);
        }
        let b = buckets.entry(ip).or_insert(Bucket {
            tokens: cap,
            at: now,
        });
        let tokens = refill(b, now, cap, rate);
        if tokens >= 1.0 {
            *b = Bucket {
                tokens: tokens - 1.0,
                at: now.max(b.at),
            };
            Ok(())
        } else {
            *b = Bucket {
                tokens,
                at: now.max(b.at),
            };
            Err(((1.0 - tokens) / rate).ceil().max(1.0) as i64)
        }
    }
}

fn refill(b: &Bucket, now: DateTime<Utc>, cap: f64, rate: f64) -> f64 {
    let secs = (now - b.at).num_milliseconds().max(0) as f64 / 1000.0;
    (b.tokens + secs * rate).min(cap)
}

/// The client's address: API Gateway's source IP, else the socket peer.
pub fn client_ip(req: &Request) -> Option<IpAddr> {
    if let Some(RequestContext::ApiGatewayV2(ctx)) = req.extensions().get::<RequestContext>() {
        return ctx.http.source_ip.as_deref().and_then(|s| s.parse().ok());
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip())
}

/// Middleware for the public routes.
pub async fn limit_public(
    State((limiter, state)): State<(Arc<AddressLimiter>, AppState)>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(ip) = client_ip(&req) {
        let per_minute = state
            .pakn
            .refdata
            .policy
            .rate_limits
            .public_per_address_per_minute;
        if let Err(secs) = limiter.take(ip, per_minute, state.pakn.now()) {
            return ApiError::from(Error::rate_limited(secs)).into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_bucket_empties_refills_and_is_per_address() {
        let l = AddressLimiter::default();
        let t = DateTime::<Utc>::from_timestamp(1_750_000_000, 0).expect("t");
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        for _ in 0..3 {
            assert_eq!(l.take(a, 3, t), Ok(()));
        }
        assert_eq!(l.take(a, 3, t), Err(20), "one token every 20 s");
        assert_eq!(l.take(b, 3, t), Ok(()), "another address has its own");
        assert_eq!(l.take(a, 3, t + Duration::seconds(19)), Err(1));
        assert_eq!(l.take(a, 3, t + Duration::seconds(20)), Ok(()));
        assert_eq!(l.take(a, 3, t + Duration::hours(1)), Ok(()), "full again");
    }

    #[test]
    fn the_address_is_api_gateways_source_ip_or_the_peer_never_x_forwarded_for() {
        use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
        let req = |ctx: Option<&str>, peer: Option<&str>| {
            let mut r = Request::new(axum::body::Body::empty());
            r.headers_mut()
                .insert("x-forwarded-for", "198.51.100.9".parse().expect("header"));
            if let Some(ip) = ctx {
                let mut c = ApiGatewayV2httpRequestContext::default();
                c.http.source_ip = Some(ip.to_string());
                r.extensions_mut().insert(RequestContext::ApiGatewayV2(c));
            }
            if let Some(a) = peer {
                let a: SocketAddr = a.parse().expect("addr");
                r.extensions_mut().insert(ConnectInfo(a));
            }
            r
        };
        let ip = |s: &str| Some(s.parse::<IpAddr>().expect("ip"));
        assert_eq!(
            client_ip(&req(Some("203.0.113.5"), Some("10.0.0.1:1"))),
            ip("203.0.113.5")
        );
        assert_eq!(client_ip(&req(None, Some("10.0.0.1:1"))), ip("10.0.0.1"));
        assert_eq!(client_ip(&req(None, None)), None);
    }
}
