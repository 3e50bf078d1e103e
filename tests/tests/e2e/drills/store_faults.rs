//! Store and notifier faults: the whole pipeline over ports that fail at a
//! seeded rate (conflicts, throttling, timeouts before and after the
//! write, publishes whose acknowledgement is lost), on SQLite and on
//! DynamoDB/SQS/SNS.
//!
//! Citizens submit over HTTP and retry with the same `Idempotency-Key` until
//! a `202` — and once more after it, as a client that lost the answer
//! would. The routing workers take the intake queue with redelivery. A
//! third of the cases is accepted, a third accepted and resolved (retrying
//! on `412`/`5xx`, re-reading first). The clock then walks through every
//! milestone (the acknowledgement deadline, the reminder before the
//! deadline, the deadline, the dispute window's end, more than 15 days
//! overdue), sweeping at each until the pipeline is quiet. Once, after
//! routing, the faults pause and every key is sent again: it must answer at
//! once with its case (no key is stuck). At the end the faults stop, the
//! pipeline catches up, and the raw store is checked: every accepted case
//! stored once, one case per key, every milestone decided once and
//! published at least once.

use super::rig::{Rig, WARDS, drill_refdata};
use super::{Scenario, Tally, line, scale, scenario};
use chrono::Duration;
use pakn_core::case::Status;
use pakn_core::ids::CaseId;
use pakn_tests::faults::Faults;
use pakn_tests::http_app::{Answer, citizen, official};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The default seed (the number) and fault rate; `PAKN_DRILL_SEED`
/// picks another seed for a soak.
const SEED: u64 = 13;
const RATE: f64 = 0.1;
/// Cases per scale unit (three scenarios of four).
const CASES: usize = 12;
/// Give up on a request after this many attempts: a key still refused by
/// then is stuck.
const ATTEMPTS: usize = 200;

fn seed() -> u64 {
    std::env::var("PAKN_DRILL_SEED")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(SEED)
}

/// A client that retries: counts every HTTP request it sends.
struct Client {
    rig: Arc<Rig>,
    requests: AtomicUsize,
}

impl Client {
    /// `POST /v1/cases` with `key` until `202`, retrying `5xx`; the case id.
    async fn submit(&self, token: &str, key: &str, body: &Value) -> String {
        for _ in 0..ATTEMPTS {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let a = self
                .rig
                .api
                .call(
                    axum::http::Method::POST,
                    "/v1/cases",
                    Some(token),
                    &[("idempotency-key", key)],
                    Some(body),
                )
                .await;
            match a.status.as_u16() {
                202 => return a.body["id"].as_str().expect("id").to_string(),
                500 | 503 => continue,
                s => panic!("key {key}: unexpected {s}: {}", a.body),
            }
        }
        panic!("key {key} stuck: no 202 in {ATTEMPTS} attempts");
    }

    async fn read(&self, token: &str, id: &str) -> Answer {
        for _ in 0..ATTEMPTS {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let a = self
                .rig
                .api
                .get(&format!("/v1/cases/{id}"), Some(token))
                .await;
            match a.status.as_u16() {
                200 => return a,
                500 | 503 => continue,
                s => panic!("GET {id}: unexpected {s}: {}", a.body),
            }
        }
        panic!("GET {id}: no 200 in {ATTEMPTS} attempts");
    }

