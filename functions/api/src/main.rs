//! The `pakn-api` Lambda: build the application once per execution
//! environment (cold start), then serve API Gateway HTTP API events with the
//! same router `pakn serve` uses locally. Configuration comes from the
//! environment set in template.yaml; tokens of the staff and citizen user
//! pools are verified here (`pakn_api::cognito`), their keys fetched now.

use pakn_api::cognito::Verifier;
use pakn_api::{AppState, Auth, app};
use pakn_aws::{Backend, Config, ConfigError};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(true)
        .without_time()
        .with_ansi(false)
        .init();
    let failed = |e: ConfigError| {
        tracing::error!(error = %e, "configuration failed");
        Box::new(e) as lambda_http::Error
    };
    let cfg = Config::from_env(Some(Backend::Aws)).map_err(failed)?;
    // On Lambda nothing but the pools' tokens is accepted.
    let issuers = cfg
        .issuers
        .as_ref()
        .ok_or(ConfigError::Issuers("PAKN_STAFF_ISSUER"))
        .map_err(failed)?;
    let verifier = Verifier::new(issuers).map_err(failed)?;
    // The console signs people in through the pools' Hosted UI; never the
    // developer sign-in here.
    let console = pakn_api::console::ConsoleSettings {
        dev_login: false,
        hosted_ui: pakn_api::console::HostedUi::from_issuers(issuers),
        media_origin: pakn_api::console::media_origin(&cfg.aws),
    };
    let pakn = pakn_aws::pakn_from_config(&cfg).await.map_err(failed)?;
    verifier.prefetch().await;
    lambda_http::run(app(AppState {
        pakn,
        auth: Auth::Cognito(Arc::new(verifier)),
        console,
    }))
    .await
}
