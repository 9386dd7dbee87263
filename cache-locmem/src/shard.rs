//! One LRU list with Django's LocMemCache semantics: every operation, the cull, lazy expiry.
//!
//! A small store is exactly one shard, so everything Django's tests count holds exactly here;
//! the store above only decides which shard a key belongs to.

use cache_core::Timestamp;

use bytes::Bytes;
use cache_core::stored_integer::increment;
use cache_core::{BackendError, BackendResult, Expiry};
use lru::LruCache;

use crate::now::Now;

/// A stored value and when it stops being readable.
#[derive(Debug, Clone)]
pub(crate) struct StoredValue {
    pub(crate) value: Bytes,
    pub(crate) expires_at: Option<Timestamp>,
}

/// Entries in recency order (most recently used first), with their own size limit.
pub(crate) struct Shard {
    // Unbounded: the limit is enforced by `make_room`, with Django's arithmetic, not by `lru`'s
    // one-out-one-in eviction.
    entries: LruCache<Box<str>, StoredValue>,
    max_entries: usize,
    cull_frequency: usize,
    /// No entry expires before this instant (it may be earlier than the true minimum after
    /// removals); `None` when no entry has an expiry. Lets a cull skip the scan for expired
    /// entries when none can have expired, so a full store of long-lived entries culls in O(count).
    earliest_expiry: Option<Timestamp>,
}

impl Shard {
    pub(crate) fn new(max_entries: usize, cull_frequency: usize) -> Self {
        Shard {
            entries: LruCache::unbounded(),
            max_entries,
            cull_frequency,
            earliest_expiry: None,
        }
    }

    /// Entries held, expired ones not yet removed included.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// A live entry's value, made most recently used. An expired entry is removed.
    #[inline]
    pub(crate) fn get(&mut self, key: &str, now: &mut Now<'_>) -> Option<Bytes> {
        match self.entries.get(key) {
            None => None,
            Some(entry) if !now.has_passed(entry.expires_at) => Some(entry.value.clone()),
            Some(_) => {
                self.entries.pop(key);
                None
            }
        }
    }

    /// Whether a live entry exists; an expired one is removed. Recency is left alone.
    pub(crate) fn has_key(&mut self, key: &str, now: &mut Now<'_>) -> bool {
        match self.entries.peek(key) {
            None => false,
            Some(entry) if !now.has_passed(entry.expires_at) => true,
            Some(_) => {
                self.entries.pop(key);
                false
            }
        }
    }

    /// Django's `_set`: cull if full (even when `key` is already there), then store as most
    /// recently used.
    pub(crate) fn set(&mut self, key: Box<str>, entry: StoredValue, now: &mut Now<'_>) {
        self.make_room(now);
        self.note_expiry(entry.expires_at);
        self.entries.put(key, entry);
    }

    /// Stores only if the key is missing or expired. A refused add leaves recency alone.
    pub(crate) fn add(&mut self, key: &str, entry: StoredValue, now: &mut Now<'_>) -> bool {
        let live = self
            .entries
            .peek(key)
            .is_some_and(|existing| !now.has_passed(existing.expires_at));
        if live {
            return false;
        }
        self.set(key.into(), entry, now);
        true
    }

    /// A new expiry for a live entry; whether there was one. Neither recency nor an expired
    /// entry is touched (Django leaves the expired entry for a later get or cull).
    pub(crate) fn touch(&mut self, key: &str, expiry: Expiry, now: &mut Now<'_>) -> bool {
        let Some(entry) = self.entries.peek_mut(key) else {
            return false;
        };
        if now.has_passed(entry.expires_at) {
            return false;
        }
        let expires_at = now.expires_at(expiry);
        entry.expires_at = expires_at;
        self.note_expiry(expires_at);
        true
    }

    /// Removes the entry; whether it was live. An expired entry is removed too but reports false.
    pub(crate) fn delete(&mut self, key: &str, now: &mut Now<'_>) -> bool {
        self.entries
            .pop(key)
            .is_some_and(|entry| !now.has_passed(entry.expires_at))
    }

    /// Adds `delta` to the stored decimal integer in place: expiry kept, made most recently used,
    /// no cull (the entry count does not change). A failed incr changes nothing but removing an
    /// expired entry, as in Django.
    pub(crate) fn incr(&mut self, key: &str, delta: i64, now: &mut Now<'_>) -> BackendResult<i64> {
        let not_found = BackendError::key_not_found;
        let Some(entry) = self.entries.peek_mut(key) else {
            return Err(not_found());
        };
        if now.has_passed(entry.expires_at) {
            self.entries.pop(key);
            return Err(not_found());
        }
        // The façade adds the alias and the caller's key.
        let (new, stored) = increment(&entry.value, delta)?;
        entry.value = stored;
        self.entries.promote(key);
        Ok(new)
    }

