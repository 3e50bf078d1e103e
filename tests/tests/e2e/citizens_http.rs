//! Over HTTP, on both backends (SQLite, and DynamoDB on moto): the nearby
//! search before a new report, following a case, and marking duplicates.
//! Each scenario is written once over [`Api`] and run on each backend.

use chrono::{DateTime, TimeZone, Utc};
use pakn_core::ports::ManualClock;
use pakn_core::refdata::RefData;
use pakn_tests::http_app::{Api, Bodies, citizen, report};
use pakn_tests::moto;
use serde_json::json;
use std::sync::Arc;

/// Monday 4 August 2025, 09:00 in Hanoi.
fn monday_morning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 8, 4, 2, 0, 0).unwrap()
}

async fn dynamo_api() -> Api {
    let (sdk, p) = moto::provisioned(&moto::names()).await;
    let clock = ManualClock::new(monday_morning());
    let cfg = pakn_aws::AwsResources {
        table_name: p.table.clone(),
        intake_queue_url: p.queue_url.clone(),
        topic_arn: p.topic_arn.clone(),
        publish_from_stream: false,
    };
    let pakn = pakn_aws::pakn_with(
        &sdk,
        &cfg,
        Arc::new(RefData::embedded()),
        Arc::new(clock.clone()),
    );
    Api::over(pakn, clock, Bodies::AllJson)
}

fn sqlite_api(name: &str) -> Api {
    Api::new(name, monday_morning(), Bodies::AllJson)
}

/// The nearby search: the public view with a distance, nearest first;
/// other categories and far cases left out; bad queries refused with 422.
async fn nearby_search(api: Api) {
    let cit = citizen("cong-dan-gan-day");
    // report(): lighting at (21.0245, 105.8530); a second one 150 m north.
    let near = api.routed_case(&cit, &report("Đèn hỏng")).await;
    let mut north = report("Đèn hỏng nữa");
    north["location"]["lat"] = json!(21.0245 + 150.0 / 111_195.0);
    let north = api.routed_case(&cit, &north).await;
    let mut far = report("Đèn hỏng xa");
    far["location"]["lat"] = json!(21.0245 + 300.0 / 111_195.0);
    api.routed_case(&cit, &far).await;

    let a = api
        .get(
            "/v1/cases/nearby?lat=21.0245&lng=105.8530&category=lighting",
            None,
        )
        .await
        .expect(200);
    assert_eq!(a.body["radius_m"], json!(250.0));
    let items = a.items();
    assert_eq!(items.len(), 2, "{}", a.body);
    let code = |id: &str| {
        let c = api.pakn.clone();
        let id = id.to_string();
        async move {
            c.cases
                .get_case(&pakn_core::ids::CaseId::parse(&id).unwrap())
                .await
                .unwrap()
                .unwrap()
                .tracking_code
        }
    };
    assert_eq!(items[0]["tracking_code"], json!(code(&near).await));
    assert_eq!(items[0]["distance_m"], json!(0));
    assert_eq!(items[1]["tracking_code"], json!(code(&north).await));
    assert_eq!(items[1]["distance_m"], json!(150));
    // The public view of /v1/track: no description, contact or reporter.
    for i in items {
        assert!(
            i.get("description").is_none() && i.get("contact").is_none(),
            "{i}"
        );
        assert!(
            i.get("submitted_by").is_none() && i["timeline"].is_array(),
            "{i}"
        );
        assert_eq!(i["status"], "assigned");
    }
    let a = api
        .get(
            "/v1/cases/nearby?lat=21.0245&lng=105.8530&category=drainage",
            None,
        )
        .await
        .expect(200);
    assert!(a.items().is_empty());

    for (q, field, code) in [
        (
            "lat=abc&lng=105.85&category=lighting",
            "lat",
            "invalid_coordinate",
        ),
        ("lng=105.85&category=lighting", "lat", "required"),
        ("lat=21.02&lng=105.85", "category", "required"),
        (
            "lat=10.0&lng=105.85&category=lighting",
            "lat",
            "outside_city",
        ),
        (
            "lat=21.02&lng=105.85&category=ufo",
            "category",
            "unknown_category",
        ),
    ] {
        let a = api
            .get(&format!("/v1/cases/nearby?{q}"), None)
            .await
            .error(422, code);
        assert_eq!(a.body["error"]["field"], field, "{q}");
    }
}

#[tokio::test]
async fn nearby_search_on_sqlite() {
    nearby_search(sqlite_api("nearby")).await;
}

#[tokio::test]
async fn nearby_search_on_dynamodb() {
    nearby_search(dynamo_api().await).await;
}

