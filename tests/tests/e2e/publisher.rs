//! The outbox published from the table's DynamoDB Stream
//! (`PAKN_PUBLISH=stream`, `pakn-publisher`), on moto: the functions that
//! commit a change publish nothing, the stream's records (read from moto,
//! which invokes no consumer) are handed to the publisher, each entry is
//! published once however often its record is delivered, and what cannot
//! be published is parked for the sweep's drain.

use crate::aws::monday_morning;
use pakn_aws::provision::Provisioned;
use pakn_aws::publisher::{Published, publish_batch};
use pakn_aws::{AwsResources, DynamoStore};
use pakn_core::Pakn;
use pakn_core::ids::CaseId;
use pakn_core::notify::Notification;
use pakn_core::ports::*;
use pakn_core::refdata::RefData;
use pakn_testkit::JsonCalls as _;
use pakn_testkit::citizen;
use pakn_tests::moto;
use serde_json::{Value, json};
use std::sync::Arc;

struct Env {
    sdk: aws_config::SdkConfig,
    p: Provisioned,
    clock: ManualClock,
    store: Arc<DynamoStore>,
    /// Publishes to the provisioned topic.
    pakn: Pakn,
    /// The same table, but its notifier's topic does not exist: every
    /// publish fails.
    broken: Pakn,
    /// The same table and topic, publishing inline (`PAKN_PUBLISH=inline`).
    inline: Pakn,
    /// What reached the topic (every event, raw).
    topic: String,
}

async fn env() -> Env {
    let (sdk, p) = moto::provisioned(&moto::names()).await;
    let clock = ManualClock::new(monday_morning());
    let cfg = AwsResources {
        table_name: p.table.clone(),
        intake_queue_url: p.queue_url.clone(),
        topic_arn: p.topic_arn.clone(),
        publish_from_stream: true,
    };
    let store = Arc::new(pakn_aws::store_with(&sdk, &cfg));
    assert!(store.publishes_from_stream());
    let rd = Arc::new(RefData::embedded());
    let pakn = pakn_aws::pakn_on(
        store.clone(),
        &sdk,
        &cfg,
        rd.clone(),
        Arc::new(clock.clone()),
    );
    let gone = AwsResources {
        topic_arn: format!("{}-gone", p.topic_arn),
        ..cfg.clone()
    };
    let broken = pakn_aws::pakn_on(
        store.clone(),
        &sdk,
        &gone,
        rd.clone(),
        Arc::new(clock.clone()),
    );
    let plain = AwsResources {
        publish_from_stream: false,
        ..cfg.clone()
    };
    let inline = pakn_aws::pakn_with(&sdk, &plain, rd, Arc::new(clock.clone()));
    let topic = moto::topic_queue(&sdk, &p.topic_arn, "topic").await;
    Env {
        sdk,
        p,
        clock,
        store,
        pakn,
        broken,
        inline,
        topic,
    }
}

impl Env {
    /// A citizen's report, routed by the router (its commit writes the
    /// outbox entries `assigned` and `status`).
    async fn routed_case(&self, sub: &str) -> CaseId {
        self.routed_by(&self.pakn, sub).await
    }

    async fn routed_by(&self, pakn: &Pakn, sub: &str) -> CaseId {
        let report = json!({
            "category": "lighting", "title": "Đèn đường hỏng",
            "description": "Ba cột đèn trên phố Hàng Bài không sáng.",
            "location": {"lat": 21.0285, "lng": 105.8542, "ward_code": "00070"}
        });
        let r = pakn
            .submit(&citizen(sub), &report, None)
            .await
            .expect("submit");
        let id = CaseId::parse(&r.id).unwrap();
        let sqs = aws_sdk_sqs::Client::new(&self.sdk);
        let mut got = Vec::new();
        for _ in 0..5 {
            got.extend(moto::drain(&sqs, &self.p.queue_url).await);
            if !got.is_empty() {
                break;
            }
        }
        let mut ev = aws_lambda_events::event::sqs::SqsEvent::default();
        ev.records = got
            .iter()
            .map(|m| {
                let mut r = aws_lambda_events::event::sqs::SqsMessage::default();
                r.message_id = m.message_id().map(String::from);
                r.body = m.body().map(String::from);
                r
            })
            .collect();
        let resp = pakn_router::handle_batch(pakn, ev).await;
        assert!(resp.batch_item_failures.is_empty(), "routed");
        id
    }

    /// The stream's records from `from` on (and how many there are now).
    async fn records(&self, from: usize) -> (Value, usize) {
        let all = moto::stream_records(&self.sdk, &self.p.table).await;
        let n = all.len();
        (json!({"Records": all[from.min(n)..]}), n)
    }

