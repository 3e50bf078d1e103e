//! `pakn subscribe` as an agency's IT contact runs it: the real binary, on
//! the emulator (an SQS queue subscribed with the policy the options build
//! receives only what it selected) and on SQLite (refused policies create
//! nothing).

use pakn_core::notify::{Audience, Notification};
use pakn_core::ports::Notifier;
use pakn_tests::moto;
use pakn_tests::process::{TempDir, pakn_binary};
use serde_json::json;
use std::process::{Command, Output};

/// Run `pakn` with `args` and a clean pakn environment plus `env`.
fn pakn(db: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = Command::new(pakn_binary());
    c.args(args)
        .env_remove("PAKN_BACKEND")
        .env_remove("TOPIC_ARN")
        .env("PAKN_DB", db)
        .env("RUST_BACKTRACE", "0");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run pakn")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn notification(unit: &str, event: &str, audience: Vec<Audience>, key: &str) -> Notification {
    Notification {
        dedup_id: format!("sub-test:{key}"),
        event: event.into(),
        unit: unit.into(),
        urgency: "normal".into(),
        audience,
        case_id: None,
        body: json!({"schema_version": "1"}),
        created_at: chrono::Utc::now(),
    }
}

/// Raw delivery: each message body is the notification itself, no SNS envelope.
async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<Notification> {
    moto::drain(sqs, url)
        .await
        .iter()
        .map(|m| serde_json::from_str(m.body().unwrap_or_default()).expect("a notification"))
        .collect()
}

#[tokio::test]
async fn pakn_subscribe_on_moto_delivers_only_the_filtered_messages_to_a_queue() {
    let (sdk, p) = moto::provisioned(&moto::names()).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let (queue_url, queue_arn) = moto::queue(&sqs, "ward70").await;
    let dir = TempDir::new("sub-aws");
    let db = dir.path().join("unused.db");
    let env = [
        ("AWS_ENDPOINT_URL", moto::endpoint()),
        ("TOPIC_ARN", p.topic_arn.as_str()),
        ("AWS_REGION", "ap-southeast-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ];
    let out = pakn(
        &db,
        &env,
        &[
            "subscribe",
            "--backend",
            "aws",
            "--unit",
            "ward:00070",
            "--audience",
            "unit",
            "--event",
            "case.overdue,case.reminder",
            "--endpoint",
            &queue_arn,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let arn = text
        .lines()
        .find_map(|l| l.strip_prefix("subscription "))
        .expect("the subscription id is printed")
        .trim()
        .to_string();
    assert!(text.contains(
        r#"{"audience":["unit"],"event":["case.overdue","case.reminder"],"unit":["ward:00070"]}"#
    ));

    let listed = pakn(&db, &env, &["subscriptions", "list", "--backend", "aws"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert!(stdout(&listed).contains(&arn), "{}", stdout(&listed));

    let sns = pakn_aws::SnsNotifier::new(aws_sdk_sns::Client::new(&sdk), &p.topic_arn);
    let unit = || vec![Audience::Unit];
    for n in [
        notification("ward:00070", "case.overdue", unit(), "a"),
        notification("ward:00070", "case.assigned", unit(), "b"),
        notification("ward:00073", "case.overdue", unit(), "c"),
        notification("ward:00070", "case.reminder", unit(), "d"),
        notification(
            "ward:00070",
            "case.overdue",
            vec![Audience::HomeAffairs],
            "e",
        ),
    ] {
        sns.publish(&n).await.unwrap();
    }
    let mut got: Vec<String> = drain(&sqs, &queue_url)
        .await
        .into_iter()
        .map(|n| n.dedup_id)
        .collect();
    got.sort();
    assert_eq!(got, ["sub-test:a", "sub-test:d"]);

    let out = pakn(&db, &env, &["unsubscribe", &arn, "--backend", "aws"]);
    assert!(out.status.success(), "{}", stderr(&out));
    sns.publish(&notification("ward:00070", "case.overdue", unit(), "f"))
        .await
        .unwrap();
    assert!(drain(&sqs, &queue_url).await.is_empty(), "unsubscribed");
}

#[test]
fn pakn_subscribe_refuses_unknown_units_audiences_and_events_and_creates_nothing() {
    let dir = TempDir::new("sub-refused");
    let db = dir.path().join("p.db");
    let hook = "https://ward70.example.vn/pakn";
    for (args, code, vi) in [
        (vec!["--unit", "ward:99999"], "unknown_unit", "Đơn vị"),
        (vec!["--unit", "dept:nowhere"], "unknown_unit", "Đơn vị"),
        (
            vec!["--unit", "ward:00070", "--audience", "mayor"],
            "unknown_audience",
            "Đối tượng",
        ),
        (
            vec!["--unit", "ward:00070", "--event", "case.overdue,case.lost"],
            "unknown_event",
            "Sự kiện",
        ),
        (vec![], "empty_filter", "ít nhất"),
    ] {
        let mut all = vec!["subscribe", "--endpoint", hook];
        all.extend(args.iter().copied());
        let out = pakn(&db, &[], &all);
        assert!(!out.status.success(), "{args:?} was accepted");
        let err = stderr(&out);
        assert!(err.contains(code) && err.contains(vi), "{args:?}: {err}");
    }
    let out = pakn(
        &db,
        &[],
        &[
            "subscribe",
            "--unit",
            "ward:00070",
            "--endpoint",
            "ftp://x/y",
        ],
    );
    assert!(!out.status.success());
    let listed = pakn(&db, &[], &["subscriptions", "list"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert_eq!(
        stdout(&listed).lines().count(),
        1,
        "only the header: {}",
        stdout(&listed)
    );

    // A good one is stored with its policy and a secret printed once.
    let out = pakn(
        &db,
        &[],
        &["subscribe", "--unit", "ward:00070", "--endpoint", hook],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("secret       whsec_"));
    let listed = stdout(&pakn(&db, &[], &["subscriptions", "list"]));
    assert!(listed.contains(hook) && listed.contains(r#"{"unit":["ward:00070"]}"#));
    assert!(!listed.contains("whsec_"), "the secret is never listed");
    assert!(pakn(&db, &[], &["unsubscribe", "1"]).status.success());
}
