//! The deadline tests (issue 4), on the embedded SQLite backend with a
//! manual clock, through the real use cases (`submit` → routing worker →
//! `act` → `sweep`):
//!
//! - a scripted month (28 August – 30 September 2025, National Day on 1–2
//!   September) whose reminders, alerts, digests, inspection, passed-around
//!   flag, on-time rates and scorecards are worked out by hand below;
//! - two sweeps at once (clones of one `Pakn`, and two backends over one file)
//!   decide each milestone once;
//! - a crash injected at every write and publish of a sweep, then a restart:
//!   every decision recorded once, published at least once, same `dedup_id`;
//! - the sweep's reads grow with the due cases, not with all open cases;
//! - a case whose queue message was lost is sent to the queue again, and routed.
//!
//! Instants in comments are Hanoi local time (UTC+7); `hn` converts them.

use async_trait::async_trait;
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use pakn_core::Pakn;
use pakn_core::auth::{Principal, Role, Roster};
use pakn_core::case::{Case, Status, TimelineEvent};
use pakn_core::ids::{self, CaseId};
use pakn_core::inspection::Inspection;
use pakn_core::notify::{Audience, Notification};
use pakn_core::ports::{
    AccessRecord, Account, AccountScope, CasePage, CaseQuery, CaseStore, Commit, Created, Erasure,
    IdemRecord, InspectionPage, InspectionQuery, InspectionStore, Ledger, ManualClock, NewCase,
    Notifier, PeopleStore, PrivacyStore, QuotaStore, Sent, StatsStore, Store, StoreError,
    StoreResult, Taken, UnitSummary,
};
use pakn_core::refdata::RefData;
use pakn_core::snapshot::Snapshot;
use pakn_core::stats::Rollup;
use pakn_core::unit::UnitCode;
use pakn_local::{LocalBackend, LocalOptions, Published};
use pakn_testkit::JsonCalls as _;
use pakn_tests::process::TempDir;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

// ------------------------------------------------------------------ helpers

/// Hanoi local time in 2025 (month, day, hour, minute, second) as UTC.
fn hns(m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
    FixedOffset::east_opt(7 * 3600)
        .expect("UTC+7")
        .with_ymd_and_hms(2025, m, d, h, min, s)
        .single()
        .expect("a valid local instant")
        .to_utc()
}

fn hn(m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    hns(m, d, h, min, 0)
}

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, m, d).expect("a 2025 date")
}

fn w70() -> UnitCode {
    UnitCode::ward("00070")
}

fn w73() -> UnitCode {
    UnitCode::ward("00073")
}

fn construction() -> UnitCode {
    UnitCode::parse("dept:construction").expect("unit code")
}

fn official(sub: &str, unit: &UnitCode) -> Principal {
    Principal::new(sub, Role::Official, Some(unit.clone())).expect("official")
}

use pakn_testkit::citizen;

fn inspector() -> Principal {
    Principal::new("inspector-1", Role::Inspector, None).expect("inspector")
}

/// One SQLite file, its adapters and a manual clock (also the queue's and
/// the notifier's clock, so `published_at` is the sweep's instant).
struct Env {
    pakn: Pakn,
    backend: LocalBackend,
    clock: ManualClock,
    refdata: Arc<RefData>,
    path: PathBuf,
    _dir: TempDir,
}

fn open_backend(path: &Path, clock: &ManualClock) -> LocalBackend {
    LocalBackend::open_with(
        path,
        LocalOptions {
            queue_clock: Arc::new(clock.clone()),
            ..Default::default()
        },
    )
    .expect("open SQLite")
}

fn env(tag: &str, start: DateTime<Utc>) -> Env {
    env_in(TempDir::new(tag), start)
}

fn env_in(dir: TempDir, start: DateTime<Utc>) -> Env {
    let path = dir.path().join("pakn.db");
    let clock = ManualClock::new(start);
    let backend = open_backend(&path, &clock);
    let refdata = Arc::new(RefData::embedded());
    let pakn = backend.pakn(Arc::new(clock.clone()), refdata.clone());
    Env {
        pakn,
        backend,
        clock,
        refdata,
        path,
        _dir: dir,
    }
}

impl Env {
    /// A `Pakn` over other adapters (a probe), same clock and reference data.
    fn pakn_over<S: Store + 'static>(&self, store: Arc<S>, notifier: Arc<dyn Notifier>) -> Pakn {
        Pakn::new(
            store,
            notifier,
            Arc::new(self.clock.clone()),
            self.refdata.clone(),
        )
    }

    async fn case(&self, id: &CaseId) -> Case {
        self.pakn
            .cases
            .get_case(id)
            .await
            .expect("read")
            .expect("case exists")
    }

    /// A citizen's report, then the routing worker drains the queue.
    async fn submit(&self, who: &str, category: &str, ward: &str, title: &str) -> CaseId {
        let body = json!({
            "category": category, "title": title,
            "description": "Phản ánh dùng trong kiểm thử hạn xử lý.",
            "location": {"lat": 21.0245, "lng": 105.8530, "ward_code": ward}
        });
        let r = self
            .pakn
            .submit(&citizen(who), &body, None)
            .await
            .expect("submit");
        pakn_local::drain_once(&self.pakn, &self.backend.queue).await;
        CaseId::parse(&r.id).expect("a case id")
    }

    /// An action with the case's current version in If-Match.
    async fn act(&self, p: &Principal, id: &CaseId, action: &str, body: Value) {
        let v = self.case(id).await.version;
        if let Err(e) = self.pakn.act(p, id.as_str(), action, &body, Some(v)).await {
            panic!("{action} on {id} by {}: {e:?}", p.sub);
        }
    }

    async fn roster(&self, unit: &UnitCode, subs: &[&str]) {
        let admin = Principal::new("admin-of-unit", Role::UnitAdmin, Some(unit.clone()))
            .expect("unit admin");
        let officials: Vec<Value> = subs
            .iter()
            .map(|s| json!({"sub": s, "name": format!("Cán bộ {s}"), "title": "Chuyên viên"}))
            .collect();
        self.pakn
            .put_roster(&admin, unit, &json!({ "officials": officials }))
            .await
            .expect("roster");
    }

    async fn sweep_at(&self, t: DateTime<Utc>) -> pakn_core::sweep::SweepReport {
        self.clock.set(t);
        self.pakn.sweep().run(500).await.expect("sweep")
    }

    async fn published(&self) -> Vec<Published> {
        self.backend
            .notifier
            .published(0, 100_000)
            .await
            .expect("published")
    }
}

/// `<case id>:<key>` → `<key>` without the deadline (`before_due@…` → `before_due`).
fn milestone_of(n: &Notification) -> String {
    let key = match &n.case_id {
        Some(id) => n
            .dedup_id
            .strip_prefix(&format!("{id}:"))
            .unwrap_or(&n.dedup_id),
        None => n.dedup_id.as_str(),
    };
    key.split(['@', ':']).next().unwrap_or(key).to_string()
}

fn sweep_events(tl: &[TimelineEvent]) -> Vec<&TimelineEvent> {
    tl.iter().filter(|e| e.action == "sweep").collect()
}

// ----------------------------------------------------------- scripted month

enum Step {
    Submit {
        label: &'static str,
        who: &'static str,
        category: &'static str,
        ward: &'static str,
    },
    Act {
        label: &'static str,
        who: Principal,
        action: &'static str,
        body: Value,
    },
}

