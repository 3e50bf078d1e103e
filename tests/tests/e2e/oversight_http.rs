//! HTTP tests of the accountability routes (`pakn-api` through
//! `app(state).oneshot(request)`, SQLite backend, manual clock): account
//! registration and the public registration report, scorecards (JSON and
//! the CSV export), Home Affairs inspections from opening to closing, and
//! the permission rows of CONTRACT.md for each of them.

use axum::http::Method;
use chrono::{DateTime, Duration, Utc};
use pakn_core::auth::Role;
use pakn_tests::http_app::{
    Api, Bodies, HOAN_KIEM, admin, at, citizen, inspector, official, report, tok, unit_admin,
};
use serde_json::json;

const OTHER_WARD: &str = "ward:00004";

fn t0() -> DateTime<Utc> {
    // Tuesday 1 July 2025, 09:00 in Hanoi.
    at("2025-07-01T02:00:00Z")
}

/// JSON answers, and the CSV export kept as bytes.
async fn api() -> Api {
    Api::new("oversight-http", t0(), Bodies::JsonWhenTyped)
}

/// The roles the accountability routes refuse outright.
fn outsiders() -> Vec<String> {
    vec![
        citizen("c9"),
        tok(Role::Operator, "op1", None),
        tok(Role::Triage, "tr1", None),
    ]
}

/// Hoàn Kiếm's roster: officials o1 and o2.
async fn set_roster(api: &Api) {
    let roster = json!({"officials": [
        {"sub": "o1", "name": "Trần Thị B", "title": "Chuyên viên"},
        {"sub": "o2", "name": "Lê Văn C", "title": "Công chức"}
    ]});
    api.put(&format!("/v1/units/{HOAN_KIEM}/roster"), &admin(), &roster)
        .await
        .expect(200);
}

/// A case left unanswered until more than 15 calendar days past its
/// `resolve_due`, then a sweep: the case inspection `case-<id>` opens.
async fn overdue_inspection(api: &Api) -> (String, String) {
    let id = api.routed_case(&citizen("c1"), &report("Đèn hỏng")).await;
    // resolve_due is Friday 4 July; Monday 21 July, 10:00 in Hanoi.
    api.clock.set(at("2025-07-21T03:00:00Z"));
    let report = api.pakn.sweep().run(100).await.expect("sweep");
    assert_eq!(report.inspections_opened, 1, "{report:?}");
    (id.clone(), format!("case-{id}"))
}

// ---------------------------------------------------------- registration

