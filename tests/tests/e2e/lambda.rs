//! The real Lambda binaries (`pakn-api`, `pakn-router`, `pakn-deadlines`,
//! host target, release profile: what `cargo lambda build --release` ships) driven through the Lambda
//! Runtime API by a stub on 127.0.0.1, against DynamoDB/SQS/SNS on moto:
//! an API Gateway v2 HTTP event carrying a citizen-pool ID token (verified
//! by the function against the pool's keys, given in `PAKN_*_JWKS`), an SQS
//! batch with one poison record, and an EventBridge scheduled event.

use pakn_aws::DynamoStore;
use pakn_core::case::Status;
use pakn_core::ids::CaseId;
use pakn_core::ports::CaseStore;
use pakn_testkit::jwt::TestPool;
use pakn_tests::moto;
use pakn_tests::process::release_binary;
use pakn_tests::runtime_stub::{Answer, RuntimeStub};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub(crate) struct Function {
    child: Child,
    pub(crate) stub: RuntimeStub,
}

impl Function {
    /// Its exit status if it exits within `limit`.
    pub(crate) fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let until = std::time::Instant::now() + limit;
        while std::time::Instant::now() < until {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn start(
    bin: &str,
    p: &pakn_aws::Provisioned,
    env: &[(&str, String)],
) -> Function {
    let stub = RuntimeStub::start().await;
    let child = Command::new(release_binary(bin))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", &stub.addr)
        .env("AWS_LAMBDA_FUNCTION_NAME", bin)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{bin}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_REGION", moto::REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL", moto::endpoint())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("TABLE_NAME", &p.table)
        .env("INTAKE_QUEUE_URL", &p.queue_url)
        .env("TOPIC_ARN", &p.topic_arn)
        .env("RUST_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("start {bin}: {e}"));
    Function { child, stub }
}

fn http_event(method: &str, path: &str, body: Option<Value>, headers: Value) -> Value {
    let ctx = json!({
        "accountId": "123456789012", "apiId": "pakn", "domainName": "pakn.execute-api.ap-southeast-1.amazonaws.com",
        "domainPrefix": "pakn",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "pakn-test"},
        "requestId": "req-1", "routeKey": format!("{method} {path}"), "stage": "$default",
        "time": "29/Nov/2026:10:00:00 +0000", "timeEpoch": 1_795_000_000_000u64
    });
    json!({
        "version": "2.0", "routeKey": format!("{method} {path}"), "rawPath": path, "rawQueryString": "",
        "headers": headers, "requestContext": ctx,
        "body": body.map(|b| b.to_string()), "isBase64Encoded": false
    })
}

pub(crate) fn response(a: Answer) -> Value {
    match a {
        Answer::Response(v) => v,
        Answer::Error(e) => panic!("the function answered an error: {e}"),
    }
}

pub(crate) const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_three_bootstraps_answer_the_runtime_api() {
    let names = moto::names();
    let (sdk, p) = moto::provisioned(&names).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &p.table);

