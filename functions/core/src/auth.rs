//! Who may do what (CONTRACT.md "Who may do what"): one table, read against
//! the contract's matrix, and one function, [`decide`], that answers every
//! permission question of pakn.
//!
//! A row is a [`Permission`]; each role's cell is a [`Rule`] saying *which*
//! targets of that role qualify (any, the reporter's own case, a case or
//! queue at the caller's unit with the roster honoured, …). Rows are struct
//! literals ending in `..DENY`, so a new permission is one line naming only
//! the roles that get it, and a new role is one field that stays denied
//! until a row grants it.
//!
//! Reading a case (or an inspection) one may not read is `404`, so its
//! existence is not revealed; a visible thing with an action the role may
//! not take is `403`. [`authorize_case`] and [`authorize_inspection`] apply
//! that order.

use crate::case::Case;
use crate::error::{Error, Result};
use crate::unit::UnitCode;

pub use crate::principal::{Official, Principal, Role, Roster};

/// What a caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Submit a report (citizens for themselves, operators for a caller).
    Submit,
    /// Read a case in full (timeline, contact).
    ReadCase,
    /// Read it as its staff: internal notes, officials' subjects, staff-only
    /// reasons (others who may read the case get the reporter's view).
    ReadStaffView,
    /// List cases (the scope is [`list_scope`]'s answer).
    ListCases,
    /// accept, note, transfer, request_info, resolve, reject, extend.
    UnitAction,
    /// route out of triage, or transfer from triage.
    TriageAction,
    /// info, rate, reopen.
    CitizenAction,
    /// Change a case's urgency (triage, the holding unit).
    Regrade,
    /// Read a unit's roster and headcount.
    ReadRoster,
    /// Replace a unit's roster or headcount.
    WriteRoster,
    /// Read one unit's scorecard.
    ReadScorecard,
    /// Read every unit's scorecard.
    ReadAllScorecards,
    /// List and read a unit's inspections.
    ReadInspection,
    /// What was published for a unit (`GET /v1/units/{code}/notifications`).
    ReadUnitNotifications,
    /// Answer an inspection of one's unit.
    AnswerInspection,
    /// Record findings and close inspections.
    Inspect,
    /// Read what pakn holds about oneself (`GET /v1/me/data`): every role
    /// (staff get their account record; their actions are official records).
    ExportOwnData,
    /// Erase one's personal data (`DELETE /v1/me/data`): citizens, the
    /// reporters; staff actions are official records and stay.
    EraseOwnData,
    /// A case's audit trail: every change, who, role, channel, when, and
    /// the exports and erasures of its personal data.
    ReadAudit,
    /// Follow (or stop following) any case by its tracking code, and list
    /// what one follows: citizens.
    Follow,
    /// Mark a case a duplicate of another open case (the holding unit, triage).
    Duplicate,
    /// One's own notification preferences, phone and devices: citizens.
    OwnNotifications,
}

/// Which targets qualify for a role in one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Never.
    Deny,
    /// Always.
    Any,
    /// The case's reporter: the subject and role that submitted it (a
    /// citizen's own report, the cases an operator entered).
    Reporter,
    /// "Own unit": the case (or the unit queue) is at the caller's unit and,
    /// once the unit has a non-empty roster, the caller is on it.
    OwnUnit,
    /// The caller's unit, roster not consulted (a unit admin keeps the
    /// roster and answers inspections whether or not they handle cases).
    UnitStaff,
    /// Held by `city:triage`.
    TriageHeld,
}

/// One row of the table: a rule per role.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    pub citizen: Rule,
    pub operator: Rule,
    pub official: Rule,
    pub unit_admin: Rule,
    pub triage: Rule,
    pub inspector: Rule,
    pub admin: Rule,
    /// A registered client application (Open311 API key).
    pub client_app: Rule,
}

const DENY: Row = Row {
    citizen: Rule::Deny,
    operator: Rule::Deny,
    official: Rule::Deny,
    unit_admin: Rule::Deny,
    triage: Rule::Deny,
    inspector: Rule::Deny,
    admin: Rule::Deny,
    client_app: Rule::Deny,
};

use Rule::{Any, OwnUnit, Reporter, TriageHeld, UnitStaff};

