//! The once-a-day unit checks, from `digest_hour_local` on each working
//! day: a digest of each unit's overdue cases, and unit inspections for a
//! missing roster after the grace period, a low on-time rate and a missed
//! registration campaign. Every decision is a put-if-absent, so a crash
//! mid-way is finished by the next sweep; a marker written last keeps later
//! sweeps that day cheap.
//!
//! Each unit is checked on its own: a store failure on one unit is logged
//! and the pass goes on with the next, so a fault never starves the units
//! after it (the failure drills showed a city's 137 units at 5 % store
//! faults: most wards never got their day's digest, each pass stopping at
//! the first failure). A pass that could not check every unit records the
//! units it finished (`daily:<date>:<unit>`) and that the day is partial
//! (`daily:<date>:partial`); the next passes skip those units, so the day
//! ends once each unit was checked once. A day without failures writes
//! only the day's marker, as before.

use crate::error::Result;
use crate::notify::{Audience, Notification, event};
use crate::oversight::inspections::Inspections;
use crate::ports::{AccountScope, CaseQuery, CaseStore, Clock, Ledger, PeopleStore, StatsStore};
use crate::refdata::RefData;
use crate::stats;
use crate::unit::UnitCode;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct DailyReport {
    pub ran: bool,
    pub digests: usize,
    pub unit_inspections: usize,
    /// Units whose checks failed this pass (logged; tried again next pass).
    pub failed_units: usize,
}

/// The daily checks over the ports they need.
pub struct Daily<'a> {
    pub cases: &'a dyn CaseStore,
    pub ledger: &'a dyn Ledger,
    pub people: &'a dyn PeopleStore,
    pub stats: &'a dyn StatsStore,
    pub inspections: &'a Inspections<'a>,
    pub clock: &'a dyn Clock,
    pub refdata: &'a RefData,
}

/// What every unit's checks of one day share.
struct Day {
    now: DateTime<Utc>,
    today: NaiveDate,
    roster_deadline: DateTime<Utc>,
    window_from: NaiveDate,
    month: String,
}

