//! Open311 GeoReport v2 end to end, through the router: the
//! specification's example documents as golden shapes (JSON and XML,
//! element for element), a small GeoReport v2 client written from the
//! specification (lists services, reads a definition, submits with and
//! without a valid key, follows the token, reads the request back in both
//! formats), errors in the standard's shape, per-key limits, filters, and
//! the public view only. XML is read with a real parser (roxmltree).

use axum::body::Body;
use axum::http::{Method, Request};
use pakn_core::ids::CaseId;
use pakn_core::refdata::RefData;
use pakn_tests::http_app::{Answer, Api, Bodies, at, official, without_quotas};
use serde_json::{Map, Value, json};

const BASE: &str = "/open311/v2";

// ------------------------------------------------ the client (from the spec)

/// The elements the specification uses as lists (their children repeat).
const LISTS: [&str; 7] = [
    "services",
    "service_requests",
    "errors",
    "attributes",
    "values",
    "endpoints",
    "formats",
];

/// An XML answer as JSON-like values: lists as arrays, other elements
/// with children as objects, leaves as text.
fn xml_value(n: roxmltree::Node) -> Value {
    let kids: Vec<roxmltree::Node> = n.children().filter(|c| c.is_element()).collect();
    let name = n.tag_name().name();
    if LISTS.contains(&name) {
        return Value::Array(kids.into_iter().map(xml_value).collect());
    }
    if kids.is_empty() {
        return Value::String(n.text().unwrap_or("").to_string());
    }
    let mut m = Map::new();
    for k in kids {
        m.insert(k.tag_name().name().to_string(), xml_value(k));
    }
    Value::Object(m)
}

/// A GeoReport v2 client: asks in `format`, reads JSON or parses XML.
struct Client<'a> {
    api: &'a Api,
    format: &'static str,
}

struct Reply {
    status: u16,
    doc: Value,
    raw: String,
}

impl Client<'_> {
    async fn send(&self, method: Method, path: &str, form: Option<&[(&str, &str)]>) -> Reply {
        let uri = format!("{BASE}/{path}");
        let mut b = Request::builder().method(method).uri(uri);
        let body = match form {
            Some(pairs) => {
                b = b.header("content-type", "application/x-www-form-urlencoded");
                let mut s = String::new();
                for (k, v) in pairs {
                    if !s.is_empty() {
                        s.push('&');
                    }
                    s.push_str(&pct(k));
                    s.push('=');
                    s.push_str(&pct(v));
                }
                Body::from(s)
            }
            None => Body::empty(),
        };
        let a: Answer = self.api.send(b.body(body).expect("request")).await;
        let raw = a.text();
        let ct = a
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let doc = if self.format == "json" {
            assert!(ct.starts_with("application/json"), "{ct}: {raw}");
            serde_json::from_str(&raw).unwrap_or_else(|e| panic!("JSON: {e}: {raw}"))
        } else {
            assert!(ct.starts_with("text/xml"), "{ct}: {raw}");
            assert!(
                raw.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"),
                "the XML declaration with its encoding: {raw}"
            );
            let xml =
                roxmltree::Document::parse(&raw).unwrap_or_else(|e| panic!("XML: {e}: {raw}"));
            xml_value(xml.root_element())
        };
        Reply {
            status: a.status.as_u16(),
            doc,
            raw,
        }
    }

    async fn get(&self, path: &str) -> Reply {
        let path = match path.split_once('?') {
            Some((p, q)) => format!("{p}.{}?{q}", self.format),
            None => format!("{path}.{}", self.format),
        };
        self.send(Method::GET, &path, None).await
    }

    async fn post(&self, form: &[(&str, &str)]) -> Reply {
        let path = format!("requests.{}", self.format);
        self.send(Method::POST, &path, Some(form)).await
    }
}

/// Percent-encoding for a form value.
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

// ------------------------------------------------ golden shapes

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/fixtures/georeport-v2/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Elements pakn leaves out on purpose: no address of a reporter, ever.
const LEFT_OUT: [&str; 3] = ["address", "address_id", "zipcode"];

