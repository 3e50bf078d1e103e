//! pakn-aws: the AWS adapters of pakn's ports — the case store on one
//! DynamoDB table ([`dynamo`]), the intake queue on SQS ([`sqs`]),
//! notifications on SNS ([`sns`]) — plus provisioning of those resources on
//! any endpoint ([`provision`]) and the dead-letter redrive ([`redrive`]).
//!
//! [`pakn_from_env`] is the composition root of the three Lambda functions.

pub mod config;
pub mod dynamo;
mod error;
pub mod provision;
pub mod redrive;
pub mod sns;
pub mod sqs;
pub mod telemetry;

pub use config::{AwsConfig, ConfigError};
pub use dynamo::DynamoStore;
pub use provision::{Names, Provisioned, provision};
pub use redrive::redrive;
pub use sns::SnsNotifier;
pub use sqs::SqsQueue;

use aws_config::{BehaviorVersion, SdkConfig};
use pakn_core::Pakn;
use pakn_core::ports::{Clock, SystemClock};
use pakn_core::refdata::RefData;
use std::sync::Arc;

/// Build pakn on the AWS adapters from the environment (`TABLE_NAME`,
/// `INTAKE_QUEUE_URL`, `TOPIC_ARN`, optional `PAKN_REFDATA_DIR`); the SDK
/// reads region, credentials and `AWS_ENDPOINT_URL` itself. Call once per
/// process.
pub async fn pakn_from_env() -> Result<Pakn, ConfigError> {
    let cfg = AwsConfig::from_env()?;
    let refdata = match &cfg.refdata_dir {
        None => RefData::embedded(),
        Some(dir) => RefData::from_dir(dir).map_err(|message| ConfigError::RefData {
            dir: dir.display().to_string(),
            message,
        })?,
    };
    let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
    Ok(pakn_with(
        &sdk,
        &cfg,
        Arc::new(refdata),
        Arc::new(SystemClock),
    ))
}

/// Build pakn on the AWS adapters from an SDK configuration (tests pass an
/// emulator's, and a manual clock).
pub fn pakn_with(
    sdk: &SdkConfig,
    cfg: &AwsConfig,
    refdata: Arc<RefData>,
    clock: Arc<dyn Clock>,
) -> Pakn {
    let intake = Arc::new(SqsQueue::new(
        aws_sdk_sqs::Client::new(sdk),
        &cfg.intake_queue_url,
    ));
    let store =
        DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &cfg.table_name).with_intake(intake);
    Pakn::new(
        Arc::new(store),
        Arc::new(SnsNotifier::new(
            aws_sdk_sns::Client::new(sdk),
            &cfg.topic_arn,
        )),
        clock,
        refdata,
    )
}

/// An SDK configuration for a local AWS emulator at `endpoint` (e.g. moto on
/// 127.0.0.1): dummy static credentials and the given region, nothing read
/// from the environment or profile files.
pub async fn emulator_sdk_config(endpoint: &str, region: &str) -> SdkConfig {
    let creds = aws_sdk_dynamodb::config::Credentials::new(
        "testing",
        "testing",
        None,
        None,
        "pakn-emulator",
    );
    aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .credentials_provider(creds)
        .endpoint_url(endpoint)
        .load()
        .await
}
