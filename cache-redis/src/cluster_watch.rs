//! [`ClusterWatch`]: notices a Redis Cluster connection that has stopped answering altogether, so
//! that it is replaced by a new one.
//!
//! redis-rs' cluster connection runs one task that routes every command, and it can deadlock
//! while the cluster itself is healthy. When a node fails, that task refreshes its slot map, which
//! needs the write side of the lock over its node connections, and until the refresh ends it
//! polls nothing else. A command already in flight may hold a read permit of that lock while it
//! is pending: tokio's semaphore hands a future its permits before checking the task's
//! cooperative budget, so when the budget runs out (easily, with 50 callers) the future returns
//! `Pending` holding them. The refresh then waits for a permit that only the command, which is no
//! longer polled, would give back: every later command, on every node, waits until its timeout,
//! for as long as the connection lives.
//!
//! A single dead node is different: the other nodes keep answering on the same connection. So the
//! watch counts calls that got no answer at all (a timeout, or a client-side failure) since the
//! connection last answered anything, and once there are [`FAILURES`] of them and no answer for a
//! whole `response_timeout`, the connection is dropped and the next call opens a new one.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::connection::Node;

/// Calls with no answer, since the last answer, that a connection must have before it is
/// replaced: more than a caller or two giving up at once.
pub(crate) const FAILURES: u32 = 3;

/// Watches one cluster [`Node`]'s connection.
#[derive(Debug)]
pub(crate) struct ClusterWatch {
    /// Times below are nanoseconds since this.
    epoch: Instant,
    /// How long a connection may go without answering anything, as it may while calls time out.
    silence: Duration,
    /// The generation the counts below are about.
    generation: AtomicU64,
    /// When the connection last answered, or when it was (re)placed.
    last_answer: AtomicU64,
    /// Calls that got no answer since then.
    failures: AtomicU32,
    /// Connections replaced because they stopped answering.
    replaced: AtomicU64,
}

impl ClusterWatch {
    pub(crate) fn new(response_timeout: Duration) -> Self {
        ClusterWatch {
            epoch: Instant::now(),
            silence: response_timeout,
            generation: AtomicU64::new(0),
            last_answer: AtomicU64::new(0),
            failures: AtomicU32::new(0),
            replaced: AtomicU64::new(0),
        }
    }

    /// How many connections were replaced because they stopped answering.
    pub(crate) fn replaced(&self) -> u64 {
        self.replaced.load(Ordering::Relaxed)
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// The connection of `generation` answered (a value, or an error the server sent).
    #[inline]
    pub(crate) fn answered(&self, generation: u64) {
        let watched = self.generation.load(Ordering::Relaxed);
        if generation < watched {
            // A connection since replaced: its answers say nothing of the current one.
            return;
        }
        if generation > watched {
            self.adopt(generation);
        }
        if self.failures.load(Ordering::Relaxed) != 0 {
            self.failures.store(0, Ordering::Relaxed);
        }
        // Every answer moves this forward; no need to write the shared line more than once a millisecond.
        let now = self.now();
        if now.saturating_sub(self.last_answer.load(Ordering::Relaxed)) > 1_000_000 {
            self.last_answer.fetch_max(now, Ordering::Relaxed);
        }
    }

    /// A call on the connection of `generation` got no answer. Replaces the connection (drops it
    /// from `node`, so the next call opens another) when it has stopped answering altogether.
    pub(crate) fn unanswered(&self, node: &Node, generation: u64) {
        if generation == 0 || generation != node.generation() {
            // No connection was used, or it has already been replaced.
            return;
        }
        if generation > self.generation.load(Ordering::Relaxed) {
            self.adopt(generation);
        }
        let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        let silent_for = self.now().saturating_sub(self.last_answer.load(Ordering::Relaxed));
        if failures < FAILURES || silent_for < self.silence.as_nanos() as u64 {
            return;
        }
        // Only the caller that swaps the count replaces the connection; the others see 0.
        if self.failures.swap(0, Ordering::Relaxed) < FAILURES {
            return;
        }
        if node.discard(generation) {
            self.replaced.fetch_add(1, Ordering::Relaxed);
            self.last_answer.store(self.now(), Ordering::Relaxed);
            tracing::warn!(
                cluster = node.shown(),
                silent_ms = silent_for / 1_000_000,
                failures,
                "the Redis Cluster connection stopped answering while its calls got no reply; \
                 dropped it, the next call opens a new one"
            );
        }
    }

    /// Starts counting for a newer connection, which starts with a clean record.
    fn adopt(&self, generation: u64) {
        let previous = self.generation.fetch_max(generation, Ordering::Relaxed);
        if previous < generation {
            self.failures.store(0, Ordering::Relaxed);
            self.last_answer.store(self.now(), Ordering::Relaxed);
        }
    }
}
