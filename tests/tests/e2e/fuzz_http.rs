//! Bounded property tests of the HTTP API's promise that bad input gets a
//! clear error: whatever a client sends, the answer is below 500, and every
//! 4xx carries `{"error":{"code","message","message_vi","field"?}}` with a
//! stable code and two different, non-empty messages.
//!
//! Three properties, each a fixed number of cases from a fixed seed with no
//! failure persistence, so CI is deterministic and writes no files:
//! submitting reports (`POST /v1/cases`), acting on a routed case
//! (`POST /v1/cases/{id}/{action}`), and reading (`GET` routes with random
//! paths, queries and `Authorization` headers).

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request};
use chrono::{DateTime, Duration, Utc};
use pakn_api::token;
use pakn_core::auth::Role;
use pakn_core::unit::UnitCode;
use pakn_tests::http_app::{
    Answer, Api, Bodies, HOAN_KIEM, SECRET, at, citizen, report, tok, without_quotas,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::{Map, Value, json};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Cases per property.
const CASES: u32 = 500;

fn t0() -> DateTime<Utc> {
    // Tuesday 1 July 2025, 09:00 in Hanoi.
    at("2025-07-01T02:00:00Z")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A deterministic runner: fixed seed, no persistence, bounded shrinking.
fn runner(seed: u8) -> TestRunner {
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        max_shrink_iters: 200,
        max_shrink_time: 20_000,
        ..Config::default()
    };
    TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    )
}

/// Run `strategy` through `test`; a failure panics with the minimal input.
fn run<S: Strategy>(seed: u8, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    if let Err(e) = runner(seed).run(&strategy, test) {
        panic!("{e}");
    }
}

// ------------------------------------------------------------------ requests

/// One request, as raw as the `http` crate lets it be.
#[derive(Debug, Clone)]
struct Raw {
    method: Method,
    uri: String,
    headers: Vec<(&'static str, Vec<u8>)>,
    body: Vec<u8>,
}

/// Send `r`; `None` when it is not a request a client could send at all
/// (an invalid URI). Header values `http` refuses are left out.
async fn send(api: &Api, r: &Raw) -> Option<Answer> {
    let mut b = Request::builder().method(r.method.clone()).uri(&r.uri);
    for (k, v) in &r.headers {
        if let Ok(v) = HeaderValue::from_bytes(v) {
            b = b.header(*k, v);
        }
    }
    let req = b.body(Body::from(r.body.clone())).ok()?;
    Some(api.send(req).await)
}

/// Statuses seen, for the sanity checks and the summary.
#[derive(Default)]
struct Seen(RefCell<BTreeMap<u16, usize>>);

impl Seen {
    fn add(&self, s: u16) {
        *self.0.borrow_mut().entry(s).or_default() += 1;
    }
    fn count(&self, f: impl Fn(u16) -> bool) -> usize {
        self.0
            .borrow()
            .iter()
            .filter(|(s, _)| f(**s))
            .map(|(_, n)| n)
            .sum()
    }
    fn report(&self, what: &str) {
        eprintln!("fuzz_http {what}: statuses {:?}", self.0.borrow());
    }
}

fn short(s: &str) -> String {
    if s.len() > 600 {
        let mut end = 600;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}… ({} bytes)", &s[..end], s.len())
    } else {
        s.to_string()
    }
}

/// The promise: below 500, and every 4xx the contract's error body.
fn check(a: &Answer) -> Result<u16, TestCaseError> {
    let s = a.status.as_u16();
    let text = short(&a.text());
    prop_assert!(s < 500, "status {s}: {text}");
    prop_assert!(
        !text.contains("panicked at") && !text.contains("Backtrace"),
        "debug dump in the body: {text}"
    );
    if s >= 400 {
        let v: Value = serde_json::from_slice(&a.bytes)
            .map_err(|e| TestCaseError::fail(format!("{s}: body is not JSON ({e}): {text}")))?;
        let e = v["error"]
            .as_object()
            .ok_or_else(|| TestCaseError::fail(format!("{s}: no error object: {text}")))?;
        let code = e.get("code").and_then(Value::as_str).unwrap_or_default();
        prop_assert!(
            !code.is_empty()
                && code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{s}: code is not a stable machine code: {text}"
        );
        let en = e.get("message").and_then(Value::as_str).unwrap_or_default();
        let vi = e
            .get("message_vi")
            .and_then(Value::as_str)
            .unwrap_or_default();
        prop_assert!(
            !en.trim().is_empty() && !vi.trim().is_empty(),
            "{s}: both messages: {text}"
        );
        prop_assert_ne!(en, vi, "{}: the two messages are the same: {}", s, text);
        prop_assert!(
            e.get("field").is_none_or(Value::is_string),
            "{s}: field is a string when present: {text}"
        );
        prop_assert!(
            e.keys()
                .all(|k| ["code", "message", "message_vi", "field"].contains(&k.as_str())),
            "{s}: unexpected keys in the error: {text}"
        );
    }
    Ok(s)
}

