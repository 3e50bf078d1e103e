//! Citizens' notification preferences and notices in the store contract
//! (both backends): preferences saved on their version only (a stale save
//! refused and nothing written), forgotten on erasure; notices decided
//! once, due in `next_at` order, claimed and settled on their attempt
//! count only, and listed per citizen newest first.

use super::t0;
use chrono::Duration;
use pakn_core::case::Status;
use pakn_core::ids::CaseId;
use pakn_core::ports::{
    Device, Notice, NoticeChannel, NoticePrefs, NoticeState, Platform, Store, StoreError,
};
use std::sync::Arc;

fn notice(id: &str, sub: &str, mins: i64) -> Notice {
    Notice {
        id: id.into(),
        dedup_id: format!("{id}:dedup"),
        sub: sub.into(),
        case_id: CaseId::new(t0()),
        tracking_code: "HN-26-7K3QX-9MPTR".into(),
        status: Status::Resolved,
        reporter: true,
        channel: NoticeChannel::Sms,
        text: "Phản ánh HN-26-7K3QX-9MPTR đã được xử lý.".into(),
        urgent: false,
        state: NoticeState::Pending,
        next_at: Some(t0() + Duration::minutes(mins)),
        attempts: 0,
        last_error: None,
        created_at: t0() + Duration::seconds(mins),
        sent_at: None,
        segments: 1,
    }
}

pub async fn notice_preferences_are_saved_on_their_version(store: Arc<dyn Store>) {
    let s = &*store;
    assert_eq!(s.notice_prefs("cong-dan-a").await.unwrap(), None);
    let mut p = NoticePrefs::new("cong-dan-a", t0());
    p.version = 1;
    p.channel = NoticeChannel::Sms;
    p.phone = Some("+84912345678".into());
    s.save_notice_prefs(&p).await.unwrap();
    assert_eq!(s.notice_prefs("cong-dan-a").await.unwrap(), Some(p.clone()));
    // A second "first" save is refused; so is a save that skips a version.
    assert!(matches!(
        s.save_notice_prefs(&p).await,
        Err(StoreError::Conflict(_))
    ));
    let mut skip = p.clone();
    skip.version = 3;
    assert!(matches!(
        s.save_notice_prefs(&skip).await,
        Err(StoreError::Conflict(_))
    ));
    let mut next = p.clone();
    next.version = 2;
    next.devices.push(Device {
        id: "d1".into(),
        platform: Platform::Fcm,
        token: "tok".into(),
        endpoint: "arn:endpoint".into(),
        registered_at: t0(),
    });
    s.save_notice_prefs(&next).await.unwrap();
    assert_eq!(
        s.notice_prefs("cong-dan-a").await.unwrap(),
        Some(next.clone())
    );
    // Several at once: only those that exist.
    let many = s
        .notice_prefs_many(&["cong-dan-a".into(), "nobody".into()])
        .await
        .unwrap();
    assert_eq!(many, vec![next.clone()]);
    // Forgotten (idempotent), and saved afresh from version 1 after.
    s.delete_notice_prefs("cong-dan-a").await.unwrap();
    s.delete_notice_prefs("cong-dan-a").await.unwrap();
    assert_eq!(s.notice_prefs("cong-dan-a").await.unwrap(), None);
    assert!(
        s.notice_prefs_many(&["cong-dan-a".into()])
            .await
            .unwrap()
            .is_empty()
    );
    s.save_notice_prefs(&p).await.unwrap();
    assert_eq!(s.notice_prefs("cong-dan-a").await.unwrap(), Some(p));
}

pub async fn notices_are_decided_once_and_claimed_by_attempt(store: Arc<dyn Store>) {
    let s = &*store;
    let a = notice("n-a", "cong-dan-a", 10);
    let b = notice("n-b", "cong-dan-a", 5);
    let c = notice("n-c", "cong-dan-b", 30);
    assert_eq!(
        s.decide_notices(&[a.clone(), b.clone(), c.clone()])
            .await
            .unwrap(),
        vec![true, true, true]
    );
    // A repeat (even with other contents) decides nothing and changes nothing.
    let mut other = a.clone();
    other.text = "khác".into();
    assert_eq!(
        s.decide_notices(&[other, notice("n-d", "cong-dan-b", 40)])
            .await
            .unwrap(),
        vec![false, true]
    );
    // Due: next_at <= now, earliest first, at most `limit`.
    let due = |mins: i64, limit: usize| async move {
        s.due_notices(t0() + Duration::minutes(mins), limit)
            .await
            .unwrap()
            .into_iter()
            .map(|n| n.id)
            .collect::<Vec<_>>()
    };
    assert!(due(4, 10).await.is_empty());
    assert_eq!(due(10, 10).await, ["n-b", "n-a"]);
    assert_eq!(due(60, 2).await, ["n-b", "n-a"]);
    assert_eq!(due(60, 10).await, ["n-b", "n-a", "n-c", "n-d"]);
    // Claim on the attempt count: the second claimer is refused.
    let mut claimed = b.clone();
    claimed.attempts = 1;
    claimed.next_at = Some(t0() + Duration::minutes(50));
    assert!(s.settle_notice(&claimed, 0).await.unwrap());
    assert!(!s.settle_notice(&claimed, 0).await.unwrap());
    assert_eq!(due(10, 10).await, ["n-a"]);
    // Sent: out of the due list, and no longer settled by anyone.
    let mut sent = claimed.clone();
    sent.state = NoticeState::Sent;
    sent.next_at = None;
    sent.sent_at = Some(t0() + Duration::minutes(11));
    assert!(s.settle_notice(&sent, 1).await.unwrap());
    assert!(!s.settle_notice(&sent, 1).await.unwrap());
    assert_eq!(due(60, 10).await, ["n-a", "n-c", "n-d"]);
    // The citizen's log: newest first, every state, at most `limit`.
    let log: Vec<(String, NoticeState)> = s
        .notices_of("cong-dan-a", 10)
        .await
        .unwrap()
        .into_iter()
        .map(|n| (n.id, n.state))
        .collect();
    assert_eq!(
        log,
        [
            ("n-a".to_string(), NoticeState::Pending),
            ("n-b".to_string(), NoticeState::Sent)
        ]
    );
    assert_eq!(s.notices_of("cong-dan-b", 1).await.unwrap().len(), 1);
    assert!(s.notices_of("nobody", 10).await.unwrap().is_empty());
    // An erasure forgets a citizen's notices, pending or sent: none is
    // listed, due or settled; the others' stay.
    assert_eq!(s.forget_notices("cong-dan-a").await.unwrap(), 2);
    assert_eq!(s.forget_notices("cong-dan-a").await.unwrap(), 0);
    assert!(s.notices_of("cong-dan-a", 10).await.unwrap().is_empty());
    assert_eq!(due(60, 10).await, ["n-c", "n-d"]);
    let mut late = claimed.clone();
    late.attempts = 1;
    assert!(!s.settle_notice(&late, 0).await.unwrap());
    assert_eq!(s.notices_of("cong-dan-b", 10).await.unwrap().len(), 2);
}