    async fn on_topic(&self) -> Vec<Notification> {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk);
        let mut got: Vec<Notification> = moto::drain(&sqs, &self.topic)
            .await
            .iter()
            .map(|m| serde_json::from_str(m.body().unwrap()).unwrap())
            .collect();
        got.sort_by(|a, b| a.dedup_id.cmp(&b.dedup_id));
        got
    }
}

#[tokio::test]
async fn the_stream_publishes_each_outbox_entry_once_and_the_committer_none() {
    let e = env().await;
    let id = e.routed_case("citizen-stream-1").await;
    assert!(
        e.on_topic().await.is_empty(),
        "the router committed the change but published nothing"
    );
    assert!(
        e.store.pending_notifications(10).await.unwrap().is_empty(),
        "no PENDING index entry: the stream is the queue"
    );
    assert!(
        e.store
            .notifications_for_case(&id)
            .await
            .unwrap()
            .is_empty(),
        "no outbox item either: the entries ride on the change's event"
    );
    let (batch, n) = e.records(0).await;
    let done = publish_batch(&e.pakn, &e.store, &batch).await;
    assert_eq!(
        done,
        Published {
            entries: 2,
            sent: 2,
            ..Default::default()
        },
        "the case's two entries of the stream's {n} records"
    );
    assert_eq!(done.response(), json!({"batchItemFailures": []}));
    let got = e.on_topic().await;
    let ids: Vec<&str> = got.iter().map(|n| n.dedup_id.as_str()).collect();
    assert_eq!(
        ids,
        vec![format!("{id}:assigned:v2"), format!("{id}:status:v2")]
    );
    let sent = e.store.notifications_for_case(&id).await.unwrap();
    assert!(
        sent.len() == 2 && sent.iter().all(|(_, at)| at.is_some()),
        "stored as published: {sent:?}"
    );
    let unit = &sent[0].0.unit;
    let history = e
        .store
        .notifications_for_unit(
            unit,
            monday_morning() - chrono::Duration::days(1),
            monday_morning() + chrono::Duration::days(1),
            10,
        )
        .await
        .unwrap();
    assert!(
        history
            .iter()
            .any(|(n, at)| n.case_id.as_ref() == Some(&id) && at.is_some()),
        "in the unit's history of notifications: {history:?}"
    );
    // The publisher's own writes come back on the stream: nothing to do.
    let (own, _) = e.records(n).await;
    let echo = publish_batch(&e.pakn, &e.store, &own).await;
    assert_eq!(echo, Published::default(), "{own}");

    // The same batch again (Lambda retries, or a second delivery): nothing twice.
    let again = publish_batch(&e.pakn, &e.store, &batch).await;
    assert_eq!((again.sent, again.skipped), (0, 2));
    assert!(e.on_topic().await.is_empty(), "no second publication");
}

#[tokio::test]
async fn what_cannot_be_published_is_parked_and_the_sweep_drains_it_once() {
    let e = env().await;
    let id = e.routed_case("citizen-stream-2").await;
    let (batch, _) = e.records(0).await;
    // The notifier is down: nothing goes out, both entries are parked, and
    // the batch succeeds (the stream's copy is no longer needed).
    let done = publish_batch(&e.broken, &e.store, &batch).await;
    assert_eq!((done.sent, done.parked, done.failed.len()), (0, 2, 0));
    let parked = e.store.pending_notifications(10).await.unwrap();
    assert_eq!(parked.len(), 2, "on the drain's index");
    // A later delivery of the same records leaves them to the drain.
    let again = publish_batch(&e.pakn, &e.store, &batch).await;
    assert_eq!((again.sent, again.skipped), (0, 2));
    assert!(e.on_topic().await.is_empty());
    // The sweep's drain publishes them, once.
    e.clock.advance(chrono::Duration::minutes(1));
    e.pakn.sweep().run(100).await.expect("sweep");
    let got = e.on_topic().await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|n| n.case_id.as_ref() == Some(&id)));
    assert!(e.store.pending_notifications(10).await.unwrap().is_empty());
    e.pakn.sweep().run(100).await.expect("sweep");
    assert!(e.on_topic().await.is_empty(), "drained once");
}

