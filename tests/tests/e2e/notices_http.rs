//! Telling citizens, over HTTP on both backends: the reporter (SMS to a
//! phone they verified) and a follower (push to the device they
//! registered) hear each change they should, in Vietnamese, once; SMS waits
//! for 07:00 in quiet hours unless the case is urgent; a failing channel is
//! retried and then given up with a record.
//!
//! What was sent is read where it leaves pakn: locally the citizen webhook
//! (`PAKN_CITIZEN_WEBHOOK`, a receiver here); on the emulator, the SNS
//! requests themselves, through the counting proxy in front of moto (a
//! `Publish` with `PhoneNumber`, or with a platform endpoint's
//! `TargetArn`), and every message to the agencies' topic is checked to
//! carry neither the phone nor the device token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, TimeZone, Utc};
use pakn_core::ports::ManualClock;
use pakn_core::refdata::RefData;
use pakn_tests::counting::{Counting, param};
use pakn_tests::http_app::{Api, Bodies, citizen, official, report};
use pakn_tests::moto;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use unicode_normalization::is_nfc;

/// Monday 4 August 2025, 09:00 in Hanoi.
fn monday_morning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 8, 4, 2, 0, 0).unwrap()
}

/// `h:m` Hanoi time, `days` after that Monday.
fn hanoi(days: i64, h: i64, m: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 8, 4, 0, 0, 0).unwrap()
        + Duration::days(days)
        + Duration::hours(h - 7)
        + Duration::minutes(m)
}

pub(crate) const PHONE: &str = "+84912345678";
const TOKEN: &str = "fcm-token-cong-dan-theo-doi-0001";

/// One message as it left pakn.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sent {
    pub(crate) channel: &'static str,
    pub(crate) to: String,
    pub(crate) text: String,
}

/// A citizen-webhook receiver: keeps what it accepts; fails the first
/// `fail` requests with 503.
#[derive(Clone, Default)]
pub(crate) struct Sink {
    got: Arc<Mutex<Vec<Value>>>,
    fail: Arc<AtomicUsize>,
}

async fn receive(State(s): State<Sink>, Json(v): Json<Value>) -> StatusCode {
    if s.fail
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    s.got.lock().unwrap().push(v);
    StatusCode::NO_CONTENT
}

impl Sink {
    pub(crate) async fn start() -> (Sink, String) {
        let sink = Sink::default();
        let app = axum::Router::new()
            .route("/notices", axum::routing::post(receive))
            .with_state(sink.clone());
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/notices", l.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(l, app).await;
        });
        (sink, url)
    }
}

/// Where a backend's messages are read.
pub(crate) enum Wire {
    Local(Sink),
    /// The proxy, and how many messages to the topic it has checked.
    Sns(Counting, AtomicUsize),
}

