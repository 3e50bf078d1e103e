//! Failure drills (issue 13): the pipeline under the faults a city's
//! platform meets, on the embedded backend and on DynamoDB/SQS/SNS (the
//! emulator), each ending with the raw store checked and one line printed:
//!
//! - [`store_faults`]: conflicts, throttling, timeouts before and after the
//!   write, publishes whose acknowledgement is lost, at a seeded rate, over
//!   submissions retried with their Idempotency-Key, routing with
//!   redelivery, officials' actions and a month of sweeps;
//! - [`poison`]: a message that always fails is dead-lettered after five
//!   receives while its neighbours are routed (and again after the sweep
//!   re-queues it); `pakn redrive` brings it back once it is fixed, and it
//!   is routed once;
//! - [`duplicates`]: every queue message delivered twice, half of them in
//!   reverse order, and two sweeps at every instant;
//! - [`writers`]: two officials acting on one case at the same instant;
//! - [`clock_jumps`]: the sweep with the clock a week ahead, then back an hour;
//! - [`daily_checks`]: the once-a-day unit checks of all 137 units under faults.
//!
//! Each drill is short by default (seconds); `PAKN_DRILL_SCALE=N` multiplies
//! its case counts and rounds for a soak:
//! `PAKN_DRILL_SCALE=50 cargo test -p pakn-tests --test e2e -- drills`.
//! The lines go straight to the terminal (not captured by the test harness).

mod clock_jumps;
mod daily_checks;
mod duplicates;
mod poison;
mod rig;
mod store_faults;
mod writers;

use pakn_core::ids::CaseId;
use pakn_core::notify::{Notification, event};
use rig::Rig;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;

/// `PAKN_DRILL_SCALE` (default 1): how many times the default counts.
pub fn scale() -> usize {
    std::env::var("PAKN_DRILL_SCALE")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(1)
}

/// Print a drill's line on the terminal, past the test harness's capture.
pub fn line(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

/// The milestone a notification stands for: the status it announces, or
/// its decision key without the deadline (`<case>:ack_due@2025-…` →
/// `ack_due`, `<case>:assigned:v2` → `assigned`).
pub fn milestone(n: &Notification) -> String {
    if n.event == event::STATUS_CHANGED {
        return format!("status:{}", n.body["status"].as_str().unwrap_or("?"));
    }
    let key = n
        .dedup_id
        .split_once(':')
        .map(|(_, k)| k)
        .unwrap_or(&n.dedup_id);
    key.split(['@', ':']).next().unwrap_or(key).to_string()
}

/// What happens to case `i` after routing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Scenario {
    /// Left alone: reminded at the acknowledgement deadline and before the
    /// deadline, overdue, then inspected.
    Ignored,
    /// Accepted at once: reminded before the deadline, overdue, inspected.
    Accepted,
    /// Accepted and resolved at once: closed when the dispute window ends.
    Resolved,
}

pub fn scenario(i: usize) -> Scenario {
    match i % 3 {
        0 => Scenario::Ignored,
        1 => Scenario::Accepted,
        _ => Scenario::Resolved,
    }
}

impl Scenario {
    /// The decisions it must produce, each exactly once.
    pub fn decisions(self) -> Vec<(&'static str, &'static str)> {
        let mut v = vec![
            ("case.assigned", "assigned"),
            ("case.status_changed", "status:assigned"),
        ];
        match self {
            Scenario::Ignored => v.extend([
                ("case.reminder", "ack_due"),
                ("case.reminder", "before_due"),
                ("case.overdue", "overdue"),
                ("inspection.opened", "inspection"),
            ]),
            Scenario::Accepted => v.extend([
                ("case.status_changed", "status:in_progress"),
                ("case.reminder", "before_due"),
                ("case.overdue", "overdue"),
                ("inspection.opened", "inspection"),
            ]),
            Scenario::Resolved => v.extend([
                ("case.status_changed", "status:in_progress"),
                ("case.status_changed", "status:resolved"),
                ("case.status_changed", "status:closed"),
            ]),
        }
        v
    }

