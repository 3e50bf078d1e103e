//! pakn-api: the HTTP API of pakn, one axum [`Router`] for both runners —
//! `lambda_http::run(app(state))` on AWS (the `pakn-api` binary) and
//! `axum::serve` locally (`pakn serve`).
//!
//! Handlers are thin: extract, call [`pakn_core::Pakn`], shape the answer.
//! Permissions, validation and the status machine are the domain's; this
//! crate maps its [`pakn_core::Error`] to statuses ([`error`]) and words
//! it in English and Vietnamese ([`messages`]), checks tokens ([`auth`],
//! [`token`], [`cognito`]), and documents itself ([`openapi`]).

pub mod auth;
pub mod cognito;
pub mod commands;
pub mod console;
pub mod error;
pub mod extract;
pub mod messages;
pub mod open311;
pub mod openapi;
pub mod ratelimit;
pub mod routes;
pub mod token;
pub mod trace;

pub use auth::Auth;
pub use error::ApiError;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, get, post};
use routes::{
    accounts, cases, dev, events, follow, inspections, notices, privacy, public, scorecards, units,
    uploads,
};
use tower_http::catch_panic::CatchPanicLayer;

/// What every handler shares: the application and how tokens are checked.
#[derive(Clone)]
pub struct AppState {
    pub pakn: pakn_core::Pakn,
    pub auth: Auth,
    /// How the web console signs people in (developer sign-in, Hosted UI).
    pub console: console::ConsoleSettings,
}

/// One row of the routing table: path, methods, handlers.
type Row = (
    &'static str,
    &'static [&'static str],
    MethodRouter<AppState>,
);

fn table() -> Vec<Row> {
    vec![
        ("/healthz", &["GET"], get(public::healthz)),
        ("/openapi.json", &["GET"], get(openapi::openapi_json)),
        ("/v1/categories", &["GET"], get(public::categories)),
        ("/v1/units", &["GET"], get(public::units)),
        ("/v1/stats", &["GET"], get(public::stats)),
        ("/v1/stats/units", &["GET"], get(public::unit_stats)),
        ("/v1/track/{tracking_code}", &["GET"], get(public::track)),
        (
            "/v1/track/{tracking_code}/follow",
            &["POST", "DELETE"],
            post(follow::follow).delete(follow::unfollow),
        ),
        ("/v1/me/following", &["GET"], get(follow::following)),
        (
            "/v1/me/notifications",
            &["GET", "PUT"],
            get(notices::get).put(notices::put),
        ),
        (
            "/v1/me/notifications/verify",
            &["POST"],
            post(notices::verify),
        ),
        ("/v1/me/devices", &["POST"], post(notices::register_device)),
        (
            "/v1/me/devices/{id}",
            &["DELETE"],
            axum::routing::delete(notices::remove_device),
        ),
        ("/v1/events/schemas", &["GET"], get(events::schemas)),
        (
            "/v1/cases",
            &["GET", "POST"],
            get(cases::list).post(cases::submit),
        ),
        ("/v1/cases/nearby", &["GET"], get(public::nearby)),
        ("/v1/cases/{id}", &["GET"], get(cases::get)),
        ("/v1/cases/{id}/audit", &["GET"], get(privacy::audit)),
        ("/v1/cases/{id}/{action}", &["POST"], post(cases::act)),
        (
            "/v1/units/{code}/roster",
            &["GET", "PUT"],
            get(units::get_roster).put(units::put_roster),
        ),
        (
            "/v1/units/{code}/headcount",
            &["GET", "PUT"],
            get(units::get_headcount).put(units::put_headcount),
        ),
        (
            "/v1/units/{code}/notifications",
            &["GET"],
            get(units::notifications),
        ),
        (
            "/v1/units/{code}/scorecard",
            &["GET"],
            get(scorecards::unit_scorecard),
        ),
        ("/v1/uploads", &["POST"], post(uploads::create)),
        ("/v1/uploads/{id}", &["GET"], get(uploads::get)),
        (
            "/v1/uploads/{id}/content",
            &["PUT"],
            // The file itself (local server only): up to the largest video.
            axum::routing::put(uploads::put_content).layer(DefaultBodyLimit::max(MAX_UPLOAD_BODY)),
        ),
        ("/v1/media/{id}", &["GET"], get(uploads::media)),
        ("/v1/accounts", &["POST"], post(accounts::register)),
        ("/v1/dev/token", &["POST"], post(dev::token)),
        (
            "/v1/me/data",
            &["GET", "DELETE"],
            get(privacy::export).delete(privacy::erase),
        ),
        ("/v1/registration", &["GET"], get(accounts::registration)),
        ("/v1/scorecards", &["GET"], get(scorecards::list)),
        ("/v1/scorecards.csv", &["GET"], get(scorecards::csv)),
        ("/v1/inspections", &["GET"], get(inspections::list)),
        ("/v1/inspections/{id}", &["GET"], get(inspections::get)),
        (
            "/v1/inspections/{id}/findings",
            &["POST"],
            post(inspections::add_finding),
        ),
        (
            "/v1/inspections/{id}/answer",
            &["POST"],
            post(inspections::answer),
        ),
        (
            "/v1/inspections/{id}/close",
            &["POST"],
            post(inspections::close),
        ),
    ]
}

