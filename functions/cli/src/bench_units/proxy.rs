//! The recording proxy of the DynamoDB-unit benches, and DynamoDB's
//! published rules for write and read units.
//!
//! The emulator's own `ConsumedCapacity` cannot be used: moto 5 answers a
//! fixed 1.0 (0.5 for a few reads) whatever the item size, and nothing at
//! all for `TransactWriteItems`. So the units are computed here, by
//! DynamoDB's published rules, from the exact items involved:
//!
//! - The SDK of the pipeline talks to the emulator through this proxy on
//!   127.0.0.1, one call at a time. Requests are forwarded unchanged.
//! - Around every write call the proxy reads the items the call names
//!   (a strongly consistent `BatchGetItem` of their keys, directly, not
//!   recorded), so it knows each touched item's size before and after.
//!   Write units per item: `ceil(max(before, after) / 1 KB)` (at least 1),
//!   doubled inside `TransactWriteItems` — the 2× applies to the table
//!   items of a transaction, not to the index writes they cause. Global
//!   secondary indexes (schema from `DescribeTable`): an index entry is the
//!   index keys, the table keys and the projected attributes plus 100
//!   bytes; an entry that appears or disappears costs one write of its
//!   size, a moved key costs a delete and a put, a changed projected
//!   attribute one write, an unchanged entry nothing; always 1×.
//! - Reads from the responses: `GetItem` `ceil(size / 4 KB)` (at least 1,
//!   also for an absent item), `Query` the summed size of the returned items
//!   rounded up per 4 KB (at least 1), `BatchGetItem` per item; eventually
//!   consistent reads (every index query) cost half.

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Mutex;

type ItemMap = serde_json::Map<String, Value>;

// ------------------------------------------------------------ item sizes

