//! One pipeline for the drills, on either backend: the store and notifier
//! wrapped in [`Faulty`] (so are the SQS sends on DynamoDB), the API router
//! over them, the routing worker as each backend runs it, the deadline
//! sweep on a manual clock — and the raw, unwrapped store, which every
//! drill's final assertions read.

use super::{Scenario, scenario};
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use chrono::{DateTime, Duration, Timelike, Utc};
use pakn_aws::provision::{Names, Provisioned};
use pakn_aws::{DynamoStore, SqsQueue};
use pakn_core::Pakn;
use pakn_core::case::{Case, Status};
use pakn_core::ids::CaseId;
use pakn_core::notify::Notification;
use pakn_core::ports::{CaseQuery, Clock, ManualClock, Notifier, Queue, Store};
use pakn_core::refdata::RefData;
use pakn_core::unit::UnitCode;
use pakn_local::{LocalBackend, LocalOptions};
use pakn_testkit::JsonCalls as _;
use pakn_tests::faults::{Faults, Faulty};
use pakn_tests::http_app::{Api, Bodies, official, without_quotas};
use pakn_tests::moto;
use pakn_tests::process::TempDir;
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

/// Monday 4 August 2025, 09:00 in Hanoi: every drill starts here.
pub fn t0() -> DateTime<Utc> {
    pakn_testkit::hanoi(2025, 8, 4, 9, 0, 0)
}

/// Messages the local worker takes per receive (as `pakn serve` does).
const LOCAL_BATCH: usize = 10;

/// The wards the drills' reports come from.
pub const WARDS: [&str; 2] = ["00070", "00073"];

/// The embedded reference data with the rate limits lifted (the drills
/// send many requests as few callers) and only the two drill wards among
/// the 126: the daily unit checks then read 13 units, not 137, which keeps
/// a pass on the emulator short. `daily_checks` drills the full city.
pub fn drill_refdata() -> RefData {
    let mut r = without_quotas();
    let keep: Vec<UnitCode> = WARDS.iter().map(|w| UnitCode::ward(w)).collect();
    r.units.retain(|code, u| {
        !matches!(u.unit_type.as_str(), "ward" | "commune") || keep.contains(code)
    });
    r
}

/// Which backend a rig runs on.
pub enum Side {
    Sqlite {
        local: LocalBackend,
        /// The queue's own clock (visibility, backoff), moved by hand.
        queue_clock: ManualClock,
        dir: TempDir,
    },
    Dynamo {
        p: Provisioned,
        sqs: aws_sdk_sqs::Client,
        /// A queue subscribed to the topic with no filter: everything published.
        published_url: String,
        /// What was drained from it so far (draining deletes).
        seen: Mutex<Vec<Notification>>,
        /// Publishing from the table's stream (`PAKN_PUBLISH=stream`), as
        /// deployed: what stands in for `pakn-publisher`.
        stream: Option<Box<StreamPump>>,
    },
}

/// `pakn-publisher` on the emulator: the table's stream records (moto
/// invokes no consumer) handed to its handler in order, each batch from
/// the first record not yet done, retried from the first one it reports
/// failed (as Lambda does with partial batch responses).
pub struct StreamPump {
    sdk: aws_config::SdkConfig,
    store: Arc<DynamoStore>,
    /// Records handed over and done with.
    done: Mutex<usize>,
    /// Batches handed over, entries parked for the drain, and batches
    /// delivered again (the invocation failed, or from a record it
    /// reported failed).
    pub batches: std::sync::atomic::AtomicUsize,
    pub parked: std::sync::atomic::AtomicUsize,
    pub retried: std::sync::atomic::AtomicUsize,
}

impl StreamPump {
    /// For the drill's line.
    pub fn summary(&self) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        format!(
            "stream_batches={}, parked={}, retried_batches={}",
            self.batches.load(Relaxed),
            self.parked.load(Relaxed),
            self.retried.load(Relaxed)
        )
    }
}

