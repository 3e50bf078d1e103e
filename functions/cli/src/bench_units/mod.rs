//! `pakn bench lifecycle-units`: what one case lifecycle costs in DynamoDB
//! write and read units, SQS requests and SNS publishes — and what the
//! deadline sweep's decisions on a case left alone cost: a reminder, then
//! the overdue alert.
//!
//! Units are computed by DynamoDB's published rules from the exact items
//! each call writes and reads, by a recording proxy in front of the
//! emulator ([`proxy`]: why the emulator's own figures cannot be used, and
//! the rules).
//!
//! What is driven, exactly as on AWS:
//! - **the lifecycle** (steps 1–7): through the real HTTP API (the axum
//!   router the API Lambda runs, on a loopback socket, HS256 tokens) and the
//!   router's per-message code (SQS receive → `route_case` → delete, as the
//!   event source mapping does): submit with an `Idempotency-Key`, route,
//!   the official opens the case, accepts, resolves, the citizen opens it and
//!   rates it, which closes it;
//! - **the decisions**: a second case, submitted and routed the same way and
//!   then left alone; the clock of the whole pipeline is moved to each of its
//!   milestones in turn and the deadlines Lambda's sweep
//!   ([`pakn_deadlines::sweep_until_done`]) runs: a reminder (`ack_due`, and
//!   `before_due` on its own day), then the overdue alert. Before each
//!   decision, a sweep one minute earlier does that day's shared work (the
//!   daily snapshot, the once-a-day unit checks), so a decision step holds
//!   the decision alone — checked: it writes no day marker.
//!
//! Writes made during the lifecycle that are not the case's own (quota
//! counters, rollups, aggregates…) are counted where they happen and listed
//! by item kind.

mod proxy;

pub(crate) use proxy::{Recorder, set_step, start_proxy, step_reads};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Duration, Utc};
use pakn_api::{AppState, Auth, app};
use pakn_core::Pakn;
use pakn_core::auth::Role;
use pakn_core::ids::CaseId;
use pakn_core::milestones::{MilestoneKind, milestones};
use pakn_core::ports::Clock;
use pakn_core::refdata::RefData;
use pakn_core::unit::UnitCode;
use proxy::{Schema, item_size, label, scan_table};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use tokio::sync::Mutex;

/// What a step's units count towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// One case's lifecycle (steps 1–7).
    Lifecycle,
    /// A sweep decision: a reminder.
    Reminder,
    /// A sweep decision: the overdue alert.
    Overdue,
    /// The second case's submit and route (the same as steps 1–2).
    Setup,
    /// Work of a sweep shared by every case (per run, per day).
    Shared,
    /// The same lifecycle again for a reporter told by SMS: what telling
    /// the citizen adds is its total less the lifecycle's.
    Notices,
    /// The citizen choosing SMS (once per citizen, not per case).
    NoticeSetup,
}

impl Part {
    fn as_str(self) -> &'static str {
        match self {
            Part::Lifecycle => "lifecycle",
            Part::Reminder => "reminder",
            Part::Overdue => "overdue",
            Part::Setup => "setup",
            Part::Shared => "shared",
            Part::Notices => "notices",
            Part::NoticeSetup => "notice_setup",
        }
    }
}

/// The system clock moved forward by hand: the whole pipeline (API, router,
/// sweep) reads it, so deadlines can be reached in seconds.
#[derive(Clone, Default)]
struct MovedClock(Arc<std::sync::Mutex<Duration>>);

impl MovedClock {
    fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at - Utc::now();
    }
}

impl Clock for MovedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Everything one run recorded.
pub struct Measured {
    rec: Recorder,
    parts: Vec<(String, Part)>,
    case_id: String,
    storage: Storage,
    /// The milestone keys each decision step decided.
    decided: BTreeMap<String, Vec<String>>,
}

struct Storage {
    items: usize,
    bytes: usize,
    index_bytes: usize,
    kinds: BTreeMap<String, (usize, usize)>,
}

/// What the driver needs at hand.
struct Rig {
    base: String,
    http: reqwest::Client,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    pakn: Pakn,
    rec: Arc<Mutex<Recorder>>,
    parts: Vec<(String, Part)>,
    official: String,
    stream: Pump,
}

/// The table's stream, handed to `pakn-publisher`'s handler at the end of
/// each step (as Lambda would within a second): its DynamoDB and SNS calls
/// count towards the step whose change it publishes. The stream itself is
/// read unrecorded (reading a stream costs no table units).
struct Pump {
    store: Arc<pakn_aws::DynamoStore>,
    direct: aws_config::SdkConfig,
    endpoint: String,
    region: String,
    table: String,
    seen: usize,
    /// The first thing that went wrong (the bench fails with it at the end).
    error: Option<String>,
}

