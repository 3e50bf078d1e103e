//! SDK errors as store errors: throttling and transport failures are
//! `Unavailable` (retry later), the rest `Other`. The SDK error is kept as
//! the source, never flattened into text.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::error::SdkError;
use pakn_core::ports::StoreError;

/// Error codes that mean "try again later".
const RETRYABLE: [&str; 9] = [
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "RequestThrottled",
    "KMSThrottlingException",
];

pub(crate) fn is_retryable<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    match e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(s) => s.err().code().is_some_and(|c| RETRYABLE.contains(&c)),
        _ => false,
    }
}

/// A conditional write's outcome: `Ok(true)` when it was made, `Ok(false)`
/// when DynamoDB refused it on its condition (a fact, not a failure), the
/// classified error otherwise.
pub(crate) fn condition_held<O, E, R>(res: Result<O, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match res {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error().and_then(|s| s.code())
                == Some("ConditionalCheckFailedException") =>
        {
            Ok(false)
        }
        Err(e) => Err(classify(e)),
    }
}

/// Classify an SDK error, keeping it as the source.
pub(crate) fn classify<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if is_retryable(&e) {
        StoreError::Unavailable(Box::new(e))
    } else {
        StoreError::Other(Box::new(e))
    }
}
