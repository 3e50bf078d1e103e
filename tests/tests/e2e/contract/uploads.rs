//! Upload records in the store contract (both backends): put once, listed
//! by owner, the check's outcome saved, and erased for good (never read,
//! listed or saved back again).

use super::t0;
use chrono::Duration;
use pakn_core::media::{Upload, UploadStatus};
use pakn_core::ports::{Store, StoreError};
use pakn_core::principal::Role;
use std::sync::Arc;

fn upload(owner: &str, role: Role, secs: i64) -> Upload {
    let at = t0() + Duration::seconds(secs);
    Upload {
        id: pakn_core::ids::CaseId::new(at).to_string(),
        owner: owner.into(),
        owner_role: role,
        content_type: "image/jpeg".into(),
        bytes: 1234,
        created_at: at,
        slot_expires_at: at + Duration::minutes(10),
        status: UploadStatus::Pending,
        reason: None,
        keep_location: false,
        thumbnail: false,
        public: false,
    }
}

pub async fn uploads_are_listed_by_owner_and_erased_for_good(store: Arc<dyn Store>) {
    let s = &*store;
    let a1 = upload("cong-dan-a", Role::Citizen, 1);
    let a2 = upload("cong-dan-a", Role::Citizen, 2);
    let b1 = upload("cong-dan-b", Role::Citizen, 3);
    for u in [&a1, &a2, &b1] {
        s.put_upload(u).await.unwrap();
    }
    // Put once: the same id again is refused.
    assert!(s.put_upload(&a1).await.is_err());
    assert_eq!(
        s.uploads_of("cong-dan-a").await.unwrap(),
        vec![a1.clone(), a2.clone()]
    );
    assert!(s.uploads_of("nobody").await.unwrap().is_empty());

    // The check's outcome is saved and listed.
    let mut ready = a2.clone();
    ready.status = UploadStatus::Ready;
    ready.thumbnail = true;
    s.save_upload(&ready).await.unwrap();
    assert_eq!(s.get_upload(&a2.id).await.unwrap(), Some(ready.clone()));
    assert_eq!(
        s.uploads_of("cong-dan-a").await.unwrap(),
        vec![a1.clone(), ready.clone()]
    );

    // Erased: gone from reads and the owner's list; a late save of the
    // check is refused and brings nothing back; a repeat is fine.
    s.erase_upload(&a2.id).await.unwrap();
    assert_eq!(s.get_upload(&a2.id).await.unwrap(), None);
    assert_eq!(s.uploads_of("cong-dan-a").await.unwrap(), vec![a1.clone()]);
    assert!(matches!(
        s.save_upload(&ready).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.get_upload(&a2.id).await.unwrap(), None);
    s.erase_upload(&a2.id).await.unwrap();
    // Never recorded: erasing it is a no-op, and saving it is refused.
    let never = upload("cong-dan-a", Role::Citizen, 9);
    s.erase_upload(&never.id).await.unwrap();
    assert!(matches!(
        s.save_upload(&never).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.get_upload(&never.id).await.unwrap(), None);
    // Others' uploads are untouched.
    assert_eq!(s.uploads_of("cong-dan-b").await.unwrap(), vec![b1.clone()]);
    assert_eq!(s.get_upload(&b1.id).await.unwrap(), Some(b1));
}
