//! What agencies receive, documented: one JSON Schema per event
//! (`infra/events/v1/*.schema.json`, compiled in), served at
//! `GET /v1/events/schemas`. Each schema describes the whole message as SNS
//! (raw delivery) and the local webhooks deliver it: the attributes repeated
//! in the envelope and the event's data in `body`, which carries
//! `schema_version`.

use axum::Json;
use pakn_core::notify::SCHEMA_VERSION;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

/// (event, its JSON Schema) for every event pakn publishes.
pub const SCHEMAS: &[(&str, &str)] = &[
    (
        "case.assigned",
        include_str!("../../../../infra/events/v1/case.assigned.schema.json"),
    ),
    (
        "case.transferred",
        include_str!("../../../../infra/events/v1/case.transferred.schema.json"),
    ),
    (
        "case.reminder",
        include_str!("../../../../infra/events/v1/case.reminder.schema.json"),
    ),
    (
        "case.overdue",
        include_str!("../../../../infra/events/v1/case.overdue.schema.json"),
    ),
    (
        "unit.overdue_digest",
        include_str!("../../../../infra/events/v1/unit.overdue_digest.schema.json"),
    ),
    (
        "case.passed_around",
        include_str!("../../../../infra/events/v1/case.passed_around.schema.json"),
    ),
    (
        "inspection.opened",
        include_str!("../../../../infra/events/v1/inspection.opened.schema.json"),
    ),
    (
        "case.status_changed",
        include_str!("../../../../infra/events/v1/case.status_changed.schema.json"),
    ),
];

/// The schema of `event`'s messages, if pakn publishes it.
pub fn schema(event: &str) -> Option<&'static Value> {
    all().get("events")?.get(event)
}

/// `{"schema_version": 1, "events": {"case.assigned": {…}, …}}`.
pub fn all() -> &'static Value {
    static ALL: OnceLock<Value> = OnceLock::new();
    ALL.get_or_init(|| {
        let events: Map<String, Value> = SCHEMAS
            .iter()
            .map(|(e, s)| {
                let v = serde_json::from_str(s).expect("compiled-in event schemas are JSON");
                (e.to_string(), v)
            })
            .collect();
        json!({"schema_version": SCHEMA_VERSION, "events": events})
    })
}

/// The JSON Schema of every event's message (public).
#[utoipa::path(get, path = "/v1/events/schemas", tag = "public",
    responses((status = 200, description = "`{\"schema_version\":1,\"events\":{\"<event>\": <JSON Schema>}}`")))]
pub async fn schemas() -> Json<Value> {
    Json(all().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_published_event_has_a_schema_for_this_version() {
        for e in pakn_core::subscription::EVENTS {
            let s = schema(e).unwrap_or_else(|| panic!("no schema for {e}"));
            assert_eq!(s["properties"]["event"]["const"], *e);
            assert!(
                s["$id"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("/v{SCHEMA_VERSION}/"))
            );
        }
        assert_eq!(SCHEMAS.len(), pakn_core::subscription::EVENTS.len());
    }
}