/// The names of an XML document, element for element, a repeated list
/// item once.
fn xml_shape(n: roxmltree::Node) -> String {
    let kids: Vec<roxmltree::Node> = n
        .children()
        .filter(|c| c.is_element() && !LEFT_OUT.contains(&c.tag_name().name()))
        .collect();
    let name = n.tag_name().name().to_string();
    if kids.is_empty() {
        return name;
    }
    let repeated = kids
        .iter()
        .all(|k| k.tag_name().name() == kids[0].tag_name().name());
    let kids = if repeated { &kids[..1] } else { &kids[..] };
    let inner: Vec<String> = kids.iter().map(|k| xml_shape(*k)).collect();
    format!("{name}({})", inner.join(","))
}

fn xml_shape_of(text: &str) -> String {
    let doc = roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("XML: {e}: {text}"));
    xml_shape(doc.root_element())
}

/// The keys of a JSON document, nested, a list by its first item.
fn json_shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !LEFT_OUT.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), json_shape(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().take(1).map(json_shape).collect()),
        _ => Value::Null,
    }
}

#[track_caller]
fn same_shape(name: &str, json_answer: &str, xml_answer: &str) {
    let want: Value = serde_json::from_str(&fixture(&format!("{name}.json"))).expect("fixture");
    let got: Value = serde_json::from_str(json_answer).expect("answer");
    assert_eq!(
        json_shape(&got),
        json_shape(&want),
        "{name}.json: {json_answer}"
    );
    assert_eq!(
        xml_shape_of(xml_answer),
        xml_shape_of(&fixture(&format!("{name}.xml"))),
        "{name}.xml: {xml_answer}"
    );
}

fn api(name: &str, refdata: RefData) -> Api {
    Api::with_refdata(
        name,
        at("2026-12-03T02:00:00Z"),
        Bodies::JsonWhenTyped,
        refdata,
    )
}

async fn key(api: &Api, name: &str) -> String {
    api.pakn.api_keys().create(name).await.expect("key").key
}

fn lighting_form(key: &str) -> Vec<(&str, &str)> {
    vec![
        ("api_key", key),
        ("service_code", "lighting"),
        ("lat", "21.02851"),
        ("long", "105.85423"),
        ("attribute[ward_code]", "00070"),
        ("description", "Cột đèn trước số 5 Hàng Khay không sáng."),
        ("first_name", "Nguyễn"),
        ("last_name", "Thị Bích"),
        ("phone", "0912345678"),
        ("email", "bich@example.vn"),
        ("address_string", "5 Hàng Khay"),
        ("device_id", "device-1"),
        ("jurisdiction_id", "hanoi.gov.vn"),
    ]
}

async fn both(api: &Api, path: &str) -> (Reply, Reply) {
    let j = Client {
        api,
        format: "json",
    }
    .get(path)
    .await;
    let x = Client { api, format: "xml" }.get(path).await;
    (j, x)
}

#[tokio::test]
async fn every_document_has_the_specifications_shape() {
    let api = api("o311-shapes", RefData::embedded());
    let k = key(&api, "Ứng dụng X").await;
    let (j, x) = both(&api, "discovery").await;
    same_shape("discovery", &j.raw, &x.raw);
    let (j, x) = both(&api, "services").await;
    same_shape("services", &j.raw, &x.raw);
    let (j, x) = both(&api, "services/lighting").await;
    same_shape("service_definition", &j.raw, &x.raw);

    let form = lighting_form(&k);
    let pj = Client {
        api: &api,
        format: "json",
    }
    .post(&form)
    .await;
    let px = Client {
        api: &api,
        format: "xml",
    }
    .post(&form)
    .await;
    assert_eq!((pj.status, px.status), (201, 201), "{} {}", pj.raw, px.raw);
    same_shape("post_request", &pj.raw, &px.raw);
    let id = s(&pj.doc[0]["service_request_id"]);

    let (j, x) = both(&api, &format!("tokens/{id}")).await;
    same_shape("token", &j.raw, &x.raw);
    let (j, x) = both(&api, "requests").await;
    same_shape("requests", &j.raw, &x.raw);
    let (j, x) = both(&api, &format!("requests/{id}")).await;
    same_shape("requests", &j.raw, &x.raw);

    let bad = [("service_code", "nope"), ("lat", "x")];
    let ej = Client {
        api: &api,
        format: "json",
    }
    .post(&bad)
    .await;
    let ex = Client {
        api: &api,
        format: "xml",
    }
    .post(&bad)
    .await;
    same_shape("errors", &ej.raw, &ex.raw);
}

