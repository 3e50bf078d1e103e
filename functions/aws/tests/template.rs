//! One source of truth: the table, its indexes and the intake queue's
//! redrive settings in `template.yaml` equal what `pakn provision` creates.

use pakn_aws::provision::{self, GsiDef, TableDef};
use serde_yaml::Value;

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
    let text = std::fs::read_to_string(path).expect("template.yaml at the repository root");
    serde_yaml::from_str(&text).expect("template.yaml parses")
}

fn resource<'a>(t: &'a Value, name: &str) -> &'a Value {
    &t["Resources"][name]["Properties"]
}

fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v:?}"))
        .to_string()
}

fn pairs(v: &Value, a: &str, b: &str) -> Vec<(String, String)> {
    v.as_sequence()
        .expect("a list")
        .iter()
        .map(|e| (s(&e[a]), s(&e[b])))
        .collect()
}

#[test]
fn the_table_in_the_template_is_the_provisioned_table() {
    let t = template();
    let table = resource(&t, "CasesTable");
    let gsis = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .expect("GSIs")
        .iter()
        .map(|g| GsiDef {
            name: s(&g["IndexName"]),
            key_schema: pairs(&g["KeySchema"], "AttributeName", "KeyType"),
            projection: s(&g["Projection"]["ProjectionType"]),
            non_key_attributes: g["Projection"]["NonKeyAttributes"]
                .as_sequence()
                .map(|v| v.iter().map(s).collect())
                .unwrap_or_default(),
        })
        .collect();
    let declared = TableDef {
        key_schema: pairs(&table["KeySchema"], "AttributeName", "KeyType"),
        attributes: pairs(
            &table["AttributeDefinitions"],
            "AttributeName",
            "AttributeType",
        ),
        gsis,
        ttl_attribute: s(&table["TimeToLiveSpecification"]["AttributeName"]),
        stream_view: s(&table["StreamSpecification"]["StreamViewType"]),
    };
    assert_eq!(declared, provision::table_def());
    assert_eq!(s(&table["BillingMode"]), "PAY_PER_REQUEST");
    assert_eq!(
        table["TimeToLiveSpecification"]["Enabled"].as_bool(),
        Some(true)
    );
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true)
    );
}

#[test]
fn the_intake_queue_in_the_template_is_the_provisioned_queue() {
    let t = template();
    let q = resource(&t, "IntakeQueue");
    assert_eq!(
        q["RedrivePolicy"]["maxReceiveCount"].as_u64(),
        Some(provision::MAX_RECEIVE_COUNT as u64)
    );
    assert_eq!(
        q["VisibilityTimeout"].as_u64(),
        Some(provision::INTAKE_VISIBILITY_TIMEOUT_SECONDS as u64)
    );
    let router = resource(&t, "RouterFunction");
    let timeout = router["Timeout"].as_u64().expect("router timeout");
    assert_eq!(timeout, provision::ROUTER_TIMEOUT_SECONDS as u64);
    assert!(
        q["VisibilityTimeout"].as_u64().unwrap() >= 6 * timeout,
        "visibility >= 6 x the router's timeout"
    );
    let dlq = resource(&t, "IntakeDeadLetterQueue");
    assert_eq!(
        dlq["MessageRetentionPeriod"].as_u64(),
        Some(provision::DLQ_RETENTION_SECONDS as u64)
    );
    let events = &router["Events"]["Intake"]["Properties"];
    assert_eq!(
        events["FunctionResponseTypes"][0].as_str(),
        Some("ReportBatchItemFailures")
    );
}

#[test]
fn each_function_builds_its_own_binary() {
    let t = template();
    for (name, bin) in [
        ("ApiFunction", "pakn-api"),
        ("RouterFunction", "pakn-router"),
        ("DeadlinesFunction", "pakn-deadlines"),
        ("PublisherFunction", "pakn-publisher"),
    ] {
        let r = &t["Resources"][name];
        assert_eq!(
            r["Metadata"]["BuildMethod"].as_str(),
            Some("rust-cargolambda"),
            "{name}"
        );
        assert_eq!(
            r["Metadata"]["BuildProperties"]["Binary"].as_str(),
            Some(bin),
            "{name}"
        );
        assert_eq!(r["Properties"]["CodeUri"].as_str(), Some("./"), "{name}");
    }
}

/// Least privilege: no function may delete, scan or batch-write the table,
/// and none holds the broad CRUD policy.
#[test]
fn no_function_may_delete_scan_or_batch_write_the_table() {
    let t = template();
    let resources = t["Resources"].as_mapping().expect("resources");
    let mut functions = 0;
    for (name, r) in resources {
        if s(&r["Type"]) != "AWS::Serverless::Function" {
            continue;
        }
        functions += 1;
        let text = serde_yaml::to_string(&r["Properties"]["Policies"]).expect("yaml");
        for refused in [
            "DynamoDBCrudPolicy",
            "dynamodb:DeleteItem",
            "dynamodb:Scan",
            "dynamodb:BatchWriteItem",
            "dynamodb:*",
        ] {
            assert!(!text.contains(refused), "{} may {refused}", s(name));
        }
    }
    assert!(functions >= 3, "the three functions were checked");
}

