//! Accounts, rosters and headcounts.

use super::StoreResult;
use crate::principal::Roster;
use crate::unit::UnitCode;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// A registered account (the registration drive counts them).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Account {
    pub sub: String,
    pub role: crate::principal::Role,
    /// The official's unit (none for citizens).
    pub unit: Option<UnitCode>,
    pub registered_at: DateTime<Utc>,
}

impl Account {
    /// The counters this account adds to: citizens, or officials and their unit.
    pub fn scopes(&self) -> Vec<AccountScope> {
        if self.role == crate::principal::Role::Citizen {
            return vec![AccountScope::Citizens];
        }
        let mut v = vec![AccountScope::Officials];
        if let Some(u) = &self.unit {
            v.push(AccountScope::Unit(u.clone()));
        }
        v
    }
}

/// What to count accounts over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountScope {
    Citizens,
    /// Officials and public employees (every non-citizen role).
    Officials,
    /// Officials of one unit.
    Unit(UnitCode),
}

impl AccountScope {
    /// A stable key (`citizens`, `officials`, `unit:<code>`).
    pub fn key(&self) -> String {
        match self {
            AccountScope::Citizens => "citizens".into(),
            AccountScope::Officials => "officials".into(),
            AccountScope::Unit(u) => format!("unit:{u}"),
        }
    }
}

/// What a unit's scorecard needs beside its rollups, kept as the facts
/// change (so every unit's is one read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitSummary {
    pub unit: UnitCode,
    /// Officials on the unit's roster.
    pub roster_size: usize,
    pub headcount: Option<u32>,
    /// Official accounts registered for the unit.
    pub registered_officials: i64,
    /// The unit's inspections not closed.
    pub open_inspections: i64,
}

impl UnitSummary {
    /// Nothing known about `unit`.
    pub fn empty(unit: UnitCode) -> Self {
        UnitSummary {
            unit,
            roster_size: 0,
            headcount: None,
            registered_officials: 0,
            open_inspections: 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == UnitSummary::empty(self.unit.clone())
    }
}

#[async_trait]
pub trait PeopleStore: Send + Sync {
    async fn get_roster(&self, unit: &UnitCode) -> StoreResult<Roster>;
    async fn put_roster(&self, unit: &UnitCode, roster: &Roster) -> StoreResult<()>;
    async fn get_headcount(&self, unit: &UnitCode) -> StoreResult<Option<u32>>;
    async fn put_headcount(&self, unit: &UnitCode, staff: u32) -> StoreResult<()>;
    /// Register an account once (and count it in each of its scopes); `true` if new.
    async fn register_account(&self, a: &Account) -> StoreResult<bool>;
    async fn count_accounts(&self, scope: &AccountScope) -> StoreResult<i64>;
    /// One unit's summary (zeros and no headcount when nothing is known).
    async fn unit_summary(&self, unit: &UnitCode) -> StoreResult<UnitSummary>;
    /// Every unit with anything in its summary, by unit code: one read
    /// (DynamoDB: one item collection, a query).
    async fn unit_summaries(&self) -> StoreResult<Vec<UnitSummary>>;
}
