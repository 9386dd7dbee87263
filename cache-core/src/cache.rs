//! [`Cache`]: the handle users call, with Django's methods and semantics.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::backend::{CacheBackend, Capabilities, Expiry};
use crate::backend_error::BackendResult;
use crate::call::Call;
use crate::clock::Clock;
use crate::codec::Codec;
use crate::error::{CacheError, KeyProblem, KeyRule, Result};
use crate::ignored_errors::{IgnoredErrors, is_ignorable};
use crate::key::{InlineKey, KeyFunction, has_forbidden_byte, key_is_valid, key_problems};
use crate::key_argument::IntoKey;
use crate::metrics::{Counters, Event, Metrics};
use crate::observe::{Blame, ErrorLabel, Instruments, OperationName};
use crate::operations::*;
use crate::single_flight::SingleFlight;
use crate::timeout::{Lifetime, Timeout};

/// How an alias makes keys, resolves timeouts and encodes values: Django's `KEY_PREFIX`,
/// `VERSION`, `KEY_FUNCTION` and `TIMEOUT`, plus the codec.
///
/// Start from `CacheOptions::default()` (Django's defaults) and change what differs; the fields
/// are private so that settings can be added without breaking callers:
///
/// ```
/// use cache_core::{CacheOptions, Timeout};
///
/// let options = CacheOptions::default()
///     .with_key_prefix("shop")
///     .with_version(2)
///     .with_timeout(Timeout::Seconds(60.0));
/// assert_eq!((options.key_prefix(), options.version()), ("shop", 2));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CacheOptions {
    key_prefix: String,
    version: i64,
    timeout: Timeout,
    key_function: KeyFunction,
    codec: Codec,
    ignore_exceptions: bool,
    log_keys: bool,
    latency_histogram: bool,
}

impl CacheOptions {
    /// Prepended to every key (`KEY_PREFIX`); `""` by default.
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }

    /// The default version (`VERSION`); 1 by default.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The alias' default timeout (`TIMEOUT`); 300 seconds by default.
    pub fn timeout(&self) -> Timeout {
        self.timeout
    }

    /// How keys are made (`KEY_FUNCTION`); `"{prefix}:{version}:{key}"` by default.
    pub fn key_function(&self) -> &KeyFunction {
        &self.key_function
    }

    /// How typed values are encoded; JSON by default.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Whether a failed server turns reads into misses and drops writes instead of returning an
    /// error (django-redis' `IGNORE_EXCEPTIONS`, pymemcache's `ignore_exc`); off by default.
    pub fn ignore_exceptions(&self) -> bool {
        self.ignore_exceptions
    }

    /// These options with fail-silently on or off: when on, an operation whose server fails (a
    /// timeout, an unreachable server, an open circuit, a refusal, a broken reply, an I/O error)
    /// returns as if the
    /// key were missing (`get` `None`, `has_key`/`add`/`touch`/`delete` false, `get_many` without
    /// it, `set`/`delete_many`/`clear` `Ok`, `set_many` reporting every key as failed) with a
    /// rate-limited warning and the error counted. `incr`, `decr`, `incr_version` and
    /// `decr_version` still fail: they have no honest answer without the server. Configuration,
    /// key, value and codec errors are never swallowed.
    pub fn with_ignore_exceptions(mut self, ignore: bool) -> Self {
        self.ignore_exceptions = ignore;
        self
    }

    /// Whether the debug-level `cache` span of each call shows the caller's key as it is;
    /// off by default, and the span shows a digest of it instead (keys can hold personal data).
    pub fn log_keys(&self) -> bool {
        self.log_keys
    }

    /// These options with raw keys in spans on or off (`options.log_keys`).
    pub fn with_log_keys(mut self, log_keys: bool) -> Self {
        self.log_keys = log_keys;
        self
    }

    /// Whether each call's duration is recorded in the `cache_operation_duration_seconds`
    /// histogram; off by default, because reading the clock twice costs about a quarter of a
    /// locmem hit. Turn it on with `options.latency_histogram = true`.
    pub fn latency_histogram(&self) -> bool {
        self.latency_histogram
    }

    /// These options with the latency histogram on or off (`options.latency_histogram`).
    pub fn with_latency_histogram(mut self, record: bool) -> Self {
        self.latency_histogram = record;
        self
    }

    /// These options with `KEY_PREFIX` set.
    pub fn with_key_prefix(mut self, key_prefix: impl Into<String>) -> Self {
        self.key_prefix = key_prefix.into();
        self
    }

    /// These options with `VERSION` set.
    pub fn with_version(mut self, version: i64) -> Self {
        self.version = version;
        self
    }

    /// These options with `TIMEOUT` set; `Timeout::Default` means Django's 300 seconds.
    pub fn with_timeout(mut self, timeout: Timeout) -> Self {
        self.timeout = timeout;
        self
    }

    /// These options with `KEY_FUNCTION` set.
    pub fn with_key_function(mut self, key_function: KeyFunction) -> Self {
        self.key_function = key_function;
        self
    }

    /// These options with the codec set.
    pub fn with_codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }
}

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions {
            key_prefix: String::new(),
            version: 1,
            timeout: Timeout::Seconds(DEFAULT_TIMEOUT_SECONDS),
            key_function: KeyFunction::default_format(),
            codec: Codec::Json,
            ignore_exceptions: false,
            log_keys: false,
            latency_histogram: false,
        }
    }
}