/// The media bucket and its queues in the template are what `pakn
/// provision` creates: the queue's visibility and redrive, the DLQ's
/// retention, the raw files' expiry, and the events of `raw/` only.
#[test]
fn the_media_bucket_and_queue_in_the_template_are_the_provisioned_ones() {
    let t = template();
    let q = resource(&t, "MediaQueue");
    assert_eq!(
        q["VisibilityTimeout"].as_u64(),
        Some(provision::MEDIA_VISIBILITY_TIMEOUT_SECONDS as u64)
    );
    assert_eq!(
        q["RedrivePolicy"]["maxReceiveCount"].as_u64(),
        Some(provision::MAX_RECEIVE_COUNT as u64)
    );
    assert_eq!(
        resource(&t, "MediaDeadLetterQueue")["MessageRetentionPeriod"].as_u64(),
        Some(provision::DLQ_RETENTION_SECONDS as u64)
    );
    let b = resource(&t, "MediaBucket");
    let rule = &b["LifecycleConfiguration"]["Rules"][0];
    assert_eq!(rule["Prefix"].as_str(), Some("raw/"));
    assert_eq!(
        rule["ExpirationInDays"].as_i64(),
        Some(provision::RAW_EXPIRATION_DAYS as i64)
    );
    let n = &b["NotificationConfiguration"]["QueueConfigurations"][0];
    assert_eq!(n["Event"].as_str(), Some("s3:ObjectCreated:*"));
    assert_eq!(
        n["Filter"]["S3Key"]["Rules"][0]["Value"].as_str(),
        Some("raw/")
    );
}

/// The functions that erase personal data (the API for `DELETE
/// /v1/me/data`, the deadline sweep for retention) may delete the
/// uploads' files, and only those prefixes.
#[test]
fn the_erasers_may_delete_uploaded_files() {
    let t = template();
    for f in ["ApiFunction", "DeadlinesFunction"] {
        let policies = &t["Resources"][f]["Properties"]["Policies"];
        let statements: Vec<&Value> = policies
            .as_sequence()
            .expect("policies")
            .iter()
            .filter_map(|p| p["Statement"].as_sequence())
            .flatten()
            .collect();
        let delete = statements
            .iter()
            .find(|s| {
                serde_yaml::to_string(&s["Action"])
                    .unwrap()
                    .contains("s3:DeleteObject")
            })
            .unwrap_or_else(|| panic!("{f} may not delete uploads"));
        let resources = serde_yaml::to_string(&delete["Resource"]).unwrap();
        for prefix in ["raw/*", "media/*", "thumb/*"] {
            assert!(resources.contains(prefix), "{f}: {prefix} in {resources}");
        }
    }
}

/// The outbox is published from the table's stream (issue 8): every
/// function is told so, and the publisher's event source retries a record
/// it could not publish or park, halving the batch, then names it on an
/// alarmed failure queue while the stream still holds it.
#[test]
fn the_publisher_reads_the_tables_stream_and_names_what_it_gave_up_on() {
    let t = template();
    assert_eq!(
        t["Globals"]["Function"]["Environment"]["Variables"]["PAKN_PUBLISH"].as_str(),
        Some("stream")
    );
    let table = resource(&t, "CasesTable");
    assert_eq!(
        s(&table["StreamSpecification"]["StreamViewType"]),
        "NEW_IMAGE"
    );
    let f = resource(&t, "PublisherFunction");
    let e = &f["Events"]["Outbox"];
    assert_eq!(s(&e["Type"]), "DynamoDB");
    let p = &e["Properties"];
    assert_eq!(p["BisectBatchOnFunctionError"].as_bool(), Some(true));
    assert_eq!(
        p["FunctionResponseTypes"][0].as_str(),
        Some("ReportBatchItemFailures")
    );
    let age = p["MaximumRecordAgeInSeconds"]
        .as_i64()
        .expect("a record age");
    assert!(
        (60..24 * 3600).contains(&age),
        "given up on before the stream's 24 h"
    );
    assert!(p["MaximumRetryAttempts"].as_i64().is_some_and(|n| n >= 1));
    assert_eq!(s(&p["DestinationConfig"]["OnFailure"]["Type"]), "SQS");
    let sort_keys: Vec<serde_json::Value> = p["FilterCriteria"]["Filters"]
        .as_sequence()
        .expect("filters")
        .iter()
        .map(|f| {
            let pattern: serde_json::Value =
                serde_json::from_str(&s(&f["Pattern"])).expect("a JSON filter");
            assert_eq!(pattern["eventName"], serde_json::json!(["INSERT"]));
            pattern["dynamodb"]["NewImage"]["sk"]["S"].clone()
        })
        .collect();
    assert_eq!(
        sort_keys,
        [
            serde_json::json!([{"prefix": "EVT#"}]),
            serde_json::json!([{"prefix": "OUT"}])
        ],
        "only inserts of events (which carry a change's entries) and of outbox items"
    );
    let alarm = resource(&t, "PublisherFailuresAlarm");
    assert_eq!(
        s(&alarm["MetricName"]),
        "ApproximateNumberOfMessagesVisible"
    );
    assert!(t["Resources"]["PublisherIteratorAgeAlarm"].is_mapping());
}
