//! Staff and citizen accounts: Cognito ID tokens of two user pools,
//! verified by pakn itself (`pakn_api::cognito`) with RSA keys generated
//! here, through the router as on Lambda. A staff role is only ever taken
//! from the staff pool; every forged, expired or foreign token is `401`
//! with a stable code and both languages.

use axum::Router;
use axum::routing::get;
use chrono::Utc;
use pakn_api::cognito::{PoolKind, Verifier};
use pakn_api::messages::messages;
use pakn_api::{ApiError, Auth};
use pakn_config::{IssuerSettings, Issuers};
use pakn_core::ids::CaseId;
use pakn_core::{Error, ErrorKind};
use pakn_testkit::jwt::TestPool;
use pakn_tests::http_app::{Answer, Api, Bodies, HOAN_KIEM, at, report};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const STAFF_ISS: &str = "https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_CanBo";
const CITIZEN_ISS: &str = "https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_CongDan";

fn pools() -> (TestPool, TestPool) {
    (
        TestPool::new(STAFF_ISS, "staff-app-client", "staff-key-1"),
        TestPool::new(CITIZEN_ISS, "citizen-app-client", "citizen-key-1"),
    )
}

/// The pools' settings, their keys given inline (nothing is fetched).
fn issuers(staff: &TestPool, citizen: &TestPool) -> Issuers {
    let pool = |p: &TestPool| IssuerSettings {
        issuer: p.issuer.clone(),
        client_id: p.client_id.clone(),
        jwks: Some(p.jwks().to_string()),
        auth_domain: None,
    };
    Issuers {
        staff: pool(staff),
        citizen: pool(citizen),
    }
}

fn now() -> i64 {
    Utc::now().timestamp()
}

/// The HTTP harness behind a router that verifies the two pools' tokens.
fn api(staff: &TestPool, citizen: &TestPool) -> Api {
    let verifier = Verifier::new(&issuers(staff, citizen)).expect("verifier");
    // The case clock is fixed; tokens live in real time.
    Api::new("cognito", at("2026-12-03T02:00:00Z"), Bodies::AllJson)
        .with_auth(Auth::Cognito(Arc::new(verifier)))
}

/// An `invalid_token` answer whose message is the catalogue's for `reason`.
#[track_caller]
fn refused(a: Answer, reason: Option<&'static str>, what: &str) {
    let a = a.error(401, "invalid_token");
    let mut e = Error::new(ErrorKind::Unauthorized, "invalid_token");
    if let Some(r) = reason {
        e = e.with("reason", r);
        if r == "algorithm" {
            e = e.with("expected", "RS256");
        }
    }
    let (en, vi) = messages(&e);
    assert_eq!(a.body["error"]["message"], en, "{what}");
    assert_eq!(a.body["error"]["message_vi"], vi, "{what}");
}

#[tokio::test]
async fn a_citizen_pool_token_is_a_citizen_and_a_staff_pool_token_carries_its_group() {
    let (staff, citizen) = pools();
    let api = api(&staff, &citizen);
    // A citizen who signed up has no group at all.
    let c = citizen.sign(&citizen.id_claims("cong-dan-1", &[], now()));
    let a = api.submit(&c, &report("Đèn hỏng")).await.expect(202);
    let id = a.body["id"].as_str().expect("id").to_string();
    api.get(&format!("/v1/cases/{id}"), Some(&c))
        .await
        .expect(200);
    let mine = api.get("/v1/cases?mine=true", Some(&c)).await.expect(200);
    assert_eq!(mine.items().len(), 1);
    // The `citizen` group changes nothing.
    let c2 = citizen.sign(&citizen.id_claims("cong-dan-2", &["citizen"], now()));
    api.submit(&c2, &report("Cống tắc")).await.expect(202);

    // The ward's official: a staff group and the admin-only unit attribute.
    api.pakn
        .routing()
        .route_case(&CaseId::parse(&id).expect("ulid"))
        .await
        .expect("routed");
    let mut claims = staff.id_claims("can-bo-1", &["official"], now());
    claims["custom:unit"] = json!(HOAN_KIEM);
    let official = staff.sign(&claims);
    api.get(&format!("/v1/cases/{id}"), Some(&official))
        .await
        .expect(200);
    // The first staff group wins; an unknown group is skipped.
    let insp = staff.sign(&staff.id_claims("thanh-tra-1", &["staff", "inspector"], now()));
    api.get("/v1/inspections", Some(&insp)).await.expect(200);
    // A citizen may not read the inspections: the role really is citizen.
    api.get("/v1/inspections", Some(&c))
        .await
        .error(403, "forbidden");
    // A staff token of an official without a unit is refused.
    let no_unit = staff.sign(&staff.id_claims("can-bo-2", &["official"], now()));
    api.get("/v1/cases", Some(&no_unit))
        .await
        .error(401, "unauthorized");
}

