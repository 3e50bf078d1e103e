//! Accounts and the registration drive, rosters and headcounts: the
//! people side of accountability (CONTRACT.md "Who may do what": roster,
//! headcount of a unit).

use crate::auth::{self, Official, Permission, Principal, Roster, Target};
use crate::error::{Error, Result};
use crate::ports::{Account, AccountScope, Clock, PeopleStore, UnitSummary};
use crate::refdata::RefData;
use crate::unit::UnitCode;
use serde::Serialize;

/// The most officials a roster lists.
pub const MAX_ROSTER: usize = 2000;
/// The largest headcount a unit may report.
pub const MAX_HEADCOUNT: u32 = 1_000_000;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitRegistration {
    pub unit: String,
    pub name_vi: String,
    pub headcount: Option<u32>,
    pub registered: i64,
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CampaignStatus {
    pub campaign: crate::category::Campaign,
    pub ended: bool,
    /// Units with a headcount below the target.
    pub units_below_target: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegistrationReport {
    pub citizen_accounts: i64,
    pub official_accounts: i64,
    /// Registered officials / headcount over units that reported a headcount.
    pub city_rate: Option<f64>,
    pub units: Vec<UnitRegistration>,
    pub campaigns: Vec<CampaignStatus>,
}

/// Accounts, rosters and headcounts over the ports they need.
pub struct People<'a> {
    pub people: &'a dyn PeopleStore,
    pub clock: &'a dyn Clock,
    pub refdata: &'a RefData,
}

impl People<'_> {
    /// Register the caller's account (idempotent). Officials count toward their unit.
    pub async fn register_account(&self, p: &Principal) -> Result<bool> {
        let account = Account {
            sub: p.sub.clone(),
            role: p.role,
            unit: p.unit.clone(),
            registered_at: self.clock.now(),
        };
        Ok(self.people.register_account(&account).await?)
    }

    /// The registration drive: one read of the unit summaries (and the two
    /// city-wide counters), never a read per unit.
    pub async fn registration(&self) -> Result<RegistrationReport> {
        let citizens = self.people.count_accounts(&AccountScope::Citizens).await?;
        let officials = self.people.count_accounts(&AccountScope::Officials).await?;
        let today = self.refdata.calendar.local_date(self.clock.now());
        let summaries: std::collections::BTreeMap<UnitCode, UnitSummary> = self
            .people
            .unit_summaries()
            .await?
            .into_iter()
            .map(|s| (s.unit.clone(), s))
            .collect();
        let mut units = Vec::new();
        let (mut reg_sum, mut head_sum) = (0i64, 0i64);
        for u in self.refdata.units.values() {
            let Some(s) = summaries.get(&u.code) else {
                continue;
            };
            let (headcount, registered) = (s.headcount, s.registered_officials);
            if headcount.is_none() && registered == 0 {
                continue;
            }
            if let Some(h) = headcount.filter(|h| *h > 0) {
                reg_sum += registered.min(h as i64);
                head_sum += h as i64;
            }
            let rate = headcount
                .filter(|h| *h > 0)
                .map(|h| registered as f64 / h as f64);
            units.push(UnitRegistration {
                unit: u.code.to_string(),
                name_vi: u.name_vi.clone(),
                headcount,
                registered,
                rate,
            });
        }
        let campaigns = self
            .refdata
            .policy
            .campaigns
            .iter()
            .map(|c| CampaignStatus {
                campaign: c.clone(),
                ended: today > c.deadline,
                units_below_target: units
                    .iter()
                    .filter(|u| u.rate.is_some_and(|r| r < c.target_rate))
                    .map(|u| u.unit.clone())
                    .collect(),
            })
            .collect();
        Ok(RegistrationReport {
            citizen_accounts: citizens,
            official_accounts: officials,
            city_rate: (head_sum > 0).then(|| reg_sum as f64 / head_sum as f64),
            units,
            campaigns,
        })
    }

    fn known_unit(&self, unit: &UnitCode) -> Result<()> {
        if self.refdata.unit(unit).is_some() {
            Ok(())
        } else {
            Err(Error::not_found())
        }
    }

    pub async fn get_roster(&self, p: &Principal, unit: &UnitCode) -> Result<Roster> {
        self.known_unit(unit)?;
        auth::require(p, Permission::ReadRoster, Target::Unit(unit))?;
        Ok(self.people.get_roster(unit).await?)
    }

    /// Replace the roster (officials already shape-checked by the edge).
    pub async fn put_roster(
        &self,
        p: &Principal,
        unit: &UnitCode,
        officials: Vec<Official>,
    ) -> Result<Roster> {
        self.known_unit(unit)?;
        auth::require(p, Permission::WriteRoster, Target::Unit(unit))?;
        let roster = Roster {
            officials,
            updated_at: Some(self.clock.now()),
            updated_by: Some(p.sub.clone()),
        };
        self.people.put_roster(unit, &roster).await?;
        Ok(roster)
    }

    pub async fn get_headcount(&self, p: &Principal, unit: &UnitCode) -> Result<Option<u32>> {
        self.known_unit(unit)?;
        auth::require(p, Permission::ReadRoster, Target::Unit(unit))?;
        Ok(self.people.get_headcount(unit).await?)
    }

    pub async fn put_headcount(&self, p: &Principal, unit: &UnitCode, staff: u32) -> Result<u32> {
        self.known_unit(unit)?;
        auth::require(p, Permission::WriteRoster, Target::Unit(unit))?;
        self.people.put_headcount(unit, staff).await?;
        Ok(staff)
    }
}
