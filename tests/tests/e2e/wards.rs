//! Ward boundaries through the real `pakn` binary: `pakn wards load` refuses
//! a file with an unknown ward code (naming it) and loads a good one (naming
//! the wards left without a boundary), `pakn wards show` prints the version;
//! then `pakn serve` routes a report without a `ward_code` to the ward of its
//! point, and flags (staff view only) a report whose `ward_code` its point
//! contradicts. The same load and show on the AWS backend (moto).

use pakn_testkit::wards::{INSIDE_73, collection, features, geojson};
use pakn_tests::process::{Server, TempDir, pakn_binary};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn pakn(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(pakn_binary())
        .args(args)
        .envs(env.iter().copied())
        .env("PAKN_LOG", "warn")
        .output()
        .expect("run pakn")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Load a bad and a good file, show; returns the loaded version.
fn load_and_show(dir: &Path, env: &[(&str, &str)], backend: &[&str]) -> String {
    let bad = dir.join("bad.geojson");
    let mut f = features();
    f.push(json!({"type":"Feature","properties":{"ward_code":"99999"},
        "geometry":{"type":"Polygon","coordinates":[[[1.0,1.0],[2.0,1.0],[2.0,2.0],[1.0,1.0]]]}}));
    std::fs::write(&bad, collection(f)).unwrap();
    let good = dir.join("wards.geojson");
    std::fs::write(&good, geojson()).unwrap();

    let show = |want_loaded: bool| {
        let o = pakn(&[&["wards", "show"], backend].concat(), env);
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(text(&o).contains("version"), want_loaded, "{}", text(&o));
        text(&o)
    };
    show(false);
    let o = pakn(
        &[&["wards", "load", bad.to_str().unwrap()], backend].concat(),
        env,
    );
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("99999"), "{}", text(&o));
    show(false);
    let o = pakn(
        &[&["wards", "load", good.to_str().unwrap()], backend].concat(),
        env,
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("wards     4"), "{out}");
    assert!(out.contains("missing   122"), "{out}");
    // A ward left out of the file is named (00025 is one of the 126).
    assert!(out.contains("00025") && !out.contains("00073"), "{out}");
    let shown = show(true);
    let version = |s: &str| {
        s.lines()
            .find_map(|l| l.strip_prefix("version"))
            .map(|v| v.trim().to_string())
            .expect("a version line")
    };
    assert_eq!(version(&shown), version(&out));
    version(&out)
}

async fn get(http: &Client, url: &str, token: &str) -> (StatusCode, Value) {
    let r = http.get(url).bearer_auth(token).send().await.expect("GET");
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

async fn submit_at(
    http: &Client,
    base: &str,
    token: &str,
    ward: Option<&str>,
    (lat, lng): (f64, f64),
) -> String {
    let mut loc = json!({"lat": lat, "lng": lng});
    if let Some(w) = ward {
        loc["ward_code"] = json!(w);
    }
    let r = http
        .post(format!("{base}/v1/cases"))
        .bearer_auth(token)
        .json(
            &json!({"kind":"field","category":"drainage","title":"Ngập úng",
            "description":"Phố ngập sau mưa.","urgency":"normal","location":loc,"channel":"app"}),
        )
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let v: Value = r.json().await.unwrap();
    v["id"].as_str().unwrap().to_string()
}

async fn routed(http: &Client, base: &str, id: &str, token: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (s, v) = get(http, &format!("{base}/v1/cases/{id}"), token).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        if v["status"] != "received" {
            return v;
        }
        assert!(Instant::now() < deadline, "not routed: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loaded_boundaries_route_reports_by_their_point_on_the_binary() {
    let dir = TempDir::new("wards");
    let db = dir.path().join("pakn.db");
    let db_s = db.to_str().unwrap().to_string();
    let env = [("PAKN_DB", db_s.as_str())];
    let version = load_and_show(dir.path(), &env, &[]);

    let server = Server::start(&db, &[]);
    let http = Client::new();
    let citizen = server.token("citizen", "cong-dan-ban-do", None);
    let w73 = server.token("official", "can-bo-73", Some("ward:00073"));
    let w70 = server.token("official", "can-bo-70", Some("ward:00070"));

    // No ward_code: the point decides.
    let id = submit_at(&http, &server.base, &citizen, None, INSIDE_73).await;
    let v = routed(&http, &server.base, &id, &citizen).await;
    assert_eq!(
        (v["status"].clone(), v["unit"].clone()),
        (json!("assigned"), json!("ward:00073")),
        "{v}"
    );
    // The reporter's view carries no staff flag.
    assert!(v.get("ward_check").is_none(), "{v}");
    let (s, v) = get(&http, &format!("{}/v1/cases/{id}", server.base), &w73).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v["ward_check"],
        json!({"boundaries": version, "ward_at_point": "00073", "mismatch": false})
    );

    // A ward_code the point contradicts: routed by the code, flagged for staff.
    let id = submit_at(&http, &server.base, &citizen, Some("00070"), INSIDE_73).await;
    let v = routed(&http, &server.base, &id, &citizen).await;
    assert_eq!(v["unit"], "ward:00070", "{v}");
    let (s, v) = get(&http, &format!("{}/v1/cases/{id}", server.base), &w70).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["ward_check"]["mismatch"], json!(true), "{v}");
    assert_eq!(v["ward_check"]["ward_at_point"], json!("00073"), "{v}");
}

#[test]
fn boundaries_load_and_show_on_the_aws_backend() {
    let endpoint = pakn_tests::moto::endpoint();
    let prefix = pakn_tests::moto::unique("wards");
    let aws_env = [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", pakn_tests::moto::REGION),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let o = pakn(&["provision", "--prefix", &prefix], &aws_env);
    assert!(o.status.success(), "{}", text(&o));
    let exports: Vec<(String, String)> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            l.strip_prefix("export ")?
                .split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    let mut env: Vec<(&str, &str)> = aws_env.to_vec();
    env.extend(exports.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let dir = TempDir::new("wards-aws");
    load_and_show(dir.path(), &env, &["--backend", "aws"]);
}