    /// The timeline entries it must have, each exactly once.
    pub fn actions(self) -> &'static [&'static str] {
        match self {
            Scenario::Ignored => &["submitted", "routed"],
            Scenario::Accepted => &["submitted", "routed", "accept"],
            Scenario::Resolved => &["submitted", "routed", "accept", "resolve", "close"],
        }
    }
}

/// What the checks of a drill found, for its line and its assertions.
#[derive(Debug, Default)]
pub struct Tally {
    /// Accepted cases not stored, decisions a scenario needs that were not
    /// made, decided notifications never published.
    pub lost: usize,
    /// Cases stored twice, decisions made twice (two different `dedup_id`s
    /// for one milestone) or made when the scenario has none.
    pub duplicated: usize,
    /// Distinct decisions (`dedup_id`s) checked.
    pub decisions: usize,
    /// Publishes seen by subscribers, all together.
    pub published: usize,
    /// Publishes of a `dedup_id` already published (allowed: at least once).
    pub republished: usize,
    pub problems: Vec<String>,
}

impl Tally {
    pub fn lose(&mut self, why: String) {
        self.lost += 1;
        self.problems.push(why);
    }

    pub fn duplicate(&mut self, why: String) {
        self.duplicated += 1;
        self.problems.push(why);
    }

    /// The decisions recorded for case `id` (its outbox, in the raw store)
    /// must be exactly `expected` — `(event, milestone)` pairs, each once —
    /// and each must have reached the subscribers (`published`).
    pub async fn check_decisions(
        &mut self,
        rig: &Rig,
        id: &CaseId,
        expected: &[(&str, &str)],
        published: &BTreeMap<String, usize>,
    ) {
        let sent = rig
            .raw
            .notifications_for_case(id)
            .await
            .expect("notifications of a case");
        let mut got: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
        for (n, published_at) in &sent {
            self.decisions += 1;
            let seen = published.get(&n.dedup_id).copied().unwrap_or(0);
            if published_at.is_none() || seen == 0 {
                self.lose(format!(
                    "{id}: {} decided but not published (marked: {})",
                    n.dedup_id,
                    published_at.is_some()
                ));
            }
            got.entry((n.event.clone(), milestone(n)))
                .or_default()
                .insert(n.dedup_id.clone());
        }
        for (ev, m) in expected {
            let n = got
                .get(&(ev.to_string(), m.to_string()))
                .map_or(0, |s| s.len());
            match n {
                0 => self.lose(format!("{id}: no {ev} for {m}")),
                1 => {}
                n => {
                    for _ in 1..n {
                        self.duplicate(format!("{id}: {n} decisions of {ev} for {m}"));
                    }
                }
            }
        }
        for ((ev, m), ids) in &got {
            if !expected.iter().any(|(e, x)| e == ev && x == m) {
                for d in ids {
                    self.duplicate(format!("{id}: unexpected {ev} {d}"));
                }
            }
        }
    }

    /// Case `id`'s timeline holds one entry per version, 1 to its current
    /// one: no change was lost, none written twice.
    pub async fn check_timeline(&mut self, rig: &Rig, id: &CaseId) {
        let version = rig.case(id).await.version;
        let got: Vec<u64> = rig
            .raw
            .timeline(id)
            .await
            .expect("timeline")
            .iter()
            .map(|e| e.version)
            .collect();
        let want: Vec<u64> = (1..=version).collect();
        if got.len() < want.len() {
            self.lose(format!(
                "{id}: timeline versions {got:?}, the case is at v{version}"
            ));
        } else if got != want {
            self.duplicate(format!(
                "{id}: timeline versions {got:?}, the case is at v{version}"
            ));
        }
    }

    /// Publishes seen, and repeats of the same `dedup_id`.
    pub fn count_publishes(&mut self, published: &BTreeMap<String, usize>) {
        self.published = published.values().sum();
        self.republished = published.values().map(|n| n.saturating_sub(1)).sum();
    }

    #[track_caller]
    pub fn assert_clean(&self, what: &str) {
        assert!(
            self.lost == 0 && self.duplicated == 0,
            "{what}: lost={}, duplicated={}:\n{}",
            self.lost,
            self.duplicated,
            self.problems.join("\n")
        );
    }
}