/// The table (CONTRACT.md "Who may do what"), one line per permission.
#[rustfmt::skip]
pub const TABLE: &[(Permission, Row)] = &[
    (Permission::Submit,            Row { citizen: Any, operator: Any, client_app: Any, ..DENY }),
    (Permission::ReadCase,          Row { citizen: Reporter, operator: Reporter, official: OwnUnit, unit_admin: OwnUnit, triage: TriageHeld, inspector: Any, admin: Any, ..DENY }),
    (Permission::ReadStaffView,     Row { official: OwnUnit, unit_admin: OwnUnit, triage: TriageHeld, inspector: Any, admin: Any, ..DENY }),
    (Permission::ListCases,         Row { citizen: Reporter, operator: Reporter, official: OwnUnit, unit_admin: OwnUnit, triage: TriageHeld, inspector: Any, admin: Any, ..DENY }),
    (Permission::UnitAction,        Row { official: OwnUnit, unit_admin: OwnUnit, ..DENY }),
    (Permission::TriageAction,      Row { triage: TriageHeld, admin: TriageHeld, ..DENY }),
    (Permission::CitizenAction,     Row { citizen: Reporter, ..DENY }),
    (Permission::Regrade,           Row { official: OwnUnit, unit_admin: OwnUnit, triage: TriageHeld, ..DENY }),
    (Permission::ReadRoster,        Row { official: UnitStaff, unit_admin: UnitStaff, inspector: Any, admin: Any, ..DENY }),
    (Permission::WriteRoster,       Row { unit_admin: UnitStaff, admin: Any, ..DENY }),
    (Permission::ReadScorecard,     Row { official: UnitStaff, unit_admin: UnitStaff, inspector: Any, admin: Any, ..DENY }),
    (Permission::ReadAllScorecards, Row { inspector: Any, admin: Any, ..DENY }),
    (Permission::ReadInspection,    Row { unit_admin: UnitStaff, inspector: Any, admin: Any, ..DENY }),
    (Permission::AnswerInspection,  Row { unit_admin: UnitStaff, ..DENY }),
    (Permission::Inspect,           Row { inspector: Any, admin: Any, ..DENY }),
    (Permission::ReadUnitNotifications, Row { official: UnitStaff, unit_admin: UnitStaff, inspector: Any, admin: Any, ..DENY }),
    (Permission::ExportOwnData,     Row { citizen: Any, operator: Any, official: Any, unit_admin: Any, triage: Any, inspector: Any, admin: Any, ..DENY }),
    (Permission::EraseOwnData,      Row { citizen: Any, ..DENY }),
    (Permission::ReadAudit,         Row { inspector: Any, admin: Any, ..DENY }),
    (Permission::Follow,            Row { citizen: Any, ..DENY }),
    (Permission::OwnNotifications,  Row { citizen: Any, ..DENY }),
    (Permission::Duplicate,         Row { official: OwnUnit, unit_admin: OwnUnit, triage: TriageHeld, ..DENY }),
];

/// What a permission is asked about.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// Nothing in particular (submit; a reporter's own list).
    Nothing,
    /// A case, with the roster of the unit that holds it.
    Case { case: &'a Case, roster: &'a Roster },
    /// A unit's queue of cases, with its roster (listing).
    Queue {
        unit: &'a UnitCode,
        roster: &'a Roster,
    },
    /// A unit itself (roster, headcount, scorecard, inspections).
    Unit(&'a UnitCode),
}

impl Row {
    pub fn rule(&self, role: Role) -> Rule {
        match role {
            Role::Citizen => self.citizen,
            Role::Operator => self.operator,
            Role::Official => self.official,
            Role::UnitAdmin => self.unit_admin,
            Role::Triage => self.triage,
            Role::Inspector => self.inspector,
            Role::Admin => self.admin,
            Role::ClientApp => self.client_app,
        }
    }
}

/// The rule of `role` for `permission`.
pub fn rule(permission: Permission, role: Role) -> Rule {
    TABLE
        .iter()
        .find(|(p, _)| *p == permission)
        .map(|(_, row)| row.rule(role))
        .unwrap_or(Rule::Deny)
}

fn on_roster(p: &Principal, roster: &Roster) -> bool {
    roster.officials.is_empty() || roster.contains(&p.sub)
}

fn is_callers_unit(p: &Principal, unit: Option<&UnitCode>) -> bool {
    p.unit.is_some() && unit.is_some() && p.unit.as_ref() == unit
}