// ---------------------------------------------------------------- strategies

/// Percent-encode everything but the unreserved characters.
fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (*b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Unicode with a bias for trouble: combining marks, controls, bidi,
/// surrogates' neighbours, the replacement character, NUL.
fn weird_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => any::<char>(),
        2 => prop::char::range('\u{0300}', '\u{036f}'),
        2 => prop::char::range('\u{0000}', '\u{001f}'),
        1 => prop::char::range('\u{007f}', '\u{009f}'),
        1 => prop::sample::select(vec![
            '\u{200b}', '\u{200d}', '\u{202e}', '\u{2028}', '\u{feff}', '\u{fffd}',
            '\u{ffff}', '\u{10ffff}', '\u{1f600}', 'ạ', 'ế', 'Đ', '"', '\\', '/', '\'',
        ]),
        2 => prop::char::range('a', 'z'),
    ]
}

fn weird_string() -> impl Strategy<Value = String> {
    prop::collection::vec(weird_char(), 0..40).prop_map(String::from_iter)
}

/// 1 to ~70 KB of one character: over every text limit and, as a body,
/// over the 64 KiB body limit.
fn long_string() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["a", "ệ", "a\u{0301}", " ", "\u{0007}", "😀"]),
        prop::sample::select(vec![201usize, 501, 1001, 4001, 20_000, 70_000]),
    )
        .prop_map(|(s, bytes)| s.repeat(bytes / s.len() + 1))
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        (-1000.0..1000.0f64).prop_map(Value::from),
        prop::sample::select(vec![
            json!(0),
            json!(-1),
            json!(-0.0),
            json!(1e308),
            json!(-1e308),
            json!(f64::MIN_POSITIVE),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(70),
            json!(70.5),
            json!(21.0245),
            json!(105.853),
        ]),
    ]
}

/// Numbers and codes written as strings, ward codes of every kind.
fn stringly() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        "NaN",
        "Infinity",
        "-Infinity",
        "1e999",
        "-1",
        "0",
        "21.0245",
        "00070",
        "70",
        " 00070 ",
        "0007O",
        "000700",
        "ward:00070",
        "99999",
        "٠٠٠٧٠",
        "００７０",
        "",
        " ",
        "null",
        "true",
        "lighting",
        "urgent",
        "hotline",
        "https://example.com/a.jpg",
        "javascript:alert(1)",
    ])
    .prop_map(Value::from)
}

/// Any JSON, nested.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number(),
        stringly(),
        weird_string().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-z_]{0,12}|\\PC{0,8}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn junk() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => arb_json(),
        2 => number(),
        2 => stringly(),
        2 => weird_string().prop_map(Value::from),
        1 => long_string().prop_map(Value::from),
        1 => prop::collection::vec(weird_string().prop_map(Value::from), 0..14).prop_map(Value::Array),
    ]
}

const CATEGORIES: [&str; 16] = [
    "lighting",
    "drainage",
    "waste",
    "illegal-construction",
    "sidewalk",
    "trees",
    "road-damage",
    "traffic",
    "noise",
    "water-supply",
    "security",
    "land",
    "pollution",
    "food-safety",
    "admin-procedure",
    "civil-status",
];

const TEXT: &str = "[A-Za-z0-9ăâđêôơưáàảãạếềểễệ][A-Za-z0-9ăâđêôơưáàảãạếềểễệ .,!?-]{0,60}";

