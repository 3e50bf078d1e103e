//! Concurrent writers: two officials of the holding unit act on one case
//! at the same instant, both with the version they just read — each request
//! on its own task of the multi-threaded runtime, released together by a
//! barrier, through the HTTP API. Round after round (both accept; both add
//! a note, many times; one resolves while the other rejects) exactly one
//! succeeds, the other is refused with `412` (or `409`), and the case's
//! timeline gains exactly one entry per round. The line counts the
//! refusals that came from the store's version condition at commit (both
//! requests had passed the `If-Match` check): the race proper.

use super::rig::{Rig, WARDS, drill_refdata};
use super::{Tally, line, scale};
use axum::Router;
use axum::body::Body;
use axum::http::Request;
use pakn_tests::faults::Faults;
use pakn_tests::http_app::official;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::Barrier;
use tower::ServiceExt;

/// Cases per scale unit, and note rounds per case.
const CASES: usize = 3;
const NOTE_ROUNDS: usize = 6;

/// `POST /v1/cases/{id}/{action}` with `If-Match`, sent when `go` opens.
async fn act(
    app: Router,
    token: String,
    uri: String,
    etag: String,
    body: Value,
    go: Arc<Barrier>,
) -> u16 {
    let req = Request::post(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("if-match", etag)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("a request");
    go.wait().await;
    app.oneshot(req)
        .await
        .expect("the router answers")
        .status()
        .as_u16()
}

async fn drill(rig: Rig) {
    let n = CASES * scale();
    let ids = rig.submit(n, "drill-writers").await;
    rig.route_until_assigned(&ids).await;
    let mut t = Tally::default();
    let mut outcomes: BTreeMap<u16, usize> = BTreeMap::new();
    let mut rounds = 0;
    for (i, id) in ids.iter().enumerate() {
        let ward = WARDS[i % WARDS.len()];
        let unit = format!("ward:{ward}");
        let (a, b) = (official("can-bo-a", &unit), official("can-bo-b", &unit));
        let note = |who: &str| json!({"text": format!("Đang xác minh ({who})."), "public": false});
        let mut pairs = vec![("accept", json!({}), "accept", json!({}))];
        for _ in 0..NOTE_ROUNDS {
            pairs.push(("note", note("A"), "note", note("B")));
        }
        pairs.push((
            "resolve",
            json!({"answer": "Đã sửa xong.", "evidence": []}),
            "reject",
            json!({"reason_code": "not_city_matter", "answer": "Không thuộc thẩm quyền."}),
        ));
        for (act_a, body_a, act_b, body_b) in pairs {
            rounds += 1;
            let id = id.to_string();
            let etag = rig.api.version(&a, &id).await;
            let before = rig.raw.timeline(&ids[i]).await.expect("timeline").len();
            let go = Arc::new(Barrier::new(2));
            let first = tokio::spawn(act(
                rig.api.app.clone(),
                a.clone(),
                format!("/v1/cases/{id}/{act_a}"),
                etag.clone(),
                body_a,
                go.clone(),
            ));
            let second = tokio::spawn(act(
                rig.api.app.clone(),
                b.clone(),
                format!("/v1/cases/{id}/{act_b}"),
                etag,
                body_b,
                go,
            ));
            let got = [
                first.await.expect("official A"),
                second.await.expect("official B"),
            ];
            for s in got {
                *outcomes.entry(s).or_insert(0) += 1;
            }
            let won = got.iter().filter(|s| **s == 200).count();
            let refused = got.iter().filter(|s| matches!(s, 409 | 412)).count();
            if (won, refused) != (1, 1) {
                let why = format!("{id} {act_a}/{act_b}: answers {got:?}");
                if won == 0 {
                    t.lose(why);
                } else {
                    t.duplicate(why);
                }
            }
            let after = rig.raw.timeline(&ids[i]).await.expect("timeline").len();
            match after.cmp(&(before + 1)) {
                std::cmp::Ordering::Equal => {}
                std::cmp::Ordering::Less => t.lose(format!("{id} {act_a}/{act_b}: no entry")),
                std::cmp::Ordering::Greater => {
                    t.duplicate(format!("{id} {act_a}/{act_b}: {} entries", after - before))
                }
            }
        }
        t.check_timeline(&rig, &ids[i]).await;
    }
    let count = |s: u16| outcomes.get(&s).copied().unwrap_or(0);
    line(&format!(
        "drill writers/{}: cases={n}, rounds={rounds}, won={}, refused_412={}, refused_409={}, refused_at_commit={}, lost={}, duplicated={}",
        rig.backend,
        count(200),
        count(412),
        count(409),
        rig.faults.injected().refused,
        t.lost,
        t.duplicated,
    ));
    t.assert_clean(&format!("writers/{}", rig.backend));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_sqlite() {
    drill(Rig::sqlite(
        "drill-writers",
        Faults::none(),
        drill_refdata(),
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_dynamodb() {
    drill(Rig::dynamo(Faults::none(), drill_refdata()).await).await;
}
