//! The case workflow: what officials, triage and citizens do to a case.
//!
//! An [`Action`] arrives typed from the edge (texts normalised and bounded,
//! unit codes well-formed). [`Actions::act`] loads the case, asks `auth`
//! (404 if not visible, 403 if not allowed), checks the version, and
//! [`apply`]s the action: a pure function of the case, the actor, the action
//! and the time, dispatching to one small function per action in [`unit`],
//! [`triage`] and [`citizen`]. The store commits the outcome on the version.

mod citizen;
mod duplicate;
mod regrade;
mod triage;
mod unit;

use crate::auth::{self, Permission, Principal};
use crate::case::{Case, Status};
use crate::category::Urgency;
use crate::change::{Change, Outcome, within_window};
use crate::error::{Error, ErrorKind, Result};
use crate::ids::CaseId;
use crate::outbox::Outbox;
use crate::ports::{
    CaseStore, Clock, FollowReason, Follower, FollowerStore, PeopleStore, QuotaStore, StoreError,
};
use crate::principal::Roster;
use crate::quota::{self, Usage};
use crate::refdata::RefData;
use crate::unit::UnitCode;
use crate::views::{CaseView, Viewer};
use chrono::{DateTime, Utc};
use serde_json::json;

/// Reason codes for `reject`.
pub const REJECT_REASONS: [&str; 6] = [
    "not_city_matter",
    "duplicate",
    "insufficient_info",
    "not_in_jurisdiction",
    "under_court_proceedings",
    "abusive",
];

/// The longest free text of an action (answer, reason, question, note).
pub const MAX_TEXT: usize = 4000;

/// An action on a case, as the edge parsed it.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Accept,
    Note {
        text: String,
        public: bool,
    },
    Transfer {
        to_unit: UnitCode,
        reason: String,
    },
    RequestInfo {
        question: String,
    },
    Resolve {
        answer: String,
        evidence: Vec<String>,
    },
    Reject {
        reason_code: String,
        answer: String,
    },
    Extend {
        working_days: u32,
        reason: String,
    },
    Route {
        to_unit: UnitCode,
    },
    Info {
        text: String,
        media: Vec<String>,
    },
    Rate {
        score: u8,
        comment: Option<String>,
    },
    Reopen {
        reason: String,
    },
    Regrade {
        urgency: Urgency,
        reason: String,
    },
    /// Close as a duplicate of another open case, named by id or tracking
    /// code (resolved to the case by [`Actions::act`] before [`apply`]).
    Duplicate {
        of: String,
    },
}

pub const ACTION_NAMES: [&str; 13] = [
    "accept",
    "note",
    "transfer",
    "request_info",
    "resolve",
    "reject",
    "extend",
    "route",
    "info",
    "rate",
    "reopen",
    "regrade",
    "duplicate",
];

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Note { .. } => "note",
            Action::Transfer { .. } => "transfer",
            Action::RequestInfo { .. } => "request_info",
            Action::Resolve { .. } => "resolve",
            Action::Reject { .. } => "reject",
            Action::Extend { .. } => "extend",
            Action::Route { .. } => "route",
            Action::Info { .. } => "info",
            Action::Rate { .. } => "rate",
            Action::Reopen { .. } => "reopen",
            Action::Regrade { .. } => "regrade",
            Action::Duplicate { .. } => "duplicate",
        }
    }

    /// Which permission the action needs on this case.
    pub fn permission(&self, case: &Case) -> Permission {
        match self {
            Action::Route { .. } => Permission::TriageAction,
            Action::Transfer { .. } if case.unit.as_ref().is_some_and(|u| u.is_triage()) => {
                Permission::TriageAction
            }
            Action::Info { .. } | Action::Rate { .. } | Action::Reopen { .. } => {
                Permission::CitizenAction
            }
            Action::Regrade { .. } => Permission::Regrade,
            Action::Duplicate { .. } => Permission::Duplicate,
            _ => Permission::UnitAction,
        }
    }

    /// The unit the action names, if any (checked against the reference data).
    fn target_unit(&self) -> Option<&UnitCode> {
        match self {
            Action::Transfer { to_unit, .. } | Action::Route { to_unit } => Some(to_unit),
            _ => None,
        }
    }
}

/// What one action step produced for the timeline: text, public, data.
type Step = (Option<String>, bool, serde_json::Value);

fn bad(ch: &Change<'_>, action: &str) -> Error {
    Error::invalid_transition(ch.before.status.as_str(), action)
}

