//! "The cache is down" warnings, at most one per alias per interval.
//!
//! A page renders many components; with its cache down, each lookup fails (at once, once the
//! backend's circuit breaker has opened). One warning per component per render would bury the log,
//! so each alias gets a [`WarningGate`] and the warning that does go out says how many were held
//! back. The failures are still counted: in the alias' metrics and in each render's stats.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cache_core::WarningGate;
use parking_lot::Mutex;

/// How often each alias may warn that it failed.
pub(crate) const CACHE_WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// One gate per alias, made on its first failure.
#[derive(Debug, Default)]
pub(crate) struct CacheWarnings {
    gates: Mutex<HashMap<String, Arc<WarningGate>>>,
}

impl CacheWarnings {
    /// Runs `warn` with the number of warnings held back for `alias` since its last one, unless
    /// `alias` warned less than [`CACHE_WARNING_INTERVAL`] ago.
    pub(crate) fn warn(&self, alias: &str, warn: impl FnOnce(u64)) {
        let gate = {
            let mut gates = self.gates.lock();
            match gates.get(alias) {
                Some(gate) => Arc::clone(gate),
                None => {
                    let gate = Arc::new(WarningGate::new(CACHE_WARNING_INTERVAL));
                    gates.insert(alias.to_owned(), Arc::clone(&gate));
                    gate
                }
            }
        };
        if let Some(held_back) = gate.admit() {
            warn(held_back);
        }
    }
}
