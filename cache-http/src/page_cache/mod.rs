//! The page cache: Django's `CacheMiddleware` (per site) and `cache_page` (per view).

mod config;
mod fetch;
mod keys;
mod layer;
mod settings;
mod stored;
mod update;

pub use config::{CacheMiddlewareConfig, DEFAULT_CACHE_MIDDLEWARE_SECONDS, SECTION};
pub use keys::ActiveLanguage;
pub use layer::{CacheLayer, CacheService};