/// A report the API must accept.
fn valid_report() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(CATEGORIES.to_vec()),
        TEXT,
        TEXT,
        20.50..=21.42f64,
        105.25..=106.05f64,
        prop::sample::select(vec![
            None,
            Some(json!(null)),
            Some(json!("00070")),
            Some(json!(70)),
        ]),
        prop::option::of(prop::sample::select(vec!["urgent", "normal", "complex"])),
        prop::option::of(prop::sample::select(vec!["app", "web"])),
    )
        .prop_map(|(cat, title, desc, lat, lng, ward, urgency, channel)| {
            let mut loc = json!({"lat": lat, "lng": lng});
            if let Some(w) = ward {
                loc["ward_code"] = w;
            }
            let mut r = json!({
                "category": cat, "title": title, "description": desc, "location": loc,
            });
            if let Some(u) = urgency {
                r["urgency"] = json!(u);
            }
            if let Some(c) = channel {
                r["channel"] = json!(c);
            }
            r
        })
}

const SUBMIT_PATHS: [&str; 19] = [
    "category",
    "title",
    "description",
    "urgency",
    "kind",
    "channel",
    "media",
    "contact",
    "location",
    "location.lat",
    "location.lng",
    "location.ward_code",
    "location.address",
    "location.extra",
    "contact.name",
    "contact.phone",
    "contact.email",
    "unknown_field",
    "location.lat.deeper",
];

/// Set (or with `None`, remove) the value at a dotted path, making objects
/// on the way.
fn set_path(v: &mut Value, path: &str, new: Option<Value>) {
    let mut cur = v;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, p) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = json!({});
        }
        let Some(obj) = cur.as_object_mut() else {
            return;
        };
        if i + 1 == parts.len() {
            match new {
                Some(n) => {
                    obj.insert((*p).to_string(), n);
                }
                None => {
                    obj.remove(*p);
                }
            }
            return;
        }
        cur = obj.entry((*p).to_string()).or_insert_with(|| json!({}));
    }
}

fn mutated_report() -> impl Strategy<Value = Value> {
    (
        valid_report(),
        prop::collection::vec(
            (
                prop::sample::select(SUBMIT_PATHS.to_vec()),
                prop::option::weighted(0.85, junk()),
            ),
            1..4,
        ),
    )
        .prop_map(|(mut r, muts)| {
            for (path, new) in muts {
                set_path(&mut r, path, new);
            }
            r
        })
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => Just(Some("application/json".to_string())),
        2 => Just(None),
        4 => prop::sample::select(vec![
            "text/plain",
            "application/json; charset=utf-16",
            "application/vnd.api+json",
            "APPLICATION/JSON",
            "application/json\t",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonx",
            "json",
            "",
            "*/*",
        ])
        .prop_map(|s| Some(s.to_string())),
        1 => "[ -~]{0,40}".prop_map(Some),
    ]
}

/// Bodies that are not (quite) JSON.
fn raw_body() -> impl Strategy<Value = Vec<u8>> {
    let bad_numbers = prop::sample::select(vec![
        "NaN",
        "Infinity",
        "-Infinity",
        "1e400",
        "-1e400",
        "1e-400",
        "0x10",
        "+1",
        "01",
        "-0",
        "21.0245e0",
        "99999999999999999999999999",
        "\"21.02\"",
        "[]",
    ]);
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..300),
        2 => (bad_numbers.clone(), bad_numbers).prop_map(|(lat, w)| format!(
            r#"{{"category":"lighting","title":"t","description":"d","location":{{"lat":{lat},"lng":105.85,"ward_code":{w}}}}}"#
        ).into_bytes()),
        1 => (1usize..3000).prop_map(|n| "[".repeat(n).into_bytes()),
        1 => (1usize..300).prop_map(|n| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n)).into_bytes()),
        2 => any::<prop::sample::Index>().prop_map(|i| {
            let s = report("Đèn hỏng").to_string();
            s.as_bytes()[..i.index(s.len())].to_vec()
        }),
        1 => prop::sample::select(vec![
            "", " ", "null", "[]", "\"s\"", "1e999", "{}", "{\"category\":}",
            "\u{feff}{}", "{\"a\":1}{\"b\":2}", "{\"title\":\"\\ud800\"}", "{'a':1}",
        ]).prop_map(|s| s.as_bytes().to_vec()),
        1 => Just({
            let mut v = vec![0xef, 0xbb, 0xbf];
            v.extend(report("bom").to_string().into_bytes());
            v
        }),
        1 => Just(format!("{} trailing", report("x")).into_bytes()),
    ]
}

// ---------------------------------------------------------------- 1. submit

#[derive(Debug, Clone)]
enum Submit {
    Valid(Value),
    Json(Value),
    Raw {
        content_type: Option<String>,
        body: Vec<u8>,
    },
}

