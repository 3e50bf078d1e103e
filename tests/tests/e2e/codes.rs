//! Tracking codes through the HTTP API on both backends: every place that
//! takes a code (`GET /v1/track/{code}`, Open311's `service_request_id`,
//! its list form and its tokens) accepts the new form
//! (`HN-26-XXXXX-XXXXC`) and the short codes issued before
//! (`HN-25-XXXXX`), however a hotline operator typed them; a code whose
//! check character fails is refused before the store is asked anything
//! (counted: the store calls through the fault wrapper on SQLite, the
//! requests through a counting proxy on DynamoDB); a collision makes intake
//! draw another code.

use pakn_core::Pakn;
use pakn_core::ids;
use pakn_core::ports::{Clock, ManualClock, Store};
use pakn_core::refdata::RefData;
use pakn_local::LocalBackend;
use pakn_testkit::TempDir;
use pakn_tests::counting::Counting;
use pakn_tests::faults::{Faults, Faulty};
use pakn_tests::http_app::{Answer, Api, Bodies, citizen, report};
use pakn_tests::moto;
use std::sync::Arc;

/// A case stored with a short code, as issued before the check character.
const SHORT: &str = "HN-25-7K3QX";

/// The store calls (or backend requests) made since the last call.
type Calls<'a> = &'a mut dyn FnMut() -> usize;

/// `code` with one character of its random part changed: a typo.
fn typo_of(code: &str) -> String {
    let mut t: Vec<char> = code.chars().collect();
    t[8] = if t[8] == 'A' { 'B' } else { 'A' };
    t.into_iter().collect()
}

/// How a person might type `code`: as issued, lower case, without
/// hyphens, in spaced groups, with a phone's en dashes, with extra hyphens.
fn spellings(code: &str) -> Vec<String> {
    vec![
        code.to_string(),
        code.to_lowercase(),
        code.replace('-', ""),
        code.replace('-', "%20"),
        code.replace('-', "%E2%80%93"),
        format!("-{}-", code.replace('-', "--")),
    ]
}

#[track_caller]
fn open311_error(a: &Answer, status: u16, words: &str) {
    assert_eq!(a.status.as_u16(), status, "{}", a.text());
    let d = a.body[0]["description"].as_str().unwrap_or_default();
    assert!(d.contains(words), "{d}");
}

/// The checks both backends must pass. `short_title` is the title of the
/// case stored with [`SHORT`]; `long` a code intake issued.
async fn every_place_takes_both_forms(api: &Api, long: &str, short_title: &str, calls: Calls<'_>) {
    assert_eq!(long.len(), "HN-26-7K3QX-9MPTR".len(), "{long}");
    assert_eq!(ids::normalize_tracking_code(long).as_deref(), Ok(long));

    // Both forms resolve, however they were typed.
    for (code, title) in [(SHORT, Some(short_title)), (long, None)] {
        for typed in spellings(code) {
            let a = api
                .get(&format!("/v1/track/{typed}"), None)
                .await
                .expect(200);
            assert_eq!(a.body["tracking_code"], code, "{typed}");
            if let Some(t) = title {
                assert_eq!(a.body["title"], t, "{typed}");
            }
            for path in ["requests", "tokens"] {
                let a = api
                    .get(&format!("/open311/v2/{path}/{typed}.json"), None)
                    .await
                    .expect(200);
                assert!(a.body[0]["service_request_id"].is_string(), "{typed}");
            }
        }
    }
    let a = api
        .get(
            &format!(
                "/open311/v2/requests.json?service_request_id={SHORT},{}",
                long.to_lowercase()
            ),
            None,
        )
        .await
        .expect(200);
    let listed = a.body.as_array().map(Vec::len);
    assert_eq!(listed, Some(2), "{}", a.text());

    // A typo in a new code: refused before the store is asked anything.
    let typo = typo_of(long);
    assert_eq!(
        ids::normalize_tracking_code(&typo),
        Err(ids::CodeError::CheckFailed)
    );
    calls();
    for typed in spellings(&typo) {
        api.get(&format!("/v1/track/{typed}"), None)
            .await
            .error(422, "invalid_check_character");
        for path in ["requests", "tokens"] {
            let a = api
                .get(&format!("/open311/v2/{path}/{typed}.json"), None)
                .await;
            open311_error(&a, 400, "check character");
        }
        // One typo in a list refuses the list, before any of it is read.
        let a = api
            .get(
                &format!("/open311/v2/requests.json?service_request_id={SHORT},{typed}"),
                None,
            )
            .await;
        open311_error(&a, 400, "check character");
    }
    assert_eq!(calls(), 0, "a failed check reads nothing");

    // A well-formed code nobody has is looked up (so the count above could
    // have seen a lookup) and is unknown.
    let nobody = ids::new_tracking_code(api.clock.now());
    api.get(&format!("/v1/track/{nobody}"), None)
        .await
        .error(404, "not_found");
    assert!(calls() > 0, "a lookup is counted");
    api.get("/v1/track/HN-25-7K3QY", None)
        .await
        .error(404, "not_found");
    // Look-alike characters are in no code: refused, never guessed at.
    api.get(&format!("/v1/track/{}", SHORT.replace('K', "0")), None)
        .await
        .error(404, "not_found");
}

