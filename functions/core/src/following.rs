//! Citizens following cases by tracking code (`POST`/`DELETE
//! /v1/track/{code}/follow`, `GET /v1/me/following`).
//!
//! Decisions (README "Following"):
//! - Any citizen may follow any case by its code (the public view is
//!   public); only an **open** case can be newly followed (`409
//!   case_not_open` otherwise: nothing more will happen to a closed case).
//!   Following is idempotent: the first follow answers `201`, a repeat `200`
//!   and keeps the first `since`.
//! - The reporter's own case is followed implicitly: a follow of it is a
//!   no-op answered `200` with `"reporter": true`, and nothing is stored.
//! - Stopping is idempotent and allowed whatever the status (`204` whether
//!   or not one followed it); an unknown code is `404` for both.
//! - Followers are items of their own keyed by case
//!   ([`crate::ports::FollowerStore`]), so the citizen notifications of a
//!   case can later reach them all; the case itself is not changed (no
//!   version, no `If-Match`).

use crate::auth::{self, Permission, Principal, Target};
use crate::case::{Case, Status};
use crate::error::{Error, ErrorKind, Result};
use crate::ids;
use crate::ports::{CaseStore, Clock, FollowReason, Follower, FollowerStore};
use serde::Serialize;

/// What a follow did.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FollowState {
    pub tracking_code: String,
    pub following: bool,
    /// The caller reported this case: they follow it without a record.
    pub reporter: bool,
    /// A new follow (`201`), not a repeat (`200`).
    #[serde(skip)]
    pub created: bool,
    pub status: Status,
}

/// The following use case over the ports it needs.
pub struct Following<'a> {
    pub cases: &'a dyn CaseStore,
    pub followers: &'a dyn FollowerStore,
    pub clock: &'a dyn Clock,
}

/// The case a tracking code names: `422` on a failed check character,
/// `404` when no case has it.
pub async fn case_by_code(cases: &dyn CaseStore, code: &str) -> Result<Case> {
    let code = match ids::normalize_tracking_code(code) {
        Ok(c) => c,
        Err(ids::CodeError::Malformed) => return Err(Error::not_found()),
        Err(ids::CodeError::CheckFailed) => {
            return Err(Error::invalid("tracking_code", "invalid_check_character"));
        }
    };
    let id = cases
        .case_id_by_tracking_code(&code)
        .await?
        .ok_or_else(Error::not_found)?;
    cases.get_case(&id).await?.ok_or_else(Error::not_found)
}

fn is_reporter(p: &Principal, c: &Case) -> bool {
    c.submitted_by == p.sub && c.submitted_role == p.role
}

impl Following<'_> {
    pub async fn follow(&self, p: &Principal, code: &str) -> Result<FollowState> {
        auth::require(p, Permission::Follow, Target::Nothing)?;
        let case = case_by_code(self.cases, code).await?;
        let state = |following, reporter, created| FollowState {
            tracking_code: case.tracking_code.clone(),
            following,
            reporter,
            created,
            status: case.status,
        };
        if is_reporter(p, &case) {
            return Ok(state(true, true, false));
        }
        if !case.status.is_open() {
            return Err(Error::new(ErrorKind::Conflict, "case_not_open")
                .with("status", case.status.as_str()));
        }
        let created = self
            .followers
            .follow(&Follower {
                case_id: case.id.clone(),
                tracking_code: case.tracking_code.clone(),
                sub: p.sub.clone(),
                since: self.clock.now(),
                reason: FollowReason::Asked,
            })
            .await?;
        Ok(state(true, false, created))
    }

    pub async fn unfollow(&self, p: &Principal, code: &str) -> Result<()> {
        auth::require(p, Permission::Follow, Target::Nothing)?;
        let case = case_by_code(self.cases, code).await?;
        self.followers.unfollow(&case.id, &p.sub).await?;
        Ok(())
    }

    /// The cases `p` follows (records only: code, since, how), newest first.
    pub async fn following(&self, p: &Principal) -> Result<Vec<Follower>> {
        auth::require(p, Permission::Follow, Target::Nothing)?;
        Ok(self
            .followers
            .following(&p.sub)
            .await?
            .into_iter()
            .map(|mut f| {
                f.sub = String::new();
                f
            })
            .collect())
    }
}