/// Every (method, path template) the router serves, Open311's as
/// documented (`/open311/v2/services/{service_code}.{format}`); the
/// OpenAPI test checks each one is documented.
pub fn routes() -> Vec<(&'static str, &'static str)> {
    let v1 = table()
        .into_iter()
        .flat_map(|(path, methods, _)| methods.iter().map(move |m| (*m, path)));
    let open311 = open311::table()
        .into_iter()
        .flat_map(|(_, documented, _)| documented);
    v1.chain(open311).collect()
}

/// The largest file the local server takes on a slot's URL (a 50 MB video and some).
pub const MAX_UPLOAD_BODY: usize = 64 * 1024 * 1024;

/// The API.
/// The public routes limited per client address ([`ratelimit`]): tracking
/// lookup, stats, registration, the nearby search, developer sign-in.
pub const LIMITED_PER_ADDRESS: [&str; 7] = [
    "/v1/track/{tracking_code}",
    "/v1/cases/nearby",
    "/v1/dev/token",
    "/v1/stats",
    "/v1/stats/units",
    "/v1/accounts",
    "/v1/registration",
];

pub fn app(state: AppState) -> Router {
    let limiter = std::sync::Arc::new(ratelimit::AddressLimiter::default());
    let mut router = Router::new();
    for (path, _, handlers) in table() {
        let handlers = if LIMITED_PER_ADDRESS.contains(&path) {
            handlers.route_layer(axum::middleware::from_fn_with_state(
                (limiter.clone(), state.clone()),
                ratelimit::limit_public,
            ))
        } else {
            handlers
        };
        router = router.route(path, handlers);
    }
    // Open311: public, limited per address, errors in the standard's shape.
    for (path, _, handlers) in open311::table() {
        let handlers = handlers.layer(axum::middleware::from_fn_with_state(
            (limiter.clone(), state.clone()),
            open311::limit,
        ));
        router = router.route(path, handlers);
    }
    // The web console (not part of the JSON API's document).
    router = router
        .route("/", get(console::index))
        .route("/console/config.json", get(console::config))
        .route("/console/{*path}", get(console::asset));
    finish(
        router
            .fallback(open311::fallback)
            .method_not_allowed_fallback(error::method_not_allowed)
            .with_state(state),
    )
}

/// The layers every route gets: body limit, panic → 500, request id and span.
fn finish(router: Router) -> Router {
    router
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(axum::middleware::from_fn(trace::request_context))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panicking_handler_answers_500_with_the_error_body() {
        let r = finish(Router::new().route(
            "/boom",
            get(|| async {
                if true {
                    panic!("boom with secret detail");
                }
                "unreachable"
            }),
        ));
        let res = r
            .oneshot(Request::get("/boom").body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        assert_eq!(res.status(), 500);
        assert!(res.headers().contains_key("x-request-id"));
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .expect("body");
        let v: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(v["error"]["code"], "internal");
        assert!(
            v["error"]["message_vi"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
        );
        assert!(!String::from_utf8_lossy(&bytes).contains("secret"));
    }
}
