//! The near tier: a private locmem store whose entries carry, ahead of the value, when they stop
//! being fresh, when they were last known good and which backplane connection vouched for them.

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use cache_core::{CacheBackend, Clock, Expiry, Timestamp};
use cache_locmem::LocMemBackend;

/// Bytes ahead of the value: four `u64` and the flags.
const HEADER: usize = 8 * 4 + 1;
/// The value was served by fail-safe: it is stale until the far tier answers again.
const STALE: u8 = 1;

/// One near entry's bookkeeping; the value follows it in the stored bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// When the value was last known good (read from or written to the far tier).
    pub(crate) good_at: Timestamp,
    /// Until when it may be served without asking the far tier.
    pub(crate) fresh_until: Timestamp,
    /// When the far entry expires, if this process knows (it wrote it); `None` when unknown.
    pub(crate) far_expires_at: Option<Timestamp>,
    /// The backplane connection it was filled under: served only while that connection lasts.
    pub(crate) epoch: u64,
    /// Served by fail-safe: stale, kept fresh only for the throttle.
    pub(crate) stale: bool,
}

/// A near entry as read: its stamp and its value (a slice of the stored bytes, not a copy).
#[derive(Debug, Clone)]
pub(crate) struct NearEntry {
    pub(crate) stamp: Stamp,
    pub(crate) value: Bytes,
}

/// The near store and the clock its stamps read.
#[derive(Debug, Clone)]
pub(crate) struct NearStore {
    store: LocMemBackend,
    clock: Clock,
    /// How long a value is kept past its freshness to be served by fail-safe or while revalidating.
    retain: Duration,
}

impl NearStore {
    pub(crate) fn new(max_entries: u64, cull_frequency: u64, clock: Clock, retain: Duration) -> Self {
        let store = LocMemBackend::builder()
            .max_entries(max_entries)
            .cull_frequency(cull_frequency)
            .clock(clock.clone())
            .build();
        NearStore { store, clock, retain }
    }

    #[inline]
    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The entry, fresh or not (locmem drops it once it is past both freshness and retention).
    #[inline]
    pub(crate) fn get(&self, key: &str) -> Option<NearEntry> {
        let stored = self.store.get_now(key)?.ok()??;
        decode(stored)
    }

    pub(crate) fn put(&self, key: &str, value: &[u8], stamp: Stamp) {
        let now = self.now();
        let fresh_for = stamp.fresh_until.saturating_duration_since(now);
        let kept_for = fresh_for.max(stamp.good_at.saturating_duration_since(now) + self.retain);
        if kept_for.is_zero() {
            self.remove(key);
            return;
        }
        let mut bytes = BytesMut::with_capacity(HEADER + value.len());
        bytes.put_u64(stamp.good_at.as_nanos());
        bytes.put_u64(stamp.fresh_until.as_nanos());
        bytes.put_u64(stamp.far_expires_at.map_or(u64::MAX, Timestamp::as_nanos));
        bytes.put_u64(stamp.epoch);
        bytes.put_u8(if stamp.stale { STALE } else { 0 });
        bytes.put_slice(value);
        // A locmem write completes at once: the future is ready on its first poll.
        let _ = futures::FutureExt::now_or_never(self.store.set(key, bytes.freeze(), Expiry::After(kept_for)));
    }

    pub(crate) fn remove(&self, key: &str) {
        let _ = futures::FutureExt::now_or_never(self.store.delete(key));
    }

    pub(crate) fn clear(&self) {
        let _ = futures::FutureExt::now_or_never(self.store.clear());
    }

    /// Entries held, expired ones included.
    pub(crate) fn len(&self) -> usize {
        self.store.len()
    }
}

#[inline]
fn decode(stored: Bytes) -> Option<NearEntry> {
    if stored.len() < HEADER {
        return None;
    }
    let word = |at: usize| {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(&stored[at..at + 8]);
        u64::from_be_bytes(bytes)
    };
    let far_expires_at = word(16);
    let stamp = Stamp {
        good_at: Timestamp::from_nanos(word(0)),
        fresh_until: Timestamp::from_nanos(word(8)),
        far_expires_at: (far_expires_at != u64::MAX).then_some(Timestamp::from_nanos(far_expires_at)),
        epoch: word(24),
        stale: stored[32] & STALE != 0,
    };
    Some(NearEntry {
        stamp,
        value: {
            let mut value = stored;
            bytes::Buf::advance(&mut value, HEADER);
            value
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_reads_back_with_its_stamp() {
        let clock = Clock::manual();
        let near = NearStore::new(100, 3, clock.clone(), Duration::from_secs(10));
        let now = clock.now();
        let stamp = Stamp {
            good_at: now,
            fresh_until: now + Duration::from_secs(1),
            far_expires_at: Some(now + Duration::from_secs(5)),
            epoch: 7,
            stale: true,
        };
        near.put("k", b"value", stamp);
        let entry = near.get("k").expect("stored");
        assert_eq!((entry.stamp, &entry.value[..]), (stamp, &b"value"[..]));
        // Kept past its freshness for the retention, then gone.
        clock.advance(Duration::from_secs(5));
        assert!(near.get("k").is_some());
        clock.advance(Duration::from_secs(6));
        assert!(near.get("k").is_none());
    }
}
