//! Citizens following cases by tracking code (pakn-core `following`, whose
//! docs state the decisions: open cases only, idempotent, the reporter's
//! own case followed implicitly).

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::P;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pakn_core::following::FollowState;
use pakn_core::ports::Follower;
use serde::Serialize;

/// Follow a case: its status changes will reach the follower (citizen
/// notifications, as for the reporter). `201` for a new follow, `200` for a
/// repeat or the reporter's own case (`"reporter": true`, nothing stored);
/// `409 case_not_open` for a closed, resolved or rejected case. No `If-Match`.
#[utoipa::path(post, path = "/v1/track/{tracking_code}/follow", tag = "following",
    params(("tracking_code" = String, Path, example = "HN-26-7K3QX-9MPTR")),
    security(("bearer" = [])),
    responses((status = 201, body = FollowState), (status = 200, body = FollowState),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "not a citizen"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`case_not_open`"),
        (status = 422, body = ErrorBody, description = "`invalid_check_character`")))]
pub async fn follow(
    State(s): State<AppState>,
    Caller(p): Caller,
    P(code): P<String>,
) -> Result<(StatusCode, Json<FollowState>), ApiError> {
    let st = s.pakn.following().follow(&p, &code).await?;
    let status = if st.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(st)))
}

/// Stop following a case: `204` whether or not one followed it, whatever
/// its status.
#[utoipa::path(delete, path = "/v1/track/{tracking_code}/follow", tag = "following",
    params(("tracking_code" = String, Path, example = "HN-26-7K3QX-9MPTR")),
    security(("bearer" = [])),
    responses((status = 204, description = "Not following (any more)"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "not a citizen"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn unfollow(
    State(s): State<AppState>,
    Caller(p): Caller,
    P(code): P<String>,
) -> Result<StatusCode, ApiError> {
    s.pakn.following().unfollow(&p, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FollowingList {
    /// Newest first.
    pub items: Vec<Follower>,
}

/// The cases the caller follows (not their own reports: `GET /v1/cases?mine=true`).
#[utoipa::path(get, path = "/v1/me/following", tag = "following", security(("bearer" = [])),
    responses((status = 200, body = FollowingList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a citizen")))]
pub async fn following(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<FollowingList>, ApiError> {
    Ok(Json(FollowingList {
        items: s.pakn.following().following(&p).await?,
    }))
}
