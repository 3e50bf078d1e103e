//! Photos and videos: an upload slot (`POST /v1/uploads`), the upload's
//! state for its owner, and — only when this server keeps the bytes
//! itself (the local server; on AWS they go to S3) — the signed `PUT` of a
//! slot and the signed `GET` of a link. The bytes never pass through the
//! API function on AWS.

use crate::AppState;
use crate::auth::Caller;
use crate::commands;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, P, Q};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pakn_core::Error;
use pakn_core::media::{MediaLink, SlotRequest, UploadSlot, entries};
use pakn_core::ports::{SignedGet, SignedPut};
use serde::Deserialize;

/// A slot for one file: `PUT` the bytes to `url` with exactly `headers`
/// before `expires_at`, then name it as `{"upload": "<id>"}` in a report's
/// `media`, an `info`'s `media` or a resolution's `evidence`. The file is
/// checked off the request path (its bytes must be the declared type;
/// location and camera metadata are stripped from JPEG and PNG unless
/// `keep_location`); until then it is `pending`.
#[utoipa::path(post, path = "/v1/uploads", tag = "cases", operation_id = "create_upload", security(("bearer" = [])),
    request_body = SlotRequest,
    responses((status = 201, body = UploadSlot), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "`uploads_not_configured`: this deployment keeps no media"),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(v): JsonBody,
) -> Result<Response, ApiError> {
    let r: SlotRequest = commands::body(&v, "upload")?;
    let slot = s.pakn.media().slot(&p, r).await?;
    Ok((StatusCode::CREATED, Json(slot)).into_response())
}

/// The state of one of the caller's uploads (`pending`, `ready` with
/// short-lived links, `rejected` with the reason).
#[utoipa::path(get, path = "/v1/uploads/{id}", tag = "cases", operation_id = "get_upload", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = MediaLink), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(p): Caller,
    P(id): P<String>,
) -> Result<Json<MediaLink>, ApiError> {
    let named = entries(
        "id",
        &[pakn_core::media::MediaInput::Upload { upload: id }],
        1,
    )
    .map_err(|_| Error::not_found())?;
    let id = named
        .first()
        .and_then(|e| pakn_core::media::upload_id(e))
        .unwrap_or_default();
    // Only its owner learns an upload exists.
    s.pakn
        .uploads
        .get_upload(id)
        .await
        .map_err(Error::from)?
        .filter(|u| u.owner == p.sub && u.owner_role == p.role)
        .ok_or_else(Error::not_found)?;
    let link = s
        .pakn
        .media()
        .links(&named, false, false)
        .await
        .map_err(Error::from)?
        .pop()
        .ok_or_else(Error::not_found)?;
    Ok(Json(link))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Signed {
    exp: i64,
    sig: String,
    /// `full` (default) or `thumb`.
    v: Option<String>,
}

/// The signed `PUT` of a slot (local server only): the body is the file.
#[utoipa::path(put, path = "/v1/uploads/{id}/content", tag = "cases", operation_id = "put_upload_content",
    params(("id" = String, Path), Signed),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 204, description = "stored; checked off the request path"),
        (status = 400, body = ErrorBody, description = "`exp` or `sig` missing or malformed"),
        (status = 403, body = ErrorBody, description = "signature, type, length or expiry do not match the slot"),
        (status = 404, body = ErrorBody, description = "this deployment stores uploads in S3"),
        (status = 413, body = ErrorBody)))]
pub async fn put_content(
    State(s): State<AppState>,
    P(id): P<String>,
    Q(q): Q<Signed>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    s.pakn
        .blobs
        .receive(
            SignedPut {
                id,
                exp: q.exp,
                sig: q.sig,
                content_type,
                body: body.to_vec(),
            },
            s.pakn.now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A short-lived link's `GET` (local server only).
#[utoipa::path(get, path = "/v1/media/{id}", tag = "cases", operation_id = "get_media",
    params(("id" = String, Path), Signed),
    responses((status = 200, description = "the processed file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 400, body = ErrorBody, description = "`exp` or `sig` missing or malformed"),
        (status = 403, body = ErrorBody, description = "expired or not signed"), (status = 404, body = ErrorBody)))]
pub async fn media(
    State(s): State<AppState>,
    P(id): P<String>,
    Q(q): Q<Signed>,
) -> Result<Response, ApiError> {
    let thumbnail = match q.v.as_deref() {
        None | Some("full") => false,
        Some("thumb") => true,
        Some(_) => return Err(Error::not_found().into()),
    };
    let (bytes, ct) = s
        .pakn
        .blobs
        .serve(
            SignedGet {
                id,
                thumbnail,
                exp: q.exp,
                sig: q.sig,
            },
            s.pakn.now(),
        )
        .await?;
    let ct =
        HeaderValue::from_str(&ct).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok((
        [
            (header::CONTENT_TYPE, ct),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=300"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("inline"),
            ),
        ],
        bytes,
    )
        .into_response())
}
