//! [`LocMemBackend`]: the `CacheBackend` over a locmem store.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use cache_core::{
    BackendConfig, BackendResult, CacheBackend, CacheError, Capabilities, Clock, Expiry, Location, Result, async_trait,
};

use crate::builder::LocMemBuilder;
use crate::options::LocMemOptions;
use crate::shared_stores;
use crate::store::Store;

/// Django's `LocMemCache`: an in-process LRU store with Django's culling, shared by every alias
/// that names the same `location`.
///
/// Every operation completes without waiting (a lock and a hash lookup), so the futures the
/// façade returns are ready on their first poll, and `get` skips building one through
/// [`CacheBackend::get_now`].
#[derive(Clone)]
pub struct LocMemBackend {
    store: Arc<Store>,
    /// The location it was built for; `None` for a private store from [`LocMemBackend::builder`].
    location: Option<Arc<str>>,
}

impl LocMemBackend {
    /// Builds a backend in code over a private store, shared with nothing else (the clones of this
    /// backend aside): for benches and for embedding a cache that no configuration names.
    pub fn builder() -> LocMemBuilder {
        LocMemBuilder::new()
    }

    pub(crate) fn private(options: LocMemOptions, clock: Clock) -> Self {
        LocMemBackend {
            store: Arc::new(Store::new(options, clock)),
            location: None,
        }
    }

    /// The backend for one alias of a configuration: what the registered factory builds.
    ///
    /// The store is the process-wide one named by `config.location` (Django's LOCATION; `""`
    /// when unset), created on first use with these options and `clock`. A later alias naming the
    /// same location gets the same store and must give the same `max_entries` and
    /// `cull_frequency` (and, in tests, the same clock), or this is a configuration error.
    pub fn from_config(config: &BackendConfig<'_>, clock: Clock) -> Result<Self> {
        let options = LocMemOptions::from_options(config.alias, config.options)?;
        let location = store_name(config.alias, config.location)?;
        let store = shared_stores::shared_store(config.alias, location, options, clock)?;
        Ok(LocMemBackend {
            store,
            location: Some(location.into()),
        })
    }

    /// The options the store was created with.
    pub fn options(&self) -> LocMemOptions {
        self.store.options()
    }

    /// The location naming the shared store; `None` for a private store.
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }

    /// Entries held, counting expired ones that no operation has removed yet (as Django's do
    /// towards `MAX_ENTRIES`).
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// Whether the store holds no entry at all, expired or not.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Django keys its stores by the LOCATION string; a list has no single name.
fn store_name<'a>(alias: &str, location: &'a Location) -> Result<&'a str> {
    match location {
        Location::Many(names) if names.len() > 1 => Err(CacheError::config(
            Some(alias),
            "location",
            format!(
                "locmem names one in-process store, but a list of {} locations was given; use one name",
                names.len()
            ),
        )),
        _ => Ok(location.name()),
    }
}

impl fmt::Debug for LocMemBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let options = self.store.options();
        f.debug_struct("LocMemBackend")
            .field("location", &self.location)
            .field("max_entries", &options.max_entries)
            .field("cull_frequency", &options.cull_frequency)
            .field("shards", &self.store.shard_count())
            .field("clock", self.store.clock())
            .finish()
    }
}

#[async_trait]
impl CacheBackend for LocMemBackend {
    fn name(&self) -> &'static str {
        "locmem"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::lenient()
    }

    async fn get(&self, key: &str) -> BackendResult<Option<Bytes>> {
        Ok(self.store.get(key))
    }

    #[inline]
    fn get_now(&self, key: &str) -> Option<BackendResult<Option<Bytes>>> {
        Some(Ok(self.store.get(key)))
    }

    async fn set(&self, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<()> {
        self.store.set(key, value, expiry);
        Ok(())
    }

    async fn add(&self, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<bool> {
        Ok(self.store.add(key, value, expiry))
    }

    async fn touch(&self, key: &str, expiry: Expiry) -> BackendResult<bool> {
        Ok(self.store.touch(key, expiry))
    }

    async fn delete(&self, key: &str) -> BackendResult<bool> {
        Ok(self.store.delete(key))
    }

    async fn incr(&self, key: &str, delta: i64) -> BackendResult<i64> {
        self.store.incr(key, delta)
    }

    // The batch forms loop in place instead of awaiting the single forms' boxed futures; each
    // key is its own operation, as in Django, so a `get_many` refreshes every hit in order.

    async fn get_many(&self, keys: &[&str]) -> BackendResult<Vec<Option<Bytes>>> {
        Ok(keys.iter().map(|key| self.store.get(key)).collect())
    }

    async fn set_many(&self, items: &[(&str, Bytes)], expiry: Expiry) -> BackendResult<Vec<String>> {
        for (key, value) in items {
            self.store.set(key, value.clone(), expiry);
        }
        Ok(Vec::new())
    }

    async fn delete_many(&self, keys: &[&str]) -> BackendResult<()> {
        for key in keys {
            self.store.delete(key);
        }
        Ok(())
    }

    async fn has_key(&self, key: &str) -> BackendResult<bool> {
        Ok(self.store.has_key(key))
    }

    async fn clear(&self) -> BackendResult<()> {
        self.store.clear();
        Ok(())
    }
}