/// Django's default `TIMEOUT`.
pub const DEFAULT_TIMEOUT_SECONDS: f64 = 300.0;

/// A configured cache alias. Cheap to clone; clones share the backend, counters and flights.
#[derive(Clone)]
pub struct Cache {
    pub(crate) inner: Arc<CacheInner>,
}

pub(crate) struct CacheInner {
    pub(crate) alias: String,
    pub(crate) backend: Arc<dyn CacheBackend>,
    pub(crate) capabilities: Capabilities,
    pub(crate) options: CacheOptions,
    pub(crate) default_lifetime: Lifetime,
    /// `"{prefix}:{version}:"` for the default key function and version, when it is valid: the
    /// hot path then appends the caller's key and scans only that.
    pub(crate) key_head: Option<String>,
    pub(crate) counters: Counters,
    /// The same events in the `metrics` facade, and the latency histogram.
    pub(crate) instruments: Instruments,
    /// The warnings of `ignore_exceptions`.
    pub(crate) ignored: IgnoredErrors,
    pub(crate) flights: Arc<SingleFlight<String, Bytes>>,
}

impl Cache {
    /// A cache alias named `alias` over any backend, with its key, timeout and codec settings.
    /// Applications that configure several aliases get theirs from `Caches::get`.
    pub fn new(alias: impl Into<String>, backend: Arc<dyn CacheBackend>, options: CacheOptions) -> Cache {
        let default_lifetime = Lifetime::resolve(options.timeout, Lifetime::from_seconds(DEFAULT_TIMEOUT_SECONDS));
        let capabilities = backend.capabilities();
        let key_head = options
            .key_function
            .is_default()
            .then(|| options.key_function.make("", &options.key_prefix, options.version))
            .filter(|head| key_is_valid(head, capabilities.max_key_length));
        let alias = alias.into();
        let instruments = Instruments::new(&alias, backend.name(), options.latency_histogram);
        Cache {
            inner: Arc::new(CacheInner {
                alias,
                capabilities,
                backend,
                options,
                default_lifetime,
                key_head,
                counters: Counters::default(),
                instruments,
                ignored: IgnoredErrors::new(Clock::system()),
                flights: Arc::default(),
            }),
        }
    }

    /// The alias name.
    pub fn alias(&self) -> &str {
        &self.inner.alias
    }

    /// The backend behind this alias.
    pub fn backend(&self) -> &Arc<dyn CacheBackend> {
        &self.inner.backend
    }

    /// The alias' settings.
    pub fn options(&self) -> &CacheOptions {
        &self.inner.options
    }

    /// The counters so far.
    pub fn metrics(&self) -> Metrics {
        self.inner.counters.read()
    }

