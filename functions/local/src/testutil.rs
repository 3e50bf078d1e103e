//! Test helpers shared by the crate's unit tests.

use chrono::{DateTime, TimeZone, Utc};
use pakn_core::auth::Role;
use pakn_core::case::{Case, Channel, Location, Submission, TimelineEvent};
use pakn_core::category::{Kind, Urgency};
use pakn_core::ids::{self, CaseId};
use pakn_core::notify::{Audience, Notification};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!(
            "pakn-local-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Monday 28 July 2025, 09:00 in Hanoi.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 7, 28, 2, 0, 0).unwrap()
}

pub fn notification(unit: &str, dedup_id: &str) -> Notification {
    Notification {
        dedup_id: dedup_id.into(),
        event: "case.assigned".into(),
        unit: unit.into(),
        urgency: "normal".into(),
        audience: vec![Audience::Unit],
        case_id: None,
        body: serde_json::json!({"hello": unit}),
        created_at: t0(),
    }
}

/// A freshly received case (version 1).
pub fn case(at: DateTime<Utc>, by: &str) -> Case {
    Case::received(
        CaseId::new(at),
        ids::new_tracking_code(at),
        Submission {
            kind: Kind::Field,
            category: "lighting".into(),
            title: "Đèn đường hỏng".into(),
            description: "Đèn không sáng".into(),
            urgency: Urgency::Normal,
            location: Location {
                lat: 21.03,
                lng: 105.85,
                address: None,
                ward_code: Some("00070".into()),
            },
            media: vec![],
            channel: Channel::App,
            contact: None,
        },
        by.into(),
        Role::Citizen,
        at,
    )
}

pub fn event(c: &Case, action: &str) -> TimelineEvent {
    TimelineEvent {
        at: c.updated_at,
        version: c.version,
        action: action.into(),
        actor: c.submitted_by.clone(),
        actor_role: "citizen".into(),
        from_status: None,
        to_status: Some(c.status),
        unit: c.unit.clone(),
        text: None,
        public: true,
        data: serde_json::Value::Null,
    }
}