/// pakn over SQLite, its store behind the fault wrapper with no faults
/// (so every store call is counted), and a case with a short code.
fn sqlite(tag: &str) -> (Api, Arc<Faults>, Arc<dyn Store>, TempDir) {
    let dir = TempDir::new(tag);
    let local = LocalBackend::open(&dir.path().join("pakn.db")).expect("open sqlite");
    let raw: Arc<dyn Store> = local.store.clone();
    let faults = Faults::none();
    let clock = ManualClock::new(pakn_testkit::t0());
    let pakn = Pakn::new(
        Arc::new(Faulty::new(raw.clone(), faults.clone())),
        local.notifier.clone(),
        Arc::new(clock.clone()),
        Arc::new(RefData::embedded()),
    );
    (Api::over(pakn, clock, Bodies::AllJson), faults, raw, dir)
}

/// Store a case with the short code [`SHORT`] directly; its title.
async fn seed_short(store: &dyn Store) -> String {
    let mut c = pakn_testkit::sample_case(pakn_testkit::t0(), "citizen-old");
    c.tracking_code = SHORT.into();
    c.title = "Cống thoát nước bị tắc ở ngõ 12".into();
    crate::contract::create(store, &c).await;
    c.title
}

#[tokio::test]
async fn both_forms_everywhere_and_no_read_on_a_bad_check_sqlite() {
    let (api, faults, raw, _dir) = sqlite("codes-sqlite");
    let title = seed_short(raw.as_ref()).await;
    let a = api
        .submit(&citizen("citizen-new"), &report("Đèn đường hỏng"))
        .await
        .expect(202);
    let long = a.body["tracking_code"].as_str().expect("code").to_string();
    let mut seen = faults.injected().calls;
    let mut calls = move || {
        let now = faults.injected().calls;
        let n = now - seen;
        seen = now;
        n as usize
    };
    every_place_takes_both_forms(&api, &long, &title, &mut calls).await;
}

