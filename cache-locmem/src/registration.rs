//! The entry an application adds to its `Backends` so configurations can name `locmem`.

use std::sync::Arc;

use cache_core::{BackendRegistration, Clock};

use crate::backend::LocMemBackend;

/// The names a configuration's `backend` may use: the short one and Django's class path, so a
/// Django `CACHES` setting loads unchanged.
pub const NAMES: [&str; 2] = ["locmem", "django.core.cache.backends.locmem.LocMemCache"];

/// The registry entry for `locmem` (and Django's class path), on the system clock.
///
/// ```
/// let mut backends = cache_core::Backends::new();
/// backends.register(cache_locmem::registration());
/// assert!(backends.names().contains(&"locmem".to_owned()));
/// ```
pub fn registration() -> BackendRegistration {
    registration_with_clock(Clock::system())
}

/// The registry entry, for tests: stores this registration creates read `clock`, so a test moves
/// time with [`Clock::advance`] instead of sleeping.
///
/// Stores are shared by location across the whole process and keep the clock they were created
/// with; give each test its own `location`.
pub fn registration_with_clock(clock: Clock) -> BackendRegistration {
    BackendRegistration::new(&NAMES, move |config| {
        Ok(Arc::new(LocMemBackend::from_config(config, clock.clone())?))
    })
}
