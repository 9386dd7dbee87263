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

/// Which store failed: each has its own gate, so one failure doesn't hide the other's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum CacheRole {
    /// The output cache of a component.
    Output,
    /// The media store (class JS/CSS and variables).
    Media,
    /// A template fragment's alias (`{% call cache(…) %}`).
    TemplateFragment,
}

impl CacheRole {
    /// The store, as warnings name it.
    pub(crate) fn cache_name(self) -> &'static str {
        match self {
            CacheRole::Output => "output cache",
            CacheRole::Media => "media store",
            CacheRole::TemplateFragment => "template fragment cache",
        }
    }

    /// What one of its entries is.
    pub(crate) fn stored_thing(self) -> &'static str {
        match self {
            CacheRole::Output => "render",
            CacheRole::Media => "media file",
            CacheRole::TemplateFragment => "template fragment",
        }
    }

    /// What is served without it when it fails.
    pub(crate) fn subject(self) -> &'static str {
        match self {
            CacheRole::Output => "the component",
            CacheRole::Media => "the page's media",
            CacheRole::TemplateFragment => "the fragment",
        }
    }
}

/// What went wrong with a cache, each warned about on its own schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Trouble {
    /// A call failed (the server is down, hung, refusing).
    Failed,
    /// A stored value isn't one of ours (written by another version, or by Django sharing the
    /// alias): rendered again and overwritten, on every render until then.
    Unreadable,
}

/// One gate per alias, role and trouble, made on its first warning.
#[derive(Debug, Default)]
pub(crate) struct CacheWarnings {
    gates: Mutex<HashMap<(String, CacheRole, Trouble), Arc<WarningGate>>>,
}

impl CacheWarnings {
    /// Runs `warn` with the number of warnings held back for `alias` in `role` about `trouble`
    /// since its last one, unless it warned less than [`CACHE_WARNING_INTERVAL`] ago.
    pub(crate) fn warn(&self, alias: &str, role: CacheRole, trouble: Trouble, warn: impl FnOnce(u64)) {
        let gate = {
            let mut gates = self.gates.lock();
            let key = (alias.to_owned(), role, trouble);
            Arc::clone(
                gates
                    .entry(key)
                    .or_insert_with(|| Arc::new(WarningGate::new(CACHE_WARNING_INTERVAL))),
            )
        };
        if let Some(held_back) = gate.admit() {
            warn(held_back);
        }
    }
}
