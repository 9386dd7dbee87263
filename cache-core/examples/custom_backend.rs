//! A cache backend written against `cache-core`'s public API only: a `HashMap` behind a mutex, read
//! through a [`Clock`] so tests can move time instead of sleeping.
//!
//! It is registered under its own name (`hashmap`) and built from a `CachesConfig` like any other
//! backend; `tests/custom_backend.rs` runs the whole conformance suite on it.
//!
//! ```text
//! cargo run -p cache-core --example custom_backend
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use cache_core::{
    BackendError, BackendRegistration, BackendResult, Backends, Bytes, CacheBackend, CacheError, Caches, CachesConfig,
    Capabilities, Clock, Expiry, Result, Timeout, Timestamp, async_trait,
};

/// An entry's value and the instant it stops being readable (`None`: never).
type Entry = (Bytes, Option<Timestamp>);

/// One store: every alias whose `location` names it shares it, as Django's locmem stores are shared.
#[derive(Debug)]
pub(crate) struct HashMapBackend {
    entries: Mutex<HashMap<String, Entry>>,
    clock: Clock,
}

impl HashMapBackend {
    /// An empty store reading `clock`.
    pub(crate) fn new(clock: Clock) -> Self {
        HashMapBackend {
            entries: Mutex::new(HashMap::new()),
            clock,
        }
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn deadline(&self, expiry: Expiry) -> Option<Timestamp> {
        match expiry {
            Expiry::Never => None,
            Expiry::After(duration) => Some(self.clock.now() + duration),
        }
    }

    /// The live entry at `key`; an expired one is removed on the way (expired entries linger until
    /// touched, as in Django's locmem).
    fn live<'a>(&self, entries: &'a mut HashMap<String, Entry>, key: &str) -> Option<&'a mut Entry> {
        let now = self.clock.now();
        if entries
            .get(key)
            .is_some_and(|(_, deadline)| deadline.is_some_and(|deadline| deadline <= now))
        {
            entries.remove(key);
        }
        entries.get_mut(key)
    }
}

#[async_trait]
impl CacheBackend for HashMapBackend {
    fn capabilities(&self) -> Capabilities {
        Capabilities::lenient()
    }

    async fn get(&self, key: &str) -> BackendResult<Option<Bytes>> {
        let mut entries = self.entries();
        Ok(self.live(&mut entries, key).map(|(value, _)| value.clone()))
    }

    async fn set(&self, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<()> {
        let deadline = self.deadline(expiry);
        self.entries().insert(key.to_owned(), (value, deadline));
        Ok(())
    }

    async fn add(&self, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<bool> {
        let deadline = self.deadline(expiry);
        let mut entries = self.entries();
        if self.live(&mut entries, key).is_some() {
            return Ok(false);
        }
        entries.insert(key.to_owned(), (value, deadline));
        Ok(true)
    }

    async fn touch(&self, key: &str, expiry: Expiry) -> BackendResult<bool> {
        let deadline = self.deadline(expiry);
        let mut entries = self.entries();
        Ok(match self.live(&mut entries, key) {
            Some(entry) => {
                entry.1 = deadline;
                true
            }
            None => false,
        })
    }

    async fn delete(&self, key: &str) -> BackendResult<bool> {
        let mut entries = self.entries();
        let live = self.live(&mut entries, key).is_some();
        entries.remove(key);
        Ok(live)
    }

    async fn incr(&self, key: &str, delta: i64) -> BackendResult<i64> {
        let mut entries = self.entries();
        let (value, _) = self.live(&mut entries, key).ok_or_else(BackendError::key_not_found)?;
        // The façade stores integers as ASCII decimal; anything else (a float, `true`, a quoted
        // string) is not an integer. The façade adds the alias and the caller's key to the error.
        let current: i64 = std::str::from_utf8(value)
            .ok()
            .and_then(|text| text.parse().ok())
            .ok_or_else(BackendError::not_an_integer)?;
        let new = current
            .checked_add(delta)
            .ok_or_else(|| BackendError::overflow(delta))?;
        *value = Bytes::from(new.to_string());
        Ok(new)
    }

    async fn clear(&self) -> BackendResult<()> {
        self.entries().clear();
        Ok(())
    }
}

/// The registry entry: the name `hashmap`, and a factory that gives every alias with the same
/// `location` the same store.
pub(crate) fn registration(clock: Clock) -> BackendRegistration {
    let stores: Mutex<HashMap<String, Arc<HashMapBackend>>> = Mutex::default();
    BackendRegistration::new(&["hashmap"], move |config| {
        if !config.options.is_empty() {
            return Err(CacheError::config(
                Some(config.alias),
                "options",
                "the hashmap backend takes no options",
            ));
        }
        let mut stores = stores.lock().unwrap_or_else(PoisonError::into_inner);
        let store = stores
            .entry(config.location.name().to_owned())
            .or_insert_with(|| Arc::new(HashMapBackend::new(clock.clone())));
        Ok(Arc::clone(store) as Arc<dyn CacheBackend>)
    })
}

/// The `CACHES` setting of this example, from `examples/hashmap.toml` (plus `CACHES__…` overrides).
pub(crate) fn example_config() -> Result<CachesConfig> {
    CachesConfig::load(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/hashmap.toml"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let mut backends = Backends::new();
    backends.register(registration(Clock::system()));
    let caches = Caches::build(&example_config()?, &backends)?;

    let cache = caches.default_cache();
    cache.set("greeting", "hello").timeout(Timeout::secs(60)).await?;
    let greeting: Option<String> = cache.get("greeting").await?;
    println!("greeting = {greeting:?}");
    println!("visits = {}", cache.get_or_set("visits", || async { 0i64 }).await?);
    println!("visits = {}", cache.incr("visits", 1).await?);
    Ok(())
}