#[tokio::test]
async fn both_forms_everywhere_and_no_request_on_a_bad_check_dynamodb() {
    let (sdk, p) = moto::provisioned(&moto::names()).await;
    let raw: Arc<dyn Store> = Arc::new(pakn_aws::DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        &p.table,
    ));
    let title = seed_short(raw.as_ref()).await;
    // The API's SDK goes through a proxy that counts every request.
    let proxy = Counting::start(moto::endpoint()).await;
    let via_proxy = pakn_aws::emulator_sdk_config(&proxy.endpoint, moto::REGION).await;
    let clock = ManualClock::new(pakn_testkit::t0());
    let pakn = pakn_aws::pakn_with(
        &via_proxy,
        &pakn_aws::AwsResources {
            table_name: p.table.clone(),
            intake_queue_url: p.queue_url.clone(),
            topic_arn: p.topic_arn.clone(),
            publish_from_stream: false,
        },
        Arc::new(RefData::embedded()),
        Arc::new(clock.clone()),
    );
    let api = Api::over(pakn, clock, Bodies::AllJson);
    let a = api
        .submit(&citizen("citizen-new"), &report("Đèn đường hỏng"))
        .await
        .expect(202);
    let long = a.body["tracking_code"].as_str().expect("code").to_string();
    let mut calls = || proxy.take().len();
    every_place_takes_both_forms(&api, &long, &title, &mut calls).await;
}

/// Codes this long hardly ever collide, so the collisions are injected:
/// each refused `create_case` makes intake draw a new code, the receipt
/// names the one stored, and an idempotent replay names it too.
#[tokio::test]
async fn a_collision_draws_another_code() {
    let (api, faults, _raw, _dir) = sqlite("codes-collide");
    faults.collide_next(3);
    let token = citizen("citizen-1");
    let body = report("Rác thải tồn đọng");
    let key = [("idempotency-key", "report-1")];
    let a = api
        .call(
            axum::http::Method::POST,
            "/v1/cases",
            Some(&token),
            &key,
            Some(&body),
        )
        .await
        .expect(202);
    let code = a.body["tracking_code"].as_str().expect("code").to_string();
    let refused = faults.collided();
    assert_eq!(refused.len(), 3, "{refused:?}");
    let mut all = refused.clone();
    all.push(code.clone());
    for c in &all {
        assert_eq!(ids::normalize_tracking_code(c).as_deref(), Ok(c.as_str()));
    }
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 4, "a new code each draw: {all:?}");
    let found = api
        .get(&format!("/v1/track/{code}"), None)
        .await
        .expect(200);
    assert_eq!(found.body["title"], "Rác thải tồn đọng");
    for c in &refused {
        api.get(&format!("/v1/track/{c}"), None)
            .await
            .error(404, "not_found");
    }
    // The idempotency record holds the code stored, not the first drawn.
    let again = api
        .call(
            axum::http::Method::POST,
            "/v1/cases",
            Some(&token),
            &key,
            Some(&body),
        )
        .await;
    assert!(again.status.is_success(), "{}", again.text());
    assert_eq!(again.body["tracking_code"], code.as_str());
}

/// Every long-form code shown to readers (README, event schemas, the
/// OpenAPI document) passes its own check, so trying one gives `404`, not
/// `422`.
#[test]
fn every_documented_code_passes_its_check() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut texts = vec![(
        "openapi.json".to_string(),
        serde_json::to_string(pakn_api::openapi::document()).expect("json"),
    )];
    let mut files = vec![std::path::PathBuf::from(format!("{root}/README.md"))];
    for e in std::fs::read_dir(format!("{root}/infra/events/v1")).expect("event schemas") {
        files.push(e.expect("entry").path());
    }
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read");
        texts.push((f.display().to_string(), text));
    }
    let mut seen = 0;
    for (name, text) in &texts {
        for (at, _) in text.match_indices("HN-") {
            let Some(code) = text.get(at..at + "HN-26-7K3QX-9MPTR".len()) else {
                continue;
            };
            let b = code.as_bytes();
            let long = b[3..5].iter().all(u8::is_ascii_digit)
                && b[5] == b'-'
                && b[11] == b'-'
                && b[6..11]
                    .iter()
                    .chain(&b[12..])
                    .all(u8::is_ascii_alphanumeric);
            if long {
                seen += 1;
                assert_eq!(
                    ids::normalize_tracking_code(code).as_deref(),
                    Ok(code),
                    "{name}"
                );
            }
        }
    }
    assert!(seen >= 10, "only {seen} codes found");
}
