//! [`WarningGate`]: at most one warning per interval about a failure that repeats.
//!
//! A server that is down fails every call; a warning per call would flood the log exactly when
//! someone needs to read it. The gate lets the first warning through, then one per interval, and
//! counts the ones it held back so the next warning can say how many there were.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

use crate::clock::{Clock, Timestamp};

/// Lets one warning through per `interval`; see the module docs.
#[derive(Debug)]
pub struct WarningGate {
    clock: Clock,
    interval: Duration,
    /// When the last warning went through; `None` before the first.
    last: Mutex<Option<Timestamp>>,
    /// Warnings held back since the last one that went through.
    held_back: AtomicU64,
}

impl WarningGate {
    /// A gate on the system clock.
    pub fn new(interval: Duration) -> Self {
        WarningGate::with_clock(interval, Clock::system())
    }

    /// A gate on `clock` (a manual clock in tests).
    pub fn with_clock(interval: Duration, clock: Clock) -> Self {
        WarningGate {
            clock,
            interval,
            last: Mutex::new(None),
            held_back: AtomicU64::new(0),
        }
    }

    /// `Some(n)` when a warning may be given now, `n` being how many were held back since the
    /// last one; `None` (and one more held back) otherwise.
    pub fn admit(&self) -> Option<u64> {
        let now = self.clock.now();
        let mut last = self.last.lock();
        if last.is_some_and(|at| now - at < self.interval) {
            self.held_back.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        *last = Some(now);
        Some(self.held_back.swap(0, Ordering::Relaxed))
    }

    /// The interval between two warnings.
    pub fn interval(&self) -> Duration {
        self.interval
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_warning_per_interval_counting_the_rest() {
        let clock = Clock::manual();
        let gate = WarningGate::with_clock(Duration::from_secs(10), clock.clone());
        assert_eq!(gate.admit(), Some(0));
        for _ in 0..5 {
            assert_eq!(gate.admit(), None);
        }
        clock.advance(Duration::from_millis(9_999));
        assert_eq!(gate.admit(), None);
        clock.advance(Duration::from_millis(1));
        assert_eq!(gate.admit(), Some(6));
        assert_eq!(gate.admit(), None);
    }
}
