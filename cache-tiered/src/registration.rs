//! The entry an application adds to its `Backends` so configurations can name `tiered`.

use std::sync::Arc;

use cache_core::{BackendConfig, BackendRegistration, CacheError, Clock, Result};

use crate::backend::TieredBackend;
use crate::options::TieredOptions;

/// The names a configuration's `backend` may use.
pub const NAMES: [&str; 1] = ["tiered"];

/// The registry entry for `tiered`, on the system clock.
///
/// ```
/// let mut backends = cache_core::Backends::new();
/// backends.register(cache_tiered::registration());
/// assert!(backends.names().contains(&"tiered".to_owned()));
/// ```
pub fn registration() -> BackendRegistration {
    registration_with_clock(Clock::system())
}

/// The registry entry, for tests: near tiers it builds read `clock`.
pub fn registration_with_clock(clock: Clock) -> BackendRegistration {
    BackendRegistration::new(&NAMES, move |config| Ok(Arc::new(from_config(config, clock.clone())?)))
}

fn from_config(config: &BackendConfig<'_>, clock: Clock) -> Result<TieredBackend> {
    if !config.location.name().is_empty() {
        return Err(CacheError::config(
            Some(config.alias),
            "location",
            "a tiered alias has no location of its own: name the far alias in `options.far` and remove `location`",
        ));
    }
    let options = TieredOptions::from_options(config.alias, config.options)?;
    let far = config.other_alias("options.far", &options.far)?;
    if far.backend().name() == "tiered" {
        return Err(CacheError::config(
            Some(config.alias),
            "options.far",
            format!(
                "`{}` is itself tiered; name the alias of the shared store instead",
                options.far
            ),
        ));
    }
    // The far backend stores this alias' keys: its own `clear()` (Redis scanning by prefix) finds
    // them only if both aliases make keys alike.
    if let Some(prefix) = config.key_prefix
        && far.options().key_prefix() != prefix
    {
        return Err(CacheError::config(
            Some(config.alias),
            "key_prefix",
            format!(
                "is `{prefix}` but the far alias `{}` has key_prefix `{}`; give both the same key_prefix so the far \
                 store's clear() finds this alias' keys",
                options.far,
                far.options().key_prefix()
            ),
        ));
    }
    let builder = TieredBackend::builder(Arc::clone(far.backend()))
        .alias(config.alias)
        .options(options)
        .clock(clock);
    builder.build()
}