/// Six reports at three units through a month with weekends and National
/// Day (Mon 1 and Tue 2 September 2025 off). Office hours 08–12, 13–17.
/// SLA (policy.json): ack 8 working hours from receipt; resolve lighting
/// 24 h, waste 16 h, road-damage (default normal) 40 h, all working hours.
#[tokio::test]
async fn a_scripted_month_of_deadlines() {
    let e = env("deadlines-month", hn(8, 28, 7, 0));
    let (o70, o73, ocon) = (
        official("off-70", &w70()),
        official("off-73", &w73()),
        official("off-con", &construction()),
    );
    e.roster(&w70(), &["off-70"]).await;
    e.roster(&w73(), &["off-73"]).await;
    e.roster(&construction(), &["off-con"]).await;

    let to = |u: UnitCode| json!({"to_unit": u.to_string(), "reason": "Không thuộc thẩm quyền"});
    let answer = json!({"answer": "Đã xử lý xong."});
    #[rustfmt::skip]
    let script: Vec<(DateTime<Utc>, Step)> = vec![
        // A (lighting, ward 70), Thu 28 Aug 09:00. ack_due = Thu 09–12 (3 h) + 13–17 (4 h)
        // + Fri 08–09 (1 h) = Fri 29 Aug 09:00. resolve_due = Thu 7 h + Fri 8 h (Sat, Sun,
        // Mon 1 and Tue 2 Sep off) + Wed 3 Sep 8 h + Thu 4 Sep 1 h = Thu 4 Sep 09:00; the
        // reminder 8 working hours before = Wed 3 Sep 09:00. Accepted at once, resolved
        // Wed 3 Sep 08:30 (before any reminder), rated 5: no reminder at all.
        (hn(8, 28, 9, 0), Step::Submit { label: "A", who: "cit-a", category: "lighting", ward: "00070" }),
        // F (road-damage → dept:construction), Thu 28 Aug 09:00. resolve_due = Thu 7 + Fri 8
        // + Wed 8 + Thu 8 + Fri 5 Sep 8 (39 h) + Mon 8 Sep 1 h = Mon 8 Sep 09:00; reminder at
        // Fri 5 Sep 09:00 (Mon 08–09 1 h + Fri 13–17 4 h + Fri 09–12 3 h).
        (hn(8, 28, 9, 0), Step::Submit { label: "F", who: "cit-f", category: "road-damage", ward: "00070" }),
        // B (lighting, ward 73), Thu 28 Aug 10:00, never accepted: the unit ignores it.
        // ack_due = Thu 6 h + Fri 08–10 = Fri 29 Aug 10:00; resolve_due = Thu 6 + Fri 8 +
        // Wed 8 + Thu 08–10 = Thu 4 Sep 10:00; reminder at Wed 3 Sep 10:00; inspection
        // more than 15 calendar days after: from Fri 19 Sep 10:00:01.
        (hn(8, 28, 10, 0), Step::Submit { label: "B", who: "cit-b", category: "lighting", ward: "00073" }),
        (hn(8, 28, 14, 0), Step::Act { label: "A", who: o70.clone(), action: "accept", body: json!({}) }),
        // D (lighting, ward 70), Thu 28 Aug 15:00. ack_due Fri 29 Aug 15:00; resolve_due =
        // Thu 2 + Fri 8 + Wed 8 + Thu 08–12, 13–15 = Thu 4 Sep 15:00, reminder Wed 3 Sep
        // 15:00 — but extended on Wed 3 Sep 14:00 by 2 working days (16 h): resolve_due =
        // Thu 15–17 2 + Fri 5 Sep 8 + Mon 8 Sep 08–12, 13–15 = Mon 8 Sep 15:00, reminder
        // Fri 5 Sep 15:00 (Mon 6 h + Fri 15–17 2 h). Resolved Mon 8 Sep 14:00: on time.
        (hn(8, 28, 15, 0), Step::Submit { label: "D", who: "cit-d", category: "lighting", ward: "00070" }),
        (hn(8, 29, 8, 30), Step::Act { label: "D", who: o70.clone(), action: "accept", body: json!({}) }),
        // F is passed around: construction → ward 70 (Fri 29 Aug 08:45, before its ack_due
        // 09:00; fresh ack_due Fri 3.25 h + 4 h + Wed 0.75 h = Wed 3 Sep 08:45) → ward 73
        // (Wed 3 Sep 08:30; ack_due Thu 4 Sep 08:30) → construction (Thu 4 Sep 08:15: the
        // third transfer, flagged; ack_due Fri 5 Sep 08:15), accepted Thu 09:30.
        (hn(8, 29, 8, 45), Step::Act { label: "F", who: ocon.clone(), action: "transfer", body: to(w70()) }),
        // C (lighting, ward 70), Fri 29 Aug 16:30: 30 minutes before a four-day weekend.
        // ack_due = Fri 0.5 h + Wed 08–12 4 h + 13–16:30 = Wed 3 Sep 16:30; resolve_due =
        // Fri 0.5 + Wed 8 + Thu 8 + Fri 5 Sep 08–12, 13–16:30 = Fri 5 Sep 16:30; reminder
        // Thu 4 Sep 16:30. Transferred to ward 73 on Wed 3 Sep 11:00 (fresh ack_due = Wed
        // 5 h + Thu 08–11 = Thu 4 Sep 11:00; resolve_due unchanged), accepted Thu 10:30,
        // resolved Mon 8 Sep 09:00: late, charged to ward 73.
        (hn(8, 29, 16, 30), Step::Submit { label: "C", who: "cit-c", category: "lighting", ward: "00070" }),
        (hn(9, 3, 8, 30), Step::Act { label: "A", who: o70.clone(), action: "resolve", body: answer.clone() }),
        (hn(9, 3, 8, 30), Step::Act { label: "F", who: o70.clone(), action: "transfer", body: to(w73()) }),
        // E (waste, ward 73), Wed 3 Sep 09:00. ack_due Thu 4 Sep 09:00; resolve_due = Wed 7
        // + Thu 8 + Fri 08–09 = Fri 5 Sep 09:00. Accepted 10:00; info asked Wed 14:00,
        // answered Thu 4 Sep 16:00: paused Wed 3 h + Thu 4 h + 3 h = 10 h, so resolve_due =
        // Fri 09–17 7 h + Mon 08–11 = Mon 8 Sep 11:00, reminder Fri 5 Sep 11:00 (Mon 3 h
        // + Fri 13–17 4 h + Fri 11–12 1 h). Resolved Mon 8 Sep 10:30: on time.
        (hn(9, 3, 9, 0), Step::Submit { label: "E", who: "cit-e", category: "waste", ward: "00073" }),
        (hn(9, 3, 10, 0), Step::Act { label: "E", who: o73.clone(), action: "accept", body: json!({}) }),
        (hn(9, 3, 11, 0), Step::Act { label: "C", who: o70.clone(), action: "transfer", body: to(w73()) }),
        (hn(9, 3, 14, 0), Step::Act { label: "D", who: o70.clone(), action: "extend", body: json!({"working_days": 2, "reason": "Chờ thay bóng đèn"}) }),
        (hn(9, 3, 14, 0), Step::Act { label: "E", who: o73.clone(), action: "request_info", body: json!({"question": "Địa chỉ chính xác?"}) }),
        (hn(9, 4, 8, 15), Step::Act { label: "F", who: o73.clone(), action: "transfer", body: to(construction()) }),
        (hn(9, 4, 9, 30), Step::Act { label: "F", who: ocon.clone(), action: "accept", body: json!({}) }),
        (hn(9, 4, 10, 0), Step::Act { label: "A", who: citizen("cit-a"), action: "rate", body: json!({"score": 5}) }),
        (hn(9, 4, 10, 30), Step::Act { label: "C", who: o73.clone(), action: "accept", body: json!({}) }),
        (hn(9, 4, 16, 0), Step::Act { label: "E", who: citizen("cit-e"), action: "info", body: json!({"text": "Số 5 ngõ 12"}) }),
        (hn(9, 5, 10, 0), Step::Act { label: "F", who: ocon.clone(), action: "resolve", body: answer.clone() }),
        (hn(9, 8, 9, 0), Step::Act { label: "C", who: o73.clone(), action: "resolve", body: answer.clone() }),
        (hn(9, 8, 10, 30), Step::Act { label: "E", who: o73.clone(), action: "resolve", body: answer.clone() }),
        (hn(9, 8, 14, 0), Step::Act { label: "D", who: o70.clone(), action: "resolve", body: answer.clone() }),
        (hn(9, 9, 9, 0), Step::Act { label: "D", who: citizen("cit-d"), action: "rate", body: json!({"score": 3}) }),
    ];

    // What the sweep must decide, by hand (label, milestone, event, unit, instant).
    #[rustfmt::skip]
    let expected_case_decisions: Vec<(&str, &str, &str, UnitCode, DateTime<Utc>)> = vec![
        ("B", "ack_due", "case.reminder", w73(), hn(8, 29, 10, 0)),
        ("B", "before_due", "case.reminder", w73(), hn(9, 3, 10, 0)),
        ("B", "overdue", "case.overdue", w73(), hn(9, 4, 10, 0)),
        ("B", "inspection", "inspection.opened", w73(), hns(9, 19, 10, 0, 1)),
        ("C", "before_due", "case.reminder", w73(), hn(9, 4, 16, 30)),
        ("C", "overdue", "case.overdue", w73(), hn(9, 5, 16, 30)),
        ("D", "before_due", "case.reminder", w70(), hn(9, 5, 15, 0)),
        ("E", "before_due", "case.reminder", w73(), hn(9, 5, 11, 0)),
        ("F", "before_due", "case.reminder", construction(), hn(9, 5, 9, 0)),
        // Decided by the third transfer itself, not by the sweep.
        ("F", "passed_around", "case.passed_around", construction(), hn(9, 4, 8, 15)),
    ];
    // Closing: A and D by the citizen's rating; C, E, F by the sweep when the 7-day
    // dispute window after resolution ends (resolved_at + 7 days + 1 s).
    let expected_closes: Vec<(&str, DateTime<Utc>)> = vec![
        ("A", hn(9, 4, 10, 0)),
        ("D", hn(9, 9, 9, 0)),
        ("F", hns(9, 12, 10, 0, 1)),
        ("C", hns(9, 15, 9, 0, 1)),
        ("E", hns(9, 15, 10, 30, 1)),
    ];
    // Ward 73's digest at the first sweep of each working day from 08:00 while it holds
    // an overdue case: B is overdue from Thu 4 Sep 10:00 (after that day's 08:00 digest),
    // so from Fri 5 Sep; on Mon 8 Sep C too (overdue Fri 16:30, resolved Mon 09:00).
    // Working days Fri 5 … Tue 30 Sep: 1 + 5 + 5 + 5 + 2 = 18 digests. No other unit
    // ever holds an overdue case (E's deadline moved with its pause, D's with its extension).
    let mut expected_digests: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    for d in (5..=30).filter(|d| ![6, 7, 13, 14, 20, 21, 27, 28].contains(d)) {
        expected_digests.insert(day(9, d), if d == 8 { 2 } else { 1 });
    }
    assert_eq!(expected_digests.len(), 18);

    // Sweep every hour on the hour, night and day, plus one second before and exactly
    // at every expected decision, plus at every scripted action.
    let end = hn(9, 30, 18, 0);
    let mut instants: BTreeSet<DateTime<Utc>> = BTreeSet::new();
    let mut t = hn(8, 28, 8, 0);
    while t <= end {
        instants.insert(t);
        t += Duration::hours(1);
    }
    for (_, _, _, _, at) in &expected_case_decisions {
        instants.insert(*at - Duration::seconds(1));
        instants.insert(*at);
    }
    for (_, at) in &expected_closes {
        instants.insert(*at - Duration::seconds(1));
        instants.insert(*at);
    }
    let mut steps: BTreeMap<DateTime<Utc>, Vec<Step>> = BTreeMap::new();
    for (at, s) in script {
        instants.insert(at);
        steps.entry(at).or_default().push(s);
    }

    let mut ids: HashMap<&'static str, CaseId> = HashMap::new();
    let mut sweeps = 0;
    for t in instants {
        e.clock.set(t);
        for s in steps.remove(&t).unwrap_or_default() {
            match s {
                Step::Submit {
                    label,
                    who,
                    category,
                    ward,
                } => {
                    let id = e.submit(who, category, ward, label).await;
                    ids.insert(label, id);
                }
                Step::Act {
                    label,
                    who,
                    action,
                    body,
                } => e.act(&who, &ids[label], action, body).await,
            }
        }
        e.pakn.sweep().run(100).await.expect("sweep");
        sweeps += 1;
    }
    assert!(sweeps > 800, "hourly for a month: {sweeps} sweeps");
    let label_of: HashMap<CaseId, &str> = ids.iter().map(|(l, id)| (id.clone(), *l)).collect();
    let label = |n: &Notification| n.case_id.as_ref().map(|id| label_of[id]).unwrap_or("-");

    // Everything decided was published, each exactly once (no failure, no race here).
    let published = e.published().await;
    assert!(
        e.pakn
            .ledger
            .pending_notifications(10)
            .await
            .unwrap()
            .is_empty(),
        "the outbox is drained"
    );
    let mut seen = BTreeMap::new();
    for p in &published {
        *seen.entry(p.notification.dedup_id.clone()).or_insert(0) += 1;
    }
    let repeats: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeats.is_empty(), "published more than once: {repeats:?}");

    // Reminders, alerts, inspection and passed-around: exactly the hand-made list,
    // decided and published at the expected instant (a sweep one second earlier
    // sent nothing), to the unit then responsible.
    let decision_events = [
        "case.reminder",
        "case.overdue",
        "inspection.opened",
        "case.passed_around",
    ];
    let mut actual: Vec<_> = published
        .iter()
        .filter(|p| decision_events.contains(&p.notification.event.as_str()))
        .map(|p| {
            let n = &p.notification;
            assert_eq!(
                p.published_at, n.created_at,
                "{} sent when decided",
                n.dedup_id
            );
            (
                label(n).to_string(),
                milestone_of(n),
                n.event.clone(),
                n.unit.clone(),
                n.created_at,
            )
        })
        .collect();
    actual.sort_by_key(|a| (a.4, a.0.clone()));
    let mut expected: Vec<_> = expected_case_decisions
        .iter()
        .map(|(l, m, ev, u, at)| {
            (
                l.to_string(),
                m.to_string(),
                ev.to_string(),
                u.to_string(),
                *at,
            )
        })
        .collect();
    expected.sort_by_key(|a| (a.4, a.0.clone()));
    assert_eq!(actual, expected);

    // Audiences: the unit for reminders; Home Affairs for the inspection; triage and
    // Home Affairs for a case passed around.
    for p in &published {
        let n = &p.notification;
        let want: &[Audience] = match n.event.as_str() {
            "case.reminder" | "case.overdue" | "unit.overdue_digest" => &[Audience::Unit],
            "inspection.opened" => &[Audience::HomeAffairs, Audience::Unit],
            "case.passed_around" => &[Audience::Triage, Audience::HomeAffairs],
            _ => continue,
        };
        assert_eq!(n.audience, want, "{}", n.dedup_id);
    }

    // One digest per unit per working day at 08:00, listing its overdue cases.
    let digests: Vec<&Notification> = published
        .iter()
        .map(|p| &p.notification)
        .filter(|n| n.event == "unit.overdue_digest")
        .collect();
    let mut by_day = BTreeMap::new();
    for n in &digests {
        assert_eq!(n.unit, w73().to_string(), "only ward 73 had overdue cases");
        let d = e.refdata.calendar.local_date(n.created_at);
        assert_eq!(
            n.created_at,
            hn(9, d.day(), 8, 0),
            "at the first sweep from 08:00"
        );
        assert_eq!(n.dedup_id, format!("digest:ward:00073:{d}"));
        assert!(
            by_day
                .insert(d, n.body["overdue"].as_i64().unwrap())
                .is_none(),
            "one digest a day"
        );
    }
    assert_eq!(by_day, expected_digests);
    let sep8 = digests
        .iter()
        .find(|n| n.dedup_id.ends_with("2025-09-08"))
        .expect("Mon 8 Sep digest");
    let listed: BTreeSet<&str> = sep8.body["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["case_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        BTreeSet::from([ids["B"].as_str(), ids["C"].as_str()])
    );

    // Closing: by rating, or by the sweep when the dispute window ends.
    let mut closes: Vec<(String, DateTime<Utc>)> = published
        .iter()
        .map(|p| &p.notification)
        .filter(|n| n.event == "case.status_changed" && n.body["status"] == "closed")
        .map(|n| (label(n).to_string(), n.created_at))
        .collect();
    closes.sort_by_key(|c| c.1);
    let want: Vec<(String, DateTime<Utc>)> = expected_closes
        .iter()
        .map(|(l, t)| (l.to_string(), *t))
        .collect();
    assert_eq!(closes, want);

    // The cases as they ended.
    let b = e.case(&ids["B"]).await;
    assert_eq!(b.status, Status::Assigned);
    assert_eq!(b.ack_due, Some(hn(8, 29, 10, 0)));
    assert_eq!(b.resolve_due, Some(hn(9, 4, 10, 0)));
    assert_eq!(b.next_action_at, None, "nothing left to decide for B");
    let c = e.case(&ids["C"]).await;
    assert_eq!(c.transfers, 1);
    assert_eq!(c.resolve_due, Some(hn(9, 5, 16, 30)), "a transfer keeps it");
    assert_eq!(c.first_resolved_on_time, Some(false));
    // Held: ward 70 Fri 16:30–17:00 + Wed 08:00–11:00 = 3.5 h; ward 73 Wed 11–12, 13–17
    // (5 h) + Thu 8 + Fri 8 + Mon 08–09 = 22 h.
    let holds: Vec<(String, Option<f64>)> = c
        .holds
        .iter()
        .map(|h| (h.unit.to_string(), h.working_hours))
        .collect();
    assert_eq!(
        holds,
        vec![
            (w70().to_string(), Some(3.5)),
            (w73().to_string(), Some(22.0))
        ]
    );
    let d = e.case(&ids["D"]).await;
    assert_eq!(d.resolve_due, Some(hn(9, 8, 15, 0)));
    assert_eq!(d.extension.as_ref().map(|x| x.working_days), Some(2));
    assert_eq!(d.first_resolved_on_time, Some(true));
    let ec = e.case(&ids["E"]).await;
    assert_eq!(ec.resolve_due, Some(hn(9, 8, 11, 0)));
    assert_eq!(ec.pauses.len(), 1);
    assert_eq!(ec.pauses[0].hours, Some(10.0));
    assert_eq!(ec.first_resolved_on_time, Some(true));
    let f = e.case(&ids["F"]).await;
    assert_eq!(f.transfers, 3);
    assert_eq!(f.resolve_due, Some(hn(9, 8, 9, 0)));
    // construction Thu 09:00 → Fri 08:45 (7.75 h), ward 70 → Wed 08:30 (7.25 + 0.5),
    // ward 73 → Thu 08:15 (7.5 + 0.25), construction → Fri 10:00 (7.75 + 2).
    let held: Vec<Option<f64>> = f.holds.iter().map(|h| h.working_hours).collect();
    assert_eq!(held, vec![Some(7.75), Some(7.75), Some(7.75), Some(9.75)]);
    for l in ["A", "C", "D", "E", "F"] {
        assert_eq!(e.case(&ids[l]).await.status, Status::Closed, "{l}");
    }

    // The inspection: opened once, for ward 73, with the evidence.
    let insp = e
        .pakn
        .inspections()
        .list(&inspector(), None, None, None, None, 50)
        .await
        .unwrap()
        .items;
    assert_eq!(insp.len(), 1, "{insp:?}");
    assert_eq!(insp[0].id, format!("case-{}", ids["B"]));
    assert_eq!(insp[0].unit, w73());
    assert_eq!(insp[0].reason, "overdue");
    assert_eq!(insp[0].opened_at, hns(9, 19, 10, 0, 1));
    let view = e
        .pakn
        .inspections()
        .get(&inspector(), &insp[0].id)
        .await
        .unwrap();
    let sent: Vec<(String, DateTime<Utc>, Option<DateTime<Utc>>)> = view
        .notifications
        .iter()
        .filter(|s| s.event == "case.reminder" || s.event == "case.overdue")
        .map(|s| (s.event.clone(), s.decided_at, s.published_at))
        .collect();
    assert_eq!(
        sent,
        vec![
            (
                "case.reminder".into(),
                hn(8, 29, 10, 0),
                Some(hn(8, 29, 10, 0))
            ),
            (
                "case.reminder".into(),
                hn(9, 3, 10, 0),
                Some(hn(9, 3, 10, 0))
            ),
            (
                "case.overdue".into(),
                hn(9, 4, 10, 0),
                Some(hn(9, 4, 10, 0))
            ),
        ]
    );
    assert_eq!(view.roster.officials.len(), 1);

    // On-time figures for 1 Aug – 1 Oct: 5 resolved (A, D, E, F on time; C late).
    let s = e
        .pakn
        .reporting()
        .stats(
            pakn_core::reporting::Period::new(day(8, 1), day(10, 1)).unwrap(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        (s.total, s.resolved, s.resolved_on_time, s.resolved_late),
        (6, 5, 4, 1)
    );
    assert_eq!(s.on_time_rate, Some(0.8));
    assert_eq!((s.open, s.overdue_open), (Some(1), Some(1)), "B");

    // Scorecards. received: the unit a case was first routed to (A, C, D → ward 70;
    // B, E → ward 73; F → construction). resolved/on time: the unit holding it at
    // resolution. Working hours receipt → resolution: A 15.5 (≤16 bucket), D 39 (≤40);
    // C 25.5, E 25.5 (≤40); F 33 (≤40). Transfers out: construction 1 (F), ward 70 2
    // (C, F), ward 73 1 (F). Passed around: construction (the third transfer's target).
    // Ratings: ward 70, 5 and 3.
    let insp_p = inspector();
    let (from, to) = (day(8, 1), day(10, 1));
    let c70 = e
        .pakn
        .reporting()
        .scorecard(
            &insp_p,
            &w70(),
            pakn_core::reporting::Period::new(from, to).unwrap(),
        )
        .await
        .unwrap();
    let c73 = e
        .pakn
        .reporting()
        .scorecard(
            &insp_p,
            &w73(),
            pakn_core::reporting::Period::new(from, to).unwrap(),
        )
        .await
        .unwrap();
    let ccon = e
        .pakn
        .reporting()
        .scorecard(
            &insp_p,
            &construction(),
            pakn_core::reporting::Period::new(from, to).unwrap(),
        )
        .await
        .unwrap();
    type Row = (i64, i64, i64, i64, Option<f64>, i64, i64, i64);
    let row = |c: &pakn_core::scorecard::Scorecard| -> Row {
        (
            c.received,
            c.resolved,
            c.resolved_on_time,
            c.resolved_late,
            c.on_time_rate,
            c.transfers_out,
            c.passed_around,
            c.extensions,
        )
    };
    assert_eq!(row(&c70), (3, 2, 2, 0, Some(1.0), 2, 0, 1));
    assert_eq!(row(&c73), (2, 2, 1, 1, Some(0.5), 1, 0, 0));
    assert_eq!(row(&ccon), (1, 1, 1, 0, Some(1.0), 1, 1, 0));
    assert_eq!((c70.median_hours, c70.p90_hours), (Some(16.0), Some(40.0)));
    assert_eq!((c73.median_hours, c73.p90_hours), (Some(40.0), Some(40.0)));
    assert_eq!(
        (ccon.median_hours, ccon.p90_hours),
        (Some(40.0), Some(40.0))
    );
    assert_eq!(
        (c70.satisfaction_avg, c70.satisfaction_count),
        (Some(4.0), 2)
    );
    assert_eq!(
        (c73.open, c73.overdue_open, c73.open_inspections),
        (Some(1), Some(1), 1)
    );
    assert_eq!(
        (c70.open, c70.overdue_open, c70.open_inspections),
        (Some(0), Some(0), 0)
    );
    for c in [&c70, &c73, &ccon] {
        assert_eq!((c.roster_size, c.roster_missing, c.rank), (1, false, None));
    }
    let all = e
        .pakn
        .reporting()
        .scorecards(
            &inspector(),
            pakn_core::reporting::Period::new(day(8, 1), day(10, 1)).unwrap(),
        )
        .await
        .unwrap();
    assert!(
        all.iter().all(|c| c.rank.is_none()),
        "fewer than 10 resolved: unranked"
    );
    let c73_listed = all.iter().find(|c| c.unit == "ward:00073").expect("listed");
    assert_eq!(c73_listed, &c73);
}