impl Wire {
    /// The messages to citizens since the last call; on SNS, also checks
    /// that no message to the topic carries the phone or the token.
    pub(crate) fn take(&self) -> Vec<Sent> {
        match self {
            Wire::Local(s) => std::mem::take(&mut *s.got.lock().unwrap())
                .into_iter()
                .map(|v| Sent {
                    channel: if v["channel"] == "sms" { "sms" } else { "push" },
                    to: v["to"].as_str().unwrap().to_string(),
                    text: v["text"].as_str().unwrap().to_string(),
                })
                .collect(),
            Wire::Sns(proxy, topic_messages) => {
                let mut out = Vec::new();
                for call in proxy.take_sns() {
                    if param(&call, "Action") != Some("Publish") {
                        continue;
                    }
                    let message = param(&call, "Message").unwrap_or_default();
                    if let Some(topic) = param(&call, "TopicArn") {
                        topic_messages.fetch_add(1, Ordering::SeqCst);
                        for secret in ["912345678", TOKEN] {
                            assert!(
                                !message.contains(secret),
                                "the topic {topic} got a personal detail: {message}"
                            );
                        }
                        continue;
                    }
                    if let Some(phone) = param(&call, "PhoneNumber") {
                        // Transactional: delivered first, even to numbers on promotional blocklists.
                        let attrs: Vec<&str> = call
                            .iter()
                            .filter(|(k, _)| k.starts_with("MessageAttributes"))
                            .map(|(_, v)| v.as_str())
                            .collect();
                        assert!(attrs.contains(&"AWS.SNS.SMS.SMSType"), "{call:?}");
                        assert!(attrs.contains(&"Transactional"), "{call:?}");
                        out.push(Sent {
                            channel: "sms",
                            to: phone.to_string(),
                            text: message.to_string(),
                        });
                    } else if let Some(target) = param(&call, "TargetArn") {
                        assert_eq!(param(&call, "MessageStructure"), Some("json"));
                        let m: Value = serde_json::from_str(message).unwrap();
                        let gcm: Value = serde_json::from_str(m["GCM"].as_str().unwrap()).unwrap();
                        assert_eq!(gcm["notification"]["body"], m["default"]);
                        out.push(Sent {
                            channel: "push",
                            to: target.to_string(),
                            text: m["default"].as_str().unwrap().to_string(),
                        });
                    }
                }
                out
            }
        }
    }
}

async fn sqlite_api(name: &str) -> (Api, Wire) {
    let (sink, url) = Sink::start().await;
    let api = Api::new(name, monday_morning(), Bodies::AllJson).map_pakn(|p| {
        p.with_messenger(Arc::new(
            pakn_local::LocalMessenger::new(Some(&url)).unwrap(),
        ))
    });
    (api, Wire::Local(sink))
}

async fn dynamo_api() -> (Api, Wire) {
    let (_, p) = moto::provisioned(&moto::names()).await;
    let proxy = Counting::start(moto::endpoint()).await;
    let sdk = pakn_aws::emulator_sdk_config(&proxy.endpoint, moto::REGION).await;
    // A Firebase platform application, as the city would make once.
    let sns = aws_sdk_sns::Client::new(&sdk);
    let app = sns
        .create_platform_application()
        .name(format!("pakn-fcm-{}", moto::names().table))
        .platform("GCM")
        .attributes("PlatformCredential", "test-server-key")
        .send()
        .await
        .unwrap();
    let fcm = app.platform_application_arn.unwrap();
    let clock = ManualClock::new(monday_morning());
    let cfg = pakn_aws::AwsResources {
        table_name: p.table.clone(),
        intake_queue_url: p.queue_url.clone(),
        topic_arn: p.topic_arn.clone(),
        publish_from_stream: false,
    };
    let pakn = pakn_aws::pakn_with(
        &sdk,
        &cfg,
        Arc::new(RefData::embedded()),
        Arc::new(clock.clone()),
    );
    let pakn = pakn_aws::with_push(pakn, &sdk, Some(&fcm), None);
    proxy.take_sns();
    (
        Api::over(pakn, clock, Bodies::AllJson),
        Wire::Sns(proxy, AtomicUsize::new(0)),
    )
}

pub(crate) fn six_digits(text: &str) -> String {
    let digits: String = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a 6-digit code in the SMS")
        .to_string();
    digits
}

/// The notices of `token`'s citizen, newest first, as they see them.
async fn recent(api: &Api, token: &str) -> Vec<Value> {
    api.get("/v1/me/notifications", Some(token))
        .await
        .expect(200)
        .body["recent"]
        .as_array()
        .unwrap()
        .clone()
}

async fn sweep(api: &Api) -> pakn_core::sweep::SweepReport {
    api.pakn.sweep().run(100).await.unwrap()
}