fn submit_input() -> impl Strategy<Value = Submit> {
    prop_oneof![
        3 => valid_report().prop_map(Submit::Valid),
        6 => mutated_report().prop_map(Submit::Json),
        1 => arb_json().prop_map(Submit::Json),
        3 => (content_type(), raw_body()).prop_map(|(content_type, body)| Submit::Raw { content_type, body }),
        1 => (content_type(), valid_report()).prop_map(|(content_type, r)| Submit::Raw {
            content_type,
            body: r.to_string().into_bytes(),
        }),
    ]
}

fn submit_request(token: &str, input: &Submit) -> Raw {
    let (ct, body) = match input {
        Submit::Valid(v) | Submit::Json(v) => (
            Some("application/json".to_string()),
            v.to_string().into_bytes(),
        ),
        Submit::Raw { content_type, body } => (content_type.clone(), body.clone()),
    };
    let mut headers = vec![("authorization", format!("Bearer {token}").into_bytes())];
    if let Some(ct) = ct {
        headers.push(("content-type", ct.into_bytes()));
    }
    Raw {
        method: Method::POST,
        uri: "/v1/cases".into(),
        headers,
        body,
    }
}

#[test]
fn submitting_anything_is_answered_without_a_server_error() {
    let rt = runtime();
    let api = Api::with_refdata("fuzz-submit", t0(), Bodies::JsonWhenTyped, without_quotas());
    let token = citizen("fuzz-c1");
    let seen = Seen::default();
    run(1, submit_input(), |input| {
        let r = submit_request(&token, &input);
        let Some(a) = rt.block_on(send(&api, &r)) else {
            return Ok(());
        };
        let s = check(&a)?;
        seen.add(s);
        if let Submit::Valid(v) = &input {
            prop_assert_eq!(s, 202, "a valid report {} → {}", v, short(&a.text()));
        } else if s < 300 {
            prop_assert_eq!(s, 202, "{}", short(&a.text()));
        }
        Ok(())
    });
    seen.report("submit");
    assert!(seen.count(|s| s == 202) > 0 && seen.count(|s| s == 422) > 0);
    assert!(seen.count(|s| s == 400) > 0 && seen.count(|s| s == 415) > 0);
}

// ---------------------------------------------------------------- 2. actions

const ACTIONS: [&str; 11] = [
    "accept",
    "note",
    "transfer",
    "request_info",
    "resolve",
    "reject",
    "extend",
    "route",
    "info",
    "rate",
    "reopen",
];

#[derive(Debug, Clone)]
enum CaseRef {
    /// One of the last few real cases.
    Real(prop::sample::Index),
    /// A new case, submitted and routed first, so actions meet every status.
    Fresh,
    Other(String),
}

#[derive(Debug, Clone)]
enum IfMatch {
    Absent,
    Current,
    Raw(Vec<u8>),
}

#[derive(Debug, Clone)]
enum ActBody {
    None,
    /// The body the action expects, with plausible values.
    Proper,
    Json(Value),
    Raw {
        content_type: Option<String>,
        body: Vec<u8>,
    },
}

#[derive(Debug, Clone)]
struct Act {
    case: CaseRef,
    action: String,
    who: prop::sample::Index,
    if_match: IfMatch,
    body: ActBody,
}

fn path_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => "[a-z_]{0,15}",
        2 => weird_string().prop_map(|s| enc(&s)),
        1 => prop::sample::select(vec![
            "%", "%zz", "%FF%FE", "%00", "..", ".", "%2F", "a%2Fb", "%C3%28", ";", "ACCEPT",
            "accept%20", "accept.json", "accept;x=1", "~", "%F0%9F%98%80", "0", "-1",
        ]).prop_map(String::from),
        1 => (1usize..3000).prop_map(|n| "a".repeat(n)),
    ]
}

fn action_name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(ACTIONS.to_vec()).prop_map(String::from),
        2 => path_segment(),
    ]
}

fn if_match() -> impl Strategy<Value = IfMatch> {
    prop_oneof![
        2 => Just(IfMatch::Absent),
        4 => Just(IfMatch::Current),
        1 => any::<u64>().prop_map(|n| IfMatch::Raw(format!("\"{n}\"").into_bytes())),
        1 => (0u64..6).prop_map(|n| IfMatch::Raw(n.to_string().into_bytes())),
        1 => any::<i64>().prop_map(|n| IfMatch::Raw(n.to_string().into_bytes())),
        1 => prop::sample::select(vec![
            "*", "W/\"1\"", "\"1\", \"2\"", "\"\"", "\"", "\"1", "1\"", " 1 ", "0x1", "1e3",
            "99999999999999999999999", "18446744073709551615", "18446744073709551616",
            "-0", "+1", "\"-1\"", "\u{0661}", "",
        ]).prop_map(|s| IfMatch::Raw(s.as_bytes().to_vec())),
        1 => prop::collection::vec(any::<u8>(), 0..30).prop_map(IfMatch::Raw),
    ]
}

