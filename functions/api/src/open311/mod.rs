//! Open311 GeoReport v2 under `/open311/v2`: discovery, services, service
//! definitions, requests (submit, list, one), tokens, in XML (the
//! standard's required format) and JSON, errors in the standard's shape
//! ([`doc::Open311Error`]).
//!
//! axum cannot capture `{code}.json` inside one segment, so each route
//! captures the segment and splits the extension ([`doc::Format::split`]);
//! [`ROUTES`] says which documented paths each serves. The routes are
//! public (no token): submitting needs the `api_key` the city issued with
//! `pakn apikey create`; reading shows the public view of cases only. Every
//! route is limited per client address like the other public routes.

pub mod doc;
pub mod form;
pub mod schema;
pub mod views;

use crate::AppState;
use crate::extract::P;
use crate::ratelimit::{AddressLimiter, client_ip};
use axum::body::Bytes;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use doc::{Format, Node, Open311Error, answer};
use form::Params;
use lambda_http::request::RequestContext;
use pakn_core::{Error, ErrorKind};
use std::sync::Arc;

/// Where the GeoReport v2 endpoint lives.
pub const BASE: &str = "/open311/v2";

/// Each route (as axum matches it), the documented (method, path) pairs it
/// serves, and its handlers.
/// One route: the path axum matches, the documented (method, path) pairs
/// it serves, its handlers.
pub type Route = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    MethodRouter<AppState>,
);

pub fn table() -> Vec<Route> {
    vec![
        (
            "/open311/v2/{file}",
            vec![
                ("GET", "/open311/v2/discovery.{format}"),
                ("GET", "/open311/v2/services.{format}"),
                ("GET", "/open311/v2/requests.{format}"),
                ("POST", "/open311/v2/requests.{format}"),
            ],
            get(top).post(post_top).fallback(not_allowed),
        ),
        (
            "/open311/v2/services/{file}",
            vec![("GET", "/open311/v2/services/{service_code}.{format}")],
            get(service_definition).fallback(not_allowed),
        ),
        (
            "/open311/v2/requests/{file}",
            vec![("GET", "/open311/v2/requests/{service_request_id}.{format}")],
            get(one_request).fallback(not_allowed),
        ),
        (
            "/open311/v2/tokens/{file}",
            vec![("GET", "/open311/v2/tokens/{token}.{format}")],
            get(token).fallback(not_allowed),
        ),
    ]
}

/// The router's fallback: an unknown address under `/open311/` in the
/// standard's shape, anything else in pakn's.
pub async fn fallback(req: Request) -> Response {
    let path = req.uri().path();
    if path.starts_with("/open311/") {
        no_route(Format::of_path(path))
    } else {
        crate::error::no_route().await.into_response()
    }
}

fn no_route(f: Format) -> Response {
    Open311Error::new(f, Error::new(ErrorKind::NotFound, "no_route")).into_response()
}

async fn not_allowed(req: Request) -> Response {
    let mut res = Open311Error::new(
        Format::of_path(req.uri().path()),
        Error::new(ErrorKind::Malformed, "method_not_allowed"),
    )
    .into_response();
    *res.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    res
}

/// The segment's name and format, or the standard's error.
fn split(file: &str) -> Result<(&str, Format), Open311Error> {
    Format::split(file).ok_or_else(|| {
        Open311Error::new(
            Format::Xml,
            Error::new(ErrorKind::Malformed, "unknown_format"),
        )
    })
}

fn fail(f: Format, e: impl Into<Error>) -> Open311Error {
    Open311Error::new(f, e)
}

/// The per-address limit, answered in the standard's shape.
pub async fn limit(
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
            return fail(Format::of_path(req.uri().path()), Error::rate_limited(secs))
                .into_response();
        }
    }
    next.run(req).await
}

