//! What a page cache layer runs with.

use std::sync::Arc;
use std::time::Duration;

use cache_core::{Cache, CacheError, WarningGate};
use http::header::{HeaderName, HeaderValue};

/// How often a page cache may warn that its alias failed: a cache server that is down fails
/// every request, and one warning per request would bury the log.
pub(crate) const CACHE_WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// The settings of one layer (shared by every service it makes).
#[derive(Debug, Clone)]
pub(crate) struct PageCache {
    pub(crate) cache: Cache,
    /// Django's `key_prefix` (`CACHE_MIDDLEWARE_KEY_PREFIX`).
    pub(crate) key_prefix: String,
    /// Django's `cache_timeout` (`CACHE_MIDDLEWARE_SECONDS`): used when the response has no
    /// `max-age`.
    pub(crate) cache_timeout: i64,
    /// Django's `page_timeout` (`cache_page(timeout)`): when set, it wins over the response's
    /// `max-age` for storage.
    pub(crate) page_timeout: Option<i64>,
    pub(crate) language: Option<String>,
    pub(crate) time_zone: Option<String>,
    pub(crate) secure_proxy_ssl_header: Option<(HeaderName, HeaderValue)>,
    /// Django's `ConditionalGetMiddleware` between the update and the fetch steps.
    pub(crate) conditional_get: bool,
    pub(crate) warnings: Arc<WarningGate>,
}

impl PageCache {
    pub(crate) fn new(cache: Cache, cache_timeout: i64, page_timeout: Option<i64>) -> Self {
        PageCache {
            cache,
            key_prefix: String::new(),
            cache_timeout,
            page_timeout,
            language: None,
            time_zone: None,
            secure_proxy_ssl_header: None,
            conditional_get: false,
            warnings: Arc::new(WarningGate::new(CACHE_WARNING_INTERVAL)),
        }
    }

    /// A failed read or write of the alias, at most one warning per interval: the page is still
    /// served (a failed read is a miss, a failed write is dropped).
    pub(crate) fn warn(&self, action: &'static str, error: &CacheError) {
        if let Some(held_back) = self.warnings.admit() {
            tracing::warn!(
                alias = self.cache.alias(),
                action,
                %error,
                held_back,
                "page cache: the alias failed; pages are served by their handlers meanwhile"
            );
        }
    }
}
