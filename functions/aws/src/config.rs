//! Configuration of the AWS backend, read once from the environment.
//!
//! Lambda settings live in `template.yaml` (never `set_var`); locally the
//! same variables point the adapters at an emulator through
//! `AWS_ENDPOINT_URL`, which the SDK honours by itself.

use std::path::PathBuf;

/// What the AWS adapters need to know besides the SDK configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsConfig {
    /// The single DynamoDB table (`TABLE_NAME`).
    pub table_name: String,
    /// The intake queue (`INTAKE_QUEUE_URL`).
    pub intake_queue_url: String,
    /// The notification topic (`TOPIC_ARN`).
    pub topic_arn: String,
    /// Reference data directory (`PAKN_REFDATA_DIR`); the embedded data when absent.
    pub refdata_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "environment variable {0} is not set (the AWS backend needs TABLE_NAME, INTAKE_QUEUE_URL and TOPIC_ARN)"
    )]
    Missing(&'static str),
    #[error("environment variable {0} is not valid Unicode")]
    NotUnicode(&'static str),
    #[error("reference data in {dir}: {message}")]
    RefData { dir: String, message: String },
}

impl AwsConfig {
    /// Read the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k))
    }

    /// Read the configuration through `get` (tests pass a map instead of the environment).
    pub fn from_lookup(
        get: impl Fn(&str) -> Result<String, std::env::VarError>,
    ) -> Result<Self, ConfigError> {
        let required = |name: &'static str| match get(name) {
            Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
            Ok(_) | Err(std::env::VarError::NotPresent) => Err(ConfigError::Missing(name)),
            Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::NotUnicode(name)),
        };
        Ok(AwsConfig {
            table_name: required("TABLE_NAME")?,
            intake_queue_url: required("INTAKE_QUEUE_URL")?,
            topic_arn: required("TOPIC_ARN")?,
            refdata_dir: get("PAKN_REFDATA_DIR")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(PathBuf::from),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(
        m: HashMap<&'static str, &'static str>,
    ) -> impl Fn(&str) -> Result<String, std::env::VarError> {
        move |k| {
            m.get(k)
                .map(|v| v.to_string())
                .ok_or(std::env::VarError::NotPresent)
        }
    }

    #[test]
    fn names_the_missing_variable() {
        let m = HashMap::from([
            ("TABLE_NAME", "t"),
            ("TOPIC_ARN", "arn:aws:sns:ap-southeast-1:000000000000:t"),
        ]);
        let e = AwsConfig::from_lookup(lookup(m)).unwrap_err();
        assert!(matches!(e, ConfigError::Missing("INTAKE_QUEUE_URL")));
        assert!(e.to_string().contains("INTAKE_QUEUE_URL"));
    }

    #[test]
    fn reads_all_three() {
        let m = HashMap::from([
            ("TABLE_NAME", "t"),
            ("INTAKE_QUEUE_URL", " q "),
            ("TOPIC_ARN", "a"),
        ]);
        let c = AwsConfig::from_lookup(lookup(m)).unwrap();
        assert_eq!(
            (
                c.table_name.as_str(),
                c.intake_queue_url.as_str(),
                c.topic_arn.as_str()
            ),
            ("t", "q", "a")
        );
        assert_eq!(c.refdata_dir, None);
    }
}
