//! HTTP tests of `pakn-api` through `app(state).oneshot(request)`, on the
//! embedded SQLite backend with a manual clock: every route, every error
//! status the API produces, the permission rows of CONTRACT.md the API
//! exposes, If-Match, idempotency, and the OpenAPI coverage.

use axum::body::Body;
use axum::http::{Method, Request};
use chrono::{DateTime, Duration, Utc};
use pakn_api::token;
use pakn_core::auth::Role;
use pakn_tests::http_app::{Api, Bodies, HOAN_KIEM, SECRET, at, citizen, official, report, tok};
use serde_json::{Value, json};

fn t0() -> DateTime<Utc> {
    // Tuesday 1 July 2025, 09:00 in Hanoi.
    at("2025-07-01T02:00:00Z")
}

/// Every answer of these routes is JSON (or empty).
async fn api() -> Api {
    Api::new("http", t0(), Bodies::AllJson)
}

// ------------------------------------------------------------------ public

#[tokio::test]
async fn public_routes_answer_without_a_token() {
    let api = api().await;
    assert_eq!(
        api.get("/healthz", None).await.expect(200).body["status"],
        "ok"
    );

    let cats = api.get("/v1/categories", None).await.expect(200).body;
    let lighting = cats["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|c| c["code"] == "lighting")
        .expect("lighting")
        .clone();
    assert_eq!(lighting["kind"], "field");
    assert_eq!(lighting["responsible"], "ward");
    assert!(lighting["name_vi"].as_str().is_some_and(|s| !s.is_empty()));
    for u in ["urgent", "normal", "complex"] {
        assert!(
            lighting["sla"][u]["resolve"]["hours"].as_f64().is_some(),
            "{u}: {lighting}"
        );
    }
    assert!(cats["policy_version"].is_string());

    let units = api.get("/v1/units", None).await.expect(200).body;
    let hk = units["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|u| u["code"] == HOAN_KIEM)
        .expect("Hoàn Kiếm")
        .clone();
    assert_eq!(hk["name_vi"], "Phường Hoàn Kiếm");
    assert_eq!(hk["type"], "ward");
    assert_eq!(hk["parent"], "city:hanoi");
    let under_city = api
        .get("/v1/units?parent=city:hanoi", None)
        .await
        .expect(200)
        .body;
    let items = under_city["items"].as_array().expect("items");
    assert!(items.len() >= 126 && items.iter().all(|u| u["parent"] == "city:hanoi"));
    api.get("/v1/units?parent=nonsense", None)
        .await
        .error(422, "invalid_unit_code");
    api.get("/v1/units?parent=ward:99999", None)
        .await
        .error(422, "unknown_unit");
}

#[tokio::test]
async fn stats_default_to_the_last_30_local_days_and_validate_dates() {
    let api = api().await;
    api.submit(&citizen("c1"), &report("Đèn hỏng"))
        .await
        .expect(202);
    let s = api.get("/v1/stats", None).await.expect(200).body;
    assert_eq!(s["from"], "2025-06-02");
    assert_eq!(s["to"], "2025-07-02");
    assert_eq!(s["total"], 1);
    assert_eq!(s["by_kind"]["field"], 1);
    assert!(s["on_time_rate"].is_null());
    let s = api
        .get(
            "/v1/stats?from=2025-07-01&to=2025-07-02&unit=ward:00070",
            None,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(s["unit"], HOAN_KIEM);
    api.get("/v1/stats?from=01/07/2025", None)
        .await
        .error(422, "invalid_date");
    api.get("/v1/stats?from=2025-07-02&to=2025-07-01", None)
        .await
        .error(422, "invalid_period");
    api.get("/v1/stats?unit=ward:99999", None)
        .await
        .error(422, "unknown_unit");
}

#[tokio::test]
async fn every_units_public_figures_in_one_answer_ranked_above_the_minimum_sample() {
    let mut refdata = pakn_core::refdata::RefData::embedded();
    refdata.policy.min_resolved_for_ranking = 1;
    let api = Api::with_refdata("unit-stats", t0(), Bodies::AllJson, refdata);
    let c1 = citizen("c1");
    let off = official("o1", HOAN_KIEM);
    let done = api.routed_case(&c1, &report("Một")).await;
    api.routed_case(&c1, &report("Hai")).await;
    api.act_on_latest(&off, &done, "accept", None)
        .await
        .expect(200);
    api.act_on_latest(
        &off,
        &done,
        "resolve",
        Some(&json!({"answer": "Đã thay bóng đèn."})),
    )
    .await
    .expect(200);

    let all = api
        .get("/v1/stats/units?from=2025-07-01&to=2025-07-02", None)
        .await
        .expect(200)
        .body;
    assert_eq!(all["from"], "2025-07-01");
    assert_eq!(all["min_resolved_for_ranking"], 1);
    let items = all["items"].as_array().expect("items");
    // Every unit but the city itself, the one that resolved a case ranked first.
    let units = api.get("/v1/units", None).await.expect(200).body;
    let n_units = units["items"]
        .as_array()
        .map(|u| u.iter().filter(|x| x["type"] != "city").count());
    assert_eq!(Some(items.len()), n_units);
    let hk = &items[0];
    assert_eq!(
        (hk["unit"].as_str(), hk["rank"].as_u64()),
        (Some(HOAN_KIEM), Some(1))
    );
    assert!(
        hk["name_vi"]
            .as_str()
            .is_some_and(|n| n.contains("Hoàn Kiếm"))
    );
    assert!(items[1..].iter().all(|i| i["rank"].is_null()));
    // The same figures as the one-unit statistics.
    let one = api
        .get(
            &format!("/v1/stats?from=2025-07-01&to=2025-07-02&unit={HOAN_KIEM}"),
            None,
        )
        .await
        .expect(200)
        .body;
    for k in [
        "total",
        "by_kind",
        "resolved",
        "resolved_on_time",
        "on_time_rate",
        "open",
        "overdue_open",
    ] {
        assert_eq!(hk[k], one[k], "{k}");
    }
    assert_eq!(
        (
            hk["total"].as_i64(),
            hk["resolved"].as_i64(),
            hk["open"].as_i64()
        ),
        (Some(2), Some(1), Some(1))
    );

    api.get("/v1/stats/units?from=2025-07-02&to=2025-07-01", None)
        .await
        .error(422, "invalid_period");
    api.get("/v1/stats/units?from=yesterday", None)
        .await
        .error(422, "invalid_date");
}

#[tokio::test]
async fn tracking_shows_the_redacted_case() {
    let api = api().await;
    let r = api
        .submit(&citizen("c1"), &report("Đèn hỏng"))
        .await
        .expect(202)
        .body;
    let code = r["tracking_code"].as_str().expect("code");
    let p = api
        .get(&format!("/v1/track/{code}"), None)
        .await
        .expect(200)
        .body;
    assert_eq!(p["tracking_code"], code);
    assert_eq!(p["status"], "received");
    assert!(
        p.get("description").is_none()
            && p.get("submitted_by").is_none()
            && p.get("contact").is_none()
    );
    // Typed by a person: lower case is accepted.
    api.get(&format!("/v1/track/{}", code.to_lowercase()), None)
        .await
        .expect(200);
    api.get("/v1/track/HN-25-ZZZZZ", None)
        .await
        .error(404, "not_found");
    // The new long form: a typo in any character is told apart before any
    // lookup (422), a well-formed code nobody has is 404.
    assert_eq!(code.len(), "HN-26-7K3QX-9MPTR".len(), "{code}");
    let mut typo: Vec<char> = code.chars().collect();
    let last = typo.len() - 1;
    typo[last] = if typo[last] == 'A' { 'B' } else { 'A' };
    let typo: String = typo.into_iter().collect();
    api.get(&format!("/v1/track/{typo}"), None)
        .await
        .error(422, "invalid_check_character");
    let nobody = pakn_core::ids::new_tracking_code(chrono::Utc::now());
    api.get(&format!("/v1/track/{nobody}"), None)
        .await
        .error(404, "not_found");
}

// ------------------------------------------------------------------ tokens

#[tokio::test]
async fn protected_routes_need_a_valid_token() {
    let api = api().await;
    api.get("/v1/cases", None).await.error(401, "unauthorized");
    api.get("/v1/cases", Some("not-a-jwt"))
        .await
        .error(401, "invalid_token");
    let other_key = token::mint(
        b"other",
        "c1",
        Role::Citizen,
        None,
        Duration::hours(1),
        Utc::now(),
    );
    api.get("/v1/cases", Some(&other_key))
        .await
        .error(401, "invalid_token");
    let expired = token::mint(
        SECRET,
        "c1",
        Role::Citizen,
        None,
        Duration::hours(-2),
        Utc::now(),
    );
    api.get("/v1/cases", Some(&expired))
        .await
        .error(401, "invalid_token");
    // alg "none" with a valid-looking payload.
    use base64_free::b64;
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none"}"#),
        b64(br#"{"sub":"x","role":"admin","exp":99999999999}"#)
    );
    api.get("/v1/cases", Some(&none))
        .await
        .error(401, "invalid_token");
    // An official without a unit in the token.
    let no_unit = token::mint(
        SECRET,
        "o1",
        Role::Official,
        None,
        Duration::hours(1),
        Utc::now(),
    );
    api.get("/v1/cases", Some(&no_unit))
        .await
        .error(401, "unauthorized");
    let a = api
        .call(Method::POST, "/v1/cases", None, &[], Some(&report("x")))
        .await
        .error(401, "unauthorized");
    assert_eq!(a.headers["www-authenticate"], "Bearer");
    api.get("/v1/units/ward:00070/roster", None)
        .await
        .error(401, "unauthorized");
}

/// Base64url without padding, so the test needs no extra crate.
mod base64_free {
    pub fn b64(bytes: &[u8]) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, b)| acc | (*b as u32) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }
}

// ------------------------------------------------------------------ submit

#[tokio::test]
async fn submit_answers_202_with_location_and_replays_by_idempotency_key() {
    let api = api().await;
    let c = citizen("c1");
    let body = report("Đèn hỏng");
    let key = [("idempotency-key", "k-123")];
    let a = api
        .call(Method::POST, "/v1/cases", Some(&c), &key, Some(&body))
        .await
        .expect(202);
    let id = a.body["id"].as_str().expect("id").to_string();
    assert_eq!(a.headers["location"], format!("/v1/cases/{id}").as_str());
    assert_eq!(a.body["status"], "received");
    assert!(
        a.body["tracking_code"]
            .as_str()
            .is_some_and(|t| t.starts_with("HN-25-"))
    );
    assert!(a.body.get("replayed").is_none());

    let b = api
        .call(Method::POST, "/v1/cases", Some(&c), &key, Some(&body))
        .await
        .expect(202);
    assert_eq!(b.body, a.body, "the replay answers the same body");
    assert_eq!(b.headers["location"], a.headers["location"]);
    assert_eq!(b.headers["idempotent-replayed"], "true");

    let other = report("Another title");
    api.call(Method::POST, "/v1/cases", Some(&c), &key, Some(&other))
        .await
        .error(409, "idempotency_key_reused");
    // The key is the caller's own: another citizen may use the same key.
    api.call(
        Method::POST,
        "/v1/cases",
        Some(&citizen("c2")),
        &key,
        Some(&body),
    )
    .await
    .expect(202);
    let listed = api.get("/v1/cases", Some(&c)).await.expect(200).body;
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(1),
        "the replay made no second case"
    );

    let long = "k".repeat(300);
    api.call(
        Method::POST,
        "/v1/cases",
        Some(&c),
        &[("idempotency-key", long.as_str())],
        Some(&body),
    )
    .await
    .error(400, "malformed");
}

