//! What was published for a unit and when (`GET /v1/units/{code}/notifications`):
//! a ward that says "we were never told" is answered from the record (the
//! outbox), read in one bounded query on a unit-keyed index.

use crate::auth::{self, Permission, Principal, Target};
use crate::error::{Error, Result};
use crate::notify::Audience;
use crate::ports::Ledger;
use crate::refdata::RefData;
use crate::reporting::Period;
use crate::unit::UnitCode;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The most notifications one answer lists (`truncated` says there were more).
pub const MAX_UNIT_NOTIFICATIONS: usize = 1000;

/// One notification decided for the unit.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitNotification {
    pub event: String,
    pub dedup_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
    pub audience: Vec<Audience>,
    pub urgency: String,
    /// When pakn decided it (the outbox entry was written).
    pub decided_at: DateTime<Utc>,
    /// When the notifier acknowledged it; `null` while it is still pending.
    pub published_at: Option<DateTime<Utc>>,
    /// The message body as published (see `GET /v1/events/schemas`).
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitNotifications {
    pub unit: String,
    /// `[from, to)` in UTC (the local days asked for).
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub items: Vec<UnitNotification>,
    /// More than [`MAX_UNIT_NOTIFICATIONS`] in the period: ask for a shorter one.
    pub truncated: bool,
}

/// The use case over the one port it needs.
pub struct Notifications<'a> {
    pub ledger: &'a dyn Ledger,
    pub refdata: &'a RefData,
}

impl Notifications<'_> {
    /// The unit's notifications decided in `period` (local days), oldest first.
    /// Unknown unit: `404`; not its staff, an inspector or an admin: `403`.
    pub async fn for_unit(
        &self,
        p: &Principal,
        unit: &UnitCode,
        period: Period,
    ) -> Result<UnitNotifications> {
        if self.refdata.unit(unit).is_none() {
            return Err(Error::not_found());
        }
        auth::require(p, Permission::ReadUnitNotifications, Target::Unit(unit))?;
        let cal = &self.refdata.calendar;
        let (from, to) = (
            cal.local_midnight(period.from()),
            cal.local_midnight(period.to()),
        );
        let mut sent = self
            .ledger
            .notifications_for_unit(unit.as_str(), from, to, MAX_UNIT_NOTIFICATIONS + 1)
            .await?;
        let truncated = sent.len() > MAX_UNIT_NOTIFICATIONS;
        sent.truncate(MAX_UNIT_NOTIFICATIONS);
        let items = sent
            .into_iter()
            .map(|(n, published_at)| UnitNotification {
                event: n.event,
                dedup_id: n.dedup_id,
                case_id: n.case_id.map(|c| c.to_string()),
                audience: n.audience,
                urgency: n.urgency,
                decided_at: n.created_at,
                published_at,
                body: n.body,
            })
            .collect();
        Ok(UnitNotifications {
            unit: unit.to_string(),
            from,
            to,
            items,
            truncated,
        })
    }
}