/// Apply an actor's action. Authorization is the caller's ([`crate::auth`]);
/// this checks the reference data, the transition and the rules.
pub fn apply(
    case: &Case,
    actor: &Principal,
    action: Action,
    now: DateTime<Utc>,
    refdata: &RefData,
) -> Result<Outcome> {
    apply_with(case, actor, action, None, now, refdata)
}

/// [`apply`], with the case a `duplicate` names (looked up by the caller).
pub fn apply_with(
    case: &Case,
    actor: &Principal,
    action: Action,
    original: Option<&Case>,
    now: DateTime<Utc>,
    refdata: &RefData,
) -> Result<Outcome> {
    if let Some(u) = action.target_unit().filter(|u| refdata.unit(u).is_none()) {
        return Err(Error::invalid("to_unit", "unknown_unit").with("unit", u));
    }
    let name = action.name();
    let mut ch = Change::new(case, now, refdata);
    let (text, public, data) = match action {
        Action::Accept => unit::accept(&mut ch)?,
        Action::Note { text, public } => unit::note(&mut ch, text, public)?,
        Action::Transfer { to_unit, reason } => unit::transfer(&mut ch, to_unit, reason)?,
        Action::RequestInfo { question } => unit::request_info(&mut ch, question)?,
        Action::Resolve { answer, evidence } => unit::resolve(&mut ch, answer, evidence)?,
        Action::Reject {
            reason_code,
            answer,
        } => unit::reject(&mut ch, reason_code, answer)?,
        Action::Extend {
            working_days,
            reason,
        } => unit::extend(&mut ch, actor, working_days, reason)?,
        Action::Route { to_unit } => triage::route(&mut ch, to_unit)?,
        Action::Info { text, media } => citizen::info(&mut ch, text, media)?,
        Action::Rate { score, comment } => citizen::rate(&mut ch, score, comment)?,
        Action::Reopen { reason } => citizen::reopen(&mut ch, reason)?,
        Action::Regrade { urgency, reason } => regrade::regrade(&mut ch, actor, urgency, reason)?,
        Action::Duplicate { .. } => duplicate::duplicate(&mut ch, original)?,
    };
    Ok(ch.finish(name, actor, text, public, data))
}

/// The sweep closes a resolved or rejected case whose dispute window ended.
pub fn close_after_window(case: &Case, now: DateTime<Utc>, refdata: &RefData) -> Result<Outcome> {
    let since = match case.status {
        Status::Resolved => case.resolved_at,
        Status::Rejected => case.rejected_at,
        _ => None,
    };
    if within_window(since, now, refdata) || since.is_none() {
        return Err(Error::invalid_transition(case.status.as_str(), "close"));
    }
    let mut ch = Change::new(case, now, refdata);
    ch.case.status = Status::Closed;
    ch.case.closed_at = Some(now);
    ch.notify_status();
    Ok(ch.finish(
        "close",
        &Principal::system("deadlines"),
        None,
        true,
        json!({"reason": "dispute_window_ended"}),
    ))
}

/// The roster that decides "own unit" for a case (none before routing).
pub async fn roster_of(people: &dyn PeopleStore, unit: Option<&UnitCode>) -> Result<Roster> {
    match unit {
        Some(u) => Ok(people.get_roster(u).await?),
        None => Ok(Roster::default()),
    }
}

/// Load case `id` and check `p` may do what `permission` says on it (`404`
/// if not visible, `403` if not allowed); with how `p` sees it.
pub async fn load_authorized(
    cases: &dyn CaseStore,
    people: &dyn PeopleStore,
    p: &Principal,
    id: &str,
    permission: impl FnOnce(&Case) -> Permission,
) -> Result<(Case, Viewer)> {
    let id = CaseId::parse(id).ok_or_else(Error::not_found)?;
    let case = cases.get_case(&id).await?.ok_or_else(Error::not_found)?;
    let roster = roster_of(people, case.unit.as_ref()).await?;
    auth::authorize_case(p, &case, &roster, permission(&case))?;
    let viewer = auth::viewer(p, &case, &roster);
    Ok((case, viewer))
}

/// The case workflow over the ports it needs.
pub struct Actions<'a> {
    pub cases: &'a dyn CaseStore,
    pub followers: &'a dyn FollowerStore,
    pub quota: &'a dyn QuotaStore,
    pub people: &'a dyn PeopleStore,
    pub outbox: Outbox<'a>,
    pub clock: &'a dyn Clock,
    pub refdata: &'a RefData,
}

