//! The `[cache_middleware]` section: Django's `CACHE_MIDDLEWARE_*` settings.

use cache_core::{CacheError, Caches, CachesConfig};
use serde::Deserialize;

/// The section's name in the configuration file (matched ignoring case).
pub const SECTION: &str = "cache_middleware";

/// Django's `CACHE_MIDDLEWARE_SECONDS` default.
pub const DEFAULT_CACHE_MIDDLEWARE_SECONDS: i64 = 600;

/// The `[cache_middleware]` section, read by [`crate::CacheLayer::from_config`]:
///
/// ```toml
/// [cache_middleware]
/// seconds = 600         # CACHE_MIDDLEWARE_SECONDS
/// key_prefix = "site1"  # CACHE_MIDDLEWARE_KEY_PREFIX
/// alias = "pages"       # CACHE_MIDDLEWARE_ALIAS
/// language = "en-us"    # the key suffix Django adds with USE_I18N (LANGUAGE_CODE)
/// time_zone = "UTC"     # the key suffix Django adds with USE_TZ (TIME_ZONE)
/// conditional_get = true # ConditionalGetMiddleware between Update and Fetch
/// ```
///
/// Every key is optional (Django's defaults: 600 s, no prefix, `default`, no suffixes); unknown
/// keys are refused so a typo doesn't go unnoticed. Django's upper-case names (`SECONDS`,
/// `KEY_PREFIX`, `ALIAS`) are accepted too.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CacheMiddlewareConfig {
    /// How long pages are stored when the response has no `max-age` of its own.
    #[serde(default = "default_seconds", alias = "SECONDS")]
    pub seconds: i64,
    /// Keeps the pages of several sites sharing one alias apart.
    #[serde(default, alias = "KEY_PREFIX")]
    pub key_prefix: String,
    /// The alias pages are stored in.
    #[serde(default = "default_alias", alias = "ALIAS")]
    pub alias: String,
    /// The active language, appended to keys as Django does when `USE_I18N` is on.
    #[serde(default, alias = "LANGUAGE_CODE")]
    pub language: Option<String>,
    /// The current time zone, appended to keys as Django does when `USE_TZ` is on.
    #[serde(default, alias = "TIME_ZONE")]
    pub time_zone: Option<String>,
    /// Django's `ConditionalGetMiddleware` in its place in the middleware order (see
    /// [`crate::CacheLayer::conditional_get`]).
    #[serde(default)]
    pub conditional_get: bool,
}

fn default_seconds() -> i64 {
    DEFAULT_CACHE_MIDDLEWARE_SECONDS
}

fn default_alias() -> String {
    "default".to_owned()
}

impl Default for CacheMiddlewareConfig {
    fn default() -> Self {
        CacheMiddlewareConfig {
            seconds: DEFAULT_CACHE_MIDDLEWARE_SECONDS,
            key_prefix: String::new(),
            alias: default_alias(),
            language: None,
            time_zone: None,
            conditional_get: false,
        }
    }
}

impl CacheMiddlewareConfig {
    /// The section of a loaded configuration file, or the defaults when it has none.
    pub fn from_caches_config(config: &CachesConfig) -> cache_core::Result<Self> {
        Ok(config.section::<CacheMiddlewareConfig>(SECTION)?.unwrap_or_default())
    }

    /// The alias the section names, from `caches`; an error naming the section when there is none.
    pub fn cache(&self, caches: &Caches) -> cache_core::Result<cache_core::Cache> {
        caches.get(&self.alias).map_err(|_| {
            CacheError::config(
                None,
                format!("{SECTION}.alias"),
                format!(
                    "no alias named `{}` in [caches]; name one of the configured aliases or add it",
                    self.alias
                ),
            )
        })
    }
}