#[tokio::test]
async fn a_staff_role_is_only_taken_from_the_staff_pool() {
    let (staff, citizen) = pools();
    let api = api(&staff, &citizen);
    for group in ["admin", "inspector", "official", "operator", "triage"] {
        let t = citizen.sign(&citizen.id_claims("ke-gian", &["citizen", group], now()));
        api.get("/v1/cases", Some(&t))
            .await
            .error(401, "staff_role_from_citizen_pool");
    }
    // A staff account must be in a staff group: none, or `citizen`, is refused.
    for groups in [&[][..], &["citizen"][..], &["staff"][..]] {
        let t = staff.sign(&staff.id_claims("can-bo-moi", groups, now()));
        api.get("/v1/cases", Some(&t)).await.error(401, "no_role");
    }
    // The citizen pool's key cannot vouch for a staff-pool token, nor the
    // staff key for a citizen one: the issuer picks the only keys allowed.
    let mut forged = staff.id_claims("ke-gian", &["admin"], now());
    forged["aud"] = json!(staff.client_id);
    let t = citizen.sign(&forged);
    refused(
        api.get("/v1/cases", Some(&t)).await,
        Some("unknown_key"),
        "citizen key, staff iss",
    );
    let t = citizen.sign_with_header(&json!({"alg": "RS256", "kid": staff.kid}), &forged);
    refused(
        api.get("/v1/cases", Some(&t)).await,
        None,
        "citizen key under the staff kid",
    );
}

#[tokio::test]
async fn forged_expired_and_foreign_tokens_are_refused_with_401() {
    let (staff, citizen) = pools();
    let api = api(&staff, &citizen);
    let good = || citizen.id_claims("cong-dan-1", &[], now());
    let with = |k: &str, v: Value| {
        let mut c = good();
        c[k] = v;
        c
    };
    let stranger = TestPool::new(
        "https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_Other",
        "citizen-app-client",
        "citizen-key-1",
    );
    let b64 = |v: &Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let hs256 = |secret: &[u8], claims: &Value| {
        use hmac::{Hmac, Mac};
        let input = format!(
            "{}.{}",
            b64(&json!({"alg": "HS256", "kid": citizen.kid})),
            b64(claims)
        );
        let mut m = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("hmac");
        m.update(input.as_bytes());
        use base64::Engine;
        let sig =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(m.finalize().into_bytes());
        format!("{input}.{sig}")
    };
    let valid = citizen.sign(&good());
    let mut tampered: Vec<String> = valid.split('.').map(str::to_string).collect();
    tampered[1] = b64(&with("sub", json!("someone-else")));
    let mut bad_sig: Vec<String> = valid.split('.').map(str::to_string).collect();
    bad_sig[2] = stranger
        .sign(&good())
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_string();
    let mut access = good();
    access["token_use"] = json!("access");
    access["client_id"] = access["aud"].take();

    let cases: Vec<(&str, String, Option<&'static str>)> = vec![
        (
            "another user pool's own token",
            stranger.sign(&stranger.id_claims("cong-dan-1", &[], now())),
            Some("issuer"),
        ),
        (
            "the pool's issuer and kid, another key",
            stranger.sign(&good()),
            None,
        ),
        (
            "another issuer claimed, signed with a pool key",
            citizen.sign(&with("iss", json!("https://evil.example"))),
            Some("issuer"),
        ),
        (
            "another app client",
            citizen.sign(&with("aud", json!("someone-elses-client"))),
            Some("issuer"),
        ),
        (
            "expired two hours ago",
            citizen.sign(&with("exp", json!(now() - 7200))),
            Some("expired"),
        ),
        (
            "not valid for another hour",
            citizen.sign(&with("nbf", json!(now() + 3600))),
            Some("not_yet_valid"),
        ),
        (
            "issued in the future",
            citizen.sign(&with("iat", json!(now() + 3600))),
            Some("not_yet_valid"),
        ),
        ("an access token", citizen.sign(&access), Some("token_use")),
        ("no exp", citizen.sign(&with("exp", Value::Null)), None),
        ("a signature of another key", bad_sig.join("."), None),
        ("claims changed after signing", tampered.join("."), None),
        (
            "an unknown kid",
            citizen.sign_with_header(&json!({"alg": "RS256", "kid": "rotated-away"}), &good()),
            Some("unknown_key"),
        ),
        (
            "no kid",
            citizen.sign_with_header(&json!({"alg": "RS256"}), &good()),
            None,
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "kid": citizen.kid})),
                b64(&good())
            ),
            Some("algorithm"),
        ),
        (
            "HS256 keyed with the public key (DER)",
            hs256(&citizen.public_key_der(), &good()),
            Some("algorithm"),
        ),
        (
            "HS256 keyed with the JWK",
            hs256(citizen.jwk().to_string().as_bytes(), &good()),
            Some("algorithm"),
        ),
        (
            "RS512",
            citizen.sign_with_header(&json!({"alg": "RS512", "kid": citizen.kid}), &good()),
            Some("algorithm"),
        ),
        ("two parts", "a.b".into(), None),
        ("not base64", "!!.??.**".into(), None),
        ("huge", "a".repeat(20_000), None),
    ];
    for (what, token, reason) in cases {
        refused(api.get("/v1/cases", Some(&token)).await, reason, what);
    }
    // The good one, for contrast.
    api.get("/v1/cases", Some(&valid)).await.expect(200);
}