/// Size of one attribute value in DynamoDB's accounting (DynamoDB JSON).
pub fn value_size(v: &Value) -> usize {
    let Some((t, x)) = v.as_object().and_then(|o| o.iter().next()) else {
        return 0;
    };
    let strs = |x: &Value| -> Vec<String> {
        x.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    match t.as_str() {
        "S" => x.as_str().map_or(0, str::len),
        "N" => number_size(x.as_str().unwrap_or("0")),
        "B" => b64_len(x.as_str().unwrap_or("")),
        "BOOL" | "NULL" => 1,
        "SS" => strs(x).iter().map(String::len).sum(),
        "NS" => strs(x).iter().map(|n| number_size(n)).sum(),
        "BS" => strs(x).iter().map(|b| b64_len(b)).sum(),
        "L" => {
            3 + x
                .as_array()
                .map_or(0, |a| a.iter().map(|e| 1 + value_size(e)).sum())
        }
        "M" => {
            3 + x.as_object().map_or(0, |m| {
                m.iter().map(|(k, e)| 1 + k.len() + value_size(e)).sum()
            })
        }
        _ => 0,
    }
}

/// A number: about one byte per two significant digits, plus one.
fn number_size(n: &str) -> usize {
    let digits: String = n.chars().filter(|c| c.is_ascii_digit()).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    significant.max(1).div_ceil(2) + 1
}

fn b64_len(s: &str) -> usize {
    let pad = s.bytes().rev().take_while(|b| *b == b'=').count();
    (s.len() * 3 / 4).saturating_sub(pad)
}

/// Size of an item: every attribute name plus its value.
pub fn item_size(item: &ItemMap) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

/// Units of `bytes` at `per` bytes a unit, at least one.
pub(crate) fn units(bytes: usize, per: usize) -> u64 {
    bytes.div_ceil(per).max(1) as u64
}

// ---------------------------------------------------------- table schema

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Projection {
    KeysOnly,
    Include(Vec<String>),
    All,
}

#[derive(Debug, Clone)]
pub(crate) struct GsiSchema {
    pub(crate) name: String,
    pub(crate) pk: String,
    pub(crate) sk: Option<String>,
    pub(crate) projection: Projection,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Schema {
    pub(crate) pk: String,
    pub(crate) sk: Option<String>,
    pub(crate) gsis: Vec<GsiSchema>,
}

fn key_schema(ks: &Value) -> (String, Option<String>) {
    let (mut h, mut r) = (String::new(), None);
    for k in ks.as_array().into_iter().flatten() {
        let name = k["AttributeName"].as_str().unwrap_or_default().to_string();
        match k["KeyType"].as_str() {
            Some("HASH") => h = name,
            Some("RANGE") => r = Some(name),
            _ => {}
        }
    }
    (h, r)
}

impl Schema {
    fn from_describe(d: &Value) -> Schema {
        let t = &d["Table"];
        let (pk, sk) = key_schema(&t["KeySchema"]);
        let gsis = t["GlobalSecondaryIndexes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|g| {
                let (pk, sk) = key_schema(&g["KeySchema"]);
                let pr = &g["Projection"];
                let projection = match pr["ProjectionType"].as_str() {
                    Some("ALL") => Projection::All,
                    Some("INCLUDE") => Projection::Include(
                        pr["NonKeyAttributes"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|a| a.as_str().map(String::from))
                            .collect(),
                    ),
                    _ => Projection::KeysOnly,
                };
                GsiSchema {
                    name: g["IndexName"].as_str().unwrap_or_default().to_string(),
                    pk,
                    sk,
                    projection,
                }
            })
            .collect();
        Schema { pk, sk, gsis }
    }

    /// The primary key of an item (or of a `Key` map), as a comparable string.
    pub(crate) fn key_of(&self, item: &ItemMap) -> String {
        let part = |a: &str| item.get(a).map(|v| v.to_string()).unwrap_or_default();
        format!(
            "{}|{}",
            part(&self.pk),
            self.sk.as_deref().map(part).unwrap_or_default()
        )
    }

    fn key_map(&self, item: &ItemMap) -> ItemMap {
        item.iter()
            .filter(|(k, _)| **k == self.pk || Some(k.as_str()) == self.sk.as_deref())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The entry `item` has in index `g` (its key and its size), if any.
    pub(crate) fn index_entry(
        &self,
        g: &GsiSchema,
        item: &ItemMap,
    ) -> Option<(String, ItemMap, usize)> {
        let gpk = item.get(&g.pk)?;
        let gsk = match &g.sk {
            Some(s) => Some(item.get(s)?),
            None => None,
        };
        let mut entry = ItemMap::new();
        for (k, v) in item {
            let keep = *k == g.pk
                || Some(k.as_str()) == g.sk.as_deref()
                || *k == self.pk
                || Some(k.as_str()) == self.sk.as_deref()
                || match &g.projection {
                    Projection::All => true,
                    Projection::Include(attrs) => attrs.contains(k),
                    Projection::KeysOnly => false,
                };
            if keep {
                entry.insert(k.clone(), v.clone());
            }
        }
        let size = item_size(&entry) + 100;
        let key = format!("{gpk}|{}", gsk.map(|v| v.to_string()).unwrap_or_default());
        Some((key, entry, size))
    }
}

/// `CASE#01J…` / `EVT#0000000002` → `CASE / EVT` (what kind of item).
pub(crate) fn label(item: &ItemMap, s: &Schema) -> String {
    let kind = |a: &str| -> String {
        let v = item.get(a).and_then(|v| v["S"].as_str()).unwrap_or("?");
        match v.split_once('#') {
            // A rollup row `<dd>#<scope>`: one kind whatever the day.
            Some((p, _)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                "<day>".into()
            }
            Some((p, _)) => p.to_string(),
            None if v.starts_with(|c: char| c.is_ascii_digit()) => "<day>".into(),
            None => v.to_string(),
        }
    };
    match &s.sk {
        Some(sk) => format!("{} / {}", kind(&s.pk), kind(sk)),
        None => kind(&s.pk),
    }
}

// --------------------------------------------------------------- records

#[derive(Debug, Clone)]
pub(crate) struct WriteRec {
    pub(crate) step: String,
    pub(crate) op: String,
    pub(crate) transact: bool,
    pub(crate) what: String,
    pub(crate) before: usize,
    pub(crate) after: usize,
    pub(crate) table_wru: u64,
    /// (index, change, units)
    pub(crate) gsi: Vec<(String, &'static str, u64)>,
}

#[derive(Debug, Clone)]
pub(crate) struct ReadRec {
    pub(crate) step: String,
    pub(crate) op: String,
    pub(crate) what: String,
    pub(crate) consistent: bool,
    pub(crate) items: usize,
    pub(crate) bytes: usize,
    pub(crate) rru: f64,
}

#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) step: String,
    pub(crate) service: &'static str,
    pub(crate) op: String,
}

#[derive(Default)]
pub(crate) struct Recorder {
    pub(crate) step: String,
    pub(crate) steps: Vec<String>,
    pub(crate) calls: Vec<Call>,
    pub(crate) writes: Vec<WriteRec>,
    pub(crate) reads: Vec<ReadRec>,
    pub(crate) schemas: HashMap<String, Schema>,
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    rec: Arc<Mutex<Recorder>>,
}

// ----------------------------------------------------------------- proxy

async fn forward(
    State(p): State<Proxy>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // One call at a time, so the snapshots around a write see only that write.
    let mut rec = p.rec.lock().await;
    match handle(&p, &mut rec, method, uri, headers, body).await {
        Ok(r) => r,
        Err(e) => (StatusCode::BAD_GATEWAY, format!("bench proxy: {e:#}")).into_response(),
    }
}

/// A DynamoDB call of the proxy's own (not recorded), signed like the caller's.
async fn ddb(p: &Proxy, auth: &HeaderMap, op: &str, body: Value) -> Result<Value> {
    let mut req = p
        .http
        .post(&p.upstream)
        .header("x-amz-target", format!("DynamoDB_20120810.{op}"))
        .header("content-type", "application/x-amz-json-1.0");
    for h in ["authorization", "x-amz-date", "x-amz-security-token"] {
        if let Some(v) = auth.get(h) {
            req = req.header(h, v.clone());
        }
    }
    let r = req.body(body.to_string()).send().await?;
    let st = r.status();
    let b = r.bytes().await?;
    if !st.is_success() {
        bail!("{op}: {st}: {}", String::from_utf8_lossy(&b));
    }
    Ok(serde_json::from_slice(&b)?)
}

/// Every item of `table` (strongly consistent, not recorded), by key.
pub(crate) async fn scan_table(
    upstream: &str,
    region: &str,
    table: &str,
    s: &Schema,
) -> Result<HashMap<String, ItemMap>> {
    let p = Proxy {
        upstream: upstream.trim_end_matches('/').to_string(),
        http: reqwest::Client::new(),
        rec: Arc::default(),
    };
    let auth = emulator_auth(region)?;
    let mut out = HashMap::new();
    let mut start: Option<Value> = None;
    loop {
        let mut body = json!({"TableName": table, "ConsistentRead": true});
        if let Some(k) = start.take() {
            body["ExclusiveStartKey"] = k;
        }
        let r = ddb(&p, &auth, "Scan", body).await?;
        for it in r["Items"].as_array().into_iter().flatten() {
            if let Some(m) = it.as_object() {
                out.insert(s.key_of(m), m.clone());
            }
        }
        match r.get("LastEvaluatedKey") {
            Some(k) if !k.is_null() => start = Some(k.clone()),
            _ => return Ok(out),
        }
    }
}

/// An authorization header the emulator accepts: it reads the region from
/// the credential scope and checks no signature.
fn emulator_auth(region: &str) -> Result<HeaderMap> {
    let mut auth = HeaderMap::new();
    auth.insert(
        "authorization",
        format!(
            "AWS4-HMAC-SHA256 Credential=testing/20250101/{region}/dynamodb/aws4_request, SignedHeaders=host, Signature=0"
        )
        .parse()?,
    );
    Ok(auth)
}

/// The items named by `keys` in `table` now (a strongly consistent
/// `BatchGetItem`, not recorded), by key: what a write call is about to
/// change, or has changed. Independent of the table's size.
async fn items_now(
    p: &Proxy,
    auth: &HeaderMap,
    table: &str,
    s: &Schema,
    keys: &[ItemMap],
) -> Result<HashMap<String, ItemMap>> {
    let mut uniq: Vec<ItemMap> = Vec::new();
    for k in keys {
        let k = s.key_map(k);
        if !uniq.iter().any(|u| s.key_of(u) == s.key_of(&k)) {
            uniq.push(k);
        }
    }
    let mut out = HashMap::new();
    for chunk in uniq.chunks(100) {
        let mut pending = json!({ table: {"Keys": chunk, "ConsistentRead": true} });
        loop {
            let r = ddb(p, auth, "BatchGetItem", json!({ "RequestItems": pending })).await?;
            for it in r["Responses"][table].as_array().into_iter().flatten() {
                if let Some(m) = it.as_object() {
                    out.insert(s.key_of(m), m.clone());
                }
            }
            match r["UnprocessedKeys"].as_object() {
                Some(u) if !u.is_empty() => pending = Value::Object(u.clone()),
                _ => break,
            }
        }
    }
    Ok(out)
}

/// (table, key, transactional) of every item a write call touches.
fn write_targets(op: &str, req: &Value) -> Vec<(String, ItemMap, bool)> {
    let obj = |v: &Value| v.as_object().cloned().unwrap_or_default();
    let table = |v: &Value| v["TableName"].as_str().unwrap_or_default().to_string();
    match op {
        "PutItem" => vec![(table(req), obj(&req["Item"]), false)],
        "UpdateItem" | "DeleteItem" => vec![(table(req), obj(&req["Key"]), false)],
        "TransactWriteItems" => req["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|ti| {
                let (kind, x) = ti.as_object()?.iter().next()?;
                let k = if kind == "Put" { &x["Item"] } else { &x["Key"] };
                Some((table(x), obj(k), true))
            })
            .collect(),
        "BatchWriteItem" => req["RequestItems"]
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(t, reqs)| {
                reqs.as_array().into_iter().flatten().filter_map(move |r| {
                    let k = r
                        .get("PutRequest")
                        .map(|p| &p["Item"])
                        .or_else(|| r.get("DeleteRequest").map(|d| &d["Key"]))?;
                    Some((t.clone(), obj(k), false))
                })
            })
            .collect(),
        _ => vec![],
    }
}

