//! The store contract suite: what every [`CaseStore`] must do, written once
//! and run against each backend. Every test is a `pub async fn` taking a
//! fresh, empty store (`Arc<dyn Store>`); the SQLite instantiation is at
//! the bottom (`sqlite::*`, a temp file per test). To run the suite against
//! another adapter, instantiate the same list with its own constructor:
//!
//! ```text
//! macro_rules! dynamo_contract { ($($t:ident),* $(,)?) => { $(
//!     #[tokio::test] async fn $t() { let s = fresh_dynamo_store().await; crate::contract::$t(s).await; }
//! )* } }
//! crate::contract::for_each_contract_test!(dynamo_contract);
//! ```
//!
//! Instants are whole seconds and far from "now", so no backend's own
//! precision or clock leaks into the results; every condition a store must
//! refuse is tested by proving it refused *and* wrote nothing.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use pakn_core::auth::{Official, Role, Roster};
use pakn_core::case::{Case, Status};
use pakn_core::change::Outcome;
use pakn_core::error::ErrorKind;
use pakn_core::ids::{self, CaseId};
use pakn_core::inspection::Inspection;
use pakn_core::lookup::Lookup;
use pakn_core::notify::{Audience, Notification};
use pakn_core::ports::{
    CaseQuery, CaseSort, Commit, Created, IdemRecord, InspectionQuery, ManualClock, Store,
    StoreError, window_start,
};
use pakn_core::refdata::RefData;
use pakn_core::routing;
use pakn_core::stats::{ALL, Counter, StatDelta};
use pakn_core::unit::UnitCode;
use std::sync::Arc;

/// Every contract test, listed once: `for_each_contract_test!(m)` expands to
/// `m!(create_and_read, …)`, so each backend instantiates exactly this list.
macro_rules! for_each_contract_test {
    ($m:ident) => {
        $m!(
            create_and_read,
            tracking_code_collision,
            tracking_codes_of_both_forms_resolve,
            idempotency_replay_and_expiry,
            commit_conflicts_on_a_stale_version,
            ledger_decides_once,
            decide_once_without_a_case_change,
            outbox_pending_and_mark_published,
            list_filters,
            list_cursor_pages_through_everything_once,
            list_by_due_pages_a_units_open_queue,
            due_cases_only_due_earliest_first,
            rollups_per_day_and_scope,
            count_open_city_and_unit,
            rosters_round_trip,
            headcount_round_trip,
            inspections_put_if_absent_and_versioned,
            inspections_are_listed_a_page_at_a_time,
            commit_opens_an_inspection_once,
            accounts_register_once_and_count_per_scope,
            markers_are_written_once,
            notifications_for_a_case_with_publish_times,
            a_foreign_cursor_is_refused,
            notifications_for_a_unit_in_a_period,
            quotas_count_exactly_per_key_and_window,
            idempotency_lookup_sees_live_records_only,
            erasure_rewrites_the_case_and_leaves_every_index,
            the_retention_index_holds_closed_cases_until_erased,
            accounts_are_read_back_by_subject,
            api_keys_are_created_once_listed_and_revoked,
            rollups_of_every_scope_and_of_one,
            snapshots_once_and_the_latest,
            unit_summaries_follow_the_facts,
            figures_of_past_days_from_snapshots,
            ward_boundaries_are_versioned_and_route_reports_by_their_point,
            nearby_lists_open_cases_of_a_category_nearest_first,
            followers_are_kept_by_case_and_listed_by_citizen,
            notice_preferences_are_saved_on_their_version,
            notices_are_decided_once_and_claimed_by_attempt,
            a_citizens_follows_are_forgotten_at_once,
            uploads_are_listed_by_owner_and_erased_for_good,
        );
    };
}
pub(crate) use for_each_contract_test;

mod privacy;
pub use privacy::*;
mod followers;
mod nearby;
mod notices;
mod uploads;
mod wards;
pub use followers::*;
pub use nearby::*;
pub use notices::*;
pub use uploads::*;
pub use wards::*;
// The aggregates' contract tests live in their own file.
pub use crate::aggregates::{
    figures_of_past_days_from_snapshots, rollups_of_every_scope_and_of_one,
    snapshots_once_and_the_latest, unit_summaries_follow_the_facts,
};

// ------------------------------------------------------------------ helpers

pub use pakn_testkit::{event, new_case, sample_case, t0};

pub fn ward70() -> UnitCode {
    UnitCode::ward("00070")
}

pub fn ward73() -> UnitCode {
    UnitCode::ward("00073")
}

fn refdata() -> RefData {
    RefData::embedded()
}

/// Store a new case; panics unless it is new.
pub async fn create(store: &dyn Store, c: &Case) {
    assert_eq!(
        store
            .create_case(&new_case(c), c.received_at)
            .await
            .expect("create"),
        Created::New
    );
}

/// The router's outcome for `c` (version + 1, notifications, per-unit counters).
pub fn routed(c: &Case, unit: UnitCode) -> Outcome {
    routing::route_to(c, unit, c.received_at + Duration::minutes(1), &refdata())
        .expect("route a received case")
}

/// A hand-made change of `c` (version + 1) with nothing written beside it.
pub fn changed(c: &Case, f: impl FnOnce(&mut Case)) -> Outcome {
    let mut case = c.clone();
    case.version += 1;
    case.updated_at += Duration::seconds(1);
    f(&mut case);
    let event = event(&case, "test");
    Outcome {
        case,
        event,
        notifications: vec![],
        deltas: vec![],
        decisions: vec![],
    }
}

pub fn commit_of(expected_version: u64, outcome: Outcome) -> Commit {
    Commit {
        expected_version,
        outcome,
        inspection: None,
        enqueue: false,
    }
}

fn digest(dedup_id: &str) -> Notification {
    Notification {
        dedup_id: dedup_id.into(),
        event: "unit.overdue_digest".into(),
        unit: ward70().to_string(),
        urgency: "normal".into(),
        audience: vec![Audience::Unit, Audience::HomeAffairs],
        case_id: None,
        body: serde_json::json!({"overdue": 3}),
        created_at: t0(),
    }
}

/// Every inspection a listing returns, following the cursor (pages of 2).
pub async fn all_inspections(
    store: &dyn Store,
    status: Option<&str>,
    unit: Option<&UnitCode>,
) -> Vec<Inspection> {
    let mut out = Vec::new();
    let mut cursor = None;
    for _ in 0..100 {
        let page = store
            .list_inspections(&InspectionQuery {
                status: status.map(String::from),
                unit: unit.cloned(),
                reason: None,
                cursor: cursor.take(),
                limit: 2,
            })
            .await
            .expect("list inspections");
        assert!(page.items.len() <= 2, "a page holds at most `limit`");
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
    panic!("the inspection cursor never ended");
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 7, d).expect("a July day")
}

#[track_caller]
fn assert_conflict(r: Result<(), StoreError>) {
    match r {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("expected Conflict, got {other:?}"),
    }
}

