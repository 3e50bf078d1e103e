//! Aggregates that answer reads in a bounded number of requests, proven
//! once and run on both backends (these are store contract tests: listed in
//! `crate::contract::for_each_contract_test!`, so SQLite and DynamoDB on
//! moto run each with a fresh store):
//!
//! - the rollup rows of every scope and of one, across a month's end;
//! - daily snapshots written once, found by day and as the latest;
//! - unit summaries (roster size, headcount, registered officials, open
//!   inspections) kept as those facts change;
//! - a week of cases driven through the use cases with the clock moved
//!   across days: past periods take open/overdue from the snapshot of their
//!   last day (`null` without one), a gap of days without a sweep is filled,
//!   two sweeps at once write one snapshot, and every figure is the one
//!   worked out by hand below — the same on both backends.

use crate::contract::{ward70, ward73};
use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use pakn_core::Pakn;
use pakn_core::auth::{Official, Roster};
use pakn_core::ids::CaseId;
use pakn_core::inspection::Inspection;
use pakn_core::notify::Notification;
use pakn_core::ports::{Account, ManualClock, Notifier, Store, StoreResult, UnitSummary};
use pakn_core::refdata::RefData;
use pakn_core::reporting::Period;
use pakn_core::snapshot::Snapshot;
use pakn_core::stats::{ALL, Counter, Rollup, StatDelta, Stats};
use pakn_core::unit::UnitCode;
use pakn_testkit::{JsonCalls as _, citizen, hanoi, inspector, official, report_body};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A notifier that forgets (these tests read figures, not messages).
struct Discard;

#[async_trait]
impl Notifier for Discard {
    async fn publish(&self, _: &Notification) -> StoreResult<()> {
        Ok(())
    }
}

/// The city's reference data with two wards and the city's own units (so
/// the sweep's unit checks and the first snapshot's count stay small on the
/// emulator).
pub fn two_wards() -> RefData {
    let mut rd = RefData::embedded();
    rd.units
        .retain(|code, u| *code == ward70() || *code == ward73() || u.unit_type == "city");
    rd
}

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, m, day).expect("a 2025 day")
}

fn row(day: NaiveDate, scope: &str, counter: Counter, amount: i64) -> StatDelta {
    StatDelta {
        day,
        scope: scope.into(),
        counter,
        amount,
    }
}

// ----------------------------------------------------------- the ports

/// `rollups_all` returns every scope's rows of the days asked (across a
/// month's end), `rollups` one scope's, both by day.
pub async fn rollups_of_every_scope_and_of_one(store: Arc<dyn Store>) {
    let c = pakn_testkit::sample_case(pakn_testkit::t0(), "a");
    let mut n = crate::contract::new_case(&c);
    n.deltas = vec![
        row(d(7, 30), ALL, Counter::Received, 2),
        row(d(7, 31), "ward:00070", Counter::Resolved, 1),
        row(d(7, 31), "ward:00073", Counter::Open, -1),
        row(d(8, 1), "ward:00070", Counter::Received, 1),
        row(d(8, 1), "ward:00070", Counter::Open, 1),
        row(d(8, 2), ALL, Counter::Received, 5),
    ];
    assert_eq!(
        store.create_case(&n, c.received_at).await.unwrap(),
        pakn_core::ports::Created::New
    );
    let key = |r: &Rollup| (r.day.expect("a day"), r.scope.clone(), r.counters.clone());
    let all: Vec<_> = store
        .rollups_all(d(7, 31), d(8, 2))
        .await
        .unwrap()
        .iter()
        .map(key)
        .collect();
    let counters = |v: &[(Counter, i64)]| -> BTreeMap<String, i64> {
        v.iter().map(|(c, n)| (c.name(), *n)).collect()
    };
    assert_eq!(
        all,
        vec![
            (
                d(7, 31),
                "ward:00070".into(),
                counters(&[(Counter::Resolved, 1)])
            ),
            (
                d(7, 31),
                "ward:00073".into(),
                counters(&[(Counter::Open, -1)])
            ),
            (
                d(8, 1),
                "ward:00070".into(),
                counters(&[(Counter::Received, 1), (Counter::Open, 1)])
            ),
        ],
        "every scope of 31 Jul and 1 Aug, by day then scope; 30 Jul and 2 Aug left out"
    );
    let one: Vec<_> = store
        .rollups("ward:00070", d(7, 1), d(9, 1))
        .await
        .unwrap()
        .iter()
        .map(key)
        .collect();
    assert_eq!(
        one.iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![d(7, 31), d(8, 1)]
    );
    assert!(
        store
            .rollups_all(d(8, 3), d(8, 31))
            .await
            .unwrap()
            .is_empty()
    );
}

