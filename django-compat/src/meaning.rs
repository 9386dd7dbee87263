//! What an alias means once its backend has read it: the entry's settings and the backend's own
//! options type, compared whole rather than as the text that was written.

use cache_core::{AliasConfig, Backends, CacheOptions, CachesConfig, CullOptions, Location, Result, Timeout};
use cache_memcached::MemcachedOptions;
use cache_redis::RedisOptions;

/// Every backend of the workspace, as an application depending on all of them registers them.
pub fn backends() -> Backends {
    let mut backends = Backends::new();
    backends
        .register(cache_locmem::registration())
        .register(cache_file::registration())
        .register(cache_memcached::registration())
        .register(cache_redis::registration());
    backends
}

/// One alias as its backend understands it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Meaning {
    /// The backend's short name (`redis` for django-redis' and Django's class paths alike).
    pub backend: &'static str,
    /// `location`, as written.
    pub location: Location,
    /// `timeout`.
    pub timeout: Timeout,
    /// `key_prefix`.
    pub key_prefix: String,
    /// `version`.
    pub version: i64,
    /// Whether the alias fails silently (`ignore_exceptions`, `IGNORE_EXCEPTIONS`, `ignore_exc`).
    pub ignore_exceptions: bool,
    /// The backend's options, read by its own parser.
    pub options: BackendOptions,
}

/// A backend's options, read by the backend.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BackendOptions {
    /// `locmem` and `file`.
    Cull(CullOptions),
    /// `memcached`.
    Memcached(MemcachedOptions),
    /// `redis`.
    Redis(RedisOptions),
    /// `dummy`, which takes none.
    None,
}

/// What `alias` of `config` means, or the error its backend's parser gives.
pub fn meaning(config: &CachesConfig, alias: &str) -> Result<Meaning> {
    let entry: &AliasConfig = &config.aliases[alias];
    let options = entry.options.without_facade_options();
    let name = entry.backend.as_str();
    let (backend, options) = if cache_redis::NAMES.contains(&name) {
        (
            "redis",
            BackendOptions::Redis(RedisOptions::from_options(alias, &options)?),
        )
    } else if cache_memcached::NAMES.contains(&name) {
        (
            "memcached",
            BackendOptions::Memcached(MemcachedOptions::from_options(alias, &options)?),
        )
    } else if cache_locmem::NAMES.contains(&name) {
        (
            "locmem",
            BackendOptions::Cull(CullOptions::from_options(alias, &options)?),
        )
    } else if cache_file::NAMES.contains(&name) {
        (
            "file",
            BackendOptions::Cull(CullOptions::from_options(alias, &options)?),
        )
    } else {
        ("dummy", BackendOptions::None)
    };
    let facade: CacheOptions = entry.cache_options();
    let flag = |name: &str| entry.options.get(name).and_then(|value| value.as_bool());
    Ok(Meaning {
        backend,
        location: entry.location.clone(),
        timeout: facade.timeout(),
        key_prefix: facade.key_prefix().to_owned(),
        version: facade.version(),
        ignore_exceptions: flag("ignore_exceptions")
            .or_else(|| flag("ignore_exc"))
            .unwrap_or(false),
        options,
    })
}