#[tokio::test]
async fn a_georeport_client_lists_submits_and_reads_back_in_json_and_xml() {
    let api = api("o311-client", RefData::embedded());
    let k = key(&api, "Ứng dụng X").await;
    for format in ["json", "xml"] {
        let c = Client { api: &api, format };
        // Discovery names this endpoint.
        let d = c.get("discovery").await;
        assert_eq!(d.status, 200);
        assert!(
            s(&d.doc["endpoints"][0]["url"]).ends_with("/open311/v2"),
            "{}",
            d.raw
        );

        // Services: every category, codes as strings; a ward's has metadata.
        let services = c.get("services").await;
        assert_eq!(services.status, 200);
        let list = services.doc.as_array().expect("a list");
        assert_eq!(list.len(), api.pakn.refdata.categories.len());
        let lighting = list
            .iter()
            .find(|x| s(&x["service_code"]) == "lighting")
            .expect("lighting is a service");
        assert_eq!(s(&lighting["service_name"]), "Chiếu sáng công cộng");
        assert_eq!(s(&lighting["metadata"]), "true");
        assert_eq!(s(&lighting["type"]), "realtime");

        // The definition: ward_code, a singlevaluelist of the 126 wards.
        let def = c.get("services/lighting").await;
        assert_eq!(def.status, 200);
        let attr = &def.doc["attributes"][0];
        assert_eq!(s(&attr["code"]), "ward_code");
        assert_eq!(s(&attr["datatype"]), "singlevaluelist");
        assert_eq!(s(&attr["required"]), "true");
        let values = attr["values"].as_array().expect("values");
        assert_eq!(values.len(), 126);
        let hoan_kiem = values
            .iter()
            .find(|v| s(&v["name"]) == "Phường Hoàn Kiếm")
            .expect("Hoàn Kiếm");
        let ward = s(&hoan_kiem["key"]);
        assert_eq!(ward, "00070");
        // A service of a department asks nothing.
        let roads = c.get("services/road-damage").await;
        assert_eq!(roads.doc["attributes"].as_array().map(Vec::len), Some(0));

        // Without a key, and with a wrong one: 403.
        let mut form = lighting_form("");
        form.retain(|(k, _)| *k != "api_key");
        let no_key = c.post(&form).await;
        assert_eq!(no_key.status, 403, "{}", no_key.raw);
        assert_eq!(s(&no_key.doc[0]["code"]), "403");
        let wrong = format!("pakn_abcdefghij_{}", "0".repeat(64));
        let bad = c.post(&lighting_form(&wrong)).await;
        assert_eq!(bad.status, 403, "{}", bad.raw);

        // With the key: the request's id at once.
        let ok = c.post(&lighting_form(&k)).await;
        assert_eq!(ok.status, 201, "{}", ok.raw);
        let id = s(&ok.doc[0]["service_request_id"]);
        assert!(CaseId::parse(&id).is_some(), "{id}");
        assert!(s(&ok.doc[0]["service_notice"]).contains("giờ làm việc"));

        // The token leads to the same request.
        let t = c.get(&format!("tokens/{id}")).await;
        assert_eq!(t.status, 200);
        assert_eq!(s(&t.doc[0]["service_request_id"]), id);

        // The case is in the pipeline like any other: routed to the ward.
        let case_id = CaseId::parse(&id).expect("ulid");
        api.pakn
            .routing()
            .route_case(&case_id)
            .await
            .expect("routed");
        let case = api
            .pakn
            .cases
            .get_case(&case_id)
            .await
            .expect("get")
            .expect("case");
        assert_eq!(serde_json::to_value(case.channel).expect("json"), "open311");
        assert_eq!(case.submitted_role.as_str(), "client_app");
        assert_eq!(case.title, "Chiếu sáng công cộng");
        assert_eq!(
            case.unit.as_ref().map(|u| u.to_string()).as_deref(),
            Some("ward:00070")
        );
        assert_eq!(
            case.contact.as_ref().and_then(|c| c.phone.as_deref()),
            Some("0912345678"),
            "the unit gets the contact"
        );

        // Read back: open, at the ward, due in +07:00, the place rounded.
        let r = c.get(&format!("requests/{id}")).await;
        assert_eq!(r.status, 200, "{}", r.raw);
        let one = r.doc.as_array().expect("a list of one");
        assert_eq!(one.len(), 1);
        let q = &one[0];
        assert_eq!(s(&q["service_request_id"]), id);
        assert_eq!(s(&q["status"]), "open");
        assert_eq!(s(&q["service_code"]), "lighting");
        assert_eq!(s(&q["agency_responsible"]), "Phường Hoàn Kiếm");
        assert_eq!(s(&q["description"]), "Chiếu sáng công cộng");
        assert!(s(&q["requested_datetime"]).ends_with("+07:00"), "{}", r.raw);
        let expected = s(&q["expected_datetime"]);
        assert!(expected.ends_with("+07:00"), "{}", r.raw);
        let due = chrono::DateTime::parse_from_rfc3339(&expected).expect("W3C");
        assert_eq!(Some(due.to_utc()), case.resolve_due);
        assert_eq!(s(&q["lat"]), "21.029");
        assert_eq!(s(&q["long"]), "105.854");

        // Never the reporter's personal data, whoever asks, in any format.
        for secret in [
            "Bích",
            "0912345678",
            "bich@example.vn",
            "Hàng Khay",
            "device-1",
            "apikey:",
        ] {
            assert!(!r.raw.contains(secret), "{secret} leaked: {}", r.raw);
            let all = c.get("requests").await;
            assert!(!all.raw.contains(secret), "{secret} leaked: {}", all.raw);
        }
    }
}