#[tokio::test]
async fn bad_bodies_get_400_413_415_422_in_both_languages() {
    let api = api().await;
    let c = citizen("c1");
    let raw = |ct: Option<&str>, body: String| {
        let mut b = Request::post("/v1/cases").header("authorization", format!("Bearer {c}"));
        if let Some(ct) = ct {
            b = b.header("content-type", ct);
        }
        b.body(Body::from(body)).expect("request")
    };
    api.send(raw(Some("application/json"), "{not json".into()))
        .await
        .error(400, "malformed_json");
    api.send(raw(Some("text/plain"), report("x").to_string()))
        .await
        .error(415, "unsupported_media_type");
    api.send(raw(None, report("x").to_string()))
        .await
        .error(415, "unsupported_media_type");
    api.send(raw(
        Some("application/json; charset=utf-8"),
        report("x").to_string(),
    ))
    .await
    .expect(202);
    let big = json!({"category": "lighting", "title": "x", "description": "a".repeat(70 * 1024)})
        .to_string();
    api.send(raw(Some("application/json"), big))
        .await
        .error(413, "payload_too_large");

    let mut bad = report("x");
    bad["category"] = json!("no-such-category");
    let e = api
        .submit(&c, &bad)
        .await
        .error(422, "unknown_category")
        .body;
    assert_eq!(e["error"]["field"], "category");
    assert!(
        e["error"]["message_vi"]
            .as_str()
            .is_some_and(|m| m.contains("Lĩnh vực"))
    );
    let mut outside = report("x");
    outside["location"] = json!({"lat": 10.77, "lng": 106.70});
    api.submit(&c, &outside).await.error(422, "outside_city");
    api.submit(&c, &json!({"category": "lighting"}))
        .await
        .error(422, "invalid_body");
    api.submit(&c, &json!([1, 2]))
        .await
        .error(422, "invalid_body");
    // A number ward code is normalised.
    let mut num = report("x");
    num["location"]["ward_code"] = json!(70);
    api.submit(&c, &num).await.expect(202);
}

