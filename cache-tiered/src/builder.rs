//! [`TieredBuilder`]: a tiered backend built in code.

use std::sync::Arc;
use std::time::Duration;

use cache_core::{CacheBackend, CacheError, CircuitSettings, Clock, Result};

use crate::backend::TieredBackend;
use crate::options::TieredOptions;

/// Builds a [`TieredBackend`] in code, over [`TieredOptions`] (each step sets one of them).
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use cache_core::{Cache, CacheOptions};
/// use cache_locmem::LocMemBackend;
/// use cache_tiered::TieredBackend;
///
/// // A far tier of any kind; a real application puts Redis, memcached or a database here.
/// let far = Arc::new(LocMemBackend::builder().build());
/// let tiered = TieredBackend::builder(far)
///     .alias("pages")
///     .near_timeout(Duration::from_secs(30))
///     .max_entries(50_000)
///     .fail_safe_max(Duration::from_secs(600))
///     .build()?;
/// let cache = Cache::new("pages", Arc::new(tiered), CacheOptions::default());
/// # Ok::<(), cache_core::CacheError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct TieredBuilder {
    far: Arc<dyn CacheBackend>,
    alias: String,
    options: TieredOptions,
    clock: Clock,
}

impl TieredBuilder {
    pub(crate) fn new(far: Arc<dyn CacheBackend>) -> Self {
        TieredBuilder {
            far,
            alias: "tiered".to_owned(),
            options: TieredOptions::default(),
            clock: Clock::system(),
        }
    }

    /// The name in metrics labels and the default backplane channel (`cache-tiered:<alias>`);
    /// `tiered` unless set. Give it the name of the `Cache` alias it backs.
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.alias = alias.into();
        self
    }

    /// Every option at once (the far alias' name in it is ignored: the far backend is given).
    pub fn options(mut self, options: TieredOptions) -> Self {
        self.options = options;
        self
    }

    /// See [`TieredOptions::near_timeout`].
    pub fn near_timeout(mut self, near_timeout: Duration) -> Self {
        self.options.near_timeout = near_timeout;
        self
    }

    /// See [`TieredOptions::max_entries`].
    pub fn max_entries(mut self, max_entries: u64) -> Self {
        self.options.max_entries = max_entries;
        self
    }

    /// See [`TieredOptions::cull_frequency`].
    pub fn cull_frequency(mut self, cull_frequency: u64) -> Self {
        self.options.cull_frequency = cull_frequency;
        self
    }

    /// See [`TieredOptions::backplane`].
    pub fn backplane(mut self, url: impl Into<String>) -> Self {
        self.options.backplane = Some(url.into());
        self
    }

    /// See [`TieredOptions::backplane_channel`].
    pub fn backplane_channel(mut self, channel: impl Into<String>) -> Self {
        self.options.backplane_channel = Some(channel.into());
        self
    }

    /// See [`TieredOptions::backplane_heartbeat`].
    pub fn backplane_heartbeat(mut self, heartbeat: Duration) -> Self {
        self.options.backplane_heartbeat = heartbeat;
        self
    }

    /// See [`TieredOptions::backplane_max_staleness`].
    pub fn backplane_max_staleness(mut self, max_staleness: Duration) -> Self {
        self.options.backplane_max_staleness = max_staleness;
        self
    }

    /// See [`TieredOptions::backplane_circuit`].
    pub fn backplane_circuit(mut self, circuit: CircuitSettings) -> Self {
        self.options.backplane_circuit = circuit;
        self
    }

    /// See [`TieredOptions::fail_safe_max`].
    pub fn fail_safe_max(mut self, fail_safe_max: Duration) -> Self {
        self.options.fail_safe_max = fail_safe_max;
        self
    }

    /// See [`TieredOptions::fail_safe_throttle`].
    pub fn fail_safe_throttle(mut self, throttle: Duration) -> Self {
        self.options.fail_safe_throttle = throttle;
        self
    }

    /// The clock the near tier's entries expire by (tests move a [`Clock::manual`]).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The backend. Fails on a zero `near_timeout`, a heartbeat not shorter than
    /// `backplane_max_staleness`, or a backplane URL that can't be used.
    pub fn build(self) -> Result<TieredBackend> {
        if self.options.near_timeout.is_zero() {
            return Err(CacheError::config(
                Some(&self.alias),
                "options.near_timeout",
                "must be longer than zero; to keep nothing near, use the far alias directly",
            ));
        }
        self.options.check(Some(&self.alias))?;
        TieredBackend::assemble(&self.alias, self.far, self.options, self.clock)
            .map_err(|message| CacheError::config(Some(&self.alias), "options.backplane", message))
    }
}
