//! pakn-aws: the AWS adapters of pakn's ports — the case store on one
//! DynamoDB table ([`dynamo`]), the intake queue on SQS ([`sqs`]),
//! notifications on SNS ([`sns`]) — plus provisioning of those resources on
//! any endpoint ([`provision`]) and the dead-letter redrive ([`redrive`]).
//!
//! [`pakn_from_env`] is the composition root of the three Lambda functions.

pub mod dynamo;
mod error;
pub mod messenger;
pub mod provision;
pub mod publisher;
pub mod redrive;
#[cfg(feature = "replay")]
pub mod replay;
pub mod s3;
pub mod sns;
pub mod sqs;
pub mod subscriptions;
pub mod telemetry;

pub use dynamo::DynamoStore;
pub use pakn_config::{AwsResources, AwsSettings, Backend, Config, ConfigError};
pub use provision::{Names, Provisioned, provision};
pub use redrive::redrive;
pub use sns::SnsNotifier;
pub use sqs::SqsQueue;

use aws_config::{BehaviorVersion, SdkConfig};
use pakn_core::Pakn;
use pakn_core::ports::{Clock, SystemClock};
use pakn_core::refdata::RefData;
use std::sync::Arc;

/// Build pakn on the AWS adapters from the one configuration
/// ([`Config::from_env`]: `TABLE_NAME`, `INTAKE_QUEUE_URL`, `TOPIC_ARN`,
/// optional `PAKN_REFDATA_DIR`, `AWS_ENDPOINT_URL`, `AWS_REGION`); the SDK
/// reads the credentials itself. The Lambdas are the AWS backend whatever
/// `PAKN_BACKEND` says. Call once per process.
pub async fn pakn_from_env() -> Result<Pakn, ConfigError> {
    pakn_from_config(&Config::from_env(Some(Backend::Aws))?).await
}

/// [`pakn_from_env`] for a configuration already read (the API reads it
/// once for its token issuers too).
pub async fn pakn_from_config(cfg: &Config) -> Result<Pakn, ConfigError> {
    Ok(pakn_and_store(cfg).await?.0)
}

/// [`pakn_from_config`] and the DynamoDB store it runs on (the stream
/// consumer, `pakn-publisher`, needs both).
pub async fn pakn_and_store(cfg: &Config) -> Result<(Pakn, Arc<DynamoStore>), ConfigError> {
    let resources = cfg.require_aws()?;
    let refdata = cfg.refdata()?;
    let sdk = sdk_config(&cfg.aws).await;
    let store = Arc::new(store_with(&sdk, &resources));
    let pakn = pakn_on(
        store.clone(),
        &sdk,
        &resources,
        Arc::new(refdata),
        Arc::new(SystemClock),
    );
    let pakn = with_push(
        pakn,
        &sdk,
        cfg.aws.push_fcm_app_arn.as_deref(),
        cfg.aws.push_apns_app_arn.as_deref(),
    );
    let pakn = match &cfg.aws.media_bucket {
        Some(bucket) => with_media(pakn, &sdk, bucket),
        None => pakn,
    };
    Ok((pakn, store))
}

/// The same pakn pushing to devices registered on these SNS platform
/// applications (SMS needs none: [`pakn_with`] already sends it).
pub fn with_push(pakn: Pakn, sdk: &SdkConfig, fcm: Option<&str>, apns: Option<&str>) -> Pakn {
    let mut m = messenger::SnsMessenger::new(aws_sdk_sns::Client::new(sdk));
    if let Some(arn) = fcm {
        m = m.with_platform(pakn_core::ports::Platform::Fcm, arn);
    }
    if let Some(arn) = apns {
        m = m.with_platform(pakn_core::ports::Platform::Apns, arn);
    }
    pakn.with_messenger(Arc::new(m))
}

/// The same pakn with uploads kept in the media bucket (`MEDIA_BUCKET`).
pub fn with_media(pakn: Pakn, sdk: &SdkConfig, bucket: &str) -> Pakn {
    // Path-style addressing: the bucket in the path works with every
    // endpoint (an emulator on 127.0.0.1 has no per-bucket host names).
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    );
    let minutes = pakn.refdata.policy.media.link_minutes;
    pakn.with_blobs(Arc::new(s3::S3Blobs::new(s3, bucket, minutes)))
}

/// The SDK configuration for `aws`: its region and endpoint (an emulator)
/// when set, the SDK's own chain for everything else (credentials).
pub async fn sdk_config(aws: &AwsSettings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = &aws.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(endpoint) = &aws.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

/// Build pakn on the AWS adapters from an SDK configuration (tests pass an
/// emulator's, and a manual clock).
pub fn pakn_with(
    sdk: &SdkConfig,
    cfg: &AwsResources,
    refdata: Arc<RefData>,
    clock: Arc<dyn Clock>,
) -> Pakn {
    pakn_on(Arc::new(store_with(sdk, cfg)), sdk, cfg, refdata, clock)
}

/// The table's store, sending new cases to the intake queue, publishing
/// from the table's stream when `PAKN_PUBLISH=stream`.
pub fn store_with(sdk: &SdkConfig, cfg: &AwsResources) -> DynamoStore {
    let intake = Arc::new(SqsQueue::new(
        aws_sdk_sqs::Client::new(sdk),
        &cfg.intake_queue_url,
    ));
    let store =
        DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &cfg.table_name).with_intake(intake);
    if cfg.publish_from_stream {
        store.with_stream_publishing()
    } else {
        store
    }
}

/// [`pakn_with`] on a store already made.
pub fn pakn_on(
    store: Arc<DynamoStore>,
    sdk: &SdkConfig,
    cfg: &AwsResources,
    refdata: Arc<RefData>,
    clock: Arc<dyn Clock>,
) -> Pakn {
    Pakn::new(
        store,
        Arc::new(SnsNotifier::new(
            aws_sdk_sns::Client::new(sdk),
            &cfg.topic_arn,
        )),
        clock,
        refdata,
    )
    .with_messenger(Arc::new(messenger::SnsMessenger::new(
        aws_sdk_sns::Client::new(sdk),
    )))
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
