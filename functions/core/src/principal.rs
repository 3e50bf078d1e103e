//! Who is acting: roles, the principal from a verified token, and the
//! roster of officials who handle a unit's reports. Plain values; what each
//! may do is decided in [`crate::auth`].

use crate::channel::Channel;
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
    /// A registered client application (an Open311 API key): submits and
    /// reads public views, nothing else. Never carried by a token.
    ClientApp,
}

impl Role {
    /// The roles a token (a local token, a Cognito group) may carry; a
    /// client application is known by its API key only.
    pub const ALL: [Role; 7] = [
        Role::Citizen,
        Role::Operator,
        Role::Official,
        Role::UnitAdmin,
        Role::Triage,
        Role::Inspector,
        Role::Admin,
    ];

    /// Every principal pakn knows: the token roles and client applications.
    pub const EVERY: [Role; 8] = [
        Role::Citizen,
        Role::Operator,
        Role::Official,
        Role::UnitAdmin,
        Role::Triage,
        Role::Inspector,
        Role::Admin,
        Role::ClientApp,
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
            Role::ClientApp => "client_app",
        }
    }

    /// A token role by name (never [`Role::ClientApp`]).
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Roles that belong to a unit and must name it in their token.
    pub fn needs_unit(self) -> bool {
        matches!(self, Role::Official | Role::UnitAdmin)
    }
}

/// The caller, from a verified token, and the channel the request came by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub sub: String,
    pub role: Role,
    pub unit: Option<UnitCode>,
    /// Derived from the role ([`Principal::new`]); a citizen may say `web`
    /// ([`Principal::with_channel`]).
    pub channel: Channel,
}

impl Principal {
    pub fn new(sub: impl Into<String>, role: Role, unit: Option<UnitCode>) -> Result<Self> {
        let sub = sub.into();
        if sub.trim().is_empty() || sub.len() > 128 {
            return Err(Error::unauthorized("no_subject"));
        }
        let unit = if role.needs_unit() {
            Some(unit.ok_or_else(|| Error::unauthorized("no_unit"))?)
        } else if role == Role::Triage {
            Some(UnitCode::triage())
        } else {
            unit
        };
        Ok(Principal {
            sub,
            role,
            unit,
            channel: Principal::default_channel(role),
        })
    }

    /// The channel of a role: a citizen uses the app, an operator the
    /// hotline, a client application Open311, every other role the staff
    /// console.
    pub fn default_channel(role: Role) -> Channel {
        match role {
            Role::Citizen => Channel::App,
            Role::Operator => Channel::Hotline,
            Role::ClientApp => Channel::Open311,
            _ => Channel::Console,
        }
    }

    /// The channel the request names (`X-Pakn-Channel`): a citizen may say
    /// `app` or `web`; staff cannot claim a citizen's channel, nor anyone
    /// `hotline`, `console`, `open311` or `system` (those are derived).
    pub fn with_channel(mut self, channel: Channel) -> Result<Self> {
        if self.role != Role::Citizen || !channel.is_citizens() {
            return Err(Error::invalid("X-Pakn-Channel", "invalid_channel"));
        }
        self.channel = channel;
        Ok(self)
    }

    /// A system actor for the router and the sweep (never from a token).
    pub fn system(name: &str) -> Self {
        Principal {
            sub: format!("system:{name}"),
            role: Role::Admin,
            unit: None,
            channel: Channel::System,
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
