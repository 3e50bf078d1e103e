//! Reading cases: one case in full, the public view by tracking code, and
//! listings scoped by role (`auth::list_scope`).

use crate::actions::load_authorized;
use crate::auth::{self, ListScope, Permission, Principal};
use crate::case::Status;
use crate::error::{Error, Result};
use crate::ids;
use crate::ports::{CasePage, CaseQuery, CaseSort, CaseStore, Clock, PeopleStore};
use crate::principal::Roster;
use crate::refdata::RefData;
use crate::unit::UnitCode;
use crate::views::{CaseView, PublicCase};
use chrono::{DateTime, Utc};

/// A page of a listing: an opaque cursor and a size (1–200).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub cursor: Option<String>,
    pub limit: usize,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            cursor: None,
            limit: 50,
        }
    }
}

/// What a caller asks to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseFilter {
    /// A citizen's or operator's own cases (the only scope they have).
    pub mine: bool,
    pub unit: Option<UnitCode>,
    pub status: Option<Status>,
    pub category: Option<String>,
    /// Only cases open and past `resolve_due` now.
    pub overdue: bool,
    /// Received at or after.
    pub from: Option<DateTime<Utc>>,
    /// Received before.
    pub to: Option<DateTime<Utc>>,
    pub page: Page,
    /// Newest first, or (a unit's queue only) by what is due next.
    pub sort: CaseSort,
}

/// Case reads over the ports they need.
pub struct Lookup<'a> {
    pub cases: &'a dyn CaseStore,
    pub people: &'a dyn PeopleStore,
    pub clock: &'a dyn Clock,
    pub refdata: &'a RefData,
}

impl Lookup<'_> {
    /// The full case, if `p` may read it (else 404).
    pub async fn get_case(&self, p: &Principal, id: &str) -> Result<CaseView> {
        let (case, viewer) =
            load_authorized(self.cases, self.people, p, id, |_| Permission::ReadCase).await?;
        let tl = self.cases.timeline(&case.id).await?;
        Ok(CaseView::new(
            case,
            tl,
            self.refdata,
            self.clock.now(),
            viewer,
        ))
    }

    /// The public view by tracking code.
    pub async fn track(&self, code: &str) -> Result<PublicCase> {
        let code = match ids::normalize_tracking_code(code) {
            Ok(c) => c,
            Err(ids::CodeError::Malformed) => return Err(Error::not_found()),
            // A typing mistake, said before any lookup.
            Err(ids::CodeError::CheckFailed) => {
                return Err(Error::invalid("tracking_code", "invalid_check_character"));
            }
        };
        let id = self
            .cases
            .case_id_by_tracking_code(&code)
            .await?
            .ok_or_else(Error::not_found)?;
        let case = self
            .cases
            .get_case(&id)
            .await?
            .ok_or_else(Error::not_found)?;
        let tl = self.cases.timeline(&id).await?;
        Ok(PublicCase::new(&case, &tl, self.refdata, self.clock.now()))
    }

    /// List what `p` may see, with filters and a cursor.
    pub async fn list(&self, p: &Principal, f: CaseFilter) -> Result<CasePage> {
        let roster = match (&p.unit, p.role.needs_unit()) {
            (Some(u), true) => self.people.get_roster(u).await?,
            _ => Roster::default(),
        };
        let scope = auth::list_scope(p, f.unit.as_ref(), f.mine, &roster)?;
        let mut q = CaseQuery {
            limit: f.page.limit.clamp(1, 200),
            cursor: f.page.cursor,
            status: f.status,
            category: f.category,
            overdue_at: f.overdue.then(|| self.clock.now()),
            received_from: f.from,
            received_to: f.to,
            sort: f.sort,
            ..Default::default()
        };
        match &scope {
            ListScope::SubmittedBy(sub) => q.submitted_by = Some(sub.clone()),
            ListScope::Unit(u) => q.unit = Some(u.clone()),
            ListScope::All => {}
        }
        if q.sort == CaseSort::Due && q.unit.is_none() {
            // Only a unit's queue has a "due next": a citizen's reports or
            // the whole city have no one deadline to sort by.
            return Err(Error::invalid("sort", "sort_needs_unit"));
        }
        let mut page = self.cases.list_cases(&q).await?;
        // Belt and braces: the store's filter and the permission table agree.
        if let ListScope::SubmittedBy(_) = scope {
            page.cases
                .retain(|c| c.submitted_by == p.sub && c.submitted_role == p.role);
        }
        Ok(page)
    }
}