/// A case waiting for the citizen is not overdue: its resolve clock is paused.
#[tokio::test]

async fn a_paused_case_is_not_in_the_overdue_digest() {
    let e = env("deadlines-pause", hn(9, 3, 9, 0));
    // Waste at ward 73, Wed 3 Sep 09:00: resolve_due Fri 5 Sep 09:00 (16 working hours).
    let id = e.submit("cit-p", "waste", "00073", "Rác chưa thu").await;
    let o73 = official("off-73", &w73());
    e.clock.set(hn(9, 3, 10, 0));
    e.act(&o73, &id, "accept", json!({})).await;
    e.clock.set(hn(9, 3, 14, 0));
    e.act(&o73, &id, "request_info", json!({"question": "Ngõ nào?"}))
        .await;
    // Mon 8 Sep 08:00: still waiting for the citizen.
    let r = e.sweep_at(hn(9, 8, 8, 0)).await;
    assert!(r.daily.ran);
    let digests: Vec<_> = e
        .published()
        .await
        .into_iter()
        .filter(|p| p.notification.event == "unit.overdue_digest")
        .collect();
    assert!(
        digests.is_empty(),
        "a paused case is not overdue: {:?}",
        digests[0].notification.body
    );
    let (_, overdue) = e
        .pakn
        .stats
        .count_open(Some(&w73()), e.pakn.now())
        .await
        .unwrap();
    assert_eq!(overdue, 0);
}

