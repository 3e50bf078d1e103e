//! Logging for the Lambda binaries: JSON on Lambda (CloudWatch reads it
//! field by field), text elsewhere; the level from `RUST_LOG`, else Lambda's
//! `AWS_LAMBDA_LOG_LEVEL` (set by `LoggingConfig` in template.yaml), else `info`.
//!
//! These are the Lambda runtime's own variables, not pakn's settings, so they
//! are read here directly rather than through `pakn_config::Config`.

/// Install the global subscriber (once, first thing in `main`).
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let level = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL").map(|l| l.to_lowercase()))
        .unwrap_or_else(|_| "info".into());
    let filter = EnvFilter::try_new(&level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
        builder.json().with_current_span(true).init();
    } else {
        builder.init();
    }
}
