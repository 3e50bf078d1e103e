//! Followers in the store contract (both backends): added once (the first
//! `since` kept), listed by case and by citizen, removed idempotently; the
//! case itself untouched.

use super::{create, t0};
use chrono::Duration;
use pakn_core::ports::{FollowReason, Follower, Store};
use pakn_testkit::sample_case;
use std::sync::Arc;

pub async fn followers_are_kept_by_case_and_listed_by_citizen(store: Arc<dyn Store>) {
    let s = &*store;
    let a = sample_case(t0(), "cong-dan-a");
    let b = sample_case(t0() + Duration::seconds(1), "cong-dan-b");
    create(s, &a).await;
    create(s, &b).await;
    let f = |c: &pakn_core::case::Case, sub: &str, mins: i64| Follower {
        case_id: c.id.clone(),
        tracking_code: c.tracking_code.clone(),
        sub: sub.into(),
        since: t0() + Duration::minutes(mins),
        reason: FollowReason::Asked,
    };
    assert!(s.follow(&f(&a, "x", 1)).await.unwrap());
    // A repeat adds nothing and keeps the first `since`.
    assert!(!s.follow(&f(&a, "x", 5)).await.unwrap());
    assert!(s.follow(&f(&a, "y", 2)).await.unwrap());
    let mut dup = f(&b, "x", 3);
    dup.reason = FollowReason::Duplicate;
    assert!(s.follow(&dup).await.unwrap());

    let of_a = s.followers(&a.id).await.unwrap();
    assert_eq!(of_a, vec![f(&a, "x", 1), f(&a, "y", 2)]);
    assert_eq!(s.followers(&b.id).await.unwrap(), vec![dup.clone()]);
    // Newest first.
    assert_eq!(s.following("x").await.unwrap(), vec![dup, f(&a, "x", 1)]);
    assert!(s.following("nobody").await.unwrap().is_empty());

    assert!(s.unfollow(&a.id, "x").await.unwrap());
    assert!(!s.unfollow(&a.id, "x").await.unwrap());
    assert_eq!(s.followers(&a.id).await.unwrap(), vec![f(&a, "y", 2)]);
    assert_eq!(s.following("x").await.unwrap().len(), 1);
    // Following again after stopping is a new follow with its own `since`.
    assert!(s.follow(&f(&a, "x", 9)).await.unwrap());
    assert_eq!(
        s.followers(&a.id).await.unwrap(),
        vec![f(&a, "y", 2), f(&a, "x", 9)]
    );
    assert_eq!(s.following("x").await.unwrap()[0], f(&a, "x", 9));
    // The cases are as created: following is not a change of the case.
    assert_eq!(s.get_case(&a.id).await.unwrap().unwrap().version, a.version);
    assert_eq!(s.timeline(&a.id).await.unwrap().len(), 1);
}

/// A citizen's erasure: every follow of theirs goes at once (listed by
/// neither case nor citizen), others' stay; a repeat removes nothing; they
/// may follow again later.
pub async fn a_citizens_follows_are_forgotten_at_once(store: Arc<dyn Store>) {
    let s = &*store;
    let a = sample_case(t0(), "cong-dan-a");
    let b = sample_case(t0() + Duration::seconds(1), "cong-dan-b");
    create(s, &a).await;
    create(s, &b).await;
    let f = |c: &pakn_core::case::Case, sub: &str, mins: i64| Follower {
        case_id: c.id.clone(),
        tracking_code: c.tracking_code.clone(),
        sub: sub.into(),
        since: t0() + Duration::minutes(mins),
        reason: FollowReason::Asked,
    };
    assert!(s.follow(&f(&a, "x", 1)).await.unwrap());
    assert!(s.follow(&f(&b, "x", 2)).await.unwrap());
    assert!(s.follow(&f(&a, "y", 3)).await.unwrap());
    // One stopped before: not counted again.
    assert!(s.follow(&f(&b, "y", 4)).await.unwrap());
    assert!(s.unfollow(&b.id, "y").await.unwrap());

    assert_eq!(s.forget_citizen("x").await.unwrap(), 2);
    assert!(s.following("x").await.unwrap().is_empty());
    assert_eq!(s.followers(&a.id).await.unwrap(), vec![f(&a, "y", 3)]);
    assert!(s.followers(&b.id).await.unwrap().is_empty());
    assert_eq!(s.forget_citizen("x").await.unwrap(), 0, "idempotent");
    assert_eq!(s.forget_citizen("y").await.unwrap(), 1);
    assert!(s.followers(&a.id).await.unwrap().is_empty());
    // Following again is a new follow.
    assert!(s.follow(&f(&a, "x", 9)).await.unwrap());
    assert_eq!(s.following("x").await.unwrap(), vec![f(&a, "x", 9)]);
}
