//! The real `pakn` binary: one process serving the API, the routing workers
//! and the scheduler on SQLite. Submit → routed → acted on by each role →
//! rated → stats; and SIGKILL while submissions are in flight loses nothing.

use pakn_tests::process::{Server, TempDir};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn report(ward: Option<&str>) -> Value {
    let mut loc = json!({"lat": 21.0285, "lng": 105.8542, "address": "Phố Hàng Khay"});
    if let Some(w) = ward {
        loc["ward_code"] = json!(w);
    }
    json!({
        "kind": "field", "category": "lighting",
        "title": "Đèn đường hỏng", "description": "Cột đèn trước số 5 Hàng Khay không sáng từ ba hôm nay.",
        "urgency": "normal", "location": loc, "channel": "app",
        "contact": {"name": "Nguyễn Văn A", "phone": "0912345678"}
    })
}

struct Api {
    http: Client,
    base: String,
}

impl Api {
    async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value, Option<String>) {
        let mut rq = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            rq = rq.bearer_auth(t);
        }
        let r = rq.send().await.expect("GET");
        let etag = r
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null), etag)
    }

    async fn post(
        &self,
        path: &str,
        token: &str,
        body: &Value,
        if_match: Option<&str>,
        idem: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut rq = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body);
        if let Some(m) = if_match {
            rq = rq.header("If-Match", m);
        }
        if let Some(k) = idem {
            rq = rq.header("Idempotency-Key", k);
        }
        let r = rq.send().await.expect("POST");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn act(&self, id: &str, action: &str, token: &str, body: Value) -> (StatusCode, Value) {
        let (s, _, etag) = self.get(&format!("/v1/cases/{id}"), Some(token)).await;
        assert_eq!(
            s,
            StatusCode::OK,
            "{action}: the actor must see the case first"
        );
        self.post(
            &format!("/v1/cases/{id}/{action}"),
            token,
            &body,
            etag.as_deref(),
            None,
        )
        .await
    }

    /// Submit the Hoàn Kiếm report with an idempotency key; expect 202 and return the id.
    async fn submit_report(&self, token: &str, key: &str) -> String {
        let (s, r) = self
            .post("/v1/cases", token, &report(Some("00070")), None, Some(key))
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{r}");
        r["id"].as_str().expect("id").to_string()
    }

    /// Wait until the router moved the case out of `received` (within 20 s).
    async fn wait_routed(&self, id: &str, token: &str) -> Value {
        self.wait_routed_within(id, token, Duration::from_secs(20))
            .await
    }

    async fn wait_routed_within(&self, id: &str, token: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let (s, v, _) = self.get(&format!("/v1/cases/{id}"), Some(token)).await;
            assert_eq!(s, StatusCode::OK, "{v}");
            if v["status"] != "received" {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "case {id} was not routed within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_pipeline_on_the_real_binary() {
    let dir = TempDir::new("e2e");
    let server = Server::start(&dir.path().join("pakn.db"), &[]);
    let api = Api {
        http: Client::new(),
        base: server.base.clone(),
    };
    let citizen = server.token("citizen", "citizen-1", None);
    let other_citizen = server.token("citizen", "citizen-2", None);
    let official = server.token("official", "off-hk-1", Some("ward:00070"));
    let official_not_on_roster = server.token("official", "off-hk-9", Some("ward:00070"));
    let other_ward = server.token("official", "off-cn-1", Some("ward:00073"));
    let unit_admin = server.token("unit_admin", "adm-hk", Some("ward:00070"));
    let triage = server.token("triage", "triage-1", None);
    let inspector = server.token("inspector", "insp-1", None);
    let operator = server.token("operator", "op-1022", None);

    // Public reference data, no token.
    let (s, cats, _) = api.get("/v1/categories", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(cats.to_string().contains("lighting"), "{cats}");
    let (s, units, _) = api.get("/v1/units", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(units.to_string().contains("Phường Hoàn Kiếm"));

    // Submit; the same key and body give the same case; routed to Hoàn Kiếm ward.
    let (s, r1) = api
        .post(
            "/v1/cases",
            &citizen,
            &report(Some("00070")),
            None,
            Some("key-1"),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r1}");
    let (s, r2) = api
        .post(
            "/v1/cases",
            &citizen,
            &report(Some("00070")),
            None,
            Some("key-1"),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(r1["id"], r2["id"]);
    let mut other = report(Some("00070"));
    other["title"] = json!("Khác");
    let (s, e) = api
        .post("/v1/cases", &citizen, &other, None, Some("key-1"))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let id = r1["id"].as_str().expect("id").to_string();
    let tracking = r1["tracking_code"]
        .as_str()
        .expect("tracking code")
        .to_string();
    let routed = api.wait_routed(&id, &citizen).await;
    assert_eq!(routed["status"], "assigned");
    assert_eq!(routed["unit"], "ward:00070");
    assert!(
        routed["ack_due"].is_string() && routed["resolve_due"].is_string(),
        "{routed}"
    );

    // Visibility: others get 404, never a hint that the case exists.
    for t in [&other_citizen, &other_ward] {
        let (s, _, _) = api.get(&format!("/v1/cases/{id}"), Some(t)).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    let (s, _, _) = api.get(&format!("/v1/cases/{id}"), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // The citizen sees it but may not accept it.
    let (s, e) = api.act(&id, "accept", &citizen, json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    // An action without If-Match is 428; with a stale one 412.
    let (s, _) = api
        .post(
            &format!("/v1/cases/{id}/accept"),
            &official,
            &json!({}),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::PRECONDITION_REQUIRED);
    let (s, _) = api
        .post(
            &format!("/v1/cases/{id}/accept"),
            &official,
            &json!({}),
            Some("\"999\""),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED);

    // The unit admin sets the roster: now only listed officials act.
    let roster =
        json!({"officials": [{"sub": "off-hk-1", "name": "Trần Thị B", "title": "Chuyên viên"}]});
    let r = api
        .http
        .put(format!("{}/v1/units/ward:00070/roster", api.base))
        .bearer_auth(&unit_admin)
        .json(&roster)
        .send()
        .await
        .expect("PUT roster");
    assert_eq!(r.status(), StatusCode::OK);
    let (s, _, _) = api
        .get(&format!("/v1/cases/{id}"), Some(&official_not_on_roster))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (s, v) = api.act(&id, "accept", &official, json!({})).await;
    assert_eq!(
        (s, v["status"].clone()),
        (StatusCode::OK, json!("in_progress")),
        "{v}"
    );
    let (s, v) = api
        .act(
            &id,
            "note",
            &official,
            json!({"text": "Đã cử đội kiểm tra.", "public": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = api
        .act(
            &id,
            "resolve",
            &official,
            json!({"answer": "Đã thay bóng đèn.", "evidence": ["https://example.vn/a.jpg"]}),
        )
        .await;
    assert_eq!(
        (s, v["status"].clone()),
        (StatusCode::OK, json!("resolved")),
        "{v}"
    );
    // A wrong transition is 409.
    let (s, e) = api.act(&id, "accept", &official, json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(e["error"]["code"], "invalid_transition");
    let (s, v) = api
        .act(
            &id,
            "rate",
            &citizen,
            json!({"score": 5, "comment": "Cảm ơn"}),
        )
        .await;
    assert_eq!(
        (s, v["status"].clone()),
        (StatusCode::OK, json!("closed")),
        "{v}"
    );

    // The public view by tracking code: no token, no personal data.
    let (s, p, _) = api.get(&format!("/v1/track/{tracking}"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(p["status"], "closed");
    assert!(
        !p.to_string().contains("0912345678") && !p.to_string().contains("citizen-1"),
        "{p}"
    );

    // A hotline operator submits for a caller; no ward → the triage office routes it.
    let mut call = report(None);
    call["channel"] = json!("hotline");
    let (s, r) = api
        .post("/v1/cases", &operator, &call, None, Some("op-1"))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r}");
    let tid = r["id"].as_str().expect("id").to_string();
    let v = api.wait_routed(&tid, &operator).await;
    assert_eq!(
        (v["status"].clone(), v["unit"].clone()),
        (json!("triage"), json!("city:triage"))
    );
    // An official cannot even see a triage case, so routing it is 404.
    let (s, _) = api
        .post(
            &format!("/v1/cases/{tid}/route"),
            &official,
            &json!({"to_unit": "ward:00073"}),
            Some("2"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = api
        .act(&tid, "route", &triage, json!({"to_unit": "ward:00073"}))
        .await;
    assert_eq!(
        (s, v["status"].clone()),
        (StatusCode::OK, json!("assigned")),
        "{v}"
    );
    let (s, v, _) = api
        .get(&format!("/v1/cases/{tid}"), Some(&other_ward))
        .await;
    assert_eq!(
        (s, v["unit"].clone()),
        (StatusCode::OK, json!("ward:00073"))
    );
    let (s, v, _) = api.get(&format!("/v1/cases/{tid}"), Some(&inspector)).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // Statistics add up: two received, one resolved on time.
    let (s, st, _) = api.get("/v1/stats", None).await;
    assert_eq!(s, StatusCode::OK, "{st}");
    assert_eq!(st["total"], 2, "{st}");
    assert_eq!(st["by_kind"]["field"], 2);
    assert_eq!(st["resolved"], 1);
    assert_eq!(st["resolved_on_time"], 1);
    assert_eq!(st["on_time_rate"], 1.0);
    assert_eq!(st["open"], 1);

    // While it serves: a consistent backup, and an export of every case (from the copy too).
    let copy = dir.path().join("copy.db");
    let out = std::process::Command::new(pakn_tests::process::pakn_binary())
        .args(["backup", copy.to_str().expect("utf-8 path")])
        .env("PAKN_DB", &server.db)
        .output()
        .expect("pakn backup");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for db in [&server.db, &copy] {
        let out = std::process::Command::new(pakn_tests::process::pakn_binary())
            .arg("export")
            .env("PAKN_DB", db)
            .env("PAKN_LOG", "warn")
            .output()
            .expect("pakn export");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<Value> = String::from_utf8(out.stdout)
            .expect("utf-8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON case per line"))
            .collect();
        assert_eq!(lines.len(), 2, "{}", db.display());
        assert!(
            lines
                .iter()
                .any(|c| c["tracking_code"] == tracking.as_str() && c["status"] == "closed")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_submitting_loses_nothing_accepted() {
    let dir = TempDir::new("crash");
    let db = dir.path().join("pakn.db");
    let mut server = Server::start(&db, &[]);
    let citizen = server.token("citizen", "crash-citizen", None);
    let admin = server.token("admin", "crash-admin", None);
    let base = server.base.clone();

    // Eight clients submit as fast as they can; the process is killed mid-flight.
    let accepted = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for c in 0..8 {
        let (accepted, stop, base, citizen) = (
            accepted.clone(),
            stop.clone(),
            base.clone(),
            citizen.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let http = Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("client");
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 2000 {
                n += 1;
                let r = http
                    .post(format!("{base}/v1/cases"))
                    .bearer_auth(&citizen)
                    .header("Idempotency-Key", format!("crash-{c}-{n}"))
                    .json(&report(Some("00070")))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == StatusCode::ACCEPTED => {
                        let v: Value = r.json().await.unwrap_or(Value::Null);
                        if let Some(id) = v["id"].as_str() {
                            accepted.lock().expect("lock").push(id.to_string());
                        }
                    }
                    Ok(_) => {}
                    Err(_) => break, // the server is gone
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill9();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let accepted = accepted.lock().expect("lock").clone();
    assert!(
        accepted.len() >= 10,
        "too few submissions before the kill to prove anything: {}",
        accepted.len()
    );

    // Restart on the same file: every 202-answered case is there exactly once, and gets routed.
    let server = Server::start(&db, &[]);
    let api = Api {
        http: Client::new(),
        base: server.base.clone(),
    };
    let mut seen = std::collections::HashMap::<String, usize>::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/cases?limit=100&cursor={c}"),
            None => "/v1/cases?limit=100".to_string(),
        };
        let (s, page, _) = api.get(&path, Some(&admin)).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        for item in page["items"].as_array().expect("items") {
            *seen
                .entry(item["id"].as_str().expect("id").to_string())
                .or_default() += 1;
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    for id in &accepted {
        assert_eq!(
            seen.get(id),
            Some(&1),
            "case {id} answered 202 must exist exactly once after kill -9"
        );
    }
    assert!(seen.values().all(|n| *n == 1), "no case is listed twice");
    for id in &accepted {
        // A message the killed process had received stays invisible until its
        // visibility timeout ends (SQS semantics), then it is delivered again.
        let within = pakn_local::VISIBILITY_TIMEOUT + Duration::from_secs(20);
        let v = api.wait_routed_within(id, &admin, within).await;
        assert_eq!(v["unit"], "ward:00070");
    }
}

/// `pakn provision` and `pakn serve --backend aws` against moto: the same
/// pipeline on DynamoDB, SQS and SNS, driven over HTTP like the local one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_the_aws_backend_against_the_emulator() {
    let endpoint = pakn_tests::moto::endpoint();
    let prefix = pakn_tests::moto::unique("serve");
    let aws_env = [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", pakn_tests::moto::REGION),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let out = std::process::Command::new(pakn_tests::process::pakn_binary())
        .args(["provision", "--prefix", &prefix])
        .envs(aws_env)
        .env("PAKN_LOG", "warn")
        .output()
        .expect("pakn provision");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exports: Vec<(String, String)> = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .filter_map(|l| {
            l.strip_prefix("export ")?
                .split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    let names: Vec<&str> = exports.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "TABLE_NAME",
            "INTAKE_QUEUE_URL",
            "INTAKE_DLQ_URL",
            "TOPIC_ARN",
            "MEDIA_BUCKET",
            "MEDIA_QUEUE_URL",
            "MEDIA_DLQ_URL"
        ]
    );

    let dir = TempDir::new("aws-serve");
    let mut env: Vec<(&str, &str)> = aws_env.to_vec();
    env.push(("PAKN_BACKEND", "aws"));
    env.extend(exports.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let server = Server::start(&dir.path().join("unused.db"), &env);
    let api = Api {
        http: Client::new(),
        base: server.base.clone(),
    };
    let citizen = server.token("citizen", "aws-citizen", None);
    let official = server.token("official", "aws-official", Some("ward:00070"));
    let id = api.submit_report(&citizen, "aws-1").await;
    let routed = api.wait_routed(&id, &citizen).await;
    assert_eq!(
        (routed["status"].clone(), routed["unit"].clone()),
        (json!("assigned"), json!("ward:00070"))
    );
    let (s, v) = api.act(&id, "accept", &official, json!({})).await;
    assert_eq!(
        (s, v["status"].clone()),
        (StatusCode::OK, json!("in_progress")),
        "{v}"
    );
    let (s, st, _) = api.get("/v1/stats", None).await;
    assert_eq!(
        (s, st["total"].clone(), st["open"].clone()),
        (StatusCode::OK, json!(1), json!(1)),
        "{st}"
    );

    // Uploads work: a slot in the provisioned bucket, the bytes put
    // straight into it, the check off the request path (the serve's poller
    // of the bucket's event queue), then a link to the cleaned copy.
    let photo: &[u8] = include_bytes!("../../fixtures/media/street-gps.jpg");
    let (s, slot) = api
        .post(
            "/v1/uploads",
            &citizen,
            &json!({"content_type": "image/jpeg", "bytes": photo.len()}),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{slot}");
    let bucket = &exports.iter().find(|(k, _)| k == "MEDIA_BUCKET").unwrap().1;
    let url = slot["url"].as_str().expect("a presigned url");
    assert!(url.contains(&format!("/{bucket}/raw/")), "{url}");
    let mut put = Client::new().put(url).body(photo.to_vec());
    for (k, v) in slot["headers"].as_object().unwrap() {
        put = put.header(k.as_str(), v.as_str().unwrap());
    }
    assert!(put.send().await.expect("put").status().is_success());
    let upload = slot["upload"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let ready = loop {
        let (s, u, _) = api
            .get(&format!("/v1/uploads/{upload}"), Some(&citizen))
            .await;
        assert_eq!(s, StatusCode::OK, "{u}");
        if u["status"] == "ready" {
            break u;
        }
        assert_eq!(u["status"], "pending", "{u}");
        assert!(Instant::now() < deadline, "the upload was never checked");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let bytes = Client::new()
        .get(ready["url"].as_str().expect("a link"))
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .unwrap();
    assert!(bytes.starts_with(&[0xFF, 0xD8]));
    assert!(!bytes.windows(4).any(|w| w == b"Exif"), "metadata stripped");
}

/// Personal data planted in the fast-clock run's report; none of it may
/// reach the log or any notification.
const PLANTED: [&str; 4] = [
    "Trần Thị Riêng Tư",
    "0987654321",
    "rieng.tu@example.vn",
    "Số 9 ngõ Bí Mật",
];

/// `PAKN_CLOCK_SPEED`: a unit that ignores a report gets its reminder and
/// overdue alert, and after more than 15 days overdue Home Affairs finds an
/// inspection with the evidence — on the real binary, in seconds. The
/// reporter's name, phone, e-mail and street address appear nowhere in the
/// process's debug log nor in any notification published on the way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_clock_shows_an_ignored_report_reaching_the_inspectors() {
    let dir = TempDir::new("fast");
    let log = dir.path().join("pakn.log");
    // One real second is ten hours; the sweep runs every real second.
    let server = Server::start_logged(
        &dir.path().join("pakn.db"),
        &[
            ("PAKN_CLOCK_SPEED", "36000"),
            ("PAKN_SWEEP_SECONDS", "1"),
            ("PAKN_LOG", "debug"),
        ],
        &log,
    );
    let api = Api {
        http: Client::new(),
        base: server.base.clone(),
    };
    let citizen = server.token("citizen", "fast-citizen", None);
    let inspector = server.token("inspector", "fast-inspector", None);
    let mut body = report(Some("00070"));
    body["contact"] = json!({"name": PLANTED[0], "phone": PLANTED[1], "email": PLANTED[2]});
    body["location"]["address"] = json!(PLANTED[3]);
    let (s, r) = api
        .post("/v1/cases", &citizen, &body, None, Some("fast-1"))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r}");
    let id = r["id"].as_str().expect("id").to_string();
    // The reporter's own view holds it all (so the data was really there).
    let (_, mine, _) = api.get(&format!("/v1/cases/{id}"), Some(&citizen)).await;
    for p in PLANTED {
        assert!(mine.to_string().contains(p), "{p} not in the case: {mine}");
    }
    // Nobody at the ward acts. 24 working hours + 15 calendar days is at most
    // about 21 calendar days (~50 real seconds at this speed, plus Tết at worst).
    let deadline = Instant::now() + Duration::from_secs(150);
    let view = loop {
        let (s, v, _) = api
            .get(&format!("/v1/inspections/case-{id}"), Some(&inspector))
            .await;
        if s == StatusCode::OK {
            break v;
        }
        assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
        assert!(
            Instant::now() < deadline,
            "no inspection for the ignored case after 150 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(view["inspection"]["unit"], "ward:00070");
    assert_eq!(view["inspection"]["reason"], "overdue");
    let events: Vec<&str> = view["notifications"]
        .as_array()
        .expect("notifications")
        .iter()
        .filter_map(|n| n["event"].as_str())
        .collect();
    for e in [
        "case.assigned",
        "case.reminder",
        "case.overdue",
        "inspection.opened",
    ] {
        assert!(events.contains(&e), "{e} missing from {events:?}");
    }
    assert_eq!(
        events.iter().filter(|e| **e == "case.overdue").count(),
        1,
        "{events:?}"
    );
    assert_eq!(
        events.iter().filter(|e| **e == "inspection.opened").count(),
        1,
        "{events:?}"
    );

    // Every message published about the unit, bodies included.
    let (s, published, _) = api
        .get("/v1/units/ward:00070/notifications", Some(&inspector))
        .await;
    assert_eq!(s, StatusCode::OK, "{published}");
    let items = published["items"].as_array().expect("items");
    assert!(items.len() >= 4, "{published}");
    let log = std::fs::read_to_string(&log).expect("the log");
    assert!(
        log.contains("DEBUG"),
        "the log was written at debug level: {log}"
    );
    for p in PLANTED {
        assert!(
            !published.to_string().contains(p),
            "{p} in a notification: {published}"
        );
        assert!(
            !view["notifications"].to_string().contains(p),
            "{p} in the inspection's notifications"
        );
        assert!(!log.contains(p), "{p} in the log");
    }
}

/// A missing or malformed setting stops `pakn` before it does anything, with
/// a message naming the variable to fix (one configuration, parsed once).
#[test]
fn a_bad_setting_stops_pakn_naming_what_to_fix() {
    let dir = TempDir::new("bad-config");
    let db = dir.path().join("never-created.db");
    let db = db.to_str().expect("utf-8 path");
    let aws = [
        ("TABLE_NAME", "t"),
        ("INTAKE_QUEUE_URL", "http://127.0.0.1:9/q"),
        ("TOPIC_ARN", "arn:aws:sns:ap-southeast-1:000000000000:t"),
    ];
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 5] = [
        (
            &["serve"],
            &[("PAKN_SWEEP_SECONDS", "0")],
            "PAKN_SWEEP_SECONDS must be a positive number of seconds (got '0')",
        ),
        (
            &["export"],
            &[("PAKN_BACKEND", "dynamo")],
            "PAKN_BACKEND must be 'sqlite' or 'aws', not 'dynamo'",
        ),
        (
            &["serve", "--backend", "aws"],
            &[("PAKN_BACKEND", "sqlite")],
            "--backend aws needs TABLE_NAME (run `pakn provision`",
        ),
        (
            &["redrive", "--backend", "aws"],
            &aws,
            "pakn redrive --backend aws needs INTAKE_DLQ_URL",
        ),
        (
            &["token", "--role", "citizen", "--sub", "c"],
            &[("PAKN_JWT_SECRET", "short")],
            "PAKN_JWT_SECRET must be at least 32 bytes",
        ),
    ];
    for (args, env, want) in cases {
        let out = std::process::Command::new(pakn_tests::process::pakn_binary())
            .args(args)
            .env_clear()
            .env("PAKN_DB", db)
            .env("PAKN_LOG", "warn")
            .envs(env.iter().copied())
            .output()
            .expect("run pakn");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} {env:?} succeeded");
        assert!(stderr.contains(want), "{args:?} {env:?}: {stderr}");
    }
    assert!(
        !dir.path().join("never-created.db").exists(),
        "a bad setting opened the database"
    );
}

/// `pakn bench --json`, briefly: one object with every section; every
/// accepted case of the end-to-end phase was assigned, the sweep decided
/// exactly the due cases and read them a page at a time; with moto in the
/// test environment (PAKN_MOTO_SERVER), the units section has the write
/// units of a lifecycle, a reminder and an overdue decision. No figure is
/// asserted (numbers live in BENCHMARKS.md).
#[test]
fn the_one_benchmark_command_reports_every_section() {
    let out = std::process::Command::new(pakn_tests::process::pakn_binary())
        .args([
            "bench",
            "--json",
            "--seconds",
            "1",
            "--clients",
            "4",
            "--sweep-cases",
            "2000",
        ])
        .env_remove("PAKN_BACKEND")
        .output()
        .expect("run pakn bench");
    assert!(
        out.status.success(),
        "pakn bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    for k in ["throughput", "p50_ms", "p99_ms", "ceiling", "ratio"] {
        assert!(v["intake"][k].is_number(), "intake.{k}: {v}");
    }
    let e2e = &v["end_to_end"];
    assert!(e2e["accepted"].as_u64().is_some_and(|n| n > 0), "{e2e}");
    assert_eq!(
        e2e["assigned"], e2e["accepted"],
        "every accepted case assigned"
    );
    for k in ["p50_ms", "p99_ms", "backlog_at_end"] {
        assert!(e2e[k].is_number(), "end_to_end.{k}: {e2e}");
    }
    let sweep = &v["sweep"];
    assert_eq!(sweep["open_cases"], 2000, "{sweep}");
    assert_eq!(sweep["due"], 20, "{sweep}");
    assert_eq!(sweep["decided"], sweep["due"], "{sweep}");
    let reads = sweep["store_reads"].as_u64().expect("reads");
    assert!(
        (1..=10).contains(&reads),
        "one page of 20 due cases is a handful of reads, whatever the 2,000 open ones: {reads}"
    );
    // The bootstraps beside the binary (built with it by `cargo build
    // --workspace --bins`) each reach their first Runtime API poll.
    for bin in [
        "pakn-api",
        "pakn-router",
        "pakn-deadlines",
        "pakn-publisher",
    ] {
        let l = &v["lambda"][bin];
        assert!(
            l["init_ms"].is_number() && l["bytes"].is_number(),
            "lambda.{bin}: {l}"
        );
    }
    let moto = std::env::var_os("PAKN_MOTO_SERVER").is_some_and(|p| !p.is_empty())
        || std::env::var_os("AWS_ENDPOINT_URL").is_some_and(|p| !p.is_empty());
    let units = &v["units"];
    if !moto {
        assert!(units.is_null() && v["units_null_reason"].is_string(), "{v}");
        return;
    }
    // With the emulator, the section is `pakn bench lifecycle-units --json`.
    for part in ["lifecycle", "reminder", "overdue"] {
        assert!(
            units[part]["wru"].as_u64().is_some_and(|n| n > 0),
            "units.{part}.wru: {units}"
        );
        assert!(units[part]["rru"].is_number(), "units.{part}.rru: {units}");
    }
    let steps = units["steps"].as_array().expect("units.steps");
    let of = |part: &'static str| steps.iter().filter(move |s| s["part"] == part);
    assert_eq!(of("lifecycle").count(), 7, "{units}");
    let sum: u64 = of("lifecycle")
        .map(|s| s["wru"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(
        units["lifecycle"]["wru"], sum,
        "the lifecycle is its seven steps"
    );
    let reminder = of("reminder").next().expect("a reminder decision step");
    assert_eq!(units["reminder"]["wru"], reminder["wru"], "{units}");
    let overdue = of("overdue").next().expect("an overdue decision step");
    assert_eq!(units["overdue"]["wru"], overdue["wru"], "{units}");
    let milestones = |part: &str| units[part]["milestones"].to_string();
    assert!(
        milestones("reminder").contains("ack_due@")
            || milestones("reminder").contains("before_due@"),
        "{units}"
    );
    assert!(milestones("overdue").contains("overdue@"), "{units}");
    // Each decision sent its notification.
    for part in ["reminder", "overdue"] {
        assert!(
            units[part]["sns_publishes"].as_u64() >= Some(1),
            "{part}: {units}"
        );
    }
}
