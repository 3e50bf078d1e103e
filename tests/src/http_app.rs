//! The HTTP test harness: `pakn-api`'s router on the embedded SQLite
//! backend in a temporary directory, with a manual clock, driven through
//! `app(state).oneshot(request)`; the answers it gives, HS256 tokens for
//! every role, and the time helpers.

use crate::process::TempDir;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use chrono::{DateTime, Duration, Utc};
use pakn_api::{AppState, Auth, app, token};
use pakn_core::Pakn;
use pakn_core::auth::Role;
use pakn_core::category::RateLimits;
use pakn_core::ids::CaseId;
use pakn_core::ports::ManualClock;
use pakn_core::refdata::RefData;
use pakn_core::unit::UnitCode;
use pakn_local::LocalBackend;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

/// The HS256 secret the harness's router verifies and [`tok`] signs with.
pub const SECRET: &[u8] = b"test-secret-for-http";
/// Phường Hoàn Kiếm, where [`report`] puts its case.
pub const HOAN_KIEM: &str = "ward:00070";

/// How the harness reads answer bodies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bodies {
    /// Every non-empty answer is JSON; anything else fails the test.
    AllJson,
    /// JSON when the content type says so; otherwise only the raw bytes
    /// (the CSV export) and a `null` body.
    JsonWhenTyped,
}

/// The router, the `Pakn` behind it and its clock.
pub struct Api {
    pub app: Router,
    pub pakn: Pakn,
    pub clock: ManualClock,
    bodies: Bodies,
    _dir: Option<Arc<TempDir>>,
}

/// One answer: status, headers, the raw body and, when JSON, parsed.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The raw body (the CSV export is not JSON).
    pub bytes: Vec<u8>,
    pub body: Value,
}

impl Answer {
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        self
    }

    /// An error answer: the code, and both messages present, different,
    /// the Vietnamese one NFC.
    #[track_caller]
    pub fn error(self, status: u16, code: &str) -> Self {
        let s = self.expect(status);
        let e = &s.body["error"];
        assert_eq!(e["code"], code, "body: {}", s.body);
        let en = e["message"].as_str().unwrap_or_default();
        let vi = e["message_vi"].as_str().unwrap_or_default();
        assert!(
            !en.is_empty() && !vi.is_empty(),
            "both languages: {}",
            s.body
        );
        assert_ne!(en, vi, "the Vietnamese message is not the English one");
        assert!(is_nfc(vi), "Vietnamese text is NFC: {vi}");
        s
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    pub fn items(&self) -> &Vec<Value> {
        self.body["items"].as_array().expect("items")
    }

    pub fn etag(&self) -> String {
        self.headers
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
}

/// Minimal NFC check without another dependency: NFC text never holds the
/// combining marks Vietnamese uses when a precomposed letter exists.
fn is_nfc(s: &str) -> bool {
    !s.chars().any(|c| ('\u{0300}'..='\u{036f}').contains(&c))
}

/// The embedded reference data with every rate limit lifted (for tests
/// that send many requests as one caller about something else).
pub fn without_quotas() -> RefData {
    let mut r = RefData::embedded();
    r.policy.rate_limits = RateLimits {
        citizen_submissions_per_hour: u32::MAX,
        citizen_submissions_per_day: u32::MAX,
        citizen_actions_per_minute: u32::MAX,
        operator_submissions_per_hour: u32::MAX,
        operator_submissions_per_day: u32::MAX,
        operator_actions_per_minute: u32::MAX,
        client_app_submissions_per_hour: u32::MAX,
        client_app_submissions_per_day: u32::MAX,
        public_per_address_per_minute: u32::MAX,
        citizen_urgent_per_day: u32::MAX,
    };
    r
}

/// An RFC 3339 instant.
pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.to_utc())
        .expect("time")
}

/// A token signed with [`SECRET`], valid for an hour.
pub fn tok(role: Role, sub: &str, unit: Option<&str>) -> String {
    let unit = unit.map(|u| UnitCode::parse(u).expect("unit code"));
    token::mint(
        SECRET,
        sub,
        role,
        unit.as_ref(),
        Duration::hours(1),
        Utc::now(),
    )
}

