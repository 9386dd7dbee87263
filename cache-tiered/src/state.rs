//! What the backend and its backplane listener share.

use std::sync::OnceLock;

use crate::backplane::message::Invalidation;
use crate::coherence::Coherence;
use crate::near::NearStore;
use crate::stats::{Counters, bump};

/// The near tier, what vouches for it, and the counters; the listener holds it weakly, so
/// dropping the last backend handle ends the listener.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) alias: String,
    pub(crate) near: NearStore,
    pub(crate) coherence: Coherence,
    pub(crate) counters: Counters,
    /// This backend's id in backplane messages, so its own are skipped: shared by the aliases of
    /// this process on one named channel, which have told each other already.
    pub(crate) instance: u64,
    /// The `cache_stale_total` series of each of [`STALE_OPERATIONS`], made on first use.
    pub(crate) stale_metrics: [OnceLock<metrics::Counter>; STALE_OPERATIONS.len()],
}

/// The operations that can serve a stale value.
pub(crate) const STALE_OPERATIONS: [&str; 4] = ["get", "get_many", "has_key", "get_or_set"];

impl Shared {
    /// Evicts `key` from the near tier, so that a fill racing with it doesn't put it back.
    pub(crate) fn evict(&self, key: &str) {
        self.coherence.invalidating(key);
        self.near.remove(key);
    }

    pub(crate) fn evict_all(&self) {
        self.coherence.invalidating_all();
        self.near.clear();
    }

    /// Evicts what `invalidation` names: its keys, or everything.
    pub(crate) fn forget(&self, invalidation: &Invalidation) {
        match invalidation {
            Invalidation::Keys(keys) => keys.iter().for_each(|key| self.evict(key)),
            Invalidation::All => self.evict_all(),
        }
    }

    /// Counts a value served stale, in the stats and in the `cache_stale_total` metric.
    pub(crate) fn served_stale(&self, operation: &'static str) {
        bump(&self.counters.stale_served);
        // During an outage every read may be stale: the series is registered once per operation,
        // not looked up (and its alias label copied) on each.
        let counter = match STALE_OPERATIONS.iter().position(|&known| known == operation) {
            Some(at) => self.stale_metrics[at]
                .get_or_init(|| self.stale_counter(operation))
                .clone(),
            None => self.stale_counter(operation),
        };
        counter.increment(1);
    }

    fn stale_counter(&self, operation: &'static str) -> metrics::Counter {
        metrics::counter!(
            cache_core::observe::names::STALE,
            cache_core::observe::names::ALIAS => self.alias.clone(),
            cache_core::observe::names::BACKEND => "tiered",
            cache_core::observe::names::OPERATION => operation,
        )
    }
}