/// The keys a write call names, by table.
fn keys_by_table(targets: &[(String, ItemMap, bool)]) -> HashMap<String, Vec<ItemMap>> {
    let mut by: HashMap<String, Vec<ItemMap>> = HashMap::new();
    for (t, k, _) in targets {
        by.entry(t.clone()).or_default().push(k.clone());
    }
    by
}

async fn handle(
    p: &Proxy,
    rec: &mut Recorder,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let (service, op): (&'static str, String) =
        if let Some(op) = target.strip_prefix("DynamoDB_20120810.") {
            ("dynamodb", op.into())
        } else if let Some(op) = target.strip_prefix("AmazonSQS.") {
            ("sqs", op.into())
        } else {
            // Query protocol (SNS, older SQS): Action=… in the form body.
            let form = String::from_utf8_lossy(&body);
            let action = form
                .split('&')
                .find_map(|kv| kv.strip_prefix("Action="))
                .unwrap_or("?")
                .to_string();
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            (if auth.contains("/sqs/") { "sqs" } else { "sns" }, action)
        };
    rec.calls.push(Call {
        step: rec.step.clone(),
        service,
        op: op.clone(),
    });
    let req: Value = if service == "dynamodb" {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    let targets = if service == "dynamodb" {
        write_targets(&op, &req)
    } else {
        vec![]
    };
    let mut before: HashMap<String, HashMap<String, ItemMap>> = HashMap::new();
    for (t, _, _) in &targets {
        if !rec.schemas.contains_key(t) {
            let d = ddb(p, &headers, "DescribeTable", json!({"TableName": t})).await?;
            rec.schemas.insert(t.clone(), Schema::from_describe(&d));
        }
    }
    for (t, keys) in keys_by_table(&targets) {
        let now = items_now(p, &headers, &t, &rec.schemas[&t], &keys).await?;
        before.insert(t, now);
    }

    let path = uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
    let mut fwd = p.http.request(method, format!("{}{path}", p.upstream));
    for (k, v) in &headers {
        if !matches!(
            k.as_str(),
            "host" | "content-length" | "connection" | "transfer-encoding"
        ) {
            fwd = fwd.header(k.clone(), v.clone());
        }
    }
    let res = fwd
        .body(body)
        .send()
        .await
        .context("forwarding to the emulator")?;
    let status = res.status();
    let res_headers = res.headers().clone();
    let res_body = res.bytes().await?;

    if service == "dynamodb" && status.is_success() {
        let step = rec.step.clone();
        if !targets.is_empty() {
            let mut after: HashMap<String, HashMap<String, ItemMap>> = HashMap::new();
            for (t, keys) in keys_by_table(&targets) {
                let now = items_now(p, &headers, &t, &rec.schemas[&t], &keys).await?;
                after.insert(t, now);
            }
            for (t, key, transact) in &targets {
                let s = &rec.schemas[t];
                let k = s.key_of(&s.key_map(key));
                let b = before[t].get(&k);
                let a = after[t].get(&k);
                let (bs, as_) = (b.map_or(0, item_size), a.map_or(0, item_size));
                let mult = if *transact { 2 } else { 1 };
                let mut gsi = Vec::new();
                for g in &s.gsis {
                    let eb = b.and_then(|i| s.index_entry(g, i));
                    let ea = a.and_then(|i| s.index_entry(g, i));
                    let change = match (&eb, &ea) {
                        (None, None) => None,
                        (None, Some(x)) => Some(("add", units(x.2, 1024))),
                        (Some(x), None) => Some(("remove", units(x.2, 1024))),
                        (Some(x), Some(y)) if x.0 != y.0 => {
                            Some(("move", units(x.2, 1024) + units(y.2, 1024)))
                        }
                        (Some(x), Some(y)) if x.1 != y.1 => {
                            Some(("update", units(x.2.max(y.2), 1024)))
                        }
                        _ => None,
                    };
                    if let Some((what, u)) = change {
                        gsi.push((g.name.clone(), what, u));
                    }
                }
                rec.writes.push(WriteRec {
                    step: step.clone(),
                    op: op.clone(),
                    transact: *transact,
                    what: label(a.or(b).unwrap_or(key), s),
                    before: bs,
                    after: as_,
                    table_wru: units(bs.max(as_), 1024) * mult,
                    gsi,
                });
            }
        } else {
            let resp: Value = serde_json::from_slice(&res_body).unwrap_or(Value::Null);
            account_reads(rec, &step, &op, &req, &resp);
        }
    }

    let mut out = Response::builder().status(status);
    for (k, v) in &res_headers {
        if !matches!(
            k.as_str(),
            "content-length" | "connection" | "transfer-encoding"
        ) {
            out = out.header(k.clone(), v.clone());
        }
    }
    Ok(out.body(axum::body::Body::from(res_body))?)
}

fn account_reads(rec: &mut Recorder, step: &str, op: &str, req: &Value, resp: &Value) {
    let consistent = |v: &Value| v["ConsistentRead"].as_bool().unwrap_or(false);
    let factor = |c: bool| if c { 1.0 } else { 0.5 };
    let objs = |v: &Value| -> Vec<ItemMap> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i.as_object().cloned())
            .collect()
    };
    let first_value = |req: &Value| -> String {
        req["ExpressionAttributeValues"]
            .as_object()
            .and_then(|m| m.get(":pk").or_else(|| m.get(":gpk")))
            .and_then(|v| v["S"].as_str())
            .map(|s| s.split('#').next().unwrap_or(s).to_string())
            .unwrap_or_default()
    };
    let mut push = |what: String, c: bool, items: usize, bytes: usize, rru: f64| {
        rec.reads.push(ReadRec {
            step: step.into(),
            op: op.into(),
            what,
            consistent: c,
            items,
            bytes,
            rru,
        })
    };
    match op {
        "GetItem" => {
            let c = consistent(req);
            let item = resp["Item"].as_object();
            let size = item.map_or(0, item_size);
            let what = req["Key"]
                .as_object()
                .and_then(|k| k.values().next())
                .and_then(|v| v["S"].as_str())
                .map(|s| s.split('#').next().unwrap_or(s).to_string())
                .unwrap_or_default();
            let what = if item.is_some() {
                what
            } else {
                format!("{what} (absent)")
            };
            push(
                what,
                c,
                item.is_some() as usize,
                size,
                units(size, 4096) as f64 * factor(c),
            );
        }
        "Query" | "Scan" => {
            let c = consistent(req);
            let items = objs(&resp["Items"]);
            let bytes: usize = items.iter().map(item_size).sum();
            let on = req["IndexName"].as_str().unwrap_or("table");
            let mut what = format!("{on} {}", first_value(req));
            if req["Select"].as_str() == Some("COUNT") || resp["ScannedCount"] != resp["Count"] {
                what.push_str(" (items filtered or counted: size not seen, minimum assumed)");
            }
            push(
                what,
                c,
                items.len(),
                bytes,
                units(bytes, 4096) as f64 * factor(c),
            );
        }
        "BatchGetItem" => {
            for (t, r) in resp["Responses"].as_object().into_iter().flatten() {
                let c = consistent(&req["RequestItems"][t]);
                let items = objs(r);
                let bytes: usize = items.iter().map(item_size).sum();
                let rru = items
                    .iter()
                    .fold(0.0, |a, i| a + units(item_size(i), 4096) as f64 * factor(c));
                push("batch".into(), c, items.len(), bytes, rru);
            }
        }
        "TransactGetItems" => {
            for r in resp["Responses"].as_array().into_iter().flatten() {
                let size = r["Item"].as_object().map_or(0, item_size);
                push(
                    "transact".into(),
                    true,
                    1,
                    size,
                    2.0 * units(size, 4096) as f64,
                );
            }
        }
        _ => {}
    }
}

