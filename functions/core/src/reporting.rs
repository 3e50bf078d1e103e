//! Reporting: the public figures for a period (city-wide or one unit) and
//! the scorecards Home Affairs ranks units by. Figures come from daily
//! rollups, never from scanning cases.

use crate::auth::{self, Permission, Principal, Target};
use crate::error::{Error, Result};
use crate::ports::{AccountScope, Clock, InspectionStore, PeopleStore, StatsStore};
use crate::refdata::RefData;
use crate::scorecard::{self, Scorecard, UnitFacts};
use crate::stats::{self, ALL, Stats};
use crate::unit::UnitCode;
use chrono::NaiveDate;

/// The longest period asked about, in days (a leap year).
pub const MAX_PERIOD_DAYS: i64 = 366;
/// The years pakn answers about: 2000 to 2100.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// Local days `[from, to)`: `to` after `from`, at most [`MAX_PERIOD_DAYS`],
/// both within [`YEARS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    from: NaiveDate,
    to: NaiveDate,
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period> {
        use chrono::Datelike;
        if !YEARS.contains(&from.year()) || !YEARS.contains(&to.year()) {
            return Err(Error::invalid("from", "invalid_period").with("expected", "years"));
        }
        if to <= from || (to - from).num_days() > MAX_PERIOD_DAYS {
            return Err(Error::invalid("to", "invalid_period"));
        }
        Ok(Period { from, to })
    }

    pub fn from(&self) -> NaiveDate {
        self.from
    }

    pub fn to(&self) -> NaiveDate {
        self.to
    }
}

/// Reporting over the ports it needs.
pub struct Reporting<'a> {
    pub stats: &'a dyn StatsStore,
    pub people: &'a dyn PeopleStore,
    pub inspections: &'a dyn InspectionStore,
    pub clock: &'a dyn Clock,
    pub refdata: &'a RefData,
}

impl Reporting<'_> {
    fn today(&self) -> NaiveDate {
        self.refdata.calendar.local_date(self.clock.now())
    }

    /// Figures for a period, city-wide or for one unit.
    pub async fn stats(&self, period: Period, unit: Option<&UnitCode>) -> Result<Stats> {
        let (from, to) = (period.from, period.to);
        if let Some(u) = unit {
            if self.refdata.unit(u).is_none() {
                return Err(Error::invalid("unit", "unknown_unit").with("unit", u));
            }
        }
        let scope = unit
            .map(|u| u.to_string())
            .unwrap_or_else(|| ALL.to_string());
        let rows = self.stats.rollups(&scope, from, to).await?;
        let total = stats::sum(&rows);
        let open = if to > self.today() {
            Some(self.stats.count_open(unit, self.clock.now()).await?)
        } else {
            None
        };
        Ok(stats::figures(
            from,
            to,
            unit.map(|u| u.to_string()),
            &total,
            open,
        ))
    }

    /// Citizen accounts for the public stats (city-wide only).
    pub async fn citizen_accounts(&self, unit: Option<&UnitCode>) -> Result<Option<i64>> {
        if unit.is_some() {
            return Ok(None);
        }
        Ok(Some(
            self.people.count_accounts(&AccountScope::Citizens).await?,
        ))
    }

    async fn unit_facts(&self, unit: &UnitCode, to: NaiveDate) -> Result<UnitFacts> {
        let open = if to > self.today() {
            Some(self.stats.count_open(Some(unit), self.clock.now()).await?)
        } else {
            None
        };
        Ok(UnitFacts {
            open,
            roster_size: self.people.get_roster(unit).await?.officials.len(),
            headcount: self.people.get_headcount(unit).await?,
            registered_officials: self
                .people
                .count_accounts(&AccountScope::Unit(unit.clone()))
                .await?,
            open_inspections: self
                .inspections
                .list_inspections(None, Some(unit))
                .await?
                .iter()
                .filter(|i| i.status != "closed")
                .count(),
        })
    }

    /// One unit's scorecard (its own officials, inspectors, admins).
    pub async fn scorecard(
        &self,
        p: &Principal,
        unit: &UnitCode,
        period: Period,
    ) -> Result<Scorecard> {
        let u = self.refdata.unit(unit).ok_or_else(Error::not_found)?;
        auth::require(p, Permission::ReadScorecard, Target::Unit(unit))?;
        let r = stats::sum(
            &self
                .stats
                .rollups(unit.as_str(), period.from, period.to)
                .await?,
        );
        let facts = self.unit_facts(unit, period.to).await?;
        Ok(scorecard::build(u, period.from, period.to, &r, &facts))
    }

    /// Every unit's scorecard, ranked (inspectors, admins); a unit's own
    /// staff get their own row.
    pub async fn scorecards(&self, p: &Principal, period: Period) -> Result<Vec<Scorecard>> {
        let units: Vec<UnitCode> =
            if auth::decide(p, Permission::ReadAllScorecards, Target::Nothing) {
                self.refdata
                    .units
                    .values()
                    .filter(|u| u.unit_type != "city")
                    .map(|u| u.code.clone())
                    .collect()
            } else {
                match &p.unit {
                    Some(own) if auth::decide(p, Permission::ReadScorecard, Target::Unit(own)) => {
                        vec![own.clone()]
                    }
                    _ => return Err(Error::forbidden()),
                }
            };
        let mut cards = Vec::with_capacity(units.len());
        for u in &units {
            cards.push(self.scorecard(p, u, period).await?);
        }
        scorecard::rank(&mut cards, self.refdata.policy.min_resolved_for_ranking);
        Ok(cards)
    }
}