#[tokio::test]
async fn a_record_that_cannot_be_read_is_reported_and_the_others_go_out() {
    let e = env().await;
    let id = e.routed_case("citizen-stream-3").await;
    let (mut batch, _) = e.records(0).await;
    let bad = json!({
        "eventName": "INSERT",
        "dynamodb": {
            "SequenceNumber": "999",
            "NewImage": {"pk": {"S": format!("CASE#{id}")}, "sk": {"S": format!("OUT#{id}:x")},
                         "doc": {"S": "{not json"}}
        }
    });
    batch["Records"].as_array_mut().unwrap().insert(0, bad);
    let done = publish_batch(&e.pakn, &e.store, &batch).await;
    assert_eq!(done.sent, 2);
    assert_eq!(
        done.response(),
        json!({"batchItemFailures": [{"itemIdentifier": "999"}]}),
        "retried by Lambda, then named on the failure queue"
    );
    assert_eq!(e.on_topic().await.len(), 2);
}

/// The real `pakn-publisher` bootstrap (release build) driven through the
/// Runtime API stub with the records read from moto's stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_publisher_bootstrap_answers_a_stream_batch() {
    use crate::lambda::{WAIT, response, start};
    let e = env().await;
    let id = e.routed_case("citizen-stream-4").await;
    let (batch, _) = e.records(0).await;
    let f = start("pakn-publisher", &e.p, &[("PAKN_PUBLISH", "stream".into())]).await;
    let r = response(f.stub.invoke(batch.clone(), WAIT).await);
    assert_eq!(r, json!({"batchItemFailures": []}), "{r}");
    let got = e.on_topic().await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|n| n.case_id.as_ref() == Some(&id)));
    // Delivered again: answered, nothing published twice.
    let r = response(f.stub.invoke(batch, WAIT).await);
    assert_eq!(r, json!({"batchItemFailures": []}), "{r}");
    assert!(e.on_topic().await.is_empty());
}

/// Without `PAKN_PUBLISH=stream` the publisher refuses to start: the
/// committers would publish too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_publisher_bootstrap_refuses_to_run_beside_inline_publishing() {
    use crate::lambda::start;
    let e = env().await;
    let mut f = start("pakn-publisher", &e.p, &[]).await;
    let status = f.wait_exit(std::time::Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| !s.success()),
        "it exits with an error: {status:?}"
    );
}

/// A function still publishing inline on the same table (a rolling
/// deployment, an operator's `pakn serve --backend aws`): its events carry
/// no entries, and its outbox items carry their index entry from the
/// start, so the publisher leaves them alone.
#[tokio::test]
async fn entries_published_inline_are_left_alone_by_the_stream() {
    let e = env().await;
    let id = e.routed_by(&e.inline, "citizen-stream-5").await;
    let got = e.on_topic().await;
    assert_eq!(got.len(), 2, "published by the committer: {got:?}");
    assert!(got.iter().all(|n| n.case_id.as_ref() == Some(&id)));
    let (batch, _) = e.records(0).await;
    let done = publish_batch(&e.pakn, &e.store, &batch).await;
    assert_eq!((done.entries, done.sent, done.skipped), (0, 0, 0));
    assert!(e.on_topic().await.is_empty(), "not a second time");
}

/// A decision without a case change (a unit's digest) is an outbox item
/// put on its own: its insert is handed to the publisher the same way, and
/// published once.
#[tokio::test]
async fn a_digest_put_on_its_own_is_published_once_from_the_stream() {
    let e = env().await;
    let digest: Notification = serde_json::from_value(json!({
        "dedup_id": "digest:ward:00070:stream-test", "event": "unit.overdue_digest",
        "unit": "ward:00070", "urgency": "normal", "audience": ["unit"], "body": {},
        "created_at": "2025-08-04T02:00:00Z"
    }))
    .unwrap();
    assert!(e.store.decide_once(&digest).await.unwrap());
    assert!(
        e.store.pending_notifications(10).await.unwrap().is_empty(),
        "not on the drain's index: the stream hands it over"
    );
    let (batch, _) = e.records(0).await;
    let done = publish_batch(&e.pakn, &e.store, &batch).await;
    assert_eq!((done.entries, done.sent), (1, 1), "{done:?}");
    let got = e.on_topic().await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].dedup_id, digest.dedup_id);
    let again = publish_batch(&e.pakn, &e.store, &batch).await;
    assert_eq!((again.sent, again.skipped), (0, 1));
    assert!(e.on_topic().await.is_empty(), "once");
}