#[tokio::test]
async fn only_citizens_and_operators_submit() {
    let api = api().await;
    let body = report("Đèn hỏng");
    for t in [
        tok(Role::Official, "o1", Some(HOAN_KIEM)),
        tok(Role::UnitAdmin, "a1", Some(HOAN_KIEM)),
        tok(Role::Triage, "t1", None),
        tok(Role::Inspector, "i1", None),
        tok(Role::Admin, "ad", None),
    ] {
        api.submit(&t, &body).await.error(403, "forbidden");
    }
    let op = tok(Role::Operator, "op1", None);
    api.submit(&op, &body).await.error(422, "contact_required");
    let mut with_caller = body.clone();
    with_caller["contact"] = json!({"name": "Nguyễn Văn A", "phone": "0912 345 678"});
    let r = api.submit(&op, &with_caller).await.expect(202).body;
    let id = r["id"].as_str().expect("id");
    let v = api
        .get(&format!("/v1/cases/{id}"), Some(&op))
        .await
        .expect(200)
        .body;
    assert_eq!(v["channel"], "hotline");
    // Another operator did not enter it.
    api.get(
        &format!("/v1/cases/{id}"),
        Some(&tok(Role::Operator, "op2", None)),
    )
    .await
    .error(404, "not_found");
}

// ------------------------------------------------------------------- reads

#[tokio::test]
async fn reading_a_case_follows_the_permission_table() {
    let api = api().await;
    let c1 = citizen("c1");
    let id = api.routed_case(&c1, &report("Đèn hỏng")).await;
    let path = format!("/v1/cases/{id}");

    let v = api.get(&path, Some(&c1)).await.expect(200);
    assert_eq!(v.etag(), format!("\"{}\"", v.body["version"]));
    assert_eq!(v.body["status"], "assigned");
    assert_eq!(v.body["unit"], HOAN_KIEM);
    assert!(v.body["timeline"].as_array().is_some_and(|t| t.len() >= 2));

    // Visible: own citizen, own unit's official and admin, inspector, admin.
    for t in [
        tok(Role::Official, "o1", Some(HOAN_KIEM)),
        tok(Role::UnitAdmin, "ua1", Some(HOAN_KIEM)),
        tok(Role::Inspector, "i1", None),
        tok(Role::Admin, "ad", None),
    ] {
        api.get(&path, Some(&t)).await.expect(200);
    }
    // Not visible: 404, never 403.
    for t in [
        citizen("c2"),
        tok(Role::Operator, "op1", None),
        tok(Role::Official, "o2", Some("ward:00004")),
        tok(Role::UnitAdmin, "ua2", Some("dept:construction")),
        tok(Role::Triage, "t1", None),
    ] {
        api.get(&path, Some(&t)).await.error(404, "not_found");
    }
    api.get("/v1/cases/not-a-ulid", Some(&c1))
        .await
        .error(404, "not_found");
    api.get("/v1/cases/01J00000000000000000000000", Some(&c1))
        .await
        .error(404, "not_found");

    // Once the unit has a roster, an official off it no longer sees the case.
    let admin = tok(Role::Admin, "ad", None);
    let roster =
        json!({"officials": [{"sub": "o1", "name": "Trần Thị B", "title": "Chuyên viên"}]});
    api.call(
        Method::PUT,
        "/v1/units/ward:00070/roster",
        Some(&admin),
        &[],
        Some(&roster),
    )
    .await
    .expect(200);
    api.get(&path, Some(&tok(Role::Official, "o1", Some(HOAN_KIEM))))
        .await
        .expect(200);
    api.get(&path, Some(&tok(Role::Official, "o9", Some(HOAN_KIEM))))
        .await
        .error(404, "not_found");
}

#[tokio::test]
async fn triage_sees_the_cases_no_rule_could_route() {
    let api = api().await;
    let mut body = report("Không rõ phường");
    body["location"] = json!({"lat": 21.03, "lng": 105.85});
    let id = api.routed_case(&citizen("c1"), &body).await;
    let triage = tok(Role::Triage, "t1", None);
    let v = api
        .get(&format!("/v1/cases/{id}"), Some(&triage))
        .await
        .expect(200)
        .body;
    assert_eq!(v["status"], "triage");
    let list = api.get("/v1/cases", Some(&triage)).await.expect(200).body;
    assert_eq!(list["items"][0]["id"], id.as_str());
}

#[tokio::test]
async fn listing_is_scoped_by_role() {
    let api = api().await;
    let c1 = citizen("c1");
    let a = api.routed_case(&c1, &report("Một")).await;
    let b = api.routed_case(&c1, &report("Hai")).await;
    let mut road = report("Ổ gà");
    road["category"] = json!("road-damage");
    let other = api.routed_case(&citizen("c2"), &road).await;

    let mine = api
        .get("/v1/cases?mine=true", Some(&c1))
        .await
        .expect(200)
        .body;
    let ids: Vec<&str> = mine["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&a.as_str()) && ids.contains(&b.as_str()));
    let first = &mine["items"][0];
    assert!(
        first["status_label"].is_string()
            && first["resolve_due"].is_string()
            && first.get("description").is_none()
    );
    api.get("/v1/cases?unit=ward:00070", Some(&c1))
        .await
        .error(403, "forbidden");

    let off = tok(Role::Official, "o1", Some(HOAN_KIEM));
    let q = api.get("/v1/cases", Some(&off)).await.expect(200).body;
    assert_eq!(q["items"].as_array().map(Vec::len), Some(2));
    api.get("/v1/cases?unit=dept:construction", Some(&off))
        .await
        .error(403, "forbidden");
    let dept = tok(Role::Official, "o2", Some("dept:construction"));
    let q = api.get("/v1/cases", Some(&dept)).await.expect(200).body;
    assert_eq!(q["items"][0]["id"], other.as_str());

    let insp = tok(Role::Inspector, "i1", None);
    let all = api.get("/v1/cases", Some(&insp)).await.expect(200).body;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(3));
    let page = api
        .get("/v1/cases?limit=2", Some(&insp))
        .await
        .expect(200)
        .body;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let rest = api
        .get(&format!("/v1/cases?limit=2&cursor={cursor}"), Some(&insp))
        .await
        .expect(200)
        .body;
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(1));
    assert!(rest["next_cursor"].is_null());

    api.get("/v1/cases?status=nope", Some(&insp))
        .await
        .error(422, "unknown_status");
    api.get("/v1/cases?limit=many", Some(&insp))
        .await
        .error(400, "malformed_query");
    api.get("/v1/cases?unit=bad", Some(&insp))
        .await
        .error(422, "invalid_unit_code");
}

