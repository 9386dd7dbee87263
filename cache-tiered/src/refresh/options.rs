//! [`RefreshOptions`]: how one `TieredCache::get_or_set` call may serve stale values and how
//! long its producer may take.

use std::time::Duration;

use cache_core::Timeout;

/// Per-call options of [`TieredCache::get_or_set`](crate::TieredCache::get_or_set), after
/// FusionCache's entry options. Start from `RefreshOptions::default()` (none of them on: a plain
/// single-flight `get_or_set`) and turn on what the call needs:
///
/// ```
/// use std::time::Duration;
/// use cache_tiered::RefreshOptions;
///
/// let options = RefreshOptions::default()
///     .eager_refresh(0.8)
///     .factory_soft_timeout(Duration::from_millis(100))
///     .factory_hard_timeout(Duration::from_secs(2));
/// assert_eq!(options.eager_refresh_share(), Some(0.8));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RefreshOptions {
    pub(crate) timeout: Timeout,
    pub(crate) version: Option<i64>,
    pub(crate) stale_while_revalidate: bool,
    pub(crate) eager_refresh: Option<f64>,
    pub(crate) factory_soft_timeout: Option<Duration>,
    pub(crate) factory_hard_timeout: Option<Duration>,
}

impl Default for RefreshOptions {
    fn default() -> Self {
        RefreshOptions {
            timeout: Timeout::Default,
            version: None,
            stale_while_revalidate: false,
            eager_refresh: None,
            factory_soft_timeout: None,
            factory_hard_timeout: None,
        }
    }
}

impl RefreshOptions {
    /// The stored value's lifetime (the alias' `timeout` unless set), as `Cache::set` takes it.
    pub fn timeout(mut self, timeout: Timeout) -> Self {
        self.timeout = timeout;
        self
    }

    /// The key's version (the alias' `version` unless set).
    pub fn version(mut self, version: i64) -> Self {
        self.version = Some(version);
        self
    }

    /// When the value has expired but an expired copy is still held (within `fail_safe_max`),
    /// return that copy at once and refresh in the background (one refresh per key).
    pub fn stale_while_revalidate(mut self, on: bool) -> Self {
        self.stale_while_revalidate = on;
        self
    }

    /// A read that comes after this share of the value's lifetime (strictly between 0 and 1)
    /// returns the value and starts one background refresh (FusionCache's `EagerRefreshThreshold`).
    /// Values outside that range turn it off, as FusionCache ignores them.
    pub fn eager_refresh(mut self, share: f64) -> Self {
        self.eager_refresh = (share > 0.0 && share < 1.0).then_some(share);
        self
    }

    /// The eager refresh share, if on.
    pub fn eager_refresh_share(&self) -> Option<f64> {
        self.eager_refresh
    }

    /// When an expired copy is held: a producer slower than this is left to finish in the
    /// background and the expired copy is returned (FusionCache's `FactorySoftTimeout`).
    pub fn factory_soft_timeout(mut self, timeout: Duration) -> Self {
        self.factory_soft_timeout = Some(timeout);
        self
    }

    /// In any case: a producer slower than this fails the call with a timeout error; it still
    /// finishes in the background and stores its value (FusionCache's `FactoryHardTimeout`).
    pub fn factory_hard_timeout(mut self, timeout: Duration) -> Self {
        self.factory_hard_timeout = Some(timeout);
        self
    }
}