pub struct Rig {
    /// `sqlite` or `dynamodb`, for the drill lines.
    pub backend: &'static str,
    pub faults: Arc<Faults>,
    /// The store without faults: what the drills check.
    pub raw: Arc<dyn Store>,
    /// pakn over the faulty ports.
    pub pakn: Pakn,
    /// The HTTP API over `pakn` (the test clock is `api.clock`).
    pub api: Api,
    pub clock: ManualClock,
    pub refdata: Arc<RefData>,
    pub side: Side,
}

/// What one `route_all` did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Routed {
    pub deliveries: usize,
    pub failures: usize,
}

impl Rig {
    fn compose(
        backend: &'static str,
        raw: Arc<dyn Store>,
        notifier: Arc<dyn Notifier>,
        faults: Arc<Faults>,
        refdata: RefData,
        side: Side,
    ) -> Rig {
        let clock = ManualClock::new(t0());
        let refdata = Arc::new(refdata);
        let store = Faulty::new(raw.clone(), faults.clone());
        // See `Faulty::serialized`: moto cannot isolate concurrent transactions.
        let store = match side {
            Side::Dynamo { .. } => store.serialized(),
            Side::Sqlite { .. } => store,
        };
        let pakn = Pakn::new(
            Arc::new(store),
            Arc::new(Faulty::new(notifier, faults.clone())),
            Arc::new(clock.clone()),
            refdata.clone(),
        );
        let api = Api::over(pakn.clone(), clock.clone(), Bodies::AllJson);
        Rig {
            backend,
            faults,
            raw,
            pakn,
            api,
            clock,
            refdata,
            side,
        }
    }

    /// The embedded backend in a fresh directory; its queue clock starts at
    /// the real time (so `pakn redrive`, a process on the system clock,
    /// puts messages back visible to it).
    pub fn sqlite(tag: &str, faults: Arc<Faults>, refdata: RefData) -> Rig {
        let dir = TempDir::new(tag);
        let queue_clock = ManualClock::new(Utc::now());
        let local = LocalBackend::open_with(
            &dir.path().join("pakn.db"),
            LocalOptions {
                queue_clock: Arc::new(queue_clock.clone()),
                ..Default::default()
            },
        )
        .expect("open sqlite");
        let raw: Arc<dyn Store> = local.store.clone();
        let notifier: Arc<dyn Notifier> = local.notifier.clone();
        Rig::compose(
            "sqlite",
            raw,
            notifier,
            faults,
            refdata,
            Side::Sqlite {
                local,
                queue_clock,
                dir,
            },
        )
    }

    /// DynamoDB, SQS and SNS on the emulator: a fresh table, intake queue
    /// (+ DLQ, 5 receives) and topic; the store's sends go through the
    /// faults too (a lost send is re-sent by the sweep).
    pub async fn dynamo(faults: Arc<Faults>, refdata: RefData) -> Rig {
        Rig::dynamo_publishing(faults, refdata, false).await
    }

    /// [`Rig::dynamo`] publishing from the table's stream, as `template.yaml`
    /// deploys: committers publish nothing, and [`Rig::pump`] hands the
    /// stream's records to `pakn-publisher`'s handler, whose publishes and
    /// marks go through the faults (an entry it cannot publish is parked
    /// for the sweep's drain).
    pub async fn dynamo_stream(faults: Arc<Faults>, refdata: RefData) -> Rig {
        Rig::dynamo_publishing(faults, refdata, true).await
    }