pub fn citizen(sub: &str) -> String {
    tok(Role::Citizen, sub, None)
}
pub fn official(sub: &str, unit: &str) -> String {
    tok(Role::Official, sub, Some(unit))
}
pub fn unit_admin(sub: &str, unit: &str) -> String {
    tok(Role::UnitAdmin, sub, Some(unit))
}
pub fn inspector() -> String {
    tok(Role::Inspector, "insp1", None)
}
pub fn admin() -> String {
    tok(Role::Admin, "admin1", None)
}

/// A street light out in Hoàn Kiếm.
pub fn report(title: &str) -> Value {
    json!({
        "category": "lighting",
        "title": title,
        "description": "Đèn đường trước số 12 Hàng Bài tắt ba đêm nay.",
        "location": {"lat": 21.0245, "lng": 105.8530, "ward_code": "00070"}
    })
}

impl Api {
    /// A fresh SQLite store in a temporary directory named after `name`, the
    /// clock at `t0`, bearer tokens checked against [`SECRET`].
    pub fn new(name: &str, t0: DateTime<Utc>, bodies: Bodies) -> Api {
        Api::with_refdata(name, t0, bodies, RefData::embedded())
    }

    /// [`Api::new`] on other reference data (e.g. [`without_quotas`]).
    pub fn with_refdata(name: &str, t0: DateTime<Utc>, bodies: Bodies, refdata: RefData) -> Api {
        let dir = TempDir::new(name);
        let backend = LocalBackend::open(&dir.path().join("pakn.db")).expect("open sqlite");
        let clock = ManualClock::new(t0);
        let pakn = backend.pakn(Arc::new(clock.clone()), Arc::new(refdata));
        let app = app(AppState {
            pakn: pakn.clone(),
            auth: Auth::Hs256 {
                secret: SECRET.to_vec(),
            },
            console: Default::default(),
        });
        Api {
            app,
            pakn,
            clock,
            bodies,
            _dir: Some(Arc::new(dir)),
        }
    }

    /// [`Api::new`] with uploads kept in the temporary directory (the
    /// local server's storage, signed with [`SECRET`]); the test checks
    /// them with [`Api::check_upload`] (what the server's worker does).
    pub fn with_media(name: &str, t0: DateTime<Utc>) -> Api {
        let mut api = Api::new(name, t0, Bodies::JsonWhenTyped);
        let dir = api._dir.as_ref().expect("a temp dir").path().join("media");
        let blobs = pakn_local::LocalBlobs::new(dir, SECRET.to_vec()).expect("media dir");
        api.pakn = api.pakn.clone().with_blobs(Arc::new(blobs));
        api.app = app(AppState {
            pakn: api.pakn.clone(),
            auth: Auth::Hs256 {
                secret: SECRET.to_vec(),
            },
            console: Default::default(),
        });
        api
    }

    /// Where [`Api::with_media`] keeps the files.
    pub fn media_dir(&self) -> std::path::PathBuf {
        self._dir.as_ref().expect("a temp dir").path().join("media")
    }

    /// Check an upload whose bytes arrived, as the server's worker does.
    pub async fn check_upload(&self, id: &str) {
        pakn_media::process_upload(&*self.pakn.uploads, &*self.pakn.blobs, id)
            .await
            .expect("checked");
    }

    /// The router over a `Pakn` composed elsewhere (another backend, ports
    /// wrapped for fault injection), with `clock` its clock.
    pub fn over(pakn: Pakn, clock: ManualClock, bodies: Bodies) -> Api {
        let app = app(AppState {
            pakn: pakn.clone(),
            auth: Auth::Hs256 {
                secret: SECRET.to_vec(),
            },
            console: Default::default(),
        });
        Api {
            app,
            pakn,
            clock,
            bodies,
            _dir: None,
        }
    }

    /// The same router over `f(pakn)` (e.g. another messenger).
    pub fn map_pakn(&self, f: impl FnOnce(Pakn) -> Pakn) -> Api {
        let pakn = f(self.pakn.clone());
        Api {
            app: app(AppState {
                pakn: pakn.clone(),
                auth: Auth::Hs256 {
                    secret: SECRET.to_vec(),
                },
                console: Default::default(),
            }),
            pakn,
            clock: self.clock.clone(),
            bodies: self.bodies,
            _dir: self._dir.clone(),
        }
    }

