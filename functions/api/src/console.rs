//! The web console: a single-page app of plain HTML, CSS and JavaScript
//! modules (the repository's `console/` folder, no build step), compiled
//! into the binary and served by the same router as the API — by `pakn
//! serve` locally and by the API Lambda on AWS (template.yaml's `GET /` and
//! `/{proxy+}` routes, no authorizer: the console is public, its data is not).
//!
//! Why the API function and not S3 + CloudFront: one artefact to build and
//! deploy, no CDN to configure, and the console shares the API's origin, so
//! no CORS at all and a Content-Security-Policy of `'self'`. The price is a
//! Lambda invocation per asset fetch, kept small by caching: the index
//! names its assets under a version path (`/console/v/<hash>/app.js`, the
//! hash of every asset), served `immutable` for a year; the index itself
//! and unversioned names revalidate with an `ETag` (`304` when unchanged).
//!
//! `GET /console/config.json` tells the page how people sign in: the
//! developer sign-in ([`ConsoleSettings::dev_login`], `pakn serve` only) or
//! each Cognito pool's Hosted UI (authorization-code flow with PKCE, run
//! by the console's own `auth.js`).

use crate::AppState;
use axum::extract::{Path, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// How the console signs people in; part of [`AppState`].
#[derive(Debug, Clone, Default)]
pub struct ConsoleSettings {
    /// `POST /v1/dev/token` is open (`pakn serve` per `pakn_config::Config::dev_login`).
    pub dev_login: bool,
    /// The Cognito Hosted UI of each pool (AWS), if configured.
    pub hosted_ui: Option<HostedUi>,
    /// Where uploads go and links point when they are not on this origin
    /// (the media bucket's S3 endpoint on AWS): allowed for `connect-src`
    /// (the presigned PUT) and `img-src` (thumbnails).
    pub media_origin: Option<String>,
}

/// Where the console sends people to sign in on AWS.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HostedUi {
    pub staff: HostedPool,
    pub citizen: HostedPool,
}

/// One pool's Hosted UI: its OAuth 2.0 endpoints live under `domain`
/// (`/oauth2/authorize`, `/oauth2/token`, `/logout`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HostedPool {
    pub domain: String,
    pub client_id: String,
}

impl HostedUi {
    /// Both pools' Hosted UI when both domains are configured.
    pub fn from_issuers(i: &pakn_config::Issuers) -> Option<HostedUi> {
        let pool = |s: &pakn_config::IssuerSettings| {
            Some(HostedPool {
                domain: s.auth_domain.clone()?,
                client_id: s.client_id.clone(),
            })
        };
        Some(HostedUi {
            staff: pool(&i.staff)?,
            citizen: pool(&i.citizen)?,
        })
    }
}

/// Every file of the console: name, content type, bytes. A file not listed
/// here is not served (and not compiled in).
macro_rules! assets {
    ($($name:literal => $ty:literal),* $(,)?) => {
        &[$(($name, $ty, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../console/", $name)) as &[u8])),*]
    };
}

pub const ASSETS: &[(&str, &str, &[u8])] = assets! {
    "index.html" => "text/html; charset=utf-8",
    "app.css" => "text/css; charset=utf-8",
    "app.js" => "text/javascript; charset=utf-8",
    "api.js" => "text/javascript; charset=utf-8",
    "auth.js" => "text/javascript; charset=utf-8",
    "messages.js" => "text/javascript; charset=utf-8",
    "fmt.js" => "text/javascript; charset=utf-8",
    "charts.js" => "text/javascript; charset=utf-8",
    "ui.js" => "text/javascript; charset=utf-8",
    "citizen.js" => "text/javascript; charset=utf-8",
    "staff.js" => "text/javascript; charset=utf-8",
    "inspector.js" => "text/javascript; charset=utf-8",
    "public.js" => "text/javascript; charset=utf-8",
    "favicon.svg" => "image/svg+xml",
};

/// The placeholder in `index.html` replaced by the asset version.
const VERSION_MARK: &str = "{{VERSION}}";

struct Prepared {
    version: String,
    index: Vec<u8>,
    index_etag: String,
    etags: Vec<String>,
}

fn etag_of(bytes: &[u8]) -> String {
    let h = Sha256::digest(bytes);
    format!("\"{}\"", hex(&h[..8]))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn prepared() -> &'static Prepared {
    static P: OnceLock<Prepared> = OnceLock::new();
    P.get_or_init(|| {
        let mut all = Sha256::new();
        for (name, _, bytes) in ASSETS {
            all.update(name.as_bytes());
            all.update((bytes.len() as u64).to_le_bytes());
            all.update(bytes);
        }
        let version = hex(&all.finalize()[..6]);
        let raw = ASSETS
            .iter()
            .find(|(n, _, _)| *n == "index.html")
            .map(|(_, _, b)| *b)
            .unwrap_or_default();
        let index = String::from_utf8_lossy(raw)
            .replace(VERSION_MARK, &version)
            .into_bytes();
        Prepared {
            index_etag: etag_of(&index),
            etags: ASSETS.iter().map(|(_, _, b)| etag_of(b)).collect(),
            version,
            index,
        }
    })
}

/// The origin of the media bucket's presigned URLs (path-style, see
/// `pakn_aws::with_media`): the endpoint's when one is set (an emulator),
/// else the region's S3 endpoint; none without a media bucket.
pub fn media_origin(aws: &pakn_config::AwsSettings) -> Option<String> {
    aws.media_bucket.as_ref()?;
    Some(match &aws.endpoint_url {
        Some(e) => e.trim_end_matches('/').to_string(),
        None => format!(
            "https://s3.{}.amazonaws.com",
            aws.region.as_deref().unwrap_or("us-east-1")
        ),
    })
}

/// The version path segment of this build's assets.
pub fn version() -> &'static str {
    &prepared().version
}

/// The Content-Security-Policy of every console answer: nothing but this
/// origin, no inline script or style, plus the Hosted UI domains for the
/// token exchange (`connect-src`) when they are configured.
pub fn csp(settings: &ConsoleSettings) -> String {
    let extra = settings
        .hosted_ui
        .as_ref()
        .map(|h| format!(" {} {}", h.staff.domain, h.citizen.domain))
        .unwrap_or_default();
    let media = settings
        .media_origin
        .as_ref()
        .map(|m| format!(" {m}"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:{media}; \
         connect-src 'self'{extra}{media}; form-action 'self'{extra}; frame-ancestors 'none'; \
         base-uri 'none'; object-src 'none'"
    )
}

fn answer(
    s: &ConsoleSettings,
    req: &HeaderMap,
    ty: &str,
    etag: &str,
    cache: &'static str,
    body: Vec<u8>,
) -> Response {
    let fresh = req
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag)
        });
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, body).into_response()
    };
    let h = res.headers_mut();
    let v = |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""));
    h.insert(CONTENT_TYPE, v(ty));
    h.insert(ETAG, v(etag));
    h.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(CONTENT_SECURITY_POLICY, v(&csp(s)));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    res
}

