//! The entry an application adds to its `Backends` so configurations can name `redis`.

use std::sync::Arc;

use cache_core::BackendRegistration;

use crate::backend::RedisBackend;

/// The names a configuration's `backend` may use: the short one, Django's class path and
/// django-redis' (whose options are read as the crate docs say), so a Django `CACHES` setting
/// loads unchanged.
pub const NAMES: [&str; 3] = [
    "redis",
    "django.core.cache.backends.redis.RedisCache",
    "django_redis.cache.RedisCache",
];

/// The registry entry for `redis` (and Django's class path).
///
/// ```
/// let mut backends = cache_core::Backends::new();
/// backends.register(cache_redis::registration());
/// assert!(backends.names().contains(&"django.core.cache.backends.redis.RedisCache".to_owned()));
/// ```
pub fn registration() -> BackendRegistration {
    BackendRegistration::new(&NAMES, |config| Ok(Arc::new(RedisBackend::from_config(config)?)))
}