const ACT_KEYS: [&str; 13] = [
    "text",
    "public",
    "to_unit",
    "reason",
    "question",
    "answer",
    "evidence",
    "reason_code",
    "working_days",
    "media",
    "score",
    "comment",
    "extra",
];

/// Values an action body field might plausibly hold, and trouble.
fn act_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::sample::select(vec![
            json!("Đã tiếp nhận."),
            json!(true),
            json!(false),
            json!("ward:00070"),
            json!("ward:00073"),
            json!("ward:99999"),
            json!("dept:natural-resources"),
            json!("city:triage"),
            json!("not_city_matter"),
            json!("duplicate"),
            json!(["https://example.com/a.jpg"]),
            json!(1),
            json!(3),
            json!(5),
            json!(0),
            json!(6),
            json!(15),
        ]),
        3 => junk(),
    ]
}

fn act_body() -> impl Strategy<Value = ActBody> {
    prop_oneof![
        2 => Just(ActBody::None),
        4 => Just(ActBody::Proper),
        4 => prop::collection::vec((prop::sample::select(ACT_KEYS.to_vec()), act_value()), 0..4)
            .prop_map(|kv| ActBody::Json(Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            ))),
        1 => arb_json().prop_map(ActBody::Json),
        2 => (content_type(), raw_body()).prop_map(|(content_type, body)| ActBody::Raw { content_type, body }),
    ]
}

/// What each action expects (CONTRACT.md "Bodies worth fixing now").
fn proper_body(action: &str) -> Value {
    match action {
        "note" => json!({"text": "Đã kiểm tra hiện trường.", "public": true}),
        "transfer" => json!({"to_unit": "ward:00073", "reason": "Sai địa bàn."}),
        "request_info" => json!({"question": "Số nhà cụ thể là bao nhiêu?"}),
        "resolve" => {
            json!({"answer": "Đã thay bóng đèn.", "evidence": ["https://example.com/a.jpg"]})
        }
        "reject" => json!({"reason_code": "duplicate", "answer": "Trùng phản ánh trước."}),
        "extend" => json!({"working_days": 3, "reason": "Chờ vật tư."}),
        "route" => json!({"to_unit": HOAN_KIEM}),
        "info" => json!({"text": "Trước số 12.", "media": []}),
        "rate" => json!({"score": 4, "comment": "Cảm ơn."}),
        "reopen" => json!({"reason": "Đèn lại tắt."}),
        _ => json!({}),
    }
}

fn act_input() -> impl Strategy<Value = Act> {
    let case = prop_oneof![
        6 => any::<prop::sample::Index>().prop_map(CaseRef::Real),
        1 => Just(CaseRef::Fresh),
        1 => "[0-9A-HJKMNP-TV-Z]{26}".prop_map(CaseRef::Other),
        1 => path_segment().prop_map(CaseRef::Other),
    ];
    (
        case,
        action_name(),
        any::<prop::sample::Index>(),
        if_match(),
        act_body(),
    )
        .prop_map(|(case, action, who, if_match, body)| Act {
            case,
            action,
            who,
            if_match,
            body,
        })
}

/// Tokens of every role, the official of the right ward among them, and
/// some that should not get in.
fn act_tokens() -> Vec<(&'static str, String)> {
    vec![
        ("owner", citizen("fuzz-c1")),
        ("owner", citizen("fuzz-c1")),
        ("other citizen", citizen("fuzz-c2")),
        ("operator", tok(Role::Operator, "op1", None)),
        (
            "official of the ward",
            tok(Role::Official, "o1", Some(HOAN_KIEM)),
        ),
        (
            "official of the ward",
            tok(Role::Official, "o2", Some(HOAN_KIEM)),
        ),
        (
            "official elsewhere",
            tok(Role::Official, "o3", Some("ward:00004")),
        ),
        ("unit admin", tok(Role::UnitAdmin, "ua1", Some(HOAN_KIEM))),
        ("triage", tok(Role::Triage, "t1", Some("city:triage"))),
        ("triage", tok(Role::Triage, "t1", None)),
        ("inspector", tok(Role::Inspector, "insp1", None)),
        ("admin", tok(Role::Admin, "admin1", None)),
        ("garbage", "not-a-jwt".to_string()),
    ]
}

