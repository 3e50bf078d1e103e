//! Through which channel a change reached pakn (CONTRACT.md "Channels"):
//! recorded on every timeline entry and on every audit record, so the audit
//! trail (`GET /v1/cases/{id}/audit`) says not only who acted but from
//! where.
//!
//! The channel is derived, never taken on trust: the router and the sweep
//! are `system`; a hotline operator is `hotline`; other staff work in the
//! `console`; a citizen is `app` unless the request says `web` (see
//! [`crate::principal::Principal::with_channel`]). An Open311 client
//! application (an API key) is `open311`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The citizens' mobile app.
    App,
    /// The citizens' web site.
    Web,
    /// The staff console (officials, unit admins, triage, inspectors, admins).
    Console,
    /// The 1022 hotline: an operator entering a caller's report.
    Hotline,
    /// An Open311 GeoReport v2 client application.
    Open311,
    /// pakn itself: the router, the deadline sweep, the retention sweep.
    System,
}

impl Channel {
    pub const ALL: [Channel; 6] = [
        Channel::App,
        Channel::Web,
        Channel::Console,
        Channel::Hotline,
        Channel::Open311,
        Channel::System,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::App => "app",
            Channel::Web => "web",
            Channel::Console => "console",
            Channel::Hotline => "hotline",
            Channel::Open311 => "open311",
            Channel::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// A channel a citizen may name for themselves.
    pub fn is_citizens(self) -> bool {
        matches!(self, Channel::App | Channel::Web)
    }
}
