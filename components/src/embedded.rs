//! Caches for an application without a configuration file.

use std::sync::atomic::{AtomicU64, Ordering};

use cache_core::{Backends, Caches, CachesConfig, ConfigFormat};

/// A [`Caches`] whose `default` alias is an in-process locmem store of its own (Django's
/// `LocMemCache` defaults: 300 entries, 300 seconds), so components render and cache with no
/// configuration at all. Applications with a `caches.toml` build their `Caches` from it instead.
pub fn embedded_caches() -> Caches {
    private_locmem("")
}

/// A [`Caches`] whose `default` alias is a locmem store of its own, with `settings` (TOML lines of
/// the alias: `timeout = …`, `options = …`) added.
pub(crate) fn private_locmem(settings: &str) -> Caches {
    // locmem shares stores by location within a process; a location per call keeps them apart.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let location = format!("components-embedded-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let config = CachesConfig::from_str_with_env(
        &format!("[caches.default]\nbackend = \"locmem\"\nlocation = \"{location}\"\n{settings}"),
        ConfigFormat::Toml,
        Vec::<(String, String)>::new(),
    )
    .expect("the embedded configuration is valid");
    let mut backends = Backends::new();
    backends.register(cache_locmem::registration());
    Caches::build(&config, &backends).expect("a locmem alias always builds")
}