#[tokio::test]
async fn a_resolved_request_is_closed_with_the_units_answer_and_public_evidence() {
    let api = api("o311-closed", without_quotas());
    let k = key(&api, "Ứng dụng X").await;
    let c = Client {
        api: &api,
        format: "xml",
    };
    let id = s(&c.post(&lighting_form(&k)).await.doc[0]["service_request_id"]);
    api.pakn
        .routing()
        .route_case(&CaseId::parse(&id).expect("ulid"))
        .await
        .expect("routed");
    let off = official("can-bo-1", "ward:00070");
    api.act_on_latest(&off, &id, "accept", None)
        .await
        .expect(200);
    let answer = "Đã thay bóng <LED> & kiểm tra \"tủ điện\".";
    api.act_on_latest(
        &off,
        &id,
        "resolve",
        Some(&json!({"answer": answer, "evidence": ["https://hoankiem.hanoi.gov.vn/anh/1.jpg"]})),
    )
    .await
    .expect(200);
    for format in ["xml", "json"] {
        let c = Client { api: &api, format };
        let r = c.get(&format!("requests/{id}?extensions=true")).await;
        let q = &r.doc[0];
        assert_eq!(s(&q["status"]), "closed", "{}", r.raw);
        // Escaped in XML, read back whole by the parser.
        assert_eq!(s(&q["status_notes"]), answer);
        assert_eq!(
            s(&q["media_url"]),
            "https://hoankiem.hanoi.gov.vn/anh/1.jpg"
        );
        let x = &q["extended_attributes"];
        assert_eq!(s(&x["detailed_status"]), "resolved");
        assert_eq!(s(&x["unit_code"]), "ward:00070");
        assert_eq!(s(&x["urgency"]), "normal");
        assert_eq!(s(&x["overdue"]), "false");
        assert_eq!(s(&x["transfers"]), "0");
        assert!(s(&x["tracking_code"]).starts_with("HN-26-"), "{}", r.raw);
        // Without extensions, no extended attributes.
        let plain = c.get(&format!("requests/{id}")).await;
        assert!(!plain.raw.contains("extended_attributes"));
    }
}

