//! Per-alias counters read in process ([`Metrics`]); the same events go to the `metrics` facade
//! through `observe::Instruments`.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// How many independent counter stripes an alias keeps. Threads pick one each, so two threads
/// counting hits on one alias don't fight over a cache line on every `get`.
const STRIPES: usize = 8;

/// A point-in-time reading of an alias' counters.
///
/// Read through its accessors; the fields are private so that counters can be added without
/// breaking callers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    hits: u64,
    misses: u64,
    coalesced: u64,
    sets: u64,
    deletes: u64,
    errors: u64,
    caller_errors: u64,
    ignored_errors: u64,
}

impl Metrics {
    /// Reads that found a value (`get`, `get_many` per key, `has_key` true, `get_or_set` hits).
    pub fn hits(&self) -> u64 {
        self.hits
    }

    /// Reads that found nothing. A `get_or_set` caller that waited for another caller's
    /// producer is [`Metrics::coalesced`] instead.
    pub fn misses(&self) -> u64 {
        self.misses
    }

    /// `get_or_set` callers that missed while another caller in this process was producing the
    /// same key, and took its value instead of running their own producer.
    pub fn coalesced(&self) -> u64 {
        self.coalesced
    }

    /// Writes (`set`, `add` that stored, `set_many` per key, `incr`/`decr`, `touch`).
    pub fn sets(&self) -> u64 {
        self.sets
    }

    /// Deletions: `delete`, `touch` and `set` with a zero timeout when they removed something, and
    /// every key `delete_many` (or `set_many` with a zero timeout) was asked to remove (backends
    /// don't report which existed).
    pub fn deletes(&self) -> u64 {
        self.deletes
    }

    /// Calls that failed because a server or the connection to it did (a timeout, an unreachable
    /// server, an open circuit, a refusal, a broken reply, an I/O error); once per call. Errors
    /// an alias with `ignore_exceptions` swallowed are counted here too.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Calls refused because of what the caller asked: an invalid key, a value too large or that
    /// can't be encoded or decoded, `incr` of a missing key or of a non-integer, an overflow, an
    /// operation the backend doesn't support. Counted apart from [`Metrics::errors`] so that
    /// server failures stand out.
    pub fn caller_errors(&self) -> u64 {
        self.caller_errors
    }

    /// Errors an alias with `ignore_exceptions` on turned into a miss or a dropped write (each is
    /// counted in [`Metrics::errors`] too).
    pub fn ignored_errors(&self) -> u64 {
        self.ignored_errors
    }

    /// What was counted between `earlier` and this reading.
    pub fn since(&self, earlier: &Metrics) -> Metrics {
        Metrics {
            hits: self.hits - earlier.hits,
            misses: self.misses - earlier.misses,
            coalesced: self.coalesced - earlier.coalesced,
            sets: self.sets - earlier.sets,
            deletes: self.deletes - earlier.deletes,
            errors: self.errors - earlier.errors,
            caller_errors: self.caller_errors - earlier.caller_errors,
            ignored_errors: self.ignored_errors - earlier.ignored_errors,
        }
    }
}

#[derive(Default)]
#[repr(align(64))]
struct Stripe {
    hits: AtomicU64,
    misses: AtomicU64,
    coalesced: AtomicU64,
    sets: AtomicU64,
    deletes: AtomicU64,
    errors: AtomicU64,
    caller_errors: AtomicU64,
    ignored_errors: AtomicU64,
}

/// The live counters of one alias.
#[derive(Default)]
pub(crate) struct Counters {
    stripes: [Stripe; STRIPES],
}

/// Which counter to bump.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Event {
    Hit,
    Miss,
    /// A single-flight follower: it waited for another caller's producer.
    Coalesced,
    Set,
    Delete,
    /// An error swallowed by `ignore_exceptions`.
    Ignored,
    /// A server failure.
    ServerError,
    /// An error of the caller's making.
    CallerError,
}

impl Event {
    /// How many events have a plain counter in the facade (errors have one per kind).
    pub(crate) const FACADE_COUNT: usize = 6;

    /// The event's slot among the facade's plain counters; `None` for errors, which
    /// `Instruments::count_error` labels by kind.
    #[inline]
    pub(crate) const fn facade_index(self) -> Option<usize> {
        match self {
            Event::Hit => Some(0),
            Event::Miss => Some(1),
            Event::Coalesced => Some(2),
            Event::Set => Some(3),
            Event::Delete => Some(4),
            Event::Ignored => Some(5),
            Event::ServerError | Event::CallerError => None,
        }
    }

    pub(crate) const fn metric_name(self) -> &'static str {
        use crate::observe::names;
        match self {
            Event::Hit => names::HITS,
            Event::Miss => names::MISSES,
            Event::Coalesced => names::COALESCED,
            Event::Set => names::SETS,
            Event::Delete => names::DELETES,
            Event::Ignored => names::IGNORED_ERRORS,
            Event::ServerError => names::ERRORS,
            Event::CallerError => names::CALLER_ERRORS,
        }
    }
}

#[inline]
fn stripe_of_this_thread() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    // Const-initialised, so reading it is a plain thread-local load with no lazy-init check.
    thread_local! {
        static STRIPE: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    STRIPE.with(|stripe| match stripe.get() {
        usize::MAX => {
            let chosen = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
            stripe.set(chosen);
            chosen
        }
        chosen => chosen,
    })
}

impl Counters {
    #[inline]
    pub(crate) fn count(&self, event: Event, n: u64) {
        let stripe = &self.stripes[stripe_of_this_thread()];
        let counter = match event {
            Event::Hit => &stripe.hits,
            Event::Miss => &stripe.misses,
            Event::Coalesced => &stripe.coalesced,
            Event::Set => &stripe.sets,
            Event::Delete => &stripe.deletes,
            Event::ServerError => &stripe.errors,
            Event::CallerError => &stripe.caller_errors,
            Event::Ignored => &stripe.ignored_errors,
        };
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn read(&self) -> Metrics {
        let sum = |pick: fn(&Stripe) -> &AtomicU64| self.stripes.iter().map(|s| pick(s).load(Ordering::Relaxed)).sum();
        Metrics {
            hits: sum(|s| &s.hits),
            misses: sum(|s| &s.misses),
            coalesced: sum(|s| &s.coalesced),
            sets: sum(|s| &s.sets),
            deletes: sum(|s| &s.deletes),
            errors: sum(|s| &s.errors),
            caller_errors: sum(|s| &s.caller_errors),
            ignored_errors: sum(|s| &s.ignored_errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_many_threads_add_up() {
        let counters = Counters::default();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..1000 {
                        counters.count(Event::Hit, 1);
                    }
                    counters.count(Event::ServerError, 2);
                });
            }
        });
        let read = counters.read();
        assert_eq!(read.hits, 4000);
        assert_eq!(read.errors, 8);
        assert_eq!(read.misses, 0);
    }
}
