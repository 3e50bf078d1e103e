//! pakn's configuration: every variable of the README's "Configuration"
//! table, read from the environment once per process into one typed value
//! that fails fast with a message saying what to fix (ARCHITECTURE.md
//! "Configuration", CONTRACT.md "Configuration and commands").
//!
//! The `pakn` CLI and the three Lambda functions (through
//! `pakn_aws::pakn_from_env`) read pakn's settings only through [`Config`].
//! Not pakn's settings, and so not read here: the AWS SDK's credential chain
//! (`AWS_ACCESS_KEY_ID`, profiles, instance roles) and the Lambda runtime's
//! own variables (`AWS_LAMBDA_*`, `RUST_LOG`).
//!
//! This crate links neither SQLite nor the local backend: the Lambdas use it.

pub mod issuers;

pub use issuers::{IssuerSettings, Issuers};
use pakn_core::refdata::RefData;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Every environment variable pakn reads, in the README table's order.
pub const VARS: &[&str] = &[
    "PAKN_BACKEND",
    "PAKN_DB",
    "PAKN_MEDIA_DIR",
    "PAKN_ADDR",
    "PAKN_JWT_SECRET",
    "PAKN_SWEEP_SECONDS",
    "PAKN_CLOCK_SPEED",
    "PAKN_REFDATA_DIR",
    "PAKN_LOG",
    "PAKN_WEBHOOK_GIVE_UP_SECONDS",
    "PAKN_CITIZEN_WEBHOOK",
    "PAKN_DEV_LOGIN",
    "PAKN_STAFF_ISSUER",
    "PAKN_STAFF_CLIENT_ID",
    "PAKN_STAFF_JWKS",
    "PAKN_STAFF_AUTH_DOMAIN",
    "PAKN_CITIZEN_ISSUER",
    "PAKN_CITIZEN_CLIENT_ID",
    "PAKN_CITIZEN_JWKS",
    "PAKN_CITIZEN_AUTH_DOMAIN",
    "TABLE_NAME",
    "INTAKE_QUEUE_URL",
    "TOPIC_ARN",
    "INTAKE_DLQ_URL",
    "MEDIA_BUCKET",
    "PUSH_FCM_APP_ARN",
    "PUSH_APNS_APP_ARN",
    "MEDIA_QUEUE_URL",
    "PAKN_PUBLISH",
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
];

/// `PAKN_DB` when unset.
pub const DEFAULT_DB: &str = "pakn.db";
/// `PAKN_ADDR` when unset.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// `PAKN_SWEEP_SECONDS` when unset.
pub const DEFAULT_SWEEP_SECONDS: u64 = 60;
/// `PAKN_LOG` when unset.
pub const DEFAULT_LOG: &str = "info";
/// The shortest `PAKN_JWT_SECRET` accepted, in bytes.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// Where cases live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Backend {
    /// Embedded SQLite store and queue (the default; no AWS at all).
    Sqlite,
    /// DynamoDB, SQS and SNS (real AWS, or a local emulator via AWS_ENDPOINT_URL).
    Aws,
}