impl Actions<'_> {
    /// The case a `duplicate` names: a case id or a tracking code (either
    /// form). Unknown: `422 unknown_case` on the `of` field (the body named
    /// it; the case acted on exists).
    async fn original(&self, of: &str) -> Result<Case> {
        let unknown = || Error::invalid("of", "unknown_case");
        if let Some(id) = CaseId::parse(of) {
            return self.cases.get_case(&id).await?.ok_or_else(unknown);
        }
        match crate::following::case_by_code(self.cases, of).await {
            Err(e) if e.kind == ErrorKind::NotFound => Err(unknown()),
            other => other,
        }
    }

    /// The reporter of a case closed as a duplicate follows the original
    /// (idempotent: the first follow, and its `since`, are kept). A
    /// citizen's own report only (operators enter cases for callers, who
    /// have no account to follow with), and not when they reported the
    /// original too.
    async fn follow_original(&self, case: &Case, now: DateTime<Utc>) -> Result<()> {
        let Some(o) = &case.duplicate_of else {
            return Ok(());
        };
        if case.submitted_role != crate::principal::Role::Citizen || case.submitted_by.is_empty() {
            return Ok(());
        }
        let original = self.cases.get_case(&o.id).await?;
        if original.is_some_and(|c| {
            c.submitted_by == case.submitted_by && c.submitted_role == case.submitted_role
        }) {
            return Ok(());
        }
        self.followers
            .follow(&Follower {
                case_id: o.id.clone(),
                tracking_code: o.tracking_code.clone(),
                sub: case.submitted_by.clone(),
                since: now,
                reason: FollowReason::Duplicate,
            })
            .await?;
        Ok(())
    }

    /// A `duplicate` sent again after it was committed (the answer was
    /// lost, or the follow after the commit failed): the case is closed as
    /// a duplicate of the case `of` names, by the change from `expected`.
    /// Then the follow is made sure of and the repeat answers like the
    /// first time (`true`); anything else is not a repeat.
    async fn repeated_duplicate(&self, case: &Case, of: &str, expected: u64) -> Result<bool> {
        let Some(d) = &case.duplicate_of else {
            return Ok(false);
        };
        if case.version != expected + 1 || case.erased_at.is_some() {
            return Ok(false);
        }
        let names_it = match CaseId::parse(of) {
            Some(id) => id == d.id,
            None => crate::ids::normalize_tracking_code(of).is_ok_and(|c| c == d.tracking_code),
        };
        if !names_it {
            return Ok(false);
        }
        self.follow_original(case, self.clock.now()).await?;
        Ok(true)
    }

    /// Take an action on case `id`, which the caller read at version
    /// `expected` (`None`: the caller did not say, refused). Order of
    /// checks: visible (404), permission (403), version given and current
    /// (412), the caller's quota (429), transition and rules (409/422).
    #[tracing::instrument(skip_all, fields(case_id = %id, action = %action.name()), err(level = "debug"))]
    pub async fn act(
        &self,
        p: &Principal,
        id: &str,
        action: Action,
        expected: Option<u64>,
    ) -> Result<CaseView> {
        let (case, viewer) =
            load_authorized(self.cases, self.people, p, id, |c| action.permission(c)).await?;
        let expected =
            expected.ok_or_else(|| Error::new(ErrorKind::VersionRequired, "if_match_required"))?;
        let now = self.clock.now();
        if let Action::Duplicate { of } = &action {
            if self.repeated_duplicate(&case, of, expected).await? {
                let tl = self.cases.timeline(&case.id).await?;
                return Ok(CaseView::new(case, tl, self.refdata, now, viewer));
            }
        }
        if expected != case.version {
            return Err(Error::stale_version());
        }
        quota::charge(self.quota, self.refdata, p, Usage::Act, now).await?;
        let original = match &action {
            Action::Duplicate { of } => Some(self.original(of).await?),
            _ => None,
        };
        let outcome = apply_with(&case, p, action, original.as_ref(), now, self.refdata)?;
        let after = outcome.case.clone();
        match self.outbox.commit(case.version, outcome, None, false).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(Error::stale_version()),
            Err(e) => return Err(e.into()),
        }
        if original.is_some() {
            // Only once the duplicate is committed: a refused commit leaves
            // no follow behind. A failure here answers an error with the
            // case closed; the client's retry is a repeat (above), which
            // records the follow then.
            self.follow_original(&after, now).await?;
        }
        // The actor sees the case as their action left it (after a transfer
        // they may no longer read it, but they did just act on it).
        let tl = self.cases.timeline(&after.id).await?;
        Ok(CaseView::new(after, tl, self.refdata, now, viewer))
    }
}
