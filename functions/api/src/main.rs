//! The `pakn-api` Lambda: build the application once per execution
//! environment (cold start), then serve API Gateway HTTP API events with the
//! same router `pakn serve` uses locally. Configuration comes from the
//! environment set in template.yaml; tokens are checked by API Gateway's
//! JWT authorizer (see `pakn_api::auth`).

use pakn_api::{AppState, Auth, app};

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
    let pakn = pakn_aws::pakn_from_env().await.map_err(|e| {
        tracing::error!(error = %e, "configuration failed");
        Box::new(e) as lambda_http::Error
    })?;
    lambda_http::run(app(AppState {
        pakn,
        auth: Auth::ApiGateway,
    }))
    .await
}