/// Once the city has loaded its ward boundaries, a ward's service may be
/// placed by its point alone: the definition no longer requires
/// `ward_code`, a point inside a ward is routed to it, and a point outside
/// every ward still needs the code.
#[tokio::test]
async fn a_wards_service_is_placed_by_its_point_once_boundaries_are_loaded() {
    use pakn_core::wards::{WardMap, parse_geojson};
    use pakn_testkit::wards::{INSIDE_73, geojson};
    let (lat, lng) = (INSIDE_73.0.to_string(), INSIDE_73.1.to_string());
    let form = |k: &str| -> Vec<(String, String)> {
        vec![
            ("api_key".into(), k.into()),
            ("service_code".into(), "lighting".into()),
            ("lat".into(), lat.clone()),
            ("long".into(), lng.clone()),
            ("description".into(), "Đèn hỏng".into()),
        ]
    };
    async fn post(c: &Client<'_>, f: Vec<(String, String)>) -> Reply {
        let pairs: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        c.post(&pairs).await
    }

    // Without boundaries: the code is required, the point is not enough.
    let before = api("o311-no-wards", RefData::embedded());
    let k = key(&before, "Ứng dụng X").await;
    let c = Client {
        api: &before,
        format: "json",
    };
    let def = c.get("services/lighting").await;
    assert_eq!(s(&def.doc["attributes"][0]["required"]), "true");
    let r = post(&c, form(&k)).await;
    assert_eq!(r.status, 400, "{}", r.raw);
    assert!(
        s(&r.doc[0]["description"]).contains("attribute[ward_code]"),
        "{}",
        r.raw
    );

    // With boundaries loaded (synthetic polygons).
    let after = api("o311-wards", RefData::embedded());
    let p = parse_geojson(&geojson(), &RefData::embedded()).expect("valid");
    let map = WardMap::new(p.wards, p.missing, at("2026-12-01T00:00:00Z"));
    after.pakn.ward_maps.put_ward_map(&map).await.unwrap();
    let k = key(&after, "Ứng dụng X").await;
    for format in ["json", "xml"] {
        let c = Client {
            api: &after,
            format,
        };
        let def = c.get("services/lighting").await;
        assert_eq!(def.status, 200);
        assert_eq!(
            s(&def.doc["attributes"][0]["required"]),
            "false",
            "{}",
            def.raw
        );
        let r = post(&c, form(&k)).await;
        assert_eq!(r.status, 201, "{}", r.raw);
        let id = CaseId::parse(&s(&r.doc[0]["service_request_id"])).expect("an id");
        after.pakn.routing().route_case(&id).await.unwrap();
        let case = after
            .pakn
            .cases
            .get_case(&id)
            .await
            .unwrap()
            .expect("stored");
        assert_eq!(
            case.unit.map(|u| u.to_string()).as_deref(),
            Some("ward:00073")
        );
        // A point outside every loaded ward: the code is still needed.
        let mut outside = form(&k);
        outside.retain(|(n, _)| n != "lat" && n != "long");
        outside.push(("lat".into(), "21.5".into()));
        outside.push(("long".into(), "105.3".into()));
        let r = post(&c, outside).await;
        assert_eq!(r.status, 400, "{}", r.raw);
    }
}

