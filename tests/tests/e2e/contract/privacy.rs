//! The personal-data half of the store contract (run on both backends with
//! the rest, through `for_each_contract_test!`): access records, the
//! retention index and the erasure of a case, account records.

use super::{changed, commit_of, create, t0, ward70};
use chrono::{DateTime, Duration, Utc};
use pakn_core::auth::{Principal, Role};
use pakn_core::case::{Case, Channel, Contact, Rating, Status};
use pakn_core::ids::CaseId;
use pakn_core::ports::{AccessRecord, Account, CaseQuery, Created, IdemRecord, Store, StoreError};
use pakn_core::privacy::erasure;
use pakn_core::refdata::RefData;
use pakn_core::stats::{ALL, Counter};
use pakn_testkit::{new_case, sample_case};
use std::sync::Arc;

const REPORTER: &str = "cong-dan-7";

fn export(id: &CaseId, at: DateTime<Utc>, n: u32) -> AccessRecord {
    AccessRecord {
        case_id: id.clone(),
        id: format!("{}#{n:04}", at.format("%Y-%m-%dT%H:%M:%S%.6fZ")),
        at,
        action: "export".into(),
        actor: REPORTER.into(),
        actor_role: Role::Citizen,
        channel: Channel::Web,
    }
}

/// A case reported by [`REPORTER`] with personal data, stored with an
/// idempotency record, then closed (rated with a comment) at `closed`,
/// due for erasure at `erase_after`. The closed case (version 2).
async fn closed_case(
    store: &dyn Store,
    at: DateTime<Utc>,
    closed: DateTime<Utc>,
    erase_after: Option<DateTime<Utc>>,
) -> Case {
    let mut c = sample_case(at, REPORTER);
    c.contact = Some(Contact {
        name: Some("Trần Thị B".into()),
        phone: Some("0912000111".into()),
        email: Some("b@example.vn".into()),
    });
    c.media = vec!["https://example.vn/anh-nha-toi.jpg".into()];
    let mut new = new_case(&c);
    new.idempotency = Some(IdemRecord {
        key: format!("idem-{}", c.id),
        body_hash: "h".into(),
        case_id: c.id.clone(),
        tracking_code: c.tracking_code.clone(),
        expires_at: at + Duration::hours(24),
    });
    assert_eq!(store.create_case(&new, at).await.unwrap(), Created::New);
    let mut o = changed(&c, |k| {
        k.status = Status::Closed;
        k.closed_at = Some(closed);
        k.updated_at = closed;
        k.rating = Some(Rating {
            score: 5,
            comment: Some("Cảm ơn, nhà tôi ở số 12".into()),
            at: closed,
        });
        k.erase_after = erase_after;
    });
    o.event.action = "rate".into();
    o.event.text = Some("Cảm ơn, nhà tôi ở số 12".into());
    o.event.at = closed;
    let closed_case = o.case.clone();
    store.commit(&commit_of(1, o)).await.expect("close");
    closed_case
}

fn retention_actor() -> Principal {
    Principal::system("retention")
}