async fn top(
    State(s): State<AppState>,
    P(file): P<String>,
    headers: HeaderMap,
    req_ctx: Option<axum::Extension<RequestContext>>,
    RawQuery(query): RawQuery,
) -> Result<Response, Open311Error> {
    let (name, f) = split(&file)?;
    match name {
        "discovery" => Ok(discovery(f, &headers, req_ctx.is_some())),
        "services" => Ok(services(&s, f)),
        "requests" => requests(&s, f, query.as_deref().unwrap_or("")).await,
        _ => Ok(no_route(f)),
    }
}

async fn post_top(
    State(s): State<AppState>,
    P(file): P<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, Open311Error> {
    let (name, f) = split(&file)?;
    if name != "requests" {
        return Ok(no_route(f));
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            fail(
                f,
                crate::ApiError::payload_too_large(crate::extract::BODY_LIMIT).error,
            )
        } else {
            fail(f, Error::new(ErrorKind::Malformed, "unreadable_body"))
        }
    })?;
    submit(&s, f, &headers, query.as_deref().unwrap_or(""), &body).await
}

/// This endpoint's own address, as the caller reached it.
fn base_url(headers: &HeaderMap, behind_gateway: bool) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        });
    let https = behind_gateway
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            == Some("https");
    match host {
        Some(h) => format!("{}://{h}{BASE}", if https { "https" } else { "http" }),
        None => BASE.to_string(),
    }
}

/// Where this endpoint is, and what it speaks.
#[utoipa::path(get, path = "/open311/v2/discovery.{format}", tag = "open311",
    params(("format" = Format311, Path)),
    responses(
        (status = 200, description = "The service discovery document",
            content((schema::Discovery = "application/json"), (String = "text/xml"))),
        (status = 400, description = "No .json or .xml", content((Vec<schema::Error> = "application/json"), (String = "text/xml"))),
        (status = 429, description = "Over the per-address limit", content((Vec<schema::Error> = "application/json"), (String = "text/xml")),
            headers(("Retry-After" = u32)))))]
fn discovery(f: Format, headers: &HeaderMap, behind_gateway: bool) -> Response {
    let url = base_url(headers, behind_gateway);
    answer(StatusCode::OK, f, "discovery", &views::discovery(&url))
}

/// Every service (a pakn category): code, name, whether it has attributes.
#[utoipa::path(get, path = "/open311/v2/services.{format}", tag = "open311",
    params(("format" = Format311, Path)),
    responses(
        (status = 200, description = "The services",
            content((Vec<schema::Service> = "application/json"), (String = "text/xml"))),
        (status = 400, description = "No .json or .xml", content((Vec<schema::Error> = "application/json"), (String = "text/xml"))),
        (status = 429, description = "Over the per-address limit", content((Vec<schema::Error> = "application/json"), (String = "text/xml")),
            headers(("Retry-After" = u32)))))]
fn services(s: &AppState, f: Format) -> Response {
    let r = &s.pakn.refdata;
    let list = r.categories.iter().map(|c| views::service(c, r)).collect();
    answer(StatusCode::OK, f, "services", &Node::List("service", list))
}

/// A service's definition: its attributes (a ward's service asks which ward).
#[utoipa::path(get, path = "/open311/v2/services/{service_code}.{format}", tag = "open311",
    params(("service_code" = String, Path, example = "lighting"), ("format" = Format311, Path)),
    responses(
        (status = 200, description = "The service definition",
            content((schema::ServiceDefinition = "application/json"), (String = "text/xml"))),
        (status = 400, description = "No .json or .xml", content((Vec<schema::Error> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "Unknown service", content((Vec<schema::Error> = "application/json"), (String = "text/xml"))),
        (status = 429, description = "Over the per-address limit", content((Vec<schema::Error> = "application/json"), (String = "text/xml")),
            headers(("Retry-After" = u32)))))]
async fn service_definition(
    State(s): State<AppState>,
    P(file): P<String>,
) -> Result<Response, Open311Error> {
    let (code, f) = split(&file)?;
    let r = &s.pakn.refdata;
    let c = r.category(code).ok_or_else(|| {
        fail(
            f,
            Error::new(ErrorKind::NotFound, "unknown_service").with("service_code", code),
        )
    })?;
    Ok(answer(
        StatusCode::OK,
        f,
        "service_definition",
        &views::service_definition(c, r, s.pakn.open311().boundaries_loaded().await),
    ))
}

