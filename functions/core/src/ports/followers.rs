//! Followers of cases: items of their own, keyed by case (so the citizen
//! notifications of a case can reach everyone following it) and listable by
//! citizen (`GET /v1/me/following`). Never fields of the case: following
//! does not touch the case's version, so it needs no `If-Match`.

use super::StoreResult;
use crate::ids::CaseId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How a citizen came to follow a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FollowReason {
    /// `POST /v1/track/{code}/follow`.
    Asked,
    /// Their own report was marked a duplicate of this case.
    Duplicate,
}

/// One citizen following one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Follower {
    #[schema(value_type = String)]
    pub case_id: CaseId,
    pub tracking_code: String,
    /// The citizen's subject (personal data: only pakn itself reads it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sub: String,
    pub since: DateTime<Utc>,
    pub reason: FollowReason,
}

#[async_trait]
pub trait FollowerStore: Send + Sync {
    /// Add `f` unless that citizen already follows that case: `true` when
    /// it was added (the first record, and its `since`, are kept).
    async fn follow(&self, f: &Follower) -> StoreResult<bool>;
    /// Remove the citizen's follow of the case: `true` when there was one.
    async fn unfollow(&self, case_id: &CaseId, sub: &str) -> StoreResult<bool>;
    /// Everyone following a case, earliest first.
    async fn followers(&self, case_id: &CaseId) -> StoreResult<Vec<Follower>>;
    /// Every case a citizen follows, most recent first.
    async fn following(&self, sub: &str) -> StoreResult<Vec<Follower>>;
    /// Remove every follow of a citizen (their erasure), so no follower
    /// record names them any more: how many there were. Idempotent.
    async fn forget_citizen(&self, sub: &str) -> StoreResult<usize>;
}