    /// Take `action` until the case shows `done`: read, act on the version
    /// read; a `412` (a conflict, or our own earlier attempt that did land)
    /// or a `5xx` reads again.
    async fn act_until(&self, token: &str, id: &str, action: &str, body: &Value, done: &str) {
        for _ in 0..ATTEMPTS {
            let read = self.read(token, id).await;
            if read.body["status"] == done {
                return;
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let a = self
                .rig
                .api
                .act(token, id, action, Some(&read.etag()), Some(body))
                .await;
            match a.status.as_u16() {
                200 => return,
                412 | 500 | 503 => continue,
                s => panic!("{action} {id}: unexpected {s}: {}", a.body),
            }
        }
        panic!("{action} {id}: not done in {ATTEMPTS} attempts");
    }
}

async fn drill(rig: Rig) {
    let rig = Arc::new(rig);
    let n = CASES * scale();
    let client = Arc::new(Client {
        rig: rig.clone(),
        requests: AtomicUsize::new(0),
    });
    let subs: Vec<String> = (0..3).map(|c| format!("drill-citizen-{c}")).collect();
    let ward = |i: usize| WARDS[i % WARDS.len()];
    let body =
        |i: usize| pakn_testkit::report_body("lighting", ward(i), &format!("Đèn hỏng số {i}"));
    let key = |i: usize| format!("drill-key-{i}");

    // Submissions, six clients at a time; each key once more after its 202.
    let mut answers: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(6) {
        let mut tasks = tokio::task::JoinSet::new();
        for &i in chunk {
            let (client, token) = (client.clone(), citizen(&subs[i % subs.len()]));
            let (k, b) = (key(i), body(i));
            tasks.spawn(async move {
                let first = client.submit(&token, &k, &b).await;
                let again = client.submit(&token, &k, &b).await;
                (i, [first, again])
            });
        }
        while let Some(r) = tasks.join_next().await {
            let (i, ids) = r.expect("a client");
            answers.entry(i).or_default().extend(ids);
        }
    }
    let ids: Vec<CaseId> = (0..n)
        .map(|i| CaseId::parse(answers[&i].iter().next().expect("an id")).expect("a ULID"))
        .collect();

    // Routing, with redelivery; a lost send or a dead letter is requeued.
    rig.route_until_assigned(&ids).await;

    // The faults pause: every key answers at once, with its case (no key
    // is stuck); a key is kept 24 hours, so this is asked the same day.
    rig.faults.stop();
    for i in 0..n {
        let token = citizen(&subs[i % subs.len()]);
        let a = rig
            .api
            .call(
                axum::http::Method::POST,
                "/v1/cases",
                Some(&token),
                &[("idempotency-key", &key(i))],
                Some(&body(i)),
            )
            .await
            .expect(202);
        answers
            .entry(i)
            .or_default()
            .insert(a.body["id"].as_str().expect("id").to_string());
    }
    rig.faults.set_rate(RATE);

    // The units act, each retrying until its action shows.
    for (i, id) in ids.iter().enumerate() {
        let token = official(&format!("can-bo-{}", ward(i)), &format!("ward:{}", ward(i)));
        let id = id.to_string();
        if scenario(i) != Scenario::Ignored {
            client
                .act_until(&token, &id, "accept", &serde_json::json!({}), "in_progress")
                .await;
        }
        if scenario(i) == Scenario::Resolved {
            let answer = serde_json::json!({"answer": "Đã thay bóng đèn.", "evidence": []});
            client
                .act_until(&token, &id, "resolve", &answer, "resolved")
                .await;
        }
    }

    // The clock walks to each case's next milestone, sweeping until quiet.
    rig.walk_milestones(&ids, 1).await;

    // The faults stop: the pipeline catches up with what is left.
    let injected = rig.faults.injected();
    rig.faults.stop();
    rig.clock.advance(Duration::minutes(1));
    rig.settle().await;

    // The raw store.
    let mut t = Tally::default();
    for (i, got) in &answers {
        if got.len() != 1 {
            t.duplicate(format!(
                "key {i} answered {} different cases: {got:?}",
                got.len()
            ));
        }
    }
    let stored = rig.stored_cases(&subs).await;
    let stored_ids: BTreeSet<CaseId> = stored.iter().map(|c| c.id.clone()).collect();
    for id in &ids {
        if !stored_ids.contains(id) {
            t.lose(format!("{id} answered 202 but is not stored"));
        }
    }
    for c in &stored {
        if !ids.contains(&c.id) {
            t.duplicate(format!("{} stored but answered to no one", c.id));
        }
    }
    let published = rig.published().await;
    let inspections = super::rig::all_inspections(rig.raw.as_ref()).await;
    for (i, id) in ids.iter().enumerate() {
        let s = scenario(i);
        t.check_decisions(&rig, id, &s.decisions(), &published)
            .await;
        let case = rig.case(id).await;
        let want_status = match s {
            Scenario::Ignored => Status::Assigned,
            Scenario::Accepted => Status::InProgress,
            Scenario::Resolved => Status::Closed,
        };
        if case.status != want_status {
            t.lose(format!("{id}: {:?}, not {want_status:?}", case.status));
        }
        let done: BTreeSet<&String> = case.milestones_done.iter().collect();
        if done.len() != case.milestones_done.len() {
            t.duplicate(format!(
                "{id}: a milestone decided twice {:?}",
                case.milestones_done
            ));
        }
        t.check_timeline(&rig, id).await;
        let timeline = rig.raw.timeline(id).await.expect("timeline");
        for a in ["submitted", "routed", "accept", "resolve", "close"] {
            let n = timeline.iter().filter(|e| e.action == a).count();
            let want = usize::from(s.actions().contains(&a));
            if n < want {
                t.lose(format!("{id}: no '{a}' on the timeline"));
            }
            if n > want {
                t.duplicate(format!("{id}: {n} '{a}' entries on the timeline"));
            }
        }
        let opened = inspections
            .iter()
            .filter(|x| x.case_id.as_ref() == Some(id))
            .count();
        let want = usize::from(s != Scenario::Resolved);
        if opened < want {
            t.lose(format!("{id}: no inspection opened"));
        }
        if opened > want {
            t.duplicate(format!("{id}: {opened} inspections"));
        }
    }
    // Unit decisions (digests, unit inspections) reached the subscribers too.
    for w in WARDS {
        let unit = format!("ward:{w}");
        let sent = rig
            .raw
            .notifications_for_unit(&unit, rig.now() - Duration::days(90), rig.now(), 1000)
            .await
            .expect("a unit's notifications");
        for (n, at) in sent.iter().filter(|(n, _)| n.case_id.is_none()) {
            t.decisions += 1;
            if at.is_none() || !published.contains_key(&n.dedup_id) {
                t.lose(format!("{unit}: {} decided but not published", n.dedup_id));
            }
        }
    }
    t.count_publishes(&published);
    let requests = client.requests.load(Ordering::Relaxed);
    line(&format!(
        "drill faults/{}: accepted={n}, stored={}, lost={}, duplicated={}, requests={requests}, {injected}, decisions={}, published={}, republished={}, seed={}, rate={RATE}",
        rig.backend,
        stored.len(),
        t.lost,
        t.duplicated,
        t.decisions,
        t.published,
        t.republished,
        seed(),
    ));
    if let super::rig::Side::Dynamo {
        stream: Some(s), ..
    } = &rig.side
    {
        line(&format!("drill faults/{}: {}", rig.backend, s.summary()));
    }
    t.assert_clean(&format!("faults/{}", rig.backend));
    // The drill is only worth its line if faults were injected; how many
    // of each kind depends on how the concurrent calls interleave.
    assert!(
        injected.throttled > 0 && injected.timeout_before > 0 && injected.timeout_after > 0,
        "faults were injected: {injected}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_sqlite() {
    let rig = Rig::sqlite("drill-faults", Faults::new(seed(), RATE), drill_refdata());
    drill(rig).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_dynamodb() {
    let rig = Rig::dynamo(Faults::new(seed(), RATE), drill_refdata()).await;
    drill(rig).await;
}

/// As deployed (`PAKN_PUBLISH=stream`): the changes' entries reach SNS only
/// through the table's stream and `pakn-publisher`, whose publishes and
/// marks meet the same faults; what it cannot publish is parked and the
/// sweep's drain publishes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_dynamodb_stream() {
    let rig = Rig::dynamo_stream(Faults::new(seed(), RATE), drill_refdata()).await;
    drill(rig).await;
}
