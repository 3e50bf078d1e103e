//! template.yaml and the API agree on which routes are public: API Gateway's
//! JWT authorizer guards everything else, so a public route missing from
//! the template would be unreachable without a token, and an extra one
//! would expose a protected route to the API's own checks only.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use pakn_api::{AppState, Auth, app};
use pakn_core::refdata::RefData;
use pakn_local::LocalBackend;
use pakn_tests::process::TempDir;
use std::collections::BTreeSet;
use std::sync::Arc;
use tower::ServiceExt;

/// Open311 GeoReport v2: every route under it is public (one proxy route
/// in the template; submitting checks the application's `api_key`).
const OPEN311: (&str, &str) = ("ANY", "/open311/v2/{proxy+}");

/// The API's public routes (README "API"; CONTRACT.md "stats, categories,
/// units, public case by tracking code").
const PUBLIC: [(&str, &str); 9] = [
    OPEN311,
    ("GET", "/healthz"),
    ("GET", "/openapi.json"),
    ("GET", "/v1/categories"),
    ("GET", "/v1/units"),
    ("GET", "/v1/stats"),
    ("GET", "/v1/track/{tracking_code}"),
    ("GET", "/v1/registration"),
    ("GET", "/v1/events/schemas"),
];

fn template_public_routes() -> BTreeSet<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let text = std::fs::read_to_string(path).expect("read template.yaml");
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("template.yaml is YAML");
    let events = doc["Resources"]["ApiFunction"]["Properties"]["Events"]
        .as_mapping()
        .expect("ApiFunction has Events");
    events
        .values()
        .filter(|e| e["Type"].as_str() == Some("HttpApi"))
        .map(|e| &e["Properties"])
        .filter(|p| p["Auth"]["Authorizer"].as_str() == Some("NONE"))
        .map(|p| {
            let m = p["Method"].as_str().expect("Method").to_ascii_uppercase();
            (m, p["Path"].as_str().expect("Path").to_string())
        })
        .collect()
}

fn concrete(path: &str) -> String {
    path.replace("{tracking_code}", "HN-25-22222")
        .replace("{id}", "01JZ0000000000000000000000")
        .replace("{code}", "ward:00070")
        .replace("{action}", "accept")
        .replace("{format}", "json")
        .replace("{service_code}", "lighting")
        .replace("{service_request_id}", "01JZ0000000000000000000000")
        .replace("{token}", "01JZ0000000000000000000000")
}

/// Is `(method, path)` public by the template's routes `want`?
fn is_public(want: &BTreeSet<(String, String)>, method: &str, path: &str) -> bool {
    want.contains(&(method.to_string(), path.to_string()))
        || (path.starts_with("/open311/v2/")
            && want.contains(&(OPEN311.0.to_string(), OPEN311.1.to_string())))
}

#[tokio::test]
async fn public_routes_are_the_same_in_the_template_and_the_api() {
    let want: BTreeSet<(String, String)> = PUBLIC
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(
        template_public_routes(),
        want,
        "template.yaml's routes without an authorizer"
    );

    let served: BTreeSet<(String, String)> = pakn_api::routes()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    for r in &want {
        let served_here = if *r == (OPEN311.0.to_string(), OPEN311.1.to_string()) {
            served.iter().any(|(_, p)| p.starts_with("/open311/v2/"))
        } else {
            served.contains(r)
        };
        assert!(
            served_here,
            "{r:?} is public in the template but not served"
        );
    }

    let dir = TempDir::new("template");
    let backend = LocalBackend::open(&dir.path().join("pakn.db")).expect("open sqlite");
    let pakn = backend.pakn(
        Arc::new(pakn_core::ports::SystemClock),
        Arc::new(RefData::embedded()),
    );
    let router = app(AppState {
        pakn,
        auth: Auth::Hs256 {
            secret: b"0123456789abcdef0123456789abcdef".to_vec(),
        },
    });
    for (method, path) in &served {
        let uri = concrete(path);
        let mut rq = Request::builder().method(method.as_str()).uri(&uri);
        if method != "GET" {
            rq = rq.header("content-type", "application/json");
        }
        let body = if method == "GET" {
            Body::empty()
        } else {
            Body::from("{}")
        };
        let res = router
            .clone()
            .oneshot(rq.body(body).expect("request"))
            .await
            .expect("response");
        let public = is_public(&want, method, path);
        if public {
            assert_ne!(
                res.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {uri} is public"
            );
        } else {
            assert_eq!(
                res.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {uri} needs a token"
            );
        }
    }
}
