//! Per-alias counters: hits, misses, sets, deletes, errors.

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
    sets: u64,
    deletes: u64,
    errors: u64,
    ignored_errors: u64,
}

impl Metrics {
    /// Reads that found a value (`get`, `get_many` per key, `has_key` true, `get_or_set` hits).
    pub fn hits(&self) -> u64 {
        self.hits
    }

    /// Reads that found nothing.
    pub fn misses(&self) -> u64 {
        self.misses
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

    /// Calls that returned an error from the backend or codec, or refused a key or value before
    /// I/O; once per call (a `set_many` key reported as failed is not an error).
    pub fn errors(&self) -> u64 {
        self.errors
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
            sets: self.sets - earlier.sets,
            deletes: self.deletes - earlier.deletes,
            errors: self.errors - earlier.errors,
            ignored_errors: self.ignored_errors - earlier.ignored_errors,
        }
    }
}

#[derive(Default)]
#[repr(align(64))]
struct Stripe {
    hits: AtomicU64,
    misses: AtomicU64,
    sets: AtomicU64,
    deletes: AtomicU64,
    errors: AtomicU64,
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
    Set,
    Delete,
    Error,
    /// An error swallowed by `ignore_exceptions`.
    Ignored,
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
            Event::Set => &stripe.sets,
            Event::Delete => &stripe.deletes,
            Event::Error => &stripe.errors,
            Event::Ignored => &stripe.ignored_errors,
        };
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn read(&self) -> Metrics {
        let sum = |pick: fn(&Stripe) -> &AtomicU64| self.stripes.iter().map(|s| pick(s).load(Ordering::Relaxed)).sum();
        Metrics {
            hits: sum(|s| &s.hits),
            misses: sum(|s| &s.misses),
            sets: sum(|s| &s.sets),
            deletes: sum(|s| &s.deletes),
            errors: sum(|s| &s.errors),
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
                    counters.count(Event::Error, 2);
                });
            }
        });
        let read = counters.read();
        assert_eq!(read.hits, 4000);
        assert_eq!(read.errors, 8);
        assert_eq!(read.misses, 0);
    }
}
