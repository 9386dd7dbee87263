//! Time as backends see it: a fast coarse monotonic clock, or one tests move by hand.

use std::fmt;
use std::ops::{Add, Sub};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A source of "now" for expiry checks.
///
/// The system clock is the coarse monotonic clock (`CLOCK_MONOTONIC_COARSE` on Linux): reading it
/// costs a few nanoseconds instead of the ~25 ns of `Instant::now()`, which matters on a cache hit,
/// at the price of a resolution of a few milliseconds: an entry expires within one tick of its
/// timeout, either side. In-process backends take a `Clock` so tests can move time instead of sleeping.
#[derive(Clone, Default)]
pub struct Clock {
    manual: Option<Arc<AtomicU64>>,
}

/// A point in time on a [`Clock`], in nanoseconds from an arbitrary origin. Arithmetic saturates,
/// so a far-future expiry can't overflow into the past.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The timestamp `nanos` nanoseconds after the origin.
    pub const fn from_nanos(nanos: u64) -> Self {
        Timestamp(nanos)
    }

    /// Nanoseconds since the origin.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// `self + duration`, or `None` when it can't be represented (as good as never).
    pub fn checked_add(self, duration: Duration) -> Option<Timestamp> {
        let nanos = u64::try_from(duration.as_nanos()).ok()?;
        self.0.checked_add(nanos).map(Timestamp)
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Timestamp) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Timestamp {
    type Output = Timestamp;
    fn add(self, duration: Duration) -> Timestamp {
        self.checked_add(duration).unwrap_or(Timestamp(u64::MAX))
    }
}

impl Sub for Timestamp {
    type Output = Duration;
    fn sub(self, earlier: Timestamp) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

fn coarse_now() -> Timestamp {
    let ticks = coarsetime::Instant::now_without_cache_update().as_ticks();
    Timestamp(coarsetime::Duration::from_ticks(ticks).as_nanos())
}

impl Clock {
    /// The coarse system monotonic clock.
    pub fn system() -> Self {
        Clock { manual: None }
    }

    /// A clock that stands still until [`Clock::advance`] moves it. Clones share the same time.
    pub fn manual() -> Self {
        Clock {
            manual: Some(Arc::new(AtomicU64::new(coarse_now().as_nanos()))),
        }
    }

    /// The current time.
    #[inline]
    pub fn now(&self) -> Timestamp {
        match &self.manual {
            None => coarse_now(),
            Some(nanos) => Timestamp(nanos.load(Ordering::Acquire)),
        }
    }

    /// Moves a manual clock forward. Returns false (and does nothing) on the system clock.
    pub fn advance(&self, by: Duration) -> bool {
        match &self.manual {
            None => false,
            Some(nanos) => {
                let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
                // Saturate rather than wrap: a test advancing by "forever" must not go back in time.
                let _ = nanos.fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| Some(now.saturating_add(by)));
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

    #[test]
    fn the_system_clock_moves_forward() {
        let clock = Clock::system();
        let before = clock.now();
        std::thread::sleep(Duration::from_millis(30));
        let elapsed = clock.now() - before;
        assert!(elapsed >= Duration::from_millis(20), "{elapsed:?}");
    }

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        let far = Timestamp::from_nanos(u64::MAX - 1);
        assert_eq!(far.checked_add(Duration::from_secs(1)), None);
        assert_eq!(far + Duration::from_secs(1), Timestamp::from_nanos(u64::MAX));
        assert_eq!(Timestamp::from_nanos(1) - far, Duration::ZERO);
        let clock = Clock::manual();
        clock.advance(Duration::MAX);
        clock.advance(Duration::MAX);
        assert_eq!(clock.now(), Timestamp::from_nanos(u64::MAX));
    }
}