/// Submit a service request (form-encoded) with the application's `api_key`.
/// The answer names the request at once (no token needed).
#[utoipa::path(post, path = "/open311/v2/requests.{format}", tag = "open311",
    params(("format" = Format311, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "optional: the same key and form answer the same request")),
    request_body(content = schema::RequestForm, content_type = "application/x-www-form-urlencoded"),
    security(("open311_api_key" = [])),
    responses(
        (status = 201, description = "Stored; routing follows",
            content((Vec<schema::Receipt> = "application/json"), (String = "text/xml"))),
        (status = 400, description = "Not a valid request (every problem listed)", content((Vec<schema::Error> = "application/json"), (String = "text/xml"))),
        (status = 403, description = "No api_key, or not a valid one", content((Vec<schema::Error> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "Unknown service", content((Vec<schema::Error> = "application/json"), (String = "text/xml"))),
        (status = 429, description = "The key or the address is over its limit", content((Vec<schema::Error> = "application/json"), (String = "text/xml")),
            headers(("Retry-After" = u32)))))]
async fn submit(
    s: &AppState,
    f: Format,
    headers: &HeaderMap,
    query: &str,
    body: &[u8],
) -> Result<Response, Open311Error> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    if form_type
        .as_deref()
        .is_some_and(|t| t != "application/x-www-form-urlencoded")
    {
        return Err(fail(
            f,
            Error::new(ErrorKind::Malformed, "unsupported_media_type").with("expected", "form"),
        ));
    }
    let params = Params::parse(body);
    let query = Params::parse(query.as_bytes());
    let mut errors = Vec::new();
    let key = params
        .one("api_key")
        .ok()
        .flatten()
        .or_else(|| query.one("api_key").ok().flatten());
    let principal = match s.pakn.api_keys().authenticate(key).await {
        Ok(p) => Some(p),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let parsed = form::service_request(&params).map_err(|e| errors.extend(e));
    let idem_key = crate::extract::idempotency_key(headers).map_err(|e| e.error);
    let idempotency = idem_key
        .and_then(|k| crate::commands::idempotency(k, &params.without_key()))
        .map_err(|e| errors.push(e));
    let (Some(p), Ok(request), Ok(idempotency)) = (principal, parsed, idempotency) else {
        return Err(Open311Error { format: f, errors });
    };
    let code = request.service_code.clone();
    let receipt = s
        .pakn
        .open311()
        .submit(&p, request, idempotency)
        .await
        .map_err(|e| fail(f, e))?;
    let notice =
        views::service_notice(&s.pakn.refdata, &code, pakn_core::category::Urgency::Normal);
    Ok(answer(
        StatusCode::CREATED,
        f,
        "service_requests",
        &views::receipt(&receipt.id, &notice),
    ))
}

/// Requests, newest first: by id (a comma list, overriding the rest), or
/// by service, period (at most 90 days; the last 90 by default) and status,
/// a page at a time (`page`, `page_size` ≤ 1,000). Public view only.
#[utoipa::path(get, path = "/open311/v2/requests.{format}", tag = "open311",
    params(("format" = Format311, Path), RequestsQuery),
    responses(
        (status = 200, description = "The requests",
            content((Vec<schema::Request> = "application/json"), (String = "text/xml"))),
        (status = 400, description = "A filter is not valid (every problem listed), or a tracking code in `service_request_id` whose check character fails (before any lookup)", content((Vec<schema::Error> = "application/json"), (String = "text/xml"))),
        (status = 429, description = "Over the per-address limit", content((Vec<schema::Error> = "application/json"), (String = "text/xml")),
            headers(("Retry-After" = u32)))))]
