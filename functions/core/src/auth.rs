//! Who may do what (CONTRACT.md "Who may do what"), decided in this one place.
//!
//! Reading a case one may not read is `404` (its existence is not revealed);
//! a visible case with an action the role may not take is `403`.

use crate::case::Case;
use crate::error::{Error, Result};
use crate::unit::UnitCode;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Citizen,
    Operator,
    Official,
    UnitAdmin,
    Triage,
    Inspector,
    Admin,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Citizen,
        Role::Operator,
        Role::Official,
        Role::UnitAdmin,
        Role::Triage,
        Role::Inspector,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Operator => "operator",
            Role::Official => "official",
            Role::UnitAdmin => "unit_admin",
            Role::Triage => "triage",
            Role::Inspector => "inspector",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Roles that belong to a unit and must name it in their token.
    pub fn needs_unit(self) -> bool {
        matches!(self, Role::Official | Role::UnitAdmin)
    }
}

/// The caller, from a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub sub: String,
    pub role: Role,
    pub unit: Option<UnitCode>,
}

impl Principal {
    pub fn new(sub: impl Into<String>, role: Role, unit: Option<UnitCode>) -> Result<Self> {
        let sub = sub.into();
        if sub.trim().is_empty() || sub.len() > 128 {
            return Err(Error::unauthorized(
                "The token has no valid subject.",
                "Mã xác thực không có chủ thể hợp lệ.",
            ));
        }
        let unit = if role.needs_unit() {
            Some(unit.ok_or_else(|| {
                Error::unauthorized(
                    "An official's token must name a unit.",
                    "Mã xác thực của cán bộ phải ghi rõ đơn vị.",
                )
            })?)
        } else if role == Role::Triage {
            Some(UnitCode::triage())
        } else {
            unit
        };
        Ok(Principal { sub, role, unit })
    }

    /// A system actor for the router and the sweep (never from a token).
    pub fn system(name: &str) -> Self {
        Principal {
            sub: format!("system:{name}"),
            role: Role::Admin,
            unit: None,
        }
    }
}

/// The officials who handle a unit's reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Roster {
    pub officials: Vec<Official>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Official {
    pub sub: String,
    pub name: String,
    #[serde(default)]
    pub title: String,
}

impl Roster {
    pub fn contains(&self, sub: &str) -> bool {
        self.officials.iter().any(|o| o.sub == sub)
    }
}

/// What a caller wants to do with a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseAccess {
    /// Full read.
    Read,
    /// accept, note, transfer, request_info, resolve, reject, extend.
    UnitAction,
    /// route out of triage, or transfer from triage.
    TriageAction,
    /// info, rate, reopen.
    CitizenAction,
}

/// "Own unit": the case is at the caller's unit and, once the unit has a
/// non-empty roster, the caller is on it.
pub fn is_own_unit(p: &Principal, case: &Case, roster: &Roster) -> bool {
    p.role.needs_unit()
        && p.unit.is_some()
        && case.unit == p.unit
        && (roster.officials.is_empty() || roster.contains(&p.sub))
}

fn is_reporter(p: &Principal, case: &Case) -> bool {
    case.submitted_by == p.sub && case.submitted_role == p.role
}

/// May `p` read the full case?
pub fn can_read(p: &Principal, case: &Case, roster: &Roster) -> bool {
    match p.role {
        Role::Citizen | Role::Operator => is_reporter(p, case),
        Role::Official | Role::UnitAdmin => is_own_unit(p, case, roster),
        Role::Triage => case.unit.as_ref().is_some_and(|u| u.is_triage()),
        Role::Inspector | Role::Admin => true,
    }
}

/// Check access; `404` if the case is not visible, `403` if visible but not allowed.
pub fn authorize(p: &Principal, case: &Case, roster: &Roster, access: CaseAccess) -> Result<()> {
    if !can_read(p, case, roster) {
        return Err(Error::not_found());
    }
    let allowed = match access {
        CaseAccess::Read => true,
        CaseAccess::UnitAction => is_own_unit(p, case, roster),
        CaseAccess::TriageAction => {
            matches!(p.role, Role::Triage | Role::Admin)
                && case.unit.as_ref().is_some_and(|u| u.is_triage())
        }
        CaseAccess::CitizenAction => p.role == Role::Citizen && is_reporter(p, case),
    };
    if allowed {
        Ok(())
    } else {
        Err(Error::forbidden())
    }
}

/// May `p` submit? Citizens for themselves, operators for a caller.
pub fn can_submit(p: &Principal) -> bool {
    matches!(p.role, Role::Citizen | Role::Operator)
}

/// Rosters and headcounts: read by the unit's officials, inspectors and admins; written by its unit admin and admins.
pub fn can_read_roster(p: &Principal, unit: &UnitCode) -> bool {
    match p.role {
        Role::Official | Role::UnitAdmin => p.unit.as_ref() == Some(unit),
        Role::Inspector | Role::Admin => true,
        _ => false,
    }
}

pub fn can_write_roster(p: &Principal, unit: &UnitCode) -> bool {
    match p.role {
        Role::UnitAdmin => p.unit.as_ref() == Some(unit),
        Role::Admin => true,
        _ => false,
    }
}
