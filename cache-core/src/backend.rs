//! The byte-level contract a storage engine implements: [`CacheBackend`].

use std::any::Any;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use crate::backend_error::BackendResult as Result;
use crate::health::{ServerHealth, ServerRole};

/// When a stored entry stops being readable, already resolved by the façade.
///
/// The façade turns `Timeout::Default`, `Never` and `Seconds` into one of these; a zero or negative
/// timeout never reaches a backend (the façade deletes instead, as Django's results require), so a
/// backend only ever sees "never" or a strictly positive duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// The entry lives until it is deleted or evicted.
    Never,
    /// The entry expires this long after the write. Always greater than zero.
    After(Duration),
}

/// How long a stored entry has left, as [`CacheBackend::get_with_remaining`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Remaining {
    /// The backend can't tell.
    Unknown,
    /// The entry never expires.
    Never,
    /// The entry expires after this long.
    For(Duration),
}

/// What a backend can and cannot do; the façade and the conformance suite read it, never the name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Keys that break memcached's rules are refused (`CacheError::InvalidKey`) instead of warned about.
    pub strict_keys: bool,
    /// The longest key accepted, in characters (Django counts code points).
    pub max_key_length: usize,
    /// The largest value accepted, in bytes, if there is a limit.
    pub max_value_bytes: Option<usize>,
    /// Whether the backend stores anything at all (false for the dummy backend).
    pub stores_values: bool,
    /// Whether a decrement stops at zero (memcached) instead of going negative.
    pub decr_floors_at_zero: bool,
}

impl Capabilities {
    /// The capabilities of an ordinary in-process or Redis-like store: lenient keys, no value limit.
    pub const fn lenient() -> Self {
        Capabilities {
            strict_keys: false,
            max_key_length: crate::key::MAX_KEY_LENGTH,
            max_value_bytes: None,
            stores_values: true,
            decr_floors_at_zero: false,
        }
    }

    /// Builder: keys must obey memcached's rules.
    pub const fn with_strict_keys(mut self) -> Self {
        self.strict_keys = true;
        self
    }

    /// Builder: values larger than `bytes` are refused.
    pub const fn with_max_value_bytes(mut self, bytes: usize) -> Self {
        self.max_value_bytes = Some(bytes);
        self
    }

    /// Builder: nothing is stored (Django's DummyCache).
    pub const fn storing_nothing(mut self) -> Self {
        self.stores_values = false;
        self
    }

    /// Builder: decrements stop at zero.
    pub const fn with_decr_floor_at_zero(mut self) -> Self {
        self.decr_floors_at_zero = true;
        self
    }
}

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities::lenient()
    }
}

/// The key a default [`CacheBackend::probe`] looks up (and never finds).
pub const HEALTH_CHECK_KEY: &str = "__cache_health_check__";

