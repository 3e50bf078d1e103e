//! Properties of working-time arithmetic for random instants in 2024–2030.

use crate::common::rd;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Timelike, Utc};
use proptest::prelude::*;

/// 2024-01-01 00:00 in Hanoi.
fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2023, 12, 31, 17, 0, 0).unwrap()
}

/// Seconds from 2024-01-01 to 2030-12-31 (local), minus a margin for the amount.
const SPAN_SECS: i64 = (7 * 365 + 1 - 30) * 86_400;

/// Office periods in seconds after local midnight (infra/data/calendar.json).
const PERIODS: [(i64, i64); 2] = [(8 * 3600, 12 * 3600), (13 * 3600, 17 * 3600)];

fn local(t: DateTime<Utc>) -> (NaiveDate, i64) {
    let l = t + Duration::hours(7);
    (l.date_naive(), l.time().num_seconds_from_midnight() as i64)
}

/// Within office hours of a working day, both ends of a period included.
fn in_office_closed(t: DateTime<Utc>) -> bool {
    let (d, s) = local(t);
    rd().calendar.is_working_day(d) && PERIODS.iter().any(|&(a, b)| a <= s && s <= b)
}

/// Within office time proper: [start, end) of a period on a working day.
fn in_office_half_open(t: DateTime<Utc>) -> bool {
    let (d, s) = local(t);
    rd().calendar.is_working_day(d) && PERIODS.iter().any(|&(a, b)| a <= s && s < b)
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (0..SPAN_SECS).prop_map(|s| epoch() + Duration::seconds(s))
}

/// An instant inside office time: a day, a second within the 8 office hours.
fn office_instant() -> impl Strategy<Value = DateTime<Utc>> {
    (0..(SPAN_SECS / 86_400), 0..(8 * 3600i64)).prop_map(|(day, sec)| {
        let s = if sec < 4 * 3600 {
            8 * 3600 + sec
        } else {
            13 * 3600 + sec - 4 * 3600
        };
        epoch() + Duration::days(day) + Duration::seconds(s)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn adding_then_measuring_gives_the_amount(start in instant(), m in 0i64..6000) {
        let end = rd().calendar.add_working_minutes(start, m).expect("in range");
        prop_assert!(end >= start);
        prop_assert_eq!(rd().calendar.working_seconds_between(start, end), m * 60);
    }

    #[test]
    fn the_result_is_in_office_hours(start in instant(), m in 0i64..6000) {
        let end = rd().calendar.add_working_minutes(start, m).expect("in range");
        prop_assert!(in_office_closed(end), "{start} + {m} min = {end}");
        // A positive amount never ends at the start of a period (it would have ended at the previous end).
        if m > 0 {
            let (_, s) = local(end);
            prop_assert!(s != 8 * 3600 && s != 13 * 3600, "{start} + {m} min = {end}");
        }
    }

    #[test]
    fn adding_is_monotonic_in_the_amount(start in instant(), a in 0i64..4000, b in 0i64..4000) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let c = &rd().calendar;
        let t_lo = c.add_working_minutes(start, lo).unwrap();
        let t_hi = c.add_working_minutes(start, hi).unwrap();
        prop_assert!(t_lo <= t_hi);
        if lo < hi {
            prop_assert!(t_lo < t_hi);
            prop_assert_eq!(c.working_seconds_between(t_lo, t_hi), (hi - lo) * 60);
        }
    }

    #[test]
    fn subtracting_inverts_adding_inside_office_time(start in office_instant(), m in 1i64..6000) {
        prop_assume!(in_office_half_open(start));
        let c = &rd().calendar;
        let end = c.add_working_minutes(start, m).unwrap();
        prop_assert_eq!(c.sub_working_minutes(end, m), Some(start));
    }

    #[test]
    fn subtracting_then_measuring_gives_the_amount(end in instant(), m in 1i64..6000) {
        let c = &rd().calendar;
        let t = c.sub_working_minutes(end, m).unwrap();
        prop_assert!(t <= end);
        prop_assert_eq!(c.working_seconds_between(t, end), m * 60);
        // It is the latest such instant: it lies in office time proper.
        prop_assert!(in_office_half_open(t), "{end} - {m} min = {t}");
    }
}