/// A key server on 127.0.0.1 serving each pool's JWKS at
/// `<issuer>/.well-known/jwks.json`, counting the requests.
struct KeyServer {
    base: String,
    staff: Arc<Mutex<(u16, Value)>>,
    citizen: Arc<Mutex<(u16, Value)>>,
    hits: Arc<AtomicUsize>,
    _task: tokio::task::JoinHandle<()>,
}

impl KeyServer {
    async fn start() -> KeyServer {
        let staff_doc = Arc::new(Mutex::new((404u16, json!({}))));
        let citizen_doc = Arc::new(Mutex::new((404u16, json!({}))));
        let hits = Arc::new(AtomicUsize::new(0));
        let serve = |doc: Arc<Mutex<(u16, Value)>>, hits: Arc<AtomicUsize>| {
            get(move || {
                let (status, body) = doc.lock().expect("lock").clone();
                hits.fetch_add(1, Ordering::SeqCst);
                async move {
                    (
                        axum::http::StatusCode::from_u16(status).expect("status"),
                        axum::Json(body),
                    )
                }
            })
        };
        let app = Router::new()
            .route(
                "/staff/.well-known/jwks.json",
                serve(staff_doc.clone(), hits.clone()),
            )
            .route(
                "/citizen/.well-known/jwks.json",
                serve(citizen_doc.clone(), hits.clone()),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        KeyServer {
            base,
            staff: staff_doc,
            citizen: citizen_doc,
            hits,
            _task: task,
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn keys_are_fetched_at_start_and_refreshed_on_an_unknown_kid_at_most_once_per_interval() {
    // The issuers' URLs are the key server's; keys are not given.
    let server = KeyServer::start().await;
    let staff = TestPool::new(&format!("{}/staff", server.base), "staff-app", "k1");
    let citizen = TestPool::new(&format!("{}/citizen", server.base), "citizen-app", "c1");
    *server.staff.lock().expect("lock") = (500, json!({"error": "down"}));
    *server.citizen.lock().expect("lock") = (200, citizen.jwks());
    let settings = |p: &TestPool| IssuerSettings {
        issuer: p.issuer.clone(),
        client_id: p.client_id.clone(),
        jwks: None,
        auth_domain: None,
    };
    let mut v = Verifier::new(&Issuers {
        staff: settings(&staff),
        citizen: settings(&citizen),
    })
    .expect("verifier");
    v.min_refresh = Duration::from_secs(3600);

    // Cold start: both pools fetched once; the staff pool's server fails.
    v.prefetch().await;
    let after_start = server.hits();
    assert_eq!(after_start, 2);
    assert_eq!(v.key_count(PoolKind::Citizen), 1);
    assert_eq!(v.key_count(PoolKind::Staff), 0);
    let c = citizen.sign(&citizen.id_claims("cong-dan", &[], now()));
    assert!(v.verify(&c, Utc::now()).await.is_ok());
    assert_eq!(server.hits(), after_start, "a known key needs no fetch");

    // The staff server is back, but the last try was just now: no refetch.
    *server.staff.lock().expect("lock") = (200, staff.jwks());
    let s = staff.sign(&staff.id_claims("can-bo", &["admin"], now()));
    let e = v.verify(&s, Utc::now()).await.expect_err("rate-limited");
    assert_eq!(e.param("reason"), Some("unknown_key"));
    assert_eq!(server.hits(), after_start);

    // Once the interval has passed (here: none), an unknown kid refetches once.
    v.min_refresh = Duration::ZERO;
    let p = v.verify(&s, Utc::now()).await.expect("fetched on demand");
    assert_eq!(p.role.as_str(), "admin");
    assert_eq!(server.hits(), after_start + 1);
    assert!(v.verify(&s, Utc::now()).await.is_ok());
    assert_eq!(server.hits(), after_start + 1, "kept once fetched");

    // A rotated key: the new kid is fetched, the old one is gone.
    let rotated = TestPool::new(&staff.issuer, &staff.client_id, "k2");
    *server.staff.lock().expect("lock") = (200, rotated.jwks());
    let s2 = rotated.sign(&rotated.id_claims("can-bo", &["triage"], now()));
    assert!(v.verify(&s2, Utc::now()).await.is_ok());
    assert_eq!(server.hits(), after_start + 2);
    let e = v.verify(&s, Utc::now()).await.expect_err("old key removed");
    assert_eq!(e.param("reason"), Some("unknown_key"));

    // The HTTP answer of a refusal is the usual bilingual 401.
    let r = ApiError::from(e);
    assert_eq!(r.status.as_u16(), 401);
}