#[tokio::test]
async fn a_units_queue_sorts_by_what_is_due_next_with_working_hours_left() {
    let api = api().await;
    let c1 = citizen("c1");
    let off = official("o1", HOAN_KIEM);
    // Routed Tuesday 09:00: lighting's acknowledgement is due 8 working hours later.
    let a = api.routed_case(&c1, &report("Một")).await;
    api.clock.advance(Duration::hours(1));
    // Routed 10:00 and accepted: now its resolution is what is due (24 working hours).
    let b = api.routed_case(&c1, &report("Hai")).await;
    api.act_on_latest(&off, &b, "accept", None)
        .await
        .expect(200);
    api.clock.advance(Duration::hours(1));
    // Routed 11:00, not yet acknowledged: due Wednesday 11:00, after a.
    let c = api.routed_case(&c1, &report("Ba")).await;

    let newest = api.get("/v1/cases", Some(&off)).await.expect(200).body;
    let order = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["id"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(order(&newest), [c.clone(), b.clone(), a.clone()]);
    let due = api
        .get("/v1/cases?sort=due", Some(&off))
        .await
        .expect(200)
        .body;
    assert_eq!(order(&due), [a.clone(), c.clone(), b.clone()]);
    let first = &due["items"][0];
    // 11:00 Tuesday → 09:00 Wednesday in office hours (08–12, 13–17): 1 + 4 + 1.
    assert_eq!(first["working_hours_left"], json!(6.0));
    assert_eq!(first["due"], first["ack_due"]);
    assert_eq!(due["items"][2]["due"], due["items"][2]["resolve_due"]);

    // Two a page, then the rest, each case once.
    let page = api
        .get("/v1/cases?sort=due&limit=2", Some(&off))
        .await
        .expect(200)
        .body;
    assert_eq!(order(&page), [a.clone(), c.clone()]);
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let rest = api
        .get(
            &format!("/v1/cases?sort=due&limit=2&cursor={cursor}"),
            Some(&off),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(order(&rest), [b]);

    // A day and a half later a's acknowledgement is late: negative hours left.
    api.clock.advance(Duration::hours(30));
    let late = api
        .get("/v1/cases?sort=due", Some(&off))
        .await
        .expect(200)
        .body;
    let left = late["items"][0]["working_hours_left"]
        .as_f64()
        .expect("hours");
    assert!(left < 0.0, "{left}");

    // Only a unit's queue has a "due next"; an unknown order is named.
    api.get("/v1/cases?mine=true&sort=due", Some(&c1))
        .await
        .error(422, "sort_needs_unit");
    api.get("/v1/cases?sort=soon", Some(&off))
        .await
        .error(422, "unknown_sort");
    api.get("/v1/cases?sort=due&cursor=abc", Some(&off))
        .await
        .error(400, "invalid_cursor");
}

// ----------------------------------------------------------------- actions

#[tokio::test]
async fn actions_need_if_match_and_follow_the_status_machine() {
    let api = api().await;
    let c1 = citizen("c1");
    let id = api.routed_case(&c1, &report("Đèn hỏng")).await;
    let off = tok(Role::Official, "o1", Some(HOAN_KIEM));
    let v = api.version(&off, &id).await;

    api.act(&off, &id, "accept", None, None)
        .await
        .error(428, "if_match_required");
    api.act(&off, &id, "accept", Some("\"999\""), None)
        .await
        .error(412, "stale_version");
    api.act(&off, &id, "accept", Some("*"), None)
        .await
        .error(400, "malformed_if_match");
    api.act(&off, &id, "accept", Some("W/\"2\""), None)
        .await
        .error(400, "malformed_if_match");
    api.act(&off, &id, "fly", Some(&v), None)
        .await
        .error(404, "not_found");

    // Refused roles: the citizen reads it but may not accept (403); another unit cannot see it (404).
    api.act(&c1, &id, "accept", Some(&v), None)
        .await
        .error(403, "forbidden");
    api.act(
        &tok(Role::Official, "o2", Some("ward:00004")),
        &id,
        "accept",
        Some(&v),
        None,
    )
    .await
    .error(404, "not_found");
    api.act(
        &tok(Role::Inspector, "i1", None),
        &id,
        "accept",
        Some(&v),
        None,
    )
    .await
    .error(403, "forbidden");
    api.act(
        &tok(Role::Triage, "t1", None),
        &id,
        "route",
        Some(&v),
        Some(&json!({"to_unit": HOAN_KIEM})),
    )
    .await
    .error(404, "not_found");
    api.act(
        &tok(Role::Admin, "ad", None),
        &id,
        "route",
        Some(&v),
        Some(&json!({"to_unit": HOAN_KIEM})),
    )
    .await
    .error(403, "forbidden");
    // A body on accept must still be JSON.
    let raw = Request::post(format!("/v1/cases/{id}/accept"))
        .header("authorization", format!("Bearer {off}"))
        .header("if-match", &v)
        .header("content-type", "text/plain")
        .body(Body::from("hello"))
        .expect("request");
    api.send(raw).await.error(415, "unsupported_media_type");

    // Bare version works as well as the quoted ETag.
    let bare = v.trim_matches('"').to_string();
    let a = api
        .act(&off, &id, "accept", Some(&bare), None)
        .await
        .expect(200);
    assert_eq!(a.body["status"], "in_progress");
    let v2 = a.etag();
    assert_eq!(v2, format!("\"{}\"", a.body["version"]));
    assert_ne!(v2, v);
    // Replaying the old ETag is stale; accepting again is an invalid transition.
    api.act(&off, &id, "accept", Some(&v), None)
        .await
        .error(412, "stale_version");
    api.act(&off, &id, "accept", Some(&v2), None)
        .await
        .error(409, "invalid_transition");

    let note = json!({"text": "Đã cử đội kỹ thuật.", "public": true});
    let v3 = api
        .act(&off, &id, "note", Some(&v2), Some(&note))
        .await
        .expect(200)
        .etag();
    api.act(
        &off,
        &id,
        "resolve",
        Some(&v3),
        Some(&json!({"answer": ""})),
    )
    .await
    .error(422, "required");
    api.act(
        &off,
        &id,
        "resolve",
        Some(&v3),
        Some(&json!({"answer": "x", "bogus": 1})),
    )
    .await
    .error(422, "invalid_body");
    let resolved = api
        .act(
            &off,
            &id,
            "resolve",
            Some(&v3),
            Some(
                &json!({"answer": "Đã thay bóng đèn.", "evidence": ["https://example.org/a.jpg"]}),
            ),
        )
        .await
        .expect(200);
    assert_eq!(resolved.body["status"], "resolved");
    assert_eq!(resolved.body["first_resolved_on_time"], true);
    let v4 = resolved.etag();

    // The citizen rates: 422 out of range, then closed; officials may not rate.
    api.act(&off, &id, "rate", Some(&v4), Some(&json!({"score": 5})))
        .await
        .error(403, "forbidden");
    api.act(&c1, &id, "rate", Some(&v4), Some(&json!({"score": 9})))
        .await
        .error(422, "out_of_range");
    api.act(
        &citizen("c2"),
        &id,
        "rate",
        Some(&v4),
        Some(&json!({"score": 5})),
    )
    .await
    .error(404, "not_found");
    let closed = api
        .act(
            &c1,
            &id,
            "rate",
            Some(&v4),
            Some(&json!({"score": 5, "comment": "Cảm ơn"})),
        )
        .await
        .expect(200);
    assert_eq!(closed.body["status"], "closed");
    api.act(
        &c1,
        &id,
        "reopen",
        Some(&closed.etag()),
        Some(&json!({"reason": "Lại hỏng"})),
    )
    .await
    .error(409, "invalid_transition");

    let public = api
        .get(
            &format!(
                "/v1/track/{}",
                closed.body["tracking_code"].as_str().expect("code")
            ),
            None,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(public["answer"], "Đã thay bóng đèn.");
}

#[tokio::test]
async fn unit_admins_act_for_their_unit_and_citizens_answer_questions() {
    let api = api().await;
    let c1 = citizen("c1");
    let id = api.routed_case(&c1, &report("Đèn hỏng")).await;
    let ua = tok(Role::UnitAdmin, "ua1", Some(HOAN_KIEM));
    let v = api.version(&ua, &id).await;
    let v = api
        .act(&ua, &id, "accept", Some(&v), None)
        .await
        .expect(200)
        .etag();
    let asked = api
        .act(
            &ua,
            &id,
            "request_info",
            Some(&v),
            Some(&json!({"question": "Số nhà chính xác?"})),
        )
        .await
        .expect(200);
    assert_eq!(asked.body["status"], "awaiting_info");
    let v = asked.etag();
    api.act(
        &tok(Role::Operator, "op1", None),
        &id,
        "info",
        Some(&v),
        Some(&json!({"text": "12"})),
    )
    .await
    .error(404, "not_found");
    let back = api
        .act(
            &c1,
            &id,
            "info",
            Some(&v),
            Some(&json!({"text": "Số 12 Hàng Bài"})),
        )
        .await
        .expect(200);
    assert_eq!(back.body["status"], "in_progress");
    let v = back.etag();
    let ext = api
        .act(
            &ua,
            &id,
            "extend",
            Some(&v),
            Some(&json!({"working_days": 2, "reason": "Chờ vật tư"})),
        )
        .await
        .expect(200);
    assert!(ext.body["extension"].is_object());
    let v = ext.etag();
    api.act(
        &ua,
        &id,
        "extend",
        Some(&v),
        Some(&json!({"working_days": 1, "reason": "Lần hai"})),
    )
    .await
    .error(409, "already_extended");
    api.act(
        &ua,
        &id,
        "reject",
        Some(&v),
        Some(&json!({"reason_code": "nope", "answer": "x"})),
    )
    .await
    .error(422, "unknown_reason_code");
    let rej = api
        .act(
            &ua,
            &id,
            "reject",
            Some(&v),
            Some(&json!({"reason_code": "duplicate", "answer": "Trùng phản ánh khác."})),
        )
        .await
        .expect(200);
    assert_eq!(rej.body["status"], "rejected");
    let re = api
        .act(
            &c1,
            &id,
            "reopen",
            Some(&rej.etag()),
            Some(&json!({"reason": "Không trùng"})),
        )
        .await;
    // Reopening a rejected case sends it to triage: the citizen still sees it.
    assert_eq!(re.expect(200).body["status"], "triage");
}

#[tokio::test]
async fn transfer_and_route_move_the_case_out_of_sight() {
    let api = api().await;
    let c1 = citizen("c1");
    let id = api.routed_case(&c1, &report("Đèn hỏng")).await;
    let off = tok(Role::Official, "o1", Some(HOAN_KIEM));
    let v = api.version(&off, &id).await;
    api.act(
        &off,
        &id,
        "transfer",
        Some(&v),
        Some(&json!({"to_unit": "ward:99999", "reason": "x"})),
    )
    .await
    .expect(422);
    let moved = api
        .act(
            &off,
            &id,
            "transfer",
            Some(&v),
            Some(&json!({"to_unit": "dept:construction", "reason": "Thuộc Sở Xây dựng"})),
        )
        .await
        .expect(200);
    // The actor gets the case as their action left it, then loses sight of it.
    assert_eq!(moved.body["unit"], "dept:construction");
    assert_eq!(moved.etag(), format!("\"{}\"", moved.body["version"]));
    api.get(&format!("/v1/cases/{id}"), Some(&off))
        .await
        .error(404, "not_found");
    let dept = tok(Role::Official, "o2", Some("dept:construction"));
    api.act(&dept, &id, "accept", Some(&moved.etag()), None)
        .await
        .expect(200);
    let now_at = api
        .get(&format!("/v1/cases/{id}"), Some(&c1))
        .await
        .expect(200)
        .body;
    assert_eq!(now_at["unit"], "dept:construction");
    assert_eq!(now_at["transfers"], 1);

    // Out of triage: triage and admin may route.
    let mut body = report("Không rõ phường");
    body["location"] = json!({"lat": 21.03, "lng": 105.85});
    let t_id = api.routed_case(&c1, &body).await;
    let triage = tok(Role::Triage, "t1", None);
    let v = api.version(&triage, &t_id).await;
    api.act(
        &off,
        &t_id,
        "route",
        Some(&v),
        Some(&json!({"to_unit": HOAN_KIEM})),
    )
    .await
    .error(404, "not_found");
    api.act(
        &c1,
        &t_id,
        "route",
        Some(&v),
        Some(&json!({"to_unit": HOAN_KIEM})),
    )
    .await
    .error(403, "forbidden");
    let routed = api
        .act(
            &triage,
            &t_id,
            "route",
            Some(&v),
            Some(&json!({"to_unit": HOAN_KIEM})),
        )
        .await
        .expect(200);
    assert_eq!(routed.body["unit"], HOAN_KIEM);
    api.get(&format!("/v1/cases/{t_id}"), Some(&triage))
        .await
        .error(404, "not_found");
    let v = api
        .get(&format!("/v1/cases/{t_id}"), Some(&off))
        .await
        .expect(200)
        .body;
    assert_eq!(v["status"], "assigned");
    assert_eq!(v["transfers"], 0, "routing out of triage is not a transfer");
}

// --------------------------------------------------------- roster, headcount

#[tokio::test]
async fn rosters_and_headcounts_follow_the_permission_table() {
    let api = api().await;
    let roster =
        json!({"officials": [{"sub": "o1", "name": "Trần Thị B", "title": "Chuyên viên"}]});
    let r = "/v1/units/ward:00070/roster";
    let h = "/v1/units/ward:00070/headcount";
    let put = |t: String, uri: &'static str, body: Value| {
        let api = &api;
        async move { api.call(Method::PUT, uri, Some(&t), &[], Some(&body)).await }
    };

    // unit_admin of the unit: read and write.
    let ua = tok(Role::UnitAdmin, "ua1", Some(HOAN_KIEM));
    let saved = put(ua.clone(), r, roster.clone()).await.expect(200).body;
    assert_eq!(saved["officials"][0]["name"], "Trần Thị B");
    assert_eq!(saved["updated_by"], "ua1");
    assert_eq!(
        put(ua.clone(), h, json!({"staff": 42}))
            .await
            .expect(200)
            .body,
        json!({"unit": HOAN_KIEM, "staff": 42})
    );
    // official: read own only.
    let off = tok(Role::Official, "o1", Some(HOAN_KIEM));
    assert_eq!(
        api.get(r, Some(&off)).await.expect(200).body["officials"][0]["sub"],
        "o1"
    );
    assert_eq!(api.get(h, Some(&off)).await.expect(200).body["staff"], 42);
    put(off.clone(), r, roster.clone())
        .await
        .error(403, "forbidden");
    put(off.clone(), h, json!({"staff": 1}))
        .await
        .error(403, "forbidden");
    let other_off = tok(Role::Official, "o2", Some("ward:00004"));
    api.get(r, Some(&other_off)).await.error(403, "forbidden");
    // unit_admin of another unit: nothing.
    let other_ua = tok(Role::UnitAdmin, "ua2", Some("ward:00004"));
    api.get(h, Some(&other_ua)).await.error(403, "forbidden");
    put(other_ua, r, roster.clone())
        .await
        .error(403, "forbidden");
    // inspector: read; admin: everything.
    let insp = tok(Role::Inspector, "i1", None);
    api.get(r, Some(&insp)).await.expect(200);
    api.get(h, Some(&insp)).await.expect(200);
    put(insp, h, json!({"staff": 3}))
        .await
        .error(403, "forbidden");
    let admin = tok(Role::Admin, "ad", None);
    put(admin.clone(), h, json!({"staff": 50}))
        .await
        .expect(200);
    // citizen, operator, triage: nothing.
    for t in [
        citizen("c1"),
        tok(Role::Operator, "op", None),
        tok(Role::Triage, "t1", None),
    ] {
        api.get(r, Some(&t)).await.error(403, "forbidden");
        api.get(h, Some(&t)).await.error(403, "forbidden");
    }
    // Headcount unset elsewhere; unknown and malformed units are 404.
    assert!(
        api.get("/v1/units/ward:00004/headcount", Some(&admin))
            .await
            .expect(200)
            .body["staff"]
            .is_null()
    );
    api.get("/v1/units/ward:99999/roster", Some(&admin))
        .await
        .error(404, "not_found");
    api.get("/v1/units/nonsense/roster", Some(&admin))
        .await
        .error(404, "not_found");
    // Bodies.
    put(admin.clone(), h, json!({"staff": -1}))
        .await
        .error(422, "invalid_body");
    put(admin.clone(), h, json!({"staff": 1, "x": 2}))
        .await
        .error(422, "invalid_body");
    let dup = json!({"officials": [{"sub": "a", "name": "A"}, {"sub": "a", "name": "B"}]});
    put(admin.clone(), r, dup).await.error(422, "duplicate");
    put(admin, r, json!({"people": []}))
        .await
        .error(422, "invalid_body");
}

// ------------------------------------------------------------- the router

#[tokio::test]
async fn unknown_routes_and_methods_answer_with_the_error_body() {
    let api = api().await;
    api.get("/v2/nothing", None).await.error(404, "no_route");
    api.get("/v1/cases/a/b/c", None)
        .await
        .error(404, "no_route");
    api.call(Method::DELETE, "/v1/cases", Some(&citizen("c1")), &[], None)
        .await
        .error(405, "method_not_allowed");
    api.call(Method::PUT, "/v1/categories", None, &[], None)
        .await
        .error(405, "method_not_allowed");
}

#[tokio::test]
async fn request_ids_are_echoed_or_made() {
    let api = api().await;
    let a = api
        .call(
            Method::GET,
            "/healthz",
            None,
            &[("x-request-id", "abc-123")],
            None,
        )
        .await
        .expect(200);
    assert_eq!(a.headers["x-request-id"], "abc-123");
    let b = api.get("/healthz", None).await.expect(200);
    let made = b.headers["x-request-id"].to_str().expect("ascii");
    assert_eq!(made.len(), 26, "a ULID: {made}");
    let bad = "x".repeat(200);
    let c = api
        .call(
            Method::GET,
            "/v2/none",
            None,
            &[("x-request-id", bad.as_str())],
            None,
        )
        .await
        .expect(404);
    assert_ne!(c.headers["x-request-id"], bad.as_str());
}

#[tokio::test]
async fn every_route_is_served_and_documented_in_openapi() {
    let api = api().await;
    let doc = api.get("/openapi.json", None).await.expect(200).body;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["CaseView"].is_object());
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    let routes = pakn_api::routes();
    assert!(routes.len() >= 14, "{routes:?}");
    for (method, path) in routes {
        assert!(
            doc["paths"][path][method.to_ascii_lowercase()].is_object(),
            "{method} {path} missing from /openapi.json"
        );
        // And the router really serves it (not the 404/405 fallbacks).
        let concrete = path
            .replace("{tracking_code}", "HN-25-ZZZZZ")
            .replace("{id}", "01J00000000000000000000000")
            .replace("{action}", "accept")
            .replace("{code}", HOAN_KIEM)
            .replace("{format}", "json")
            .replace("{service_code}", "lighting")
            .replace("{service_request_id}", "01J00000000000000000000000")
            .replace("{token}", "01J00000000000000000000000");
        let m = Method::from_bytes(method.as_bytes()).expect("method");
        let a = api.call(m, &concrete, None, &[], None).await;
        let code = a.body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            code != "no_route" && code != "method_not_allowed",
            "{method} {path} is not served: {}",
            a.body
        );
        // Open311 answers in its own error shape: not the fallbacks either.
        assert!(
            a.status != 405 && !a.text().contains("There is no such address"),
            "{method} {path} is not served: {}",
            a.text()
        );
    }
    // And every documented operation is a route.
    let served: Vec<(String, String)> = pakn_api::routes()
        .into_iter()
        .map(|(m, p)| (m.to_ascii_lowercase(), p.to_string()))
        .collect();
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for m in ops.as_object().expect("ops").keys() {
            assert!(
                served.contains(&(m.clone(), path.clone())),
                "documented but not routed: {m} {path}"
            );
        }
    }
}