// ------------------------------------------- a pile-up for races and crashes

/// Cases whose milestones all fall due at one sweep, at `pile_time()`.
struct Pile {
    /// Ignored at ward 70 / ward 73: ack reminder, a stale before-due reminder
    /// (recorded, not sent), overdue alert and inspection, in one decision.
    p1: CaseId,
    p2: CaseId,
    /// Resolved long ago: closed when its dispute window ended.
    p3: CaseId,
    /// Still `received`, its queue message lost: sent to the queue again.
    p4: CaseId,
}

/// Mon 22 Sep 2025 09:00: everything of the pile is due, and the daily checks run.
fn pile_time() -> DateTime<Utc> {
    hn(9, 22, 9, 0)
}

/// Build the pile without sweeping. No rosters: wards 70 and 73 hold open cases
/// with no roster (past the grace period), so each gets a unit inspection too.
async fn pile(e: &Env) -> Pile {
    e.clock.set(hn(8, 28, 10, 0));
    // As B above: ack_due Fri 29 Aug 10:00, resolve_due Thu 4 Sep 10:00, inspection
    // from Fri 19 Sep 10:00:01.
    let p1 = e.submit("cit-1", "lighting", "00070", "P1").await;
    let p2 = e.submit("cit-2", "lighting", "00073", "P2").await;
    let p3 = e.submit("cit-3", "lighting", "00070", "P3").await;
    let o70 = official("off-70", &w70());
    e.clock.set(hn(8, 28, 11, 0));
    e.act(&o70, &p3, "accept", json!({})).await;
    // Resolved Fri 29 Aug 11:00: closed from Fri 5 Sep 11:00:01.
    e.clock.set(hn(8, 29, 11, 0));
    e.act(&o70, &p3, "resolve", json!({"answer": "Đã thay bóng"}))
        .await;
    // Mon 22 Sep 08:00: a report whose queue message is lost (received, acknowledged,
    // never routed); the sweep re-sends it from 08:10.
    e.clock.set(hn(9, 22, 8, 0));
    let body = json!({"category": "lighting", "title": "P4", "description": "Mất tin nhắn hàng đợi.",
        "location": {"lat": 21.0245, "lng": 105.8530, "ward_code": "00070"}});
    let r = e.pakn.submit(&citizen("cit-4"), &body, None).await.unwrap();
    let p4 = CaseId::parse(&r.id).unwrap();
    let got = e
        .backend
        .queue
        .receive(10, std::time::Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert!(e.backend.queue.ack(&got[0].receipt).await.unwrap());
    e.clock.set(pile_time());
    Pile { p1, p2, p3, p4 }
}

/// After one or more sweeps at `pile_time()`: each decision recorded once, every
/// decided notification published at least once with its own `dedup_id`, no
/// notification that was not decided.
async fn check_pile(e: &Env, p: &Pile, why: &str) {
    let store = &e.backend.store;
    // Keys are the deadline instants in UTC: ack_due Fri 29 Aug 10:00 = 03:00Z,
    // resolve_due Thu 4 Sep 10:00 = 03:00Z.
    let ack = "ack_due@2025-08-29T03:00:00Z";
    let before = "before_due@2025-09-04T03:00:00Z";
    let overdue = "overdue@2025-09-04T03:00:00Z";
    let mut decided: BTreeSet<String> = BTreeSet::new();
    for (id, unit) in [(&p.p1, w70()), (&p.p2, w73())] {
        let c = e.case(id).await;
        let done: BTreeSet<&str> = c.milestones_done.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            done,
            BTreeSet::from([ack, before, overdue, "inspection"]),
            "{why}"
        );
        assert_eq!(c.milestones_done.len(), 4, "{why}: no key twice");
        assert_eq!(c.version, 3, "{why}: routed (v2), one sweep decision (v3)");
        let tl = store.timeline(id).await.unwrap();
        let sweeps = sweep_events(&tl);
        assert_eq!(sweeps.len(), 1, "{why}: decided once");
        let outbox: Vec<String> = store
            .notifications_for_case(id)
            .await
            .unwrap()
            .into_iter()
            .map(|(n, at)| {
                assert!(at.is_some(), "{why}: {} still pending", n.dedup_id);
                n.dedup_id
            })
            .collect();
        let want: BTreeSet<String> = ["assigned:v2", "status:v2", ack, overdue, "inspection"]
            .iter()
            .map(|k| format!("{id}:{k}"))
            .collect();
        assert_eq!(outbox.len(), want.len(), "{why}: {outbox:?}");
        assert_eq!(
            outbox.iter().cloned().collect::<BTreeSet<_>>(),
            want,
            "{why}"
        );
        decided.extend(want);
        let insp = store
            .get_inspection(&format!("case-{id}"))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{why}: inspection of {id}"));
        assert_eq!((insp.unit, insp.version), (unit, 1), "{why}");
    }
    let c3 = e.case(&p.p3).await;
    assert_eq!((c3.status, c3.version), (Status::Closed, 5), "{why}");
    let tl = store.timeline(&p.p3).await.unwrap();
    assert_eq!(
        tl.iter().filter(|x| x.action == "close").count(),
        1,
        "{why}"
    );
    let outbox = store.notifications_for_case(&p.p3).await.unwrap();
    assert_eq!(outbox.len(), 5, "{why}: routed, accepted, resolved, closed");
    assert!(outbox.iter().all(|(_, at)| at.is_some()), "{why}");
    decided.extend(outbox.into_iter().map(|(n, _)| n.dedup_id));
    let c4 = e.case(&p.p4).await;
    assert_eq!((c4.status, c4.version), (Status::Received, 2), "{why}");
    let tl = store.timeline(&p.p4).await.unwrap();
    assert_eq!(sweep_events(&tl).len(), 1, "{why}: requeued once");
    assert_eq!(
        e.backend.queue.depth().await.unwrap(),
        1,
        "{why}: one message"
    );
    for d in [
        "digest:ward:00070:2025-09-22",
        "digest:ward:00073:2025-09-22",
        "inspection:unit-ward:00070-empty_roster-2025-09",
        "inspection:unit-ward:00073-empty_roster-2025-09",
    ] {
        decided.insert(d.to_string());
    }
    let mut insp: Vec<String> = crate::contract::all_inspections(store.as_ref(), None, None)
        .await
        .into_iter()
        .map(|i| i.id)
        .collect();
    insp.sort();
    let mut want = vec![
        format!("case-{}", p.p1),
        format!("case-{}", p.p2),
        "unit-ward:00070-empty_roster-2025-09".to_string(),
        "unit-ward:00073-empty_roster-2025-09".to_string(),
    ];
    want.sort();
    assert_eq!(insp, want, "{why}");
    assert!(
        store.pending_notifications(100).await.unwrap().is_empty(),
        "{why}: outbox drained"
    );
    let published: BTreeSet<String> = e
        .published()
        .await
        .into_iter()
        .map(|p| p.notification.dedup_id)
        .collect();
    assert_eq!(published, decided, "{why}: published = decided");
}

