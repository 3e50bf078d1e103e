//! Issue 12's "done means", end to end over HTTP on both backends: a
//! citizen reports a flooded street from a map point with two photos,
//! without knowing the ward's code; the ward's official sees the photos
//! (without their GPS tags), marks a second report of the same street as a
//! duplicate, resolves with an evidence photo, and both citizens get an SMS
//! in Vietnamese.
//!
//! Locally the photos go to the server's signed URLs and its check; on the
//! emulator to presigned S3 URLs and the router's check of the bucket's
//! event. The SMS are read where they leave pakn (the citizen webhook; the
//! SNS requests on the wire), as in `notices_http`.

use crate::notices_http::{Sink, Wire, six_digits};
use crate::uploads::on_aws::s3_event;
use axum::body::Body;
use axum::http::{Method, Request};
use chrono::{DateTime, TimeZone, Utc};
use pakn_core::ports::ManualClock;
use pakn_core::refdata::RefData;
use pakn_core::wards::{WardMap, parse_geojson};
use pakn_testkit::wards::{INSIDE_70, geojson};
use pakn_tests::counting::Counting;
use pakn_tests::http_app::{Api, Bodies, citizen, official};
use pakn_tests::moto;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

const JPEG: &[u8] = include_bytes!("../../fixtures/media/street-gps.jpg");
const PNG: &[u8] = include_bytes!("../../fixtures/media/flood-gps.png");

/// Monday 4 August 2025, 09:00 in Hanoi.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 8, 4, 2, 0, 0).unwrap()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

struct Story {
    api: Api,
    wire: Wire,
    /// The media bucket on the emulator (`None`: the local server keeps them).
    bucket: Option<String>,
}

impl Story {
    async fn sqlite() -> Story {
        let (sink, url) = Sink::start().await;
        let api = Api::with_media("flood-story", t0()).map_pakn(|p| {
            p.with_messenger(Arc::new(
                pakn_local::LocalMessenger::new(Some(&url)).unwrap(),
            ))
        });
        Story {
            api,
            wire: Wire::Local(sink),
            bucket: None,
        }
    }

    async fn dynamodb() -> Story {
        let (direct, p) = moto::provisioned(&moto::names()).await;
        let bucket = moto::unique("pakn-flood").to_lowercase();
        let region = direct.region().map(|r| r.to_string()).unwrap_or_default();
        aws_sdk_s3::Client::new(&direct)
            .create_bucket()
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
        let proxy = Counting::start(moto::endpoint()).await;
        let sdk = pakn_aws::emulator_sdk_config(&proxy.endpoint, moto::REGION).await;
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
        // Presigned URLs name the emulator itself, not the proxy.
        let pakn = pakn_aws::with_media(pakn, &direct, &bucket);
        Story {
            api: Api::over(pakn, clock, Bodies::JsonWhenTyped),
            wire: Wire::Sns(proxy, AtomicUsize::new(0)),
            bucket: Some(bucket),
        }
    }

    /// The city loads its ward boundaries (synthetic polygons here).
    async fn load_wards(&self) {
        let p = parse_geojson(&geojson(), &RefData::embedded()).expect("valid");
        let map = WardMap::new(p.wards, p.missing, t0());
        self.api.pakn.ward_maps.put_ward_map(&map).await.unwrap();
    }

    /// A citizen who chose SMS and verified their phone; their token.
    async fn sms_citizen(&self, sub: &str, phone: &str) -> String {
        let token = citizen(sub);
        self.api
            .put(
                "/v1/me/notifications",
                &token,
                &json!({"channel": "sms", "phone": phone}),
            )
            .await
            .expect(200);
        let code = six_digits(&self.wire.take()[0].text);
        self.api
            .post(
                "/v1/me/notifications/verify",
                &token,
                Some(&json!({"code": code})),
            )
            .await
            .expect(200);
        token
    }

    /// Upload a file as `token` and have it checked; the upload id.
    async fn photo(&self, token: &str, bytes: &[u8], ct: &str) -> String {
        let slot = self
            .api
            .post(
                "/v1/uploads",
                token,
                Some(&json!({"content_type": ct, "bytes": bytes.len()})),
            )
            .await
            .expect(201)
            .body;
        let id = slot["upload"].as_str().unwrap().to_string();
        let url = slot["url"].as_str().unwrap();
        match &self.bucket {
            None => {
                let req = Request::builder()
                    .method(Method::PUT)
                    .uri(url)
                    .header("content-type", ct)
                    .body(Body::from(bytes.to_vec()))
                    .unwrap();
                self.api.send(req).await.expect(204);
                self.api.check_upload(&id).await;
            }
            Some(bucket) => {
                let mut put = reqwest::Client::new().put(url).body(bytes.to_vec());
                for (k, v) in slot["headers"].as_object().unwrap() {
                    put = put.header(k.as_str(), v.as_str().unwrap());
                }
                assert!(put.send().await.unwrap().status().is_success());
                let r = pakn_router::handle_batch(&self.api.pakn, s3_event(bucket, &id)).await;
                assert!(r.batch_item_failures.is_empty());
            }
        }
        id
    }