    // API: a public read, then a citizen's submission with a citizen-pool
    // ID token; the staff and citizen pools' keys are given inline.
    let staff = TestPool::new(
        "https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_CanBo",
        "staff-client",
        "s1",
    );
    let citizen = TestPool::new(
        "https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_CongDan",
        "citizen-client",
        "c1",
    );
    let pools = [
        ("PAKN_STAFF_ISSUER", staff.issuer.clone()),
        ("PAKN_STAFF_CLIENT_ID", staff.client_id.clone()),
        ("PAKN_STAFF_JWKS", staff.jwks().to_string()),
        ("PAKN_CITIZEN_ISSUER", citizen.issuer.clone()),
        ("PAKN_CITIZEN_CLIENT_ID", citizen.client_id.clone()),
        ("PAKN_CITIZEN_JWKS", citizen.jwks().to_string()),
    ];
    let api = start("pakn-api", &p, &pools).await;
    let r = response(
        api.stub
            .invoke(http_event("GET", "/v1/categories", None, json!({})), WAIT)
            .await,
    );
    assert_eq!(r["statusCode"], 200, "{r}");
    let report = json!({
        "kind": "field", "category": "lighting", "title": "Đèn đường hỏng", "description": "Không sáng",
        "location": {"lat": 21.0285, "lng": 105.8542, "ward_code": "00070"}
    });
    let now = chrono::Utc::now().timestamp();
    let token = citizen.sign(&citizen.id_claims("cognito-citizen-1", &[], now));
    let headers = json!({"content-type": "application/json", "idempotency-key": "lambda-1",
                         "authorization": format!("Bearer {token}")});
    let r = response(
        api.stub
            .invoke(
                http_event("POST", "/v1/cases", Some(report.clone()), headers),
                WAIT,
            )
            .await,
    );
    assert_eq!(r["statusCode"], 202, "{r}");
    let body: Value = serde_json::from_str(r["body"].as_str().expect("body")).expect("json body");
    let id = CaseId::parse(body["id"].as_str().expect("id")).expect("ulid");
    // Without a token a protected route is 401 with the bilingual error
    // body; a citizen-pool token claiming the admin group too.
    let r = response(
        api.stub
            .invoke(http_event("GET", "/v1/cases", None, json!({})), WAIT)
            .await,
    );
    assert_eq!(r["statusCode"], 401, "{r}");
    assert!(
        r["body"].as_str().unwrap_or("").contains("message_vi"),
        "{r}"
    );
    let forged = citizen.sign(&citizen.id_claims("cognito-citizen-1", &["admin"], now));
    let headers = json!({"authorization": format!("Bearer {forged}")});
    let r = response(
        api.stub
            .invoke(http_event("GET", "/v1/cases", None, headers), WAIT)
            .await,
    );
    assert_eq!(r["statusCode"], 401, "{r}");
    assert!(
        r["body"]
            .as_str()
            .unwrap_or("")
            .contains("staff_role_from_citizen_pool"),
        "{r}"
    );
    let init = api.stub.cold_init().expect("the function polled for work");
    eprintln!("pakn-api cold init (release build, to first poll): {init:?}");
    let stored = store
        .get_case(&id)
        .await
        .expect("get")
        .expect("stored in DynamoDB");
    assert_eq!(stored.status, Status::Received);

    // Router: one good record and one poison record; only the poison one fails.
    let router = start("pakn-router", &p, &[]).await;
    let record = |mid: &str, body: &str| {
        json!({
            "messageId": mid, "receiptHandle": format!("rh-{mid}"), "body": body,
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795000000000",
                           "SenderId": "AIDA", "ApproximateFirstReceiveTimestamp": "1795000000000"},
            "messageAttributes": {}, "md5OfBody": "x", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:ap-southeast-1:123456789012:intake", "awsRegion": moto::REGION
        })
    };
    let event = json!({"Records": [record("good-1", &json!({"case_id": id}).to_string()), record("poison-1", "not json at all")]});
    let r = response(router.stub.invoke(event, WAIT).await);
    assert_eq!(
        r["batchItemFailures"],
        json!([{"itemIdentifier": "poison-1"}]),
        "{r}"
    );
    let routed = store.get_case(&id).await.expect("get").expect("case");
    assert_eq!(routed.status, Status::Assigned);
    assert_eq!(routed.unit.as_ref().map(|u| u.as_str()), Some("ward:00070"));
    // A duplicate delivery is a no-op, not a failure.
    let event = json!({"Records": [record("good-2", &json!({"case_id": id}).to_string())]});
    let r = response(router.stub.invoke(event, WAIT).await);
    assert_eq!(r["batchItemFailures"], json!([]), "{r}");
    assert_eq!(
        store
            .get_case(&id)
            .await
            .expect("get")
            .expect("case")
            .version,
        routed.version
    );

    // Deadlines: a scheduled event runs the sweep and answers its report.
    let deadlines = start("pakn-deadlines", &p, &[]).await;
    let event = json!({
        "version": "0", "id": "e-1", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-11-29T10:00:00Z", "region": moto::REGION,
        "resources": ["arn:aws:events:ap-southeast-1:123456789012:rule/pakn-sweep"], "detail": {}
    });
    let r = response(deadlines.stub.invoke(event, WAIT).await);
    // The only case's first milestone (its ack_due) is 8 working hours after it
    // was received, so this sweep, at the real time now, finds nothing due.
    assert_eq!(r["passes"], 1, "the sweep's report: {r}");
    assert_eq!(r["looked"], 0, "{r}");
    assert_eq!(r["decided"], 0, "{r}");
    assert_eq!(r["more_due"], false, "{r}");
}