impl Daily<'_> {
    /// Once per local working day, from `digest_hour_local`: a digest of each
    /// unit's overdue cases, and unit inspections for missing rosters, low
    /// on-time rates and missed registration targets. Every decision is a
    /// put-if-absent, so a crash mid-way is finished by the next sweep; a
    /// unit whose checks fail is left for the next pass while the others go
    /// on (see the module docs); a marker written last keeps later sweeps
    /// that day cheap.
    pub async fn run(&self) -> Result<DailyReport> {
        let now = self.clock.now();
        let cal = &self.refdata.calendar;
        let local = now.with_timezone(&cal.offset());
        let today = local.date_naive();
        let p = &self.refdata.policy;
        if !cal.is_working_day(today) || local.hour() < p.digest_hour_local {
            return Ok(DailyReport::default());
        }
        let marker = format!("daily:{today}");
        if self.ledger.get_marker(&marker).await? {
            return Ok(DailyReport::default());
        }
        let roster_deadline = cal
            .add_working_minutes(
                cal.local_midnight(p.roster_required_from),
                p.roster_grace_working_days as i64 * cal.minutes_per_day(),
            )
            .unwrap_or(now);
        let window_from = today - Duration::days(p.on_time_window_days as i64);
        let month = format!("{:04}-{:02}", today.year(), today.month());
        let day = Day {
            now,
            today,
            roster_deadline,
            window_from,
            month,
        };
        // An earlier pass today left markers for the units it finished.
        let partial = format!("{marker}:partial");
        let resumed = self.ledger.get_marker(&partial).await?;
        let mut report = DailyReport {
            ran: true,
            ..Default::default()
        };
        let mut finished = Vec::new();
        for u in self.refdata.units.values() {
            if u.unit_type == "city" {
                continue;
            }
            let unit_marker = format!("{marker}:{}", u.code);
            // The marker only saves work: when it cannot be read, check again.
            let done = resumed && self.ledger.get_marker(&unit_marker).await.unwrap_or(false);
            let checked = if done {
                Ok(None)
            } else {
                self.unit(&u.code, &day).await.map(Some)
            };
            match checked {
                Ok(Some((digests, inspections))) => {
                    report.digests += digests;
                    report.unit_inspections += inspections;
                    finished.push(unit_marker);
                }
                Ok(None) => {}
                Err(e) => {
                    report.failed_units += 1;
                    tracing::warn!(unit = %u.code, error = %e, "daily checks: unit left for the next pass");
                }
            }
        }
        if report.failed_units == 0 {
            self.ledger.put_marker(&marker).await?;
        } else {
            // The units finished here are skipped by the next passes today
            // (a marker lost here only means checking that unit again).
            for m in &finished {
                if let Err(e) = self.ledger.put_marker(m).await {
                    tracing::warn!(marker = %m, error = %e, "daily checks: unit marker not written");
                }
            }
            self.ledger.put_marker(&partial).await?;
        }
        Ok(report)
    }

    /// One unit's checks; how many digests and inspections it decided now.
    async fn unit(&self, code: &UnitCode, day: &Day) -> Result<(usize, usize)> {
        let (now, today, month) = (day.now, day.today, &day.month);
        let p = &self.refdata.policy;
        let (mut digests, mut inspections) = (0, 0);
        // Digest of overdue cases.
        let q = CaseQuery {
            unit: Some(code.clone()),
            overdue_at: Some(now),
            limit: 200,
            ..Default::default()
        };
        let overdue = self.cases.list_cases(&q).await?.cases;
        if !overdue.is_empty() {
            let items: Vec<_> = overdue
                .iter()
                .map(|c| {
                    let days = c.resolve_due.map(|d| (now - d).num_hours() as f64 / 24.0).unwrap_or(0.0);
                    json!({"case_id": c.id, "tracking_code": c.tracking_code, "title": c.title,
                           "resolve_due": c.resolve_due, "days_overdue": (days * 10.0).round() / 10.0})
                })
                .collect();
            let n = Notification {
                dedup_id: format!("digest:{code}:{today}"),
                event: event::OVERDUE_DIGEST.into(),
                unit: code.to_string(),
                urgency: "normal".into(),
                audience: vec![Audience::Unit],
                case_id: None,
                body: crate::notify::versioned(
                    json!({"unit": code, "date": today, "overdue": items.len(), "cases": items}),
                ),
                created_at: now,
            };
            if self.ledger.decide_once(&n).await? {
                digests += 1;
            }
        }
        let (open, _) = self.stats.count_open(Some(code), now).await?;
        // A unit holding cases with no roster, after the grace period.
        if open > 0
            && now > day.roster_deadline
            && self.people.get_roster(code).await?.officials.is_empty()
        {
            let id = format!("unit-{code}-empty_roster-{month}");
            if self
                .inspections
                .open_unit_inspection(code, id, "empty_roster", json!({"open_cases": open}))
                .await?
            {
                inspections += 1;
            }
        }
        // On-time rate over the window.
        let r = stats::sum(
            &self
                .stats
                .rollups(code.as_str(), day.window_from, today + Duration::days(1))
                .await?,
        );
        let s = stats::figures(day.window_from, today, None, &r, None);
        if s.resolved >= p.min_resolved_for_ranking as i64
            && s.on_time_rate.is_some_and(|x| x < p.low_on_time_rate)
        {
            let id = format!("unit-{code}-low_on_time_rate-{month}");
            let d = json!({"resolved": s.resolved, "on_time_rate": s.on_time_rate, "threshold": p.low_on_time_rate, "window_days": p.on_time_window_days});
            if self
                .inspections
                .open_unit_inspection(code, id, "low_on_time_rate", d)
                .await?
            {
                inspections += 1;
            }
        }
        // Registration campaigns past their deadline.
        for c in p.campaigns.iter().filter(|c| today > c.deadline) {
            let Some(h) = self.people.get_headcount(code).await?.filter(|h| *h > 0) else {
                continue;
            };
            let reg = self
                .people
                .count_accounts(&AccountScope::Unit(code.clone()))
                .await?;
            let rate = reg as f64 / h as f64;
            if rate < c.target_rate {
                let id = format!("unit-{code}-registration-{}", c.id);
                let d = json!({"campaign": c.id, "registered": reg, "headcount": h, "rate": rate, "target": c.target_rate});
                if self
                    .inspections
                    .open_unit_inspection(code, id, "registration_below_target", d)
                    .await?
                {
                    inspections += 1;
                }
            }
        }
        Ok((digests, inspections))
    }
}