#[tokio::test]
async fn accounts_register_once_and_registration_reports_counts_only() {
    let api = api().await;
    api.put(
        &format!("/v1/units/{HOAN_KIEM}/headcount"),
        &unit_admin("ua1", HOAN_KIEM),
        &json!({"staff": 4}),
    )
    .await
    .expect(200);

    let c = api
        .post("/v1/accounts", &citizen("c-nguyen"), None)
        .await
        .expect(201);
    assert_eq!(
        c.body,
        json!({"sub": "c-nguyen", "role": "citizen", "unit": null, "new": true})
    );
    let again = api
        .post("/v1/accounts", &citizen("c-nguyen"), None)
        .await
        .expect(200);
    assert_eq!(again.body["new"], false);
    for sub in ["o-tran", "o-le"] {
        let o = api
            .post("/v1/accounts", &official(sub, HOAN_KIEM), None)
            .await
            .expect(201);
        assert_eq!(o.body["unit"], HOAN_KIEM);
        assert_eq!(o.body["role"], "official");
    }
    api.call(Method::POST, "/v1/accounts", None, &[], None)
        .await
        .error(401, "unauthorized");

    // Public: no token needed, and nobody's subject in it.
    let r = api.get("/v1/registration", None).await.expect(200);
    assert_eq!(r.body["citizen_accounts"], 1);
    assert_eq!(r.body["official_accounts"], 2);
    assert_eq!(r.body["city_rate"], 0.5);
    let units = r.body["units"].as_array().expect("units");
    let hk = units
        .iter()
        .find(|u| u["unit"] == HOAN_KIEM)
        .expect("Hoàn Kiếm listed");
    assert_eq!(hk["name_vi"], "Phường Hoàn Kiếm");
    assert_eq!(hk["headcount"], 4);
    assert_eq!(hk["registered"], 2);
    assert_eq!(hk["rate"], 0.5);
    let campaign = &r.body["campaigns"][0];
    assert_eq!(campaign["campaign"]["id"], "officials-2025");
    assert_eq!(campaign["ended"], false);
    assert_eq!(campaign["units_below_target"], json!([HOAN_KIEM]));
    let text = r.text();
    for sub in ["c-nguyen", "o-tran", "o-le", "ua1"] {
        assert!(!text.contains(sub), "{sub} leaked: {text}");
    }

    // The public stats carry citizen accounts city-wide only.
    let s = api.get("/v1/stats", None).await.expect(200);
    assert_eq!(s.body["citizen_accounts"], 1);
    assert_eq!(s.body["total"], 0, "the domain's figures are still there");
    let s = api
        .get(&format!("/v1/stats?unit={HOAN_KIEM}"), None)
        .await
        .expect(200);
    assert!(s.body.get("citizen_accounts").is_none(), "{}", s.body);

    // The unit's scorecard reports the same registration rate.
    let card = api
        .get(
            &format!("/v1/units/{HOAN_KIEM}/scorecard"),
            Some(&official("o-tran", HOAN_KIEM)),
        )
        .await
        .expect(200);
    assert_eq!(card.body["headcount"], 4);
    assert_eq!(card.body["registered_officials"], 2);
    assert_eq!(card.body["registration_rate"], 0.5);
}

// ------------------------------------------------------------ scorecards

#[tokio::test]
async fn scorecards_follow_the_permission_table() {
    let api = api().await;
    let one = format!("/v1/units/{HOAN_KIEM}/scorecard?period=2025-07");
    // Own unit for its officials and admin; all for inspectors and admins.
    for t in [
        official("o1", HOAN_KIEM),
        unit_admin("ua1", HOAN_KIEM),
        inspector(),
        admin(),
    ] {
        let c = api.get(&one, Some(&t)).await.expect(200);
        assert_eq!(c.body["unit"], HOAN_KIEM);
        assert_eq!(c.body["from"], "2025-07-01");
        assert_eq!(c.body["to"], "2025-08-01");
    }
    for t in [official("o9", OTHER_WARD), unit_admin("ua9", OTHER_WARD)]
        .into_iter()
        .chain(outsiders())
    {
        api.get(&one, Some(&t)).await.error(403, "forbidden");
    }
    api.get(&one, None).await.error(401, "unauthorized");
    for bad in ["ward:99999", "nonsense"] {
        api.get(&format!("/v1/units/{bad}/scorecard"), Some(&admin()))
            .await
            .error(404, "not_found");
    }

    // The list: a unit's officials get their own row; inspectors every unit.
    let own = api
        .get(
            "/v1/scorecards?period=2025-07",
            Some(&official("o1", HOAN_KIEM)),
        )
        .await
        .expect(200);
    assert_eq!(own.body["from"], "2025-07-01");
    assert_eq!(own.body["to"], "2025-08-01");
    assert_eq!(own.items().len(), 1);
    assert_eq!(own.items()[0]["unit"], HOAN_KIEM);
    let all = api
        .get("/v1/scorecards?period=2025", Some(&inspector()))
        .await
        .expect(200);
    assert_eq!(all.body["from"], "2025-01-01");
    assert_eq!(all.body["to"], "2026-01-01");
    assert!(all.items().len() > 126, "every ward and department");
    assert!(
        all.items().iter().all(|c| c["rank"].is_null()),
        "none resolved enough to rank"
    );
    for t in outsiders() {
        api.get("/v1/scorecards", Some(&t))
            .await
            .error(403, "forbidden");
        api.get("/v1/scorecards.csv", Some(&t))
            .await
            .error(403, "forbidden");
    }
    api.get("/v1/scorecards.csv", None)
        .await
        .error(401, "unauthorized");

    // Periods: default the last 30 days; from/to; bad ones are 422.
    let d = api.get("/v1/scorecards", Some(&admin())).await.expect(200);
    assert_eq!(d.body["from"], "2025-06-02");
    assert_eq!(d.body["to"], "2025-07-02");
    let ft = api
        .get(
            "/v1/scorecards?from=2025-06-15&to=2025-07-01",
            Some(&admin()),
        )
        .await
        .expect(200);
    assert_eq!(ft.body["from"], "2025-06-15");
    for bad in [
        "period=2025-13",
        "period=July",
        "from=2025-07-02&to=2025-07-01",
    ] {
        api.get(&format!("/v1/scorecards?{bad}"), Some(&admin()))
            .await
            .error(422, "invalid_period");
    }
    // One period parser for stats and scorecards: a date that does not parse is `invalid_date`.
    api.get("/v1/scorecards?from=01/07/2025", Some(&admin()))
        .await
        .error(422, "invalid_date");
    api.get(&format!("{one}x"), Some(&admin()))
        .await
        .error(422, "invalid_period");
}