    /// The key stored for `key` at `version` (the alias version when `None`): Django's `make_key`.
    pub fn make_key(&self, key: &str, version: Option<i64>) -> String {
        let options = &self.inner.options;
        options
            .key_function
            .make(key, &options.key_prefix, version.unwrap_or(options.version))
    }

    /// The value stored at `key`, decoded, or `None` on a miss. A stored `None`/`null` is a hit:
    /// ask for `Option<T>` to tell it apart.
    pub fn get<'a, T: DeserializeOwned + Send + 'static>(
        &'a self,
        key: impl IntoKey<'a>,
    ) -> Call<'a, Get<'a, Typed<T>>> {
        Call::new(self, Get::new(key.into_key()))
    }

    /// The stored bytes at `key`, without the codec (HTML, JS, CSS).
    pub fn get_raw<'a>(&'a self, key: impl IntoKey<'a>) -> Call<'a, Get<'a, Raw>> {
        Call::new(self, Get::new(key.into_key()))
    }

    /// Stores `value` under `key`. A zero or negative timeout deletes any old value instead.
    pub fn set<'a, T: Serialize>(&'a self, key: impl IntoKey<'a>, value: T) -> Call<'a, Set<'a>> {
        let key = key.into_key();
        let value = self.encode(&key, &value);
        Call::new(self, Set { key, value })
    }

    /// Stores raw bytes under `key`, without the codec.
    pub fn set_raw<'a>(&'a self, key: impl IntoKey<'a>, value: impl Into<Bytes>) -> Call<'a, Set<'a>> {
        Call::new(
            self,
            Set {
                key: key.into_key(),
                value: Ok(value.into()),
            },
        )
    }

    /// Stores `value` only if `key` is missing or expired; yields whether it stored. With a zero
    /// or negative timeout it yields true for a missing key and stores nothing (Django's result).
    pub fn add<'a, T: Serialize>(&'a self, key: impl IntoKey<'a>, value: T) -> Call<'a, Add<'a>> {
        let key = key.into_key();
        let value = self.encode(&key, &value);
        Call::new(self, Add { key, value })
    }

    /// `add` for raw bytes.
    pub fn add_raw<'a>(&'a self, key: impl IntoKey<'a>, value: impl Into<Bytes>) -> Call<'a, Add<'a>> {
        Call::new(
            self,
            Add {
                key: key.into_key(),
                value: Ok(value.into()),
            },
        )
    }

    /// Gives an existing key a new timeout; yields whether it existed. Zero or negative removes it.
    pub fn touch<'a>(&'a self, key: impl IntoKey<'a>) -> Call<'a, Touch<'a>> {
        Call::new(self, Touch { key: key.into_key() })
    }

    /// Removes `key`; yields whether a live entry was removed.
    pub fn delete<'a>(&'a self, key: impl IntoKey<'a>) -> Call<'a, Delete<'a>> {
        Call::new(self, Delete { key: key.into_key() })
    }

    /// Whether a live entry exists at `key`.
    pub fn has_key<'a>(&'a self, key: impl IntoKey<'a>) -> Call<'a, HasKey<'a>> {
        Call::new(self, HasKey { key: key.into_key() })
    }

    /// The found keys and their decoded values; missing keys are left out.
    pub fn get_many<'a, K: AsRef<str> + Sync, T: DeserializeOwned + Send + 'static>(
        &'a self,
        keys: &'a [K],
    ) -> Call<'a, GetMany<'a, K, Typed<T>>> {
        Call::new(self, GetMany::new(keys))
    }

    /// `get_many` without the codec.
    pub fn get_many_raw<'a, K: AsRef<str> + Sync>(&'a self, keys: &'a [K]) -> Call<'a, GetMany<'a, K, Raw>> {
        Call::new(self, GetMany::new(keys))
    }

    /// Stores every pair; yields the keys that could not be stored (over the backend's value size
    /// limit, or refused by a server), as given.
    pub fn set_many<K: AsRef<str>, V: Serialize>(&self, items: impl IntoIterator<Item = (K, V)>) -> Call<'_, SetMany> {
        let encoded = items
            .into_iter()
            .map(|(key, value)| {
                let key = key.as_ref();
                self.encode(key, &value).map(|bytes| (key.to_owned(), bytes))
            })
            .collect();
        Call::new(self, SetMany { items: encoded })
    }

    /// `set_many` for raw bytes.
    pub fn set_many_raw<K: AsRef<str>, V: Into<Bytes>>(
        &self,
        items: impl IntoIterator<Item = (K, V)>,
    ) -> Call<'_, SetMany> {
        let items = items
            .into_iter()
            .map(|(key, value)| (key.as_ref().to_owned(), value.into()))
            .collect();
        Call::new(self, SetMany { items: Ok(items) })
    }

    /// Removes every key.
    pub fn delete_many<'a, K: AsRef<str> + Sync>(&'a self, keys: &'a [K]) -> Call<'a, DeleteMany<'a, K>> {
        Call::new(self, DeleteMany { keys })
    }

    /// Adds `delta` to the integer at `key`, atomically where the backend can, keeping its timeout.
    ///
    /// Errors: `KeyNotFound` when missing, `NotAnInteger` when the value is not an integer (floats
    /// and booleans included), `Overflow` past the `i64` range.
    pub fn incr<'a>(&'a self, key: impl IntoKey<'a>, delta: i64) -> Call<'a, Incr<'a>> {
        Call::new(
            self,
            Incr {
                key: key.into_key(),
                delta: Ok(delta),
                name: OperationName::Incr,
            },
        )
    }

    /// `incr` by `-delta`.
    pub fn decr<'a>(&'a self, key: impl IntoKey<'a>, delta: i64) -> Call<'a, Incr<'a>> {
        let negated = delta.checked_neg().ok_or(delta);
        Call::new(
            self,
            Incr {
                key: key.into_key(),
                delta: negated,
                name: OperationName::Decr,
            },
        )
    }

    /// Moves the value at `key` from its version to `version + delta` and yields the new version.
    /// The moved value gets the alias' default timeout (as in Django); a delta of zero changes nothing.
    pub fn incr_version<'a>(&'a self, key: impl IntoKey<'a>, delta: i64) -> Call<'a, IncrVersion<'a>> {
        Call::new(
            self,
            IncrVersion {
                key: key.into_key(),
                delta,
                downwards: false,
            },
        )
    }

    /// `incr_version` by `-delta`.
    pub fn decr_version<'a>(&'a self, key: impl IntoKey<'a>, delta: i64) -> Call<'a, IncrVersion<'a>> {
        Call::new(
            self,
            IncrVersion {
                key: key.into_key(),
                delta,
                downwards: true,
            },
        )
    }

    /// The value at `key`; on a miss, `produce` runs (only then), its value is `add`-ed and the
    /// stored value returned. Concurrent misses of the same key in this process run `produce` once;
    /// the others wait for its value (and get it even if storing it fails).
    ///
    /// A producer must not itself call `get_or_set` for the same key of the same alias: it would
    /// wait for its own result.
    pub fn get_or_set<'a, T, F, Fut>(&'a self, key: impl IntoKey<'a>, produce: F) -> Call<'a, GetOrSet<'a, T, F>>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
        F: FnOnce() -> Fut + Send + 'a,
        Fut: Future<Output = T> + Send + 'a,
    {
        Call::new(self, GetOrSet::new(key.into_key(), produce))
    }

    /// `get_or_set` with a fallible producer; its error is returned as is and nothing is stored.
    pub fn get_or_try_set<'a, T, E, F, Fut>(
        &'a self,
        key: impl IntoKey<'a>,
        produce: F,
    ) -> Call<'a, GetOrTrySet<'a, T, E, F>>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
        E: From<CacheError> + Send + 'a,
        F: FnOnce() -> Fut + Send + 'a,
        Fut: Future<Output = std::result::Result<T, E>> + Send + 'a,
    {
        Call::new(self, GetOrTrySet::new(key.into_key(), produce))
    }

    /// Removes every entry of this alias' backend.
    pub async fn clear(&self) -> Result<()> {
        let result = self.inner.backend.clear().await;
        self.tolerate(OperationName::Clear, result, None).map(drop)
    }

    /// Releases the backend's connections; the cache can still be used afterwards.
    pub async fn close(&self) -> Result<()> {
        let result = self.inner.backend.close().await;
        self.tolerate(OperationName::Close, result, None).map(drop)
    }

    // ---- shared steps of every operation -------------------------------------------------

    /// Makes and validates the key: Django's `make_and_validate_key`.
    pub(crate) fn prepare_key(&self, operation: OperationName, key: &str, version: Option<i64>) -> Result<String> {
        let made = self.make_key(key, version);
        self.validate(operation, &made)?;
        Ok(made)
    }

    /// Runs `with` on the made, validated key, built on the stack when it fits: the hot path allocates nothing.
    #[inline]
    pub(crate) fn with_prepared_key<R>(
        &self,
        operation: OperationName,
        key: &str,
        version: Option<i64>,
        with: impl FnOnce(&str) -> R,
    ) -> Result<R> {
        let inner = &*self.inner;
        if let Some(head) = &inner.key_head
            && version.is_none_or(|version| version == inner.options.version)
        {
            // Built in place: returning the buffer by value would copy all of it on every get.
            let mut made = InlineKey::new();
            if made.try_push_str(head).is_ok() && made.try_push_str(key).is_ok() {
                // The head is known valid, so only the caller's part needs the scan.
                if made.len() > inner.capabilities.max_key_length || has_forbidden_byte(key.as_bytes()) {
                    self.validate(operation, &made)?;
                }
                return Ok(with(&made));
            }
        }
        let made = self.prepare_key(operation, key, version)?;
        Ok(with(&made))
    }

    /// Django warns about keys memcached would refuse; a strict backend refuses them here, before I/O.
    #[inline]
    fn validate(&self, operation: OperationName, made: &str) -> Result<()> {
        let capabilities = &self.inner.capabilities;
        // Within the limit in bytes is within it in characters too: the common case ends here.
        if made.len() <= capabilities.max_key_length && !has_forbidden_byte(made.as_bytes()) {
            return Ok(());
        }
        for problem in key_problems(made, capabilities.max_key_length) {
            if capabilities.strict_keys {
                return Err(self.counted(operation, CacheError::InvalidKey(problem)));
            }
            tracing::warn!(alias = %self.inner.alias, "{problem}");
        }
        // A strict server counts bytes: 84 CJK characters pass Django's check but not memcached's.
        if capabilities.strict_keys && made.len() > capabilities.max_key_length {
            let problem = KeyProblem {
                key: made.to_owned(),
                rule: KeyRule::TooManyBytes {
                    limit: capabilities.max_key_length,
                },
            };
            return Err(self.counted(operation, CacheError::InvalidKey(problem)));
        }
        Ok(())
    }

    pub(crate) fn encode<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<Bytes> {
        // Counted as an error where a call that is awaited returns it, not here: a call may be
        // built and never awaited.
        self.inner
            .options
            .codec
            .encode(value)
            .map_err(|source| CacheError::Codec {
                alias: self.inner.alias.clone(),
                key: key.to_owned(),
                action: "encode",
                source,
            })
    }

    pub(crate) fn decode<T: DeserializeOwned>(&self, operation: OperationName, key: &str, bytes: &[u8]) -> Result<T> {
        self.inner.options.codec.decode(bytes).map_err(|source| {
            let error = CacheError::Codec {
                alias: self.inner.alias.clone(),
                key: key.to_owned(),
                action: "decode",
                source,
            };
            self.counted(operation, error)
        })
    }

    /// Refuses a value over the backend's size limit before it is sent, so the old value stays.
    /// Not counted here: `set_many` reports such a key as failed, without an error.
    pub(crate) fn check_size(&self, key: &str, value: &Bytes) -> Result<()> {
        match self.inner.capabilities.max_value_bytes {
            Some(limit) if value.len() > limit => Err(CacheError::ValueTooLarge {
                alias: self.inner.alias.clone(),
                key: key.to_owned(),
                size: value.len(),
                limit,
            }),
            _ => Ok(()),
        }
    }

    /// The expiry a write with `timeout` stores, after the alias default and Django's rules (zero,
    /// negative and NaN expire at once: `None`, nothing is stored; a duration too large to represent
    /// never expires) — for code that writes through a backend itself, as a tiered alias does.
    pub fn expiry_for(&self, timeout: Timeout) -> Option<Expiry> {
        match self.lifetime(timeout) {
            Lifetime::Store(expiry) => Some(expiry),
            Lifetime::ExpiredAtOnce => None,
        }
    }

    /// The lifetime a write gets.
    #[inline]
    pub(crate) fn lifetime(&self, timeout: Timeout) -> Lifetime {
        Lifetime::resolve(timeout, self.inner.default_lifetime)
    }

    /// Counts `n` of `event` for `operation`, in process and in the `metrics` facade.
    #[inline]
    pub(crate) fn count(&self, operation: OperationName, event: Event, n: u64) {
        self.inner.counters.count(event, n);
        self.inner.instruments.count(operation, event, n);
    }

    /// Counts `error` once, as the server's or the caller's, by kind; hands it back.
    #[cold]
    pub(crate) fn counted(&self, operation: OperationName, error: CacheError) -> CacheError {
        let label = ErrorLabel::of(&error);
        let event = match label.blame() {
            Blame::Server => Event::ServerError,
            Blame::Caller => Event::CallerError,
        };
        self.inner.counters.count(event, 1);
        self.inner.instruments.count_error(operation, event, label);
        error
    }

    /// Counts an error the façade found (a value it could not encode, one over the size limit).
    #[inline]
    pub(crate) fn observe<T>(&self, operation: OperationName, result: Result<T>) -> Result<T> {
        result.map_err(|error| self.counted(operation, error))
    }

    /// Counts a backend's error and turns it into the public one, naming the alias and, for a
    /// single-key operation, the caller's `key`: the error boundary.
    #[inline]
    pub(crate) fn answer<T>(&self, operation: OperationName, result: BackendResult<T>, key: Option<&str>) -> Result<T> {
        result.map_err(|error| self.counted(operation, CacheError::from_backend(&self.inner.alias, key, error)))
    }

    /// [`Cache::answer`] for an alias that may fail silently: `Ok(Some(value))` on success,
    /// `Ok(None)` when `ignore_exceptions` is on and the error is a server failure (counted, and
    /// warned about at a limited rate), the error otherwise. `operation` names the call in the warning.
    #[inline]
    pub(crate) fn tolerate<T>(
        &self,
        operation: OperationName,
        result: BackendResult<T>,
        key: Option<&str>,
    ) -> Result<Option<T>> {
        match result {
            Ok(value) => Ok(Some(value)),
            Err(error) => self.ignore_or_fail(operation, CacheError::from_backend(&self.inner.alias, key, error)),
        }
    }

    #[cold]
    fn ignore_or_fail<T>(&self, operation: OperationName, error: CacheError) -> Result<Option<T>> {
        let error = self.counted(operation, error);
        if !self.inner.options.ignore_exceptions || !is_ignorable(&error) {
            return Err(error);
        }
        self.count(operation, Event::Ignored, 1);
        self.inner.ignored.report(&self.inner.alias, operation.as_str(), &error);
        Ok(None)
    }

    pub(crate) fn flights(&self) -> &Arc<SingleFlight<String, Bytes>> {
        &self.inner.flights
    }

    pub(crate) fn backend_ref(&self) -> &dyn CacheBackend {
        &*self.inner.backend
    }
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("alias", &self.inner.alias)
            .field("backend", &self.inner.backend)
            .field("key_prefix", &self.inner.options.key_prefix)
            .field("version", &self.inner.options.version)
            .finish_non_exhaustive()
    }
}
