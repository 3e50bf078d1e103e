//! Clock jumps: the sweep with the clock moved a week ahead at once (a
//! scheduler that stopped for a week, or a host clock set forward), then
//! back an hour (the clock corrected), then ahead again; later three weeks
//! ahead, back an hour, ahead again. Whatever came due in a jump is decided
//! in that jump, once: no reminder twice, none skipped (every milestone
//! whose time has come is on the case's record), each inspection opened
//! once, one digest per unit per working day swept. A jump back decides
//! nothing.
//!
//! By design, the reminder *before* the deadline is decided but not sent
//! when the sweep first looks after the deadline has passed (the overdue
//! alert says more); a jump over the deadline shows exactly that.

use super::rig::{Rig, WARDS, drill_refdata, t0};
use super::{Scenario, Tally, line, scale, scenario};
use chrono::Duration;
use pakn_core::ids::CaseId;
use pakn_core::milestones::milestones;
use pakn_core::notify::event;
use pakn_tests::faults::Faults;

/// Cases per scale unit (two of each scenario).
const CASES: usize = 6;

/// The decisions once a jump has passed every deadline: the reminder
/// before the deadline is decided but not sent.
fn expected(s: Scenario) -> Vec<(&'static str, &'static str)> {
    s.decisions()
        .into_iter()
        .filter(|d| *d != ("case.reminder", "before_due"))
        .collect()
}

/// Decisions recorded so far: every case's outbox, every inspection.
async fn decided(rig: &Rig, ids: &[CaseId]) -> usize {
    let mut n = 0;
    for id in ids {
        n += rig
            .raw
            .notifications_for_case(id)
            .await
            .expect("outbox")
            .len();
    }
    n + super::rig::all_inspections(rig.raw.as_ref()).await.len()
}

async fn drill(rig: Rig) {
    let n = CASES * scale();
    let ids = rig.submit(n, "drill-clock").await;
    rig.route_until_assigned(&ids).await;
    for (i, id) in ids.iter().enumerate() {
        rig.play(i, id).await;
    }
    rig.settle().await;

    let (week, three_weeks) = (Duration::days(7), Duration::days(21));
    let hour = Duration::hours(1);
    let jumps = [
        ("a week ahead", t0() + week + hour, true),
        ("back an hour", t0() + week, false),
        ("ahead again", t0() + week + hour, false),
        ("three weeks ahead", t0() + three_weeks + hour, true),
        ("back an hour", t0() + three_weeks, false),
        ("ahead again", t0() + three_weeks + hour, false),
    ];
    let mut t = Tally::default();
    let mut counts = Vec::new();
    let mut before = decided(&rig, &ids).await;
    for (what, at, may_decide) in jumps {
        rig.clock.set(at);
        rig.settle().await;
        let after = decided(&rig, &ids).await;
        if after != before && !may_decide {
            t.duplicate(format!(
                "{what} (to {at}): {} decisions made again",
                after - before
            ));
        }
        counts.push(after);
        before = after;
    }

    let published = rig.published().await;
    let latest = t0() + three_weeks + hour;
    let inspections = super::rig::all_inspections(rig.raw.as_ref()).await;
    for (i, id) in ids.iter().enumerate() {
        let s = scenario(i);
        t.check_decisions(&rig, id, &expected(s), &published).await;
        t.check_timeline(&rig, id).await;
        let case = rig.case(id).await;
        for m in milestones(&case, &rig.refdata) {
            let times = case.milestones_done.iter().filter(|k| **k == m.key).count();
            if m.at <= latest && times == 0 {
                t.lose(format!("{id}: milestone {} skipped", m.key));
            }
            if times > 1 {
                t.duplicate(format!("{id}: milestone {} decided {times} times", m.key));
            }
        }
        let opened = inspections
            .iter()
            .filter(|x| x.case_id.as_ref() == Some(id))
            .count();
        match (opened, s == Scenario::Resolved) {
            (0, false) => t.lose(format!("{id}: no inspection opened")),
            (1, false) | (0, true) => {}
            (k, _) => t.duplicate(format!("{id}: {k} inspections")),
        }
    }
    // One digest per ward per working day swept with overdue cases: 11 and 25 August.
    let mut digests = 0;
    for w in WARDS {
        let sent = rig
            .raw
            .notifications_for_unit(&format!("ward:{w}"), t0(), latest + hour, 1000)
            .await
            .expect("a unit's notifications");
        let days: Vec<String> = sent
            .iter()
            .filter(|(n, _)| n.event == event::OVERDUE_DIGEST)
            .map(|(n, _)| n.body["date"].as_str().unwrap_or("?").to_string())
            .collect();
        digests += days.len();
        let want = ["2025-08-11", "2025-08-25"];
        for d in want {
            match days.iter().filter(|x| *x == d).count() {
                0 => t.lose(format!("ward:{w}: no digest for {d}")),
                1 => {}
                k => t.duplicate(format!("ward:{w}: {k} digests for {d}")),
            }
        }
        for d in days.iter().filter(|d| !want.contains(&d.as_str())) {
            t.duplicate(format!("ward:{w}: a digest for {d}"));
        }
    }
    t.count_publishes(&published);
    line(&format!(
        "drill clock/{}: cases={n}, jumps={}, decisions_after_each_jump={counts:?}, digests={digests}, lost={}, duplicated={}, published={}, republished={}",
        rig.backend,
        jumps.len(),
        t.lost,
        t.duplicated,
        t.published,
        t.republished,
    ));
    t.assert_clean(&format!("clock/{}", rig.backend));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_jumps_sqlite() {
    drill(Rig::sqlite("drill-clock", Faults::none(), drill_refdata())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_jumps_dynamodb() {
    drill(Rig::dynamo(Faults::none(), drill_refdata()).await).await;
}