#[tokio::test]
async fn errors_come_in_the_standards_shape_several_at_once() {
    let api = api("o311-errors", RefData::embedded());
    let k = key(&api, "Ứng dụng X").await;
    for format in ["json", "xml"] {
        let c = Client { api: &api, format };
        // No key and no service: both said, the status is the key's.
        let r = c.post(&[("lat", "21.0"), ("long", "abc")]).await;
        assert_eq!(r.status, 403, "{}", r.raw);
        let codes: Vec<String> = r
            .doc
            .as_array()
            .expect("list")
            .iter()
            .map(|e| s(&e["code"]))
            .collect();
        assert_eq!(codes, ["403", "400", "400"], "{}", r.raw);
        for e in r.doc.as_array().expect("list") {
            let d = s(&e["description"]);
            assert!(d.contains(" — "), "English — Vietnamese: {d}");
        }
        // Unknown service: 404.
        let r = c
            .post(&[
                ("api_key", &k),
                ("service_code", "nope"),
                ("lat", "21.03"),
                ("long", "105.85"),
            ])
            .await;
        assert_eq!(
            (r.status, s(&r.doc[0]["code"])),
            (404, "404".into()),
            "{}",
            r.raw
        );
        let r = c.get("services/nope").await;
        assert_eq!(r.status, 404);
        let r = c.get("requests/01J00000000000000000000000").await;
        assert_eq!(r.status, 404);
        // A ward's service without the ward, an address only: 400, saying so.
        let r = c
            .post(&[
                ("api_key", &k),
                ("service_code", "lighting"),
                ("address_string", "5 Hàng Khay"),
            ])
            .await;
        assert_eq!(r.status, 400, "{}", r.raw);
        assert!(
            s(&r.doc[0]["description"]).contains("attribute[ward_code]"),
            "{}",
            r.raw
        );
        // A department's service with an address only: coordinates needed.
        let r = c
            .post(&[
                ("api_key", &k),
                ("service_code", "road-damage"),
                ("address_string", "Cầu Chương Dương"),
            ])
            .await;
        assert_eq!(r.status, 400, "{}", r.raw);
        assert!(s(&r.doc[0]["description"]).contains("lat"), "{}", r.raw);
        // A description over 4,000 characters.
        let long = "đ".repeat(4001);
        let mut form = lighting_form(&k);
        form.retain(|(n, _)| *n != "description");
        form.push(("description", &long));
        assert_eq!(c.post(&form).await.status, 400);
        // A JSON body is not a form.
        let a = api
            .send(
                Request::post(format!("{BASE}/requests.{format}"))
                    .header("content-type", "application/json")
                    .body(Body::from("{}"))
                    .expect("request"),
            )
            .await;
        assert_eq!(a.status, 400);
        // Filters: a span over 90 days, an unknown status.
        let r = c
            .get("requests?start_date=2026-01-01T00:00:00%2B07:00&end_date=2026-06-01T00:00:00%2B07:00&status=pending")
            .await;
        assert_eq!(r.status, 400);
        assert_eq!(
            r.doc.as_array().map(Vec::len),
            Some(1),
            "the status first: {}",
            r.raw
        );
        let r = c
            .get("requests?start_date=2026-01-01T00:00:00%2B07:00&end_date=2026-06-01T00:00:00%2B07:00")
            .await;
        assert_eq!(r.status, 400, "{}", r.raw);
        // An unknown address under /open311 and no format.
        let a = api.get("/open311/v2/nothing/here.json", None).await;
        assert_eq!(a.status, 404);
        assert!(a.body.is_array(), "{}", a.text());
        let a = api.get("/open311/v2/services", None).await;
        assert_eq!(a.status, 400);
        assert!(
            a.text().starts_with("<?xml"),
            "XML, the required format: {}",
            a.text()
        );
    }
    // A revoked key is refused.
    let id = k.split('_').nth(1).expect("id").to_string();
    api.pakn.api_keys().revoke(&id).await.expect("revoke");
    let r = Client {
        api: &api,
        format: "json",
    }
    .post(&lighting_form(&k))
    .await;
    assert_eq!(r.status, 403, "{}", r.raw);
}

#[tokio::test]
async fn each_key_is_limited_on_its_own() {
    let mut refdata = without_quotas();
    refdata.policy.rate_limits.client_app_submissions_per_hour = 2;
    let api = api("o311-limits", refdata);
    let a = key(&api, "Ứng dụng A").await;
    let b = key(&api, "Ứng dụng B").await;
    let c = Client {
        api: &api,
        format: "json",
    };
    for _ in 0..2 {
        assert_eq!(c.post(&lighting_form(&a)).await.status, 201);
    }
    let over = c.post(&lighting_form(&a)).await;
    assert_eq!(over.status, 429, "{}", over.raw);
    assert_eq!(s(&over.doc[0]["code"]), "429");
    assert_eq!(
        c.post(&lighting_form(&b)).await.status,
        201,
        "another key is not held back"
    );
    api.clock.advance(chrono::Duration::hours(1));
    assert_eq!(
        c.post(&lighting_form(&a)).await.status,
        201,
        "the next hour"
    );
}