// ------------------------------------------------------ API Gateway (Lambda)

/// A request as `lambda_http` hands it over: API Gateway's request context
/// (tokens are checked by pakn itself: see tests/tests/e2e/cognito.rs).
fn gateway_request(method: Method, uri: &str) -> Request<Body> {
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
    use lambda_http::request::RequestContext;
    let ctx: ApiGatewayV2httpRequestContext = serde_json::from_value(json!({
        "requestId": "gw-req-1",
        "http": {"method": "GET", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test"}
    }))
    .expect("request context");
    Request::builder()
        .method(method)
        .uri(uri)
        .extension(RequestContext::ApiGatewayV2(ctx))
        .body(Body::empty())
        .expect("request")
}

// ------------------------------------------------------- what each sees

/// The reporter sees public timeline entries only, with the acting unit and
/// role but never an official's subject, and no staff-only reason; the
/// holding unit sees everything; the public view names no one.
#[tokio::test]
async fn the_reporter_never_sees_internal_notes_or_officials() {
    let api = api().await;
    let c1 = citizen("c-view");
    let id = api.routed_case(&c1, &report("Cống tắc")).await;
    let off = tok(Role::Official, "can-bo-noi-bo", Some(HOAN_KIEM));
    let v = api.version(&off, &id).await;
    let v = api
        .act(&off, &id, "accept", Some(&v), None)
        .await
        .expect(200)
        .etag();
    let v = api
        .act(
            &off,
            &id,
            "note",
            Some(&v),
            Some(&json!({"text": "Nội bộ: chờ đội công trình", "public": false})),
        )
        .await
        .expect(200)
        .etag();
    let v = api
        .act(
            &off,
            &id,
            "note",
            Some(&v),
            Some(&json!({"text": "Đã cử người kiểm tra", "public": true})),
        )
        .await
        .expect(200)
        .etag();
    api.act(
        &off,
        &id,
        "extend",
        Some(&v),
        Some(&json!({"working_days": 2, "reason": "Lý do nội bộ: thiếu vật tư"})),
    )
    .await
    .expect(200);

    let mine = api
        .get(&format!("/v1/cases/{id}"), Some(&c1))
        .await
        .expect(200);
    let text = mine.body.to_string();
    assert!(
        !text.contains("Nội bộ"),
        "internal note shown to the reporter: {text}"
    );
    assert!(
        !text.contains("can-bo-noi-bo"),
        "official's subject shown: {text}"
    );
    assert!(
        !text.contains("thiếu vật tư"),
        "extension reason shown: {text}"
    );
    assert!(
        text.contains("Đã cử người kiểm tra"),
        "the public note is shown"
    );
    let tl = mine.body["timeline"].as_array().expect("timeline");
    let note = tl
        .iter()
        .find(|e| e["action"] == "note")
        .expect("public note");
    assert_eq!(note["actor_role"], "official");
    assert_eq!(note["unit"], HOAN_KIEM);
    assert!(note.get("actor").is_none());
    assert_eq!(mine.body["extension"]["working_days"], 2);

    let staff = api
        .get(&format!("/v1/cases/{id}"), Some(&off))
        .await
        .expect(200);
    let text = staff.body.to_string();
    for s in ["Nội bộ", "can-bo-noi-bo", "thiếu vật tư"] {
        assert!(text.contains(s), "the holding unit sees {s}");
    }

    let code = mine.body["tracking_code"]
        .as_str()
        .expect("code")
        .to_string();
    let public = api
        .get(&format!("/v1/track/{code}"), None)
        .await
        .expect(200);
    let text = public.body.to_string();
    for s in ["Nội bộ", "can-bo-noi-bo", "thiếu vật tư", "c-view"] {
        assert!(!text.contains(s), "the public view shows {s}: {text}");
    }
}

/// Extreme dates, spans and page sizes are `422` with the field, never a
/// `500` or a query per year of a 500,000-year span.
#[tokio::test]
async fn extreme_dates_spans_and_limits_are_refused_cleanly() {
    let api = api().await;
    let insp = tok(Role::Inspector, "i-hostile", None);
    let admin = tok(Role::Admin, "a-hostile", None);
    for (uri, who, field) in [
        ("/v1/stats?to=-262143-01-01", None, "to"),
        ("/v1/stats?from=+262142-12-31", None, "from"),
        ("/v1/stats?from=1999-12-31&to=2000-01-02", None, "from"),
        ("/v1/stats?from=2024-01-01&to=2025-07-01", None, "to"),
        ("/v1/scorecards?to=-262143-01-01", Some(&admin), "to"),
        ("/v1/scorecards?period=99999", Some(&admin), "period"),
        (
            "/v1/scorecards.csv?from=2020-01-01&to=2026-01-01",
            Some(&admin),
            "to",
        ),
        ("/v1/cases?from=-262143-01-01", Some(&insp), "from"),
        ("/v1/cases?to=%2B262142-12-31", Some(&insp), "to"),
        ("/v1/cases?from=2020-01-01&to=2026-01-01", Some(&insp), "to"),
        ("/v1/cases?limit=0", Some(&insp), "limit"),
        ("/v1/cases?limit=101", Some(&insp), "limit"),
    ] {
        let a = api.get(uri, who.map(String::as_str)).await;
        assert_eq!(a.status, 422, "{uri}: {:?}", a.body);
        assert_eq!(a.body["error"]["field"], field, "{uri}: {:?}", a.body);
    }
    // The edges themselves are fine.
    api.get("/v1/stats?from=2024-01-01&to=2025-01-01", None)
        .await
        .expect(200);
    api.get("/v1/cases?limit=100", Some(&insp))
        .await
        .expect(200);
}

/// On Lambda, API Gateway's request id wins over a client's own header (a
/// client cannot choose the id its requests are logged under).
#[tokio::test]
async fn on_lambda_the_gateway_request_id_wins() {
    let api = api().await;
    let mut req = gateway_request(Method::GET, "/v1/categories");
    req.headers_mut()
        .insert("x-request-id", "spoofed-by-client".parse().expect("header"));
    let a = api.send(req).await.expect(200);
    assert_eq!(a.headers["x-request-id"], "gw-req-1");
}

// ------------------------------------------------------------ rate limits

#[tokio::test]
async fn the_eleventh_submission_in_an_hour_is_429_and_the_window_rolls_over() {
    let api = api().await;
    let c = citizen("busy");
    // The hour window is [02:00, 03:00) UTC: submit at 02:30.
    api.clock.set(t0() + Duration::minutes(30));
    let key = [("idempotency-key", "first")];
    let first = api
        .call(
            Method::POST,
            "/v1/cases",
            Some(&c),
            &key,
            Some(&report("Một")),
        )
        .await
        .expect(202);
    for i in 2..=10 {
        api.submit(&c, &report(&format!("Số {i}")))
            .await
            .expect(202);
    }
    // A replay of the first (same key, same body) does not count, even now.
    let replay = api
        .call(
            Method::POST,
            "/v1/cases",
            Some(&c),
            &key,
            Some(&report("Một")),
        )
        .await
        .expect(202);
    assert_eq!(replay.body, first.body);
    let limited = api
        .submit(&c, &report("Mười một"))
        .await
        .error(429, "rate_limited");
    assert_eq!(limited.headers["retry-after"], "1800");
    assert!(
        limited.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("1800")),
        "{}",
        limited.body
    );
    // Another citizen is unaffected; a hotline operator has its own limits.
    api.submit(&citizen("calm"), &report("Khác"))
        .await
        .expect(202);
    // The next hour starts from zero.
    api.clock.set(t0() + Duration::hours(1));
    api.submit(&c, &report("Giờ sau")).await.expect(202);
}

