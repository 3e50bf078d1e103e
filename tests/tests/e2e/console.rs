//! The web console: how its files are served (types, caching, the
//! Content-Security-Policy), the developer sign-in's rules on the router,
//! and the browser suite `tests/console/test_console.py` — headless
//! Debian Chromium driven by Python playwright against two real `pakn
//! serve` processes: one on a normal clock, one whose clock runs 36,000×
//! so an ignored report reaches the inspectors within the run, and one
//! whose Hosted UI is a fake authorization server on 127.0.0.1 (the PKCE
//! sign-in).

use axum::http::Method;
use chrono::Utc;
use pakn_api::console::{ConsoleSettings, HostedPool, HostedUi};
use pakn_tests::http_app::{Api, Bodies};
use pakn_tests::process::{Server, TempDir};
use serde_json::json;
use std::path::PathBuf;
use std::process::Command;

fn api(dev_login: bool, hosted_ui: Option<HostedUi>) -> Api {
    Api::new("console", Utc::now(), Bodies::JsonWhenTyped).with_console(ConsoleSettings {
        dev_login,
        hosted_ui,
        media_origin: None,
    })
}

fn header(a: &pakn_tests::http_app::Answer, name: &str) -> String {
    a.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn the_console_is_served_with_its_types_caching_and_a_strict_policy() {
    let api = api(true, None);
    let index = api.get("/", None).await.expect(200);
    assert_eq!(header(&index, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&index, "cache-control"), "no-cache");
    let csp = header(&index, "content-security-policy");
    assert!(csp.starts_with("default-src 'self';"), "{csp}");
    assert!(
        csp.contains("script-src 'self';") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert_eq!(header(&index, "x-content-type-options"), "nosniff");
    let html = index.text();
    let version = pakn_api::console::version();
    assert!(
        html.contains(&format!("\"console/v/{version}/app.js\"")),
        "{html}"
    );

    // Revalidation: the same ETag answers 304 with no body.
    let etag = index.etag();
    let again = api
        .call(Method::GET, "/", None, &[("if-none-match", &etag)], None)
        .await
        .expect(304);
    assert!(again.bytes.is_empty());

    // Versioned assets are immutable; a bare name revalidates.
    let js = api
        .get(&format!("/console/v/{version}/app.js"), None)
        .await
        .expect(200);
    assert_eq!(
        header(&js, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        header(&js, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(!header(&js, "content-security-policy").is_empty());
    let css = api.get("/console/app.css", None).await.expect(200);
    assert_eq!(header(&css, "content-type"), "text/css; charset=utf-8");
    assert_eq!(header(&css, "cache-control"), "no-cache");
    let svg = api.get("/console/favicon.svg", None).await.expect(200);
    assert_eq!(header(&svg, "content-type"), "image/svg+xml");
    // An older build's path is served but not kept.
    let old = api
        .get("/console/v/000000000000/app.js", None)
        .await
        .expect(200);
    assert_eq!(header(&old, "cache-control"), "no-cache");

    // Nothing else is: not a file outside the list, not a path trick.
    for path in [
        "/console/nope.js",
        "/console/../Cargo.toml",
        "/console/v/x",
        "/console/%2e%2e/README.md",
    ] {
        let a = api.get(path, None).await;
        assert_eq!(a.status.as_u16(), 404, "{path}: {}", a.text());
    }

    let cfg = api.get("/console/config.json", None).await.expect(200);
    assert_eq!(
        cfg.body,
        json!({"version": version, "dev_login": true, "hosted_ui": null})
    );
}

#[tokio::test]
async fn the_hosted_ui_is_announced_and_allowed_by_the_policy() {
    let pool = |d: &str, c: &str| HostedPool {
        domain: d.into(),
        client_id: c.into(),
    };
    let api = api(
        false,
        Some(HostedUi {
            staff: pool(
                "https://pakn-staff.auth.ap-southeast-1.amazoncognito.com",
                "staffc",
            ),
            citizen: pool(
                "https://pakn-dan.auth.ap-southeast-1.amazoncognito.com",
                "danc",
            ),
        }),
    );
    let cfg = api.get("/console/config.json", None).await.expect(200);
    assert_eq!(cfg.body["dev_login"], false);
    assert_eq!(
        cfg.body["hosted_ui"]["staff"]["domain"],
        "https://pakn-staff.auth.ap-southeast-1.amazoncognito.com"
    );
    assert_eq!(cfg.body["hosted_ui"]["citizen"]["client_id"], "danc");
    let csp = header(
        &api.get("/", None).await.expect(200),
        "content-security-policy",
    );
    assert!(
        csp.contains(
            "connect-src 'self' https://pakn-staff.auth.ap-southeast-1.amazoncognito.com https://pakn-dan.auth.ap-southeast-1.amazoncognito.com;"
        ),
        "{csp}"
    );
}

#[tokio::test]
async fn developer_sign_in_issues_working_tokens_only_where_it_is_on() {
    let off = api(false, None);
    off.call(
        Method::POST,
        "/v1/dev/token",
        None,
        &[],
        Some(&json!({"role": "citizen", "sub": "a"})),
    )
    .await
    .error(404, "dev_login_off");

    let on = api(true, None);
    let ask = |body: serde_json::Value| {
        let on = &on;
        async move {
            on.call(Method::POST, "/v1/dev/token", None, &[], Some(&body))
                .await
        }
    };
    let t = ask(json!({"role": "official", "sub": "can-bo-1", "unit": "ward:00070"}))
        .await
        .expect(200);
    assert_eq!(t.body["unit"], "ward:00070");
    assert_eq!(t.body["role"], "official");
    let token = t.body["token"].as_str().expect("token").to_string();
    // The token is the API's own: the official reads the unit's queue.
    on.get("/v1/cases?unit=ward:00070", Some(&token))
        .await
        .expect(200);

    ask(json!({"role": "official", "sub": "x"}))
        .await
        .error(422, "unit_required");
    ask(json!({"role": "mayor", "sub": "x"}))
        .await
        .error(422, "unknown_role");
    ask(json!({"role": "client_app", "sub": "x"}))
        .await
        .error(422, "unknown_role");
    ask(json!({"role": "official", "sub": "x", "unit": "ward:99999"}))
        .await
        .error(422, "unknown_unit");
    ask(json!({"role": "citizen", "sub": " "}))
        .await
        .error(422, "invalid_body");
    ask(json!({"role": "citizen", "sub": "a", "admin": true}))
        .await
        .error(422, "invalid_body");
    let a = on
        .call(
            Method::POST,
            "/v1/dev/token",
            None,
            &[("content-type", "text/plain")],
            None,
        )
        .await;
    assert_eq!(a.status.as_u16(), 415, "{}", a.text());
}

fn python() -> PathBuf {
    if let Ok(p) = std::env::var("PAKN_CONSOLE_PYTHON") {
        return PathBuf::from(p);
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv/bin/python"))
}

/// Where screenshots are kept: `$CARGO_TARGET_DIR/console-screenshots`.
fn shots_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")))
        .join("console-screenshots")
}

/// The issue's scenario in a real browser; see tests/console/test_console.py.
#[test]
fn the_console_does_every_role_s_job_in_a_browser() {
    let py = python();
    assert!(
        py.exists(),
        "{} is missing: create the test venv with `python3 -m venv .venv && .venv/bin/pip install -r \
         infra/requirements-test.txt` (scripts/test.sh does), or point PAKN_CONSOLE_PYTHON at a Python \
         with playwright and axe-playwright-python",
        py.display()
    );
    let chromium = std::env::var("PAKN_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "{chromium} is missing: install Debian's Chromium with `apt-get install -y chromium` \
         (scripts/test.sh does), or point PAKN_CHROMIUM at a Chromium binary"
    );
    let dir = TempDir::new("console");
    let normal = Server::start(&dir.path().join("pakn.db"), &[]);
    // One real second is ten hours; the sweep runs every real second.
    let fast = Server::start(
        &dir.path().join("fast.db"),
        &[("PAKN_CLOCK_SPEED", "36000"), ("PAKN_SWEEP_SECONDS", "1")],
    );
    // A third server names a fake authorization server (started by the
    // suite on `idp_port`) as both pools' Hosted UI; it mints local tokens.
    let idp_port = pakn_tests::process::free_port();
    let idp = format!("http://127.0.0.1:{idp_port}");
    let pool = |name: &str| format!("{idp}/{name}");
    let (staff, citizen) = (pool("staff"), pool("citizen"));
    let with_sso = Server::start(
        &dir.path().join("sso.db"),
        &[
            ("PAKN_STAFF_ISSUER", staff.as_str()),
            ("PAKN_STAFF_CLIENT_ID", "staff-console"),
            ("PAKN_STAFF_AUTH_DOMAIN", idp.as_str()),
            ("PAKN_CITIZEN_ISSUER", citizen.as_str()),
            ("PAKN_CITIZEN_CLIENT_ID", "citizen-app"),
            ("PAKN_CITIZEN_AUTH_DOMAIN", idp.as_str()),
        ],
    );
    let shots = shots_dir();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/console/test_console.py");
    let out = Command::new(&py)
        .arg(script)
        .env("PAKN_CONSOLE_BASE", &normal.base)
        .env("PAKN_CONSOLE_FAST_BASE", &fast.base)
        .env("PAKN_CONSOLE_OAUTH_BASE", &with_sso.base)
        .env("PAKN_CONSOLE_OAUTH_PORT", idp_port.to_string())
        .env("PAKN_CONSOLE_SECRET", &with_sso.secret)
        .env("PAKN_CONSOLE_SHOTS", &shots)
        .env("PAKN_CHROMIUM", &chromium)
        .output()
        .expect("run the console suite");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the console suite failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(" passed, 0 failed"),
        "the console suite did not report:\n{stdout}\n{stderr}"
    );
    for screen in [
        "signin",
        "official-queue",
        "public-stats",
        "inspection",
        "signin-hosted-ui",
    ] {
        for w in [1280, 360] {
            let f = shots.join(format!("{screen}-{w}.png"));
            assert!(f.exists(), "{} was not saved", f.display());
        }
    }
}