    async fn dynamo_publishing(faults: Arc<Faults>, refdata: RefData, stream: bool) -> Rig {
        let (sdk, p) = moto::provisioned(&Names::with_prefix(&moto::unique("drill"))).await;
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let published_url = moto::topic_queue(&sdk, &p.topic_arn, "drill-published").await;
        let intake: Arc<dyn Queue> = Arc::new(Faulty::new(
            Arc::new(SqsQueue::new(sqs.clone(), &p.queue_url)),
            faults.clone(),
        ));
        let mut dynamo =
            DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &p.table).with_intake(intake);
        if stream {
            dynamo = dynamo.with_stream_publishing();
        }
        let dynamo = Arc::new(dynamo);
        let raw: Arc<dyn Store> = dynamo.clone();
        let notifier: Arc<dyn Notifier> = Arc::new(pakn_aws::SnsNotifier::new(
            aws_sdk_sns::Client::new(&sdk),
            &p.topic_arn,
        ));
        let stream = stream.then(|| {
            Box::new(StreamPump {
                sdk: sdk.clone(),
                store: dynamo,
                done: Mutex::new(0),
                batches: Default::default(),
                parked: Default::default(),
                retried: Default::default(),
            })
        });
        Rig::compose(
            if stream.is_some() {
                "dynamodb-stream"
            } else {
                "dynamodb"
            },
            raw,
            notifier,
            faults,
            refdata,
            Side::Dynamo {
                p,
                sqs,
                published_url,
                seen: Mutex::new(Vec::new()),
                stream,
            },
        )
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Route everything on the intake queue with two workers at once, as
    /// each backend runs them, until the queue is empty: a failed message is
    /// delivered again (after its backoff locally; at once on the emulator,
    /// standing in for the visibility timeout) until routed or dead-lettered.
    pub async fn route_all(&self) -> Routed {
        let mut total = Routed::default();
        for _ in 0..50 {
            let (a, b) = tokio::join!(self.worker(), self.worker());
            total.deliveries += a.deliveries + b.deliveries;
            total.failures += a.failures + b.failures;
            if self.queue_depth().await == 0 {
                return total;
            }
            if let Side::Sqlite { queue_clock, .. } = &self.side {
                // Past the longest backoff before the fifth delivery (16 s).
                queue_clock.advance(Duration::seconds(30));
            }
        }
        panic!("{}: the intake queue never emptied", self.backend);
    }

    /// One receive of up to ten messages, handled as the worker does: the
    /// cases it held and how many failed.
    pub async fn one_batch(&self) -> (Vec<CaseId>, usize) {
        match &self.side {
            Side::Sqlite { local, .. } => {
                let batch = local
                    .queue
                    .receive(LOCAL_BATCH, pakn_local::VISIBILITY_TIMEOUT)
                    .await
                    .expect("receive from the local queue");
                let mut failed = 0;
                for m in &batch {
                    if !pakn_local::handle(&self.pakn, &local.queue, m).await {
                        failed += 1;
                    }
                }
                (batch.into_iter().map(|m| m.case_id).collect(), failed)
            }
            Side::Dynamo { sqs, p, .. } => {
                let got = receive(sqs, &p.queue_url).await;
                let failed = self.lambda_batch(sqs, &p.queue_url, &got, false).await;
                let ids = got
                    .iter()
                    .map(|m| pakn_router::decode(m.body()).expect("an intake message"))
                    .collect();
                (ids, failed)
            }
        }
    }

    async fn worker(&self) -> Routed {
        match &self.side {
            Side::Sqlite { local, .. } => {
                let mut r = Routed::default();
                loop {
                    let batch = local
                        .queue
                        .receive(LOCAL_BATCH, pakn_local::VISIBILITY_TIMEOUT)
                        .await
                        .expect("receive from the local queue");
                    if batch.is_empty() {
                        return r;
                    }
                    for m in &batch {
                        r.deliveries += 1;
                        if !pakn_local::handle(&self.pakn, &local.queue, m).await {
                            r.failures += 1;
                        }
                    }
                }
            }
            Side::Dynamo { sqs, p, .. } => {
                let mut r = Routed::default();
                loop {
                    let got = receive(sqs, &p.queue_url).await;
                    if got.is_empty() {
                        return r;
                    }
                    let failed = self.lambda_batch(sqs, &p.queue_url, &got, false).await;
                    r.deliveries += got.len();
                    r.failures += failed;
                }
            }
        }
    }