/// The reporter opts in to SMS with a verified phone, a follower registers
/// a device; each change they should hear about reaches them once, in
/// Vietnamese; what happens at night waits for morning (SMS only).
async fn reporter_and_follower_hear_each_change_once(api: Api, wire: Wire) {
    let reporter = citizen("cong-dan-bao-tin");
    let follower = citizen("cong-dan-theo-doi");
    let silent = citizen("cong-dan-khong-dang-ky");
    let off = official("can-bo-70", "ward:00070");

    // Defaults: push, nothing registered, so nothing reaches them.
    let g = api
        .get("/v1/me/notifications", Some(&reporter))
        .await
        .expect(200);
    assert_eq!(g.body["channel"], "push");
    assert_eq!(g.body["active"], Value::Null);
    assert_eq!(
        g.body["quiet_hours"],
        json!({"from": "21:00", "to": "07:00"})
    );
    api.get("/v1/me/notifications", Some(&off))
        .await
        .error(403, "forbidden");

    // SMS: a phone as people type it; a code goes to it at once.
    api.put(
        "/v1/me/notifications",
        &reporter,
        &json!({"channel": "sms", "phone": "0412"}),
    )
    .await
    .error(422, "not_a_mobile_phone");
    let put = api
        .put(
            "/v1/me/notifications",
            &reporter,
            &json!({"channel": "sms", "phone": "091 234 5678"}),
        )
        .await
        .expect(200);
    assert_eq!(put.body["phone"], PHONE);
    assert_eq!(put.body["code_sent"], true);
    assert_eq!(put.body["phone_verified"], false);
    assert_eq!(put.body["active"], Value::Null, "not before it is verified");
    let sent = wire.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!((sent[0].channel, sent[0].to.as_str()), ("sms", PHONE));
    let code = six_digits(&sent[0].text);
    // Another code within the minute: 429 with Retry-After.
    let again = api
        .put("/v1/me/notifications", &reporter, &json!({"phone": PHONE}))
        .await
        .error(429, "rate_limited");
    assert!(again.headers.contains_key("retry-after"));
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let w = api
        .post(
            "/v1/me/notifications/verify",
            &reporter,
            Some(&json!({"code": wrong})),
        )
        .await
        .error(422, "wrong_code");
    assert!(w.text().contains('4'), "attempts left: {}", w.text());
    let v = api
        .post(
            "/v1/me/notifications/verify",
            &reporter,
            Some(&json!({"code": code})),
        )
        .await
        .expect(200);
    assert_eq!(v.body["phone_verified"], true);
    assert_eq!(v.body["active"], "sms");
    api.post(
        "/v1/me/notifications/verify",
        &reporter,
        Some(&json!({"code": code})),
    )
    .await
    .error(409, "no_code_pending");

    // Push: the app registers its device (a repeat is the same device).
    let d = api
        .post(
            "/v1/me/devices",
            &follower,
            Some(&json!({"platform": "fcm", "token": TOKEN})),
        )
        .await
        .expect(201);
    let device_id = d.body["id"].as_str().unwrap().to_string();
    let d2 = api
        .post(
            "/v1/me/devices",
            &follower,
            Some(&json!({"platform": "fcm", "token": TOKEN})),
        )
        .await
        .expect(200);
    assert_eq!(d2.body["id"], device_id.as_str());
    api.post(
        "/v1/me/devices",
        &follower,
        Some(&json!({"platform": "fcm", "token": "has space"})),
    )
    .await
    .error(422, "invalid_device_token");
    let g = api
        .get("/v1/me/notifications", Some(&follower))
        .await
        .expect(200);
    assert_eq!(g.body["active"], "push");
    assert!(!g.text().contains(TOKEN), "the token is never shown back");
    assert!(wire.take().is_empty());

    // Submitted and routed: the reporter hears where it went.
    let id = api.routed_case(&reporter, &report("Đèn đường hỏng")).await;
    let code_of_case = api
        .get(&format!("/v1/cases/{id}"), Some(&reporter))
        .await
        .expect(200)
        .body["tracking_code"]
        .as_str()
        .unwrap()
        .to_string();
    let sent = wire.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!((sent[0].channel, sent[0].to.as_str()), ("sms", PHONE));
    assert!(sent[0].text.contains(&code_of_case), "{}", sent[0].text);
    assert!(sent[0].text.contains("Hoàn Kiếm"), "{}", sent[0].text);
    for who in [&follower, &silent] {
        api.post(&format!("/v1/track/{code_of_case}/follow"), who, None)
            .await
            .expect(201);
    }

    // Accepting is not told; a question is, to the reporter only.
    api.act_on_latest(&off, &id, "accept", Some(&json!({})))
        .await
        .expect(200);
    assert!(wire.take().is_empty());
    api.act_on_latest(
        &off,
        &id,
        "request_info",
        Some(&json!({"question": "Cột đèn số mấy?"})),
    )
    .await
    .expect(200);
    let sent = wire.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to, PHONE);
    assert!(sent[0].text.contains("bổ sung"), "{}", sent[0].text);
    api.act_on_latest(&reporter, &id, "info", Some(&json!({"text": "Cột số 12."})))
        .await
        .expect(200);
    assert!(wire.take().is_empty());

    // Resolved: both hear it, each on their channel.
    api.act_on_latest(
        &off,
        &id,
        "resolve",
        Some(&json!({"answer": "Đã thay bóng đèn."})),
    )
    .await
    .expect(200);
    let mut sent = wire.take();
    sent.sort_by_key(|s| s.channel);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0].channel, "push");
    assert!(sent[0].text.contains("bạn theo dõi"), "{}", sent[0].text);
    assert!(
        !sent[0].text.contains("đánh giá"),
        "only the reporter rates"
    );
    assert_eq!((sent[1].channel, sent[1].to.as_str()), ("sms", PHONE));
    assert!(sent[1].text.contains("đánh giá"), "{}", sent[1].text);

    // Rated at 22:00: closed. The push goes now; the SMS waits for 07:00.
    api.clock.set(hanoi(0, 22, 0));
    api.act_on_latest(&reporter, &id, "rate", Some(&json!({"score": 5})))
        .await
        .expect(200);
    let sent = wire.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].channel, "push");
    let held = recent(&api, &reporter).await;
    assert_eq!(held[0]["status"], "closed");
    assert_eq!(held[0]["state"], "pending");
    assert_eq!(held[0]["next_at"], json!(hanoi(1, 7, 0)));
    api.clock.set(hanoi(1, 6, 59));
    assert_eq!(sweep(&api).await.notices.sent, 0);
    assert!(wire.take().is_empty());
    api.clock.set(hanoi(1, 7, 1));
    assert_eq!(sweep(&api).await.notices.sent, 1);
    let sent = wire.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!((sent[0].channel, sent[0].to.as_str()), ("sms", PHONE));
    assert!(sent[0].text.contains("kết thúc"), "{}", sent[0].text);
    // Decided once: another pass sends nothing again.
    assert_eq!(sweep(&api).await.notices.sent, 0);
    assert!(wire.take().is_empty());

    // Each citizen's log: what they were told, newest first, all sent.
    let log = recent(&api, &reporter).await;
    let statuses: Vec<&str> = log.iter().map(|n| n["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        ["closed", "resolved", "awaiting_info", "assigned"]
    );
    for n in &log {
        assert_eq!(n["state"], "sent", "{n}");
        assert_eq!(n["channel"], "sms");
        let text = n["text"].as_str().unwrap();
        assert!(is_nfc(text) && text.contains(&code_of_case), "{text}");
    }
    let log = recent(&api, &follower).await;
    let statuses: Vec<&str> = log.iter().map(|n| n["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["closed", "resolved"]);
    assert!(recent(&api, &silent).await.is_empty());
    if let Wire::Sns(_, topic_messages) = &wire {
        // The status changes did go to the agencies' topic (checked above).
        assert!(topic_messages.load(Ordering::SeqCst) >= 5);
    }

    // The device goes: nothing more is pushed to it.
    api.call(
        axum::http::Method::DELETE,
        &format!("/v1/me/devices/{device_id}"),
        Some(&follower),
        &[],
        None,
    )
    .await
    .expect(204);
    let g = api
        .get("/v1/me/notifications", Some(&follower))
        .await
        .expect(200);
    assert_eq!(g.body["devices"], json!([]));
    assert_eq!(g.body["active"], Value::Null);
}

/// `token`'s citizen chooses SMS on `phone` and enters the code sent to it.
async fn verified_sms(api: &Api, wire: &Wire, token: &str, phone: &str) {
    api.put(
        "/v1/me/notifications",
        token,
        &json!({"channel": "sms", "phone": phone}),
    )
    .await
    .expect(200);
    let code = six_digits(&wire.take()[0].text);
    api.post(
        "/v1/me/notifications/verify",
        token,
        Some(&json!({"code": code})),
    )
    .await
    .expect(200);
}

/// An urgent case is told by SMS at night too.
async fn urgent_cases_are_told_at_night(api: Api, wire: Wire) {
    let reporter = citizen("cong-dan-khan");
    verified_sms(&api, &wire, &reporter, "0987654321").await;
    api.clock.set(hanoi(0, 23, 30));
    let mut urgent = report("Cây đổ chắn đường");
    urgent["urgency"] = json!("urgent");
    let id = api.routed_case(&reporter, &urgent).await;
    let sent = wire.take();
    assert_eq!(sent.len(), 1, "at once, at 23:30: {sent:?}");
    assert_eq!(sent[0].to, "+84987654321");
    // A normal one at the same hour waits.
    api.clock.advance(Duration::minutes(1));
    api.routed_case(&reporter, &report("Đèn hỏng")).await;
    assert!(wire.take().is_empty());
    let r = recent(&api, &reporter).await;
    assert_eq!(r[0]["state"], "pending");
    assert_eq!(r[1]["state"], "sent");
    assert!(!id.is_empty());
}

/// The citizen's phone, devices and messages are personal data: their
/// export shows them (never a device token), their erasure forgets them,
/// and nothing is sent to them after, not even what was waiting.
async fn an_erasure_forgets_phone_devices_and_messages(api: Api, wire: Wire) {
    let me = citizen("cong-dan-xoa");
    verified_sms(&api, &wire, &me, "0987654321").await;
    api.post(
        "/v1/me/devices",
        &me,
        Some(&json!({"platform": "fcm", "token": TOKEN})),
    )
    .await
    .expect(201);
    api.clock.set(hanoi(0, 22, 0));
    let id = api.routed_case(&me, &report("Rác ùn ứ")).await;
    assert!(wire.take().is_empty(), "held for the morning");

    let data = api.get("/v1/me/data", Some(&me)).await.expect(200).body;
    let n = &data["notifications"];
    assert_eq!(n["channel"], "sms");
    assert_eq!(n["phone"], "+84987654321");
    assert!(n["phone_verified_at"].is_string());
    assert_eq!(n["devices"][0]["platform"], "fcm");
    assert!(!data.to_string().contains(TOKEN), "no device token: {data}");
    let notices = n["notices"].as_array().unwrap();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0]["state"], "pending");
    // Someone who never chose anything has nothing to export here.
    let other = citizen("cong-dan-chua-chon");
    let theirs = api.get("/v1/me/data", Some(&other)).await.expect(200).body;
    assert_eq!(theirs["notifications"], Value::Null);

    let erased = api
        .call(
            axum::http::Method::DELETE,
            "/v1/me/data",
            Some(&me),
            &[],
            None,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(erased["notifications_forgotten"], true);
    assert_eq!(erased["notices_forgotten"], 1);
    let again = api
        .call(
            axum::http::Method::DELETE,
            "/v1/me/data",
            Some(&me),
            &[],
            None,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(again["notifications_forgotten"], false);
    assert_eq!(again["notices_forgotten"], 0);
    let g = api
        .get("/v1/me/notifications", Some(&me))
        .await
        .expect(200)
        .body;
    assert_eq!(g["phone"], Value::Null);
    assert_eq!(g["devices"], json!([]));
    assert_eq!(g["recent"], json!([]));
    let data = api.get("/v1/me/data", Some(&me)).await.expect(200).body;
    assert_eq!(data["notifications"], Value::Null);

    // Morning: what was waiting is not sent, and the case moving on
    // (the erasure of an open case waits for it to close) tells no one.
    api.clock.set(hanoi(1, 8, 0));
    let s = sweep(&api).await;
    assert_eq!(s.notices.sent, 0, "{s:?}");
    // (a question is told to the reporter, when there is one to tell).
    let off = official("can-bo-70", "ward:00070");
    api.act_on_latest(&off, &id, "accept", Some(&json!({})))
        .await
        .expect(200);
    api.act_on_latest(
        &off,
        &id,
        "request_info",
        Some(&json!({"question": "Ở ngõ nào?"})),
    )
    .await
    .expect(200);
    let s = sweep(&api).await;
    assert_eq!(s.notices.sent, 0, "{s:?}");
    assert!(wire.take().is_empty());
}

#[tokio::test]
async fn reporter_and_follower_hear_each_change_once_on_sqlite() {
    let (api, wire) = sqlite_api("notices-both").await;
    reporter_and_follower_hear_each_change_once(api, wire).await;
}

#[tokio::test]
async fn reporter_and_follower_hear_each_change_once_on_dynamodb() {
    let (api, wire) = dynamo_api().await;
    reporter_and_follower_hear_each_change_once(api, wire).await;
}

#[tokio::test]
async fn urgent_cases_are_told_at_night_on_sqlite() {
    let (api, wire) = sqlite_api("notices-urgent").await;
    urgent_cases_are_told_at_night(api, wire).await;
}

#[tokio::test]
async fn urgent_cases_are_told_at_night_on_dynamodb() {
    let (api, wire) = dynamo_api().await;
    urgent_cases_are_told_at_night(api, wire).await;
}

#[tokio::test]
async fn an_erasure_forgets_phone_devices_and_messages_on_sqlite() {
    let (api, wire) = sqlite_api("notices-erased").await;
    an_erasure_forgets_phone_devices_and_messages(api, wire).await;
}

#[tokio::test]
async fn an_erasure_forgets_phone_devices_and_messages_on_dynamodb() {
    let (api, wire) = dynamo_api().await;
    an_erasure_forgets_phone_devices_and_messages(api, wire).await;
}

/// Many accounts cannot flood one phone with codes: 5 an hour reach it,
/// whoever asks; the sixth is refused (`429`), while other phones still
/// get theirs.
#[tokio::test]
async fn one_phone_gets_at_most_five_codes_an_hour_whoever_asks() {
    let (api, wire) = sqlite_api("notices-pumping").await;
    let ask = |who: usize, phone: &'static str| {
        let api = &api;
        async move {
            api.put(
                "/v1/me/notifications",
                &citizen(&format!("ke-gian-{who}")),
                &json!({"channel": "sms", "phone": phone}),
            )
            .await
        }
    };
    for who in 0..5 {
        ask(who, "0912 000 111").await.expect(200);
    }
    let refused = ask(5, "0912 000 111").await.error(429, "rate_limited");
    assert!(refused.headers.contains_key("retry-after"));
    ask(6, "0912 000 222").await.expect(200);
    let sent = wire.take();
    assert_eq!(sent.len(), 6, "{sent:?}");
    assert_eq!(sent.iter().filter(|s| s.to == "+84912000111").count(), 5);
    // An hour later the phone may be sent a code again.
    api.clock.advance(Duration::minutes(61));
    ask(7, "0912 000 111").await.expect(200);
    assert_eq!(wire.take().len(), 1);
}

/// Changing one's settings counts as one of the citizen's actions: a script
/// registering devices in a loop (each new one an endpoint made on the push
/// service) is stopped at the per-minute limit, and may go on a minute later.
#[tokio::test]
async fn settings_changes_count_as_the_citizens_actions() {
    let (api, _wire) = sqlite_api("notices-actions").await;
    let me = citizen("cong-dan-vong-lap");
    let limit = api
        .pakn
        .refdata
        .policy
        .rate_limits
        .citizen_actions_per_minute;
    assert!(
        limit > 10,
        "more than the devices kept, to see the oldest go"
    );
    // Aligned on a minute, so that the loop stays within one window.
    api.clock.set(monday_morning() + Duration::minutes(2));
    let register = |i: u32| {
        let api = &api;
        let me = me.clone();
        async move {
            api.post(
                "/v1/me/devices",
                &me,
                Some(&json!({"platform": "fcm", "token": format!("token-{i}")})),
            )
            .await
        }
    };
    for i in 0..limit {
        register(i).await.expect(201);
    }
    let refused = register(limit).await.error(429, "rate_limited");
    assert!(refused.headers.contains_key("retry-after"));
    api.put("/v1/me/notifications", &me, &json!({"channel": "push"}))
        .await
        .error(429, "rate_limited");
    api.clock.advance(Duration::minutes(1));
    register(limit).await.expect(201);
    let g = api.get("/v1/me/notifications", Some(&me)).await.expect(200);
    assert_eq!(g.body["devices"].as_array().map(Vec::len), Some(10));
}

/// A channel that fails is retried with backoff until it accepts (sent
/// once), and a channel that never does is given up after the last
/// attempt, with the error on record in the citizen's log.
#[tokio::test]
async fn failing_deliveries_are_retried_then_given_up_with_a_record() {
    let (api, wire) = sqlite_api("notices-retry").await;
    let Wire::Local(sink) = &wire else {
        panic!("a local sink")
    };
    let reporter = citizen("cong-dan-thu-lai");
    api.post(
        "/v1/me/devices",
        &reporter,
        Some(&json!({"platform": "apns", "token": "apns-token-1"})),
    )
    .await
    .expect(201);

    // Fails twice, then accepts: three attempts, one delivery.
    sink.fail.store(2, Ordering::SeqCst);
    api.routed_case(&reporter, &report("Đèn hỏng")).await;
    assert!(wire.take().is_empty());
    let r = recent(&api, &reporter).await;
    assert_eq!(
        (r[0]["state"].as_str(), r[0]["attempts"].as_u64()),
        (Some("pending"), Some(1))
    );
    // Not before its backoff.
    assert_eq!(sweep(&api).await.notices, Default::default());
    api.clock.advance(Duration::minutes(1));
    assert_eq!(sweep(&api).await.notices.retried, 1);
    api.clock.advance(Duration::minutes(5));
    assert_eq!(sweep(&api).await.notices.sent, 1);
    let sent = wire.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].channel, "push");
    let r = recent(&api, &reporter).await;
    assert_eq!(
        (r[0]["state"].as_str(), r[0]["attempts"].as_u64()),
        (Some("sent"), Some(3))
    );

    // Never accepted: given up after the last attempt, with its error.
    sink.fail.store(usize::MAX, Ordering::SeqCst);
    api.routed_case(&reporter, &report("Đèn hỏng nữa")).await;
    for _ in 0..pakn_core::notices::MAX_ATTEMPTS {
        api.clock.advance(Duration::hours(5));
        sweep(&api).await;
    }
    let r = recent(&api, &reporter).await;
    assert_eq!(r[0]["state"], "gave_up", "{}", r[0]);
    assert_eq!(
        r[0]["attempts"].as_u64(),
        Some(pakn_core::notices::MAX_ATTEMPTS as u64)
    );
    let kept = api
        .pakn
        .notices
        .notices_of("cong-dan-thu-lai", 1)
        .await
        .unwrap();
    assert!(
        kept[0]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("503"),
        "{:?}",
        kept[0].last_error
    );
    api.clock.advance(Duration::days(1));
    assert_eq!(sweep(&api).await.notices, Default::default());
    assert!(wire.take().is_empty());
}