#[tokio::test]
async fn a_resolved_case_shows_on_the_scorecard_and_in_the_csv() {
    let api = api().await;
    set_roster(&api).await;
    let c1 = citizen("c1");
    let id = api.routed_case(&c1, &report("Đèn hỏng")).await;
    let o1 = official("o1", HOAN_KIEM);
    api.act_on_latest(&o1, &id, "accept", None)
        .await
        .expect(200);
    api.clock.advance(Duration::hours(2));
    let resolved = api
        .act_on_latest(
            &o1,
            &id,
            "resolve",
            Some(&json!({"answer": "Đã thay bóng đèn.", "evidence": ["https://example.org/den.jpg"]})),
        )
        .await
        .expect(200);
    assert_eq!(resolved.body["status"], "resolved");
    api.act_on_latest(
        &c1,
        &id,
        "rate",
        Some(&json!({"score": 4, "comment": "Nhanh"})),
    )
    .await
    .expect(200);

    let card = api
        .get(
            &format!("/v1/units/{HOAN_KIEM}/scorecard?period=2025-07"),
            Some(&o1),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(card["name_vi"], "Phường Hoàn Kiếm");
    assert_eq!(card["received"], 1);
    assert_eq!(card["resolved"], 1);
    assert_eq!(card["resolved_on_time"], 1);
    assert_eq!(card["resolved_late"], 0);
    assert_eq!(card["on_time_rate"], 1.0);
    assert_eq!(card["late_rate"], 0.0);
    assert_eq!(card["open"], 0);
    assert_eq!(card["satisfaction_avg"], 4.0);
    assert_eq!(card["satisfaction_count"], 1);
    assert_eq!(card["roster_size"], 2);
    assert_eq!(card["roster_missing"], false);
    assert_eq!(card["open_inspections"], 0);
    assert!(card["rank"].is_null(), "one case is too few to rank");

    // The JSON list and the CSV export carry the same rows.
    let all = api
        .get("/v1/scorecards?period=2025-07", Some(&inspector()))
        .await
        .expect(200);
    let row = all
        .items()
        .iter()
        .find(|c| c["unit"] == HOAN_KIEM)
        .expect("Hoàn Kiếm listed");
    assert_eq!(row, &card);
    let csv = api
        .get("/v1/scorecards.csv?period=2025-07", Some(&inspector()))
        .await
        .expect(200);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        csv.headers["content-disposition"],
        "attachment; filename=\"pakn-scorecards-2025-07-01-2025-08-01.csv\""
    );
    assert!(csv.bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM first");
    let text = csv.text();
    let text = text.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert!(
        lines[0].starts_with("rank,unit,name_vi,name_en,from,to,received,resolved,"),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines.len(),
        all.items().len() + 1,
        "a header and one line per row"
    );
    let hk = lines
        .iter()
        .find(|l| l.starts_with(&format!(",{HOAN_KIEM},")))
        .expect("Hoàn Kiếm's line, unranked");
    assert!(
        hk.contains(",Phường Hoàn Kiếm,")
            && hk.contains(",2025-07-01,2025-08-01,1,1,1,0,1.0000,0.0000,"),
        "{hk}"
    );
    // A unit's official exports their own row only.
    let own = api
        .get("/v1/scorecards.csv?period=2025-07", Some(&o1))
        .await
        .expect(200)
        .text();
    assert_eq!(own.split_terminator("\r\n").count(), 2, "{own}");
}

// ----------------------------------------------------------- inspections

#[tokio::test]
async fn an_overdue_case_inspection_from_opening_to_closing() {
    let api = api().await;
    set_roster(&api).await;
    let (case_id, id) = overdue_inspection(&api).await;
    let insp = inspector();
    let one = format!("/v1/inspections/{id}");

    let open = api
        .get("/v1/inspections?status=open&reason=overdue", Some(&insp))
        .await
        .expect(200);
    assert_eq!(open.items().len(), 1, "{}", open.body);
    let listed = &open.items()[0];
    assert_eq!(listed["id"], id.as_str());
    assert_eq!(listed["unit"], HOAN_KIEM);
    assert_eq!(listed["case_id"], case_id.as_str());
    assert_eq!(listed["reason"], "overdue");

    // The evidence: the case with its timeline, what was sent and when, the roster.
    let ev = api.get(&one, Some(&insp)).await.expect(200).body;
    assert_eq!(ev["inspection"]["status"], "open");
    assert_eq!(ev["case"]["id"], case_id.as_str());
    assert!(
        ev["case"]["timeline"]
            .as_array()
            .is_some_and(|t| !t.is_empty()),
        "{ev}"
    );
    let sent = ev["notifications"].as_array().expect("notifications");
    for event in ["case.overdue", "inspection.opened"] {
        let n = sent
            .iter()
            .find(|n| n["event"] == event)
            .unwrap_or_else(|| panic!("{event} in {sent:?}"));
        assert!(n["decided_at"].is_string() && n["dedup_id"].is_string());
        assert!(n["published_at"].is_string(), "the sweep published it: {n}");
    }
    assert_eq!(ev["roster"]["officials"].as_array().map(Vec::len), Some(2));
    let card = api
        .get(&format!("/v1/units/{HOAN_KIEM}/scorecard"), Some(&insp))
        .await
        .expect(200);
    assert_eq!(card.body["open_inspections"], 1);
    assert_eq!(card.body["overdue_open"], 1);

    // Closing needs a finding first.
    api.post(&format!("{one}/close"), &insp, Some(&json!({})))
        .await
        .error(409, "findings_required");
    // Findings: a known kind; officials at fault are named from the roster.
    let findings = format!("{one}/findings");
    for (body, code) in [
        (json!({"kind": "lazy", "text": "x"}), "unknown_finding_kind"),
        (
            json!({"kind": "official_at_fault", "officials": ["nobody"], "text": "Chậm"}),
            "not_on_roster",
        ),
        (
            json!({"kind": "official_at_fault", "officials": [], "text": "Chậm"}),
            "officials_required",
        ),
        (json!({"kind": "unit_at_fault", "text": ""}), "required"),
    ] {
        api.post(&findings, &insp, Some(&body))
            .await
            .error(422, code);
    }
    let f = api
        .post(
            &findings,
            &insp,
            Some(&json!({"kind": "official_at_fault", "officials": ["o1"], "text": "Không xử lý trong 17 ngày."})),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(f["findings"][0]["kind"], "official_at_fault");
    assert_eq!(f["findings"][0]["officials"], json!(["o1"]));
    assert_eq!(f["findings"][0]["by"], "insp1");

    // The unit's admin answers; the unit's explanation is kept.
    let ua = unit_admin("ua1", HOAN_KIEM);
    api.post(&format!("{one}/answer"), &ua, Some(&json!({"text": ""})))
        .await
        .error(422, "required");
    let answered = api
        .post(
            &format!("{one}/answer"),
            &ua,
            Some(&json!({"text": "Thiếu vật tư thay thế; đã bổ sung."})),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(answered["status"], "answered");
    assert_eq!(
        answered["unit_answer"],
        "Thiếu vật tư thay thế; đã bổ sung."
    );

    // Close: {} or no body; anything else is refused.
    api.post(&format!("{one}/close"), &insp, Some(&json!({"note": "x"})))
        .await
        .error(422, "invalid_body");
    let closed = api
        .post(&format!("{one}/close"), &insp, None)
        .await
        .expect(200)
        .body;
    assert_eq!(closed["status"], "closed");
    assert!(closed["closed_at"].is_string());
    // Closed is final.
    api.post(&format!("{one}/close"), &insp, Some(&json!({})))
        .await
        .error(409, "invalid_transition");
    api.post(
        &findings,
        &insp,
        Some(&json!({"kind": "justified_delay", "text": "Muộn"})),
    )
    .await
    .error(409, "invalid_transition");
    api.post(
        &format!("{one}/answer"),
        &ua,
        Some(&json!({"text": "Thêm"})),
    )
    .await
    .error(409, "invalid_transition");

    let by_status = |s: &'static str| {
        let api = &api;
        let insp = insp.clone();
        async move {
            api.get(&format!("/v1/inspections?status={s}"), Some(&insp))
                .await
                .expect(200)
                .items()
                .len()
        }
    };
    assert_eq!(by_status("open").await, 0);
    assert_eq!(by_status("closed").await, 1);
    let card = api
        .get(&format!("/v1/units/{HOAN_KIEM}/scorecard"), Some(&insp))
        .await
        .expect(200);
    assert_eq!(card.body["open_inspections"], 0);
    api.get(
        "/v1/inspections/case-01J00000000000000000000000",
        Some(&insp),
    )
    .await
    .error(404, "not_found");
}

#[tokio::test]
async fn inspections_follow_the_permission_table() {
    let api = api().await;
    set_roster(&api).await;
    let (_, id) = overdue_inspection(&api).await;
    let one = format!("/v1/inspections/{id}");
    let ua = unit_admin("ua1", HOAN_KIEM);
    let other_ua = unit_admin("ua9", OTHER_WARD);
    let off = official("o1", HOAN_KIEM);
    let finding = json!({"kind": "unit_at_fault", "text": "Chậm xử lý."});

    // List: inspectors and admins all; a unit admin their own unit's.
    for t in [inspector(), admin(), ua.clone()] {
        let l = api.get("/v1/inspections", Some(&t)).await.expect(200);
        assert_eq!(l.items().len(), 1, "{}", l.body);
    }
    assert!(
        api.get("/v1/inspections", Some(&other_ua))
            .await
            .expect(200)
            .items()
            .is_empty()
    );
    api.get(&format!("/v1/inspections?unit={OTHER_WARD}"), Some(&ua))
        .await
        .error(403, "forbidden");
    api.get(
        &format!("/v1/inspections?unit={OTHER_WARD}"),
        Some(&inspector()),
    )
    .await
    .expect(200);
    api.get("/v1/inspections?unit=nonsense", Some(&inspector()))
        .await
        .error(422, "invalid_unit_code");
    api.get("/v1/inspections?unit=ward:99999", Some(&inspector()))
        .await
        .error(422, "unknown_unit");
    for t in std::iter::once(off.clone()).chain(outsiders()) {
        api.get("/v1/inspections", Some(&t))
            .await
            .error(403, "forbidden");
    }
    api.get("/v1/inspections", None)
        .await
        .error(401, "unauthorized");

    // Read: inspectors, admins, the unit's admin; others are not told it exists.
    for t in [inspector(), admin(), ua.clone()] {
        api.get(&one, Some(&t)).await.expect(200);
    }
    for t in [off.clone(), other_ua.clone()]
        .into_iter()
        .chain(outsiders())
    {
        api.get(&one, Some(&t)).await.error(404, "not_found");
        api.post(&format!("{one}/findings"), &t, Some(&finding))
            .await
            .error(404, "not_found");
        api.post(&format!("{one}/answer"), &t, Some(&json!({"text": "x"})))
            .await
            .error(404, "not_found");
        api.post(&format!("{one}/close"), &t, None)
            .await
            .error(404, "not_found");
    }

    // Findings and close: inspectors and admins, not the unit's admin.
    api.post(&format!("{one}/findings"), &ua, Some(&finding))
        .await
        .error(403, "forbidden");
    api.post(&format!("{one}/close"), &ua, None)
        .await
        .error(403, "forbidden");
    api.post(&format!("{one}/findings"), &admin(), Some(&finding))
        .await
        .expect(200);
    // Answer: the unit's admin only.
    for t in [inspector(), admin()] {
        api.post(&format!("{one}/answer"), &t, Some(&json!({"text": "x"})))
            .await
            .error(403, "forbidden");
    }
    api.post(
        &format!("{one}/answer"),
        &ua,
        Some(&json!({"text": "Giải trình."})),
    )
    .await
    .expect(200);
    api.post(&format!("{one}/close"), &admin(), Some(&json!({})))
        .await
        .expect(200);

    // Bodies: JSON required where there is one.
    api.call(
        Method::POST,
        &format!("{one}/findings"),
        Some(&inspector()),
        &[("content-type", "text/plain")],
        None,
    )
    .await
    .error(415, "unsupported_media_type");
    for t in [None, Some(ua.as_str())] {
        api.call(Method::POST, &format!("{one}/answer"), t, &[], None)
            .await
            .expect(if t.is_none() { 401 } else { 415 });
    }
}

#[tokio::test]
async fn a_unit_without_a_roster_gets_a_unit_inspection_from_the_daily_checks() {
    let api = api().await;
    api.routed_case(&citizen("c1"), &report("Đèn hỏng")).await;
    // Thursday 10 July, 09:00 in Hanoi: past the roster grace period, a working day.
    api.clock.set(at("2025-07-10T02:00:00Z"));
    let report = api.pakn.sweep().run(100).await.expect("sweep");
    assert!(report.daily.ran, "{report:?}");
    assert_eq!(report.inspections_opened, 0, "not 15 days overdue yet");

    let insp = inspector();
    let l = api
        .get("/v1/inspections?reason=empty_roster", Some(&insp))
        .await
        .expect(200);
    assert_eq!(l.items().len(), 1, "{}", l.body);
    let id = l.items()[0]["id"].as_str().expect("id").to_string();
    assert_eq!(id, format!("unit-{HOAN_KIEM}-empty_roster-2025-07"));
    assert!(l.items()[0].get("case_id").is_none());
    assert!(
        api.get("/v1/inspections?reason=overdue", Some(&insp))
            .await
            .expect(200)
            .items()
            .is_empty()
    );

    let one = format!("/v1/inspections/{id}");
    let ev = api.get(&one, Some(&insp)).await.expect(200).body;
    assert!(ev["case"].is_null(), "a unit inspection has no case");
    assert_eq!(ev["roster"]["officials"], json!([]));
    assert_eq!(ev["inspection"]["details"]["open_cases"], 1);
    let card = api
        .get(&format!("/v1/units/{HOAN_KIEM}/scorecard"), Some(&insp))
        .await
        .expect(200);
    assert_eq!(card.body["roster_missing"], true);
    assert_eq!(card.body["open_inspections"], 1);

    api.post(
        &format!("{one}/answer"),
        &unit_admin("ua1", HOAN_KIEM),
        Some(&json!({"text": "Đã lập danh sách cán bộ."})),
    )
    .await
    .expect(200);
    api.post(
        &format!("{one}/findings"),
        &insp,
        Some(&json!({"kind": "unit_at_fault", "text": "Không lập danh sách đúng hạn."})),
    )
    .await
    .expect(200);
    let closed = api
        .post(&format!("{one}/close"), &insp, Some(&json!({})))
        .await
        .expect(200);
    assert_eq!(closed.body["status"], "closed");
}