const REVALIDATE: &str = "no-cache";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `GET /`: the console's page.
pub async fn index(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let p = prepared();
    answer(
        &s.console,
        &headers,
        "text/html; charset=utf-8",
        &p.index_etag,
        REVALIDATE,
        p.index.clone(),
    )
}

/// `GET /console/{*path}`: an asset by name (revalidated), or under this
/// build's version path `v/<version>/<name>` (immutable). Anything else is
/// the API's `404`.
pub async fn asset(
    State(s): State<AppState>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    let p = prepared();
    let (name, cache) = match path.strip_prefix("v/") {
        Some(rest) => match rest.split_once('/') {
            Some((v, name)) if v == p.version => (name, IMMUTABLE),
            // An older or newer build's path: served, but not kept for long.
            Some((_, name)) => (name, REVALIDATE),
            None => return crate::error::ApiError::no_route().into_response(),
        },
        None => (path.as_str(), REVALIDATE),
    };
    if name == "index.html" {
        return index(State(s), headers).await;
    }
    match ASSETS.iter().position(|(n, _, _)| *n == name) {
        Some(i) => {
            let (_, ty, bytes) = ASSETS[i];
            answer(&s.console, &headers, ty, &p.etags[i], cache, bytes.to_vec())
        }
        None => crate::error::ApiError::no_route().into_response(),
    }
}

/// What `GET /console/config.json` answers.
#[derive(Serialize)]
pub struct ConsoleConfig {
    pub version: &'static str,
    pub dev_login: bool,
    pub hosted_ui: Option<HostedUi>,
}

/// `GET /console/config.json`: how this deployment signs people in.
pub async fn config(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let body = serde_json::to_vec(&ConsoleConfig {
        version: version(),
        dev_login: s.console.dev_login,
        hosted_ui: s.console.hosted_ui.clone(),
    })
    .unwrap_or_default();
    let etag = etag_of(&body);
    answer(
        &s.console,
        &headers,
        "application/json",
        &etag,
        REVALIDATE,
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_valid_utf8_nfc_except_nothing_and_the_index_names_versioned_assets() {
        use unicode_normalization::UnicodeNormalization;
        for (name, _, bytes) in ASSETS {
            let text = std::str::from_utf8(bytes).unwrap_or_else(|_| panic!("{name} is not UTF-8"));
            assert_eq!(text.nfc().collect::<String>(), text, "{name} is not NFC");
        }
        let index = String::from_utf8(prepared().index.clone()).expect("utf-8");
        assert!(!index.contains(VERSION_MARK));
        assert!(index.contains(&format!("src=\"console/v/{}/app.js\"", version())));
        assert!(!index.contains("<script>"), "no inline script");
        assert!(!index.contains("style="), "no inline style");
    }

    #[test]
    fn csp_allows_only_this_origin_and_the_configured_hosted_ui() {
        let local = csp(&ConsoleSettings::default());
        assert!(local.starts_with("default-src 'self';"));
        assert!(!local.contains("unsafe"));
        assert!(!local.contains("https://"));
        let pool = |d: &str| HostedPool {
            domain: d.into(),
            client_id: "c".into(),
        };
        let aws = csp(&ConsoleSettings {
            dev_login: false,
            hosted_ui: Some(HostedUi {
                staff: pool("https://s.auth.ap-southeast-1.amazoncognito.com"),
                citizen: pool("https://d.auth.ap-southeast-1.amazoncognito.com"),
            }),
            media_origin: Some("https://s3.ap-southeast-1.amazonaws.com".into()),
        });
        assert!(aws.contains("img-src 'self' data: https://s3.ap-southeast-1.amazonaws.com;"));
        assert!(aws.contains(
            "connect-src 'self' https://s.auth.ap-southeast-1.amazoncognito.com https://d.auth.ap-southeast-1.amazoncognito.com https://s3.ap-southeast-1.amazonaws.com;"
        ));
    }
}
