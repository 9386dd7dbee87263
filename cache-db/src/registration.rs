//! The entry an application adds to its `Backends` so configurations can name `db`.

use std::sync::Arc;

use cache_core::{BackendRegistration, Clock};

use crate::backend::DbBackend;

/// The names a configuration's `backend` may use: the short one and Django's class path, so a
/// Django `CACHES` setting loads unchanged.
pub const NAMES: [&str; 2] = ["db", "django.core.cache.backends.db.DatabaseCache"];

/// The registry entry for `db` (and Django's class path), on the system's wall clock.
///
/// ```
/// let mut backends = cache_core::Backends::new();
/// backends.register(cache_db::registration());
/// assert!(backends.names().contains(&"db".to_owned()));
/// ```
pub fn registration() -> BackendRegistration {
    registration_with_clock(Clock::system())
}

/// The registry entry, for tests: backends it builds read `clock`, so a test moves time with
/// [`Clock::advance`] instead of sleeping.
pub fn registration_with_clock(clock: Clock) -> BackendRegistration {
    BackendRegistration::new(&NAMES, move |config| {
        Ok(Arc::new(DbBackend::from_config(config, clock.clone())?))
    })
}