    /// The bytes behind a media link.
    async fn fetch(&self, url: &str) -> Vec<u8> {
        match &self.bucket {
            None => self.api.get(url, None).await.expect(200).bytes,
            Some(_) => reqwest::get(url)
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
                .to_vec(),
        }
    }

    async fn routed(&self, token: &str, body: &Value) -> (String, Value) {
        let id = self.api.routed_case(token, body).await;
        let case = self
            .api
            .get(&format!("/v1/cases/{id}"), Some(token))
            .await
            .expect(200)
            .body;
        (id, case)
    }
}

/// A report of the flood at the map point, with no ward code.
fn flood(title: &str, media: Value) -> Value {
    let (lat, lng) = INSIDE_70;
    json!({
        "category": "drainage",
        "title": title,
        "description": "Nước ngập quá đầu gối, xe máy chết máy giữa đường.",
        "location": {"lat": lat, "lng": lng},
        "media": media,
    })
}

async fn a_flooded_street_from_a_map_point(s: Story) {
    s.load_wards().await;
    let a = s.sms_citizen("cong-dan-a", "0912345678").await;
    let b = s.sms_citizen("cong-dan-b", "0987654321").await;
    let off = official("can-bo-hoan-kiem", "ward:00070");

    // A reports from the map point with two photos carrying GPS tags.
    let p1 = s.photo(&a, JPEG, "image/jpeg").await;
    let p2 = s.photo(&a, PNG, "image/png").await;
    let (first, case_a) = s
        .routed(
            &a,
            &flood(
                "Ngập sâu phố Hàng Bài",
                json!([{"upload": p1}, {"upload": p2}]),
            ),
        )
        .await;
    assert_eq!(case_a["unit"], "ward:00070", "the ward from the point");
    assert_eq!(case_a["status"], "assigned");
    let code_a = case_a["tracking_code"].as_str().unwrap().to_string();
    let sent = s.wire.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to, "+84912345678");
    assert!(
        sent[0].text.contains("Phường Hoàn Kiếm"),
        "{}",
        sent[0].text
    );

    // B asks "Đã có người phản ánh?" and sees it, but reports anyway.
    let (lat, lng) = INSIDE_70;
    let near = s
        .api
        .get(
            &format!("/v1/cases/nearby?lat={lat}&lng={lng}&category=drainage"),
            None,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(near["items"][0]["tracking_code"], code_a.as_str());
    let (second, case_b) = s.routed(&b, &flood("Phố ngập", json!([]))).await;
    assert_eq!(case_b["unit"], "ward:00070");
    assert_eq!(s.wire.take().len(), 1);

    // The ward's official sees A's photos, without their GPS tags.
    let seen = s
        .api
        .get(&format!("/v1/cases/{first}"), Some(&off))
        .await
        .expect(200)
        .body;
    let links = seen["media_links"].as_array().unwrap();
    assert_eq!(links.len(), 2);
    for l in links {
        assert_eq!(l["status"], "ready", "{l}");
        let bytes = s.fetch(l["url"].as_str().unwrap()).await;
        assert!(!bytes.is_empty());
        for tag in [&b"Exif"[..], b"eXIf", b"GPS", b"PaknTestCam", b"21.0285"] {
            assert!(
                !contains(&bytes, tag),
                "{} still in a served photo",
                String::from_utf8_lossy(tag)
            );
        }
    }

    // The second report is marked a duplicate of the first.
    s.api
        .act_on_latest(&off, &second, "duplicate", Some(&json!({"of": code_a})))
        .await
        .expect(200);
    let sent = s.wire.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to, "+84987654321");
    assert!(sent[0].text.contains(&code_a), "{}", sent[0].text);

    // Resolved with an evidence photo: both citizens get an SMS.
    let ev = s.photo(&off, PNG, "image/png").await;
    s.api
        .act_on_latest(&off, &first, "accept", Some(&json!({})))
        .await
        .expect(200);
    s.api
        .act_on_latest(
            &off,
            &first,
            "resolve",
            Some(&json!({"answer": "Đã khơi thông cống, hết ngập.", "evidence": [{"upload": ev}]})),
        )
        .await
        .expect(200);
    let mut sent = s.wire.take();
    sent.sort_by(|x, y| x.to.cmp(&y.to));
    let to: Vec<&str> = sent.iter().map(|m| m.to.as_str()).collect();
    assert_eq!(to, ["+84912345678", "+84987654321"], "{sent:?}");
    for m in &sent {
        assert_eq!(m.channel, "sms");
        assert!(
            m.text.contains(&code_a) && m.text.contains("đã được xử lý"),
            "{}",
            m.text
        );
        assert_eq!(pakn_core::notices::sms_segments(&m.text), 1, "{}", m.text);
    }
    // The public sees the evidence photo.
    let public = s
        .api
        .get(&format!("/v1/track/{code_a}"), None)
        .await
        .expect(200)
        .body;
    assert_eq!(public["evidence"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_flooded_street_from_a_map_point_on_sqlite() {
    a_flooded_street_from_a_map_point(Story::sqlite().await).await;
}

#[tokio::test]
async fn a_flooded_street_from_a_map_point_on_dynamodb() {
    a_flooded_street_from_a_map_point(Story::dynamodb().await).await;
}