/// A snapshot is written once (the first stays), read by day, and the
/// latest one of a window is found.
pub async fn snapshots_once_and_the_latest(store: Arc<dyn Store>) {
    let levels = |n: i64| BTreeMap::from([("ward:00070".to_string(), (n, 1))]);
    let s30 = Snapshot::genesis(d(7, 30), &[], &levels(3));
    let s2 = Snapshot::genesis(d(8, 2), &[], &levels(5));
    assert!(store.put_snapshot(&s30).await.unwrap());
    assert!(store.put_snapshot(&s2).await.unwrap());
    assert!(
        !store
            .put_snapshot(&Snapshot::genesis(d(7, 30), &[], &levels(9)))
            .await
            .unwrap(),
        "a day's snapshot is written once"
    );
    assert_eq!(
        store
            .snapshots(&[d(7, 29), d(7, 30), d(8, 1), d(8, 2)])
            .await
            .unwrap(),
        vec![s30.clone(), s2.clone()]
    );
    assert_eq!(
        store.latest_snapshot(d(8, 1), d(7, 1)).await.unwrap(),
        Some(s30.clone())
    );
    assert_eq!(
        store.latest_snapshot(d(8, 31), d(7, 1)).await.unwrap(),
        Some(s2)
    );
    assert_eq!(
        store.latest_snapshot(d(7, 29), d(7, 1)).await.unwrap(),
        None
    );
    assert_eq!(
        store.latest_snapshot(d(8, 1), d(7, 31)).await.unwrap(),
        None,
        "not before the window"
    );
    // Across a year's end.
    let dec = Snapshot::genesis(
        NaiveDate::from_ymd_opt(2024, 12, 31).unwrap(),
        &[],
        &levels(1),
    );
    assert!(store.put_snapshot(&dec).await.unwrap());
    let jan2 = NaiveDate::from_ymd_opt(2025, 1, 2).unwrap();
    assert_eq!(
        store
            .latest_snapshot(jan2, jan2 - Duration::days(10))
            .await
            .unwrap(),
        Some(dec)
    );
}

