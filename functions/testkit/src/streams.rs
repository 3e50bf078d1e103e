//! A table's DynamoDB Stream on a local emulator (moto keeps the stream but
//! invokes no consumer): the tests and `pakn bench lifecycle-units` read it
//! and hand the records to `pakn-publisher`'s handler. Loopback only: the
//! endpoint is the emulator's.

use serde_json::{Value, json};

/// One call of the emulator's DynamoDB Streams API (JSON 1.0; moto checks
/// no signature, but takes the region from the credential scope).
async fn call(endpoint: &str, region: &str, target: &str, body: Value) -> Result<Value, String> {
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/dynamodb/aws4_request, \
         SignedHeaders=host, Signature=0"
    );
    let r = reqwest::Client::new()
        .post(format!("{endpoint}/"))
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", format!("DynamoDBStreams_20120810.{target}"))
        .header("authorization", auth)
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| format!("{target} on {endpoint}: {e}"))?;
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(format!("{target} on {endpoint}: {status} {text}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("{target} answered {text}: {e}"))
}

/// Every record of the table's stream so far, oldest first, as Lambda's
/// DynamoDB event carries them (`eventName`, `dynamodb.NewImage`,
/// `dynamodb.SequenceNumber`).
pub async fn records(
    sdk: &aws_config::SdkConfig,
    endpoint: &str,
    region: &str,
    table: &str,
) -> Result<Vec<Value>, String> {
    let d = aws_sdk_dynamodb::Client::new(sdk)
        .describe_table()
        .table_name(table)
        .send()
        .await
        .map_err(|e| format!("describe {table}: {e}"))?;
    let arn = d
        .table()
        .and_then(|t| t.latest_stream_arn())
        .ok_or(format!("{table} has no stream (pakn provision enables it)"))?
        .to_string();
    let desc = call(
        endpoint,
        region,
        "DescribeStream",
        json!({"StreamArn": arn}),
    )
    .await?;
    let mut out = Vec::new();
    let shards = desc["StreamDescription"]["Shards"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for shard in shards {
        let body = json!({"StreamArn": arn, "ShardId": shard["ShardId"],
                          "ShardIteratorType": "TRIM_HORIZON"});
        let mut iterator =
            call(endpoint, region, "GetShardIterator", body).await?["ShardIterator"].clone();
        // Pages until an empty one (moto answers the rest at once).
        for _ in 0..1000 {
            if iterator.is_null() {
                break;
            }
            let body = json!({"ShardIterator": iterator});
            let page = call(endpoint, region, "GetRecords", body).await?;
            let records = page["Records"].as_array().cloned().unwrap_or_default();
            if records.is_empty() {
                break;
            }
            out.extend(records);
            iterator = page["NextShardIterator"].clone();
        }
    }
    Ok(out)
}
