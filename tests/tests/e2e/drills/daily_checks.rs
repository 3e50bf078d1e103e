//! The once-a-day unit checks at city scale under faults: all 137 units
//! (126 wards and communes, the departments, triage), overdue cases spread
//! over wards early and late in the units' order, and a working day of
//! sweeps every 15 minutes with 5 % of the store's calls failing. Every
//! ward holding an overdue case must get that day's digest and its
//! empty-roster inspection, each decided once — whichever other units'
//! checks failed on the way — and the day's checks must end (their marker
//! written) within the day.

use super::rig::{Rig, t0};
use super::{line, scale};
use chrono::Duration;
use pakn_core::ids::CaseId;
use pakn_core::notify::event;
use pakn_core::ports::Clock as _;
use pakn_core::unit::UnitCode;
use pakn_testkit::JsonCalls as _;
use pakn_tests::faults::Faults;
use pakn_tests::http_app::without_quotas;
use std::collections::BTreeSet;

const RATE: f64 = 0.05;
/// Sweeps in the day: every 15 minutes from 08:00 to 17:00.
const PASSES: usize = 36;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily_checks_sqlite() {
    let rig = Rig::sqlite("drill-daily", Faults::new(1307, 0.0), without_quotas());
    // Overdue cases in every 10th ward (13 by default), one each.
    let wards: Vec<UnitCode> = rig
        .refdata
        .units
        .values()
        .filter(|u| u.unit_type == "ward" || u.unit_type == "commune")
        .map(|u| u.code.clone())
        .collect();
    let every = (10 / scale()).max(1);
    let chosen: Vec<UnitCode> = wards.iter().step_by(every).cloned().collect();
    let mut ids = Vec::new();
    for (i, w) in chosen.iter().enumerate() {
        let code = w.as_str().trim_start_matches("ward:");
        let body = pakn_testkit::report_body("lighting", code, &format!("Đèn hỏng {i}"));
        let r = rig
            .pakn
            .submit(&pakn_testkit::citizen("drill-daily"), &body, None)
            .await
            .expect("submit");
        ids.push(CaseId::parse(&r.id).expect("ULID"));
    }
    rig.route_until_assigned(&ids).await;

    // Friday 8 August 2025, 08:00: every case is a day overdue.
    let day = t0() + Duration::days(4) - Duration::hours(1);
    rig.clock.set(day);
    rig.faults.set_rate(RATE);
    let mut closed_at = None;
    for pass in 0..PASSES {
        let _ = rig.pakn.sweep().run(1000).await;
        if closed_at.is_none()
            && rig
                .raw
                .get_marker("daily:2025-08-08")
                .await
                .expect("marker")
        {
            closed_at = Some(pass + 1);
        }
        rig.clock.advance(Duration::minutes(15));
    }
    let injected = rig.faults.injected();
    rig.faults.stop();

    let (mut digests, mut inspections, mut lost, mut duplicated) = (0, 0, 0, 0);
    let mut problems = Vec::new();
    for w in &chosen {
        let sent = rig
            .raw
            .notifications_for_unit(w.as_str(), day, rig.clock.now(), 1000)
            .await
            .expect("a unit's notifications");
        let of = |ev: &str| -> BTreeSet<String> {
            sent.iter()
                .filter(|(n, _)| n.event == ev && n.case_id.is_none())
                .map(|(n, _)| n.dedup_id.clone())
                .collect()
        };
        let (d, i) = (of(event::OVERDUE_DIGEST), of(event::INSPECTION_OPENED));
        for (what, got) in [("digest", &d), ("empty-roster inspection", &i)] {
            match got.len() {
                0 => {
                    lost += 1;
                    problems.push(format!("{w}: no {what} on 2025-08-08"));
                }
                1 => {}
                n => {
                    duplicated += n - 1;
                    problems.push(format!("{w}: {n} {what}s: {got:?}"));
                }
            }
        }
        digests += d.len();
        inspections += i.len();
        let opened = rig
            .raw
            .get_inspection(&format!("unit-{w}-empty_roster-2025-08"))
            .await
            .expect("inspection");
        if opened.is_none() {
            lost += 1;
            problems.push(format!("{w}: the empty-roster inspection is not stored"));
        }
    }
    line(&format!(
        "drill daily/sqlite: units={}, overdue_units={}, digests={digests}, inspections={inspections}, lost={lost}, duplicated={duplicated}, passes={PASSES}, closed_after={}, {injected}",
        rig.refdata.units.len(),
        chosen.len(),
        closed_at.map_or("never".to_string(), |p| format!("{p} passes")),
    ));
    assert!(
        lost == 0 && duplicated == 0,
        "lost={lost}, duplicated={duplicated}:\n{}",
        problems.join("\n")
    );
    assert!(
        closed_at.is_some(),
        "the day's unit checks never finished under {RATE} faults"
    );
}
