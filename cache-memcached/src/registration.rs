//! The entry an application adds to its `Backends` so configurations can name `memcached`.

use std::sync::Arc;

use cache_core::BackendRegistration;

use crate::backend::MemcachedBackend;

/// The names a configuration's `backend` may use: the short one and Django's class paths, so a
/// Django `CACHES` setting loads unchanged (its `OPTIONS` must be ones this backend knows).
pub const NAMES: [&str; 3] = [
    "memcached",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
];

/// The registry entry for `memcached` (and Django's class paths).
///
/// ```
/// let mut backends = cache_core::Backends::new();
/// backends.register(cache_memcached::registration());
/// assert!(backends.names().contains(&"memcached".to_owned()));
/// ```
pub fn registration() -> BackendRegistration {
    BackendRegistration::new(&NAMES, |config| Ok(Arc::new(MemcachedBackend::from_config(config)?)))
}