/// Publications per `dedup_id`.
async fn publications(e: &Env) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for p in e.published().await {
        *m.entry(p.notification.dedup_id).or_insert(0) += 1;
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_sweeps_decide_each_milestone_once() {
    for round in 0..3 {
        // Clones of one Pakn.
        let e = env("deadlines-race", hn(8, 28, 10, 0));
        let p = pile(&e).await;
        let (a, b) = (e.pakn.clone(), e.pakn.clone());
        let (sa, sb) = (a.sweep(), b.sweep());
        let (ra, rb) = tokio::join!(sa.run(100), sb.run(100));
        let (ra, rb) = (ra.expect("sweep a"), rb.expect("sweep b"));
        // 4 cases due; each decided by exactly one of the two (the other conflicts or
        // finds nothing due any more).
        assert_eq!(ra.decided + rb.decided, 4, "round {round}: {ra:?} {rb:?}");
        assert_eq!(ra.requeued + rb.requeued, 1);
        assert_eq!(ra.inspections_opened + rb.inspections_opened, 2);
        assert_eq!(ra.daily.digests + rb.daily.digests, 2);
        assert_eq!(ra.daily.unit_inspections + rb.daily.unit_inspections, 2);
        e.pakn.sweep().run(100).await.unwrap();
        check_pile(&e, &p, &format!("clones, round {round}")).await;

        // Two processes: two backends over the same SQLite file.
        let e = env("deadlines-race2", hn(8, 28, 10, 0));
        let p = pile(&e).await;
        let other = open_backend(&e.path, &e.clock);
        let b = other.pakn(Arc::new(e.clock.clone()), e.refdata.clone());
        let (sa, sb) = (e.pakn.sweep(), b.sweep());
        let (ra, rb) = tokio::join!(sa.run(100), sb.run(100));
        let (ra, rb) = (ra.expect("sweep a"), rb.expect("sweep b"));
        assert_eq!(ra.decided + rb.decided, 4, "round {round}: {ra:?} {rb:?}");
        assert_eq!(ra.daily.digests + rb.daily.digests, 2);
        b.sweep().run(100).await.unwrap();
        check_pile(&e, &p, &format!("two files, round {round}")).await;
        // Both drains may have published the same entry (at-least-once): never a
        // dedup_id that was not decided (checked above), and at most once per drain.
        assert!(publications(&e).await.values().all(|n| *n <= 2));
    }
}

// ---------------------------------------------------------- crash injection

/// A store/notifier call the probe counts (and may crash at).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Commit,
    PutInspection,
    DecideOnce,
    PutMarker,
    PutSnapshot,
    Publish,
    MarkPublished,
}

/// Crash before the call takes effect, or after it took effect but before the
/// caller heard of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    Before,
    After,
}