/// A storage engine, addressed with keys the façade has already made and validated.
///
/// Implement the required methods; override the batch methods when the engine has a native form
/// (MGET, multi-get, pipelines). Failures are [`BackendError`](crate::BackendError)s naming the
/// server; the façade adds the alias and the caller's key. The conformance suite in `cache_core::testkit` checks an
/// implementation against Django's semantics.
///
/// `Any` lets a crate find its own backend behind an alias' `Cache::backend()` (a `&dyn Any`
/// from it downcasts) and offer calls the façade doesn't have.
#[async_trait]
pub trait CacheBackend: Any + Send + Sync + fmt::Debug + 'static {
    /// What this backend can do.
    fn capabilities(&self) -> Capabilities;

    /// The backend's short name (`locmem`, `redis`, `memcached`, …): the `backend` label of the
    /// alias' metrics and the `backend` field of its spans. `custom` unless overridden.
    fn name(&self) -> &'static str {
        "custom"
    }

    /// The stored bytes, or `None` when the key is missing or expired.
    async fn get(&self, key: &str) -> Result<Option<Bytes>>;

    /// Stores `value`, replacing any previous value and its expiry.
    async fn set(&self, key: &str, value: Bytes, expiry: Expiry) -> Result<()>;

    /// Stores `value` only if the key is missing or expired; returns whether it stored.
    async fn add(&self, key: &str, value: Bytes, expiry: Expiry) -> Result<bool>;

    /// Gives an existing entry a new expiry; returns whether the key existed.
    async fn touch(&self, key: &str, expiry: Expiry) -> Result<bool>;

    /// Removes the key; returns whether a live (unexpired) entry was removed.
    async fn delete(&self, key: &str) -> Result<bool>;

    /// Atomically adds `delta` to a stored decimal integer, keeping its expiry, and returns the new value.
    ///
    /// Errors: [`ErrorKind::KeyNotFound`](crate::ErrorKind::KeyNotFound) when the key is missing,
    /// `NotAnInteger` when the stored bytes are not a decimal integer, `Overflow` when the result
    /// leaves the `i64` range.
    async fn incr(&self, key: &str, delta: i64) -> Result<i64>;

    /// One result per key, in order. Default: one `get` per key.
    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Bytes>>> {
        let mut found = Vec::with_capacity(keys.len());
        for key in keys {
            found.push(self.get(key).await?);
        }
        Ok(found)
    }

    /// Stores every item; returns the keys that could not be stored. Default: one `set` per item.
    async fn set_many(&self, items: &[(&str, Bytes)], expiry: Expiry) -> Result<Vec<String>> {
        for (key, value) in items {
            self.set(key, value.clone(), expiry).await?;
        }
        Ok(Vec::new())
    }

    /// Removes every key. Default: one `delete` per key.
    async fn delete_many(&self, keys: &[&str]) -> Result<()> {
        for key in keys {
            self.delete(key).await?;
        }
        Ok(())
    }

    /// Whether a live entry exists. Default: a `get`.
    async fn has_key(&self, key: &str) -> Result<bool> {
        Ok(self.get(key).await?.is_some())
    }

    /// Removes every entry this backend owns.
    async fn clear(&self) -> Result<()>;

    /// Releases connections; the backend may be used again afterwards.
    async fn close(&self) -> Result<()> {
        Ok(())
    }

    /// Probes every server this backend uses — concurrently, each bounded by the backend's own
    /// timeout — for `Caches::check`. Default: one `has_key` round trip, reported as one local
    /// store named by [`CacheBackend::name`]; backends with servers report each one.
    async fn probe(&self) -> Vec<ServerHealth> {
        vec![ServerHealth::measure(self.name(), ServerRole::Local, self.has_key(HEALTH_CHECK_KEY)).await]
    }

    /// The stored bytes and how long the entry has left, for a tier kept in front of this backend
    /// (`cache-tiered`) that must not keep a copy longer than the entry lives. Default: a `get`,
    /// with the lifetime [`Remaining::Unknown`]; backends that can tell in the same round trip
    /// override it.
    async fn get_with_remaining(&self, key: &str) -> Result<Option<(Bytes, Remaining)>> {
        Ok(self.get(key).await?.map(|value| (value, Remaining::Unknown)))
    }

    /// [`CacheBackend::get_with_remaining`] for several keys, in their order. Default: a
    /// `get_many`, each lifetime [`Remaining::Unknown`].
    async fn get_many_with_remaining(&self, keys: &[&str]) -> Result<Vec<Option<(Bytes, Remaining)>>> {
        let values = self.get_many(keys).await?;
        Ok(values
            .into_iter()
            .map(|value| value.map(|value| (value, Remaining::Unknown)))
            .collect())
    }

    /// Answers a `get` without waiting, when the backend is in process.
    ///
    /// An in-memory backend returns `Some(result)`; the façade then skips building a future for
    /// the hottest path of all. Networked backends keep the default `None`.
    fn get_now(&self, key: &str) -> Option<Result<Option<Bytes>>> {
        let _ = key;
        None
    }
}
