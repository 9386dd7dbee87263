//! Counters of what the near tier and the backplane did, readable as a struct.

use std::sync::atomic::{AtomicU64, Ordering};

/// What a tiered alias did since it was built ([`TieredBackend::stats`](crate::TieredBackend::stats)).
/// The façade's own metrics count hits and misses; these say what went past the near tier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TieredStats {
    /// Reads that went to the far tier (every other read was answered by the near tier, which
    /// counts nothing of its own: a hit stays as cheap as a locmem hit).
    pub far_reads: u64,
    /// Values served stale: by fail-safe while the far tier failed, or while a refresh runs.
    pub stale_served: u64,
    /// Invalidations this process published.
    pub invalidations_sent: u64,
    /// Invalidations applied to this near tier: from other processes through the backplane (its
    /// own are skipped), and from other aliases of this process that name the same
    /// `backplane_channel` (told at once; their backplane messages are skipped as its own).
    pub invalidations_received: u64,
    /// Invalidations that could not be published: the backplane didn't answer, or its circuit
    /// was open and the publish was skipped. The alias' next publish that gets through carries the
    /// keys they named (or, past 64 KiB of them or after a lost `clear()`, tells the other
    /// processes to empty their near tier).
    pub publish_failures: u64,
    /// Writes whose caller stopped waiting before the far tier answered (a request timeout, a
    /// `select!`): the write may land all the same, so its keys were evicted near and published
    /// from a task of their own.
    pub abandoned_writes: u64,
    /// Times the backplane subscription was made (the first time included).
    pub backplane_connects: u64,
    /// Times it was lost (closed, or a heartbeat unanswered).
    pub backplane_losses: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) far_reads: AtomicU64,
    pub(crate) stale_served: AtomicU64,
    pub(crate) invalidations_sent: AtomicU64,
    pub(crate) invalidations_received: AtomicU64,
    pub(crate) publish_failures: AtomicU64,
    pub(crate) abandoned_writes: AtomicU64,
    pub(crate) backplane_connects: AtomicU64,
    pub(crate) backplane_losses: AtomicU64,
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    pub(crate) fn snapshot(&self) -> TieredStats {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        TieredStats {
            far_reads: read(&self.far_reads),
            stale_served: read(&self.stale_served),
            invalidations_sent: read(&self.invalidations_sent),
            invalidations_received: read(&self.invalidations_received),
            publish_failures: read(&self.publish_failures),
            abandoned_writes: read(&self.abandoned_writes),
            backplane_connects: read(&self.backplane_connects),
            backplane_losses: read(&self.backplane_losses),
        }
    }
}