/// Start the recording proxy in front of `upstream` (for other benches):
/// its endpoint and what it records.
pub(crate) async fn start_proxy(upstream: &str) -> Result<(String, Arc<Mutex<Recorder>>)> {
    let rec = Arc::new(Mutex::new(Recorder::default()));
    let proxy = Proxy {
        upstream: upstream.trim_end_matches('/').to_string(),
        http: reqwest::Client::new(),
        rec: rec.clone(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(
        axum::serve(listener, Router::new().fallback(forward).with_state(proxy)).into_future(),
    );
    Ok((format!("http://{addr}"), rec))
}

/// The DynamoDB calls of one step (by operation, in order) and the read
/// units they cost by DynamoDB's rules (see the module docs).
pub(crate) fn step_reads(rec: &Recorder, step: &str) -> (Vec<String>, f64) {
    let calls = rec
        .calls
        .iter()
        .filter(|c| c.step == step && c.service == "dynamodb")
        .map(|c| c.op.clone())
        .collect();
    let rru = rec
        .reads
        .iter()
        .filter(|r| r.step == step)
        .fold(0.0, |a, r| a + r.rru);
    (calls, rru)
}

/// Name the step the following calls belong to.
pub(crate) async fn set_step(rec: &Mutex<Recorder>, step: &str) {
    let mut r = rec.lock().await;
    r.step = step.to_string();
    r.steps.push(step.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(v: Value) -> ItemMap {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn sizes_follow_dynamodb_rules() {
        // Names count, strings by UTF-8 bytes, numbers ~ digits/2 + 1.
        assert_eq!(item_size(&item(json!({"pk": {"S": "CASE#1"}}))), 2 + 6);
        assert_eq!(item_size(&item(json!({"đ": {"S": "ê"}}))), 2 + 2);
        assert_eq!(value_size(&json!({"N": "7"})), 2);
        assert_eq!(value_size(&json!({"N": "1700000000"})), 2); // "17": two significant digits
        assert_eq!(value_size(&json!({"N": "12345"})), 3 + 1);
        assert_eq!(value_size(&json!({"BOOL": true})), 1);
        assert_eq!(
            value_size(&json!({"L": [{"S": "ab"}, {"N": "1"}]})),
            3 + (1 + 2) + (1 + 2)
        );
        assert_eq!(value_size(&json!({"M": {"a": {"S": "xy"}}})), 3 + 1 + 1 + 2);
        assert_eq!(value_size(&json!({"B": "AAEC"})), 3);
        assert_eq!(units(0, 1024), 1, "a write costs at least one unit");
        assert_eq!(units(1024, 1024), 1);
        assert_eq!(units(1025, 1024), 2);
        assert_eq!(units(4097, 4096), 2);
    }

    fn schema() -> Schema {
        Schema::from_describe(&json!({"Table": {
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "GlobalSecondaryIndexes": [
                {"IndexName": "g1", "KeySchema": [{"AttributeName": "g1pk", "KeyType": "HASH"}, {"AttributeName": "g1sk", "KeyType": "RANGE"}],
                 "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["due"]}},
                {"IndexName": "g2", "KeySchema": [{"AttributeName": "g2pk", "KeyType": "HASH"}],
                 "Projection": {"ProjectionType": "KEYS_ONLY"}}
            ]
        }}))
    }

    #[test]
    fn index_entries_hold_keys_projection_and_overhead() {
        let s = schema();
        let a = item(json!({
            "pk": {"S": "P"}, "sk": {"S": "S"}, "g1pk": {"S": "U"}, "g1sk": {"S": "T"},
            "due": {"S": "D"}, "doc": {"S": "a long document"}
        }));
        let (k, entry, size) = s.index_entry(&s.gsis[0], &a).unwrap();
        assert!(!entry.contains_key("doc"), "not projected");
        assert_eq!(size, (2 + 1) + (2 + 1) + (4 + 1) + (4 + 1) + (3 + 1) + 100);
        assert_eq!(k, "{\"S\":\"U\"}|{\"S\":\"T\"}");
        assert!(s.index_entry(&s.gsis[1], &a).is_none(), "sparse: no g2pk");
        // A key map (pk, sk) finds the item it names.
        assert_eq!(s.key_of(&s.key_map(&a)), s.key_of(&a));
        assert_eq!(label(&a, &s), "P / S");
        let rollup = item(json!({"pk": {"S": "STATS#2026-12"}, "sk": {"S": "03#ward:00070"}}));
        assert_eq!(label(&rollup, &s), "STATS / <day>");
    }

    #[test]
    fn write_targets_cover_transactions_and_single_writes() {
        let req = json!({"TransactItems": [
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}, "sk": {"S": "b"}, "x": {"S": "y"}}}},
            {"Update": {"TableName": "t", "Key": {"pk": {"S": "c"}, "sk": {"S": "d"}}}}
        ]});
        let t = write_targets("TransactWriteItems", &req);
        assert_eq!(t.len(), 2);
        assert!(t.iter().all(|(table, _, tx)| table == "t" && *tx));
        let u = write_targets(
            "UpdateItem",
            &json!({"TableName": "t", "Key": {"pk": {"S": "c"}}}),
        );
        assert_eq!((u.len(), u[0].2), (1, false));
        assert!(write_targets("GetItem", &json!({})).is_empty());
    }
}