// -------------------------------------------------------------------- tests

pub async fn create_and_read(store: Arc<dyn Store>) {
    let c = sample_case(t0(), "citizen-1");
    create(store.as_ref(), &c).await;
    assert_eq!(
        store.get_case(&c.id).await.unwrap(),
        Some(c.clone()),
        "a case round-trips unchanged"
    );
    assert_eq!(
        store
            .case_id_by_tracking_code(&c.tracking_code)
            .await
            .unwrap(),
        Some(c.id.clone())
    );
    assert_eq!(
        store.case_id_by_tracking_code("HN-25-ZZZZZ").await.unwrap(),
        None
    );
    assert_eq!(store.get_case(&CaseId::new(t0())).await.unwrap(), None);
    let tl = store.timeline(&c.id).await.unwrap();
    assert_eq!(tl, vec![event(&c, "submitted")]);
}

pub async fn tracking_code_collision(store: Arc<dyn Store>) {
    let first = sample_case(t0(), "a");
    create(store.as_ref(), &first).await;
    let mut second = sample_case(t0() + Duration::seconds(1), "b");
    second.tracking_code = first.tracking_code.clone();
    match store
        .create_case(&new_case(&second), second.received_at)
        .await
    {
        Err(StoreError::TrackingCodeTaken) => {}
        other => panic!("expected TrackingCodeTaken, got {other:?}"),
    }
    assert_eq!(
        store.get_case(&second.id).await.unwrap(),
        None,
        "nothing of the refused case is stored"
    );
    assert!(store.timeline(&second.id).await.unwrap().is_empty());
    let rows = store.rollups(ALL, day(28), day(29)).await.unwrap();
    assert_eq!(
        rows[0].get(Counter::Received),
        1,
        "its counters were not applied"
    );
    // Drawing another code succeeds.
    second.tracking_code = ids::new_tracking_code(t0());
    while second.tracking_code == first.tracking_code {
        second.tracking_code = ids::new_tracking_code(t0());
    }
    create(store.as_ref(), &second).await;
}

/// A code issued before the check character (`HN-25-7K3QX`) and a new one
/// both resolve through the public lookup, however the hotline typed them;
/// a typo in a new code is refused as such, one in an old code is unknown.
pub async fn tracking_codes_of_both_forms_resolve(store: Arc<dyn Store>) {
    let mut short = sample_case(t0(), "a");
    short.tracking_code = "HN-25-7K3QX".into();
    short.title = "Cống thoát nước bị tắc".into();
    create(store.as_ref(), &short).await;
    let long = sample_case(t0() + Duration::seconds(1), "b");
    assert_eq!(long.tracking_code.len(), "HN-26-7K3QX-9MPTR".len());
    create(store.as_ref(), &long).await;

    let refdata = RefData::embedded();
    let clock = ManualClock::new(t0() + Duration::hours(1));
    let lookup = Lookup {
        cases: store.as_ref(),
        people: store.as_ref(),
        clock: &clock,
        refdata: &refdata,
    };
    let spaced = long.tracking_code.replace('-', " ").to_lowercase();
    let compact = long.tracking_code.replace('-', "");
    for (typed, want) in [
        ("HN-25-7K3QX", &short),
        ("hn 25 7k3qx", &short),
        ("HN257K3QX", &short),
        (long.tracking_code.as_str(), &long),
        (spaced.as_str(), &long),
        (compact.as_str(), &long),
    ] {
        let found = lookup.track(typed).await;
        let found = found.unwrap_or_else(|e| panic!("{typed}: {e:?}"));
        assert_eq!(found.tracking_code, want.tracking_code, "{typed}");
        assert_eq!(found.title, want.title, "{typed}");
    }
    // A mistyped new code: the check says so.
    let mut typo: Vec<char> = long.tracking_code.chars().collect();
    typo[6] = if typo[6] == 'A' { 'B' } else { 'A' };
    let typo: String = typo.into_iter().collect();
    let e = lookup.track(&typo).await.expect_err("a typo");
    assert_eq!(
        (e.kind, e.code),
        (ErrorKind::Invalid, "invalid_check_character")
    );
    // A mistyped old code (no check character) and a well-formed new code
    // nobody has are simply unknown.
    for unknown in ["HN-25-7K3QY".to_string(), ids::new_tracking_code(t0())] {
        let e = lookup.track(&unknown).await.expect_err("unknown");
        assert_eq!(e.kind, ErrorKind::NotFound, "{unknown}");
    }
}

pub async fn idempotency_replay_and_expiry(store: Arc<dyn Store>) {
    let c = sample_case(t0(), "a");
    let rec = IdemRecord {
        key: "key-hash-1".into(),
        body_hash: "body-hash-1".into(),
        case_id: c.id.clone(),
        tracking_code: c.tracking_code.clone(),
        expires_at: t0() + Duration::hours(24),
    };
    let mut first = new_case(&c);
    first.idempotency = Some(rec.clone());
    assert_eq!(store.create_case(&first, t0()).await.unwrap(), Created::New);

    // The same key within its lifetime: the first record, and nothing written.
    let retry = sample_case(t0() + Duration::minutes(1), "a");
    let mut again = new_case(&retry);
    again.idempotency = Some(IdemRecord {
        case_id: retry.id.clone(),
        tracking_code: retry.tracking_code.clone(),
        ..rec.clone()
    });
    let at = t0() + Duration::hours(23);
    assert_eq!(
        store.create_case(&again, at).await.unwrap(),
        Created::Replayed(rec.clone())
    );
    assert_eq!(store.get_case(&retry.id).await.unwrap(), None);
    let rows = store.rollups(ALL, day(28), day(29)).await.unwrap();
    assert_eq!(rows[0].get(Counter::Received), 1, "a replay counts nothing");

    // Expired (stores check expiry themselves; TTL deletion is lazy): a new case.
    let later = t0() + Duration::hours(25);
    if let Some(i) = again.idempotency.as_mut() {
        i.expires_at = later + Duration::hours(24);
    }
    assert_eq!(
        store.create_case(&again, later).await.unwrap(),
        Created::New
    );
    assert!(store.get_case(&retry.id).await.unwrap().is_some());
    // ... and the key now replays the new record.
    let third = sample_case(t0() + Duration::minutes(2), "a");
    let mut third_new = new_case(&third);
    third_new.idempotency = Some(IdemRecord {
        case_id: third.id.clone(),
        tracking_code: third.tracking_code.clone(),
        ..rec.clone()
    });
    match store
        .create_case(&third_new, later + Duration::minutes(1))
        .await
        .unwrap()
    {
        Created::Replayed(r) => assert_eq!(r.case_id, retry.id),
        Created::New => panic!("the replaced key must replay"),
    }
}

