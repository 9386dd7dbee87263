//! "Now" as the files record it: nanoseconds since the Unix epoch, which every process reading
//! the directory agrees on (a monotonic clock's origin is private to a boot or a process).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cache_core::{Clock, Expiry, Remaining};

/// The expiry stored for an entry that never expires.
pub(crate) const NEVER: u64 = u64::MAX;

/// The time files are stamped and checked with.
///
/// On the system clock it is the wall clock. A manual [`Clock`] (tests) is read as nanoseconds
/// since the epoch, so every backend built with the same manual clock agrees on the time, and a
/// test moves it with [`Clock::advance`] instead of sleeping; files written under a manual clock
/// mean nothing to a process on the real one.
#[derive(Debug, Clone)]
pub(crate) struct WallClock {
    clock: Clock,
}

impl WallClock {
    pub(crate) fn new(clock: Clock) -> Self {
        WallClock { clock }
    }

    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Nanoseconds since the Unix epoch (0 for a system clock set before 1970).
    pub(crate) fn now(&self) -> u64 {
        if self.clock.is_manual() {
            return self.clock.now().as_nanos();
        }
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| u64::try_from(since.as_nanos()).unwrap_or(NEVER - 1))
    }

    /// The stored expiry for a write now: [`NEVER`], or the instant it expires (saturating just
    /// short of `NEVER`, some 500 years out).
    pub(crate) fn expires_at(&self, expiry: Expiry) -> u64 {
        match expiry {
            Expiry::Never => NEVER,
            Expiry::After(after) => {
                let after = u64::try_from(after.as_nanos()).unwrap_or(NEVER);
                self.now().saturating_add(after).min(NEVER - 1)
            }
        }
    }

    /// What an entry stamped `expires_at`, found live, has left (for a tier kept in front).
    pub(crate) fn remaining(&self, expires_at: u64) -> Remaining {
        if expires_at == NEVER {
            return Remaining::Never;
        }
        match expires_at.checked_sub(self.now()) {
            Some(left) if left > 0 => Remaining::For(Duration::from_nanos(left)),
            // Expired between the check and now: as good as gone.
            _ => Remaining::For(Duration::from_nanos(1)),
        }
    }

    /// Whether an entry stamped `expires_at` has expired: at its expiry instant it is gone, as
    /// locmem's is.
    pub(crate) fn has_expired(&self, expires_at: u64) -> bool {
        expires_at != NEVER && expires_at <= self.now()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_manual_clock_decides_expiry() {
        let clock = Clock::manual();
        let wall = WallClock::new(clock.clone());
        let at = wall.expires_at(Expiry::After(Duration::from_secs(1)));
        assert!(!wall.has_expired(at));
        clock.advance(Duration::from_millis(999));
        assert!(!wall.has_expired(at));
        clock.advance(Duration::from_millis(1));
        assert!(wall.has_expired(at));
        assert!(!wall.has_expired(wall.expires_at(Expiry::Never)));
    }

    #[test]
    fn what_an_entry_has_left_is_read_from_its_expiry() {
        let clock = Clock::manual();
        let wall = WallClock::new(clock.clone());
        let at = wall.expires_at(Expiry::After(Duration::from_secs(30)));
        assert_eq!(wall.remaining(at), Remaining::For(Duration::from_secs(30)));
        clock.advance(Duration::from_secs(10));
        assert_eq!(wall.remaining(at), Remaining::For(Duration::from_secs(20)));
        assert_eq!(wall.remaining(wall.expires_at(Expiry::Never)), Remaining::Never);
    }

    #[test]
    fn far_expiries_saturate_short_of_never() {
        let wall = WallClock::new(Clock::system());
        assert_eq!(wall.expires_at(Expiry::After(Duration::MAX)), NEVER - 1);
        assert!(wall.now() > 1_700_000_000 * 1_000_000_000);
    }
}
