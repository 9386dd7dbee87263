//! Fail-safe (FusionCache's): when the far tier fails, the last good value is served for up to
//! `fail_safe_max` after it was last known good, and the far tier isn't asked again for that key
//! for `fail_safe_throttle`.

use std::time::Duration;

use bytes::Bytes;
use cache_core::BackendError;

use crate::near::Stamp;
use crate::state::Shared;

/// Fail-safe's settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FailSafe {
    pub(crate) max: Duration,
    pub(crate) throttle: Duration,
}

impl FailSafe {
    /// The last good value of `key` if the far tier's `error` allows one and it is recent enough;
    /// it is then served as fresh (marked stale) for the throttle, so the far tier isn't asked
    /// again on every read while it is down.
    pub(crate) fn rescue(
        &self,
        shared: &Shared,
        key: &str,
        error: &BackendError,
        operation: &'static str,
    ) -> Option<Bytes> {
        if self.max.is_zero() || !error.is_server_failure() {
            return None;
        }
        // Taken before the read: an invalidation landing between the read and the put below
        // would otherwise be undone by putting the old value back.
        let ticket = shared.coherence.ticket(key);
        let entry = shared.near.get(key)?;
        let now = shared.near.now();
        let last_usable = entry.stamp.good_at + self.max;
        if now >= last_usable {
            return None;
        }
        shared.near.put(
            key,
            &entry.value,
            Stamp {
                fresh_until: (now + self.throttle).min(last_usable),
                epoch: shared.coherence.epoch(),
                stale: true,
                ..entry.stamp
            },
        );
        if !shared.coherence.still_valid(ticket) {
            shared.near.remove(key);
            return None;
        }
        shared.served_stale(operation);
        tracing::debug!(alias = %shared.alias, %error, "cache-tiered: the far tier failed; serving the last good value (fail-safe)");
        Some(entry.value)
    }
}