#[tokio::test]
async fn a_replay_does_not_count_against_the_quota() {
    let api = api().await;
    let c = citizen("replayer");
    let key = [("idempotency-key", "same")];
    for _ in 0..15 {
        api.call(
            Method::POST,
            "/v1/cases",
            Some(&c),
            &key,
            Some(&report("Một")),
        )
        .await
        .expect(202);
    }
    for i in 2..=10 {
        api.submit(&c, &report(&format!("Số {i}")))
            .await
            .expect(202);
    }
    api.submit(&c, &report("Mười một"))
        .await
        .error(429, "rate_limited");
}

#[tokio::test]
async fn thirty_submissions_a_day_at_most() {
    let api = api().await;
    let c = citizen("daily");
    // The day window is the UTC day; three hours of ten.
    for h in 0..3 {
        api.clock.set(t0() + Duration::hours(h));
        for i in 0..10 {
            api.submit(&c, &report(&format!("{h}-{i}")))
                .await
                .expect(202);
        }
    }
    api.clock.set(t0() + Duration::hours(3));
    let a = api
        .submit(&c, &report("ba mươi mốt"))
        .await
        .error(429, "rate_limited");
    // 05:00 UTC to midnight.
    assert_eq!(a.headers["retry-after"], (19 * 3600).to_string().as_str());
}

