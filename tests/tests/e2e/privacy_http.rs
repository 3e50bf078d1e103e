//! Personal data over HTTP (Decree 13/2023/NĐ-CP), on the embedded
//! backend: `GET`/`DELETE /v1/me/data`, `GET /v1/cases/{id}/audit` and
//! who may read it, the channel of every change, and an erased case's
//! public lookup and figures.

use axum::http::Method;
use chrono::{DateTime, Duration, Utc};
use pakn_core::auth::Role;
use pakn_tests::http_app::{
    Answer, Api, Bodies, HOAN_KIEM, admin, at, citizen, inspector, official, report, tok,
    unit_admin,
};
use serde_json::{Value, json};

fn t0() -> DateTime<Utc> {
    // Monday 4 August 2025, 09:00 in Hanoi.
    at("2025-08-04T02:00:00Z")
}

fn api(name: &str) -> Api {
    Api::new(name, t0(), Bodies::AllJson)
}

const PHONE: &str = "0912345678";

/// A report with the reporter's contact and street address.
fn personal_report(title: &str) -> Value {
    let mut r = report(title);
    r["contact"] = json!({"name": "Phạm Thị Mai", "phone": PHONE, "email": "mai@example.vn"});
    r["location"]["address"] = json!("12 Hàng Bài");
    r
}

async fn me_data(api: &Api, token: &str) -> Answer {
    api.get("/v1/me/data", Some(token)).await
}

async fn erase_me(api: &Api, token: &str) -> Answer {
    api.call(Method::DELETE, "/v1/me/data", Some(token), &[], None)
        .await
}

async fn audit(api: &Api, token: Option<&str>, id: &str) -> Answer {
    api.get(&format!("/v1/cases/{id}/audit"), token).await
}

/// Accept, resolve and (as `reporter`) rate case `id`: closed.
async fn close(api: &Api, reporter: &str, id: &str) {
    let off = official("can-bo-1", HOAN_KIEM);
    api.act_on_latest(&off, id, "accept", None)
        .await
        .expect(200);
    let answer = json!({"answer": "Đã thay bóng đèn."});
    api.act_on_latest(&off, id, "resolve", Some(&answer))
        .await
        .expect(200);
    let rate = json!({"score": 4, "comment": "Cảm ơn, tôi ở số 12"});
    let v = api
        .act_on_latest(reporter, id, "rate", Some(&rate))
        .await
        .expect(200);
    assert_eq!(v.body["status"], "closed");
}

