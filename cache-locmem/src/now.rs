//! "Now", read from the store's clock at most once per operation and only when an entry needs it.

use cache_core::Timestamp;

use cache_core::{Clock, Expiry};

/// The current instant, read lazily.
///
/// Most entries of a typical store never expire, or a `get` finds one that has no expiry: then
/// the clock is never read at all, which keeps the hit path to a lock and a hash lookup.
pub(crate) struct Now<'c> {
    clock: &'c Clock,
    read: Option<Timestamp>,
}

impl<'c> Now<'c> {
    pub(crate) fn new(clock: &'c Clock) -> Self {
        Now { clock, read: None }
    }

    /// The instant, read on first use and the same for the rest of the operation.
    #[inline]
    pub(crate) fn get(&mut self) -> Timestamp {
        *self.read.get_or_insert_with(|| self.clock.now())
    }

    /// Whether something that expires at `expires_at` has expired: Django's `exp <= now`.
    #[inline]
    pub(crate) fn has_passed(&mut self, expires_at: Option<Timestamp>) -> bool {
        expires_at.is_some_and(|at| at <= self.get())
    }

    /// When an entry written now with `expiry` expires; `None` for never. A duration too long
    /// for `Timestamp` to represent is as good as never.
    #[inline]
    pub(crate) fn expires_at(&mut self, expiry: Expiry) -> Option<Timestamp> {
        match expiry {
            Expiry::Never => None,
            Expiry::After(duration) => self.get().checked_add(duration),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn expiry_is_inclusive_and_read_once() {
        let clock = Clock::manual();
        let mut now = Now::new(&clock);
        let at = now.expires_at(Expiry::After(Duration::from_secs(2)));
        assert!(!now.has_passed(at));
        assert!(!now.has_passed(None));
        clock.advance(Duration::from_secs(2));
        // Still the instant read at the start of the operation.
        assert!(!now.has_passed(at));
        assert!(Now::new(&clock).has_passed(at));
        assert_eq!(now.expires_at(Expiry::After(Duration::MAX)), None);
        assert_eq!(now.expires_at(Expiry::Never), None);
    }
}