impl Rig {
    async fn step(&mut self, name: &str, part: Part) {
        self.pump().await;
        set_step(&self.rec, name).await;
        self.parts.push((name.to_string(), part));
    }

    /// Publish what the step's changes put on the stream.
    async fn pump(&mut self) {
        let s = &mut self.stream;
        let all = match pakn_testkit::streams::records(&s.direct, &s.endpoint, &s.region, &s.table)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                s.error.get_or_insert(e);
                return;
            }
        };
        let fresh: Vec<Value> = all[s.seen.min(all.len())..].to_vec();
        s.seen = all.len();
        if fresh.is_empty() {
            return;
        }
        let done =
            pakn_aws::publisher::publish_batch(&self.pakn, &s.store, &json!({"Records": fresh}))
                .await;
        if done.parked > 0 || !done.failed.is_empty() {
            s.error.get_or_insert(format!(
                "the publisher did not publish everything: {done:?}"
            ));
        }
    }

    /// Submit a report (with an `Idempotency-Key`) through the API; its case id.
    async fn submit(&self, citizen: &str, idem: &str) -> Result<String> {
        let report = json!({
            "kind": "field",
            "category": "lighting",
            "title": "Đèn đường hỏng trên phố Hàng Bài",
            "description": "Ba cột đèn trên phố Hàng Bài, đoạn từ Tràng Thi đến Hai Bà Trưng, không sáng từ tối qua; đi lại buổi tối rất nguy hiểm.",
            "urgency": "normal",
            "location": {"lat": 21.0245, "lng": 105.8525, "address": "Phố Hàng Bài, Hoàn Kiếm", "ward_code": "00070"},
            "media": ["https://example.org/anh/den-hong-1.jpg"],
            "channel": "app",
            "contact": {"name": "Nguyễn Văn A", "phone": "0912 345 678", "email": "a@example.org"}
        });
        let res = self
            .http
            .post(format!("{}/v1/cases", self.base))
            .bearer_auth(citizen)
            .header("idempotency-key", idem)
            .json(&report)
            .send()
            .await?;
        let (receipt, _) = expect(res, 202, "submit").await?;
        Ok(receipt["id"]
            .as_str()
            .context("submit answered no id")?
            .to_string())
    }

    /// What the router Lambda does with the intake queue: receive, route, delete.
    async fn route(&self) -> Result<()> {
        for _ in 0..5 {
            let got = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await?;
            for m in got.messages() {
                let cid = m
                    .body()
                    .and_then(|b| serde_json::from_str::<Value>(b).ok())
                    .and_then(|v| v["case_id"].as_str().and_then(CaseId::parse))
                    .context("undecodable intake message")?;
                self.pakn
                    .routing()
                    .route_case(&cid)
                    .await
                    .map_err(|e| anyhow::anyhow!("route: {e:?}"))?;
                if let Some(h) = m.receipt_handle() {
                    self.sqs
                        .delete_message()
                        .queue_url(&self.queue_url)
                        .receipt_handle(h)
                        .send()
                        .await?;
                }
            }
            if !got.messages().is_empty() {
                return Ok(());
            }
        }
        bail!("the intake message never arrived")
    }

    /// One scheduled invocation of the deadlines Lambda.
    async fn sweep(&self) -> Result<pakn_deadlines::Totals> {
        pakn_deadlines::sweep_until_done(&self.pakn, pakn_deadlines::PASS_LIMIT, None)
            .await
            .map_err(|e| anyhow::anyhow!("sweep: {e:?}"))
    }
}

async fn expect(res: reqwest::Response, want: u16, what: &str) -> Result<(Value, Option<String>)> {
    let st = res.status().as_u16();
    let etag = res
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if st != want {
        bail!("{what}: expected {want}, got {st}: {body}");
    }
    Ok((body, etag))
}

/// `pakn bench lifecycle-units`: the table (or `--json`) on standard output.
/// `region`: `AWS_REGION` from the configuration, else ap-southeast-1 (see `bench::run`).
pub async fn run(endpoint: &str, region: &str, detail: bool, json: bool) -> Result<()> {
    let m = measure(endpoint, region).await?;
    if json {
        println!("{}", to_json(&m));
    } else {
        print!("{}", render(&m, detail));
    }
    Ok(())
}

/// The `--json` object of the bench (also `pakn bench`'s `units` section).
pub async fn units_json(endpoint: &str, region: &str) -> Result<Value> {
    Ok(to_json(&measure(endpoint, region).await?))
}