#[test]
fn acting_on_a_case_with_anything_is_answered_without_a_server_error() {
    let rt = runtime();
    let api = Api::with_refdata("fuzz-act", t0(), Bodies::JsonWhenTyped, without_quotas());
    let owner = citizen("fuzz-c1");
    let cases: RefCell<Vec<String>> = RefCell::new(Vec::new());
    let fresh = || {
        let n = cases.borrow().len();
        let id = rt.block_on(api.routed_case(&owner, &report(&format!("Đèn hỏng {n}"))));
        cases.borrow_mut().push(id.clone());
        id
    };
    for _ in 0..3 {
        fresh();
    }
    let tokens = act_tokens();
    let admin = tok(Role::Admin, "admin1", None);
    let seen = Seen::default();
    run(2, act_input(), |input| {
        let id = match &input.case {
            CaseRef::Real(i) => {
                let cases = cases.borrow();
                let recent = &cases[cases.len().saturating_sub(4)..];
                recent[i.index(recent.len())].clone()
            }
            CaseRef::Fresh => fresh(),
            CaseRef::Other(s) => s.clone(),
        };
        let (_, token) = &tokens[input.who.index(tokens.len())];
        let a = rt.block_on(async {
            let mut headers = vec![("authorization", format!("Bearer {token}").into_bytes())];
            match &input.if_match {
                IfMatch::Absent => {}
                IfMatch::Current => {
                    let v = api.get(&format!("/v1/cases/{id}"), Some(&admin)).await;
                    headers.push(("if-match", v.etag().into_bytes()));
                }
                IfMatch::Raw(b) => headers.push(("if-match", b.clone())),
            }
            let body = match &input.body {
                ActBody::None => Vec::new(),
                ActBody::Proper => {
                    headers.push(("content-type", b"application/json".to_vec()));
                    proper_body(&input.action).to_string().into_bytes()
                }
                ActBody::Json(v) => {
                    headers.push(("content-type", b"application/json".to_vec()));
                    v.to_string().into_bytes()
                }
                ActBody::Raw { content_type, body } => {
                    if let Some(ct) = content_type {
                        headers.push(("content-type", ct.clone().into_bytes()));
                    }
                    body.clone()
                }
            };
            let r = Raw {
                method: Method::POST,
                uri: format!("/v1/cases/{id}/{}", input.action),
                headers,
                body,
            };
            send(&api, &r).await
        });
        let Some(a) = a else {
            return Ok(());
        };
        seen.add(check(&a)?);
        Ok(())
    });
    seen.report("act");
    assert!(
        seen.count(|s| (200..300).contains(&s)) > 0,
        "some action succeeded"
    );
    assert!(seen.count(|s| s == 412 || s == 428) > 0);
}

// ---------------------------------------------------------------- 3. reads

#[derive(Debug, Clone)]
enum Auth {
    Absent,
    Role(prop::sample::Index),
    Raw(Vec<u8>),
    Jwt {
        scheme: &'static str,
        header: Value,
        claims: Value,
        sig: Vec<u8>,
    },
    WeirdSub(String),
}

#[derive(Debug, Clone)]
struct Read {
    method: Method,
    uri: String,
    auth: Auth,
}

fn query_value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "2025-07-01", "2025-07-02", "2025-02-29", "2024-02-29", "2025-02-30", "2025-13-01",
            "0000-01-01", "-0001-01-01", "1970-01-01", "9999-12-31", "262143-12-31",
            "+262144-01-01", "-262144-01-01", "-262143-01-01", "+262142-12-31", "262142-12-31",
            "1999-12-31", "2100-12-31", "2101-01-01", "2025-07-01T00:00:00Z",
            "2025-07-01T25:00:00+07:00", "2025-07-01T00:00:00+99:00", "2025-07", "2025-00",
            "2025-12", "2025", "0", "99999", "-2025", "2025-W27", "", "ward:00070",
            "ward:99999", "ward:", "city:hanoi", "city:triage", "dept:natural-resources",
            "open", "answered", "closed", "received", "in_progress", "overdue", "empty_roster",
            "true", "false", "1", "yes", "-1", "201", "18446744073709551615",
            "18446744073709551616", "1e3", "lighting", "%", "%zz", "%FF", "%00", "+", "a+b",
        ]).prop_map(String::from),
        2 => "[0-9]{1,7}-[0-9]{1,3}(-[0-9]{1,3})?",
        2 => weird_string().prop_map(|s| enc(&s)),
        1 => "[0-9A-Za-z+/=_-]{0,80}",
        1 => (1usize..3000).prop_map(|n| "9".repeat(n)),
    ]
}