    /// One invocation of `pakn-router` over `got` (in reverse order with
    /// `reverse`), settled as Lambda's event source does: the records not
    /// named as failures are deleted; the failed ones are made visible again
    /// at once. Answers how many failed.
    pub async fn lambda_batch(
        &self,
        sqs: &aws_sdk_sqs::Client,
        url: &str,
        got: &[aws_sdk_sqs::types::Message],
        reverse: bool,
    ) -> usize {
        let mut records: Vec<SqsMessage> = got.iter().map(record).collect();
        if reverse {
            records.reverse();
        }
        let mut ev = SqsEvent::default();
        ev.records = records;
        let resp = pakn_router::handle_batch(&self.pakn, ev).await;
        let failed: HashSet<&str> = resp
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        for m in got {
            let handle = m.receipt_handle().unwrap_or_default();
            if failed.contains(m.message_id().unwrap_or_default()) {
                let _ = sqs
                    .change_message_visibility()
                    .queue_url(url)
                    .receipt_handle(handle)
                    .visibility_timeout(0)
                    .send()
                    .await;
            } else {
                // A stale handle (another invocation had it) is no loss: the
                // message comes back and routing it again is a no-op.
                let _ = sqs
                    .delete_message()
                    .queue_url(url)
                    .receipt_handle(handle)
                    .send()
                    .await;
            }
        }
        failed.len()
    }

    /// Messages on the intake queue (visible or in flight).
    pub async fn queue_depth(&self) -> u64 {
        match &self.side {
            Side::Sqlite { local, .. } => local.queue.depth().await.expect("queue depth"),
            Side::Dynamo { sqs, p, .. } => queue_count(sqs, &p.queue_url).await,
        }
    }

    /// Messages on the dead-letter queue.
    pub async fn dead_letters(&self) -> u64 {
        match &self.side {
            Side::Sqlite { local, .. } => local.queue.dlq_list().await.expect("dlq").len() as u64,
            Side::Dynamo { sqs, p, .. } => queue_count(sqs, &p.dlq_url).await,
        }
    }

    /// Sweep until the pipeline is quiet at this instant: passes (each
    /// followed by routing what they requeued) until one decided nothing,
    /// failed nothing and met no conflict, with the outbox empty and the
    /// day's unit checks done (their marker written). Answers the passes.
    pub async fn settle(&self) -> usize {
        self.settle_with(1).await
    }

    /// [`Rig::settle`] with `sweepers` sweeps running at once in each pass
    /// (two scheduled invocations overlapping).
    pub async fn settle_with(&self, sweepers: usize) -> usize {
        for pass in 1..=80 {
            let mut calm = self.pump().await == 0;
            let mut sweeps = tokio::task::JoinSet::new();
            for _ in 0..sweepers {
                let pakn = self.pakn.clone();
                sweeps.spawn(async move { pakn.sweep().run(1000).await });
            }
            while let Some(r) = sweeps.join_next().await {
                calm &= match r.expect("a sweep task") {
                    Ok(r) => r.decided == 0 && r.failed == 0 && r.conflicts == 0 && r.requeued == 0,
                    Err(_) => false,
                };
            }
            self.route_all().await;
            calm &= self.pump().await == 0;
            if calm && self.outbox_empty().await && self.daily_done().await {
                return pass;
            }
        }
        panic!(
            "{}: the sweep never settled at {} ({})",
            self.backend,
            self.now(),
            self.faults.injected()
        );
    }

    /// Move the clock to the earliest next milestone of `ids` and settle
    /// there, until none of them has one; answers the steps taken.
    pub async fn walk_milestones(&self, ids: &[CaseId], sweepers: usize) -> usize {
        for steps in 0..30 {
            let mut next: Option<DateTime<Utc>> = None;
            for id in ids {
                if let Some(t) = self.case(id).await.next_action_at {
                    next = Some(next.map_or(t, |n| n.min(t)));
                }
            }
            let Some(t) = next else { return steps };
            assert!(
                t > self.now(),
                "{}: a milestone at {t} is still undecided after the sweep settled at {}",
                self.backend,
                self.now()
            );
            self.clock.set(t);
            self.settle_with(sweepers).await;
        }
        panic!("{}: the milestones never ended", self.backend);
    }

