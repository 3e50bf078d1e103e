//! Time, injected.

use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};

/// Time, injected so deadline logic is tested at any instant.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock tests (and `pakn serve --clock-speed`) set and move by hand.
#[derive(Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        ManualClock(Arc::new(Mutex::new(at)))
    }
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
    pub fn advance(&self, d: chrono::Duration) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *g += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A clock that runs `speed` times faster than real time from the instant
/// it was made (`pakn serve` with `PAKN_CLOCK_SPEED`, to watch a month of
/// deadlines go by in minutes). Never for production.
pub struct ScaledClock {
    origin: DateTime<Utc>,
    started: std::time::Instant,
    speed: f64,
}

impl ScaledClock {
    pub fn new(origin: DateTime<Utc>, speed: f64) -> Self {
        ScaledClock {
            origin,
            started: std::time::Instant::now(),
            speed: speed.max(0.0),
        }
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> DateTime<Utc> {
        let real = self.started.elapsed().as_secs_f64();
        let scaled = (real * self.speed * 1e6).min(i64::MAX as f64) as i64;
        self.origin + chrono::Duration::microseconds(scaled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scaled_clock_runs_faster_and_never_backwards() {
        let origin = Utc::now();
        let c = ScaledClock::new(origin, 3600.0);
        let a = c.now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let b = c.now();
        assert!(a >= origin && b > a);
        // 20 ms of real time at 3600x is at least 72 s of clock time.
        assert!(
            b - origin >= chrono::Duration::seconds(72),
            "{}",
            b - origin
        );
    }
}