async fn measure(endpoint: &str, region: &str) -> Result<Measured> {
    let endpoint = endpoint.trim_end_matches('/').to_string();
    let direct = pakn_aws::emulator_sdk_config(&endpoint, region).await;
    let prefix = format!("pakn-bench-{}", Utc::now().timestamp_millis());
    let prov = pakn_aws::provision(&direct, &pakn_aws::Names::with_prefix(&prefix))
        .await
        .context("provisioning on the emulator")?;

    let (proxy_url, rec) = start_proxy(&endpoint).await?;
    let sdk = pakn_aws::emulator_sdk_config(&proxy_url, region).await;
    let cfg = pakn_aws::AwsResources {
        table_name: prov.table.clone(),
        intake_queue_url: prov.queue_url.clone(),
        topic_arn: prov.topic_arn.clone(),
        // As the template deploys it: the outbox published from the stream.
        publish_from_stream: true,
    };
    let refdata = Arc::new(RefData::embedded());
    let clock = MovedClock::default();
    let store = Arc::new(pakn_aws::store_with(&sdk, &cfg));
    let pakn = pakn_aws::pakn_on(
        store.clone(),
        &sdk,
        &cfg,
        refdata.clone(),
        Arc::new(clock.clone()),
    );
    // The same store without the proxy: the bench's own reads, not recorded.
    let unrecorded = pakn_aws::pakn_with(&direct, &cfg, refdata.clone(), Arc::new(clock.clone()));
    let secret: Vec<u8> = rand::random::<[u8; 32]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .into_bytes();
    let api = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", api.local_addr()?);
    let state = AppState {
        pakn: pakn.clone(),
        auth: Auth::Hs256 {
            secret: secret.clone(),
        },
        console: Default::default(),
    };
    tokio::spawn(axum::serve(api, app(state)).into_future());

    let now = Utc::now();
    // Valid while the clock is moved through the second case's deadlines.
    let ttl = Duration::days(30);
    let unit = UnitCode::ward("00070");
    let citizen = pakn_api::token::mint(&secret, "cong-dan-bench", Role::Citizen, None, ttl, now);
    let official = pakn_api::token::mint(
        &secret,
        "can-bo-bench",
        Role::Official,
        Some(&unit),
        ttl,
        now,
    );
    let mut rig = Rig {
        base: base.clone(),
        http: reqwest::Client::new(),
        sqs: aws_sdk_sqs::Client::new(&sdk),
        queue_url: prov.queue_url.clone(),
        pakn,
        rec: rec.clone(),
        parts: Vec::new(),
        official: official.clone(),
        stream: Pump {
            store,
            direct: direct.clone(),
            endpoint: endpoint.clone(),
            region: region.to_string(),
            table: prov.table.clone(),
            seen: 0,
            error: None,
        },
    };

    // ---- the lifecycle
    let id = lifecycle(&mut rig, &citizen, "", Part::Lifecycle, &prefix).await?;

    rig.step(
        "per run: a deadline sweep now, the table's first (shared by all cases)",
        Part::Shared,
    )
    .await;
    rig.sweep().await?;

    // ---- a case left alone through its deadlines, submitted at 10:00 on
    // the next working day: its milestones (8, 16 and 24 working hours
    // later) fall at 10:00 too, after that day's first sweep has done the
    // day's shared work (snapshot from 00:01, unit checks from 08:00).
    clock.set(next_working_morning(&refdata, Utc::now()));
    rig.step("8 a second case, left alone: submit (as 1)", Part::Setup)
        .await;
    let left = rig
        .submit(&citizen, &format!("bench-{prefix}-left"))
        .await?;
    rig.step("9 route (as 2)", Part::Setup).await;
    rig.route().await?;
    let left_id = CaseId::parse(&left).context("case id")?;
    let decided = decisions(&mut rig, &unrecorded, &clock, &refdata, &left_id).await?;

    // ---- the lifecycle again, for a reporter told by SMS, on a working
    // morning (no quiet hours): every text goes at once.
    clock.set(next_working_morning(&refdata, clock.now()));
    let told = pakn_api::token::mint(&secret, "cong-dan-bench-sms", Role::Citizen, None, ttl, now);
    rig.step(
        "N0 the citizen chooses SMS (PUT /v1/me/notifications; a code is sent)",
        Part::NoticeSetup,
    )
    .await;
    let put = rig
        .http
        .put(format!("{base}/v1/me/notifications"))
        .bearer_auth(&told)
        .json(&json!({"channel": "sms", "phone": "0912 345 678"}))
        .send()
        .await?;
    expect(put, 200, "notification settings").await?;
    // Entering the code is one more save of the same item (1 WRU); the
    // bench reads no SMS, so it marks the phone verified itself, unrecorded.
    let store = &unrecorded.notices;
    let mut prefs = store
        .notice_prefs("cong-dan-bench-sms")
        .await?
        .context("the settings were not saved")?;
    prefs.phone_verified_at = Some(clock.now());
    prefs.code = None;
    prefs.version += 1;
    store.save_notice_prefs(&prefs).await?;
    lifecycle(
        &mut rig,
        &told,
        "N",
        Part::Notices,
        &format!("{prefix}-sms"),
    )
    .await?;

    rig.pump().await;
    if let Some(e) = rig.stream.error.take() {
        bail!("publishing from the table's stream: {e}");
    }
    let storage = storage(&endpoint, region, &rec, &prov.table, &id).await?;
    let rec = std::mem::take(&mut *rec.lock().await);
    Ok(Measured {
        rec,
        parts: rig.parts,
        case_id: id,
        storage,
        decided,
    })
}

