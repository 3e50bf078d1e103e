//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]`
//! attributes and the domain's `ToSchema` types, served at `/openapi.json`.

use crate::routes::{accounts, cases, events, inspections, privacy, public, scorecards, units};
use axum::Json;
use std::sync::OnceLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "pakn API",
        description = "Citizens' reports (phản ánh, kiến nghị) routed to Hanoi's units and held to legal deadlines. \
                       Errors: {\"error\":{\"code\",\"message\",\"message_vi\",\"field\"?}}.",
    ),
    paths(
        public::healthz,
        public::categories,
        public::units,
        public::stats,
        public::track,
        events::schemas,
        openapi_json,
        cases::submit,
        cases::list,
        cases::get,
        cases::act,
        units::get_roster,
        units::put_roster,
        units::get_headcount,
        units::put_headcount,
        units::notifications,
        scorecards::unit_scorecard,
        scorecards::list,
        scorecards::csv,
        accounts::register,
        accounts::registration,
        inspections::list,
        inspections::get,
        inspections::add_finding,
        inspections::answer,
        inspections::close,
        privacy::export,
        privacy::erase,
        privacy::audit,
    ),
    modifiers(&Bearer),
    tags(
        (name = "public", description = "No token needed"),
        (name = "cases", description = "Reports and the actions on them"),
        (name = "units", description = "Rosters and headcounts"),
        (name = "accounts", description = "The registration drive"),
        (name = "scorecards", description = "Every unit's record and the year-end export"),
        (name = "inspections", description = "Home Affairs inspections: evidence, findings, the unit's answer"),
        (name = "privacy", description = "Personal data (Decree 13/2023/NĐ-CP): the caller's data, its erasure, a case's audit trail"),
    )
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "Locally an HS256 token from `pakn token`; on AWS a Cognito token checked by API Gateway.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document as JSON (built once per process).
pub fn document() -> &'static serde_json::Value {
    static DOC: OnceLock<serde_json::Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_value(ApiDoc::openapi()).unwrap_or_default())
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", tag = "public", responses((status = 200, body = Object, description = "OpenAPI 3.1")))]
pub async fn openapi_json() -> Json<&'static serde_json::Value> {
    Json(document())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_in_openapi_3_1() {
        let doc = document();
        assert!(
            doc["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1")),
            "{}",
            doc["openapi"]
        );
        for (method, path) in crate::routes() {
            let op = &doc["paths"][path][method.to_ascii_lowercase()];
            assert!(
                op.is_object(),
                "{method} {path} is not in the OpenAPI document"
            );
        }
    }

    #[test]
    fn the_csv_export_and_the_public_stats_are_described() {
        let doc = document();
        let ok = &doc["paths"]["/v1/scorecards.csv"]["get"]["responses"]["200"];
        assert!(ok["content"]["text/csv; charset=utf-8"].is_object(), "{ok}");
        assert!(ok["headers"]["Content-Disposition"].is_object(), "{ok}");
        let stats = doc["components"]["schemas"]["PublicStats"].to_string();
        assert!(
            stats.contains("citizen_accounts") && stats.contains("#/components/schemas/Stats"),
            "{stats}"
        );
        for schema in [
            "MyData",
            "ErasureReport",
            "AuditTrail",
            "Scorecard",
            "InspectionView",
            "RegistrationReport",
            "Registered",
        ] {
            assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
        }
    }
}
