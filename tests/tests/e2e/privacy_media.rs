//! The personal data of photos and follows, over HTTP on both backends
//! (SQLite with the local media directory; DynamoDB and S3 on moto):
//! `GET /v1/me/data` lists the caller's uploads (never a link) and the
//! cases they follow; `DELETE /v1/me/data` deletes the reporter's uploaded
//! files of the cases it erases (officials' evidence stays), every follow
//! of theirs and their unattached uploads at once, and leaves the uploads
//! of a case still open to the sweep that erases it after it closes. And a
//! failure half way through an erasure is completed by the retry.

use axum::body::Body;
use axum::http::{Method, Request};
use chrono::{DateTime, Duration, Utc};
use pakn_core::ports::{Blobs, ManualClock, StoreResult, UploadSlot};
use pakn_core::refdata::RefData;
use pakn_tests::http_app::{Answer, Api, Bodies, HOAN_KIEM, at, citizen, official, report};
use pakn_tests::moto;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

const JPEG: &[u8] = include_bytes!("../../fixtures/media/street-gps.jpg");
const PNG: &[u8] = include_bytes!("../../fixtures/media/flood-gps.png");

fn t0() -> DateTime<Utc> {
    // Monday 4 August 2025, 09:00 in Hanoi.
    at("2025-08-04T02:00:00Z")
}

/// Where a backend keeps the files, to see what is left.
enum Files {
    Local(PathBuf),
    S3(aws_sdk_s3::Client, String),
}

impl Files {
    async fn exists(&self, key: &str) -> bool {
        match self {
            Files::Local(dir) => dir.join(key).exists(),
            Files::S3(s3, bucket) => s3
                .head_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .is_ok(),
        }
    }

    /// Any of the upload's files (raw, checked copy, thumbnail).
    async fn any_of(&self, id: &str) -> bool {
        for k in ["raw", "media", "thumb"] {
            if self.exists(&format!("{k}/{id}")).await {
                return true;
            }
        }
        false
    }
}

