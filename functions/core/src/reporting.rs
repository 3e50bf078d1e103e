//! Reporting: the public figures for a period (city-wide or one unit) and
//! the scorecards Home Affairs ranks units by. Figures come from daily
//! rollups and snapshots (`crate::aggregate`) and the unit summaries the
//! stores keep, never from scanning cases or reading unit by unit.

use crate::aggregate::{Aggregates, PeriodTotals, Scope};
use crate::auth::{self, Permission, Principal, Target};
use crate::error::{Error, Result};
use crate::ports::{AccountScope, Clock, PeopleStore, StatsStore, UnitSummary};
use crate::refdata::RefData;
use crate::scorecard::{self, Scorecard, UnitFacts};
use crate::stats::{self, ALL, Stats};
use crate::unit::{Unit, UnitCode};
use chrono::NaiveDate;
use std::collections::BTreeMap;

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
    pub clock: &'a dyn Clock,
    pub refdata: &'a RefData,
}

impl Reporting<'_> {
    fn aggregates(&self) -> Aggregates<'_> {
        Aggregates {
            stats: self.stats,
            refdata: self.refdata,
        }
    }

    /// Figures for a period, city-wide or for one unit: a few reads, however
    /// many units and cases (see `crate::aggregate`).
    pub async fn stats(&self, period: Period, unit: Option<&UnitCode>) -> Result<Stats> {
        let (from, to) = (period.from, period.to);
        if let Some(u) = unit {
            if self.refdata.unit(u).is_none() {
                return Err(Error::invalid("unit", "unknown_unit").with("unit", u));
            }
        }
        let scope = unit.map(Scope::Unit).unwrap_or(Scope::City);
        let t = self
            .aggregates()
            .period(from, to, scope, self.clock.now())
            .await?;
        let key = unit.map(|u| u.to_string()).unwrap_or_else(|| ALL.into());
        Ok(stats::figures(
            from,
            to,
            unit.map(|u| u.to_string()),
            &t.sum(&key),
            t.levels(&key),
        ))
    }

    /// Every unit's public figures for a period, ranked like the
    /// scorecards (units under the minimum sample listed, not ranked): the
    /// period's aggregates of every unit at once, never a read per unit.
    pub async fn unit_stats(&self, period: Period) -> Result<UnitStatsList> {
        let (from, to) = (period.from, period.to);
        let t = self
            .aggregates()
            .period(from, to, Scope::Units, self.clock.now())
            .await?;
        let mut items: Vec<UnitStats> = self
            .refdata
            .units
            .values()
            .filter(|u| u.unit_type != "city")
            .map(|u| {
                let key = u.code.to_string();
                UnitStats {
                    rank: None,
                    name_vi: u.name_vi.clone(),
                    name_en: u.name_en.clone(),
                    unit_type: u.unit_type.clone(),
                    stats: stats::figures(
                        from,
                        to,
                        Some(key.clone()),
                        &t.sum(&key),
                        t.levels(&key),
                    ),
                }
            })
            .collect();
        let min = self.refdata.policy.min_resolved_for_ranking;
        scorecard::rank(&mut items, min);
        Ok(UnitStatsList {
            from,
            to,
            min_resolved_for_ranking: min,
            items,
        })
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

    fn card(
        u: &Unit,
        period: Period,
        t: &PeriodTotals,
        summary: Option<&UnitSummary>,
    ) -> Scorecard {
        let key = u.code.to_string();
        let facts = UnitFacts {
            open: t.levels(&key),
            roster_size: summary.map(|s| s.roster_size).unwrap_or(0),
            headcount: summary.and_then(|s| s.headcount),
            registered_officials: summary.map(|s| s.registered_officials).unwrap_or(0),
            open_inspections: summary
                .map(|s| s.open_inspections.max(0) as usize)
                .unwrap_or(0),
        };
        scorecard::build(u, period.from, period.to, &t.sum(&key), &facts)
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
        let t = self
            .aggregates()
            .period(period.from, period.to, Scope::Unit(unit), self.clock.now())
            .await?;
        let summary = self.people.unit_summary(unit).await?;
        Ok(Self::card(u, period, &t, Some(&summary)))
    }

    /// Every unit's scorecard, ranked (inspectors, admins); a unit's own
    /// staff get their own row. Every unit's at once: the period's
    /// aggregates and the unit summaries, never a read per unit.
    pub async fn scorecards(&self, p: &Principal, period: Period) -> Result<Vec<Scorecard>> {
        if !auth::decide(p, Permission::ReadAllScorecards, Target::Nothing) {
            return match &p.unit {
                Some(own) if auth::decide(p, Permission::ReadScorecard, Target::Unit(own)) => {
                    Ok(vec![self.scorecard(p, own, period).await?])
                }
                _ => Err(Error::forbidden()),
            };
        }
        let t = self
            .aggregates()
            .period(period.from, period.to, Scope::Units, self.clock.now())
            .await?;
        let summaries: BTreeMap<UnitCode, UnitSummary> = self
            .people
            .unit_summaries()
            .await?
            .into_iter()
            .map(|s| (s.unit.clone(), s))
            .collect();
        let mut cards: Vec<Scorecard> = self
            .refdata
            .units
            .values()
            .filter(|u| u.unit_type != "city")
            .map(|u| Self::card(u, period, &t, summaries.get(&u.code)))
            .collect();
        scorecard::rank(&mut cards, self.refdata.policy.min_resolved_for_ranking);
        Ok(cards)
    }
}

/// One unit's public figures in the league table (`GET /v1/stats/units`).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct UnitStats {
    /// By on-time rate among the units that resolved at least
    /// `min_resolved_for_ranking` cases; null for the others (listed after).
    pub rank: Option<u32>,
    pub name_vi: String,
    pub name_en: String,
    /// `office`, `department`, `utility`, `ward` or `commune`.
    pub unit_type: String,
    #[serde(flatten)]
    pub stats: Stats,
}

impl scorecard::Ranked for UnitStats {
    fn unit(&self) -> &str {
        self.stats.unit.as_deref().unwrap_or_default()
    }
    fn resolved(&self) -> i64 {
        self.stats.resolved
    }
    fn on_time_rate(&self) -> Option<f64> {
        self.stats.on_time_rate
    }
    fn set_rank(&mut self, rank: Option<u32>) {
        self.rank = rank;
    }
}

/// Every unit's public figures for `[from, to)`.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct UnitStatsList {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Units that resolved fewer cases than this are listed but not ranked.
    pub min_resolved_for_ranking: u32,
    /// Ranked units first (by on-time rate), then the others by code.
    pub items: Vec<UnitStats>,
}