/// Unit summaries follow rosters, headcounts, officials' accounts and
/// inspections (opened by the store's commit or by a put, closed).
pub async fn unit_summaries_follow_the_facts(store: Arc<dyn Store>) {
    assert!(store.unit_summaries().await.unwrap().is_empty());
    assert_eq!(
        store.unit_summary(&ward70()).await.unwrap(),
        UnitSummary::empty(ward70())
    );
    let official = |sub: &str| Official {
        sub: sub.into(),
        name: "Nguyễn Văn A".into(),
        title: "Chuyên viên".into(),
    };
    let roster = |n: usize| Roster {
        officials: (0..n).map(|i| official(&format!("o{i}"))).collect(),
        updated_at: None,
        updated_by: None,
    };
    store.put_roster(&ward70(), &roster(3)).await.unwrap();
    store.put_roster(&ward70(), &roster(2)).await.unwrap();
    store.put_headcount(&ward70(), 40).await.unwrap();
    store.put_headcount(&ward73(), 0).await.unwrap();
    let account = |sub: &str, role: pakn_core::auth::Role, unit: Option<UnitCode>| Account {
        sub: sub.into(),
        role,
        unit,
        registered_at: pakn_testkit::t0(),
    };
    use pakn_core::auth::Role;
    for a in [
        account("c1", Role::Citizen, None),
        account("o1", Role::Official, Some(ward70())),
        account("o2", Role::UnitAdmin, Some(ward70())),
        account("o2", Role::UnitAdmin, Some(ward70())),
        account("o3", Role::Official, Some(ward73())),
    ] {
        store.register_account(&a).await.unwrap();
    }
    // An inspection opened with a case change, one put, one closed.
    let c = pakn_testkit::sample_case(pakn_testkit::t0(), "a");
    crate::contract::create(store.as_ref(), &c).await;
    let mut commit = crate::contract::commit_of(1, crate::contract::routed(&c, ward73()));
    commit.inspection = Some(Inspection::for_overdue_case(
        &c.id,
        &ward73(),
        pakn_testkit::t0(),
        json!({}),
    ));
    store.commit(&commit).await.unwrap();
    let other = CaseId::new(pakn_testkit::t0());
    let i = Inspection::for_overdue_case(&other, &ward70(), pakn_testkit::t0(), json!({}));
    store.put_inspection(&i, 0).await.unwrap();
    let closed = Inspection {
        status: "closed".into(),
        version: 2,
        ..i.clone()
    };
    store.put_inspection(&closed, 1).await.unwrap();
    let want = vec![
        UnitSummary {
            roster_size: 2,
            headcount: Some(40),
            registered_officials: 2,
            open_inspections: 0,
            ..UnitSummary::empty(ward70())
        },
        UnitSummary {
            roster_size: 0,
            headcount: Some(0),
            registered_officials: 1,
            open_inspections: 1,
            ..UnitSummary::empty(ward73())
        },
    ];
    assert_eq!(store.unit_summaries().await.unwrap(), want);
    assert_eq!(store.unit_summary(&ward73()).await.unwrap(), want[1]);
    use pakn_core::ports::AccountScope;
    assert_eq!(
        store
            .count_accounts(&AccountScope::Unit(ward70()))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .count_accounts(&AccountScope::Officials)
            .await
            .unwrap(),
        3
    );
}

// ------------------------------------------------------------ a week

struct Week {
    pakn: Pakn,
    clock: ManualClock,
}

impl Week {
    fn at(&self, t: DateTime<Utc>) {
        self.clock.set(t);
    }

    async fn submit(&self, who: &str, ward: &str) -> String {
        let r = self
            .pakn
            .submit(
                &citizen(who),
                &report_body("lighting", ward, "Đèn hỏng"),
                None,
            )
            .await
            .expect("submit");
        r.id
    }

    async fn route(&self, id: &str) {
        self.pakn
            .routing()
            .route_case(&CaseId::parse(id).expect("an id"))
            .await
            .expect("route");
    }

    async fn act(&self, unit: &str, id: &str, action: &str, body: serde_json::Value) {
        let version = self
            .pakn
            .cases
            .get_case(&CaseId::parse(id).expect("an id"))
            .await
            .expect("read")
            .expect("the case")
            .version;
        self.pakn
            .act(&official("off", unit), id, action, &body, Some(version))
            .await
            .unwrap_or_else(|e| panic!("{action}: {e:?}"));
    }

    async fn sweep(&self) -> pakn_core::sweep::SweepReport {
        self.pakn.sweep().run(100).await.expect("sweep")
    }

    async fn stats(&self, from: NaiveDate, to: NaiveDate, unit: Option<&UnitCode>) -> Stats {
        self.pakn
            .reporting()
            .stats(Period::new(from, to).unwrap(), unit)
            .await
            .expect("stats")
    }
}

/// (total, resolved, on time, late, open, overdue)
type Fig = (i64, i64, i64, i64, Option<i64>, Option<i64>);

fn fig(s: &Stats) -> Fig {
    (
        s.total,
        s.resolved,
        s.resolved_on_time,
        s.resolved_late,
        s.open,
        s.overdue_open,
    )
}