#[tokio::test]
async fn case_actions_are_limited_per_citizen_per_minute() {
    let api = api().await;
    let c = citizen("actor");
    let id = api.submit(&c, &report("Đèn")).await.expect(202).body["id"]
        .as_str()
        .expect("id")
        .to_string();
    let v = api.version(&c, &id).await;
    let info = json!({"text": "thêm"});
    // Attempts count (a received case takes no info: 409).
    for _ in 0..60 {
        api.act(&c, &id, "info", Some(&v), Some(&info))
            .await
            .error(409, "invalid_transition");
    }
    let a = api
        .act(&c, &id, "info", Some(&v), Some(&info))
        .await
        .error(429, "rate_limited");
    assert_eq!(a.headers["retry-after"], "60");
    api.clock.advance(Duration::minutes(1));
    api.act(&c, &id, "info", Some(&v), Some(&info))
        .await
        .error(409, "invalid_transition");
}

#[tokio::test]
async fn public_lookup_is_limited_per_client_address() {
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;
    let api = api().await;
    let from = |ip: &str, uri: &str| {
        let mut req = Request::get(uri).body(Body::empty()).expect("request");
        let addr: SocketAddr = format!("{ip}:40000").parse().expect("addr");
        req.extensions_mut().insert(ConnectInfo(addr));
        req
    };
    let uri = "/v1/track/HN-25-ZZZZZ";
    // A typo refused by its check character, without a lookup.
    let typo = "/v1/track/HN-26-7K3QX-9MPTC";
    // 60 a minute from one address: unknown codes count, and so do codes
    // whose check fails (else the check would tell a walker, for free,
    // which codes are well-formed).
    for k in 0..60 {
        if k % 2 == 0 {
            api.send(from("192.0.2.7", uri))
                .await
                .error(404, "not_found");
        } else {
            api.send(from("192.0.2.7", typo))
                .await
                .error(422, "invalid_check_character");
        }
    }
    api.send(from("192.0.2.7", typo))
        .await
        .error(429, "rate_limited");
    let a = api
        .send(from("192.0.2.7", uri))
        .await
        .error(429, "rate_limited");
    assert_eq!(a.headers["retry-after"], "1");
    // Stats share the address's bucket; X-Forwarded-For changes nothing.
    let mut spoofed = from("192.0.2.7", "/v1/stats");
    spoofed
        .headers_mut()
        .insert("x-forwarded-for", "198.51.100.1".parse().expect("header"));
    api.send(spoofed).await.error(429, "rate_limited");
    // Another address is unaffected; the bucket refills with time.
    assert_ne!(api.send(from("192.0.2.8", uri)).await.status, 429);
    api.clock.advance(Duration::seconds(1));
    assert_ne!(api.send(from("192.0.2.7", uri)).await.status, 429);
    // Routes that are not public are not limited per address.
    api.send(from("192.0.2.7", "/v1/categories"))
        .await
        .expect(200);
}
