//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]`
//! attributes and the domain's `ToSchema` types, served at `/openapi.json`.

use crate::open311;
use crate::routes::{
    accounts, cases, dev, events, follow, inspections, notices, privacy, public, scorecards, units,
    uploads,
};
use axum::Json;
use std::sync::OnceLock;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
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
        public::unit_stats,
        public::track,
        public::nearby,
        follow::follow,
        follow::unfollow,
        follow::following,
        notices::get,
        notices::put,
        notices::verify,
        notices::register_device,
        notices::remove_device,
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
        uploads::create,
        uploads::get,
        uploads::put_content,
        uploads::media,
        accounts::register,
        dev::token,
        accounts::registration,
        inspections::list,
        inspections::get,
        inspections::add_finding,
        inspections::answer,
        inspections::close,
        privacy::export,
        privacy::erase,
        privacy::audit,
        open311::discovery,
        open311::services,
        open311::service_definition,
        open311::submit,
        open311::requests,
        open311::one_request,
        open311::token,
    ),
    components(schemas(open311::Format311)),
    modifiers(&Bearer, &UniqueOperationIds, &RateLimited),
    tags(
        (name = "public", description = "No token needed"),
        (name = "cases", description = "Reports and the actions on them"),
        (name = "units", description = "Rosters and headcounts"),
        (name = "accounts", description = "The registration drive"),
        (name = "scorecards", description = "Every unit's record and the year-end export"),
        (name = "inspections", description = "Home Affairs inspections: evidence, findings, the unit's answer"),
        (name = "following", description = "Citizens following cases by tracking code"),
        (name = "notifications", description = "Telling citizens: their channel, verified phone and devices"),
        (name = "privacy", description = "Personal data (Decree 13/2023/NĐ-CP): the caller's data, its erasure, a case's audit trail"),
        (name = "open311", description = "Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2): XML or JSON by the extension, errors as [{\"code\",\"description\"}]"),
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
        components.add_security_scheme(
            "open311_api_key",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "api_key",
                "The key the city issued to a client application (`pakn apikey create`); sent as the api_key form field or query parameter.",
            ))),
        );
    }
}

/// Operation ids are `<tag>_<handler>` (`cases_list`, `scorecards_list`,
/// `open311_submit`): handlers of different resources share names, and
/// OpenAPI wants every id unique.
struct UniqueOperationIds;

impl Modify for UniqueOperationIds {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        for item in doc.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                let tag = op.tags.as_ref().and_then(|t| t.first()).cloned();
                if let (Some(tag), Some(id)) = (tag, op.operation_id.as_mut()) {
                    *id = format!("{tag}_{id}");
                }
            }
        }
    }
}

/// `429` (with `Retry-After`) on the operations that count: submitting and
/// acting (per account, in the store) and the public routes limited per
/// client address ([`crate::LIMITED_PER_ADDRESS`]). Open311's say it in
/// their own shape, on each route.
struct RateLimited;

impl Modify for RateLimited {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, ResponseBuilder};
        let response = ResponseBuilder::new()
            .description("Over a rate limit; retry after the seconds in Retry-After.")
            .header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(utoipa::openapi::ObjectBuilder::new().schema_type(
                        utoipa::openapi::schema::SchemaType::Type(
                            utoipa::openapi::schema::Type::Integer,
                        ),
                    ))
                    .description(Some("Seconds to wait"))
                    .build(),
            )
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        let mut counted: Vec<(&str, &str)> =
            vec![("post", "/v1/cases"), ("post", "/v1/cases/{id}/{action}")];
        for path in crate::LIMITED_PER_ADDRESS {
            counted.push(("get", path));
            counted.push(("post", path));
        }
        for (method, path) in counted {
            let Some(item) = doc.paths.paths.get_mut(path) else {
                continue;
            };
            let op = match method {
                "get" => item.get.as_mut(),
                _ => item.post.as_mut(),
            };
            if let Some(op) = op {
                op.responses
                    .responses
                    .insert("429".into(), response.clone().into());
            }
        }
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
