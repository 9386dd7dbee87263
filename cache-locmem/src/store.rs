//! A whole locmem store: its shards, which shard a key lives in, and the clock it reads.

use std::hash::BuildHasher;

use bytes::Bytes;
use cache_core::{BackendResult, Clock, Expiry};
use parking_lot::Mutex;

use crate::now::Now;
use crate::options::LocMemOptions;
use crate::shard::{Shard, StoredValue};

/// Stores with fewer entries than this are one shard, so Django's cull and LRU results hold
/// exactly; every test in Django's catalogue uses limits far below it. At this size a single
/// lock is rarely contended long enough to matter, and a cull removes at most a third of the
/// store, a few hundred microseconds.
pub(crate) const SHARDING_THRESHOLD: u64 = 4096;

/// Shards of a larger store. A power of two, so the shard is a few bits of the key's hash;
/// enough to keep two to a few dozen threads mostly off each other's locks.
pub(crate) const SHARDS: usize = 16;

/// The shared state behind every `LocMemBackend` of one location.
pub(crate) struct Store {
    shards: Box<[Padded<Mutex<Shard>>]>,
    /// `log2(shards.len())`; 0 for a single shard, which then skips hashing.
    shard_bits: u32,
    hasher: foldhash::fast::RandomState,
    clock: Clock,
    options: LocMemOptions,
}

/// Keeps each shard's lock on its own cache lines, so two threads locking neighbouring shards
/// don't invalidate each other's line (128 bytes: adjacent-line prefetching pairs 64-byte lines).
#[repr(align(128))]
struct Padded<T>(T);

impl Store {
    pub(crate) fn new(options: LocMemOptions, clock: Clock) -> Store {
        let max_entries = usize::try_from(options.max_entries).unwrap_or(usize::MAX);
        let cull_frequency = usize::try_from(options.cull_frequency).unwrap_or(usize::MAX);
        let (count, per_shard) = if options.max_entries < SHARDING_THRESHOLD {
            (1, max_entries)
        } else {
            (SHARDS, max_entries.div_ceil(SHARDS))
        };
        Store {
            shards: (0..count)
                .map(|_| Padded(Mutex::new(Shard::new(per_shard, cull_frequency))))
                .collect(),
            shard_bits: count.trailing_zeros(),
            hasher: foldhash::fast::RandomState::default(),
            clock,
            options,
        }
    }

    pub(crate) fn options(&self) -> LocMemOptions {
        self.options
    }

    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    pub(crate) fn shard_count(&self) -> usize {
        self.shards.len()
    }

    #[inline]
    fn shard(&self, key: &str) -> &Mutex<Shard> {
        if self.shard_bits == 0 {
            return &self.shards[0].0;
        }
        // The top bits: the shard maps hash with a different seed, so these stay independent of
        // the buckets a key lands in within its shard.
        let index = self.hasher.hash_one(key) >> (u64::BITS - self.shard_bits);
        &self.shards[index as usize].0
    }

    #[inline]
    pub(crate) fn get(&self, key: &str) -> Option<Bytes> {
        let mut now = Now::new(&self.clock);
        self.shard(key).lock().get(key, &mut now)
    }

    pub(crate) fn has_key(&self, key: &str) -> bool {
        let mut now = Now::new(&self.clock);
        self.shard(key).lock().has_key(key, &mut now)
    }

    pub(crate) fn set(&self, key: &str, value: Bytes, expiry: Expiry) {
        let mut now = Now::new(&self.clock);
        let entry = StoredValue {
            value,
            expires_at: now.expires_at(expiry),
        };
        // Allocated before taking the lock, to keep the critical section short.
        let key_owned: Box<str> = key.into();
        self.shard(key).lock().set(key_owned, entry, &mut now);
    }

    pub(crate) fn add(&self, key: &str, value: Bytes, expiry: Expiry) -> bool {
        let mut now = Now::new(&self.clock);
        let entry = StoredValue {
            value,
            expires_at: now.expires_at(expiry),
        };
        self.shard(key).lock().add(key, entry, &mut now)
    }

    pub(crate) fn touch(&self, key: &str, expiry: Expiry) -> bool {
        let mut now = Now::new(&self.clock);
        self.shard(key).lock().touch(key, expiry, &mut now)
    }

    pub(crate) fn delete(&self, key: &str) -> bool {
        let mut now = Now::new(&self.clock);
        self.shard(key).lock().delete(key, &mut now)
    }

    pub(crate) fn incr(&self, key: &str, delta: i64) -> BackendResult<i64> {
        let mut now = Now::new(&self.clock);
        self.shard(key).lock().incr(key, delta, &mut now)
    }

    pub(crate) fn clear(&self) {
        for shard in &self.shards {
            shard.0.lock().clear();
        }
    }

    /// Entries held across all shards, expired ones not yet removed included.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|shard| shard.0.lock().len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(max_entries: u64) -> Store {
        let mut options = LocMemOptions::default();
        options.max_entries = max_entries;
        Store::new(options, Clock::manual())
    }

    #[test]
    fn small_stores_are_one_shard_large_ones_sixteen() {
        assert_eq!(store(0).shard_count(), 1);
        assert_eq!(store(300).shard_count(), 1);
        assert_eq!(store(SHARDING_THRESHOLD - 1).shard_count(), 1);
        assert_eq!(store(SHARDING_THRESHOLD).shard_count(), SHARDS);
        assert_eq!(store(u64::MAX).shard_count(), SHARDS);
    }

    #[test]
    fn a_large_store_holds_about_max_entries_spread_over_every_shard() {
        let store = store(10_000);
        for i in 0..20_000 {
            store.set(&format!("key:{i}"), Bytes::from_static(b"v"), Expiry::Never);
        }
        // Each shard holds at most ceil(10000 / 16) = 625 and culls a third when full.
        let per_shard: Vec<usize> = store.shards.iter().map(|s| s.0.lock().len()).collect();
        assert!(per_shard.iter().all(|&n| (400..=625).contains(&n)), "{per_shard:?}");
        assert!(store.len() <= 10_000);
        store.clear();
        assert_eq!(store.len(), 0);
    }
}
