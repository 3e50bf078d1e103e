//! Photos as evidence on the embedded backend, over HTTP: a slot, the
//! signed PUT of the bytes (never through a JSON body), the check off the
//! request path (real JPEG and PNG files carrying GPS metadata, and a file
//! whose bytes lie about its type), short-lived links to the cleaned copy,
//! uploads named on a report and a resolution, and who sees what.

use axum::body::Body;
use axum::http::{Method, Request};
use chrono::{DateTime, Duration, Utc};
use pakn_tests::http_app::{Answer, Api, HOAN_KIEM, at, citizen, official, report};
use serde_json::{Value, json};

const JPEG: &[u8] = include_bytes!("../../fixtures/media/street-gps.jpg");
const PNG: &[u8] = include_bytes!("../../fixtures/media/flood-gps.png");

fn t0() -> DateTime<Utc> {
    at("2025-07-01T02:00:00Z")
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

async fn put(api: &Api, slot: &Value, body: &[u8], content_type: &str) -> Answer {
    let url = slot["url"].as_str().expect("a slot url");
    api.send(
        Request::builder()
            .method(Method::PUT)
            .uri(url)
            .header("content-type", content_type)
            .body(Body::from(body.to_vec()))
            .expect("request"),
    )
    .await
}

async fn slot(api: &Api, token: &str, ct: &str, bytes: usize) -> Value {
    api.post(
        "/v1/uploads",
        token,
        Some(&json!({"content_type": ct, "bytes": bytes})),
    )
    .await
    .expect(201)
    .body
}

#[tokio::test]
async fn a_photo_is_put_checked_stripped_and_served_to_those_who_may_see_it() {
    let api = Api::with_media("uploads", t0());
    let c1 = citizen("c1");

    let s = slot(&api, &c1, "image/jpeg", JPEG.len()).await;
    assert_eq!(s["method"], "PUT");
    assert_eq!(s["headers"]["content-type"], "image/jpeg");
    assert_eq!(s["headers"]["content-length"], JPEG.len().to_string());
    let id = s["upload"].as_str().expect("an upload id").to_string();

    // The slot signs the exact type and length; a forged signature fails too.
    put(&api, &s, &JPEG[..100], "image/jpeg").await.expect(403);
    put(&api, &s, JPEG, "image/png").await.expect(403);
    let forged = json!({"url": s["url"].as_str().unwrap().replace("sig=", "sig=00")});
    put(&api, &forged, JPEG, "image/jpeg").await.expect(403);
    put(&api, &s, JPEG, "image/jpeg").await.expect(204);

    let state = api
        .get(&format!("/v1/uploads/{id}"), Some(&c1))
        .await
        .expect(200);
    assert_eq!(state.body["status"], "pending");
    assert!(
        state.body.get("url").is_none(),
        "nothing served before the check"
    );
    api.get(&format!("/v1/uploads/{id}"), Some(&citizen("c2")))
        .await
        .expect(404);

    api.check_upload(&id).await;
    let ready = api
        .get(&format!("/v1/uploads/{id}"), Some(&c1))
        .await
        .expect(200)
        .body;
    assert_eq!(ready["status"], "ready");
    let served = api
        .get(ready["url"].as_str().unwrap(), None)
        .await
        .expect(200);
    assert_eq!(served.headers["content-type"], "image/jpeg");
    assert!(!contains(&served.bytes, b"Exif") && !contains(&served.bytes, b"PaknTestCam"));
    assert!(served.bytes.starts_with(&[0xFF, 0xD8]));
    let thumb = api
        .get(ready["thumbnail_url"].as_str().unwrap(), None)
        .await
        .expect(200);
    assert!(thumb.bytes.len() < served.bytes.len());
    // A link is signed: another variant or an edited expiry is refused.
    let url = ready["url"].as_str().unwrap();
    api.get(&url.replace("v=full", "v=thumb"), None)
        .await
        .expect(403);
    api.clock.advance(Duration::hours(1));
    api.get(url, None).await.expect(403);

    // The report names it; the ward's official sees it (stripped), the public does not.
    let mut r = report("Ngập nước");
    r["media"] = json!([{"upload": id}, "https://example.org/khac.jpg"]);
    let case = api.routed_case(&c1, &r).await;
    let off = official("o1", HOAN_KIEM);
    let seen = api
        .get(&format!("/v1/cases/{case}"), Some(&off))
        .await
        .expect(200)
        .body;
    assert_eq!(seen["media_links"][0]["upload"], id.as_str());
    assert_eq!(seen["media_links"][0]["status"], "ready");
    let link = seen["media_links"][0]["url"]
        .as_str()
        .expect("a fresh link");
    let bytes = api.get(link, None).await.expect(200).bytes;
    assert!(!contains(&bytes, b"Exif"));
    let code = seen["tracking_code"].as_str().unwrap().to_string();
    let public = api
        .get(&format!("/v1/track/{code}"), None)
        .await
        .expect(200)
        .body;
    assert_eq!(
        public["media"],
        json!([]),
        "the reporter's photo stays private"
    );

    // The official resolves with an evidence photo of their own: public once checked.
    let e = slot(&api, &off, "image/png", PNG.len()).await;
    put(&api, &e, PNG, "image/png").await.expect(204);
    let eid = e["upload"].as_str().unwrap().to_string();
    api.check_upload(&eid).await;
    api.act_on_latest(&off, &case, "accept", None)
        .await
        .expect(200);
    // Someone else's upload cannot be named.
    api.act_on_latest(
        &off,
        &case,
        "resolve",
        Some(&json!({"answer": "Đã khơi thông cống.", "evidence": [{"upload": id}]})),
    )
    .await
    .expect(422);
    let done = api
        .act_on_latest(
            &off,
            &case,
            "resolve",
            Some(&json!({"answer": "Đã khơi thông cống.", "evidence": [{"upload": eid}]})),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(done["evidence_links"][0]["status"], "ready");
    let public = api
        .get(&format!("/v1/track/{code}"), None)
        .await
        .expect(200)
        .body;
    let ev = public["evidence"][0]["url"]
        .as_str()
        .expect("public evidence");
    let png = api.get(ev, None).await.expect(200);
    assert_eq!(png.headers["content-type"], "image/png");
    assert!(!contains(&png.bytes, b"eXIf") && !contains(&png.bytes, b"21.0285"));
}

#[tokio::test]
async fn a_file_that_lies_about_its_type_is_rejected_and_cannot_be_attached() {
    let api = Api::with_media("uploads-lie", t0());
    let c1 = citizen("c1");
    let s = slot(&api, &c1, "image/jpeg", PNG.len()).await;
    put(&api, &s, PNG, "image/jpeg").await.expect(204);
    let id = s["upload"].as_str().unwrap().to_string();
    api.check_upload(&id).await;
    let st = api
        .get(&format!("/v1/uploads/{id}"), Some(&c1))
        .await
        .expect(200)
        .body;
    assert_eq!(
        (st["status"].as_str(), st["reason"].as_str()),
        (Some("rejected"), Some("type_mismatch"))
    );
    assert!(st.get("url").is_none(), "never served");
    let mut r = report("Ảnh giả");
    r["media"] = json!([{"upload": id}]);
    let e = api.submit(&c1, &r).await.expect(422).body;
    assert_eq!(e["error"]["code"], "upload_rejected");
    assert!(
        e["error"]["message_vi"]
            .as_str()
            .is_some_and(|m| m.contains("type_mismatch"))
    );

    // Other citizens' uploads and made-up ids are unknown.
    let mut r = report("Ảnh người khác");
    r["media"] = json!([{"upload": "01JF0000000000000000000000"}]);
    assert_eq!(
        api.submit(&c1, &r).await.expect(422).body["error"]["code"],
        "unknown_upload"
    );
}

#[tokio::test]
async fn slots_follow_the_policy_on_type_size_and_count() {
    let api = Api::with_media("uploads-policy", t0());
    let c1 = citizen("c1");
    let bad = |ct: &str, n: u64| json!({"content_type": ct, "bytes": n});
    let e = api
        .post("/v1/uploads", &c1, Some(&bad("image/gif", 10)))
        .await
        .expect(422)
        .body;
    assert_eq!(e["error"]["code"], "unsupported_file_type");
    let e = api
        .post(
            "/v1/uploads",
            &c1,
            Some(&bad("image/jpeg", 10 * 1024 * 1024 + 1)),
        )
        .await
        .expect(422)
        .body;
    assert_eq!(e["error"]["code"], "out_of_range");
    api.post(
        "/v1/uploads",
        &c1,
        Some(&bad("video/mp4", 50 * 1024 * 1024)),
    )
    .await
    .expect(201);
    api.post(
        "/v1/uploads",
        &c1,
        Some(&json!({"content_type": "image/png"})),
    )
    .await
    .expect(422);
    // Six photos on one report: one too many.
    let mut ids = Vec::new();
    for _ in 0..6 {
        let s = slot(&api, &c1, "image/png", PNG.len()).await;
        ids.push(json!({"upload": s["upload"]}));
    }
    let mut r = report("Sáu ảnh");
    r["media"] = json!(ids);
    assert_eq!(
        api.submit(&c1, &r).await.expect(422).body["error"]["code"],
        "too_many_media"
    );
    // Inspectors do not upload.
    let insp = pakn_tests::http_app::inspector();
    api.post("/v1/uploads", &insp, Some(&bad("image/png", 10)))
        .await
        .expect(403);
}

// ------------------------------------------------------------------- AWS

pub(crate) mod on_aws {
    use super::*;
    use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
    use pakn_aws::AwsResources;
    use pakn_core::ports::ManualClock;
    use pakn_core::refdata::RefData;
    use pakn_tests::http_app::Bodies;
    use pakn_tests::moto;
    use std::sync::Arc;

    /// What S3 sends the media queue when `raw/<id>` is created.
    pub(crate) fn s3_event(bucket: &str, id: &str) -> SqsEvent {
        let mut r = SqsMessage::default();
        r.message_id = Some(format!("m-{id}"));
        r.body = Some(
            json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": {"key": format!("raw/{id}"), "size": 1}}}]})
            .to_string(),
        );
        let mut ev = SqsEvent::default();
        ev.records = vec![r];
        ev
    }

    /// pakn on the emulator's table, queue and topic, on `clock` (no media bucket).
    fn aws_pakn(
        sdk: &aws_config::SdkConfig,
        p: &pakn_aws::provision::Provisioned,
        clock: &ManualClock,
    ) -> pakn_core::Pakn {
        pakn_aws::pakn_with(
            sdk,
            &AwsResources {
                table_name: p.table.clone(),
                intake_queue_url: p.queue_url.clone(),
                topic_arn: p.topic_arn.clone(),
                publish_from_stream: false,
            },
            Arc::new(RefData::embedded()),
            Arc::new(clock.clone()),
        )
    }

    fn query(url: &str) -> std::collections::BTreeMap<String, String> {
        url.split_once('?')
            .map(|(_, q)| q)
            .unwrap_or_default()
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[tokio::test]
    async fn presigned_put_then_the_routers_check_then_presigned_links_on_the_emulator() {
        let (sdk, p) = moto::provisioned(&moto::names()).await;
        let bucket = moto::unique("pakn-media").to_lowercase();
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(true)
                .build(),
        );
        let region = sdk.region().map(|r| r.to_string()).unwrap_or_default();
        s3.create_bucket()
            .bucket(&bucket)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                        region.as_str(),
                    ))
                    .build(),
            )
            .send()
            .await
            .expect("bucket");
        let clock = ManualClock::new(t0());
        let pakn = aws_pakn(&sdk, &p, &clock);
        let pakn = pakn_aws::with_media(pakn, &sdk, &bucket);
        let api = Api::over(pakn.clone(), clock, Bodies::JsonWhenTyped);
        let c1 = citizen("c1");

        let s = slot(&api, &c1, "image/jpeg", JPEG.len()).await;
        let id = s["upload"].as_str().unwrap().to_string();
        let url = s["url"].as_str().unwrap();
        // The emulator checks no signature: what is signed is read off the URL.
        assert!(url.starts_with(moto::endpoint()), "{url}");
        assert!(url.contains(&format!("/{bucket}/raw/{id}?")), "{url}");
        let q = query(url);
        let signed = q["X-Amz-SignedHeaders"].replace("%3B", ";");
        for h in ["content-length", "content-type", "host"] {
            assert!(signed.split(';').any(|x| x == h), "{h} is signed: {signed}");
        }
        assert_eq!(q["X-Amz-Expires"], "600", "the policy's 10 minutes");
        assert_eq!(q["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
        assert_eq!(s["headers"]["content-type"], "image/jpeg");

        // The client puts the bytes straight into the bucket.
        let mut put = reqwest::Client::new().put(url).body(JPEG.to_vec());
        for (k, v) in s["headers"].as_object().unwrap() {
            put = put.header(k.as_str(), v.as_str().unwrap());
        }
        assert!(put.send().await.expect("put").status().is_success());
        let before = api
            .get(&format!("/v1/uploads/{id}"), Some(&c1))
            .await
            .expect(200)
            .body;
        assert_eq!(before["status"], "pending");

        // The object-created event reaches the router, which checks the file.
        let resp = pakn_router::handle_batch(&pakn, s3_event(&bucket, &id)).await;
        assert!(resp.batch_item_failures.is_empty());
        // A duplicate delivery changes nothing.
        let resp = pakn_router::handle_batch(&pakn, s3_event(&bucket, &id)).await;
        assert!(resp.batch_item_failures.is_empty());
        let ready = api
            .get(&format!("/v1/uploads/{id}"), Some(&c1))
            .await
            .expect(200)
            .body;
        assert_eq!(ready["status"], "ready");
        let link = ready["url"].as_str().expect("a presigned GET");
        assert!(
            link.contains(&format!("/{bucket}/media/{id}?")) && link.contains("X-Amz-Signature=")
        );
        let got = reqwest::get(link)
            .await
            .expect("get")
            .bytes()
            .await
            .unwrap();
        assert!(
            got.starts_with(&[0xFF, 0xD8])
                && !contains(&got, b"Exif")
                && !contains(&got, b"PaknTestCam")
        );
        let thumb = reqwest::get(ready["thumbnail_url"].as_str().unwrap())
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert!(thumb.starts_with(&[0xFF, 0xD8]) && thumb.len() < got.len());
        // The raw file is gone once the check is recorded.
        let raw = s3
            .get_object()
            .bucket(&bucket)
            .key(format!("raw/{id}"))
            .send()
            .await;
        assert!(raw.is_err(), "raw/ dropped");

        // Named on a report: its official sees it through a fresh link.
        let mut r = report("Ngập nước");
        r["media"] = json!([{"upload": id}]);
        api.submit(&c1, &r).await.expect(202);

        // A file whose bytes lie is rejected by the same path.
        let lie = slot(&api, &c1, "image/jpeg", PNG.len()).await;
        let lid = lie["upload"].as_str().unwrap().to_string();
        let mut put = reqwest::Client::new()
            .put(lie["url"].as_str().unwrap())
            .body(PNG.to_vec());
        for (k, v) in lie["headers"].as_object().unwrap() {
            put = put.header(k.as_str(), v.as_str().unwrap());
        }
        assert!(put.send().await.unwrap().status().is_success());
        pakn_router::handle_batch(&pakn, s3_event(&bucket, &lid)).await;
        let st = api
            .get(&format!("/v1/uploads/{lid}"), Some(&c1))
            .await
            .expect(200)
            .body;
        assert_eq!(
            (st["status"].as_str(), st["reason"].as_str()),
            (Some("rejected"), Some("type_mismatch"))
        );
    }

    #[tokio::test]
    async fn without_a_media_bucket_uploads_say_they_are_not_configured() {
        let (sdk, p) = moto::provisioned(&moto::names()).await;
        let clock = ManualClock::new(t0());
        let pakn = aws_pakn(&sdk, &p, &clock);
        let api = Api::over(pakn, clock, Bodies::JsonWhenTyped);
        let e = api
            .post(
                "/v1/uploads",
                &citizen("c1"),
                Some(&json!({"content_type": "image/jpeg", "bytes": 10})),
            )
            .await
            .expect(404)
            .body;
        assert_eq!(e["error"]["code"], "uploads_not_configured");
        assert!(
            e["error"]["message_vi"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
}