pub async fn erasure_rewrites_the_case_and_leaves_every_index(store: Arc<dyn Store>) {
    let rd = RefData::embedded();
    let s = store.as_ref();
    let due = t0() + Duration::days(30);
    let c = closed_case(s, t0(), t0() + Duration::days(2), Some(due)).await;
    let records = vec![
        export(&c.id, t0() + Duration::days(3), 1),
        export(&c.id, t0() + Duration::days(4), 2),
    ];
    s.record_accesses(&records).await.unwrap();
    assert_eq!(s.accesses(&c.id).await.unwrap(), records, "oldest first");
    let mine = CaseQuery {
        submitted_by: Some(REPORTER.into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(s.list_cases(&mine).await.unwrap().cases.len(), 1);
    let key = format!("idem-{}", c.id);
    assert!(s.idempotency(&key, t0()).await.unwrap().is_some());

    let tl = s.timeline(&c.id).await.unwrap();
    let at = due + Duration::minutes(1);
    let e = erasure(
        &c,
        &tl,
        s.accesses(&c.id).await.unwrap(),
        &retention_actor(),
        "retention",
        at,
        &rd,
    );
    // On a stale version: refused, and the case is as it was.
    let mut stale = e.clone();
    stale.expected_version = 1;
    match s.erase(&stale).await {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert_eq!(s.get_case(&c.id).await.unwrap(), Some(c.clone()));
    assert_eq!(s.due_erasures(at, 10).await.unwrap(), vec![c.clone()]);

    s.erase(&e).await.expect("erase");
    let got = s.get_case(&c.id).await.unwrap().expect("the case stays");
    assert_eq!(got, e.case, "the erased case round-trips");
    assert_eq!((got.version, got.erased_at), (3, Some(at)));
    assert_eq!(got.contact, None);
    assert!(got.description.is_empty() && got.media.is_empty());
    assert_eq!(
        got.rating.as_ref().map(|r| (r.score, r.comment.is_none())),
        Some((5, true))
    );
    let tl = s.timeline(&c.id).await.unwrap();
    assert_eq!(
        tl.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["submitted", "rate", "erase"]
    );
    assert!(
        tl.iter().all(|e| e.actor != REPORTER && e.text.is_none()),
        "{tl:?}"
    );
    assert_eq!(tl[2].actor, "system:retention");
    assert_eq!(tl[2].channel, Some(Channel::System));
    assert_eq!(tl[1].actor_role, "citizen", "the skeleton keeps the role");
    let acc = s.accesses(&c.id).await.unwrap();
    assert_eq!(acc.len(), 2);
    assert!(
        acc.iter()
            .all(|a| a.actor.is_empty() && a.channel == Channel::Web)
    );
    // No index leads from the reporter to the case; it left the retention index.
    assert!(s.list_cases(&mine).await.unwrap().cases.is_empty());
    assert!(
        s.due_erasures(at + Duration::days(3650), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.idempotency(&key, t0()).await.unwrap(), None);
    // The case is still found by its code, listed for staff, and counted.
    assert_eq!(
        s.case_id_by_tracking_code(&c.tracking_code).await.unwrap(),
        Some(c.id.clone())
    );
    let all = CaseQuery {
        limit: 10,
        ..Default::default()
    };
    assert_eq!(s.list_cases(&all).await.unwrap().cases.len(), 1);
    let rows = s.rollups(
        ALL,
        t0().date_naive(),
        (t0() + Duration::days(1)).date_naive(),
    );
    assert_eq!(rows.await.unwrap()[0].get(Counter::Received), 1);
    // Erasing again is refused (version moved), writing nothing.
    assert!(matches!(s.erase(&e).await, Err(StoreError::Conflict(_))));
    assert_eq!(s.timeline(&c.id).await.unwrap().len(), 3);
}

pub async fn the_retention_index_holds_closed_cases_until_erased(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let later = closed_case(
        s,
        t0(),
        t0() + Duration::days(1),
        Some(t0() + Duration::days(30)),
    )
    .await;
    let sooner = closed_case(
        s,
        t0() + Duration::seconds(1),
        t0() + Duration::days(1),
        Some(t0() + Duration::days(10)),
    )
    .await;
    // Closed before erase_after existed: not in the index (README "Not yet").
    let legacy = closed_case(
        s,
        t0() + Duration::seconds(2),
        t0() + Duration::days(1),
        None,
    )
    .await;
    // An open case, its next look long past, is the sweep's, not retention's.
    let open = sample_case(t0() + Duration::seconds(3), "other");
    create(s, &open).await;
    let mut routed = super::routed(&open, ward70());
    routed.case.next_action_at = Some(t0());
    s.commit(&commit_of(1, routed)).await.unwrap();

    let ids = |v: Vec<Case>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
    assert!(
        s.due_erasures(t0() + Duration::days(9), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        ids(s.due_erasures(t0() + Duration::days(10), 10).await.unwrap()),
        vec![sooner.id.clone()],
        "due at erase_after itself"
    );
    let far = t0() + Duration::days(3650);
    assert_eq!(
        ids(s.due_erasures(far, 10).await.unwrap()),
        vec![sooner.id.clone(), later.id.clone()],
        "earliest first; never the legacy or the open case"
    );
    assert_eq!(
        ids(s.due_erasures(far, 1).await.unwrap()),
        vec![sooner.id.clone()]
    );
    // Closed cases are no longer the deadline sweep's.
    let due = ids(s.due_cases(far, 10).await.unwrap());
    assert_eq!(due, vec![open.id.clone()]);
    assert!(!due.contains(&legacy.id));
}

pub async fn accounts_are_read_back_by_subject(store: Arc<dyn Store>) {
    let a = Account {
        sub: REPORTER.into(),
        role: Role::Citizen,
        unit: None,
        registered_at: t0(),
    };
    assert!(store.register_account(&a).await.unwrap());
    assert_eq!(store.account(REPORTER).await.unwrap(), Some(a));
    assert_eq!(store.account("no-one").await.unwrap(), None);
}