impl Backend {
    /// `sqlite` or `aws` (the spelling of `PAKN_BACKEND` and `--backend`).
    pub fn parse(s: &str) -> Option<Backend> {
        match s {
            "sqlite" => Some(Backend::Sqlite),
            "aws" => Some(Backend::Aws),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Aws => "aws",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The whole configuration of one pakn process.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `PAKN_BACKEND` (`--backend` overrides), default sqlite.
    pub backend: Backend,
    /// `PAKN_DB`: the SQLite file, default `pakn.db`.
    pub db: PathBuf,
    /// `PAKN_MEDIA_DIR`: uploaded photos and videos on the embedded
    /// backend, default `media` beside the database.
    pub media_dir: PathBuf,
    /// `PAKN_ADDR`: the local bind address, default 127.0.0.1:8080.
    pub addr: SocketAddr,
    /// `PAKN_JWT_SECRET`: the local HS256 secret as given (checked by
    /// [`Config::explicit_jwt_secret`]); when absent the CLI keeps one in
    /// [`Config::jwt_secret_file`].
    pub jwt_secret: Option<Vec<u8>>,
    /// `PAKN_SWEEP_SECONDS`: seconds between deadline sweeps in `pakn serve`.
    pub sweep_every: u64,
    /// `PAKN_WEBHOOK_GIVE_UP_SECONDS`: how long a failing local webhook
    /// delivery is retried (`None`: the notifier's default, 24 hours).
    pub webhook_give_up: Option<u64>,
    /// `PAKN_CITIZEN_WEBHOOK`: on the embedded backend, where citizens'
    /// notices (SMS and push) are POSTed as JSON; without it they are
    /// logged and kept in the notice log only.
    pub citizen_webhook: Option<String>,
    /// `PAKN_CLOCK_SPEED`: run the clock this many times faster than real time (demos only).
    pub clock_speed: Option<f64>,
    /// `PAKN_REFDATA_DIR`: the city's own reference data; the compiled-in data when absent.
    pub refdata_dir: Option<PathBuf>,
    /// `PAKN_LOG`: the CLI's tracing filter, default `info`.
    pub log: String,
    /// `PAKN_DEV_LOGIN`: `Some(true)` for `1`, `Some(false)` for `0`, `None`
    /// unset (the rule of [`Config::dev_login`] decides).
    pub dev_login: Option<bool>,
    /// `PAKN_STAFF_*` and `PAKN_CITIZEN_*`: the two Cognito user pools whose
    /// tokens the API verifies (`None`: local HS256 tokens).
    pub issuers: Option<Issuers>,
    /// The AWS backend's resources and endpoint.
    pub aws: AwsSettings,
}

/// The AWS variables as given; any may be absent until the AWS backend is
/// used ([`Config::require_aws`] checks the ones it needs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsSettings {
    /// `TABLE_NAME`: the single DynamoDB table.
    pub table_name: Option<String>,
    /// `INTAKE_QUEUE_URL`: the intake queue.
    pub intake_queue_url: Option<String>,
    /// `INTAKE_DLQ_URL`: the intake queue's dead-letter queue (`pakn redrive --backend aws`).
    pub intake_dlq_url: Option<String>,
    /// `TOPIC_ARN`: the notification topic.
    pub topic_arn: Option<String>,
    /// `MEDIA_BUCKET`: the private bucket of uploaded photos and videos
    /// (uploads answer `503` without it).
    pub media_bucket: Option<String>,
    /// `PUSH_FCM_APP_ARN`, `PUSH_APNS_APP_ARN`: the SNS platform
    /// applications devices register on (push is off without them; SMS
    /// needs no setting).
    pub push_fcm_app_arn: Option<String>,
    pub push_apns_app_arn: Option<String>,
    /// `MEDIA_QUEUE_URL`: the queue of the media bucket's object-created
    /// events, which `pakn serve --backend aws` polls to check uploads (on
    /// AWS, the router's event source reads it).
    pub media_queue_url: Option<String>,
    /// `PAKN_PUBLISH=stream`: the table's stream consumer (`pakn-publisher`)
    /// publishes the outbox, not the function that commits a change;
    /// `inline` (the default) publishes right after the commit.
    pub publish_from_stream: bool,
    /// `AWS_ENDPOINT_URL`: a local AWS emulator (moto) instead of AWS.
    pub endpoint_url: Option<String>,
    /// `AWS_REGION`: the region; the SDK's own chain (profile, instance) when absent.
    pub region: Option<String>,
}

/// What the AWS adapters need, all present: the checked view of [`AwsSettings`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsResources {
    /// The single DynamoDB table (`TABLE_NAME`).
    pub table_name: String,
    /// The intake queue (`INTAKE_QUEUE_URL`).
    pub intake_queue_url: String,
    /// The notification topic (`TOPIC_ARN`).
    pub topic_arn: String,
    /// `PAKN_PUBLISH=stream` (see [`AwsSettings::publish_from_stream`]).
    pub publish_from_stream: bool,
}