/// Steps 1–7 for `citizen`'s report (each step's name prefixed with `tag`,
/// counted towards `part`); the case's id.
async fn lifecycle(
    rig: &mut Rig,
    citizen: &str,
    tag: &str,
    part: Part,
    prefix: &str,
) -> Result<String> {
    let official = rig.official.clone();
    let base = rig.base.clone();
    rig.step(&format!("{tag}1 submit (POST /v1/cases)"), part)
        .await;
    let id = rig.submit(citizen, &format!("bench-{prefix}")).await?;
    rig.step(
        &format!("{tag}2 route (router Lambda: SQS receive, route, delete)"),
        part,
    )
    .await;
    rig.route().await?;

    let http = rig.http.clone();
    let get = |token: &str| {
        http.get(format!("{base}/v1/cases/{id}"))
            .bearer_auth(token.to_string())
            .send()
    };
    let act = |token: &str, action: &str, etag: &str, body: Value| {
        http.post(format!("{base}/v1/cases/{id}/{action}"))
            .bearer_auth(token.to_string())
            .header("if-match", etag.to_string())
            .json(&body)
            .send()
    };

    rig.step(&format!("{tag}3 official opens the case (GET)"), part)
        .await;
    let (_, etag) = expect(get(&official).await?, 200, "official GET").await?;
    let etag = etag.context("no ETag")?;

    rig.step(&format!("{tag}4 accept"), part).await;
    let (_, etag) = expect(
        act(&official, "accept", &etag, json!({})).await?,
        200,
        "accept",
    )
    .await?;
    let etag = etag.context("no ETag")?;

    rig.step(&format!("{tag}5 resolve"), part).await;
    let answer = json!({
        "answer": "Đã thay bóng và sửa đường dây cho ba cột đèn; đèn sáng lại từ tối nay.",
        "evidence": ["https://example.org/anh/den-da-sua.jpg"]
    });
    expect(
        act(&official, "resolve", &etag, answer).await?,
        200,
        "resolve",
    )
    .await?;

    rig.step(&format!("{tag}6 citizen opens the case (GET)"), part)
        .await;
    let (_, etag) = expect(get(citizen).await?, 200, "citizen GET").await?;
    let etag = etag.context("no ETag")?;

    rig.step(&format!("{tag}7 rate (closes the case)"), part)
        .await;
    let rate = json!({"score": 5, "comment": "Cảm ơn phường đã xử lý nhanh."});
    let (closed, _) = expect(act(citizen, "rate", &etag, rate).await?, 200, "rate").await?;
    if closed["status"] != "closed" {
        bail!("after rating the case is {}, not closed", closed["status"]);
    }

    Ok(id)
}

/// 10:00 local on the first working day after the local day of `now`.
fn next_working_morning(refdata: &RefData, now: DateTime<Utc>) -> DateTime<Utc> {
    let cal = &refdata.calendar;
    let mut day = cal.local_date(now);
    loop {
        day = day.succ_opt().unwrap_or(day);
        if cal.is_working_day(day) {
            return cal.local_midnight(day) + Duration::hours(10);
        }
    }
}

/// Move the clock to each undecided milestone of the case left alone and
/// let the deadlines Lambda decide it, until the overdue alert is decided.
/// Each decision step is preceded by the day's shared work, one minute
/// before it. The milestone keys of each decision step.
async fn decisions(
    rig: &mut Rig,
    unrecorded: &Pakn,
    clock: &MovedClock,
    refdata: &RefData,
    id: &CaseId,
) -> Result<BTreeMap<String, Vec<String>>> {
    let mut out = BTreeMap::new();
    let mut warmed = None;
    for n in 10..16 {
        let case = unrecorded
            .cases
            .get_case(id)
            .await?
            .context("the case left alone is gone")?;
        let undecided: Vec<_> = milestones(&case, refdata)
            .into_iter()
            .filter(|m| !case.milestones_done.contains(&m.key))
            .collect();
        let Some(at) = undecided.iter().map(|m| m.at).min() else {
            bail!("the case left alone has no milestone left before its overdue alert");
        };
        let due: Vec<_> = undecided.iter().filter(|m| m.at == at).collect();
        let part = if due.iter().any(|m| m.kind == MilestoneKind::Overdue) {
            Part::Overdue
        } else if due
            .iter()
            .all(|m| matches!(m.kind, MilestoneKind::AckDue | MilestoneKind::BeforeDue))
        {
            Part::Reminder
        } else {
            bail!("unexpected milestones before the overdue alert: {due:?}");
        };
        let day = refdata.calendar.local_date(at);
        if warmed != Some(day) {
            clock.set(at - Duration::minutes(1));
            rig.step(
                &format!(
                    "per day: the first sweep of {day} (snapshot, unit checks; shared by all cases)"
                ),
                Part::Shared,
            )
            .await;
            rig.sweep().await?;
            warmed = Some(day);
        }
        clock.set(at + Duration::minutes(1));
        let keys: Vec<String> = due.iter().map(|m| m.key.clone()).collect();
        let names: Vec<&str> = keys
            .iter()
            .map(|k| k.split('@').next().unwrap_or(k))
            .collect();
        let step = format!(
            "{n} sweep decides {} ({})",
            names.join(" + "),
            part.as_str()
        );
        rig.step(&step, part).await;
        let t = rig.sweep().await?;
        if t.decided != 1 {
            bail!("{step}: the sweep decided {} cases, not 1", t.decided);
        }
        let r = rig.rec.lock().await;
        if r.writes
            .iter()
            .any(|w| w.step == step && w.what == "MARK / MARK")
        {
            bail!("{step}: the day's shared work ran in the decision step");
        }
        drop(r);
        out.insert(step, keys);
        if part == Part::Overdue {
            return Ok(out);
        }
    }
    bail!("no overdue decision after 6 milestones")
}

