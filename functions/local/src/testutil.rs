//! Test helpers shared by the crate's unit tests (the common ones come
//! from pakn-testkit).

use pakn_core::notify::{Audience, Notification};

pub use pakn_testkit::{TempDir, sample_case as case, t0};

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