#[tokio::test]
async fn requests_are_filtered_by_service_status_period_and_paged() {
    let api = api("o311-filters", without_quotas());
    let k = key(&api, "Ứng dụng X").await;
    let c = Client {
        api: &api,
        format: "json",
    };
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(s(
            &c.post(&lighting_form(&k)).await.doc[0]["service_request_id"],
        ));
        api.clock.advance(chrono::Duration::minutes(1));
    }
    let road = [
        ("api_key", k.as_str()),
        ("service_code", "road-damage"),
        ("lat", "21.03"),
        ("long", "105.85"),
    ];
    let road_id = s(&c.post(&road).await.doc[0]["service_request_id"]);
    let got = |r: &Reply| -> Vec<String> {
        r.doc
            .as_array()
            .expect("list")
            .iter()
            .map(|q| s(&q["service_request_id"]))
            .collect()
    };
    let all = c.get("requests").await;
    assert_eq!(
        got(&all),
        [
            road_id.clone(),
            ids[2].clone(),
            ids[1].clone(),
            ids[0].clone()
        ],
        "newest first"
    );
    assert_eq!(
        got(&c.get("requests?service_code=road-damage").await),
        [road_id.as_str()]
    );
    assert_eq!(
        got(&c
            .get("requests?service_code=lighting,road-damage&page_size=2")
            .await),
        [road_id.clone(), ids[2].clone()]
    );
    assert_eq!(
        got(&c.get("requests?page_size=2&page=2").await),
        [ids[1].clone(), ids[0].clone()]
    );
    assert!(got(&c.get("requests?status=closed").await).is_empty());
    assert_eq!(got(&c.get("requests?status=open").await).len(), 4);
    let by_id = c
        .get(&format!(
            "requests?service_request_id={},{}&status=closed",
            ids[0], road_id
        ))
        .await;
    assert_eq!(
        got(&by_id),
        [ids[0].clone(), road_id.clone()],
        "ids override the other filters"
    );
    // A period that ended before: nothing.
    assert!(got(&c.get("requests?end_date=2026-12-01T00:00:00%2B07:00").await).is_empty());
}

/// `pakn apikey create|list|revoke` with the real binary, and a client
/// pointed at `pakn serve`'s `/open311/v2` over a real socket.
#[tokio::test]
async fn the_city_issues_a_key_and_a_client_uses_pakn_serve() {
    use pakn_tests::process::{Server, TempDir, pakn_binary};
    let dir = TempDir::new("o311-binary");
    let db = dir.path().join("pakn.db");
    let pakn = |args: &[&str]| {
        let out = std::process::Command::new(pakn_binary())
            .args(args)
            .env("PAKN_DB", &db)
            .env_remove("PAKN_BACKEND")
            .output()
            .expect("run pakn");
        assert!(
            out.status.success(),
            "pakn {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let created = pakn(&["apikey", "create", "--name", "Ứng dụng X"]);
    let field = |name: &str| {
        created
            .lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("{name} in {created}"))
    };
    let (id, key) = (field("id "), field("key "));
    let listed = pakn(&["apikey", "list"]);
    assert!(
        listed.contains(&id) && listed.contains("Ứng dụng X"),
        "{listed}"
    );
    assert!(
        !listed.contains(&key),
        "the key is shown once only: {listed}"
    );

    let server = Server::start(&db, &[]);
    let http = reqwest::Client::new();
    let url = format!("{}/open311/v2", server.base);
    let services: Value = http
        .get(format!("{url}/services.json"))
        .send()
        .await
        .expect("services")
        .json()
        .await
        .expect("json");
    assert!(services.as_array().is_some_and(|s| !s.is_empty()));
    let form = [
        ("api_key", key.as_str()),
        ("service_code", "lighting"),
        ("lat", "21.0285"),
        ("long", "105.8542"),
        ("attribute[ward_code]", "00070"),
    ];
    let res = http
        .post(format!("{url}/requests.xml"))
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 201);
    let xml = res.text().await.expect("text");
    let doc = roxmltree::Document::parse(&xml).expect("XML");
    let sr = doc
        .descendants()
        .find(|n| n.has_tag_name("service_request_id"))
        .and_then(|n| n.text())
        .expect("service_request_id")
        .to_string();
    // The routing worker of `pakn serve` assigns it to the ward.
    let mut agency = String::new();
    for _ in 0..100 {
        let r: Value = http
            .get(format!("{url}/requests/{sr}.json"))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        agency = s(&r[0]["agency_responsible"]);
        if !agency.is_empty() {
            assert!(s(&r[0]["expected_datetime"]).ends_with("+07:00"), "{r}");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(agency, "Phường Hoàn Kiếm");

    let revoked = pakn(&["apikey", "revoke", &id]);
    assert!(revoked.contains(&id), "{revoked}");
    let res = http
        .post(format!("{url}/requests.json"))
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 403);
}
