//! The working-hours calendar against the real Hanoi data (holidays.json).
//! Dates: 2025-06-13 is a Friday, 2025-06-16 a Monday (checked against a
//! perpetual calendar); office hours 08–12 and 13–17 local.

use crate::common::{hn, hns, new_case, rd, route_to};
use chrono::{Duration, NaiveDate};
use pakn_core::calendar::{ClockKind, WorkingCalendar};
use pakn_core::case::Status;
use pakn_core::category::Urgency;

fn cal() -> &'static WorkingCalendar {
    &rd().calendar
}

#[track_caller]
fn add_h(start: chrono::DateTime<chrono::Utc>, hours: i64) -> chrono::DateTime<chrono::Utc> {
    cal()
        .add_working_minutes(start, hours * 60)
        .expect("a working instant")
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn local_time_is_utc_plus_seven() {
    // 08:00 in Hanoi is 01:00 UTC the same day; 06:00 in Hanoi is 23:00 UTC the day before.
    assert_eq!(
        hn(2025, 6, 16, 8, 0).to_rfc3339(),
        "2025-06-16T01:00:00+00:00"
    );
    assert_eq!(
        hn(2025, 6, 16, 6, 0).to_rfc3339(),
        "2025-06-15T23:00:00+00:00"
    );
    assert_eq!(cal().local_date(hn(2025, 6, 16, 6, 0)), day(2025, 6, 16));
    assert_eq!(cal().minutes_per_day(), 480);
}

#[test]
fn across_a_weekend() {
    // Fri 16:00 + 2h: 1h on Friday, then Monday 08:00 + 1h.
    assert_eq!(add_h(hn(2025, 6, 13, 16, 0), 2), hn(2025, 6, 16, 9, 0));
    // Fri 10:00 + 16h: Fri 10–12 (2), 13–17 (4) = 6; Mon 8h = 14; Tue 08:00 + 2h.
    assert_eq!(add_h(hn(2025, 6, 13, 10, 0), 16), hn(2025, 6, 17, 10, 0));
}

#[test]
fn across_the_lunch_break() {
    assert_eq!(add_h(hn(2025, 6, 16, 11, 30), 1), hn(2025, 6, 16, 13, 30));
    // 11:59:30 + 1 min = 13:00:30
    assert_eq!(
        cal().add_working_minutes(hns(2025, 6, 16, 11, 59, 30), 1),
        Some(hns(2025, 6, 16, 13, 0, 30))
    );
}

#[test]
fn a_deadline_that_uses_up_a_period_ends_at_its_end() {
    assert_eq!(add_h(hn(2025, 6, 16, 8, 0), 8), hn(2025, 6, 16, 17, 0));
    assert_eq!(add_h(hn(2025, 6, 16, 8, 0), 4), hn(2025, 6, 16, 12, 0));
    assert_eq!(add_h(hn(2025, 6, 16, 13, 0), 4), hn(2025, 6, 16, 17, 0));
    // Friday's last period used up: Friday 17:00, not Monday 08:00.
    assert_eq!(add_h(hn(2025, 6, 13, 15, 0), 2), hn(2025, 6, 13, 17, 0));
    // One minute more crosses the weekend.
    assert_eq!(
        cal().add_working_minutes(hn(2025, 6, 13, 15, 0), 121),
        Some(hn(2025, 6, 16, 8, 1))
    );
}

#[test]
fn starts_outside_office_hours() {
    // Before office hours: counting starts at 08:00.
    assert_eq!(add_h(hn(2025, 6, 16, 6, 0), 1), hn(2025, 6, 16, 9, 0));
    // Just after midnight local (the previous day in UTC).
    assert_eq!(add_h(hn(2025, 6, 17, 0, 30), 1), hn(2025, 6, 17, 9, 0));
    // During lunch: counting starts at 13:00.
    assert_eq!(add_h(hn(2025, 6, 16, 12, 30), 1), hn(2025, 6, 16, 14, 0));
    // After 17:00: the next working morning.
    assert_eq!(add_h(hn(2025, 6, 16, 18, 0), 1), hn(2025, 6, 17, 9, 0));
    assert_eq!(add_h(hn(2025, 6, 16, 17, 0), 1), hn(2025, 6, 17, 9, 0));
    // On a Saturday: Monday.
    assert_eq!(add_h(hn(2025, 6, 14, 10, 0), 1), hn(2025, 6, 16, 9, 0));
    // Zero hours from lunch: the next office instant.
    assert_eq!(
        cal().add_working_minutes(hn(2025, 6, 16, 12, 30), 0),
        Some(hn(2025, 6, 16, 13, 0))
    );
}

#[test]
fn across_tet_2025() {
    // holidays.json 2025: Mon 27 Jan – Sat 1 Feb off; with the weekends around
    // them nothing is worked from Sat 25 Jan to Sun 2 Feb.
    for d in 25..=31 {
        assert!(!cal().is_working_day(day(2025, 1, d)), "2025-01-{d}");
    }
    assert!(!cal().is_working_day(day(2025, 2, 1)));
    assert!(cal().is_working_day(day(2025, 1, 24)));
    assert!(cal().is_working_day(day(2025, 2, 3)));
    // Fri 24 Jan 16:00 + 2h = Mon 3 Feb 09:00.
    assert_eq!(add_h(hn(2025, 1, 24, 16, 0), 2), hn(2025, 2, 3, 9, 0));
    // Thu 23 Jan 09:00 + 24h (3 working days): Thu 7, Fri 8 = 15, Mon 3 Feb 8 = 23, Tue 08:00 + 1h.
    assert_eq!(add_h(hn(2025, 1, 23, 9, 0), 24), hn(2025, 2, 4, 9, 0));
}

#[test]
fn across_tet_2026() {
    // holidays.json 2026: Mon 16 – Fri 20 Feb off.
    for d in 16..=20 {
        assert!(!cal().is_working_day(day(2026, 2, d)), "2026-02-{d}");
    }
    // Fri 13 Feb 16:00 + 2h = Mon 23 Feb 09:00.
    assert_eq!(add_h(hn(2026, 2, 13, 16, 0), 2), hn(2026, 2, 23, 9, 0));
    // Fri 13 Feb 08:00 + 40h: Fri 8, Mon 23 – Thu 26 = 40 → Thu 26 Feb 17:00.
    assert_eq!(add_h(hn(2026, 2, 13, 8, 0), 40), hn(2026, 2, 26, 17, 0));
}

#[test]
fn across_reunification_and_labour_day_2025() {
    // 2025: Wed 30 Apr, Thu 1 May, Fri 2 May off; Sat 26 Apr worked in exchange.
    assert!(!cal().is_working_day(day(2025, 4, 30)));
    assert!(!cal().is_working_day(day(2025, 5, 2)));
    assert!(cal().is_working_day(day(2025, 4, 26)));
    // Tue 29 Apr 16:00 + 2h: 1h Tuesday, Mon 5 May 08:00 + 1h.
    assert_eq!(add_h(hn(2025, 4, 29, 16, 0), 2), hn(2025, 5, 5, 9, 0));
    // Fri 25 Apr 16:00 + 2h: the Saturday 26 Apr is worked.
    assert_eq!(add_h(hn(2025, 4, 25, 16, 0), 2), hn(2025, 4, 26, 9, 0));
}

#[test]
fn across_the_2024_swap() {
    // 2024: Mon 29 Apr off (swapped), Tue 30 Apr and Wed 1 May off; Sat 4 May worked.
    assert!(!cal().is_working_day(day(2024, 4, 29)));
    assert!(cal().is_working_day(day(2024, 5, 4)));
    assert!(!cal().is_working_day(day(2024, 5, 5)));
    // Fri 26 Apr 16:00 + 2h = Thu 2 May 09:00.
    assert_eq!(add_h(hn(2024, 4, 26, 16, 0), 2), hn(2024, 5, 2, 9, 0));
    // Fri 3 May 16:00 + 2h = Sat 4 May 09:00 (the swapped Saturday).
    assert_eq!(add_h(hn(2024, 5, 3, 16, 0), 2), hn(2024, 5, 4, 9, 0));
    // Fri 3 May 16:00 + 10h: Fri 1, Sat 8 = 9, Mon 6 May 08:00 + 1h.
    assert_eq!(add_h(hn(2024, 5, 3, 16, 0), 10), hn(2024, 5, 6, 9, 0));
}

#[test]
fn friday_16_59_before_national_day_2025() {
    // 2025-09-01 (Mon) and 09-02 (Tue) are off. Submitted Fri 29 Aug 16:59:
    // 8 working hours = 1 min Friday; Sat–Tue nothing; Wed 3 Sep 08–12 (240 min);
    // 13:00 + 239 min = 16:59.
    let at = hn(2025, 8, 29, 16, 59);
    assert_eq!(add_h(at, 8), hn(2025, 9, 3, 16, 59));
    assert_eq!(
        cal().add_working_minutes(at, 1),
        Some(hn(2025, 8, 29, 17, 0))
    );
    assert_eq!(cal().add_working_minutes(at, 2), Some(hn(2025, 9, 3, 8, 1)));
    // A normal lighting report submitted then: acknowledge by Wed 16:59; resolve in 24h:
    // 1 min Fri, Wed 480, Thu 480 (961), Fri 5 Sep 08:00 + 479 min = 16:59.
    let routed = route_to(
        &new_case("lighting", Urgency::Normal, Some("00070"), at),
        "ward:00070",
        at,
    )
    .case;
    assert_eq!(routed.ack_due, Some(hn(2025, 9, 3, 16, 59)));
    assert_eq!(routed.resolve_due, Some(hn(2025, 9, 5, 16, 59)));
}

#[test]
fn subtracting_working_hours() {
    // Mon 10:00 - 8h: Mon 08–10 (2), Fri 13–17 (4), Fri 12:00 - 2h = Fri 10:00.
    let c = cal();
    assert_eq!(
        c.sub_working_minutes(hn(2025, 6, 16, 10, 0), 480),
        Some(hn(2025, 6, 13, 10, 0))
    );
    assert_eq!(
        c.sub_working_minutes(hn(2025, 6, 16, 8, 0), 60),
        Some(hn(2025, 6, 13, 16, 0))
    );
    assert_eq!(
        c.sub_working_minutes(hn(2025, 6, 16, 17, 0), 480),
        Some(hn(2025, 6, 16, 8, 0))
    );
    assert_eq!(
        c.sub_working_minutes(hn(2025, 6, 16, 14, 0), 120),
        Some(hn(2025, 6, 16, 11, 0))
    );
    // From lunch or the evening, the count starts at the end of the last period.
    assert_eq!(
        c.sub_working_minutes(hn(2025, 6, 16, 12, 30), 60),
        Some(hn(2025, 6, 16, 11, 0))
    );
    assert_eq!(
        c.sub_working_minutes(hn(2025, 6, 16, 20, 0), 60),
        Some(hn(2025, 6, 16, 16, 0))
    );
    // Across Tết 2025 backwards: Mon 3 Feb 09:00 - 2h = Fri 24 Jan 16:00.
    assert_eq!(
        c.sub_working_minutes(hn(2025, 2, 3, 9, 0), 120),
        Some(hn(2025, 1, 24, 16, 0))
    );
    // Across the 2024 swap backwards: Mon 6 May 09:00 - 10h = Fri 3 May 16:00.
    assert_eq!(
        c.sub_working_minutes(hn(2024, 5, 6, 9, 0), 600),
        Some(hn(2024, 5, 3, 16, 0))
    );
}

#[test]

fn subtracting_zero_is_the_identity_inside_office_time() {
    // Doc: "the latest instant t with exactly 0 working minutes in [t, end]" is end itself.
    let c = cal();
    assert_eq!(
        c.sub_working_minutes(hn(2025, 6, 16, 10, 0), 0),
        Some(hn(2025, 6, 16, 10, 0))
    );
    assert_eq!(
        c.sub_working_minutes(hn(2025, 6, 16, 8, 0), 0),
        Some(hn(2025, 6, 16, 8, 0))
    );
    assert_eq!(
        c.sub_working_minutes(hn(2025, 6, 16, 13, 0), 0),
        Some(hn(2025, 6, 16, 13, 0))
    );
}

#[test]
fn working_seconds_between_instants() {
    let c = cal();
    assert_eq!(
        c.working_seconds_between(hn(2025, 6, 13, 16, 0), hn(2025, 6, 16, 9, 0)),
        2 * 3600
    );
    assert_eq!(
        c.working_seconds_between(hn(2025, 6, 16, 11, 30), hn(2025, 6, 16, 13, 30)),
        3600
    );
    assert_eq!(
        c.working_seconds_between(hn(2025, 6, 16, 12, 0), hn(2025, 6, 16, 13, 0)),
        0
    );
    assert_eq!(
        c.working_seconds_between(hn(2025, 6, 16, 6, 0), hn(2025, 6, 16, 20, 0)),
        8 * 3600
    );
    // Whole week Mon 00:00 → next Mon 00:00: 5 × 8h.
    assert_eq!(
        c.working_seconds_between(hn(2025, 6, 16, 0, 0), hn(2025, 6, 23, 0, 0)),
        40 * 3600
    );
    // Across Tết 2025: Fri 24 Jan 08:00 → Mon 3 Feb 08:00 is Friday only.
    assert_eq!(
        c.working_seconds_between(hn(2025, 1, 24, 8, 0), hn(2025, 2, 3, 8, 0)),
        8 * 3600
    );
    // 2024 swap: Fri 26 Apr, Thu 2, Fri 3 and Sat 4 May are worked → 32h.
    assert_eq!(
        c.working_seconds_between(hn(2024, 4, 26, 8, 0), hn(2024, 5, 6, 8, 0)),
        32 * 3600
    );
    // Reversed or empty intervals count nothing.
    assert_eq!(
        c.working_seconds_between(hn(2025, 6, 16, 10, 0), hn(2025, 6, 16, 9, 0)),
        0
    );
    assert_eq!(
        c.working_seconds_between(hn(2025, 6, 16, 10, 0), hn(2025, 6, 16, 10, 0)),
        0
    );
    // Seconds count.
    assert_eq!(
        c.working_seconds_between(hns(2025, 6, 16, 16, 59, 30), hn(2025, 6, 17, 8, 0)),
        30
    );
}

#[test]
fn the_calendar_clock_for_urgent_cases() {
    // A flood at 18:00 on Friday is due at 22:00 on Friday, not on Monday.
    let c = cal();
    let at = hn(2025, 6, 13, 18, 0);
    assert_eq!(
        c.add(at, 4.0, ClockKind::Calendar),
        Some(hn(2025, 6, 13, 22, 0))
    );
    assert_eq!(
        c.add(at, 4.0, ClockKind::Working),
        Some(hn(2025, 6, 16, 12, 0))
    );
    assert_eq!(
        c.elapsed_hours(at, hn(2025, 6, 13, 22, 0), ClockKind::Calendar),
        4.0
    );
    assert_eq!(
        c.elapsed_hours(at, hn(2025, 6, 13, 22, 0), ClockKind::Working),
        0.0
    );
    // Routed as urgent drainage (policy: urgent ack 1h, resolve 4h, calendar clock).
    let case = new_case("drainage", Urgency::Urgent, Some("00070"), at);
    let o = route_to(&case, "ward:00070", at + Duration::minutes(1));
    assert_eq!(o.case.status, Status::Assigned);
    assert_eq!(o.case.resolve_due, Some(hn(2025, 6, 13, 22, 0)));
    assert_eq!(o.case.ack_due, Some(hn(2025, 6, 13, 19, 0)));
    assert_eq!(o.case.resolve_clock, ClockKind::Calendar);
    assert!(o.notifications.iter().all(|n| n.urgency == "urgent"));
}

#[test]
fn later_swaps_can_be_added() {
    let mut c = rd().calendar.clone();
    // Say the government later gives Mon 16 Jun 2025 off and has Sat 21 Jun worked.
    c.add_days_off([day(2025, 6, 16)]);
    c.add_extra_working_days([day(2025, 6, 21)]);
    assert_eq!(
        c.add_working_minutes(hn(2025, 6, 13, 16, 0), 120),
        Some(hn(2025, 6, 17, 9, 0))
    );
    assert_eq!(
        c.add_working_minutes(hn(2025, 6, 20, 16, 0), 120),
        Some(hn(2025, 6, 21, 9, 0))
    );
}

#[test]

fn sub_second_starts_are_kept() {
    let start = hn(2025, 6, 16, 10, 0) + Duration::milliseconds(700);
    // 60 working minutes from 10:00:00.7 inside office time is 11:00:00.7.
    assert_eq!(
        cal().add_working_minutes(start, 60),
        Some(start + Duration::hours(1))
    );
    // Nothing to add: the start itself, never an instant before it.
    assert_eq!(cal().add_working_minutes(start, 0), Some(start));
}