/// A setting that is missing or malformed; the message says what to set.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("PAKN_BACKEND must be 'sqlite' or 'aws', not '{0}'")]
    Backend(String),
    #[error("PAKN_ADDR must be host:port, e.g. 127.0.0.1:8080 (got '{0}')")]
    Addr(String),
    #[error("PAKN_SWEEP_SECONDS must be a positive number of seconds (got '{0}')")]
    SweepSeconds(String),
    #[error("PAKN_WEBHOOK_GIVE_UP_SECONDS must be a positive number of seconds (got '{0}')")]
    WebhookGiveUp(String),
    #[error("PAKN_CLOCK_SPEED must be a number from 1 to 1000000 (got '{0}')")]
    ClockSpeed(String),
    #[error("PAKN_PUBLISH must be 'inline' or 'stream' (got '{0}')")]
    Publish(String),
    #[error("PAKN_DEV_LOGIN must be 0 (off) or 1 (on) (got '{0}')")]
    DevLogin(String),
    #[error(
        "PAKN_DEV_LOGIN=1 is refused with the AWS backend: its tokens come from the Cognito user pools (unset it, or use the embedded backend)"
    )]
    DevLoginOnAws,
    #[error("PAKN_JWT_SECRET must be at least 32 bytes")]
    JwtSecretTooShort,
    #[error(
        "--backend aws needs {0} (run `pakn provision` against your endpoint and export what it prints; on Lambda, template.yaml sets TABLE_NAME, INTAKE_QUEUE_URL and TOPIC_ARN)"
    )]
    MissingAws(&'static str),
    #[error("pakn redrive --backend aws needs INTAKE_DLQ_URL (`pakn provision` prints it)")]
    MissingDlq,
    #[error("environment variable {0} is not valid Unicode")]
    NotUnicode(&'static str),
    #[error(
        "{0} is missing: the staff and citizen user pools are set together (PAKN_STAFF_ISSUER, PAKN_STAFF_CLIENT_ID, PAKN_CITIZEN_ISSUER, PAKN_CITIZEN_CLIENT_ID; template.yaml sets them on Lambda)"
    )]
    Issuers(&'static str),
    #[error(
        "{0} must be an https:// URL such as https://cognito-idp.<region>.amazonaws.com/<pool id> (got '{1}')"
    )]
    IssuerUrl(&'static str, String),
    #[error("PAKN_STAFF_ISSUER and PAKN_CITIZEN_ISSUER must be two different user pools")]
    SameIssuer,
    #[error("{var}: {message}")]
    Jwks { var: &'static str, message: String },
    #[error("reference data in PAKN_REFDATA_DIR={dir}: {message}")]
    RefData { dir: String, message: String },
}

impl Config {
    /// Read the process environment. `backend_flag` (`--backend`) wins over
    /// `PAKN_BACKEND`, which is then not looked at. Call once per process.
    pub fn from_env(backend_flag: Option<Backend>) -> Result<Config, ConfigError> {
        for name in VARS {
            if std::env::var_os(name).is_some_and(|v| v.to_str().is_none()) {
                return Err(ConfigError::NotUnicode(name));
            }
        }
        Config::from_lookup(|k| std::env::var(k).ok(), backend_flag)
    }

    /// Read the configuration through `get` (tests pass a map instead of
    /// the environment). A blank value counts as unset.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
        backend_flag: Option<Backend>,
    ) -> Result<Config, ConfigError> {
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        // The AWS names and URLs are identifiers: surrounding blanks are typos.
        let trimmed = |name: &str| var(name).map(|v| v.trim().to_string());
        let backend = match (backend_flag, var("PAKN_BACKEND")) {
            (Some(b), _) => b,
            (None, None) => Backend::Sqlite,
            (None, Some(s)) => Backend::parse(&s).ok_or(ConfigError::Backend(s))?,
        };
        let addr = match var("PAKN_ADDR") {
            None => DEFAULT_ADDR.parse().expect("the default address parses"),
            Some(s) => s.parse().map_err(|_| ConfigError::Addr(s))?,
        };
        let sweep_every = match var("PAKN_SWEEP_SECONDS") {
            None => DEFAULT_SWEEP_SECONDS,
            Some(s) => match s.parse::<u64>() {
                Ok(n) if n > 0 => n,
                _ => return Err(ConfigError::SweepSeconds(s)),
            },
        };
        let webhook_give_up = match var("PAKN_WEBHOOK_GIVE_UP_SECONDS") {
            None => None,
            Some(s) => match s.parse::<u64>() {
                Ok(n) if n > 0 => Some(n),
                _ => return Err(ConfigError::WebhookGiveUp(s)),
            },
        };
        let clock_speed = match var("PAKN_CLOCK_SPEED") {
            None => None,
            Some(s) => match s.parse::<f64>() {
                Ok(x) if x.is_finite() && (1.0..=1_000_000.0).contains(&x) => Some(x),
                _ => return Err(ConfigError::ClockSpeed(s)),
            },
        };
        let db = var("PAKN_DB")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DB));
        let dev_login = match var("PAKN_DEV_LOGIN").as_deref().map(str::trim) {
            None => None,
            Some("1") => Some(true),
            Some("0") => Some(false),
            Some(other) => return Err(ConfigError::DevLogin(other.to_string())),
        };
        let publish_from_stream = match var("PAKN_PUBLISH").as_deref().map(str::trim) {
            None | Some("") | Some("inline") => false,
            Some("stream") => true,
            Some(other) => return Err(ConfigError::Publish(other.to_string())),
        };
        Ok(Config {
            backend,
            media_dir: var("PAKN_MEDIA_DIR").map(PathBuf::from).unwrap_or_else(|| {
                db.parent()
                    .map(|d| d.join("media"))
                    .unwrap_or_else(|| PathBuf::from("media"))
            }),
            db,
            addr,
            jwt_secret: var("PAKN_JWT_SECRET").map(String::into_bytes),
            sweep_every,
            webhook_give_up,
            citizen_webhook: trimmed("PAKN_CITIZEN_WEBHOOK"),
            clock_speed,
            refdata_dir: var("PAKN_REFDATA_DIR").map(PathBuf::from),
            log: var("PAKN_LOG").unwrap_or_else(|| DEFAULT_LOG.to_string()),
            dev_login,
            issuers: issuers::from_vars(trimmed)?,
            aws: AwsSettings {
                table_name: trimmed("TABLE_NAME"),
                intake_queue_url: trimmed("INTAKE_QUEUE_URL"),
                intake_dlq_url: trimmed("INTAKE_DLQ_URL"),
                topic_arn: trimmed("TOPIC_ARN"),
                media_bucket: trimmed("MEDIA_BUCKET"),
                push_fcm_app_arn: trimmed("PUSH_FCM_APP_ARN"),
                push_apns_app_arn: trimmed("PUSH_APNS_APP_ARN"),
                media_queue_url: trimmed("MEDIA_QUEUE_URL"),
                publish_from_stream,
                endpoint_url: trimmed("AWS_ENDPOINT_URL"),
                region: trimmed("AWS_REGION"),
            },
        })
    }

    /// The AWS backend's resources, or which variable is missing. Call it
    /// first thing wherever the AWS backend is built (fail fast).
    pub fn require_aws(&self) -> Result<AwsResources, ConfigError> {
        let need =
            |v: &Option<String>, name: &'static str| v.clone().ok_or(ConfigError::MissingAws(name));
        Ok(AwsResources {
            table_name: need(&self.aws.table_name, "TABLE_NAME")?,
            intake_queue_url: need(&self.aws.intake_queue_url, "INTAKE_QUEUE_URL")?,
            topic_arn: need(&self.aws.topic_arn, "TOPIC_ARN")?,
            publish_from_stream: self.aws.publish_from_stream,
        })
    }

    /// Whether `pakn serve` offers the console's developer sign-in
    /// (`POST /v1/dev/token`: a local token for any role, subject and unit).
    /// On by default on the embedded backend bound to a loopback address
    /// (only this machine can reach it); on another address only with
    /// `PAKN_DEV_LOGIN=1`; off with `PAKN_DEV_LOGIN=0`; never with the AWS
    /// backend (`1` there is an error, so a mistake is loud). The Lambda
    /// never asks: it has no developer sign-in at all.
    pub fn dev_login(&self) -> Result<bool, ConfigError> {
        match (self.backend, self.dev_login) {
            (_, Some(false)) => Ok(false),
            (Backend::Aws, Some(true)) => Err(ConfigError::DevLoginOnAws),
            (Backend::Aws, None) => Ok(false),
            (Backend::Sqlite, Some(true)) => Ok(true),
            (Backend::Sqlite, None) => Ok(self.addr.ip().is_loopback()),
        }
    }

    /// The intake dead-letter queue (`pakn redrive --backend aws`).
    pub fn require_dlq(&self) -> Result<&str, ConfigError> {
        self.aws
            .intake_dlq_url
            .as_deref()
            .ok_or(ConfigError::MissingDlq)
    }

    /// `PAKN_JWT_SECRET` if set, checked to be long enough.
    pub fn explicit_jwt_secret(&self) -> Result<Option<&[u8]>, ConfigError> {
        match &self.jwt_secret {
            Some(s) if s.len() < MIN_JWT_SECRET_BYTES => Err(ConfigError::JwtSecretTooShort),
            s => Ok(s.as_deref()),
        }
    }

    /// Where the CLI keeps a generated local secret: `<PAKN_DB>.jwt-secret`.
    pub fn jwt_secret_file(&self) -> PathBuf {
        PathBuf::from(format!("{}.jwt-secret", self.db.display()))
    }

    /// The reference data: `PAKN_REFDATA_DIR`'s, or the compiled-in data.
    pub fn refdata(&self) -> Result<RefData, ConfigError> {
        load_refdata(self.refdata_dir.as_deref())
    }
}