/// The audit entries of case `id` as (kind, action, actor, role, channel).
async fn trail(api: &Api, id: &str) -> Vec<(String, String, Value, String, Value)> {
    let v = audit(api, Some(&inspector()), id).await.expect(200).body;
    v["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or_default().to_string(),
                e["action"].as_str().unwrap_or_default().to_string(),
                e["actor"].clone(),
                e["actor_role"].as_str().unwrap_or_default().to_string(),
                e["channel"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_change_records_who_which_role_and_which_channel() {
    let api = api("privacy-channels");
    let mai = citizen("cong-dan-mai");
    // Submitted on the web: the header names the channel.
    let r = api
        .call(
            Method::POST,
            "/v1/cases",
            Some(&mai),
            &[("x-pakn-channel", "web")],
            Some(&personal_report("Đèn đường hỏng")),
        )
        .await
        .expect(202);
    let id = r.body["id"].as_str().expect("id").to_string();
    api.pakn
        .routing()
        .route_case(&pakn_core::ids::CaseId::parse(&id).expect("ulid"))
        .await
        .expect("routed");
    let off = official("can-bo-1", HOAN_KIEM);
    api.act_on_latest(&off, &id, "accept", None)
        .await
        .expect(200);
    let note = json!({"text": "Đã cử đội kiểm tra", "public": true});
    api.act_on_latest(&off, &id, "note", Some(&note))
        .await
        .expect(200);
    let t = trail(&api, &id).await;
    let expect = [
        (
            "change",
            "submitted",
            json!("cong-dan-mai"),
            "citizen",
            json!("web"),
        ),
        (
            "change",
            "routed",
            json!("system:router"),
            "admin",
            json!("system"),
        ),
        (
            "change",
            "accept",
            json!("can-bo-1"),
            "official",
            json!("console"),
        ),
        (
            "change",
            "note",
            json!("can-bo-1"),
            "official",
            json!("console"),
        ),
    ];
    let got: Vec<_> = t
        .iter()
        .map(|(k, a, who, r, c)| (k.as_str(), a.as_str(), who.clone(), r.as_str(), c.clone()))
        .collect();
    assert_eq!(got, expect);
    let case = api
        .get(&format!("/v1/cases/{id}"), Some(&mai))
        .await
        .expect(200)
        .body;
    assert_eq!(case["channel"], "web");

    // A hotline operator's entry is `hotline`.
    let op = tok(Role::Operator, "tong-dai-1", None);
    let r = api
        .submit(&op, &personal_report("Cống tắc"))
        .await
        .expect(202);
    let hotline = r.body["id"].as_str().expect("id").to_string();
    assert_eq!(trail(&api, &hotline).await[0].4, json!("hotline"));

    // Only a citizen names a channel, and only app or web.
    let bad = [
        (mai.as_str(), "fax"),
        (mai.as_str(), "console"),
        (mai.as_str(), "hotline"),
        (off.as_str(), "web"),
        (op.as_str(), "app"),
    ];
    for (token, channel) in bad {
        let a = api
            .call(
                Method::GET,
                "/v1/me/data",
                Some(token),
                &[("x-pakn-channel", channel)],
                None,
            )
            .await
            .error(422, "invalid_channel");
        assert_eq!(a.body["error"]["field"], "X-Pakn-Channel", "{channel}");
    }
}

#[tokio::test]
async fn the_audit_trail_is_for_inspectors_and_admins_only() {
    let api = api("privacy-audit");
    let mai = citizen("cong-dan-mai");
    let id = api
        .routed_case(&mai, &personal_report("Đèn đường hỏng"))
        .await;
    // Those who may read the case but not its audit: 403.
    for t in [
        mai.clone(),
        official("can-bo-1", HOAN_KIEM),
        unit_admin("ua-1", HOAN_KIEM),
    ] {
        audit(&api, Some(&t), &id).await.error(403, "forbidden");
    }
    // Those who may not even read it: 404, as for the case itself.
    for t in [
        citizen("cong-dan-khac"),
        official("can-bo-9", "ward:00073"),
        tok(Role::Triage, "tri-1", None),
        tok(Role::Operator, "tong-dai-1", None),
    ] {
        audit(&api, Some(&t), &id).await.error(404, "not_found");
    }
    audit(&api, None, &id).await.error(401, "unauthorized");
    for t in [inspector(), admin()] {
        let v = audit(&api, Some(&t), &id).await.expect(200).body;
        assert_eq!(v["case_id"], id.as_str());
        assert_eq!(v["entries"].as_array().map(Vec::len), Some(2));
        assert!(!v.to_string().contains(PHONE), "no personal data: {v}");
        audit(&api, Some(&t), "01JZZZZZZZZZZZZZZZZZZZZZZZ")
            .await
            .error(404, "not_found");
    }
}

#[tokio::test]
async fn me_data_exports_what_pakn_holds_and_the_export_is_audited() {
    let api = api("privacy-export");
    let mai = citizen("cong-dan-mai");
    api.post("/v1/accounts", &mai, None).await.expect(201);
    let first = api
        .routed_case(&mai, &personal_report("Đèn đường hỏng"))
        .await;
    api.clock.advance(Duration::minutes(1));
    let second = api.routed_case(&mai, &personal_report("Cống tắc")).await;
    close(&api, &mai, &first).await;
    // Someone else's case is not hers.
    let other = api
        .routed_case(&citizen("cong-dan-khac"), &personal_report("Rác"))
        .await;
    api.clock.advance(Duration::minutes(5));

    let v = api
        .call(
            Method::GET,
            "/v1/me/data",
            Some(&mai),
            &[("x-pakn-channel", "web")],
            None,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(
        (v["subject"].as_str(), v["role"].as_str()),
        (Some("cong-dan-mai"), Some("citizen"))
    );
    assert_eq!(v["account"]["sub"], "cong-dan-mai");
    let cases = v["cases"].as_array().expect("cases");
    let ids: Vec<&str> = cases
        .iter()
        .filter_map(|c| c["case"]["id"].as_str())
        .collect();
    assert_eq!(ids, [second.as_str(), first.as_str()], "hers, newest first");
    let closed = &cases[1];
    assert_eq!(closed["case"]["contact"]["phone"], PHONE);
    assert_eq!(closed["case"]["location"]["address"], "12 Hàng Bài");
    assert!(
        closed["case"]["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    // Her own entries in full, the private ones included (the rating comment).
    let mine: Vec<(&str, Option<&str>)> = closed["your_entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| (e["action"].as_str().unwrap_or(""), e["text"].as_str()))
        .collect();
    assert_eq!(
        mine,
        [("submitted", None), ("rate", Some("Cảm ơn, tôi ở số 12"))]
    );
    // Closed on Monday 4 August 2025 09:01 Hanoi: erased five years on.
    assert_eq!(closed["erase_after"], "2030-08-04T02:01:00Z");
    assert_eq!(cases[0]["erase_after"], Value::Null, "open: not yet");

    // Each case exported is in its audit trail: who, role, channel.
    let t = trail(&api, &first).await;
    let export = t
        .iter()
        .find(|e| e.1 == "export")
        .expect("the export is audited");
    assert_eq!(
        (export.0.as_str(), &export.2, export.3.as_str(), &export.4),
        ("access", &json!("cong-dan-mai"), "citizen", &json!("web"))
    );
    assert!(trail(&api, &other).await.iter().all(|e| e.1 != "export"));

    // Staff get their account record and no cases (their actions are official records).
    let off = official("can-bo-1", HOAN_KIEM);
    api.post("/v1/accounts", &off, None).await.expect(201);
    let v = me_data(&api, &off).await.expect(200).body;
    assert_eq!(v["account"]["unit"], HOAN_KIEM);
    assert_eq!(v["cases"], json!([]));
    me_data(&api, &citizen("chua-dang-ky")).await.expect(200);
    api.get("/v1/me/data", None)
        .await
        .error(401, "unauthorized");
}

#[tokio::test]
async fn deleting_my_data_erases_closed_cases_now_and_open_ones_when_they_close() {
    let api = api("privacy-erase");
    let mai = citizen("cong-dan-mai");
    let done = api
        .routed_case(&mai, &personal_report("Đèn đường hỏng"))
        .await;
    let open = api.routed_case(&mai, &personal_report("Cống tắc")).await;
    close(&api, &mai, &done).await;
    let code = api
        .get(&format!("/v1/cases/{done}"), Some(&inspector()))
        .await
        .expect(200)
        .body["tracking_code"]
        .as_str()
        .expect("code")
        .to_string();
    let stats_uri = "/v1/stats?from=2025-08-01&to=2025-09-01";
    let stats_before = api.get(stats_uri, None).await.expect(200).body;
    let public_before = api
        .get(&format!("/v1/track/{code}"), None)
        .await
        .expect(200)
        .body;

    // Staff cannot erase: their records are official records.
    erase_me(&api, &official("can-bo-1", HOAN_KIEM))
        .await
        .error(403, "forbidden");

    api.clock.advance(Duration::minutes(10));
    let v = erase_me(&api, &mai).await.expect(200).body;
    assert_eq!(v["erased"][0]["id"], done.as_str());
    assert_eq!(v["erased"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["pending"][0]["id"], open.as_str());
    assert_eq!(v["pending"][0]["status"], "assigned");

    // The closed case: no longer hers, its personal data gone for staff too.
    api.get(&format!("/v1/cases/{done}"), Some(&mai))
        .await
        .error(404, "not_found");
    let c = api
        .get(&format!("/v1/cases/{done}"), Some(&inspector()))
        .await
        .expect(200);
    let text = c.text();
    for gone in [
        PHONE,
        "Phạm Thị Mai",
        "mai@example.vn",
        "12 Hàng Bài",
        "cong-dan-mai",
        "tôi ở số 12",
    ] {
        assert!(!text.contains(gone), "{gone} is still in {text}");
    }
    assert_eq!(
        c.body["answer"]["text"], "Đã thay bóng đèn.",
        "official records stay"
    );
    assert_eq!(c.body["status"], "closed");
    // Its public lookup and the figures are as they were.
    let public_after = api
        .get(&format!("/v1/track/{code}"), None)
        .await
        .expect(200)
        .body;
    assert_eq!(public_after, public_before);
    assert_eq!(
        api.get(stats_uri, None).await.expect(200).body,
        stats_before
    );
    // The erasure is audited: role and channel, no subject.
    let t = trail(&api, &done).await;
    let erase = t.iter().find(|e| e.1 == "erase").expect("erase entry");
    assert_eq!(
        (erase.0.as_str(), &erase.2, erase.3.as_str(), &erase.4),
        ("change", &Value::Null, "citizen", &json!("app"))
    );
    assert!(t.iter().all(|e| e.2 != json!("cong-dan-mai")), "{t:?}");

    // The open case: still hers with its contact, marked, audited.
    let o = api
        .get(&format!("/v1/cases/{open}"), Some(&mai))
        .await
        .expect(200)
        .body;
    assert_eq!(o["contact"]["phone"], PHONE);
    assert!(
        trail(&api, &open)
            .await
            .iter()
            .any(|e| e.1 == "erasure_requested")
    );
    let exported = me_data(&api, &mai).await.expect(200).body;
    assert_eq!(exported["cases"].as_array().map(Vec::len), Some(1));
    assert!(exported["cases"][0]["erasure_requested_at"].is_string());

    // Asking again changes nothing.
    let again = erase_me(&api, &mai).await.expect(200).body;
    assert_eq!(again["erased"], json!([]));
    assert_eq!(again["pending"][0]["id"], open.as_str());
    let marks = trail(&api, &open).await;
    assert_eq!(
        marks.iter().filter(|e| e.1 == "erasure_requested").count(),
        1
    );

    // Once it closes, the next sweep erases it.
    close(&api, &mai, &open).await;
    let r = api.pakn.sweep().run(100).await.expect("sweep");
    assert_eq!(r.retention.erased, 1);
    assert_eq!(
        me_data(&api, &mai).await.expect(200).body["cases"],
        json!([])
    );
    let c = api
        .get(&format!("/v1/cases/{open}"), Some(&inspector()))
        .await
        .expect(200);
    assert!(!c.text().contains(PHONE));
    let t = trail(&api, &open).await;
    let erase = t
        .iter()
        .find(|e| e.1 == "erase")
        .expect("erased by the sweep");
    assert_eq!(
        (&erase.2, &erase.4),
        (&json!("system:retention"), &json!("system"))
    );
}

#[tokio::test]
async fn exports_and_erasures_count_as_the_citizens_actions() {
    let mut rd = pakn_core::refdata::RefData::embedded();
    rd.policy.rate_limits.citizen_actions_per_minute = 2;
    let api = Api::with_refdata("privacy-quota", t0(), Bodies::AllJson, rd);
    let mai = citizen("cong-dan-mai");
    me_data(&api, &mai).await.expect(200);
    erase_me(&api, &mai).await.expect(200);
    let refused = me_data(&api, &mai).await.error(429, "rate_limited");
    assert!(refused.headers.contains_key("retry-after"));
    erase_me(&api, &mai).await.error(429, "rate_limited");
    // Another citizen is not held to her count; the next minute she may again.
    me_data(&api, &citizen("cong-dan-khac")).await.expect(200);
    api.clock.advance(Duration::minutes(1));
    me_data(&api, &mai).await.expect(200);
}
