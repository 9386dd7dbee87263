//! What lets a near entry be served without asking the far tier: the backplane connection it was
//! filled under still lasts and has answered recently, and no invalidation of its key arrived
//! while it was being read from the far tier.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use cache_core::Timestamp;

/// Stripes of the per-key invalidation counters: a fill checks only its key's stripe, so writes
/// to other keys rarely stop it.
const STRIPES: usize = 256;

/// The backplane's state as the near tier reads it.
#[derive(Debug)]
pub(crate) struct Coherence {
    /// Bumped whenever the backplane connection is lost or made: entries filled under another
    /// epoch may have missed invalidations and are never served as fresh.
    epoch: AtomicU64,
    /// Nanoseconds on the near clock until which the current connection vouches for the near
    /// tier: the last answered heartbeat's send time plus `backplane_max_staleness`. Zero while
    /// disconnected; `u64::MAX` without a backplane (nothing to wait for).
    vouched_until: AtomicU64,
    /// Bumped (before the eviction) by every invalidation of a key of the stripe.
    stripes: Box<[AtomicU64]>,
    hasher: foldhash::fast::RandomState,
}

/// A snapshot taken before reading the far tier, checked before and after filling the near tier.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FillTicket {
    pub(crate) epoch: u64,
    stripe: usize,
    count: u64,
}

impl Coherence {
    pub(crate) fn new(has_backplane: bool) -> Self {
        Coherence {
            epoch: AtomicU64::new(1),
            vouched_until: AtomicU64::new(if has_backplane { 0 } else { u64::MAX }),
            stripes: (0..STRIPES).map(|_| AtomicU64::new(0)).collect(),
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    /// Whether an entry filled under `epoch` may be served as fresh at `now`.
    #[inline]
    pub(crate) fn vouches(&self, epoch: u64, now: Timestamp) -> bool {
        now.as_nanos() < self.vouched_until.load(Ordering::Acquire) && epoch == self.epoch.load(Ordering::Acquire)
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Whether the backplane currently vouches at all.
    pub(crate) fn is_vouching(&self, now: Timestamp) -> bool {
        now.as_nanos() < self.vouched_until.load(Ordering::Acquire)
    }

    /// The connection was made (a new epoch: what was filled before it is unvouched).
    pub(crate) fn connected(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// A heartbeat sent at `sent` was answered: every invalidation published before it has arrived.
    pub(crate) fn answered(&self, vouched_until: Timestamp) {
        self.vouched_until.fetch_max(vouched_until.as_nanos(), Ordering::AcqRel);
    }

    /// The connection is gone: nothing is vouched for until the next one.
    pub(crate) fn disconnected(&self) {
        self.vouched_until.store(0, Ordering::Release);
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    fn stripe(&self, key: &str) -> usize {
        (self.hasher.hash_one(key) as usize) % STRIPES
    }

    /// Called before an eviction of `key`, so a fill racing with it can tell.
    pub(crate) fn invalidating(&self, key: &str) {
        self.stripes[self.stripe(key)].fetch_add(1, Ordering::AcqRel);
    }

    /// Called before every key is evicted.
    pub(crate) fn invalidating_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        for stripe in &*self.stripes {
            stripe.fetch_add(1, Ordering::AcqRel);
        }
    }

    pub(crate) fn ticket(&self, key: &str) -> FillTicket {
        let stripe = self.stripe(key);
        FillTicket {
            epoch: self.epoch(),
            stripe,
            count: self.stripes[stripe].load(Ordering::Acquire),
        }
    }

    /// A write of the ticket's key landed in the far tier: it counts as an invalidation, so a read
    /// of the far tier that started before it can no longer fill what it read. The ticket for the
    /// write's own fill, unless something else invalidated the key since `ticket` was taken (then
    /// which value the far tier holds is unknown, and nothing may be filled).
    pub(crate) fn written(&self, ticket: FillTicket) -> Option<FillTicket> {
        let before = self.stripes[ticket.stripe].fetch_add(1, Ordering::AcqRel);
        (before == ticket.count).then_some(FillTicket {
            count: before + 1,
            ..ticket
        })
    }

    /// Whether no invalidation of the ticket's stripe arrived since it was taken.
    pub(crate) fn still_valid(&self, ticket: FillTicket) -> bool {
        self.stripes[ticket.stripe].load(Ordering::Acquire) == ticket.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read of the far tier that started before a write of the same key in this process must
    /// not fill what it read once the write has landed (this process skips its own backplane
    /// message, so nothing else would evict it); the write's own fill goes ahead.
    #[test]
    fn a_write_stops_an_earlier_read_from_filling_and_fills_itself() {
        let coherence = Coherence::new(false);
        let read = coherence.ticket("k");
        let write = coherence.ticket("k");
        let fill = coherence.written(write).expect("nothing came in between");
        assert!(!coherence.still_valid(read), "the earlier read may not fill");
        assert!(coherence.still_valid(fill), "the write fills");
    }

    /// Two writes of one key under way together: which one the far tier kept is unknown, so only
    /// the first to land may fill, and only while the second hasn't landed.
    #[test]
    fn of_two_concurrent_writes_at_most_one_fills() {
        let coherence = Coherence::new(false);
        let (first, second) = (coherence.ticket("k"), coherence.ticket("k"));
        let fill = coherence.written(first).expect("the first to land");
        assert!(coherence.written(second).is_none(), "the second may not fill");
        assert!(
            !coherence.still_valid(fill),
            "nor may the first, once the second landed"
        );
    }
}
