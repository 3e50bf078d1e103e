//! Working time for official deadlines.
//!
//! Vietnam counts deadlines in working hours: office periods (default
//! 08:00–12:00 and 13:00–17:00) on working days (Monday–Friday) in
//! Asia/Ho_Chi_Minh (UTC+07:00, no DST), skipping public holidays and
//! honouring announced swaps (a weekday off, a Saturday worked). All times in
//! and out are UTC; the calendar converts to local time internally.
//!
//! A deadline that uses up a period exactly ends at the end of that period
//! (8 working hours from Monday 08:00 is Monday 17:00, not Tuesday 08:00).

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc, Weekday,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// How a duration is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// Office hours on working days.
    #[default]
    Working,
    /// Wall-clock hours, day and night (urgent reports).
    Calendar,
}

/// The working-time calendar. Build it with [`WorkingCalendar::new`].
#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    offset: FixedOffset,
    /// Office periods as (start, end) minutes after local midnight, sorted, disjoint.
    periods: Vec<(u32, u32)>,
    weekdays: [bool; 7],
    days_off: BTreeSet<NaiveDate>,
    extra_working: BTreeSet<NaiveDate>,
}

/// How far ahead (in days) a deadline search may look before giving up; a
/// calendar with no working day for ten years is a configuration error.
const HORIZON_DAYS: i64 = 3660;

impl WorkingCalendar {
    pub fn new(
        utc_offset_hours: i32,
        periods: Vec<(NaiveTime, NaiveTime)>,
        weekdays: &[Weekday],
        days_off: impl IntoIterator<Item = NaiveDate>,
        extra_working: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<Self, String> {
        let offset = FixedOffset::east_opt(utc_offset_hours * 3600).ok_or("bad UTC offset")?;
        let mut ps: Vec<(u32, u32)> = periods
            .iter()
            .map(|(a, b)| (minutes_of(*a), minutes_of(*b)))
            .collect();
        ps.sort();
        if ps.is_empty() {
            return Err("at least one office period is needed".into());
        }
        for w in ps.windows(2) {
            if w[0].1 > w[1].0 {
                return Err("office periods overlap".into());
            }
        }
        if ps.iter().any(|(a, b)| a >= b) {
            return Err("an office period ends before it starts".into());
        }
        let mut wd = [false; 7];
        for d in weekdays {
            wd[d.num_days_from_monday() as usize] = true;
        }
        if !wd.iter().any(|x| *x) {
            return Err("at least one working weekday is needed".into());
        }
        Ok(WorkingCalendar {
            offset,
            periods: ps,
            weekdays: wd,
            days_off: days_off.into_iter().collect(),
            extra_working: extra_working.into_iter().collect(),
        })
    }

    /// The Vietnamese default: UTC+7, 08–12 and 13–17, Mon–Fri, no holidays.
    pub fn vietnam_default() -> Self {
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        WorkingCalendar::new(
            7,
            vec![(t(8), t(12)), (t(13), t(17))],
            &[
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            [],
            [],
        )
        .expect("default calendar is valid")
    }

    pub fn offset(&self) -> FixedOffset {
        self.offset
    }

    /// Add days off (e.g. a swap announced after the data file was written).
    pub fn add_days_off(&mut self, days: impl IntoIterator<Item = NaiveDate>) {
        self.days_off.extend(days);
    }

    /// Add extra working days (a Saturday worked in exchange for a day off).
    pub fn add_extra_working_days(&mut self, days: impl IntoIterator<Item = NaiveDate>) {
        self.extra_working.extend(days);
    }

    /// Working minutes in one office day.
    pub fn minutes_per_day(&self) -> i64 {
        self.periods.iter().map(|(a, b)| (b - a) as i64).sum()
    }

    /// The instant local midnight begins day `d`.
    pub fn local_midnight(&self, d: NaiveDate) -> DateTime<Utc> {
        let off = self.offset().local_minus_utc() as i64;
        d.and_time(NaiveTime::MIN)
            .checked_sub_signed(Duration::seconds(off))
            .unwrap_or(chrono::NaiveDateTime::MIN)
            .and_utc()
    }

    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.offset).date_naive()
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.extra_working.contains(&d) {
            return true;
        }
        if self.days_off.contains(&d) {
            return false;
        }
        self.weekdays[d.weekday().num_days_from_monday() as usize]
    }

    fn at(&self, d: NaiveDate, minute: u32) -> DateTime<Utc> {
        let naive = d.and_hms_opt(0, 0, 0).unwrap() + Duration::minutes(minute as i64);
        self.offset
            .from_local_datetime(&naive)
            .single()
            .expect("fixed offsets are unambiguous")
            .with_timezone(&Utc)
    }

