//! Caches of their own, for an application without a configuration file and for the media store
//! when `[components] cache` names no alias.
//!
//! They are built in code over private locmem stores ([`LocMemBackend::builder`]), not through
//! locmem's registry of shared locations: a store there lives as long as the process, while these
//! are freed with the last handle to them (the renderer that made one), so building renderers
//! over and over (tests, reloads) doesn't pile up stores nobody can reach.

use std::sync::Arc;

use cache_core::{Cache, CacheOptions, Caches, Timeout};
use cache_locmem::{LocMemBackend, LocMemBuilder};

/// The alias of the embedded media store, as warnings about it name it.
const MEDIA_ALIAS: &str = "embedded-media";

/// A [`Caches`] whose `default` alias is an in-process locmem store of its own (Django's
/// `LocMemCache` defaults: 300 entries, 300 seconds), so components render and cache with no
/// configuration at all. Applications with a `caches.toml` build their `Caches` from it instead.
pub fn embedded_caches() -> Caches {
    let default = private_locmem("default", LocMemBackend::builder(), CacheOptions::default());
    Caches::builder()
        .cache(default)
        .build()
        .expect("the one alias is `default`")
}

/// An unbounded, never-expiring locmem store of its own (django-components' default media cache:
/// evicting a class' JS would break pages already open).
pub fn embedded_media_cache() -> Cache {
    let unbounded = LocMemBackend::builder().max_entries(u64::MAX);
    private_locmem(
        MEDIA_ALIAS,
        unbounded,
        CacheOptions::default().with_timeout(Timeout::Never),
    )
}

fn private_locmem(alias: &str, store: LocMemBuilder, cache: CacheOptions) -> Cache {
    Cache::new(alias, Arc::new(store.build()), cache)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_call_gets_a_store_of_its_own_with_the_documented_settings() {
        let (a, b) = (embedded_caches().default_cache(), embedded_caches().default_cache());
        a.set_raw("k", "a").await.unwrap();
        assert_eq!(b.get_raw("k").await.unwrap(), None, "stores are not shared");
        assert_eq!(a.options().timeout(), Timeout::Seconds(300.0));

        let media = embedded_media_cache();
        assert_eq!(media.options().timeout(), Timeout::Never);
        assert_eq!(media.alias(), MEDIA_ALIAS);
    }

    #[test]
    fn a_store_is_freed_with_its_last_handle() {
        let caches = embedded_caches();
        let store = Arc::downgrade(caches.default_cache().backend());
        assert!(store.upgrade().is_some());
        drop(caches);
        assert!(store.upgrade().is_none(), "nothing else holds the store");
    }
}