/// The reference data from `dir`, or the compiled-in `infra/data` when
/// `None` — the one loader of the CLI and the Lambdas.
pub fn load_refdata(dir: Option<&Path>) -> Result<RefData, ConfigError> {
    match dir {
        None => Ok(RefData::embedded()),
        Some(d) => RefData::from_dir(d).map_err(|message| ConfigError::RefData {
            dir: d.display().to_string(),
            message,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(vars: &[(&str, &str)], flag: Option<Backend>) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| m.get(k).cloned(), flag)
    }

    fn err(vars: &[(&str, &str)]) -> String {
        parse(vars, None).unwrap_err().to_string()
    }

    const AWS: [(&str, &str); 3] = [
        ("TABLE_NAME", "pakn-dev-cases"),
        (
            "INTAKE_QUEUE_URL",
            "http://127.0.0.1:5000/000000000000/pakn-dev-intake",
        ),
        (
            "TOPIC_ARN",
            "arn:aws:sns:ap-southeast-1:000000000000:pakn-dev",
        ),
    ];

    #[test]
    fn defaults_when_nothing_is_set() {
        let c = parse(&[], None).unwrap();
        assert_eq!(c.backend, Backend::Sqlite);
        assert_eq!(c.db, PathBuf::from("pakn.db"));
        assert_eq!(c.addr, "127.0.0.1:8080".parse::<SocketAddr>().unwrap());
        assert_eq!(c.jwt_secret, None);
        assert_eq!(c.sweep_every, 60);
        assert_eq!(c.clock_speed, None);
        assert_eq!(c.refdata_dir, None);
        assert_eq!(c.log, "info");
        assert_eq!(c.issuers, None);
        assert_eq!(c.aws, AwsSettings::default());
        assert_eq!(c.jwt_secret_file(), PathBuf::from("pakn.db.jwt-secret"));
    }

    #[test]
    fn blank_values_count_as_unset() {
        let blank: Vec<(&str, &str)> = VARS.iter().map(|v| (*v, "  ")).collect();
        assert_eq!(parse(&blank, None).unwrap(), parse(&[], None).unwrap());
    }

    #[test]
    fn reads_every_variable() {
        let c = parse(
            &[
                ("PAKN_BACKEND", "aws"),
                ("PAKN_DB", "/var/lib/pakn/pakn.db"),
                ("PAKN_MEDIA_DIR", "/var/lib/pakn/media"),
                ("PAKN_ADDR", "0.0.0.0:9000"),
                ("PAKN_JWT_SECRET", "0123456789abcdef0123456789abcdef"),
                ("PAKN_SWEEP_SECONDS", "1"),
                ("PAKN_CLOCK_SPEED", "36000"),
                ("PAKN_REFDATA_DIR", "/etc/pakn/data"),
                ("PAKN_LOG", "pakn=debug"),
                ("TABLE_NAME", " t "),
                ("INTAKE_QUEUE_URL", "q"),
                ("INTAKE_DLQ_URL", "d"),
                ("TOPIC_ARN", "a"),
                ("MEDIA_BUCKET", "m"),
                ("PUSH_FCM_APP_ARN", "arn:fcm"),
                ("PUSH_APNS_APP_ARN", "arn:apns"),
                ("PAKN_CITIZEN_WEBHOOK", "http://127.0.0.1:9/n"),
                ("MEDIA_QUEUE_URL", "mq"),
                ("PAKN_PUBLISH", "stream"),
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
                ("AWS_REGION", "ap-southeast-1"),
            ],
            None,
        )
        .unwrap();
        assert_eq!(c.backend, Backend::Aws);
        assert_eq!(c.db, PathBuf::from("/var/lib/pakn/pakn.db"));
        assert_eq!(c.media_dir, PathBuf::from("/var/lib/pakn/media"));
        assert_eq!(c.addr.port(), 9000);
        assert_eq!(c.explicit_jwt_secret().unwrap().map(<[u8]>::len), Some(32));
        assert_eq!((c.sweep_every, c.clock_speed), (1, Some(36000.0)));
        assert_eq!(c.refdata_dir, Some(PathBuf::from("/etc/pakn/data")));
        assert_eq!(c.log, "pakn=debug");
        assert_eq!(c.citizen_webhook.as_deref(), Some("http://127.0.0.1:9/n"));
        assert_eq!(
            c.aws,
            AwsSettings {
                table_name: Some("t".into()),
                intake_queue_url: Some("q".into()),
                intake_dlq_url: Some("d".into()),
                topic_arn: Some("a".into()),
                media_bucket: Some("m".into()),
                push_fcm_app_arn: Some("arn:fcm".into()),
                push_apns_app_arn: Some("arn:apns".into()),
                media_queue_url: Some("mq".into()),
                publish_from_stream: true,
                endpoint_url: Some("http://127.0.0.1:5000".into()),
                region: Some("ap-southeast-1".into()),
            }
        );
        assert_eq!(
            c.require_aws().unwrap(),
            AwsResources {
                table_name: "t".into(),
                intake_queue_url: "q".into(),
                topic_arn: "a".into(),
                publish_from_stream: true,
            }
        );
        assert_eq!(c.require_dlq().unwrap(), "d");
    }

    #[test]
    fn each_bad_value_says_what_to_set() {
        assert_eq!(
            err(&[("PAKN_BACKEND", "dynamo")]),
            "PAKN_BACKEND must be 'sqlite' or 'aws', not 'dynamo'"
        );
        assert_eq!(
            err(&[("PAKN_ADDR", "localhost")]),
            "PAKN_ADDR must be host:port, e.g. 127.0.0.1:8080 (got 'localhost')"
        );
        for bad in ["0", "-5", "soon", "1.5"] {
            assert_eq!(
                err(&[("PAKN_SWEEP_SECONDS", bad)]),
                format!("PAKN_SWEEP_SECONDS must be a positive number of seconds (got '{bad}')")
            );
        }
        for bad in ["0.5", "2000000", "inf", "NaN", "fast"] {
            assert_eq!(
                err(&[("PAKN_CLOCK_SPEED", bad)]),
                format!("PAKN_CLOCK_SPEED must be a number from 1 to 1000000 (got '{bad}')")
            );
        }
        assert_eq!(
            err(&[("PAKN_PUBLISH", "later")]),
            "PAKN_PUBLISH must be 'inline' or 'stream' (got 'later')"
        );
        let short = parse(&[("PAKN_JWT_SECRET", "too-short")], None).unwrap();
        assert_eq!(
            short.explicit_jwt_secret().unwrap_err().to_string(),
            "PAKN_JWT_SECRET must be at least 32 bytes"
        );
    }

    #[test]
    fn the_aws_backend_names_the_first_missing_resource() {
        for missing in ["TABLE_NAME", "INTAKE_QUEUE_URL", "TOPIC_ARN"] {
            let vars: Vec<_> = AWS.iter().copied().filter(|(k, _)| *k != missing).collect();
            let c = parse(&vars, Some(Backend::Aws)).unwrap();
            let e = c.require_aws().unwrap_err();
            assert_eq!(e, ConfigError::MissingAws(missing));
            assert!(
                e.to_string().starts_with(&format!(
                    "--backend aws needs {missing} (run `pakn provision`"
                )),
                "{e}"
            );
        }
        let c = parse(&AWS, Some(Backend::Aws)).unwrap();
        assert_eq!(c.require_aws().unwrap().table_name, "pakn-dev-cases");
        assert_eq!(
            c.require_dlq().unwrap_err().to_string(),
            "pakn redrive --backend aws needs INTAKE_DLQ_URL (`pakn provision` prints it)"
        );
    }

    #[test]
    fn the_sqlite_backend_needs_no_aws_variable() {
        let c = parse(&[], None).unwrap();
        assert_eq!(c.backend, Backend::Sqlite);
        assert!(c.require_aws().is_err());
    }

    #[test]
    fn the_flag_overrides_the_environment() {
        let c = parse(&[("PAKN_BACKEND", "sqlite")], Some(Backend::Aws)).unwrap();
        assert_eq!(c.backend, Backend::Aws);
        let c = parse(&[("PAKN_BACKEND", "aws")], Some(Backend::Sqlite)).unwrap();
        assert_eq!(c.backend, Backend::Sqlite);
        // With a flag, PAKN_BACKEND is not even looked at.
        let c = parse(&[("PAKN_BACKEND", "dynamo")], Some(Backend::Sqlite)).unwrap();
        assert_eq!(c.backend, Backend::Sqlite);
        assert_eq!(
            parse(&[("PAKN_BACKEND", "aws")], None).unwrap().backend,
            Backend::Aws
        );
    }

    #[test]
    fn refdata_is_embedded_by_default_and_a_bad_dir_is_named() {
        let c = parse(&[], None).unwrap();
        assert!(!c.refdata().unwrap().units.is_empty());
        let c = parse(&[("PAKN_REFDATA_DIR", "/nonexistent/pakn-data")], None).unwrap();
        let e = c.refdata().unwrap_err().to_string();
        assert!(
            e.starts_with("reference data in PAKN_REFDATA_DIR=/nonexistent/pakn-data: "),
            "{e}"
        );
    }

    #[test]
    fn dev_login_is_on_only_on_the_embedded_backend_at_a_loopback_address_unless_asked() {
        let on = |vars: &[(&str, &str)], flag| parse(vars, flag).unwrap().dev_login();
        assert_eq!(on(&[], None), Ok(true), "default 127.0.0.1:8080");
        assert_eq!(on(&[("PAKN_ADDR", "[::1]:9000")], None), Ok(true));
        assert_eq!(on(&[("PAKN_ADDR", "0.0.0.0:8080")], None), Ok(false));
        assert_eq!(on(&[("PAKN_ADDR", "192.168.1.5:8080")], None), Ok(false));
        assert_eq!(
            on(
                &[("PAKN_ADDR", "0.0.0.0:8080"), ("PAKN_DEV_LOGIN", "1")],
                None
            ),
            Ok(true)
        );
        assert_eq!(on(&[("PAKN_DEV_LOGIN", "0")], None), Ok(false));
        assert_eq!(on(&[], Some(Backend::Aws)), Ok(false));
        assert_eq!(
            on(&[("PAKN_DEV_LOGIN", "0")], Some(Backend::Aws)),
            Ok(false)
        );
        assert_eq!(
            on(&[("PAKN_DEV_LOGIN", "1")], Some(Backend::Aws)),
            Err(ConfigError::DevLoginOnAws)
        );
        assert_eq!(
            err(&[("PAKN_DEV_LOGIN", "yes")]),
            "PAKN_DEV_LOGIN must be 0 (off) or 1 (on) (got 'yes')"
        );
    }

    /// Every variable read here is documented in the README's table, and the
    /// table documents nothing that is not read here.
    #[test]
    fn the_readme_table_lists_exactly_these_variables() {
        let readme = include_str!("../../../README.md");
        let table: String = readme
            .split("## Configuration")
            .nth(1)
            .expect("README has a Configuration section")
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .map(|l| l.split('|').nth(1).unwrap_or_default().to_string() + "\n")
            .collect();
        for v in VARS {
            assert!(
                table.contains(&format!("`{v}`")),
                "{v} is not in the README table"
            );
        }
        let documented = table.matches('`').count() / 2;
        // `--backend` is the one non-variable in the first column.
        assert_eq!(documented, VARS.len() + 1, "{table}");
    }
}