pub async fn commit_conflicts_on_a_stale_version(store: Arc<dyn Store>) {
    let c = sample_case(t0(), "a");
    create(store.as_ref(), &c).await;
    let out = routed(&c, ward70());
    store.commit(&commit_of(1, out.clone())).await.unwrap();
    assert_eq!(store.get_case(&c.id).await.unwrap(), Some(out.case.clone()));

    // The same change again (a duplicate delivery), and a change from a stale read.
    assert_conflict(store.commit(&commit_of(1, out.clone())).await);
    assert_conflict(
        store
            .commit(&commit_of(1, changed(&c, |x| x.title = "stale".into())))
            .await,
    );
    // A version from the future is refused too.
    assert_conflict(
        store
            .commit(&commit_of(5, changed(&out.case, |_| {})))
            .await,
    );
    assert_eq!(
        store.get_case(&c.id).await.unwrap(),
        Some(out.case.clone()),
        "unchanged"
    );
    assert_eq!(store.timeline(&c.id).await.unwrap().len(), 2);
    // A change of an unknown case is a conflict as well (nothing to update).
    let ghost = sample_case(t0(), "ghost");
    assert_conflict(store.commit(&commit_of(1, changed(&ghost, |_| {}))).await);
    assert_eq!(store.get_case(&ghost.id).await.unwrap(), None);
}

pub async fn ledger_decides_once(store: Arc<dyn Store>) {
    let c = sample_case(t0(), "a");
    create(store.as_ref(), &c).await;
    let mut first = routed(&c, ward70());
    first.decisions = vec!["overdue@2025-08-01T10:00:00Z".into()];
    store.commit(&commit_of(1, first.clone())).await.unwrap();
    let pending = store.pending_notifications(100).await.unwrap().len();

    // A change at the right version that decides the same milestone again.
    let mut second = changed(&first.case, |x| x.milestones_done.push("dup".into()));
    second.decisions = vec!["before_due@x".into(), "overdue@2025-08-01T10:00:00Z".into()];
    second.notifications = vec![digest("dup-decision")];
    second.deltas = vec![StatDelta {
        day: day(28),
        scope: "ward:00073".into(),
        counter: Counter::Reopens,
        amount: 1,
    }];
    let mut commit = commit_of(2, second);
    commit.inspection = Some(Inspection::for_overdue_case(
        &c.id,
        &ward70(),
        t0(),
        serde_json::Value::Null,
    ));
    assert_conflict(store.commit(&commit).await);

    assert_eq!(
        store.get_case(&c.id).await.unwrap(),
        Some(first.case.clone()),
        "the case is untouched"
    );
    assert_eq!(store.timeline(&c.id).await.unwrap().len(), 2, "no event");
    assert_eq!(
        store.pending_notifications(100).await.unwrap().len(),
        pending,
        "no notification"
    );
    assert!(
        store
            .rollups("ward:00073", day(28), day(29))
            .await
            .unwrap()
            .is_empty(),
        "no counter"
    );
    assert_eq!(
        store
            .get_inspection(&format!("case-{}", c.id))
            .await
            .unwrap(),
        None,
        "no inspection"
    );
    // The other decision of the refused commit was not taken either.
    let mut third = changed(&first.case, |_| {});
    third.decisions = vec!["before_due@x".into()];
    store.commit(&commit_of(2, third)).await.unwrap();
}

pub async fn decide_once_without_a_case_change(store: Arc<dyn Store>) {
    let n = digest("digest:ward:00070:2025-07-28");
    assert!(store.decide_once(&n).await.unwrap());
    assert!(!store.decide_once(&n).await.unwrap(), "decided once");
    let pending = store.pending_notifications(10).await.unwrap();
    assert_eq!(pending, vec![n.clone()], "one outbox entry");
    store.mark_published(&n.dedup_id).await.unwrap();
    assert!(
        !store.decide_once(&n).await.unwrap(),
        "still decided after publication"
    );
    assert!(store.pending_notifications(10).await.unwrap().is_empty());
}

pub async fn outbox_pending_and_mark_published(store: Arc<dyn Store>) {
    let c = sample_case(t0(), "a");
    create(store.as_ref(), &c).await;
    let out = routed(&c, ward70());
    assert!(!out.notifications.is_empty());
    store.commit(&commit_of(1, out.clone())).await.unwrap();
    let mut pending = store.pending_notifications(100).await.unwrap();
    pending.sort_by(|a, b| a.dedup_id.cmp(&b.dedup_id));
    let mut expected = out.notifications.clone();
    expected.sort_by(|a, b| a.dedup_id.cmp(&b.dedup_id));
    assert_eq!(
        pending, expected,
        "every notification of the commit, as written"
    );
    assert_eq!(
        store.pending_notifications(1).await.unwrap().len(),
        1,
        "limit"
    );

    let first = &expected[0].dedup_id;
    store.mark_published(first).await.unwrap();
    store.mark_published(first).await.unwrap(); // idempotent
    store.mark_published("never-decided").await.unwrap(); // unknown: no error
    let left = store.pending_notifications(100).await.unwrap();
    assert_eq!(left.len(), expected.len() - 1);
    assert!(left.iter().all(|n| &n.dedup_id != first));
}

/// Seven cases: (hours after t0, submitter, unit, status).
async fn seed_list(store: &dyn Store) -> Vec<Case> {
    let plan: [(i64, &str, Option<UnitCode>, Status); 7] = [
        (0, "alice", Some(ward70()), Status::Assigned),
        (1, "bob", Some(ward70()), Status::InProgress),
        (2, "alice", Some(ward73()), Status::Assigned),
        (3, "alice", None, Status::Received),
        (4, "bob", Some(ward70()), Status::Resolved),
        (5, "carol", Some(ward73()), Status::AwaitingInfo),
        (6, "alice", Some(ward70()), Status::Assigned),
    ];
    let mut out = Vec::new();
    for (i, (h, by, unit, status)) in plan.into_iter().enumerate() {
        let mut c = sample_case(t0() + Duration::hours(h), by);
        if i == 5 {
            c.category = "drainage".into();
        }
        create(store, &c).await;
        if let Some(u) = unit {
            let ch = changed(&c, |x| {
                x.unit = Some(u);
                x.status = status;
                // Due 2 days after receipt: overdue by t0 + 3 days unless closed.
                x.resolve_due = Some(x.received_at + Duration::days(2));
            });
            store.commit(&commit_of(1, ch.clone())).await.unwrap();
            c = ch.case;
        }
        out.push(c);
    }
    out
}

fn ids_of(cases: &[Case]) -> Vec<CaseId> {
    cases.iter().map(|c| c.id.clone()).collect()
}

/// The ids of `all` at `idx`, newest first (the list order).
fn newest_first(all: &[Case], idx: &[usize]) -> Vec<CaseId> {
    idx.iter().rev().map(|i| all[*i].id.clone()).collect()
}