/// A stream batch the publisher gave up on (its event source's retries
/// spent) is described on the failure queue, as Lambda describes it: the
/// real `pakn replay-stream-failures` reads the records back from the
/// stream and publishes them, once, and deletes the message. A batch the
/// stream no longer has is found in the table by its arrival times; one
/// without them, or a message that describes no batch, is kept and named,
/// and the command fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pakn_replays_the_batches_the_publisher_gave_up_on() {
    let e = env().await;
    let id = e.routed_case("citizen-stream-7").await;
    let (batch, _) = e.records(0).await;
    let records = batch["Records"].as_array().unwrap();
    let seq = |r: &Value| {
        r["dynamodb"]["SequenceNumber"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (first_seq, last_seq) = (seq(&records[0]), seq(records.last().unwrap()));
    let streams = aws_sdk_dynamodbstreams::Client::new(&e.sdk);
    let arn = aws_sdk_dynamodb::Client::new(&e.sdk)
        .describe_table()
        .table_name(&e.p.table)
        .send()
        .await
        .unwrap()
        .table()
        .and_then(|t| t.latest_stream_arn().map(String::from))
        .expect("a stream");
    let shards = streams
        .describe_stream()
        .stream_arn(&arn)
        .send()
        .await
        .unwrap()
        .stream_description()
        .map(|d| d.shards().to_vec())
        .unwrap_or_default();
    assert_eq!(shards.len(), 1, "moto keeps one shard");
    let shard = shards[0].shard_id().unwrap().to_string();
    // As Lambda writes them; `arrived` adds the arrival times it gives.
    let failure = |shard: &str, start: &str, end: &str, arrived: bool| {
        let mut m = json!({
            "requestContext": {"requestId": "r", "condition": "RetryAttemptsExhausted",
                               "approximateInvokeCount": 11},
            "version": "1.0",
            "DDBStreamBatchInfo": {
                "shardId": shard, "startSequenceNumber": start, "endSequenceNumber": end,
                "batchSize": 2, "streamArn": arn
            }
        });
        if arrived {
            let at = monday_morning().to_rfc3339();
            m["DDBStreamBatchInfo"]["approximateArrivalOfFirstRecord"] = json!(at);
            m["DDBStreamBatchInfo"]["approximateArrivalOfLastRecord"] = json!(at);
        }
        m.to_string()
    };
    let sqs = aws_sdk_sqs::Client::new(&e.sdk);
    let (queue, _) = moto::queue(&sqs, "publisher-failures").await;
    let send = |body: String| {
        let (sqs, queue) = (sqs.clone(), queue.clone());
        async move {
            sqs.send_message()
                .queue_url(queue)
                .message_body(body)
                .send()
                .await
                .unwrap();
        }
    };
    let run = |e: &Env| {
        let out = std::process::Command::new(pakn_tests::process::pakn_binary())
            .args(["replay-stream-failures", "--queue-url", &queue])
            .env("PAKN_LOG", "warn")
            .env("PAKN_PUBLISH", "stream")
            .env("AWS_ENDPOINT_URL", moto::endpoint())
            .env("AWS_REGION", moto::REGION)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("TABLE_NAME", &e.p.table)
            .env("INTAKE_QUEUE_URL", &e.p.queue_url)
            .env("TOPIC_ARN", &e.p.topic_arn)
            .output()
            .expect("run pakn replay-stream-failures");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    send(failure(&shard, &first_seq, &last_seq, false)).await;
    let (ok, stdout, stderr) = run(&e);
    assert!(ok, "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "1 failed batches read (0 found in the table, the stream no longer having them), \
             1 done: 2 outbox entries, 2 published now"
        ),
        "{stdout}"
    );
    let got = e.on_topic().await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|n| n.case_id.as_ref() == Some(&id)));
    assert!(
        moto::drain(&sqs, &queue).await.is_empty(),
        "the message is deleted"
    );

    // A second case whose batch the stream no longer has (its shard gone):
    // found in the table by the batch's arrival times and published once
    // (the first case's entries, from the same minutes, are not published
    // again). The first batch described again publishes nothing twice. A
    // gone batch without arrival times, and a message that describes no
    // batch, are kept.
    let second = e.routed_case("citizen-stream-8").await;
    send(failure(&shard, &first_seq, &last_seq, false)).await;
    send(failure("shardId-gone", "1", "2", true)).await;
    send(failure("shardId-gone", "3", "4", false)).await;
    send("{\"not\": \"a batch\"}".into()).await;
    let (ok, stdout, stderr) = run(&e);
    assert!(!ok, "kept messages fail the command: {stdout}");
    assert!(
        stdout.contains(
            "4 failed batches read (1 found in the table, the stream no longer having them), \
             2 done: 6 outbox entries, 2 published now"
        ),
        "{stdout}"
    );
    assert!(
        stderr.contains("shard shardId-gone records 3..4 no longer on the stream")
            && stderr.contains("no arrival times to find them by in the table")
            && stderr.contains("not a stream batch's description")
            && stderr.contains("2 failed batches kept on the queue"),
        "{stderr}"
    );
    let got = e.on_topic().await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got.iter().all(|n| n.case_id.as_ref() == Some(&second)),
        "{got:?}"
    );
}