/// Wraps the real store and notifier: counts calls and case rows read, and
/// can "crash" the process at the n-th call of an operation — that call
/// fails, and so does every later call (a dead process does nothing more).
struct Probe {
    store: Arc<dyn Store>,
    notifier: Arc<dyn Notifier>,
    crash: Option<(Op, usize, When)>,
    /// Every commit and publish about this case fails (a transient outage
    /// of one partition, or one poisoned send), the rest of the store works.
    failing_case: Mutex<Option<CaseId>>,
    calls: Mutex<BTreeMap<Op, usize>>,
    dead: AtomicBool,
    due_rows: AtomicUsize,
    get_rows: AtomicUsize,
    list_rows: AtomicUsize,
}

fn crashed() -> StoreError {
    StoreError::Unavailable(Box::new(std::io::Error::other("injected crash")))
}

impl Probe {
    fn new(e: &Env, crash: Option<(Op, usize, When)>) -> Arc<Probe> {
        Arc::new(Probe {
            store: e.backend.store.clone(),
            notifier: e.backend.notifier.clone(),
            crash,
            failing_case: Mutex::new(None),
            calls: Mutex::new(BTreeMap::new()),
            dead: AtomicBool::new(false),
            due_rows: AtomicUsize::new(0),
            get_rows: AtomicUsize::new(0),
            list_rows: AtomicUsize::new(0),
        })
    }

    fn fails(&self, id: Option<&CaseId>) -> bool {
        let failing = self.failing_case.lock().unwrap();
        id.is_some_and(|id| failing.as_ref() == Some(id))
    }

    fn pakn(self: &Arc<Self>, e: &Env) -> Pakn {
        e.pakn_over(self.clone(), self.clone())
    }

    fn alive(&self) -> StoreResult<()> {
        if self.dead.load(Ordering::SeqCst) {
            Err(crashed())
        } else {
            Ok(())
        }
    }

    fn calls(&self) -> BTreeMap<Op, usize> {
        self.calls.lock().unwrap().clone()
    }

    fn rows(&self) -> (usize, usize, usize) {
        (
            self.due_rows.load(Ordering::SeqCst),
            self.get_rows.load(Ordering::SeqCst),
            self.list_rows.load(Ordering::SeqCst),
        )
    }

    async fn write<T>(&self, op: Op, call: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        self.alive()?;
        let n = {
            let mut calls = self.calls.lock().unwrap();
            let n = calls.entry(op).or_insert(0);
            *n += 1;
            *n
        };
        match self.crash {
            Some((o, at, when)) if o == op && at == n => {
                if when == When::After {
                    let _ = call.await;
                }
                self.dead.store(true, Ordering::SeqCst);
                Err(crashed())
            }
            _ => call.await,
        }
    }
}

#[async_trait]
impl Notifier for Probe {
    async fn publish(&self, n: &Notification) -> StoreResult<()> {
        if self.fails(n.case_id.as_ref()) {
            return Err(crashed());
        }
        self.write(Op::Publish, self.notifier.publish(n)).await
    }
}