/// The one permission question: may `p` do `permission` on `target`?
pub fn decide(p: &Principal, permission: Permission, target: Target<'_>) -> bool {
    match (rule(permission, p.role), target) {
        (Rule::Deny, _) => false,
        (Rule::Any, _) => true,
        (Rule::Reporter, Target::Nothing) => true,
        (Rule::Reporter, Target::Case { case, .. }) => {
            case.submitted_by == p.sub && case.submitted_role == p.role
        }
        (Rule::Reporter, _) => false,
        (Rule::OwnUnit, Target::Case { case, roster }) => {
            is_callers_unit(p, case.unit.as_ref()) && on_roster(p, roster)
        }
        (Rule::OwnUnit, Target::Queue { unit, roster }) => {
            is_callers_unit(p, Some(unit)) && on_roster(p, roster)
        }
        (Rule::OwnUnit, _) => false,
        (Rule::UnitStaff, Target::Case { case, .. }) => is_callers_unit(p, case.unit.as_ref()),
        (Rule::UnitStaff, Target::Queue { unit, .. } | Target::Unit(unit)) => {
            is_callers_unit(p, Some(unit))
        }
        (Rule::UnitStaff, Target::Nothing) => false,
        (Rule::TriageHeld, Target::Case { case, .. }) => {
            case.unit.as_ref().is_some_and(|u| u.is_triage())
        }
        (Rule::TriageHeld, Target::Queue { unit, .. } | Target::Unit(unit)) => unit.is_triage(),
        (Rule::TriageHeld, Target::Nothing) => false,
    }
}

/// [`decide`] as a result: `403` when refused.
pub fn require(p: &Principal, permission: Permission, target: Target<'_>) -> Result<()> {
    if decide(p, permission, target) {
        Ok(())
    } else {
        Err(Error::forbidden())
    }
}

/// May `p` read the full case?
pub fn can_read(p: &Principal, case: &Case, roster: &Roster) -> bool {
    decide(p, Permission::ReadCase, Target::Case { case, roster })
}

/// A case-scoped permission: `404` if the case is not visible to `p`, `403`
/// if visible but `permission` is refused.
pub fn authorize_case(
    p: &Principal,
    case: &Case,
    roster: &Roster,
    permission: Permission,
) -> Result<()> {
    if !can_read(p, case, roster) {
        return Err(Error::not_found());
    }
    require(p, permission, Target::Case { case, roster })
}

/// An inspection-scoped permission on an inspection of `unit`: `404` if
/// the caller may not read it, `403` if readable but `permission` is refused.
pub fn authorize_inspection(p: &Principal, unit: &UnitCode, permission: Permission) -> Result<()> {
    if !decide(p, Permission::ReadInspection, Target::Unit(unit)) {
        return Err(Error::not_found());
    }
    require(p, permission, Target::Unit(unit))
}

/// Whose cases a listing covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListScope {
    /// The cases this subject submitted (citizens; operators: ones they entered).
    SubmittedBy(String),
    /// One unit's cases.
    Unit(UnitCode),
    /// Every case.
    All,
}

/// The scope of a listing by `p`, who asked for `asked_unit` (and `mine`);
/// `roster` is the roster of the caller's own unit (empty when none).
pub fn list_scope(
    p: &Principal,
    asked_unit: Option<&UnitCode>,
    mine: bool,
    roster: &Roster,
) -> Result<ListScope> {
    match rule(Permission::ListCases, p.role) {
        Rule::Any => Ok(asked_unit.cloned().map_or(ListScope::All, ListScope::Unit)),
        Rule::Reporter if asked_unit.is_none() => Ok(ListScope::SubmittedBy(p.sub.clone())),
        Rule::Deny | Rule::Reporter => Err(Error::forbidden()),
        Rule::OwnUnit | Rule::UnitStaff | Rule::TriageHeld => {
            let own = p.unit.as_ref().ok_or_else(Error::forbidden)?;
            if mine || asked_unit.is_some_and(|u| u != own) {
                return Err(Error::forbidden());
            }
            let target = Target::Queue { unit: own, roster };
            require(p, Permission::ListCases, target)?;
            Ok(ListScope::Unit(own.clone()))
        }
    }
}

/// How `p`, who may read the case, sees it.
pub fn viewer(p: &Principal, case: &Case, roster: &Roster) -> crate::views::Viewer {
    if decide(p, Permission::ReadStaffView, Target::Case { case, roster }) {
        crate::views::Viewer::Staff
    } else {
        crate::views::Viewer::Reporter
    }
}