fn query(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
    let key = prop_oneof![
        6 => prop::sample::select(keys.to_vec()).prop_map(String::from),
        1 => "[a-z_]{0,8}",
        1 => Just("%FF".to_string()),
    ];
    prop::collection::vec((key, prop::option::weighted(0.9, query_value())), 0..5).prop_map(|kv| {
        kv.into_iter()
            .map(|(k, v)| match v {
                Some(v) => format!("{k}={v}"),
                None => k,
            })
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn with_query(path: &'static str, keys: &'static [&'static str]) -> BoxedStrategy<String> {
    query(keys)
        .prop_map(move |q| {
            if q.is_empty() {
                path.to_string()
            } else {
                format!("{path}?{q}")
            }
        })
        .boxed()
}

fn id_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => prop::sample::select(vec![
            "ward:00070", "ward:99999", "ward:", "city:hanoi", "city:triage",
            "dept:natural-resources", "HN-25-ZZZZZ", "hn-25-00000", "HN-25-", "01JZ0000000000000000000000",
            "00000000000000000000000000", "ZZZZZZZZZZZZZZZZZZZZZZZZZZ",
        ]).prop_map(String::from),
        3 => path_segment(),
    ]
}

fn read_uri() -> impl Strategy<Value = String> {
    const CASES_Q: &[&str] = &[
        "mine", "unit", "status", "category", "overdue", "from", "to", "cursor", "limit",
    ];
    const STATS_Q: &[&str] = &["from", "to", "unit"];
    const PERIOD_Q: &[&str] = &["period", "from", "to"];
    const INSP_Q: &[&str] = &["status", "unit", "reason"];
    prop_oneof![
        3 => with_query("/v1/cases", CASES_Q),
        3 => with_query("/v1/stats", STATS_Q),
        2 => id_segment().prop_map(|x| format!("/v1/track/{x}")),
        2 => id_segment().prop_map(|x| format!("/v1/units/{x}/roster")),
        1 => id_segment().prop_map(|x| format!("/v1/units/{x}/headcount")),
        1 => (id_segment(), query(PERIOD_Q)).prop_map(|(x, q)| format!("/v1/units/{x}/scorecard?{q}")),
        3 => with_query("/v1/scorecards", PERIOD_Q),
        1 => with_query("/v1/scorecards.csv", PERIOD_Q),
        2 => with_query("/v1/inspections", INSP_Q),
        1 => id_segment().prop_map(|x| format!("/v1/inspections/{x}")),
        1 => id_segment().prop_map(|x| format!("/v1/cases/{x}")),
        1 => with_query("/v1/units", &["parent"]),
        1 => with_query("/v1/registration", PERIOD_Q),
        1 => (prop::collection::vec(path_segment(), 0..5), query(CASES_Q))
            .prop_map(|(segs, q)| format!("/{}?{q}", segs.join("/"))),
    ]
}

fn auth() -> impl Strategy<Value = Auth> {
    let alg = prop::sample::select(vec!["HS256", "none", "None", "RS256", "HS512", "", "hs256"]);
    let role = prop::sample::select(vec![
        "citizen",
        "admin",
        "official",
        "unit_admin",
        "inspector",
        "root",
        "",
    ]);
    let claims = (
        prop::option::of(weird_string()),
        prop::option::of(role),
        prop::option::of(prop_oneof![number(), stringly()]),
        prop::option::of(prop_oneof![
            stringly(),
            Just(json!(HOAN_KIEM)),
            Just(json!("ward:"))
        ]),
    )
        .prop_map(|(sub, role, exp, unit)| {
            let mut c = json!({});
            if let Some(s) = sub {
                c["sub"] = json!(s);
            }
            if let Some(r) = role {
                c["role"] = json!(r);
            }
            if let Some(e) = exp {
                c["exp"] = e;
            }
            if let Some(u) = unit {
                c["unit"] = u;
            }
            c
        });
    prop_oneof![
        2 => Just(Auth::Absent),
        4 => any::<prop::sample::Index>().prop_map(Auth::Role),
        2 => prop_oneof![
            prop::sample::select(vec![
                "Bearer", "Bearer ", "Bearer  ", "bearer x", "Basic dXNlcjpwYXNz", "Token abc",
                "Bearer a.b.c", "Bearer ..", "Bearer a.b.c.d", "Bearer eyJ.eyJ.", "Bearer \t",
                "Bearer not-a-jwt",
            ]).prop_map(|s| s.as_bytes().to_vec()),
            "Bearer [ -~]{0,60}".prop_map(String::into_bytes),
            prop::collection::vec(any::<u8>(), 0..60),
            (1usize..20_000).prop_map(|n| format!("Bearer {}", "a".repeat(n)).into_bytes()),
        ].prop_map(Auth::Raw),
        2 => (
            prop::sample::select(vec!["Bearer", "bearer", "BEARER", "Bearer "]),
            prop_oneof![
                alg.prop_map(|a| json!({"alg": a, "typ": "JWT"})),
                arb_json(),
            ],
            claims,
            prop::collection::vec(any::<u8>(), 0..40),
        )
            .prop_map(|(scheme, header, claims, sig)| Auth::Jwt { scheme, header, claims, sig }),
        1 => weird_string().prop_map(Auth::WeirdSub),
    ]
}

fn read_input() -> impl Strategy<Value = Read> {
    let method = prop_oneof![
        12 => Just(Method::GET),
        1 => Just(Method::DELETE),
        1 => Just(Method::PATCH),
        1 => Just(Method::OPTIONS),
    ];
    (method, read_uri(), auth()).prop_map(|(method, uri, auth)| Read { method, uri, auth })
}

fn read_tokens() -> Vec<String> {
    let mut v: Vec<String> = act_tokens().into_iter().map(|(_, t)| t).collect();
    v.push(token::mint(
        SECRET,
        "c1",
        Role::Citizen,
        None,
        Duration::hours(-2),
        Utc::now(),
    ));
    v.push(token::mint(
        b"other",
        "c1",
        Role::Admin,
        None,
        Duration::hours(1),
        Utc::now(),
    ));
    v.push(tok(Role::Official, "o9", None));
    v.push(tok(Role::UnitAdmin, "ua9", None));
    v
}

#[test]
fn reading_with_any_path_query_and_token_is_answered_without_a_server_error() {
    let rt = runtime();
    let api = Api::with_refdata("fuzz-read", t0(), Bodies::JsonWhenTyped, without_quotas());
    rt.block_on(async {
        for i in 0..2 {
            api.routed_case(&citizen("fuzz-c1"), &report(&format!("Đèn hỏng {i}")))
                .await;
        }
    });
    let tokens = read_tokens();
    let seen = Seen::default();
    run(3, read_input(), |input| {
        let authorization = match &input.auth {
            Auth::Absent => None,
            Auth::Role(i) => Some(format!("Bearer {}", tokens[i.index(tokens.len())]).into_bytes()),
            Auth::Raw(b) => Some(b.clone()),
            Auth::Jwt {
                scheme,
                header,
                claims,
                sig,
            } => Some(
                format!(
                    "{scheme} {}.{}.{}",
                    b64(header.to_string().as_bytes()),
                    b64(claims.to_string().as_bytes()),
                    b64(sig)
                )
                .into_bytes(),
            ),
            Auth::WeirdSub(sub) => {
                let unit = UnitCode::parse(HOAN_KIEM).ok();
                let t = token::mint(
                    SECRET,
                    sub,
                    Role::Official,
                    unit.as_ref(),
                    Duration::hours(1),
                    Utc::now(),
                );
                Some(format!("Bearer {t}").into_bytes())
            }
        };
        let r = Raw {
            method: input.method.clone(),
            uri: input.uri.clone(),
            headers: authorization
                .map(|a| vec![("authorization", a)])
                .unwrap_or_default(),
            body: Vec::new(),
        };
        let Some(a) = rt.block_on(send(&api, &r)) else {
            return Ok(());
        };
        seen.add(check(&a)?);
        Ok(())
    });
    seen.report("read");
    assert!(seen.count(|s| s == 200) > 0 && seen.count(|s| s == 401) > 0);
    assert!(seen.count(|s| s == 400 || s == 422) > 0);
}