    /// Publishing from the stream: hand every record not done yet to the
    /// publisher's handler until none is left; answers the outbox entries
    /// it found (0: nothing new). Otherwise nothing to do.
    pub async fn pump(&self) -> usize {
        use std::sync::atomic::Ordering::Relaxed;
        let Side::Dynamo {
            p, stream: Some(s), ..
        } = &self.side
        else {
            return 0;
        };
        let mut entries = 0;
        for _ in 0..200 {
            let all = moto::stream_records(&s.sdk, &p.table).await;
            let from = *s.done.lock().unwrap();
            if from >= all.len() {
                return entries;
            }
            let batch = json!({"Records": &all[from..]});
            s.batches.fetch_add(1, Relaxed);
            // The invocation itself may fail (throttled, or timed out
            // before or after its work): Lambda delivers the batch again.
            let got = match self
                .faults
                .invocation(
                    "publish_batch",
                    pakn_aws::publisher::publish_batch(&self.pakn, &s.store, &batch),
                )
                .await
            {
                Ok(got) => got,
                Err(_) => {
                    s.retried.fetch_add(1, Relaxed);
                    continue;
                }
            };
            s.parked.fetch_add(got.parked, Relaxed);
            entries += got.entries;
            let first_failed = all[from..].iter().position(|r| {
                let seq = r["dynamodb"]["SequenceNumber"].as_str().unwrap_or_default();
                got.failed.iter().any(|f| f == seq)
            });
            *s.done.lock().unwrap() = match first_failed {
                Some(i) => {
                    s.retried.fetch_add(1, Relaxed);
                    from + i
                }
                None => all.len(),
            };
        }
        panic!("{}: the stream's publisher never caught up", self.backend);
    }

    async fn outbox_empty(&self) -> bool {
        self.raw
            .pending_notifications(1)
            .await
            .expect("pending")
            .is_empty()
    }

    /// Are today's unit checks done (or not due today)?
    async fn daily_done(&self) -> bool {
        let cal = &self.refdata.calendar;
        let local = self.now().with_timezone(&cal.offset());
        let today = local.date_naive();
        if !cal.is_working_day(today) || local.hour() < self.refdata.policy.digest_hour_local {
            return true;
        }
        self.raw
            .get_marker(&format!("daily:{today}"))
            .await
            .expect("marker")
    }