    /// Removes every entry.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.earliest_expiry = None;
    }

    /// Django's `_cull`, run before every insert into a full shard, with expired entries dropped
    /// first: only when that leaves the shard still full are live entries evicted, least recently
    /// used first, `len / cull_frequency` of them (everything when `cull_frequency` is 0).
    fn make_room(&mut self, now: &mut Now<'_>) {
        if self.entries.len() < self.max_entries {
            return;
        }
        self.remove_expired(now);
        if self.entries.len() < self.max_entries {
            return;
        }
        if self.cull_frequency == 0 {
            self.clear();
            return;
        }
        for _ in 0..self.entries.len() / self.cull_frequency {
            self.entries.pop_lru();
        }
    }

    /// Drops every expired entry, when the earliest expiry says any can have expired.
    fn remove_expired(&mut self, now: &mut Now<'_>) {
        match self.earliest_expiry {
            Some(earliest) if earliest <= now.get() => {}
            _ => return,
        }
        let now = now.get();
        let mut earliest = None;
        self.entries.retain(|_, entry| match entry.expires_at {
            Some(at) if at <= now => false,
            Some(at) => {
                earliest = Some(earliest.map_or(at, |e: Timestamp| e.min(at)));
                true
            }
            None => true,
        });
        self.earliest_expiry = earliest;
    }

    fn note_expiry(&mut self, expires_at: Option<Timestamp>) {
        if let Some(at) = expires_at {
            self.earliest_expiry = Some(self.earliest_expiry.map_or(at, |e| e.min(at)));
        }
    }

    /// Keys from most to least recently used, for tests of the recency rules.
    #[cfg(test)]
    pub(crate) fn keys(&self) -> Vec<&str> {
        self.entries.iter().map(|(key, _)| &**key).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use cache_core::Clock;

    use super::*;

    fn entry(value: &'static str) -> StoredValue {
        StoredValue {
            value: Bytes::from_static(value.as_bytes()),
            expires_at: None,
        }
    }

    fn expiring(now: &mut Now<'_>, value: &'static str, seconds: u64) -> StoredValue {
        StoredValue {
            value: Bytes::from_static(value.as_bytes()),
            expires_at: now.expires_at(Expiry::After(Duration::from_secs(seconds))),
        }
    }

    /// Django's max-5 ordering example (`LocMemCacheTests.test_lru_get`/`test_lru_set`), read off the recency list itself.
    #[test]
    fn recency_follows_django_max_5_example() {
        let clock = Clock::manual();
        let now = &mut Now::new(&clock);
        let mut shard = Shard::new(5, 3);
        for key in ["0", "1", "2", "3", "4"] {
            shard.set(key.into(), entry("v"), now);
        }
        assert_eq!(shard.keys(), ["4", "3", "2", "1", "0"]);
        assert!(shard.get("0", now).is_some());
        assert_eq!(shard.keys(), ["0", "4", "3", "2", "1"]);
        assert!(shard.touch("1", Expiry::Never, now));
        assert!(shard.has_key("2", now));
        assert!(!shard.add("0", entry("other"), now));
        assert_eq!(shard.keys(), ["0", "4", "3", "2", "1"]);
        shard.set("3".into(), entry("new"), now);
        assert_eq!(shard.keys(), ["3", "0", "4", "2"]);
    }

    #[test]
    fn incr_refreshes_recency_only_when_it_succeeds() {
        let clock = Clock::manual();
        let now = &mut Now::new(&clock);
        let mut shard = Shard::new(10, 3);
        shard.set("n".into(), entry("1"), now);
        shard.set("s".into(), entry("\"x\""), now);
        shard.set("last".into(), entry("1"), now);
        assert_eq!(shard.incr("n", 1, now).unwrap(), 2);
        assert_eq!(shard.keys(), ["n", "last", "s"]);
        assert!(matches!(shard.incr("s", 1, now), Err(error) if *error.kind() == cache_core::ErrorKind::NotAnInteger));
        assert_eq!(shard.keys(), ["n", "last", "s"]);
    }

    #[test]
    fn the_expiry_scan_runs_only_when_something_can_have_expired() {
        let clock = Clock::manual();
        let mut shard = Shard::new(3, 3);
        let now = &mut Now::new(&clock);
        shard.set("a".into(), expiring(now, "v", 10), now);
        shard.set("b".into(), expiring(now, "v", 20), now);
        shard.set("c".into(), entry("v"), now);
        clock.advance(Duration::from_secs(10));
        let now = &mut Now::new(&clock);
        // Full: the cull finds `a` expired, which frees room, so no live entry goes.
        shard.set("d".into(), entry("v"), now);
        assert_eq!(shard.keys(), ["d", "c", "b"]);
        assert_eq!(
            shard.earliest_expiry,
            now.expires_at(Expiry::After(Duration::from_secs(10)))
        );
        // Full again, nothing expired yet: Django's arithmetic, 3 / 3 = 1 LRU entry.
        shard.set("e".into(), entry("v"), now);
        assert_eq!(shard.keys(), ["e", "d", "c"]);
        // `b` went out by LRU; the bound stays conservative until the next scan recomputes it.
        clock.advance(Duration::from_secs(100));
        shard.set("f".into(), entry("v"), &mut Now::new(&clock));
        assert_eq!(shard.earliest_expiry, None);
        assert_eq!(shard.keys(), ["f", "e", "d"]);
    }
}