#[async_trait]
impl CaseStore for Probe {
    async fn create_case(&self, new: &NewCase, now: DateTime<Utc>) -> StoreResult<Created> {
        self.alive()?;
        self.store.create_case(new, now).await
    }
    async fn idempotency(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Option<IdemRecord>> {
        self.alive()?;
        self.store.idempotency(key, now).await
    }
    async fn get_case(&self, id: &CaseId) -> StoreResult<Option<Case>> {
        self.alive()?;
        let c = self.store.get_case(id).await?;
        self.get_rows
            .fetch_add(usize::from(c.is_some()), Ordering::SeqCst);
        Ok(c)
    }
    async fn case_id_by_tracking_code(&self, code: &str) -> StoreResult<Option<CaseId>> {
        self.alive()?;
        self.store.case_id_by_tracking_code(code).await
    }
    async fn timeline(&self, id: &CaseId) -> StoreResult<Vec<TimelineEvent>> {
        self.alive()?;
        self.store.timeline(id).await
    }
    async fn commit(&self, c: &Commit) -> StoreResult<()> {
        if self.fails(Some(&c.outcome.case.id)) {
            return Err(crashed());
        }
        self.write(Op::Commit, self.store.commit(c)).await
    }
    async fn list_cases(&self, q: &CaseQuery) -> StoreResult<CasePage> {
        self.alive()?;
        let page = self.store.list_cases(q).await?;
        self.list_rows.fetch_add(page.cases.len(), Ordering::SeqCst);
        Ok(page)
    }
    async fn open_cases_near(&self, q: &pakn_core::ports::NearQuery) -> StoreResult<Vec<Case>> {
        self.alive()?;
        self.store.open_cases_near(q).await
    }
    async fn due_cases(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Case>> {
        self.alive()?;
        let due = self.store.due_cases(now, limit).await?;
        self.due_rows.fetch_add(due.len(), Ordering::SeqCst);
        Ok(due)
    }
    async fn notifications_for_case(
        &self,
        id: &CaseId,
    ) -> StoreResult<Vec<(Notification, Option<DateTime<Utc>>)>> {
        self.alive()?;
        self.store.notifications_for_case(id).await
    }
}

#[async_trait]
impl Ledger for Probe {
    fn publishes_on_commit(&self) -> bool {
        self.store.publishes_on_commit()
    }
    async fn pending_notifications(&self, limit: usize) -> StoreResult<Vec<Notification>> {
        self.alive()?;
        self.store.pending_notifications(limit).await
    }
    async fn mark_published(&self, dedup_id: &str) -> StoreResult<()> {
        self.write(Op::MarkPublished, self.store.mark_published(dedup_id))
            .await
    }
    async fn decide_once(&self, n: &Notification) -> StoreResult<bool> {
        self.write(Op::DecideOnce, self.store.decide_once(n)).await
    }
    async fn get_marker(&self, key: &str) -> StoreResult<bool> {
        self.alive()?;
        self.store.get_marker(key).await
    }
    async fn put_marker(&self, key: &str) -> StoreResult<()> {
        self.write(Op::PutMarker, self.store.put_marker(key)).await
    }
    async fn notifications_for_unit(
        &self,
        unit: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<Sent>> {
        self.alive()?;
        self.store
            .notifications_for_unit(unit, from, to, limit)
            .await
    }
}

#[async_trait]
impl PeopleStore for Probe {
    async fn get_roster(&self, unit: &UnitCode) -> StoreResult<Roster> {
        self.alive()?;
        self.store.get_roster(unit).await
    }
    async fn put_roster(&self, unit: &UnitCode, roster: &Roster) -> StoreResult<()> {
        self.alive()?;
        self.store.put_roster(unit, roster).await
    }
    async fn get_headcount(&self, unit: &UnitCode) -> StoreResult<Option<u32>> {
        self.alive()?;
        self.store.get_headcount(unit).await
    }
    async fn put_headcount(&self, unit: &UnitCode, staff: u32) -> StoreResult<()> {
        self.alive()?;
        self.store.put_headcount(unit, staff).await
    }
    async fn register_account(&self, a: &Account) -> StoreResult<bool> {
        self.alive()?;
        self.store.register_account(a).await
    }
    async fn count_accounts(&self, scope: &AccountScope) -> StoreResult<i64> {
        self.alive()?;
        self.store.count_accounts(scope).await
    }
    async fn unit_summary(&self, unit: &UnitCode) -> StoreResult<UnitSummary> {
        self.alive()?;
        self.store.unit_summary(unit).await
    }
    async fn unit_summaries(&self) -> StoreResult<Vec<UnitSummary>> {
        self.alive()?;
        self.store.unit_summaries().await
    }
}

#[async_trait]
impl InspectionStore for Probe {
    async fn get_inspection(&self, id: &str) -> StoreResult<Option<Inspection>> {
        self.alive()?;
        self.store.get_inspection(id).await
    }
    async fn list_inspections(&self, q: &InspectionQuery) -> StoreResult<InspectionPage> {
        self.alive()?;
        self.store.list_inspections(q).await
    }
    async fn put_inspection(&self, i: &Inspection, expected_version: u64) -> StoreResult<()> {
        self.write(
            Op::PutInspection,
            self.store.put_inspection(i, expected_version),
        )
        .await
    }
}

#[async_trait]
impl StatsStore for Probe {
    async fn rollups(
        &self,
        scope: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Rollup>> {
        self.alive()?;
        self.store.rollups(scope, from, to).await
    }
    async fn rollups_all(&self, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<Rollup>> {
        self.alive()?;
        self.store.rollups_all(from, to).await
    }
    async fn snapshots(&self, days: &[NaiveDate]) -> StoreResult<Vec<Snapshot>> {
        self.alive()?;
        self.store.snapshots(days).await
    }
    async fn latest_snapshot(
        &self,
        on_or_before: NaiveDate,
        not_before: NaiveDate,
    ) -> StoreResult<Option<Snapshot>> {
        self.alive()?;
        self.store.latest_snapshot(on_or_before, not_before).await
    }
    async fn put_snapshot(&self, s: &Snapshot) -> StoreResult<bool> {
        self.write(Op::PutSnapshot, self.store.put_snapshot(s))
            .await
    }
    async fn count_open(
        &self,
        unit: Option<&UnitCode>,
        now: DateTime<Utc>,
    ) -> StoreResult<(i64, i64)> {
        self.alive()?;
        self.store.count_open(unit, now).await
    }
}

#[async_trait]
impl PrivacyStore for Probe {
    async fn record_accesses(&self, records: &[AccessRecord]) -> StoreResult<()> {
        self.alive()?;
        self.store.record_accesses(records).await
    }
    async fn accesses(&self, id: &CaseId) -> StoreResult<Vec<AccessRecord>> {
        self.alive()?;
        self.store.accesses(id).await
    }
    async fn due_erasures(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Case>> {
        self.alive()?;
        self.store.due_erasures(now, limit).await
    }
    async fn erase(&self, e: &Erasure) -> StoreResult<()> {
        self.alive()?;
        self.store.erase(e).await
    }
    async fn account(&self, sub: &str) -> StoreResult<Option<Account>> {
        self.alive()?;
        self.store.account(sub).await
    }
}

#[async_trait]
impl pakn_core::ports::FollowerStore for Probe {
    async fn follow(&self, f: &pakn_core::ports::Follower) -> StoreResult<bool> {
        self.alive()?;
        self.store.follow(f).await
    }
    async fn unfollow(&self, case_id: &CaseId, sub: &str) -> StoreResult<bool> {
        self.alive()?;
        self.store.unfollow(case_id, sub).await
    }
    async fn followers(&self, case_id: &CaseId) -> StoreResult<Vec<pakn_core::ports::Follower>> {
        self.alive()?;
        self.store.followers(case_id).await
    }
    async fn following(&self, sub: &str) -> StoreResult<Vec<pakn_core::ports::Follower>> {
        self.alive()?;
        self.store.following(sub).await
    }
    async fn forget_citizen(&self, sub: &str) -> StoreResult<usize> {
        self.alive()?;
        self.store.forget_citizen(sub).await
    }
}

#[async_trait]
impl pakn_core::ports::NoticeStore for Probe {
    async fn notice_prefs(&self, sub: &str) -> StoreResult<Option<pakn_core::ports::NoticePrefs>> {
        self.alive()?;
        self.store.notice_prefs(sub).await
    }
    async fn notice_prefs_many(
        &self,
        subs: &[String],
    ) -> StoreResult<Vec<pakn_core::ports::NoticePrefs>> {
        self.alive()?;
        self.store.notice_prefs_many(subs).await
    }
    async fn save_notice_prefs(&self, p: &pakn_core::ports::NoticePrefs) -> StoreResult<()> {
        self.alive()?;
        self.store.save_notice_prefs(p).await
    }
    async fn delete_notice_prefs(&self, sub: &str) -> StoreResult<()> {
        self.alive()?;
        self.store.delete_notice_prefs(sub).await
    }
    async fn decide_notices(&self, ns: &[pakn_core::ports::Notice]) -> StoreResult<Vec<bool>> {
        self.alive()?;
        self.store.decide_notices(ns).await
    }
    async fn due_notices(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: usize,
    ) -> StoreResult<Vec<pakn_core::ports::Notice>> {
        self.alive()?;
        self.store.due_notices(now, limit).await
    }
    async fn settle_notice(
        &self,
        n: &pakn_core::ports::Notice,
        expected_attempts: u32,
    ) -> StoreResult<bool> {
        self.alive()?;
        self.store.settle_notice(n, expected_attempts).await
    }
    async fn notices_of(
        &self,
        sub: &str,
        limit: usize,
    ) -> StoreResult<Vec<pakn_core::ports::Notice>> {
        self.alive()?;
        self.store.notices_of(sub, limit).await
    }
    async fn forget_notices(&self, sub: &str) -> StoreResult<usize> {
        self.alive()?;
        self.store.forget_notices(sub).await
    }
}

#[async_trait]
impl pakn_core::ports::WardMapStore for Probe {
    async fn put_ward_map(&self, map: &pakn_core::wards::WardMap) -> StoreResult<()> {
        self.alive()?;
        self.store.put_ward_map(map).await
    }
    async fn current_ward_map(&self) -> StoreResult<Option<pakn_core::wards::WardMapInfo>> {
        self.alive()?;
        self.store.current_ward_map().await
    }
    async fn ward_map(&self, version: &str) -> StoreResult<Option<pakn_core::wards::WardMap>> {
        self.alive()?;
        self.store.ward_map(version).await
    }
}

#[async_trait]
impl pakn_core::ports::ApiKeyStore for Probe {
    async fn create_api_key(&self, k: &pakn_core::ports::ApiKey) -> StoreResult<()> {
        self.alive()?;
        self.store.create_api_key(k).await
    }
    async fn get_api_key(&self, id: &str) -> StoreResult<Option<pakn_core::ports::ApiKey>> {
        self.alive()?;
        self.store.get_api_key(id).await
    }
    async fn list_api_keys(&self) -> StoreResult<Vec<pakn_core::ports::ApiKey>> {
        self.alive()?;
        self.store.list_api_keys().await
    }
    async fn revoke_api_key(
        &self,
        id: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<pakn_core::ports::ApiKey>> {
        self.alive()?;
        self.store.revoke_api_key(id, at).await
    }
}

#[async_trait]
impl pakn_core::ports::UploadStore for Probe {
    async fn put_upload(&self, u: &pakn_core::media::Upload) -> StoreResult<()> {
        self.alive()?;
        self.store.put_upload(u).await
    }
    async fn get_upload(&self, id: &str) -> StoreResult<Option<pakn_core::media::Upload>> {
        self.alive()?;
        self.store.get_upload(id).await
    }
    async fn save_upload(&self, u: &pakn_core::media::Upload) -> StoreResult<()> {
        self.alive()?;
        self.store.save_upload(u).await
    }
    async fn uploads_of(&self, owner: &str) -> StoreResult<Vec<pakn_core::media::Upload>> {
        self.alive()?;
        self.store.uploads_of(owner).await
    }
    async fn erase_upload(&self, id: &str) -> StoreResult<()> {
        self.alive()?;
        self.store.erase_upload(id).await
    }
}

#[async_trait]
impl QuotaStore for Probe {
    async fn take(
        &self,
        key: &str,
        window_start: DateTime<Utc>,
        window: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Taken> {
        self.alive()?;
        self.store.take(key, window_start, window, limit).await
    }
}

/// Crash the sweep at one call, restart on a fresh backend over the same file,
/// sweep again (twice), and check the pile.
async fn crash_and_restart(op: Op, n: usize, when: When) {
    let why = format!("crash {when:?} {op:?} #{n}");
    let e = env("deadlines-crash", hn(8, 28, 10, 0));
    let p = pile(&e).await;
    let probe = Probe::new(&e, Some((op, n, when)));
    let crashing = probe.pakn(&e);
    let _ = crashing.sweep().run(100).await; // errs, or leaves unpublished work
    assert!(
        probe.dead.load(Ordering::SeqCst),
        "{why}: the crash happened"
    );
    drop(crashing);
    drop(probe);
    // What went out before the crash, and what was still unacknowledged.
    let out_before = publications(&e).await;
    let unacked: BTreeSet<String> = e
        .backend
        .store
        .pending_notifications(1_000)
        .await
        .expect("pending")
        .into_iter()
        .map(|n| n.dedup_id)
        .collect();
    let restarted = open_backend(&e.path, &e.clock);
    let pakn = restarted.pakn(Arc::new(e.clock.clone()), e.refdata.clone());
    pakn.sweep().run(100).await.expect("sweep after restart");
    let again = pakn.sweep().run(100).await.expect("and again");
    assert_eq!(
        (again.decided, again.published),
        (0, 0),
        "{why}: nothing left"
    );
    check_pile(&e, &p, &why).await;
    // Published until acknowledged (CONTRACT.md): only what went out before
    // the crash and was not acknowledged yet (the outbox publishes a batch,
    // then marks it) goes out again, once more, with the same dedup_id;
    // every other decision goes out once.
    let pubs = publications(&e).await;
    for (dedup_id, count) in &pubs {
        if *count > 1 {
            assert!(
                *count == 2 && out_before.contains_key(dedup_id) && unacked.contains(dedup_id),
                "{why}: {dedup_id} published {count} times"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_any_two_steps_neither_loses_nor_repeats_a_decision() {
    // Without a crash, count the calls of one sweep over the pile.
    let e = env("deadlines-crash-ref", hn(8, 28, 10, 0));
    let p = pile(&e).await;
    let probe = Probe::new(&e, None);
    probe.pakn(&e).sweep().run(100).await.expect("sweep");
    check_pile(&e, &p, "no crash").await;
    let calls = probe.calls();
    // 4 case commits; 2 unit inspections, each put then its notification decided,
    // plus 2 digests; yesterday's snapshot and its marker, the daily checks'
    // marker; 11 notifications (P1 and P2: ack reminder, overdue,
    // inspection; P3's close; 2 digests; 2 unit inspections) published and marked.
    let want = BTreeMap::from([
        (Op::Commit, 4),
        (Op::PutInspection, 2),
        (Op::DecideOnce, 4),
        (Op::PutMarker, 2),
        (Op::PutSnapshot, 1),
        (Op::Publish, 11),
        (Op::MarkPublished, 11),
    ]);
    assert_eq!(calls, want);
    // Every crash point, a few at a time (each on its own file).
    let points: Vec<(Op, usize, When)> = calls
        .into_iter()
        .flat_map(|(op, count)| (1..=count).map(move |n| (op, n)))
        .flat_map(|(op, n)| [(op, n, When::Before), (op, n, When::After)])
        .collect();
    assert_eq!(points.len(), 70);
    for chunk in points.chunks(4) {
        let mut runs = tokio::task::JoinSet::new();
        for &(op, n, when) in chunk {
            runs.spawn(crash_and_restart(op, n, when));
        }
        while let Some(r) = runs.join_next().await {
            r.expect("a crash scenario");
        }
    }
}

// ------------------------------------------------- reads proportional to due

/// Store a routed case directly (no queue round trip), as the router left it.
async fn put_routed(e: &Env, received: DateTime<Utc>, unit: UnitCode, n: usize) {
    let mut c = crate::contract::sample_case(received, &format!("bulk-{n}"));
    c.location.ward_code = Some(unit.as_str().trim_start_matches("ward:").to_string());
    let outcome = pakn_core::routing::route_to(&c, unit, received, &e.refdata).expect("route");
    let mut new = crate::contract::new_case(&outcome.case);
    new.deltas.clear(); // no statistics needed here
    loop {
        match e.backend.store.create_case(&new, received).await {
            Ok(Created::New) => return,
            Err(StoreError::TrackingCodeTaken) => {
                new.case.tracking_code = ids::new_tracking_code(received);
            }
            other => panic!("create: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_reads_only_due_cases() {
    const OPEN: usize = 20_000;
    const DUE: usize = 100;
    let e = Arc::new(env("deadlines-reads", pile_time()));
    let units = [
        w70(),
        w73(),
        UnitCode::ward("00004"),
        UnitCode::ward("00008"),
    ];
    for u in &units {
        e.refdata.unit(u).expect("a real ward");
    }
    // 100 received Mon 15 Sep 09:00: ack_due Tue 16 Sep 09:00 and resolve_due (24 h)
    // Thu 18 Sep 09:00 have passed at Mon 22 Sep 09:00, so they are due; 20,000
    // received Mon 22 Sep 08:00 are not (ack_due Tue 23 Sep 08:00).
    let mut tasks = tokio::task::JoinSet::new();
    const TASKS: usize = pakn_local::MAX_BATCH;
    for t in 0..TASKS {
        let e = e.clone();
        let units = units.clone();
        tasks.spawn(async move {
            for n in (t..OPEN + DUE).step_by(TASKS) {
                let at = if n < DUE {
                    hn(9, 15, 9, 0)
                } else {
                    hn(9, 22, 8, 0)
                };
                put_routed(&e, at, units[n % units.len()].clone(), n).await;
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("creating task");
    }
    let (open, _) = e.pakn.stats.count_open(None, pile_time()).await.unwrap();
    assert_eq!(open as usize, OPEN + DUE);

    let probe = Probe::new(&e, None);
    let pakn = probe.pakn(&e);
    let r = pakn.sweep().run(1000).await.expect("sweep");
    assert_eq!((r.looked, r.decided), (DUE, DUE));
    assert_eq!(r.daily.digests, units.len());
    // Rows read: the 100 due cases once by the sweep, and once more by the daily
    // digests (which list each unit's overdue cases): 200, not 20,100.
    assert_eq!(probe.rows(), (DUE, 0, DUE));
    // Fifteen minutes later: nothing is due (each case's next look is its
    // inspection, Fri 3 Oct), the day's checks are done.
    e.clock.set(pile_time() + Duration::minutes(15));
    let r = pakn.sweep().run(1000).await.expect("second sweep");
    assert_eq!((r.looked, r.decided), (0, 0));
    assert_eq!(probe.rows(), (DUE, 0, DUE), "the second sweep read no case");
}

// ------------------------------------------------------- one failure only

/// One due case whose every write fails, among many: the sweep logs it and
/// goes on with the others, the daily checks and the outbox drain; the next
/// pass, with the fault gone, decides it too.
#[tokio::test]
async fn one_failing_case_never_stops_the_sweep() {
    const DUE: usize = 30;
    let e = env("deadlines-one-fails", hn(9, 15, 8, 0));
    let units = [UnitCode::ward("00070"), UnitCode::ward("00073")];
    for n in 0..DUE {
        put_routed(&e, hn(9, 15, 9, 0), units[n % 2].clone(), n).await;
    }
    let due = e.backend.store.due_cases(pile_time(), 1000).await.unwrap();
    assert_eq!(due.len(), DUE);
    let victim = due[DUE / 2].id.clone();
    let probe = Probe::new(&e, None);
    *probe.failing_case.lock().unwrap() = Some(victim.clone());
    let pakn = probe.pakn(&e);
    e.clock.set(pile_time());

    let r = pakn
        .sweep()
        .run(1000)
        .await
        .expect("the pass itself succeeds");
    assert_eq!((r.looked, r.decided, r.failed), (DUE, DUE - 1, 1));
    assert!(r.daily.ran, "the daily checks ran after the failure");
    assert!(r.published > 0, "the outbox was drained after the failure");
    let victim_case = e.case(&victim).await;
    assert!(
        victim_case.milestones_done.is_empty(),
        "nothing decided for the victim"
    );
    for c in &due {
        if c.id != victim {
            let after = e.case(&c.id).await;
            assert!(after.version > c.version, "case {} was decided", c.id);
        }
    }

    // The fault clears: the next pass decides the victim, and only it.
    *probe.failing_case.lock().unwrap() = None;
    e.clock.set(pile_time() + Duration::minutes(15));
    let r = pakn.sweep().run(1000).await.expect("second pass");
    assert_eq!((r.looked, r.decided, r.failed), (1, 1, 0));
    assert!(e.case(&victim).await.version > victim_case.version);
}

// ------------------------------------------------------------- lost message

#[tokio::test]
async fn a_case_whose_queue_message_was_lost_is_requeued_then_routed() {
    let e = env("deadlines-requeue", hn(9, 22, 9, 0));
    let body = json!({"category": "lighting", "title": "Mất tin", "description": "Đèn tắt.",
        "location": {"lat": 21.0245, "lng": 105.8530, "ward_code": "00070"}});
    let r = e.pakn.submit(&citizen("cit-q"), &body, None).await.unwrap();
    let id = CaseId::parse(&r.id).unwrap();
    // The message is taken and deleted without routing (a worker died after acking).
    let q = &e.backend.queue;
    let got = q
        .receive(10, std::time::Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert!(q.ack(&got[0].receipt).await.unwrap());
    assert_eq!(q.depth().await.unwrap(), 0);
    // requeue_received_after_minutes = 10: from 09:10, not a second earlier.
    let r = e.sweep_at(hns(9, 22, 9, 9, 59)).await;
    assert_eq!(r.requeued, 0);
    assert_eq!(q.depth().await.unwrap(), 0);
    let r = e.sweep_at(hn(9, 22, 9, 10)).await;
    assert_eq!(r.requeued, 1);
    assert_eq!(q.depth().await.unwrap(), 1);
    let r = e.sweep_at(hn(9, 22, 9, 10)).await;
    assert_eq!(r.requeued, 0, "sent once");
    assert_eq!(q.depth().await.unwrap(), 1);
    assert_eq!(pakn_local::drain_once(&e.pakn, q).await, 1);
    let c = e.case(&id).await;
    assert_eq!((c.status, c.unit), (Status::Assigned, Some(w70())));
    assert_eq!(q.depth().await.unwrap(), 0);
    let r = e.sweep_at(hn(9, 22, 9, 30)).await;
    assert_eq!(r.requeued, 0, "routed: no more requeues");
    assert_eq!(q.depth().await.unwrap(), 0);
}