/// The tracking code of case `id`.
async fn code_of(api: &Api, id: &str) -> String {
    api.pakn
        .cases
        .get_case(&pakn_core::ids::CaseId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap()
        .tracking_code
}

/// Following: any citizen, by code, open cases only, idempotent; the
/// reporter's own case is a no-op; staff may not; unknown codes 404.
async fn following(api: Api) {
    let reporter = citizen("nguoi-bao");
    let other = citizen("hang-xom");
    let id = api.routed_case(&reporter, &report("Cống tắc")).await;
    let code = code_of(&api, &id).await;
    let path = format!("/v1/track/{code}/follow");

    let a = api.post(&path, &other, None).await.expect(201);
    assert_eq!(a.body["following"], json!(true));
    assert_eq!(a.body["reporter"], json!(false));
    assert_eq!(a.body["tracking_code"], json!(code));
    // Again: 200, still one follower (the first `since` kept).
    api.post(&path, &other, None).await.expect(200);
    let case_id = pakn_core::ids::CaseId::parse(&id).unwrap();
    let fs = api.pakn.followers.followers(&case_id).await.unwrap();
    assert_eq!(fs.len(), 1);
    assert_eq!(fs[0].sub, "hang-xom");
    // Typed as a caller would say it: lower case, spaces.
    let spaced = code.to_lowercase().replace('-', "%20");
    api.post(&format!("/v1/track/{spaced}/follow"), &other, None)
        .await
        .expect(200);
    // The reporter's own case: followed already, nothing stored.
    let a = api.post(&path, &reporter, None).await.expect(200);
    assert_eq!(a.body["reporter"], json!(true));
    assert_eq!(
        api.pakn.followers.followers(&case_id).await.unwrap().len(),
        1
    );
    // Listed for the follower, not the case's version changed.
    let a = api.get("/v1/me/following", Some(&other)).await.expect(200);
    assert_eq!(a.items().len(), 1);
    assert_eq!(a.items()[0]["tracking_code"], json!(code));
    assert_eq!(a.items()[0]["reason"], json!("asked"));
    assert!(a.items()[0].get("sub").is_none(), "{}", a.body);
    let mine = api
        .get(&format!("/v1/cases/{id}"), Some(&reporter))
        .await
        .expect(200);
    assert_eq!(
        mine.body["version"],
        json!(2),
        "following does not change the case"
    );

    // Staff may not follow; an unknown code is 404, a mistyped one 422.
    let official = pakn_tests::http_app::official("can-bo-70", "ward:00070");
    api.post(&path, &official, None)
        .await
        .error(403, "forbidden");
    api.post("/v1/track/HN-26-22222-22222/follow", &other, None)
        .await
        .error(404, "not_found");
    let mut wrong = code.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == '2' { '3' } else { '2' });
    api.post(&format!("/v1/track/{wrong}/follow"), &other, None)
        .await
        .error(422, "invalid_check_character");

    // Stop following: 204, twice.
    let del = |t: String| {
        let api = &api;
        let path = path.clone();
        async move {
            api.call(axum::http::Method::DELETE, &path, Some(&t), &[], None)
                .await
        }
    };
    del(other.clone()).await.expect(204);
    del(other.clone()).await.expect(204);
    assert!(
        api.pakn
            .followers
            .followers(&case_id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        api.get("/v1/me/following", Some(&other))
            .await
            .expect(200)
            .items()
            .is_empty()
    );

    // A closed case cannot be newly followed (409), but can be unfollowed.
    let off = pakn_tests::http_app::official("can-bo-70", "ward:00070");
    api.act_on_latest(&off, &id, "accept", Some(&json!({})))
        .await
        .expect(200);
    api.act_on_latest(
        &off,
        &id,
        "resolve",
        Some(&json!({"answer": "Đã nạo vét."})),
    )
    .await
    .expect(200);
    api.act_on_latest(&reporter, &id, "rate", Some(&json!({"score": 5})))
        .await
        .expect(200);
    api.post(&path, &other, None)
        .await
        .error(409, "case_not_open");
    del(other).await.expect(204);
}

#[tokio::test]
async fn following_on_sqlite() {
    following(sqlite_api("following")).await;
}

#[tokio::test]
async fn following_on_dynamodb() {
    following(dynamo_api().await).await;
}

/// Duplicates: the holding unit (or triage) closes a report into another
/// open case; its reporter then follows the original; the original keeps its
/// deadline; stats show the duplicate apart; the refusals.
async fn duplicates(api: Api) {
    let a = citizen("nguoi-bao-truoc");
    let b = citizen("nguoi-bao-sau");
    let off = pakn_tests::http_app::official("can-bo-70", "ward:00070");
    let other_ward = pakn_tests::http_app::official("can-bo-73", "ward:00073");
    let original = api.routed_case(&a, &report("Ngập phố Hàng Bài")).await;
    let second = api.routed_case(&b, &report("Phố Hàng Bài ngập")).await;
    let code = code_of(&api, &original).await;
    let before = api
        .get(&format!("/v1/cases/{original}"), Some(&off))
        .await
        .expect(200);

    // Refusals first: no If-Match, a citizen, another ward, itself, unknown.
    api.act(&off, &second, "duplicate", None, Some(&json!({"of": code})))
        .await
        .error(428, "if_match_required");
    api.act_on_latest(&b, &second, "duplicate", Some(&json!({"of": code})))
        .await
        .error(403, "forbidden");
    let v = api.version(&off, &second).await;
    api.act(
        &other_ward,
        &second,
        "duplicate",
        Some(&v),
        Some(&json!({"of": code})),
    )
    .await
    .error(404, "not_found");
    api.act_on_latest(&off, &second, "duplicate", Some(&json!({"of": second})))
        .await
        .error(422, "duplicate_of_itself");
    api.act_on_latest(
        &off,
        &second,
        "duplicate",
        Some(&json!({"of": "HN-26-22222-22222"})),
    )
    .await
    .error(422, "unknown_case");
    api.act_on_latest(&off, &second, "duplicate", Some(&json!({})))
        .await
        .error(422, "invalid_body");

    // By tracking code: closed, pointing at the original.
    let a1 = api
        .act_on_latest(&off, &second, "duplicate", Some(&json!({"of": code})))
        .await
        .expect(200);
    assert_eq!(a1.body["status"], "closed");
    assert_eq!(
        a1.body["duplicate_of"],
        json!({"id": original, "tracking_code": code})
    );
    // The public view says where to follow it.
    let dcode = code_of(&api, &second).await;
    let p = api
        .get(&format!("/v1/track/{dcode}"), None)
        .await
        .expect(200);
    assert_eq!(p.body["duplicate_of"], json!(code));
    // Its reporter follows the original now.
    let f = api.get("/v1/me/following", Some(&b)).await.expect(200);
    assert_eq!(f.items().len(), 1, "{}", f.body);
    assert_eq!(f.items()[0]["tracking_code"], json!(code));
    assert_eq!(f.items()[0]["reason"], json!("duplicate"));
    // Not a rejection: no reopen to triage.
    api.act_on_latest(
        &b,
        &second,
        "reopen",
        Some(&json!({"reason": "Chưa xử lý"})),
    )
    .await
    .error(409, "invalid_transition");
    // The original is untouched: same version, same deadline.
    let after = api
        .get(&format!("/v1/cases/{original}"), Some(&off))
        .await
        .expect(200);
    assert_eq!(after.body["version"], before.body["version"]);
    assert_eq!(after.body["resolve_due"], before.body["resolve_due"]);
    assert_eq!(after.body["status"], "assigned");

    // Triage, holding a case with no ward, marks it by case id.
    let mut no_ward = report("Ngập, không rõ phường");
    no_ward["location"]
        .as_object_mut()
        .unwrap()
        .remove("ward_code");
    let third = api.routed_case(&b, &no_ward).await;
    let triage = pakn_tests::http_app::tok(pakn_core::auth::Role::Triage, "tri-1", None);
    let a3 = api
        .act_on_latest(&triage, &third, "duplicate", Some(&json!({"of": original})))
        .await
        .expect(200);
    assert_eq!(a3.body["duplicate_of"]["tracking_code"], json!(code));
    // A's own report is not followed through a duplicate of it by A… but B
    // already follows: still one record.
    let case_id = pakn_core::ids::CaseId::parse(&original).unwrap();
    assert_eq!(
        api.pakn.followers.followers(&case_id).await.unwrap().len(),
        1
    );

    // Pointing at a case that is no longer open: 409.
    let fourth = api.routed_case(&a, &report("Ngập nữa")).await;
    api.act_on_latest(&off, &fourth, "duplicate", Some(&json!({"of": dcode})))
        .await
        .error(409, "original_not_open");

    // Stats: every report once in `total`; duplicates apart, not rejected.
    let s = api.get("/v1/stats", None).await.expect(200);
    assert_eq!(s.body["total"], json!(4), "{}", s.body);
    assert_eq!(s.body["duplicates"], json!(2), "{}", s.body);
    assert_eq!(s.body["rejected"], json!(0), "{}", s.body);
    assert_eq!(s.body["resolved"], json!(0), "{}", s.body);
    assert_eq!(s.body["open"], json!(2), "{}", s.body);
    let s = api.get("/v1/stats?unit=ward:00070", None).await.expect(200);
    assert_eq!(s.body["duplicates"], json!(1), "{}", s.body);
}

#[tokio::test]
async fn duplicates_on_sqlite() {
    duplicates(sqlite_api("duplicates")).await;
}

#[tokio::test]
async fn duplicates_on_dynamodb() {
    duplicates(dynamo_api().await).await;
}

/// The reporter of a duplicate follows the original only once the
/// duplicate is committed: a refused commit leaves no follow behind; a
/// failure between the commit and the follow (or a lost answer) is made
/// good by the client's retry of the same request, which answers like the
/// first time and records the follow once.
async fn the_duplicates_follow_comes_after_its_commit(api: Api) {
    use pakn_tests::faults::{Fault, Faults, Faulty};
    let faults = Faults::none();
    let mut pakn = api.pakn.clone();
    pakn.cases = Arc::new(Faulty::new(pakn.cases.clone(), faults.clone()));
    pakn.followers = Arc::new(Faulty::new(pakn.followers.clone(), faults.clone()));
    let api = Api::over(pakn, api.clock.clone(), Bodies::AllJson);
    let a = citizen("nguoi-bao-truoc");
    let b = citizen("nguoi-bao-sau");
    let off = pakn_tests::http_app::official("can-bo-70", "ward:00070");
    let original = api.routed_case(&a, &report("Ngập phố Hàng Bài")).await;
    let code = code_of(&api, &original).await;
    let original_id = pakn_core::ids::CaseId::parse(&original).unwrap();
    let followers = || async { api.pakn.followers.followers(&original_id).await.unwrap() };
    let body = json!({"of": code});

    // The commit is refused (a concurrent change won): no follow.
    let second = api.routed_case(&b, &report("Phố Hàng Bài ngập")).await;
    faults.fail_next("commit", Fault::Conflict);
    api.act_on_latest(&off, &second, "duplicate", Some(&body))
        .await
        .error(412, "stale_version");
    assert!(
        followers().await.is_empty(),
        "a refused commit follows nothing"
    );

    // The commit holds but the follow fails: an error, the case closed, no follow yet.
    let v = api.version(&off, &second).await;
    faults.fail_next("follow", Fault::Throttled);
    let failed = api
        .act(&off, &second, "duplicate", Some(&v), Some(&body))
        .await;
    assert!(failed.status.is_server_error(), "{}", failed.status);
    let closed = api
        .get(&format!("/v1/cases/{second}"), Some(&off))
        .await
        .expect(200);
    assert_eq!(closed.body["status"], "closed");
    assert!(followers().await.is_empty());
    // The retry of the same request: the follow is recorded, the answer as the first time.
    let again = api
        .act(&off, &second, "duplicate", Some(&v), Some(&body))
        .await
        .expect(200);
    assert_eq!(again.body["duplicate_of"]["tracking_code"], json!(code));
    assert_eq!(again.body["version"], closed.body["version"]);
    let f = followers().await;
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].sub, "nguoi-bao-sau");
    assert_eq!(f[0].reason, pakn_core::ports::FollowReason::Duplicate);
    // Once more (by id this time): still one follow, nothing changed.
    api.act(
        &off,
        &second,
        "duplicate",
        Some(&v),
        Some(&json!({"of": original})),
    )
    .await
    .expect(200);
    assert_eq!(followers().await.len(), 1);
    // Not a repeat: another original, or a version the duplicate was not taken from.
    let other = api.routed_case(&a, &report("Ngập nữa")).await;
    api.act(
        &off,
        &second,
        "duplicate",
        Some(&v),
        Some(&json!({"of": other})),
    )
    .await
    .error(412, "stale_version");
    api.act(
        &off,
        &second,
        "duplicate",
        Some(&closed.etag()),
        Some(&body),
    )
    .await
    .error(409, "invalid_transition");

    // The answer is lost after the commit: the retry records the follow.
    let third = api
        .routed_case(&citizen("nguoi-thu-ba"), &report("Lại ngập"))
        .await;
    let v3 = api.version(&off, &third).await;
    faults.fail_next("commit", Fault::TimeoutAfter);
    let lost = api
        .act(&off, &third, "duplicate", Some(&v3), Some(&body))
        .await;
    assert!(lost.status.is_server_error(), "{}", lost.status);
    assert_eq!(followers().await.len(), 1, "not yet");
    api.act(&off, &third, "duplicate", Some(&v3), Some(&body))
        .await
        .expect(200);
    assert_eq!(followers().await.len(), 2);
}

#[tokio::test]
async fn the_duplicates_follow_comes_after_its_commit_on_sqlite() {
    the_duplicates_follow_comes_after_its_commit(sqlite_api("duplicates-follow")).await;
}

#[tokio::test]
async fn the_duplicates_follow_comes_after_its_commit_on_dynamodb() {
    the_duplicates_follow_comes_after_its_commit(dynamo_api().await).await;
}