/// What one closed case keeps in the table: its items (plus DynamoDB's
/// 100 bytes of per-item overhead) and its index entries. Daily rollups are
/// shared by all cases of a day and left out.
async fn storage(
    endpoint: &str,
    region: &str,
    rec: &Mutex<Recorder>,
    table: &str,
    id: &str,
) -> Result<Storage> {
    let s: Schema = rec
        .lock()
        .await
        .schemas
        .get(table)
        .cloned()
        .context("no schema recorded")?;
    let all = scan_table(endpoint, region, table, &s).await?;
    let mut st = Storage {
        items: 0,
        bytes: 0,
        index_bytes: 0,
        kinds: BTreeMap::new(),
    };
    for item in all.values() {
        let pk = item
            .get(&s.pk)
            .and_then(|v| v["S"].as_str())
            .unwrap_or_default();
        let mine = pk == format!("CASE#{id}")
            || item.get("case_id").and_then(|v| v["S"].as_str()) == Some(id);
        if !mine {
            continue;
        }
        st.items += 1;
        let size = item_size(item) + 100;
        st.bytes += size;
        let e = st.kinds.entry(label(item, &s)).or_default();
        e.0 += 1;
        e.1 += size;
        for g in &s.gsis {
            if let Some((_, _, sz)) = s.index_entry(g, item) {
                st.index_bytes += sz;
            }
        }
    }
    Ok(st)
}

// ---------------------------------------------------------------- report

/// One step's figures.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Figures {
    table_wru: u64,
    gsi_wru: u64,
    rru: f64,
    sqs: usize,
    sns: usize,
}

impl Figures {
    fn wru(&self) -> u64 {
        self.table_wru + self.gsi_wru
    }

    fn add(&mut self, o: &Figures) {
        self.table_wru += o.table_wru;
        self.gsi_wru += o.gsi_wru;
        self.rru += o.rru;
        self.sqs += o.sqs;
        self.sns += o.sns;
    }
}

fn figures(r: &Recorder, step: &str) -> Figures {
    let calls = r.calls.iter().filter(|c| c.step == step);
    Figures {
        table_wru: r
            .writes
            .iter()
            .filter(|w| w.step == step)
            .map(|w| w.table_wru)
            .sum(),
        gsi_wru: r
            .writes
            .iter()
            .filter(|w| w.step == step)
            .flat_map(|w| w.gsi.iter().map(|x| x.2))
            .sum(),
        rru: r
            .reads
            .iter()
            .filter(|x| x.step == step)
            .fold(0.0, |a, x| a + x.rru),
        sqs: calls.clone().filter(|c| c.service == "sqs").count(),
        sns: calls
            .filter(|c| c.service == "sns" && c.op == "Publish")
            .count(),
    }
}