/// A slot for `bytes` of `ct`, the bytes put (through the local server or
/// straight into the bucket), and the check run: the upload id.
async fn uploaded(api: &Api, token: &str, ct: &str, bytes: &[u8]) -> String {
    let s = slot(api, token, ct, bytes.len()).await;
    let url = s["url"].as_str().expect("a slot url");
    if url.starts_with('/') {
        let a = api
            .send(
                Request::builder()
                    .method(Method::PUT)
                    .uri(url)
                    .header("content-type", ct)
                    .body(Body::from(bytes.to_vec()))
                    .expect("request"),
            )
            .await;
        a.expect(204);
    } else {
        let mut put = reqwest::Client::new().put(url).body(bytes.to_vec());
        for (k, v) in s["headers"].as_object().unwrap() {
            put = put.header(k.as_str(), v.as_str().unwrap());
        }
        assert!(put.send().await.expect("put").status().is_success());
    }
    let id = s["upload"].as_str().unwrap().to_string();
    api.check_upload(&id).await;
    id
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

async fn erase_me(api: &Api, token: &str) -> Answer {
    api.call(Method::DELETE, "/v1/me/data", Some(token), &[], None)
        .await
}

async fn code_of(api: &Api, token: &str, id: &str) -> String {
    api.get(&format!("/v1/cases/{id}"), Some(token))
        .await
        .expect(200)
        .body["tracking_code"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Accept, resolve with an official's evidence photo, and (as `reporter`)
/// rate case `id`: closed. The evidence upload's id.
async fn close_with_evidence(api: &Api, reporter: &str, id: &str) -> String {
    let off = official("can-bo-1", HOAN_KIEM);
    let e = uploaded(api, &off, "image/png", PNG).await;
    api.act_on_latest(&off, id, "accept", None)
        .await
        .expect(200);
    let answer = json!({"answer": "Đã khơi thông cống.", "evidence": [{"upload": e}]});
    api.act_on_latest(&off, id, "resolve", Some(&answer))
        .await
        .expect(200);
    let v = api
        .act_on_latest(reporter, id, "rate", Some(&json!({"score": 5})))
        .await
        .expect(200);
    assert_eq!(v.body["status"], "closed");
    e
}

async fn personal_media(api: Api, files: Files) {
    let me = citizen("cong-dan-anh");
    let other = citizen("cong-dan-khac");

    // A report with my photo; a photo never attached; a slot never used.
    let p1 = uploaded(&api, &me, "image/jpeg", JPEG).await;
    let mut r = report("Cống tắc phố Hàng Bài");
    r["media"] = json!([{"upload": p1}]);
    let closed = api.routed_case(&me, &r).await;
    let closed_code = code_of(&api, &me, &closed).await;
    api.clock.advance(Duration::seconds(1));
    let p3 = uploaded(&api, &me, "image/png", PNG).await;
    api.clock.advance(Duration::seconds(1));
    let p5 = slot(&api, &me, "image/jpeg", 1000).await["upload"]
        .as_str()
        .unwrap()
        .to_string();
    // I follow someone else's case.
    let theirs = api.routed_case(&other, &report("Đèn hỏng")).await;
    let their_code = code_of(&api, &other, &theirs).await;
    api.post(&format!("/v1/track/{their_code}/follow"), &me, None)
        .await
        .expect(201);

    let mine = api.get("/v1/me/data", Some(&me)).await.expect(200).body;
    let ups = mine["uploads"].as_array().expect("uploads");
    let ids: Vec<&str> = ups.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [p1.as_str(), p3.as_str(), p5.as_str()], "{mine:#}");
    assert_eq!(
        ups[0]["case"],
        json!({"id": closed, "tracking_code": closed_code})
    );
    assert_eq!(ups[0]["status"], "ready");
    assert_eq!(ups[0]["content_type"], "image/jpeg");
    assert_eq!(ups[0]["bytes"], JPEG.len());
    assert!(ups[0]["created_at"].is_string());
    assert_eq!(ups[1]["case"], Value::Null);
    assert_eq!(ups[2]["status"], "pending");
    let text = serde_json::to_string(&mine["uploads"]).unwrap();
    assert!(
        !text.contains("url") && !text.contains("/v1/media") && !text.contains("http"),
        "never a link: {text}"
    );
    let follows = mine["following"].as_array().expect("following");
    assert_eq!(follows.len(), 1, "{mine:#}");
    assert_eq!(follows[0]["tracking_code"], json!(their_code));
    assert_eq!(follows[0]["reason"], "asked");
    assert!(follows[0]["since"].is_string());
    assert!(follows[0].get("sub").is_none());
    // Another citizen sees none of it.
    let theirs_data = api.get("/v1/me/data", Some(&other)).await.expect(200).body;
    assert_eq!(theirs_data["uploads"], json!([]));
    assert_eq!(theirs_data["following"], json!([]));

    // My report is closed with an official's evidence photo; another of
    // mine, with a photo, is still open.
    let evidence = close_with_evidence(&api, &me, &closed).await;
    let p4 = uploaded(&api, &me, "image/jpeg", JPEG).await;
    let mut r = report("Ngập phố Hàng Bài");
    r["media"] = json!([{"upload": p4}]);
    let open = api.routed_case(&me, &r).await;
    for id in [&p1, &p3, &p4, &evidence] {
        assert!(files.exists(&format!("media/{id}")).await, "{id} stored");
    }

    let done = erase_me(&api, &me).await.expect(200).body;
    assert_eq!(done["erased"][0]["id"], json!(closed), "{done:#}");
    assert_eq!(done["pending"][0]["id"], json!(open));
    assert_eq!(done["follows_removed"], 1);
    assert_eq!(
        done["uploads_deleted"], 2,
        "the photo never attached, the unused slot"
    );
    // My photo of the erased case, and my unattached ones: records and files gone.
    for id in [&p1, &p3, &p5] {
        api.get(&format!("/v1/uploads/{id}"), Some(&me))
            .await
            .expect(404);
        assert!(api.pakn.uploads.get_upload(id).await.unwrap().is_none());
        assert!(!files.any_of(id).await, "{id}: no file left");
    }
    // The official's evidence is an official record: it stays, and is still public.
    assert!(files.exists(&format!("media/{evidence}")).await);
    assert!(
        api.pakn
            .uploads
            .get_upload(&evidence)
            .await
            .unwrap()
            .is_some()
    );
    let public = api
        .get(&format!("/v1/track/{closed_code}"), None)
        .await
        .expect(200)
        .body;
    assert_eq!(
        public["evidence"][0]["upload"],
        json!(evidence),
        "{public:#}"
    );
    // The open case keeps my photo until it is erased.
    assert!(files.exists(&format!("media/{p4}")).await);
    // No follow of mine is left anywhere.
    api.get("/v1/me/following", Some(&me))
        .await
        .expect(200)
        .items()
        .is_empty()
        .then_some(())
        .expect("no follows");
    let their_id = pakn_core::ids::CaseId::parse(&theirs).unwrap();
    assert!(
        api.pakn
            .followers
            .followers(&their_id)
            .await
            .unwrap()
            .is_empty()
    );
    let after = api.get("/v1/me/data", Some(&me)).await.expect(200).body;
    assert_eq!(after["following"], json!([]));
    assert_eq!(
        after["uploads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| (u["id"].clone(), u["case"]["id"].clone()))
            .collect::<Vec<_>>(),
        vec![(json!(p4), json!(open))]
    );

    // Asking again changes nothing.
    let again = erase_me(&api, &me).await.expect(200).body;
    assert_eq!(again["erased"], json!([]));
    assert_eq!(again["follows_removed"], 0);
    assert_eq!(again["uploads_deleted"], 0);
    assert!(files.exists(&format!("media/{p4}")).await);

    // The open case closes; the sweep erases it, and my photo with it.
    close_with_evidence(&api, &me, &open).await;
    api.clock.advance(Duration::minutes(1));
    let swept = api.pakn.sweep().run(100).await.unwrap();
    assert_eq!(swept.retention.erased, 1, "{swept:?}");
    assert!(!files.any_of(&p4).await);
    assert!(api.pakn.uploads.get_upload(&p4).await.unwrap().is_none());
    let last = api.get("/v1/me/data", Some(&me)).await.expect(200).body;
    assert_eq!(last["uploads"], json!([]));
    assert_eq!(last["cases"], json!([]));
}

#[tokio::test]
async fn my_photos_and_follows_are_listed_and_erased_on_sqlite() {
    let api = Api::with_media("privacy-media", t0());
    let files = Files::Local(api.media_dir());
    personal_media(api, files).await;
}

#[tokio::test]
async fn my_photos_and_follows_are_listed_and_erased_on_dynamodb_and_s3() {
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
    let pakn = pakn_aws::pakn_with(
        &sdk,
        &pakn_aws::AwsResources {
            table_name: p.table.clone(),
            intake_queue_url: p.queue_url.clone(),
            topic_arn: p.topic_arn.clone(),
            publish_from_stream: false,
        },
        Arc::new(RefData::embedded()),
        Arc::new(clock.clone()),
    );
    let pakn = pakn_aws::with_media(pakn, &sdk, &bucket);
    let api = Api::over(pakn, clock, Bodies::JsonWhenTyped);
    personal_media(api, Files::S3(s3, bucket)).await;
}

/// Storage whose next `delete` fails once armed (a crash half way through
/// an erasure, as far as the caller can tell).
struct FailingDelete {
    inner: Arc<dyn Blobs>,
    armed: AtomicBool,
}

#[async_trait::async_trait]
impl Blobs for FailingDelete {
    async fn slot(&self, u: &pakn_core::media::Upload) -> StoreResult<UploadSlot> {
        self.inner.slot(u).await
    }
    async fn read_raw(&self, id: &str) -> StoreResult<Option<Vec<u8>>> {
        self.inner.read_raw(id).await
    }
    async fn put_processed(
        &self,
        id: &str,
        ct: &str,
        bytes: Vec<u8>,
        thumb: Option<Vec<u8>>,
    ) -> StoreResult<()> {
        self.inner.put_processed(id, ct, bytes, thumb).await
    }
    async fn link(&self, id: &str, thumbnail: bool, until: DateTime<Utc>) -> StoreResult<String> {
        self.inner.link(id, thumbnail, until).await
    }
    async fn drop_raw(&self, id: &str) -> StoreResult<()> {
        self.inner.drop_raw(id).await
    }
    async fn delete(&self, id: &str) -> StoreResult<()> {
        if self.armed.swap(false, Ordering::SeqCst) {
            return Err(pakn_core::ports::StoreError::msg(
                "injected: storage unreachable",
            ));
        }
        self.inner.delete(id).await
    }
    async fn receive(
        &self,
        put: pakn_core::ports::SignedPut,
        now: DateTime<Utc>,
    ) -> pakn_core::error::Result<()> {
        self.inner.receive(put, now).await
    }
    async fn serve(
        &self,
        get: pakn_core::ports::SignedGet,
        now: DateTime<Utc>,
    ) -> pakn_core::error::Result<(Vec<u8>, String)> {
        self.inner.serve(get, now).await
    }
}

#[tokio::test]
async fn an_erasure_that_fails_half_way_is_completed_by_its_retry() {
    let base = Api::with_media("privacy-media-retry", t0());
    let dir = base.media_dir();
    let flaky = Arc::new(FailingDelete {
        inner: base.pakn.blobs.clone(),
        armed: AtomicBool::new(false),
    });
    let api = Api::over(
        base.pakn.clone().with_blobs(flaky.clone()),
        base.clock.clone(),
        Bodies::JsonWhenTyped,
    );
    let files = Files::Local(dir);
    let me = citizen("cong-dan-thu-lai");
    let a = uploaded(&api, &me, "image/jpeg", JPEG).await;
    let b = uploaded(&api, &me, "image/png", PNG).await;
    let mut r = report("Cống tắc");
    r["media"] = json!([{"upload": a}, {"upload": b}]);
    let case = api.routed_case(&me, &r).await;
    let loose = uploaded(&api, &me, "image/png", PNG).await;
    close_with_evidence(&api, &me, &case).await;

    // The first file's deletion fails: the request fails, the case is not
    // erased yet (it is committed only once its files are gone).
    flaky.armed.store(true, Ordering::SeqCst);
    let failed = erase_me(&api, &me).await;
    assert!(failed.status.is_server_error(), "{}", failed.status);
    let still = api.get("/v1/me/data", Some(&me)).await.expect(200).body;
    assert_eq!(still["cases"][0]["case"]["id"], json!(case));

    // The retry completes it all.
    let done = erase_me(&api, &me).await.expect(200).body;
    assert_eq!(done["erased"][0]["id"], json!(case));
    assert_eq!(done["uploads_deleted"], 1);
    for id in [&a, &b, &loose] {
        assert!(!files.any_of(id).await, "{id}");
        assert!(api.pakn.uploads.get_upload(id).await.unwrap().is_none());
    }
}
