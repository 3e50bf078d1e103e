//! The deadline sweep on Lambda, triggered by an EventBridge schedule: the
//! same [`pakn_core::Pakn::sweep`] the local scheduler runs, repeated while
//! cases are due and time remains.

use pakn_core::Pakn;
use pakn_core::sweep::SweepReport;
use serde::Serialize;
use std::time::{Duration, SystemTime};

/// Cases looked at per pass.
pub const PASS_LIMIT: usize = 200;
/// Stop starting passes when less than this remains before the deadline.
pub const SAFETY_MARGIN: Duration = Duration::from_secs(20);
/// At most this many passes per invocation (the next schedule picks up the rest).
pub const MAX_PASSES: usize = 50;

/// What one invocation did, summed over its passes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub passes: usize,
    pub looked: usize,
    pub decided: usize,
    pub conflicts: usize,
    pub requeued: usize,
    pub inspections_opened: usize,
    pub published: usize,
    /// True when the invocation stopped with cases possibly still due.
    pub more_due: bool,
}

impl Totals {
    fn add(&mut self, r: &SweepReport) {
        self.passes += 1;
        self.looked += r.looked;
        self.decided += r.decided;
        self.conflicts += r.conflicts;
        self.requeued += r.requeued;
        self.inspections_opened += r.inspections_opened;
        self.published += r.published;
    }
}

/// Sweep until nothing is due, a pass decides nothing, or the time left
/// before `deadline` is short.
pub async fn sweep_until_done(
    pakn: &Pakn,
    limit: usize,
    deadline: Option<SystemTime>,
) -> Result<Totals, pakn_core::Error> {
    let mut t = Totals::default();
    loop {
        let r = pakn.sweep().run(limit).await?;
        t.add(&r);
        let full = r.looked >= limit;
        let time_short = deadline.is_some_and(|d| {
            d.duration_since(SystemTime::now()).unwrap_or_default() < SAFETY_MARGIN
        });
        if !full || r.decided == 0 {
            return Ok(t);
        }
        if time_short || t.passes >= MAX_PASSES {
            t.more_due = true;
            tracing::warn!(
                passes = t.passes,
                "stopping with cases still due; the next schedule continues"
            );
            return Ok(t);
        }
    }
}