/// The DynamoDB calls of a step, by operation: `GetItem, Query ×2, …`.
fn calls(r: &Recorder, step: &str) -> String {
    let mut ops: BTreeMap<String, usize> = BTreeMap::new();
    for c in r
        .calls
        .iter()
        .filter(|c| c.step == step && c.service == "dynamodb")
    {
        *ops.entry(c.op.clone()).or_default() += 1;
    }
    let tx_items = r
        .writes
        .iter()
        .filter(|w| w.step == step && w.transact)
        .count();
    ops.iter()
        .map(|(op, n)| {
            let mut s = if *n > 1 {
                format!("{op} ×{n}")
            } else {
                op.clone()
            };
            if op == "TransactWriteItems" && tx_items > 0 {
                let _ = write!(s, " ({tx_items} items)");
            } else if op == "TransactWriteItems" {
                // Refused by a condition (e.g. an inspection already open):
                // nothing written, and not counted here.
                s.push_str(" (refused)");
            }
            s
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Measured {
    fn steps_of(&self, part: Part) -> impl Iterator<Item = &str> {
        self.parts
            .iter()
            .filter(move |(_, p)| *p == part)
            .map(|(s, _)| s.as_str())
    }

    fn total(&self, part: Part) -> Figures {
        let mut f = Figures::default();
        for s in self.steps_of(part) {
            f.add(&figures(&self.rec, s));
        }
        f
    }

    /// The first decision step of `part` (a reminder, the overdue alert).
    fn first(&self, part: Part) -> Option<(&str, Figures)> {
        self.steps_of(part)
            .next()
            .map(|s| (s, figures(&self.rec, s)))
    }

    /// Writes of `steps` by item kind: (writes, table WRU, GSI WRU).
    fn by_item(&self, steps: &[&str]) -> BTreeMap<String, (usize, u64, u64)> {
        let mut by: BTreeMap<String, (usize, u64, u64)> = BTreeMap::new();
        for w in self
            .rec
            .writes
            .iter()
            .filter(|w| steps.contains(&w.step.as_str()))
        {
            let e = by.entry(w.what.clone()).or_default();
            e.0 += 1;
            e.1 += w.table_wru;
            e.2 += w.gsi.iter().map(|x| x.2).sum::<u64>();
        }
        by
    }

    /// The steps a figure of `part` is made of: every step of a lifecycle
    /// (told by SMS or not); the first decision step of a reminder or the
    /// overdue alert.
    fn counted(&self, part: Part) -> Vec<&str> {
        match part {
            Part::Lifecycle | Part::Notices => self.steps_of(part).collect(),
            _ => self.steps_of(part).take(1).collect(),
        }
    }
}

fn items_json(m: &Measured, part: Part) -> Vec<Value> {
    m.by_item(&m.counted(part))
        .into_iter()
        .map(|(what, (n, t, g))| {
            json!({"item": what, "writes": n, "table_wru": t, "gsi_wru": g, "wru": t + g})
        })
        .collect()
}

fn decision_json(m: &Measured, part: Part) -> Value {
    match m.first(part) {
        Some((step, f)) => json!({
            "wru": f.wru(), "table_wru": f.table_wru, "gsi_wru": f.gsi_wru, "rru": f.rru,
            "sns_publishes": f.sns, "step": step, "milestones": m.decided.get(step),
            "items": items_json(m, part),
        }),
        None => Value::Null,
    }
}

/// What telling the reporter by SMS adds to a lifecycle: the notices
/// run's totals less the lifecycle's (`null` when it did not run).
fn notices_json(m: &Measured) -> Value {
    if m.steps_of(Part::Notices).next().is_none() {
        return Value::Null;
    }
    let l = m.total(Part::Lifecycle);
    let n = m.total(Part::Notices);
    let s = m.total(Part::NoticeSetup);
    let d = |a: u64, b: u64| a as i64 - b as i64;
    json!({
        "wru": d(n.wru(), l.wru()),
        "table_wru": d(n.table_wru, l.table_wru),
        "gsi_wru": d(n.gsi_wru, l.gsi_wru),
        "rru": n.rru - l.rru,
        "sms": n.sns as i64 - l.sns as i64,
        "lifecycle_wru": n.wru(),
        "setup": {"wru": s.wru(), "rru": s.rru, "sms": s.sns},
    })
}

fn to_json(m: &Measured) -> Value {
    let l = m.total(Part::Lifecycle);
    let steps: Vec<Value> = m
        .parts
        .iter()
        .map(|(s, p)| {
            let f = figures(&m.rec, s);
            json!({
                "step": s, "part": p.as_str(), "calls": calls(&m.rec, s),
                "table_wru": f.table_wru, "gsi_wru": f.gsi_wru, "wru": f.wru(), "rru": f.rru,
                "sqs_requests": f.sqs, "sns_publishes": f.sns,
            })
        })
        .collect();
    json!({
        "lifecycle": {
            "wru": l.wru(), "rru": l.rru, "table_wru": l.table_wru, "gsi_wru": l.gsi_wru,
            "sqs_requests": l.sqs, "sns_publishes": l.sns, "items": items_json(m, Part::Lifecycle),
        },
        "reminder": decision_json(m, Part::Reminder),
        "overdue": decision_json(m, Part::Overdue),
        "notices": notices_json(m),
        "steps": steps,
        "storage": {"items": m.storage.items, "bytes": m.storage.bytes, "index_bytes": m.storage.index_bytes},
    })
}

fn render(m: &Measured, detail: bool) -> String {
    let r = &m.rec;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Case {}: lifecycle driven through the API and the router on the emulator; a second case left alone through its deadlines.\n",
        m.case_id
    );
    let _ = writeln!(
        o,
        "| step | DynamoDB calls | table WRU | GSI WRU | WRU | RRU | SQS requests | SNS publishes |"
    );
    let _ = writeln!(o, "|---|---|---:|---:|---:|---:|---:|---:|");
    let row = |o: &mut String, name: &str, calls: &str, f: &Figures, bold: bool| {
        let b = if bold { "**" } else { "" };
        let _ = writeln!(
            o,
            "| {b}{name}{b} | {calls} | {b}{}{b} | {b}{}{b} | {b}{}{b} | {b}{}{b} | {b}{}{b} | {b}{}{b} |",
            f.table_wru,
            f.gsi_wru,
            f.wru(),
            f.rru,
            f.sqs,
            f.sns
        );
    };
    for (step, _) in &m.parts {
        row(&mut o, step, &calls(r, step), &figures(r, step), false);
    }
    row(
        &mut o,
        "lifecycle (steps 1–7)",
        "",
        &m.total(Part::Lifecycle),
        true,
    );
    for part in [Part::Reminder, Part::Overdue] {
        if let Some((step, f)) = m.first(part) {
            row(&mut o, &format!("{} ({step})", part.as_str()), "", &f, true);
        }
    }
    let n = notices_json(m);
    if !n.is_null() {
        row(
            &mut o,
            "lifecycle of a reporter told by SMS (steps N1–N7)",
            "",
            &m.total(Part::Notices),
            true,
        );
        let _ = writeln!(
            o,
            "\nTelling the reporter by SMS adds {} WRU ({} table, {} GSI), {:.1} RRU and {} SMS to a lifecycle; choosing SMS costs {} WRU once per citizen.",
            n["wru"],
            n["table_wru"],
            n["gsi_wru"],
            n["rru"].as_f64().unwrap_or(0.0),
            n["sms"],
            n["setup"]["wru"]
        );
    }

    for (title, part) in [
        ("the lifecycle", Part::Lifecycle),
        ("the first reminder decision", Part::Reminder),
        ("the overdue decision", Part::Overdue),
        ("the lifecycle of a reporter told by SMS", Part::Notices),
    ] {
        let _ = writeln!(
            o,
            "\nWrites of {title} by item (pk / sk):\n\n| item | writes | table WRU | GSI WRU |\n|---|---:|---:|---:|"
        );
        for (what, (n, t, g)) in m.by_item(&m.counted(part)) {
            let _ = writeln!(o, "| {what} | {n} | {t} | {g} |");
        }
    }

    let lifecycle: Vec<&str> = m.steps_of(Part::Lifecycle).collect();
    let mut by_gsi: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    for w in r
        .writes
        .iter()
        .filter(|w| lifecycle.contains(&w.step.as_str()))
    {
        for (g, _, u) in &w.gsi {
            let e = by_gsi.entry(g.clone()).or_default();
            e.0 += 1;
            e.1 += u;
        }
    }
    let _ = writeln!(
        o,
        "\nIndex writes of the lifecycle:\n\n| index | entry changes | WRU |\n|---|---:|---:|"
    );
    for (g, (n, u)) in &by_gsi {
        let _ = writeln!(o, "| {g} | {n} | {u} |");
    }
    let sizes: Vec<String> = r
        .writes
        .iter()
        .filter(|w| {
            lifecycle.contains(&w.step.as_str())
                && (w.what == "CASE / CASE" || w.what == "CASE / BODY")
        })
        .map(|w| format!("{} {}→{} B", w.what, w.before, w.after))
        .collect();
    let _ = writeln!(o, "\nCase item sizes per write: {}", sizes.join("; "));
    let s = &m.storage;
    let _ = writeln!(
        o,
        "Storage of the closed case: {} items, {} B with overhead ({:?}); index entries {} B; total {} B",
        s.items,
        s.bytes,
        s.kinds,
        s.index_bytes,
        s.bytes + s.index_bytes
    );

    if detail {
        let _ = writeln!(o, "\nWrites:");
        for w in &r.writes {
            let _ = writeln!(
                o,
                "  [{}] {}{} {}: {} → {} B, {} WRU, index {:?}",
                w.step,
                w.op,
                if w.transact { " (tx)" } else { "" },
                w.what,
                w.before,
                w.after,
                w.table_wru,
                w.gsi
            );
        }
        let _ = writeln!(o, "Reads:");
        for x in &r.reads {
            let _ = writeln!(
                o,
                "  [{}] {} {}{}: {} items, {} B, {} RRU",
                x.step,
                x.op,
                x.what,
                if x.consistent { " (consistent)" } else { "" },
                x.items,
                x.bytes,
                x.rru
            );
        }
        let _ = writeln!(o, "Other calls:");
        for c in r.calls.iter().filter(|c| c.service != "dynamodb") {
            let _ = writeln!(o, "  [{}] {} {}", c.step, c.service, c.op);
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use proxy::{Call, WriteRec};

    fn write(step: &str, what: &str, transact: bool, wru: u64, gsi: u64) -> WriteRec {
        WriteRec {
            step: step.into(),
            op: if transact {
                "TransactWriteItems"
            } else {
                "UpdateItem"
            }
            .into(),
            transact,
            what: what.into(),
            before: 0,
            after: 100,
            table_wru: wru,
            gsi: if gsi > 0 {
                vec![("gsi1".into(), "add", gsi)]
            } else {
                vec![]
            },
        }
    }

    fn measured() -> Measured {
        let rec = Recorder {
            writes: vec![
                write("1 submit", "CASE / CASE", true, 2, 1),
                write("1 submit", "QUOTA / QUOTA", false, 1, 0),
                write("per run", "MARK / MARK", false, 1, 0),
                write("10 reminder", "CASE / CASE", true, 4, 2),
                write("11 reminder", "CASE / CASE", true, 4, 0),
                write("12 overdue", "CASE / OUT", true, 2, 1),
            ],
            calls: vec![Call {
                step: "10 reminder".into(),
                service: "sns",
                op: "Publish".into(),
            }],
            ..Recorder::default()
        };
        Measured {
            rec,
            parts: vec![
                ("1 submit".into(), Part::Lifecycle),
                ("per run".into(), Part::Shared),
                ("10 reminder".into(), Part::Reminder),
                ("11 reminder".into(), Part::Reminder),
                ("12 overdue".into(), Part::Overdue),
            ],
            case_id: "c".into(),
            storage: Storage {
                items: 0,
                bytes: 0,
                index_bytes: 0,
                kinds: BTreeMap::new(),
            },
            decided: BTreeMap::new(),
        }
    }

    #[test]
    fn each_part_counts_its_own_steps_only() {
        let v = to_json(&measured());
        // Lifecycle: the case item (2 table + 1 index) and the quota counter; not the shared marker.
        assert_eq!(v["lifecycle"]["wru"], 4);
        assert_eq!(v["lifecycle"]["table_wru"], 3);
        assert_eq!(v["lifecycle"]["items"].as_array().map(Vec::len), Some(2));
        // The reminder is the first reminder decision, not the sum of both.
        assert_eq!(v["reminder"]["wru"], 6);
        assert_eq!(v["reminder"]["sns_publishes"], 1);
        assert_eq!(v["overdue"]["wru"], 3);
        assert_eq!(v["steps"].as_array().map(Vec::len), Some(5));
        assert_eq!(v["steps"][1]["part"], "shared");
        assert_eq!(v["steps"][1]["wru"], 1);
        assert_eq!(v["notices"], Value::Null, "not run");
    }

    #[test]
    fn notices_are_what_the_told_lifecycle_adds() {
        let mut m = measured();
        m.rec
            .writes
            .push(write("N1 submit", "CASE / CASE", true, 2, 1));
        m.rec
            .writes
            .push(write("N2 route", "NOTICE / NOTICE", false, 1, 2));
        m.rec
            .writes
            .push(write("N0 settings", "NOTIFY / PREFS", false, 1, 0));
        m.rec.calls.push(Call {
            step: "N2 route".into(),
            service: "sns",
            op: "Publish".into(),
        });
        m.parts.push(("N0 settings".into(), Part::NoticeSetup));
        m.parts.push(("N1 submit".into(), Part::Notices));
        m.parts.push(("N2 route".into(), Part::Notices));
        let v = to_json(&m);
        // 3 + 3 against the lifecycle's 4 (its quota counter is not repeated here).
        assert_eq!(v["notices"]["wru"], 2);
        assert_eq!(v["notices"]["lifecycle_wru"], 6);
        assert_eq!(v["notices"]["sms"], 1);
        assert_eq!(v["notices"]["setup"]["wru"], 1);
        assert_eq!(v["lifecycle"]["wru"], 4, "the lifecycle is unchanged");
    }

    #[test]
    fn the_second_case_is_submitted_on_a_working_morning() {
        let rd = RefData::embedded();
        // Friday 5 December 2025, 21:00 in Hanoi: the next working morning is Monday's.
        let fri = DateTime::parse_from_rfc3339("2025-12-05T14:00:00Z")
            .unwrap()
            .to_utc();
        let at = next_working_morning(&rd, fri);
        assert_eq!(at.to_rfc3339(), "2025-12-08T03:00:00+00:00");
    }

    #[test]
    fn the_moved_clock_follows_the_system_clock_from_where_it_was_set() {
        let c = MovedClock::default();
        let at = Utc::now() + Duration::days(3);
        c.set(at);
        let now = c.now();
        assert!(
            now >= at && now - at < Duration::seconds(5),
            "{now} vs {at}"
        );
    }
}