    /// The same store and clock behind a router with another `auth`.
    pub fn with_auth(&self, auth: Auth) -> Api {
        Api {
            app: app(AppState {
                pakn: self.pakn.clone(),
                auth,
                console: Default::default(),
            }),
            pakn: self.pakn.clone(),
            clock: self.clock.clone(),
            bodies: self.bodies,
            _dir: self._dir.clone(),
        }
    }

    /// The same store and clock behind a router whose console has `console`
    /// (developer sign-in, Hosted UI).
    pub fn with_console(&self, console: pakn_api::console::ConsoleSettings) -> Api {
        Api {
            app: app(AppState {
                pakn: self.pakn.clone(),
                auth: Auth::Hs256 {
                    secret: SECRET.to_vec(),
                },
                console,
            }),
            pakn: self.pakn.clone(),
            clock: self.clock.clone(),
            bodies: Bodies::JsonWhenTyped,
            _dir: self._dir.clone(),
        }
    }

    pub async fn send(&self, req: Request<Body>) -> Answer {
        let res = self
            .app
            .clone()
            .oneshot(req)
            .await
            .expect("router is infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
            .await
            .expect("body")
            .to_vec();
        let body = match self.bodies {
            Bodies::AllJson if bytes.is_empty() => Value::Null,
            Bodies::AllJson => serde_json::from_slice(&bytes).expect("every answer is JSON"),
            Bodies::JsonWhenTyped => {
                let is_json = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|ct| ct.starts_with("application/json"));
                if is_json {
                    serde_json::from_slice(&bytes).expect("a JSON answer parses")
                } else {
                    Value::Null
                }
            }
        };
        Answer {
            status,
            headers,
            bytes,
            body,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Answer {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = match body {
            Some(v) => b
                .header("content-type", "application/json")
                .body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        };
        self.send(req.expect("request")).await
    }

    pub async fn get(&self, uri: &str, token: Option<&str>) -> Answer {
        self.call(Method::GET, uri, token, &[], None).await
    }

    pub async fn post(&self, uri: &str, token: &str, body: Option<&Value>) -> Answer {
        self.call(Method::POST, uri, Some(token), &[], body).await
    }

    pub async fn put(&self, uri: &str, token: &str, body: &Value) -> Answer {
        self.call(Method::PUT, uri, Some(token), &[], Some(body))
            .await
    }

    pub async fn submit(&self, token: &str, body: &Value) -> Answer {
        self.post("/v1/cases", token, Some(body)).await
    }

    /// Submit as `token` and route it; the case id.
    pub async fn routed_case(&self, token: &str, body: &Value) -> String {
        let a = self.submit(token, body).await.expect(202);
        let id = a.body["id"].as_str().expect("id").to_string();
        self.pakn
            .routing()
            .route_case(&CaseId::parse(&id).expect("ulid"))
            .await
            .expect("routed");
        id
    }

    /// `POST /v1/cases/{id}/{action}`, with `If-Match` when given.
    pub async fn act(
        &self,
        token: &str,
        id: &str,
        action: &str,
        if_match: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let h: Vec<(&str, &str)> = if_match.map(|v| vec![("if-match", v)]).unwrap_or_default();
        self.call(
            Method::POST,
            &format!("/v1/cases/{id}/{action}"),
            Some(token),
            &h,
            body,
        )
        .await
    }

    /// [`Api::act`] on the version `token` reads just before.
    pub async fn act_on_latest(
        &self,
        token: &str,
        id: &str,
        action: &str,
        body: Option<&Value>,
    ) -> Answer {
        let v = self.version(token, id).await;
        self.act(token, id, action, Some(&v), body).await
    }

    /// The case's ETag as `token` reads it.
    pub async fn version(&self, token: &str, id: &str) -> String {
        self.get(&format!("/v1/cases/{id}"), Some(token))
            .await
            .expect(200)
            .etag()
    }
}