/// A week of a city with two wards (lighting: ack in 8, resolve in 24
/// working hours; received Tue 29 Jul 09:00, due Fri 1 Aug 09:00):
///
/// - Tue 29 Jul 09:00: A, B, C reported at ward 70, D at ward 73; routed.
///   11:00: ward 70 resolves A (on time).
/// - Wed 30 Jul 10:00: ward 70 transfers C to ward 73.
/// - Thu 31 Jul 00:30: the first sweep: the first snapshot (30 Jul), counted
///   from the cases: 70 holds B, 73 holds C and D.
/// - Fri 1 Aug 00:30: a sweep: the snapshot of 31 Jul. 09:30: a sweep finds
///   B, C, D overdue.
/// - Sat 2 Aug 00:30: a sweep: the snapshot of 1 Aug. 10:00: ward 73
///   resolves D (late).
/// - No sweep on Sun 3 and Mon 4 Aug.
/// - Tue 5 Aug 00:30: two sweeps at once fill 2, 3 and 4 Aug.
///   09:00: E reported at ward 70 and not routed yet.
pub async fn figures_of_past_days_from_snapshots(store: Arc<dyn Store>) {
    let clock = ManualClock::new(hanoi(2025, 7, 29, 9, 0, 0));
    let pakn = Pakn::new(
        store.clone(),
        Arc::new(Discard),
        Arc::new(clock.clone()),
        Arc::new(two_wards()),
    );
    let w = Week { pakn, clock };
    let (w70, w73) = (ward70(), ward73());
    let (a, b, c) = (
        w.submit("cit-a", "00070").await,
        w.submit("cit-b", "00070").await,
        w.submit("cit-c", "00070").await,
    );
    let dd = w.submit("cit-d", "00073").await;
    for id in [&a, &b, &c, &dd] {
        w.route(id).await;
    }
    w.at(hanoi(2025, 7, 29, 11, 0, 0));
    w.act("ward:00070", &a, "accept", json!({})).await;
    w.act(
        "ward:00070",
        &a,
        "resolve",
        json!({"answer": "Đã thay bóng"}),
    )
    .await;
    // Before any snapshot, the live counts come from the cases.
    assert_eq!(
        fig(&w.stats(d(7, 1), d(8, 1), None).await),
        (4, 1, 1, 0, Some(3), Some(0))
    );
    w.at(hanoi(2025, 7, 30, 10, 0, 0));
    w.act(
        "ward:00070",
        &c,
        "transfer",
        json!({"to_unit": "ward:00073", "reason": "Đèn thuộc phường bên cạnh"}),
    )
    .await;

    w.at(hanoi(2025, 7, 31, 0, 30, 0));
    assert_eq!(
        w.sweep().await.snapshot,
        Some(d(7, 30)),
        "the first snapshot"
    );
    assert_eq!(w.sweep().await.snapshot, None, "once a day");
    w.at(hanoi(2025, 8, 1, 0, 30, 0));
    assert_eq!(w.sweep().await.snapshot, Some(d(7, 31)));
    w.at(hanoi(2025, 8, 1, 9, 30, 0));
    let r = w.sweep().await;
    assert_eq!((r.snapshot, r.decided), (None, 3), "B, C, D overdue");
    w.at(hanoi(2025, 8, 2, 0, 30, 0));
    assert_eq!(w.sweep().await.snapshot, Some(d(8, 1)));
    w.at(hanoi(2025, 8, 2, 10, 0, 0));
    w.act("ward:00073", &dd, "accept", json!({})).await;
    w.act("ward:00073", &dd, "resolve", json!({"answer": "Đã sửa"}))
        .await;

    // Two sweeps at once after a gap: 2, 3 and 4 Aug, each written once.
    w.at(hanoi(2025, 8, 5, 0, 30, 0));
    let (one, two) = (w.pakn.sweep(), w.pakn.sweep());
    let (s1, s2) = tokio::join!(one.run(100), two.run(100));
    let took: Vec<_> = [s1.expect("sweep 1"), s2.expect("sweep 2")]
        .iter()
        .filter_map(|r| r.snapshot)
        .collect();
    assert!(
        !took.is_empty() && took.iter().all(|t| *t == d(8, 4)),
        "{took:?}"
    );
    let snaps = store.snapshots(&[d(8, 2), d(8, 3), d(8, 4)]).await.unwrap();
    assert_eq!(
        snaps.iter().map(|s| s.day).collect::<Vec<_>>(),
        vec![d(8, 2), d(8, 3), d(8, 4)]
    );
    assert_eq!(snaps[2].levels("ward:00073"), (1, 1), "C at 73, overdue");
    w.at(hanoi(2025, 8, 5, 9, 0, 0));
    let _e = w.submit("cit-e", "00070").await;

    // July: A, B, C, D received; A resolved on time; at the end of 31 Jul
    // three open (B at 70; C, D at 73), none overdue yet.
    assert_eq!(
        fig(&w.stats(d(7, 1), d(8, 1), None).await),
        (4, 1, 1, 0, Some(3), Some(0))
    );
    assert_eq!(
        fig(&w.stats(d(7, 1), d(8, 1), Some(&w70)).await),
        (3, 1, 1, 0, Some(1), Some(0))
    );
    assert_eq!(
        fig(&w.stats(d(7, 1), d(8, 1), Some(&w73)).await),
        (1, 0, 0, 0, Some(2), Some(0)),
        "C was routed to 70 and transferred: 73 received D only"
    );
    // 1–2 Aug: D resolved late at 73; at the end of 2 Aug (a filled-in
    // snapshot) B and C open and overdue.
    assert_eq!(
        fig(&w.stats(d(8, 1), d(8, 3), None).await),
        (0, 1, 0, 1, Some(2), Some(2))
    );
    assert_eq!(
        fig(&w.stats(d(8, 1), d(8, 3), Some(&w73)).await),
        (0, 1, 0, 1, Some(1), Some(1))
    );
    // Ending on 1 Aug: the snapshot taken before D's resolution.
    assert_eq!(
        fig(&w.stats(d(7, 29), d(8, 2), None).await),
        (4, 1, 1, 0, Some(3), Some(3))
    );
    // Ending on 29 Jul: no snapshot of that day, so no open figures; the
    // counters are summed from the rows instead.
    assert_eq!(
        fig(&w.stats(d(7, 1), d(7, 30), None).await),
        (4, 1, 1, 0, None, None)
    );
    assert_eq!(
        fig(&w.stats(d(7, 29), d(7, 30), Some(&w70)).await),
        (3, 1, 1, 0, None, None)
    );
    // Now (a period that has not ended): E is received and not routed yet.
    assert_eq!(
        fig(&w.stats(d(7, 1), d(8, 6), None).await),
        (5, 2, 1, 1, Some(3), Some(2))
    );
    assert_eq!(
        fig(&w.stats(d(8, 5), d(8, 6), Some(&w70)).await),
        (0, 0, 0, 0, Some(1), Some(1))
    );
    let future = w.stats(d(8, 10), d(8, 20), None).await;
    assert_eq!(fig(&future), (0, 0, 0, 0, Some(3), Some(2)));

    // Every unit's scorecard at once agrees with each unit's own.
    let period = Period::new(d(7, 1), d(8, 6)).unwrap();
    let all = w
        .pakn
        .reporting()
        .scorecards(&inspector("insp"), period)
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    for u in [&w70, &w73] {
        let one = w
            .pakn
            .reporting()
            .scorecard(&inspector("insp"), u, period)
            .await
            .unwrap();
        let listed = all.iter().find(|c| c.unit == u.as_str()).expect("listed");
        assert_eq!(listed, &one);
    }
    let c70 = all.iter().find(|c| c.unit == "ward:00070").unwrap();
    assert_eq!(
        (
            c70.received,
            c70.resolved,
            c70.transfers_out,
            c70.open,
            c70.overdue_open
        ),
        (3, 1, 1, Some(1), Some(1))
    );
    assert_eq!(c70.median_hours, Some(2.0), "A: 2 working hours");
    let c73 = all.iter().find(|c| c.unit == "ward:00073").unwrap();
    assert_eq!(
        (c73.received, c73.resolved_late, c73.open, c73.overdue_open),
        (1, 1, Some(1), Some(1))
    );
    // A past period's scorecard has the snapshot's open figures.
    let july = w
        .pakn
        .reporting()
        .scorecard(
            &inspector("insp"),
            &w73,
            Period::new(d(7, 1), d(8, 1)).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!((july.open, july.overdue_open), (Some(2), Some(0)));
}