    /// Every case `subs` submitted, read from the raw store (all pages).
    pub async fn stored_cases(&self, subs: &[String]) -> Vec<Case> {
        let mut out = Vec::new();
        for sub in subs {
            let mut cursor = None;
            loop {
                let page = self
                    .raw
                    .list_cases(&CaseQuery {
                        submitted_by: Some(sub.clone()),
                        cursor,
                        limit: 100,
                        ..Default::default()
                    })
                    .await
                    .expect("list cases");
                out.extend(page.cases);
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
        }
        out
    }

    /// The raw case.
    pub async fn case(&self, id: &CaseId) -> Case {
        self.raw
            .get_case(id)
            .await
            .expect("get case")
            .expect("the case is stored")
    }

    /// Submit `n` reports (through the use case, no faults expected) as
    /// citizen `sub`, alternating the drill wards; their ids in order.
    pub async fn submit(&self, n: usize, sub: &str) -> Vec<CaseId> {
        let mut ids = Vec::new();
        for i in 0..n {
            let body = pakn_testkit::report_body(
                "lighting",
                WARDS[i % WARDS.len()],
                &format!("Đèn hỏng {i}"),
            );
            let r = self
                .pakn
                .submit(&pakn_testkit::citizen(sub), &body, None)
                .await
                .expect("submit");
            ids.push(CaseId::parse(&r.id).expect("a ULID"));
        }
        ids
    }

    /// The unit of case `i` acts on it as its [`Scenario`] says, over HTTP.
    pub async fn play(&self, i: usize, id: &CaseId) {
        let ward = WARDS[i % WARDS.len()];
        let token = official(&format!("can-bo-{ward}"), &format!("ward:{ward}"));
        let id = id.to_string();
        let s = scenario(i);
        if s != Scenario::Ignored {
            self.api
                .act_on_latest(&token, &id, "accept", Some(&json!({})))
                .await
                .expect(200);
        }
        if s == Scenario::Resolved {
            let answer = json!({"answer": "Đã thay bóng đèn.", "evidence": []});
            self.api
                .act_on_latest(&token, &id, "resolve", Some(&answer))
                .await
                .expect(200);
        }
    }

    /// Route until none of `ids` is still `received`: a case whose send
    /// was lost or whose message was dead-lettered is requeued by the sweep
    /// once the requeue interval has passed.
    pub async fn route_until_assigned(&self, ids: &[CaseId]) {
        for _ in 0..20 {
            self.route_all().await;
            let mut waiting = 0;
            for id in ids {
                if self.case(id).await.status == Status::Received {
                    waiting += 1;
                }
            }
            if waiting == 0 {
                return;
            }
            let after = self.refdata.policy.requeue_received_after_minutes as i64 + 1;
            self.clock.advance(Duration::minutes(after));
            self.settle().await;
        }
        panic!("{}: some cases were never routed", self.backend);
    }

    /// How many times each `dedup_id` reached the notifier's subscribers
    /// (the local notifier's record; a queue subscribed to the SNS topic).
    pub async fn published(&self) -> BTreeMap<String, usize> {
        let all: Vec<Notification> = match &self.side {
            Side::Sqlite { local, .. } => local
                .notifier
                .published(0, usize::MAX)
                .await
                .expect("published")
                .into_iter()
                .map(|p| p.notification)
                .collect(),
            Side::Dynamo {
                sqs,
                published_url,
                seen,
                ..
            } => {
                let mut fresh = Vec::new();
                loop {
                    let got = receive(sqs, published_url).await;
                    if got.is_empty() {
                        break;
                    }
                    for m in got {
                        let n: Notification = serde_json::from_str(m.body().unwrap_or_default())
                            .expect("a notification");
                        fresh.push(n);
                        let _ = sqs
                            .delete_message()
                            .queue_url(published_url.as_str())
                            .receipt_handle(m.receipt_handle().unwrap_or_default())
                            .send()
                            .await;
                    }
                }
                let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                seen.extend(fresh);
                seen.clone()
            }
        };
        let mut out = BTreeMap::new();
        for n in all {
            *out.entry(n.dedup_id).or_insert(0) += 1;
        }
        out
    }
}

/// Receive up to ten visible messages now (no long poll).
/// Every inspection in the store, page by page.
pub async fn all_inspections(store: &dyn Store) -> Vec<pakn_core::inspection::Inspection> {
    let mut q = pakn_core::ports::InspectionQuery {
        limit: 100,
        ..Default::default()
    };
    let mut all = Vec::new();
    loop {
        let page = store.list_inspections(&q).await.expect("inspections");
        all.extend(page.items);
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => return all,
        }
    }
}

pub async fn receive(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    sqs.receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .wait_time_seconds(0)
        .send()
        .await
        .expect("receive")
        .messages()
        .to_vec()
}

/// Messages on a queue, visible and in flight.
pub async fn queue_count(sqs: &aws_sdk_sqs::Client, url: &str) -> u64 {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("queue attributes");
    let attrs = out.attributes();
    let n = |a: A| {
        attrs
            .and_then(|m| m.get(&a))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    n(A::ApproximateNumberOfMessages) + n(A::ApproximateNumberOfMessagesNotVisible)
}

/// An SQS message as Lambda hands it to the function.
pub fn record(m: &aws_sdk_sqs::types::Message) -> SqsMessage {
    let mut r = SqsMessage::default();
    r.message_id = m.message_id().map(String::from);
    r.receipt_handle = m.receipt_handle().map(String::from);
    r.body = m.body().map(String::from);
    r
}