async fn requests(s: &AppState, f: Format, query: &str) -> Result<Response, Open311Error> {
    let (filter, extensions) = form::request_filter(&Params::parse(query.as_bytes()))
        .map_err(|errors| Open311Error { format: f, errors })?;
    let found = s
        .pakn
        .open311()
        .requests(filter)
        .await
        .map_err(|e| fail(f, e))?;
    let r = &s.pakn.refdata;
    let list = found
        .iter()
        .map(|q| views::request(q, r, extensions))
        .collect();
    Ok(answer(
        StatusCode::OK,
        f,
        "service_requests",
        &Node::List("request", list),
    ))
}

/// One request (a list of one), by its id or its tracking code.
#[utoipa::path(get, path = "/open311/v2/requests/{service_request_id}.{format}", tag = "open311",
    params(("service_request_id" = String, Path, example = "01JF3Q8Z5W7M2K9T4R6Y1X0ABC"), ("format" = Format311, Path),
        ("extensions" = Option<bool>, Query, description = "pakn's extended_attributes")),
    responses(
        (status = 200, description = "The request",
            content((Vec<schema::Request> = "application/json"), (String = "text/xml"))),
        (status = 400, description = "No .json or .xml, or a tracking code whose check character fails (`invalid_check_character`, before any lookup)", content((Vec<schema::Error> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "No such request", content((Vec<schema::Error> = "application/json"), (String = "text/xml"))),
        (status = 429, description = "Over the per-address limit", content((Vec<schema::Error> = "application/json"), (String = "text/xml")),
            headers(("Retry-After" = u32)))))]
async fn one_request(
    State(s): State<AppState>,
    P(file): P<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, Open311Error> {
    let (id, f) = split(&file)?;
    let params = Params::parse(query.as_deref().unwrap_or("").as_bytes());
    let extensions = params
        .one("extensions")
        .ok()
        .flatten()
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let found = s.pakn.open311().request(id).await.map_err(|e| fail(f, e))?;
    Ok(answer(
        StatusCode::OK,
        f,
        "service_requests",
        &Node::List(
            "request",
            vec![views::request(&found, &s.pakn.refdata, extensions)],
        ),
    ))
}

/// The request behind a token. pakn names a request at once, so every
/// request's token is its `service_request_id`.
#[utoipa::path(get, path = "/open311/v2/tokens/{token}.{format}", tag = "open311",
    params(("token" = String, Path), ("format" = Format311, Path)),
    responses(
        (status = 200, description = "The request's id",
            content((Vec<schema::Token> = "application/json"), (String = "text/xml"))),
        (status = 400, description = "No .json or .xml, or a tracking code whose check character fails (`invalid_check_character`, before any lookup)", content((Vec<schema::Error> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "No such token", content((Vec<schema::Error> = "application/json"), (String = "text/xml"))),
        (status = 429, description = "Over the per-address limit", content((Vec<schema::Error> = "application/json"), (String = "text/xml")),
            headers(("Retry-After" = u32)))))]
async fn token(State(s): State<AppState>, P(file): P<String>) -> Result<Response, Open311Error> {
    let (token, f) = split(&file)?;
    let found = s
        .pakn
        .open311()
        .token(token)
        .await
        .map_err(|e| fail(f, e))?;
    Ok(answer(
        StatusCode::OK,
        f,
        "service_requests",
        &views::token(&found.id, token),
    ))
}

/// `json` or `xml`.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = open311::Format)]
#[allow(dead_code)]
pub enum Format311 {
    Json,
    Xml,
}

/// The filters of `GET /requests`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct RequestsQuery {
    /// Case ids (or tracking codes), comma-separated; overrides every other filter.
    service_request_id: Option<String>,
    /// Service codes, comma-separated.
    service_code: Option<String>,
    /// W3C date-time, e.g. 2026-12-01T00:00:00+07:00.
    start_date: Option<String>,
    /// W3C date-time; at most 90 days after start_date.
    end_date: Option<String>,
    /// `open`, `closed` or both, comma-separated.
    status: Option<String>,
    /// From 1.
    page: Option<u32>,
    /// 1 to 1,000 (default 1,000).
    page_size: Option<u32>,
    /// `true`: pakn's extended_attributes on each request.
    extensions: Option<bool>,
}
