//! Telling citizens (pakn-core `notices`, whose docs state the decisions):
//! their channel, a verified phone for SMS, the devices the app registers
//! for push, and their recent notices.

use crate::AppState;
use crate::auth::Caller;
use crate::commands;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, P};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pakn_core::notices::{DeviceView, NoticeSettings, PrefsChanged, PrefsInput};
use pakn_core::ports::Platform;
use serde::Deserialize;

/// The caller's notification settings: the channel chosen and the one
/// notices go on now, the phone and whether it is verified, the devices
/// (never their tokens), quiet hours and the latest notices with their
/// state (`pending` until 07:00 in quiet hours, `sent`, `gave_up`, `dropped`).
#[utoipa::path(get, path = "/v1/me/notifications", tag = "notifications", operation_id = "get_my_notifications",
    security(("bearer" = [])),
    responses((status = 200, body = NoticeSettings), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a citizen")))]
pub async fn get(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<NoticeSettings>, ApiError> {
    Ok(Json(s.pakn.notices().get(&p).await?))
}

/// Change the channel (`push`, `sms`, `off`) and the phone. A new phone
/// (or the same one not yet verified) gets a 6-digit code by SMS at once;
/// SMS notices start once it is verified. `429` with `Retry-After` within a
/// minute of the last code, or after five codes in an hour.
#[utoipa::path(put, path = "/v1/me/notifications", tag = "notifications", operation_id = "put_my_notifications",
    security(("bearer" = [])),
    request_body(content = PrefsInput, example = json!({"channel": "sms", "phone": "0912345678"})),
    responses((status = 200, body = PrefsChanged), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a citizen"),
        (status = 409, body = ErrorBody, description = "`concurrent_update`"),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "`not_a_mobile_phone`, `phone_required`"),
        (status = 429, body = ErrorBody, headers(("Retry-After" = u32)),
            description = "over the citizen's actions a minute; a code was sent less than a minute ago, five this hour, or five to this phone this hour")))]
pub async fn put(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(v): JsonBody,
) -> Result<Json<PrefsChanged>, ApiError> {
    let input: PrefsInput = commands::body(&v, "notification_settings")?;
    Ok(Json(s.pakn.notices().put(&p, input).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The six digits sent by SMS.
    #[schema(example = "482913")]
    pub code: String,
}

/// Prove the phone with the code sent to it. A wrong code is `422
/// wrong_code` with `attempts_left`; after five, or ten minutes, the code
/// is void (`409 code_expired`): ask for a new one with `PUT`.
#[utoipa::path(post, path = "/v1/me/notifications/verify", tag = "notifications", operation_id = "verify_my_phone",
    security(("bearer" = [])), request_body = VerifyRequest,
    responses((status = 200, body = NoticeSettings), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a citizen"),
        (status = 409, body = ErrorBody, description = "`no_code_pending`, `code_expired`, `concurrent_update`"),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "`wrong_code`"),
        (status = 429, body = ErrorBody, headers(("Retry-After" = u32)), description = "over the citizen's actions a minute")))]
pub async fn verify(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(v): JsonBody,
) -> Result<Json<NoticeSettings>, ApiError> {
    let r: VerifyRequest = commands::body(&v, "verification_code")?;
    Ok(Json(s.pakn.notices().verify(&p, &r.code).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceRequest {
    pub platform: Platform,
    /// The push token the platform gave the app.
    pub token: String,
}

/// Register the app's device for push (the default channel). `201` for a
/// new device, `200` for one already registered. `404
/// push_not_configured` where this deployment has no push platform.
#[utoipa::path(post, path = "/v1/me/devices", tag = "notifications", operation_id = "register_my_device",
    security(("bearer" = [])),
    request_body(content = DeviceRequest, example = json!({"platform": "fcm", "token": "dGVzdC10b2tlbg"})),
    responses((status = 201, body = DeviceView), (status = 200, body = DeviceView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "not a citizen"),
        (status = 404, body = ErrorBody, description = "`push_not_configured`"),
        (status = 409, body = ErrorBody, description = "`concurrent_update`"),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "`unsupported_platform`, `invalid_device_token`"),
        (status = 429, body = ErrorBody, headers(("Retry-After" = u32)), description = "over the citizen's actions a minute")))]
pub async fn register_device(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(v): JsonBody,
) -> Result<(StatusCode, Json<DeviceView>), ApiError> {
    let r: DeviceRequest = commands::body(&v, "device")?;
    let (d, new) = s
        .pakn
        .notices()
        .register_device(&p, r.platform, &r.token)
        .await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(d)))
}

/// Forget a device (`204` whether or not it was registered).
#[utoipa::path(delete, path = "/v1/me/devices/{id}", tag = "notifications", operation_id = "remove_my_device",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204, description = "Not registered (any more)"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a citizen"),
        (status = 409, body = ErrorBody, description = "`concurrent_update`"),
        (status = 429, body = ErrorBody, headers(("Retry-After" = u32)), description = "over the citizen's actions a minute")))]
pub async fn remove_device(
    State(s): State<AppState>,
    Caller(p): Caller,
    P(id): P<String>,
) -> Result<StatusCode, ApiError> {
    s.pakn.notices().remove_device(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
