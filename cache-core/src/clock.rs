//! Time as backends see it: the real monotonic clock, or one tests move by hand.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A source of "now" for expiry checks.
///
/// In-process backends take a `Clock` so that tests can move time forward instead of sleeping.
#[derive(Clone, Default)]
pub struct Clock {
    manual: Option<Arc<ManualTime>>,
}

struct ManualTime {
    start: Instant,
    offset_nanos: AtomicU64,
}

impl Clock {
    /// The real monotonic clock.
    pub fn system() -> Self {
        Clock { manual: None }
    }

    /// A clock that stands still until [`Clock::advance`] moves it. Clones share the same time.
    pub fn manual() -> Self {
        Clock {
            manual: Some(Arc::new(ManualTime {
                start: Instant::now(),
                offset_nanos: AtomicU64::new(0),
            })),
        }
    }

    /// The current instant.
    #[inline]
    pub fn now(&self) -> Instant {
        match &self.manual {
            None => Instant::now(),
            Some(time) => time.start + Duration::from_nanos(time.offset_nanos.load(Ordering::Acquire)),
        }
    }

    /// Moves a manual clock forward. Returns false (and does nothing) on the system clock.
    pub fn advance(&self, by: Duration) -> bool {
        match &self.manual {
            None => false,
            Some(time) => {
                let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
                time.offset_nanos.fetch_add(nanos, Ordering::AcqRel);
                true
            }
        }
    }

    /// Whether this clock only moves when told to.
    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_manual() {
            "Clock::manual"
        } else {
            "Clock::system"
        })
    }
}

impl PartialEq for Clock {
    fn eq(&self, other: &Self) -> bool {
        match (&self.manual, &other.manual) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced_and_clones_share_it() {
        let clock = Clock::manual();
        let twin = clock.clone();
        let before = clock.now();
        assert_eq!(clock.now(), before);
        assert!(twin.advance(Duration::from_secs(5)));
        assert_eq!(clock.now() - before, Duration::from_secs(5));
        assert!(!Clock::system().advance(Duration::from_secs(1)));
    }
}