    /// The instant `minutes` working minutes after `start`. `None` only if the
    /// calendar has no working time within ten years (misconfiguration).
    /// Sub-second parts of `start` are kept (arithmetic in nanoseconds).
    pub fn add_working_minutes(&self, start: DateTime<Utc>, minutes: i64) -> Option<DateTime<Utc>> {
        let local = start.with_timezone(&self.offset);
        let mut day = local.date_naive();
        let mut from = nanos_of_day(local.time());
        // With nothing to add, the answer is the first office instant at or after `start`.
        let mut remaining = minutes.max(0) * 60 * NANOS;
        for _ in 0..HORIZON_DAYS {
            if self.is_working_day(day) {
                for &(a, b) in &self.periods {
                    let (a, b) = (a as i64 * 60 * NANOS, b as i64 * 60 * NANOS);
                    let s = from.max(a);
                    if s >= b {
                        continue;
                    }
                    let avail = b - s;
                    if remaining <= avail {
                        return Some(self.at(day, 0) + Duration::nanoseconds(s + remaining));
                    }
                    remaining -= avail;
                }
            }
            day = day.succ_opt()?;
            from = 0;
        }
        None
    }

    /// The latest instant `t` with exactly `minutes` working minutes in [t, end].
    pub fn sub_working_minutes(&self, end: DateTime<Utc>, minutes: i64) -> Option<DateTime<Utc>> {
        if minutes <= 0 {
            return Some(end);
        }
        let local = end.with_timezone(&self.offset);
        let mut day = local.date_naive();
        let mut to = nanos_of_day(local.time());
        let mut remaining = minutes * 60 * NANOS;
        for _ in 0..HORIZON_DAYS {
            if self.is_working_day(day) {
                for &(a, b) in self.periods.iter().rev() {
                    let (a, b) = (a as i64 * 60 * NANOS, b as i64 * 60 * NANOS);
                    let e = to.min(b);
                    if e <= a {
                        continue;
                    }
                    let avail = e - a;
                    if remaining <= avail {
                        return Some(self.at(day, 0) + Duration::nanoseconds(e - remaining));
                    }
                    remaining -= avail;
                }
            }
            day = day.pred_opt()?;
            to = DAY_NANOS;
        }
        None
    }

    pub fn add_working_hours(&self, start: DateTime<Utc>, hours: f64) -> Option<DateTime<Utc>> {
        self.add_working_minutes(start, (hours * 60.0).round() as i64)
    }

    /// Working seconds between two instants (0 if `to <= from`), rounded down.
    pub fn working_seconds_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        self.working_nanos_between(from, to) / NANOS
    }

    fn working_nanos_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to <= from {
            return 0;
        }
        let lf = from.with_timezone(&self.offset);
        let lt = to.with_timezone(&self.offset);
        let mut total = 0i64;
        let mut day = lf.date_naive();
        let last = lt.date_naive();
        while day <= last {
            if self.is_working_day(day) {
                let lo = if day == lf.date_naive() {
                    nanos_of_day(lf.time())
                } else {
                    0
                };
                let hi = if day == last {
                    nanos_of_day(lt.time())
                } else {
                    DAY_NANOS
                };
                for &(a, b) in &self.periods {
                    let s = (a as i64 * 60 * NANOS).max(lo);
                    let e = (b as i64 * 60 * NANOS).min(hi);
                    if e > s {
                        total += e - s;
                    }
                }
            }
            match day.succ_opt() {
                Some(d) => day = d,
                None => break,
            }
        }
        total
    }

    pub fn working_hours_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
        self.working_nanos_between(from, to) as f64 / 3600.0 / NANOS as f64
    }

    /// `start` plus an amount on the given clock.
    pub fn add(&self, start: DateTime<Utc>, hours: f64, clock: ClockKind) -> Option<DateTime<Utc>> {
        match clock {
            ClockKind::Working => self.add_working_hours(start, hours),
            ClockKind::Calendar => Some(start + Duration::seconds((hours * 3600.0).round() as i64)),
        }
    }

    /// Hours elapsed between two instants on the given clock.
    pub fn elapsed_hours(&self, from: DateTime<Utc>, to: DateTime<Utc>, clock: ClockKind) -> f64 {
        match clock {
            ClockKind::Working => self.working_hours_between(from, to),
            ClockKind::Calendar => ((to - from).num_seconds().max(0)) as f64 / 3600.0,
        }
    }
}

const NANOS: i64 = 1_000_000_000;
const DAY_NANOS: i64 = 86_400 * NANOS;

fn nanos_of_day(t: NaiveTime) -> i64 {
    use chrono::Timelike;
    t.num_seconds_from_midnight() as i64 * NANOS + (t.nanosecond() as i64).min(NANOS - 1)
}

fn minutes_of(t: NaiveTime) -> u32 {
    use chrono::Timelike;
    t.hour() * 60 + t.minute()
}