pub async fn list_filters(store: Arc<dyn Store>) {
    let all = seed_list(store.as_ref()).await;
    let list = |q: CaseQuery| {
        let store = store.clone();
        async move {
            ids_of(
                &store
                    .list_cases(&CaseQuery { limit: 50, ..q })
                    .await
                    .unwrap()
                    .cases,
            )
        }
    };
    assert_eq!(
        list(CaseQuery::default()).await,
        newest_first(&all, &[0, 1, 2, 3, 4, 5, 6])
    );
    assert_eq!(
        list(CaseQuery {
            unit: Some(ward70()),
            ..Default::default()
        })
        .await,
        newest_first(&all, &[0, 1, 4, 6])
    );
    assert_eq!(
        list(CaseQuery {
            submitted_by: Some("alice".into()),
            ..Default::default()
        })
        .await,
        newest_first(&all, &[0, 2, 3, 6])
    );
    assert_eq!(
        list(CaseQuery {
            unit: Some(ward70()),
            status: Some(Status::Assigned),
            ..Default::default()
        })
        .await,
        newest_first(&all, &[0, 6])
    );
    assert_eq!(
        list(CaseQuery {
            category: Some("drainage".into()),
            ..Default::default()
        })
        .await,
        newest_first(&all, &[5])
    );
    assert_eq!(
        list(CaseQuery {
            received_from: Some(t0() + Duration::hours(2)),
            received_to: Some(t0() + Duration::hours(5)),
            ..Default::default()
        })
        .await,
        newest_first(&all, &[2, 3, 4]),
        "[from, to)"
    );
    // Overdue at t0 + 2 days + 90 min: open cases due before then (0 and 1; 4 is resolved).
    let at = t0() + Duration::days(2) + Duration::minutes(90);
    assert_eq!(
        list(CaseQuery {
            overdue_at: Some(at),
            ..Default::default()
        })
        .await,
        newest_first(&all, &[0, 1])
    );
    // Awaiting info (case 5) is open but its resolve clock is paused: never
    // overdue (Case::is_overdue, Status::clock_runs).
    let late = t0() + Duration::days(10);
    assert_eq!(
        list(CaseQuery {
            overdue_at: Some(late),
            unit: Some(ward73()),
            ..Default::default()
        })
        .await,
        newest_first(&all, &[2])
    );
    for c in store
        .list_cases(&CaseQuery {
            overdue_at: Some(late),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap()
        .cases
    {
        assert!(c.is_overdue(late), "{} is not overdue", c.id);
    }
    assert!(
        list(CaseQuery {
            submitted_by: Some("nobody".into()),
            ..Default::default()
        })
        .await
        .is_empty()
    );
}

/// `sort=due`: a unit's open queue by what it owes next (the
/// acknowledgement while assigned, else the resolution), the undated
/// (paused) last, closed cases and other units' cases never; pages of two
/// walk it once; status and category filters apply before paging.
pub async fn list_by_due_pages_a_units_open_queue(store: Arc<dyn Store>) {
    let h = Duration::hours;
    // (received +h, unit, status, ack_due +h, resolve_due +h, category)
    let plan: [(i64, UnitCode, Status, i64, i64, &str); 6] = [
        (0, ward70(), Status::Assigned, 30, 48, "lighting"),
        (1, ward70(), Status::InProgress, 5, 20, "lighting"),
        (2, ward70(), Status::AwaitingInfo, 4, 10, "lighting"),
        (3, ward70(), Status::Assigned, 8, 72, "drainage"),
        (4, ward70(), Status::Closed, 1, 2, "lighting"),
        (5, ward73(), Status::Assigned, 1, 2, "lighting"),
    ];
    let mut all = Vec::new();
    for (rh, unit, status, ack, due, cat) in plan {
        let mut c = sample_case(t0() + h(rh), "alice");
        c.category = cat.into();
        create(store.as_ref(), &c).await;
        let ch = changed(&c, |x| {
            x.unit = Some(unit);
            x.status = status;
            x.ack_due = Some(t0() + h(ack));
            x.resolve_due = Some(t0() + h(due));
        });
        store.commit(&commit_of(1, ch.clone())).await.unwrap();
        all.push(ch.case);
    }
    let pick = |idx: &[usize]| -> Vec<CaseId> { idx.iter().map(|i| all[*i].id.clone()).collect() };
    let walk = |q: CaseQuery| {
        let store = store.clone();
        async move {
            let mut q = CaseQuery {
                unit: Some(ward70()),
                sort: CaseSort::Due,
                limit: 2,
                ..q
            };
            let (mut seen, mut pages) = (Vec::new(), 0);
            loop {
                let page = store.list_cases(&q).await.unwrap();
                assert!(page.cases.len() <= 2);
                seen.extend(ids_of(&page.cases));
                pages += 1;
                assert!(pages < 10, "the cursor must move on");
                match page.next_cursor {
                    Some(c) => q.cursor = Some(c),
                    None => break,
                }
            }
            seen
        }
    };
    // Ack due +8 (3), resolve due +20 (1, accepted), ack due +30 (0), paused (2).
    assert_eq!(walk(CaseQuery::default()).await, pick(&[3, 1, 0, 2]));
    assert_eq!(
        walk(CaseQuery {
            category: Some("lighting".into()),
            ..Default::default()
        })
        .await,
        pick(&[1, 0, 2])
    );
    assert_eq!(
        walk(CaseQuery {
            status: Some(Status::Assigned),
            ..Default::default()
        })
        .await,
        pick(&[3, 0])
    );
    // Overdue at +50 h: the clock runs and resolve_due has passed (1 and 0).
    assert_eq!(
        walk(CaseQuery {
            overdue_at: Some(t0() + h(50)),
            ..Default::default()
        })
        .await,
        pick(&[1, 0])
    );
    assert!(matches!(
        store
            .list_cases(&CaseQuery {
                unit: Some(ward70()),
                sort: CaseSort::Due,
                cursor: Some("not-a-cursor".into()),
                limit: 2,
                ..Default::default()
            })
            .await,
        Err(StoreError::InvalidCursor)
    ));
}

pub async fn list_cursor_pages_through_everything_once(store: Arc<dyn Store>) {
    let all = seed_list(store.as_ref()).await;
    for scope in [None, Some(ward70())] {
        let mut seen = Vec::new();
        let mut cursor = None;
        let mut pages = 0;
        loop {
            let page = store
                .list_cases(&CaseQuery {
                    unit: scope.clone(),
                    cursor: cursor.clone(),
                    limit: 3,
                    ..Default::default()
                })
                .await
                .unwrap();
            assert!(page.cases.len() <= 3);
            seen.extend(ids_of(&page.cases));
            pages += 1;
            assert!(pages < 10, "the cursor must move on");
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let expected: Vec<CaseId> = match &scope {
            None => newest_first(&all, &[0, 1, 2, 3, 4, 5, 6]),
            Some(_) => newest_first(&all, &[0, 1, 4, 6]),
        };
        assert_eq!(seen, expected, "every case once, newest first ({scope:?})");
    }
    // A page that ends exactly at the last case may or may not carry a cursor,
    // but following it yields nothing more.
    let page = store
        .list_cases(&CaseQuery {
            limit: 7,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.cases.len(), 7);
    if let Some(c) = page.next_cursor {
        let rest = store
            .list_cases(&CaseQuery {
                cursor: Some(c),
                limit: 7,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(rest.cases.is_empty() && rest.next_cursor.is_none());
    }
}

pub async fn due_cases_only_due_earliest_first(store: Arc<dyn Store>) {
    let mut cases = Vec::new();
    // next_action_at: +3h, +1h, none, +2h, +10h
    for (i, next) in [Some(3), Some(1), None, Some(2), Some(10)]
        .into_iter()
        .enumerate()
    {
        let mut c = sample_case(t0() + Duration::minutes(i as i64), "a");
        c.next_action_at = next.map(|h| t0() + Duration::hours(h));
        create(store.as_ref(), &c).await;
        cases.push(c);
    }
    let now = t0() + Duration::hours(3);
    assert_eq!(
        ids_of(&store.due_cases(now, 10).await.unwrap()),
        ids_of(&[cases[1].clone(), cases[3].clone(), cases[0].clone()])
    );
    assert_eq!(
        ids_of(&store.due_cases(now, 2).await.unwrap()),
        ids_of(&[cases[1].clone(), cases[3].clone()]),
        "limit"
    );
    assert!(
        store.due_cases(t0(), 10).await.unwrap().is_empty(),
        "nothing due yet"
    );

    // A commit moves the next look forward (or ends it): the case leaves the due set.
    let moved = changed(&cases[1], |x| {
        x.next_action_at = Some(t0() + Duration::hours(20))
    });
    store.commit(&commit_of(1, moved)).await.unwrap();
    let ended = changed(&cases[3], |x| x.next_action_at = None);
    store.commit(&commit_of(1, ended)).await.unwrap();
    let due = store.due_cases(now, 10).await.unwrap();
    assert_eq!(ids_of(&due), ids_of(&[cases[0].clone()]));
    assert_eq!(due[0], cases[0], "whole cases are returned");
}

pub async fn rollups_per_day_and_scope(store: Arc<dyn Store>) {
    // Cases on 27, 28 (two) and 30 July; routing counts per unit.
    let days = [27, 28, 28, 30];
    for (i, d) in days.into_iter().enumerate() {
        let at = Utc
            .with_ymd_and_hms(2025, 7, d, 3, i as u32, 0)
            .single()
            .expect("instant");
        let c = sample_case(at, "a");
        let mut n = new_case(&c);
        n.deltas.push(StatDelta {
            day: day(d),
            scope: ALL.into(),
            counter: Counter::ReceivedField,
            amount: 1,
        });
        n.deltas.push(StatDelta {
            day: day(d),
            scope: ALL.into(),
            counter: Counter::Hist(3),
            amount: 2,
        });
        assert_eq!(store.create_case(&n, at).await.unwrap(), Created::New);
        let mut out = routed(&c, ward70());
        out.deltas.push(StatDelta {
            day: day(d),
            scope: ward70().to_string(),
            counter: Counter::RatingSum,
            amount: -1,
        });
        store.commit(&commit_of(1, out)).await.unwrap();
    }
    let rows = store.rollups(ALL, day(27), day(30)).await.unwrap();
    let by_day: Vec<(Option<NaiveDate>, i64, i64, i64)> = rows
        .iter()
        .map(|r| {
            (
                r.day,
                r.get(Counter::Received),
                r.get(Counter::ReceivedField),
                r.get(Counter::Hist(3)),
            )
        })
        .collect();
    assert_eq!(
        by_day,
        vec![(Some(day(27)), 1, 1, 2), (Some(day(28)), 2, 2, 4)],
        "one row per day, `to` excluded"
    );
    assert!(rows.iter().all(|r| r.scope == ALL));
    assert!(
        rows[0].counters.contains_key("received_field"),
        "counters by Counter::name()"
    );

    let unit = store
        .rollups(ward70().as_str(), day(1), day(31))
        .await
        .unwrap();
    assert_eq!(
        unit.iter()
            .map(|r| r.get(Counter::Received))
            .collect::<Vec<_>>(),
        vec![1, 2, 1]
    );
    assert_eq!(
        unit[1].get(Counter::RatingSum),
        -2,
        "negative deltas add up"
    );
    assert_eq!(unit[0].get(Counter::Hist(3)), 0, "scopes are separate");
    assert!(
        store
            .rollups(ward73().as_str(), day(1), day(31))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .rollups(ALL, day(29), day(30))
            .await
            .unwrap()
            .is_empty(),
        "days without counters have no row"
    );
}

pub async fn count_open_city_and_unit(store: Arc<dyn Store>) {
    let all = seed_list(store.as_ref()).await;
    // Open: 0,1,2,3,5,6 (4 is resolved). Dues: received + 2 days; case 3 (received) has none.
    let at = t0() + Duration::days(2) + Duration::minutes(90); // past the dues of 0 and 1
    assert_eq!(store.count_open(None, at).await.unwrap(), (6, 2));
    assert_eq!(store.count_open(Some(&ward70()), at).await.unwrap(), (3, 2));
    assert_eq!(store.count_open(Some(&ward73()), at).await.unwrap(), (2, 0));
    assert_eq!(
        store
            .count_open(Some(&UnitCode::triage()), at)
            .await
            .unwrap(),
        (0, 0)
    );
    // Exactly at resolve_due is not yet overdue (now > due).
    let due0 = all[0].resolve_due.expect("due");
    assert_eq!(
        store.count_open(Some(&ward70()), due0).await.unwrap(),
        (3, 0)
    );
    // Awaiting info (case 5) is open, but paused: not overdue.
    assert_eq!(
        store
            .count_open(Some(&ward73()), t0() + Duration::days(30))
            .await
            .unwrap(),
        (2, 1)
    );
    // Agrees with the domain definition everywhere.
    let late = t0() + Duration::days(3);
    let mut open = 0;
    let mut overdue = 0;
    for c in &all {
        let c = store.get_case(&c.id).await.unwrap().expect("stored");
        open += i64::from(c.status.is_open());
        overdue += i64::from(c.is_overdue(late));
    }
    assert_eq!(store.count_open(None, late).await.unwrap(), (open, overdue));
}

pub async fn rosters_round_trip(store: Arc<dyn Store>) {
    assert_eq!(
        store.get_roster(&ward70()).await.unwrap(),
        Roster::default(),
        "no roster yet: empty"
    );
    let roster = Roster {
        officials: vec![
            Official {
                sub: "off-1".into(),
                name: "Nguyễn Văn A".into(),
                title: "Chuyên viên".into(),
            },
            Official {
                sub: "off-2".into(),
                name: "Trần Thị B".into(),
                title: String::new(),
            },
        ],
        updated_at: Some(t0()),
        updated_by: Some("admin-1".into()),
    };
    store.put_roster(&ward70(), &roster).await.unwrap();
    assert_eq!(store.get_roster(&ward70()).await.unwrap(), roster);
    assert_eq!(
        store.get_roster(&ward73()).await.unwrap(),
        Roster::default(),
        "per unit"
    );
    let smaller = Roster {
        officials: roster.officials[..1].to_vec(),
        ..roster.clone()
    };
    store.put_roster(&ward70(), &smaller).await.unwrap();
    assert_eq!(
        store.get_roster(&ward70()).await.unwrap(),
        smaller,
        "replaced"
    );
}

pub async fn headcount_round_trip(store: Arc<dyn Store>) {
    assert_eq!(store.get_headcount(&ward70()).await.unwrap(), None);
    store.put_headcount(&ward70(), 42).await.unwrap();
    store.put_headcount(&ward73(), 0).await.unwrap();
    assert_eq!(store.get_headcount(&ward70()).await.unwrap(), Some(42));
    assert_eq!(store.get_headcount(&ward73()).await.unwrap(), Some(0));
    store.put_headcount(&ward70(), 40).await.unwrap();
    assert_eq!(store.get_headcount(&ward70()).await.unwrap(), Some(40));
}

pub async fn inspections_put_if_absent_and_versioned(store: Arc<dyn Store>) {
    let case_id = CaseId::new(t0());
    let i =
        Inspection::for_overdue_case(&case_id, &ward70(), t0(), serde_json::json!({"holds": []}));
    store.put_inspection(&i, 0).await.unwrap();
    assert_conflict(store.put_inspection(&i, 0).await);
    assert_eq!(store.get_inspection(&i.id).await.unwrap(), Some(i.clone()));
    assert_eq!(store.get_inspection("case-none").await.unwrap(), None);

    let answered = Inspection {
        status: "answered".into(),
        unit_answer: Some("Đã xử lý".into()),
        version: 2,
        ..i.clone()
    };
    store.put_inspection(&answered, 1).await.unwrap();
    let stale = Inspection {
        status: "closed".into(),
        version: 2,
        ..i.clone()
    };
    assert_conflict(store.put_inspection(&stale, 1).await);
    assert_eq!(
        store.get_inspection(&i.id).await.unwrap(),
        Some(answered.clone())
    );

    let other = Inspection {
        id: "unit-ward:00073-empty_roster-2025-07".into(),
        unit: ward73(),
        case_id: None,
        reason: "empty_roster".into(),
        opened_at: t0() + Duration::hours(1),
        ..i.clone()
    };
    store.put_inspection(&other, 0).await.unwrap();
    let ids = |v: Vec<Inspection>| v.into_iter().map(|i| i.id).collect::<Vec<_>>();
    let st = store.as_ref();
    assert_eq!(
        ids(all_inspections(st, None, None).await),
        vec![i.id.clone(), other.id.clone()],
        "oldest first"
    );
    assert_eq!(
        ids(all_inspections(st, Some("open"), None).await),
        vec![other.id.clone()]
    );
    assert_eq!(
        ids(all_inspections(st, Some("answered"), Some(&ward70())).await),
        vec![i.id.clone()]
    );
    assert!(
        all_inspections(st, Some("answered"), Some(&ward73()))
            .await
            .is_empty()
    );
    assert_eq!(
        ids(all_inspections(st, None, Some(&ward73())).await),
        vec![other.id.clone()]
    );
    // A closed inspection is final, and the units' counts of open ones follow.
    assert_eq!(
        store
            .unit_summary(&ward70())
            .await
            .unwrap()
            .open_inspections,
        1
    );
    let closed = Inspection {
        status: "closed".into(),
        version: 3,
        ..answered.clone()
    };
    store.put_inspection(&closed, 2).await.unwrap();
    let reopened = Inspection {
        status: "answered".into(),
        version: 4,
        ..closed.clone()
    };
    assert_conflict(store.put_inspection(&reopened, 3).await);
    assert_eq!(store.get_inspection(&i.id).await.unwrap(), Some(closed));
    let open: Vec<(String, i64)> = store
        .unit_summaries()
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.unit.to_string(), s.open_inspections))
        .collect();
    assert_eq!(open, vec![("ward:00073".to_string(), 1)]);
    assert_eq!(
        store
            .unit_summary(&ward70())
            .await
            .unwrap()
            .open_inspections,
        0
    );
}

/// Listing inspections a page at a time: every one once, oldest first, by
/// unit, status and reason, however the pages fall; a foreign cursor is refused.
pub async fn inspections_are_listed_a_page_at_a_time(store: Arc<dyn Store>) {
    let mut all = Vec::new();
    for n in 0..7u32 {
        let unit = if n % 2 == 0 { ward70() } else { ward73() };
        let i = Inspection {
            id: format!("insp-{n}-{unit}"),
            unit,
            case_id: None,
            reason: if n == 3 {
                "low_on_time_rate"
            } else {
                "empty_roster"
            }
            .into(),
            status: if n == 5 { "answered" } else { "open" }.into(),
            // Two opened at the same instant: ordered by id.
            opened_at: t0() + Duration::minutes(n.min(5) as i64),
            findings: vec![],
            unit_answer: None,
            closed_at: None,
            version: 1,
            details: serde_json::json!({}),
        };
        store.put_inspection(&i, 0).await.unwrap();
        all.push(i.id);
    }
    let st = store.as_ref();
    let ids = |v: Vec<Inspection>| v.into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(ids(all_inspections(st, None, None).await), all);
    let of = |idx: &[usize]| idx.iter().map(|i| all[*i].clone()).collect::<Vec<_>>();
    assert_eq!(
        ids(all_inspections(st, None, Some(&ward70())).await),
        of(&[0, 2, 4, 6])
    );
    assert_eq!(
        ids(all_inspections(st, Some("answered"), None).await),
        of(&[5])
    );
    assert_eq!(
        ids(all_inspections(st, Some("open"), Some(&ward73())).await),
        of(&[1, 3])
    );
    // Reason filters: pages may come short, never wrong.
    let mut got = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_inspections(&InspectionQuery {
                reason: Some("low_on_time_rate".into()),
                cursor: cursor.take(),
                limit: 3,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(page.items.iter().all(|i| i.reason == "low_on_time_rate"));
        got.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(ids(got), of(&[3]));
    match store
        .list_inspections(&InspectionQuery {
            cursor: Some("bm90LW91cnM".into()),
            limit: 3,
            ..Default::default()
        })
        .await
    {
        Err(StoreError::InvalidCursor) => {}
        other => panic!("a foreign cursor must be refused: {other:?}"),
    }
}

pub async fn commit_opens_an_inspection_once(store: Arc<dyn Store>) {
    let c = sample_case(t0(), "a");
    create(store.as_ref(), &c).await;
    let out = routed(&c, ward70());
    let first = Inspection::for_overdue_case(&c.id, &ward70(), t0(), serde_json::json!({"n": 1}));
    let mut commit = commit_of(1, out.clone());
    commit.inspection = Some(first.clone());
    store.commit(&commit).await.unwrap();
    assert_eq!(
        store.get_inspection(&first.id).await.unwrap(),
        Some(first.clone())
    );

    // Another change carrying the same inspection: the commit succeeds, the first record stays.
    let again = Inspection {
        details: serde_json::json!({"n": 2}),
        ..first.clone()
    };
    let mut commit = commit_of(2, changed(&out.case, |_| {}));
    commit.inspection = Some(again);
    store.commit(&commit).await.unwrap();
    assert_eq!(
        store.get_case(&c.id).await.unwrap().map(|c| c.version),
        Some(3)
    );
    assert_eq!(store.get_inspection(&first.id).await.unwrap(), Some(first));
}

// --------------------------------------------------------- SQLite instance

pub async fn accounts_register_once_and_count_per_scope(store: Arc<dyn Store>) {
    use pakn_core::ports::{Account, AccountScope};
    let acct = |sub: &str, role: Role, unit: Option<UnitCode>| Account {
        sub: sub.into(),
        role,
        unit,
        registered_at: t0(),
    };
    assert!(
        store
            .register_account(&acct("c1", Role::Citizen, None))
            .await
            .expect("register")
    );
    assert!(
        !store
            .register_account(&acct("c1", Role::Citizen, None))
            .await
            .expect("again"),
        "a second registration is not new"
    );
    assert!(
        store
            .register_account(&acct("c2", Role::Citizen, None))
            .await
            .expect("register")
    );
    for sub in ["o1", "o2"] {
        assert!(
            store
                .register_account(&acct(sub, Role::Official, Some(ward70())))
                .await
                .expect("register")
        );
    }
    assert!(
        store
            .register_account(&acct("o3", Role::UnitAdmin, Some(ward73())))
            .await
            .expect("register")
    );
    assert!(
        !store
            .register_account(&acct("o1", Role::Official, Some(ward70())))
            .await
            .expect("again")
    );
    let count = |s: AccountScope| {
        let store = store.clone();
        async move { store.count_accounts(&s).await.expect("count") }
    };
    assert_eq!(count(AccountScope::Citizens).await, 2);
    assert_eq!(count(AccountScope::Officials).await, 3);
    assert_eq!(count(AccountScope::Unit(ward70())).await, 2);
    assert_eq!(count(AccountScope::Unit(ward73())).await, 1);
    assert_eq!(count(AccountScope::Unit(UnitCode::ward("00004"))).await, 0);
}

pub async fn markers_are_written_once(store: Arc<dyn Store>) {
    assert!(!store.get_marker("daily:2025-07-28").await.expect("get"));
    store.put_marker("daily:2025-07-28").await.expect("put");
    store
        .put_marker("daily:2025-07-28")
        .await
        .expect("put again is harmless");
    assert!(store.get_marker("daily:2025-07-28").await.expect("get"));
    assert!(
        !store
            .get_marker("daily:2025-07-29")
            .await
            .expect("get other")
    );
}

pub async fn notifications_for_a_case_with_publish_times(store: Arc<dyn Store>) {
    let c = sample_case(t0(), "citizen-n");
    create(store.as_ref(), &c).await;
    let other = sample_case(t0() + Duration::seconds(1), "citizen-m");
    create(store.as_ref(), &other).await;
    let routed =
        routing::route_to(&c, ward70(), t0() + Duration::minutes(1), &refdata()).expect("route");
    let sent: Vec<String> = routed
        .notifications
        .iter()
        .map(|n| n.dedup_id.clone())
        .collect();
    assert!(!sent.is_empty());
    store
        .commit(&Commit {
            expected_version: 1,
            outcome: routed,
            inspection: None,
            enqueue: false,
        })
        .await
        .expect("commit");
    let routed_other = routing::route_to(&other, ward73(), t0() + Duration::minutes(1), &refdata())
        .expect("route");
    store
        .commit(&Commit {
            expected_version: 1,
            outcome: routed_other,
            inspection: None,
            enqueue: false,
        })
        .await
        .expect("commit other");
    store.mark_published(&sent[0]).await.expect("mark");
    let got = store.notifications_for_case(&c.id).await.expect("list");
    let ids: Vec<&str> = got.iter().map(|(n, _)| n.dedup_id.as_str()).collect();
    let mut want: Vec<&str> = sent.iter().map(String::as_str).collect();
    let mut ids_sorted = ids.clone();
    ids_sorted.sort();
    want.sort();
    assert_eq!(
        ids_sorted, want,
        "exactly this case's notifications, none of the other case's"
    );
    for (n, published) in &got {
        assert_eq!(n.case_id.as_ref(), Some(&c.id));
        assert_eq!(published.is_some(), n.dedup_id == sent[0], "{}", n.dedup_id);
    }
}

pub async fn notifications_for_a_unit_in_a_period(store: Arc<dyn Store>) {
    let at = |unit: UnitCode, key: &str, minutes: i64| Notification {
        unit: unit.to_string(),
        created_at: t0() + Duration::minutes(minutes),
        ..digest(&format!("unit-test:{unit}:{key}"))
    };
    // A case's decisions (in its partition) and decisions without a case.
    let c = sample_case(t0(), "citizen-u");
    create(store.as_ref(), &c).await;
    let routed =
        routing::route_to(&c, ward70(), t0() + Duration::minutes(5), &refdata()).expect("route");
    let case_ids: Vec<String> = routed
        .notifications
        .iter()
        .filter(|n| n.unit == ward70().as_str())
        .map(|n| n.dedup_id.clone())
        .collect();
    assert!(!case_ids.is_empty());
    store
        .commit(&Commit {
            expected_version: 1,
            outcome: routed,
            inspection: None,
            enqueue: false,
        })
        .await
        .expect("commit");
    for n in [
        at(ward70(), "before", -1),
        at(ward70(), "first", 0),
        at(ward70(), "last", 59),
        at(ward70(), "after", 60),
        at(ward73(), "other-unit", 10),
    ] {
        assert!(store.decide_once(&n).await.expect("decide"));
    }
    store
        .mark_published("unit-test:ward:00070:first")
        .await
        .expect("mark");
    let got = store
        .notifications_for_unit(ward70().as_str(), t0(), t0() + Duration::minutes(60), 100)
        .await
        .expect("list");
    let ids: Vec<&str> = got.iter().map(|(n, _)| n.dedup_id.as_str()).collect();
    let mut want = vec!["unit-test:ward:00070:first"];
    want.extend(case_ids.iter().map(String::as_str));
    want.push("unit-test:ward:00070:last");
    assert_eq!(ids, want, "[from, to) of this unit only, oldest first");
    assert!(got[0].1.is_some(), "published, with its time");
    assert!(got[1..].iter().all(|(_, p)| p.is_none()), "still pending");
    let capped = store
        .notifications_for_unit(ward70().as_str(), t0(), t0() + Duration::minutes(60), 2)
        .await
        .expect("list");
    assert_eq!(capped.len(), 2, "bounded by the limit");
    assert!(
        store
            .notifications_for_unit("ward:00001", t0(), t0() + Duration::days(1), 100)
            .await
            .expect("list")
            .is_empty()
    );
}

pub async fn a_foreign_cursor_is_refused(store: Arc<dyn Store>) {
    let q = CaseQuery {
        cursor: Some("not-a-cursor-of-ours".into()),
        limit: 10,
        ..Default::default()
    };
    match store.list_cases(&q).await {
        Err(StoreError::InvalidCursor) => {}
        other => panic!(
            "a foreign cursor must be InvalidCursor, got {:?}",
            other.map(|p| p.cases.len())
        ),
    }
}

mod sqlite {
    use pakn_core::ports::Store;
    use pakn_testkit::TempDir;
    use std::sync::Arc;

    pub fn fresh() -> (TempDir, Arc<dyn Store>) {
        let dir = TempDir::new("contract");
        let backend =
            pakn_local::LocalBackend::open(&dir.path().join("pakn.db")).expect("open SQLite");
        (dir, backend.store)
    }

    macro_rules! sqlite_contract {
        ($($t:ident),* $(,)?) => {
            $(
                #[tokio::test]
                async fn $t() {
                    let (_dir, store) = fresh();
                    super::$t(store).await;
                }
            )*
        };
    }

    super::for_each_contract_test!(sqlite_contract);
}

pub async fn quotas_count_exactly_per_key_and_window(store: Arc<dyn Store>) {
    let hour = Duration::hours(1);
    let w0 = window_start(t0(), hour);
    let w1 = w0 + hour;
    // Three allowed, the fourth refused, with the window's end.
    for i in 0..3 {
        let t = store
            .take("citizen:a:submit-h", w0, hour, 3)
            .await
            .expect("take");
        assert!(t.allowed, "take {i}");
        assert_eq!(t.window_end, w1);
    }
    let t = store
        .take("citizen:a:submit-h", w0, hour, 3)
        .await
        .expect("take");
    assert!(!t.allowed, "the fourth is refused");
    assert_eq!(t.window_end, w1);
    // Refusals do not count: a larger limit allows exactly one more.
    assert!(
        store
            .take("citizen:a:submit-h", w0, hour, 4)
            .await
            .unwrap()
            .allowed
    );
    assert!(
        !store
            .take("citizen:a:submit-h", w0, hour, 4)
            .await
            .unwrap()
            .allowed
    );
    // Another key is independent.
    assert!(
        store
            .take("citizen:b:submit-h", w0, hour, 3)
            .await
            .unwrap()
            .allowed
    );
    assert!(
        store
            .take("citizen:a:act-m", w0, Duration::minutes(1), 1)
            .await
            .unwrap()
            .allowed
    );
    // The next window starts from zero.
    for _ in 0..3 {
        assert!(
            store
                .take("citizen:a:submit-h", w1, hour, 3)
                .await
                .unwrap()
                .allowed
        );
    }
    assert!(
        !store
            .take("citizen:a:submit-h", w1, hour, 3)
            .await
            .unwrap()
            .allowed
    );
    // A zero limit refuses everything.
    assert!(
        !store
            .take("citizen:z:submit-h", w0, hour, 0)
            .await
            .unwrap()
            .allowed
    );
    // Concurrent takes never count past the limit.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .take("citizen:c:submit-h", w0, hour, 5)
                .await
                .expect("take")
                .allowed
        }));
    }
    let mut allowed = 0;
    for t in tasks {
        allowed += usize::from(t.await.expect("join"));
    }
    assert_eq!(allowed, 5);
}

pub async fn idempotency_lookup_sees_live_records_only(store: Arc<dyn Store>) {
    let c = sample_case(t0(), "idem-lookup");
    let rec = IdemRecord {
        key: "key-hash-lookup".into(),
        body_hash: "body-hash".into(),
        case_id: c.id.clone(),
        tracking_code: c.tracking_code.clone(),
        expires_at: t0() + Duration::hours(24),
    };
    assert_eq!(store.idempotency(&rec.key, t0()).await.unwrap(), None);
    let mut n = new_case(&c);
    n.idempotency = Some(rec.clone());
    assert_eq!(store.create_case(&n, t0()).await.unwrap(), Created::New);
    assert_eq!(
        store.idempotency(&rec.key, t0()).await.unwrap(),
        Some(rec.clone())
    );
    assert_eq!(
        store
            .idempotency(&rec.key, t0() + Duration::hours(25))
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.idempotency("another-key", t0()).await.unwrap(), None);
}

pub async fn api_keys_are_created_once_listed_and_revoked(store: Arc<dyn Store>) {
    use pakn_core::ports::ApiKey;
    let key = |id: &str, secs: i64| ApiKey {
        id: id.into(),
        name: format!("Ứng dụng {id}"),
        key_hash: pakn_core::intake::sha256_hex(id.as_bytes()),
        created_at: t0() + Duration::seconds(secs),
        revoked_at: None,
    };
    assert_eq!(store.get_api_key("k1").await.expect("get"), None);
    assert!(store.list_api_keys().await.expect("list").is_empty());
    store
        .create_api_key(&key("k2", 5))
        .await
        .expect("create k2");
    store
        .create_api_key(&key("k1", 1))
        .await
        .expect("create k1");
    // The same id again is refused and changes nothing.
    let mut other = key("k1", 9);
    other.key_hash = "f".repeat(64);
    assert!(matches!(
        store.create_api_key(&other).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.get_api_key("k1").await.expect("get"),
        Some(key("k1", 1))
    );
    // Oldest first.
    let ids: Vec<String> = store
        .list_api_keys()
        .await
        .expect("list")
        .into_iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(ids, ["k1", "k2"]);
    // Revoked once: a second revocation keeps the first time.
    let at = t0() + Duration::hours(1);
    let revoked = store.revoke_api_key("k1", at).await.expect("revoke");
    assert_eq!(revoked.as_ref().and_then(|k| k.revoked_at), Some(at));
    let again = store
        .revoke_api_key("k1", at + Duration::hours(1))
        .await
        .expect("revoke again");
    assert_eq!(again.and_then(|k| k.revoked_at), Some(at));
    assert_eq!(
        store
            .get_api_key("k1")
            .await
            .expect("get")
            .and_then(|k| k.revoked_at),
        Some(at)
    );
    assert_eq!(
        store
            .get_api_key("k2")
            .await
            .expect("get")
            .and_then(|k| k.revoked_at),
        None
    );
    assert_eq!(
        store.revoke_api_key("nope", at).await.expect("revoke"),
        None
    );
    assert_eq!(store.get_api_key("nope").await.expect("get"), None);
    assert_eq!(store.list_api_keys().await.expect("list").len(), 2);
}
