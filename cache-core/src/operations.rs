//! What each façade method does when awaited: Django's semantics on top of a [`CacheBackend`].
//!
//! Every operation makes and validates its keys first (Django's `make_and_validate_key`), so a
//! strict backend never sees a bad key, and resolves `Timeout` into a lifetime: a lifetime that
//! has already ended never reaches the backend; the write becomes the delete Django's results call for.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::future::{Future, Ready, ready};
use std::marker::PhantomData;

use bytes::Bytes;
use futures::future::{BoxFuture, Either};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::backend_error::BackendResult;
use crate::cache::Cache;
use crate::call::sealed::Sealed;
use crate::call::{CallOptions, Operation, Writes};
use crate::error::{CacheError, Result};
use crate::metrics::Event;
use crate::observe::{ErrorLabel, OperationName};
use crate::single_flight::Role;
use crate::timeout::Lifetime;

/// How a read hands back stored bytes: decoded by the codec ([`Typed`]) or as they are ([`Raw`]).
pub trait ValueKind: Send + 'static + Sealed {
    /// What a hit yields.
    type Value: Send + 'static;
    /// Turns stored bytes into the value.
    fn from_stored(cache: &Cache, operation: OperationName, key: &str, bytes: Bytes) -> Result<Self::Value>;
}

/// Values decoded with the alias' codec into `T`.
pub struct Typed<T>(PhantomData<fn() -> T>);

/// Stored bytes, untouched.
pub struct Raw;

impl<T> Sealed for Typed<T> {}
impl Sealed for Raw {}
impl<V> Sealed for Get<'_, V> {}
impl Sealed for Set<'_> {}
impl Sealed for Add<'_> {}
impl Sealed for Touch<'_> {}
impl Sealed for Delete<'_> {}
impl Sealed for HasKey<'_> {}
impl<K, V> Sealed for GetMany<'_, K, V> {}
impl Sealed for SetMany {}
impl<K> Sealed for DeleteMany<'_, K> {}
impl Sealed for Incr<'_> {}
impl Sealed for IncrVersion<'_> {}
impl<T, E, F> Sealed for GetOrTrySet<'_, T, E, F> {}
impl<T, F> Sealed for GetOrSet<'_, T, F> {}

impl<T: DeserializeOwned + Send + 'static> ValueKind for Typed<T> {
    type Value = T;
    fn from_stored(cache: &Cache, operation: OperationName, key: &str, bytes: Bytes) -> Result<T> {
        cache.decode(operation, key, &bytes)
    }
}

impl ValueKind for Raw {
    type Value = Bytes;
    fn from_stored(_: &Cache, _: OperationName, _: &str, bytes: Bytes) -> Result<Bytes> {
        Ok(bytes)
    }
}

// ---- get -------------------------------------------------------------------------------------

/// [`Cache::get`] and [`Cache::get_raw`].
pub struct Get<'a, V> {
    key: Cow<'a, str>,
    kind: PhantomData<V>,
}

impl<'a, V> Get<'a, V> {
    pub(crate) fn new(key: Cow<'a, str>) -> Self {
        Get { key, kind: PhantomData }
    }
}

impl<'a, V: ValueKind> Operation<'a> for Get<'a, V> {
    type Output = Result<Option<V::Value>>;
    type Future = Either<Ready<Result<Option<V::Value>>>, BoxFuture<'a, Result<Option<V::Value>>>>;

    fn name(&self) -> OperationName {
        OperationName::Get
    }

    fn key(&self) -> Option<&str> {
        Some(&self.key)
    }

    fn outcome(output: &Self::Output) -> &'static str {
        found(output)
    }

    fn start(self, cache: &'a Cache, options: CallOptions) -> Self::Future {
        let key = self.key;
        // An in-process backend answers at once: no future, no allocated key. The answer is
        // finished inside the closure so the (large) result is moved as few times as possible.
        let first = cache.with_prepared_key(OperationName::Get, &key, options.version, |made| {
            match cache.backend_ref().get_now(made) {
                Some(answer) => Ok(finish_get::<V>(cache, &key, answer)),
                None => Err(made.to_owned()),
            }
        });
        match first {
            Err(invalid_key) => Either::Left(ready(Err(invalid_key))),
            Ok(Ok(finished)) => Either::Left(ready(finished)),
            Ok(Err(made)) => Either::Right(Box::pin(async move {
                let answer = cache.backend_ref().get(&made).await;
                finish_get::<V>(cache, &key, answer)
            })),
        }
    }
}

#[inline]
fn finish_get<V: ValueKind>(
    cache: &Cache,
    key: &str,
    answer: BackendResult<Option<Bytes>>,
) -> Result<Option<V::Value>> {
    match cache.tolerate(OperationName::Get, answer, Some(key))?.flatten() {
        Some(bytes) => {
            cache.count(OperationName::Get, Event::Hit, 1);
            V::from_stored(cache, OperationName::Get, key, bytes).map(Some)
        }
        None => {
            cache.count(OperationName::Get, Event::Miss, 1);
            Ok(None)
        }
    }
}

/// A read's outcome: `hit`, `miss`, or the error's kind.
fn found<T>(output: &Result<Option<T>>) -> &'static str {
    match output {
        Ok(Some(_)) => "hit",
        Ok(None) => "miss",
        Err(error) => ErrorLabel::of(error).as_str(),
    }
}

/// A call answering yes or no: `yes` or `no`, or the error's kind.
fn yes_no(output: &Result<bool>, yes: &'static str, no: &'static str) -> &'static str {
    match output {
        Ok(true) => yes,
        Ok(false) => no,
        Err(error) => ErrorLabel::of(error).as_str(),
    }
}

/// Any other call: `ok`, or the error's kind.
fn done<T>(output: &Result<T>) -> &'static str {
    match output {
        Ok(_) => "ok",
        Err(error) => ErrorLabel::of(error).as_str(),
    }
}

// ---- set / add / touch -----------------------------------------------------------------------

/// [`Cache::set`] and [`Cache::set_raw`].
pub struct Set<'a> {
    pub(crate) key: Cow<'a, str>,
    pub(crate) value: Result<Bytes>,
}

impl Writes for Set<'_> {}

impl<'a> Operation<'a> for Set<'a> {
    type Output = Result<()>;
    type Future = BoxFuture<'a, Result<()>>;

    fn name(&self) -> OperationName {
        OperationName::Set
    }

    fn key(&self) -> Option<&str> {
        Some(&self.key)
    }

    fn outcome(output: &Self::Output) -> &'static str {
        done(output)
    }

    fn start(self, cache: &'a Cache, options: CallOptions) -> Self::Future {
        Box::pin(async move {
            let value = cache.observe(OperationName::Set, self.value)?;
            let made = cache.prepare_key(OperationName::Set, &self.key, options.version)?;
            match cache.lifetime(options.timeout) {
                // Django: a set that expires at once deletes the old value too.
                Lifetime::ExpiredAtOnce => {
                    let deleted = cache.backend_ref().delete(&made).await;
                    if cache.tolerate(OperationName::Set, deleted, Some(&*self.key))? == Some(true) {
                        cache.count(OperationName::Set, Event::Delete, 1);
                    }
                    Ok(())
                }
                Lifetime::Store(expiry) => {
                    cache.observe(OperationName::Set, cache.check_size(&self.key, &value))?;
                    let stored = cache.backend_ref().set(&made, value, expiry).await;
                    if cache.tolerate(OperationName::Set, stored, Some(&*self.key))?.is_some() {
                        cache.count(OperationName::Set, Event::Set, 1);
                    }
                    Ok(())
                }
            }
        })
    }
}

/// [`Cache::add`] and [`Cache::add_raw`].
pub struct Add<'a> {
    pub(crate) key: Cow<'a, str>,
    pub(crate) value: Result<Bytes>,
}

impl Writes for Add<'_> {}

impl<'a> Operation<'a> for Add<'a> {
    type Output = Result<bool>;
    type Future = BoxFuture<'a, Result<bool>>;

    fn name(&self) -> OperationName {
        OperationName::Add
    }

    fn key(&self) -> Option<&str> {
        Some(&self.key)
    }

    fn outcome(output: &Self::Output) -> &'static str {
        yes_no(output, "stored", "not_stored")
    }

    fn start(self, cache: &'a Cache, options: CallOptions) -> Self::Future {
        Box::pin(async move {
            let value = cache.observe(OperationName::Add, self.value)?;
            let made = cache.prepare_key(OperationName::Add, &self.key, options.version)?;
            match cache.lifetime(options.timeout) {
                // Django: true when the key was free, though nothing readable is stored.
                Lifetime::ExpiredAtOnce => {
                    let found = cache.backend_ref().has_key(&made).await;
                    Ok(cache
                        .tolerate(OperationName::Add, found, Some(&*self.key))?
                        .is_some_and(|found| !found))
                }
                Lifetime::Store(expiry) => {
                    cache.observe(OperationName::Add, cache.check_size(&self.key, &value))?;
                    let stored = cache.backend_ref().add(&made, value, expiry).await;
                    let stored = cache
                        .tolerate(OperationName::Add, stored, Some(&*self.key))?
                        .unwrap_or(false);
                    if stored {
                        cache.count(OperationName::Add, Event::Set, 1);
                    }
                    Ok(stored)
                }
            }
        })
    }
}

/// [`Cache::touch`].
pub struct Touch<'a> {
    pub(crate) key: Cow<'a, str>,
}

impl Writes for Touch<'_> {}

impl<'a> Operation<'a> for Touch<'a> {
    type Output = Result<bool>;
    type Future = BoxFuture<'a, Result<bool>>;

    fn name(&self) -> OperationName {
        OperationName::Touch
    }

    fn key(&self) -> Option<&str> {
        Some(&self.key)
    }

    fn outcome(output: &Self::Output) -> &'static str {
        yes_no(output, "ok", "miss")
    }

    fn start(self, cache: &'a Cache, options: CallOptions) -> Self::Future {
        Box::pin(async move {
            let made = cache.prepare_key(OperationName::Touch, &self.key, options.version)?;
            let backend = cache.backend_ref();
            match cache.lifetime(options.timeout) {
                // Django: true when the key existed, and it is gone afterwards.
                Lifetime::ExpiredAtOnce => {
                    let existed = cache
                        .tolerate(OperationName::Touch, backend.delete(&made).await, Some(&*self.key))?
                        .unwrap_or(false);
                    if existed {
                        cache.count(OperationName::Touch, Event::Delete, 1);
                    }
                    Ok(existed)
                }
                Lifetime::Store(expiry) => {
                    let existed = cache
                        .tolerate(
                            OperationName::Touch,
                            backend.touch(&made, expiry).await,
                            Some(&*self.key),
                        )?
                        .unwrap_or(false);
                    if existed {
                        cache.count(OperationName::Touch, Event::Set, 1);
                    }
                    Ok(existed)
                }
            }
        })
    }
}

// ---- delete / has_key ------------------------------------------------------------------------

/// [`Cache::delete`].
pub struct Delete<'a> {
    pub(crate) key: Cow<'a, str>,
}

impl<'a> Operation<'a> for Delete<'a> {
    type Output = Result<bool>;
    type Future = BoxFuture<'a, Result<bool>>;

    fn name(&self) -> OperationName {
        OperationName::Delete
    }

    fn key(&self) -> Option<&str> {
        Some(&self.key)
    }

    fn outcome(output: &Self::Output) -> &'static str {
        yes_no(output, "ok", "miss")
    }

    fn start(self, cache: &'a Cache, options: CallOptions) -> Self::Future {
        Box::pin(async move {
            let made = cache.prepare_key(OperationName::Delete, &self.key, options.version)?;
            let deleted = cache.backend_ref().delete(&made).await;
            let deleted = cache
                .tolerate(OperationName::Delete, deleted, Some(&*self.key))?
                .unwrap_or(false);
            if deleted {
                cache.count(OperationName::Delete, Event::Delete, 1);
            }
            Ok(deleted)
        })
    }
}

/// [`Cache::has_key`].
pub struct HasKey<'a> {
    pub(crate) key: Cow<'a, str>,
}

impl<'a> Operation<'a> for HasKey<'a> {
    type Output = Result<bool>;
    type Future = BoxFuture<'a, Result<bool>>;

    fn name(&self) -> OperationName {
        OperationName::HasKey
    }

    fn key(&self) -> Option<&str> {
        Some(&self.key)
    }

    fn outcome(output: &Self::Output) -> &'static str {
        yes_no(output, "hit", "miss")
    }

    fn start(self, cache: &'a Cache, options: CallOptions) -> Self::Future {
        Box::pin(async move {
            let made = cache.prepare_key(OperationName::HasKey, &self.key, options.version)?;
            let found = cache.backend_ref().has_key(&made).await;
            let found = cache
                .tolerate(OperationName::HasKey, found, Some(&*self.key))?
                .unwrap_or(false);
            cache.count(OperationName::HasKey, if found { Event::Hit } else { Event::Miss }, 1);
            Ok(found)
        })
    }
}

// ---- batches ---------------------------------------------------------------------------------

/// [`Cache::get_many`] and [`Cache::get_many_raw`].
pub struct GetMany<'a, K, V> {
    keys: &'a [K],
    kind: PhantomData<V>,
}

impl<'a, K, V> GetMany<'a, K, V> {
    pub(crate) fn new(keys: &'a [K]) -> Self {
        GetMany {
            keys,
            kind: PhantomData,
        }
    }
}

impl<'a, K: AsRef<str> + Sync, V: ValueKind> Operation<'a> for GetMany<'a, K, V> {
    type Output = Result<HashMap<String, V::Value>>;
    type Future = BoxFuture<'a, Self::Output>;

    fn name(&self) -> OperationName {
        OperationName::GetMany
    }

    fn outcome(output: &Self::Output) -> &'static str {
        done(output)
    }

    fn start(self, cache: &'a Cache, options: CallOptions) -> Self::Future {
        Box::pin(async move {
            let made = prepare_keys(cache, OperationName::GetMany, self.keys, options)?;
            if made.is_empty() {
                return Ok(HashMap::new());
            }
            let found = cache.backend_ref().get_many(&as_strs(&made)).await;
            let Some(found) = cache.tolerate(OperationName::GetMany, found, None)? else {
                cache.count(OperationName::GetMany, Event::Miss, made.len() as u64);
                return Ok(HashMap::new());
            };
            let mut values = HashMap::with_capacity(found.len());
            let mut hits = 0;
            for (key, value) in self.keys.iter().zip(found) {
                if let Some(bytes) = value {
                    hits += 1;
                    let key = key.as_ref();
                    values.insert(
                        key.to_owned(),
                        V::from_stored(cache, OperationName::GetMany, key, bytes)?,
                    );
                }
            }
            cache.count(OperationName::GetMany, Event::Hit, hits);
            cache.count(OperationName::GetMany, Event::Miss, made.len() as u64 - hits);
            Ok(values)
        })
    }
}

/// [`Cache::set_many`] and [`Cache::set_many_raw`].
pub struct SetMany {
    pub(crate) items: Result<Vec<(String, Bytes)>>,
}

impl Writes for SetMany {}

impl<'a> Operation<'a> for SetMany {
    type Output = Result<Vec<String>>;
    type Future = BoxFuture<'a, Result<Vec<String>>>;

    fn name(&self) -> OperationName {
        OperationName::SetMany
    }

    fn outcome(output: &Self::Output) -> &'static str {
        done(output)
    }

    fn start(self, cache: &'a Cache, options: CallOptions) -> Self::Future {
        Box::pin(async move {
            let items = cache.observe(OperationName::SetMany, self.items)?;
            let made = prepare_keys(
                cache,
                OperationName::SetMany,
                &items.iter().map(|(key, _)| key.as_str()).collect::<Vec<_>>(),
                options,
            )?;
            if made.is_empty() {
                return Ok(Vec::new());
            }
            let backend = cache.backend_ref();
            let expiry = match cache.lifetime(options.timeout) {
                Lifetime::ExpiredAtOnce => {
                    let deleted = backend.delete_many(&as_strs(&made)).await;
                    if cache.tolerate(OperationName::SetMany, deleted, None)?.is_none() {
                        // Ignored: none of the keys was written (here, removed).
                        return Ok(items.into_iter().map(|(key, _)| key).collect());
                    }
                    cache.count(OperationName::SetMany, Event::Delete, made.len() as u64);
                    return Ok(Vec::new());
                }
                Lifetime::Store(expiry) => expiry,
            };
            // Oversized values fail here, before I/O, so whatever was stored before stays.
            let mut failed = Vec::new();
            let mut to_store = Vec::with_capacity(items.len());
            let mut original_of = HashMap::with_capacity(items.len());
            for ((key, value), made_key) in items.iter().zip(&made) {
                if cache.check_size(key, value).is_err() {
                    failed.push(key.clone());
                } else {
                    original_of.insert(made_key.as_str(), key.as_str());
                    to_store.push((made_key.as_str(), value.clone()));
                }
            }
            if !to_store.is_empty() {
                let stored = backend.set_many(&to_store, expiry).await;
                // Ignored: every key sent is reported as not stored.
                let refused = cache
                    .tolerate(OperationName::SetMany, stored, None)?
                    .unwrap_or_else(|| to_store.iter().map(|(made_key, _)| (*made_key).to_owned()).collect());
                cache.count(
                    OperationName::SetMany,
                    Event::Set,
                    (to_store.len() - refused.len()) as u64,
                );
                failed.extend(refused.iter().map(|made_key| {
                    original_of
                        .get(made_key.as_str())
                        .map_or_else(|| made_key.clone(), |key| (*key).to_owned())
                }));
            }
            Ok(failed)
        })
    }
}

/// [`Cache::delete_many`].
pub struct DeleteMany<'a, K> {
    pub(crate) keys: &'a [K],
}

impl<'a, K: AsRef<str> + Sync> Operation<'a> for DeleteMany<'a, K> {
    type Output = Result<()>;
    type Future = BoxFuture<'a, Result<()>>;

    fn name(&self) -> OperationName {
        OperationName::DeleteMany
    }

    fn outcome(output: &Self::Output) -> &'static str {
        done(output)
    }

    fn start(self, cache: &'a Cache, options: CallOptions) -> Self::Future {
        Box::pin(async move {
            let made = prepare_keys(cache, OperationName::DeleteMany, self.keys, options)?;
            if made.is_empty() {
                return Ok(());
            }
            let deleted = cache.backend_ref().delete_many(&as_strs(&made)).await;
            if cache.tolerate(OperationName::DeleteMany, deleted, None)?.is_some() {
                cache.count(OperationName::DeleteMany, Event::Delete, made.len() as u64);
            }
            Ok(())
        })
    }
}

/// Makes and validates every key before any I/O, so one bad key stops the whole batch on a strict backend.
fn prepare_keys<K: AsRef<str>>(
    cache: &Cache,
    operation: OperationName,
    keys: &[K],
    options: CallOptions,
) -> Result<Vec<String>> {
    keys.iter()
        .map(|key| cache.prepare_key(operation, key.as_ref(), options.version))
        .collect()
}

/// The batch form the backend trait takes.
fn as_strs(made: &[String]) -> Vec<&str> {
    made.iter().map(String::as_str).collect()
}

// ---- incr / incr_version ---------------------------------------------------------------------

/// [`Cache::incr`] and [`Cache::decr`].
pub struct Incr<'a> {
    pub(crate) key: Cow<'a, str>,
    /// `Err(delta)` when `decr` could not negate it.
    pub(crate) delta: std::result::Result<i64, i64>,
    /// `Incr` or `Decr`: which method was called.
    pub(crate) name: OperationName,
}

impl<'a> Operation<'a> for Incr<'a> {
    type Output = Result<i64>;
    type Future = BoxFuture<'a, Result<i64>>;

    fn name(&self) -> OperationName {
        self.name
    }

    fn key(&self) -> Option<&str> {
        Some(&self.key)
    }

    fn outcome(output: &Self::Output) -> &'static str {
        done(output)
    }

    fn start(self, cache: &'a Cache, options: CallOptions) -> Self::Future {
        Box::pin(async move {
            let made = cache.prepare_key(self.name, &self.key, options.version)?;
            let delta = cache.observe(
                self.name,
                self.delta.map_err(|delta| CacheError::Overflow {
                    alias: cache.alias().to_owned(),
                    key: self.key.to_string(),
                    delta,
                }),
            )?;
            let result = cache.backend_ref().incr(&made, delta).await;
            let value = cache.answer(self.name, result, Some(&*self.key))?;
            cache.count(self.name, Event::Set, 1);
            Ok(value)
        })
    }
}

/// [`Cache::incr_version`] and [`Cache::decr_version`].
pub struct IncrVersion<'a> {
    pub(crate) key: Cow<'a, str>,
    pub(crate) delta: i64,
    /// `decr_version`: subtract `delta` (kept unnegated so `i64::MIN` needs no special case).
    pub(crate) downwards: bool,
}

impl<'a> Operation<'a> for IncrVersion<'a> {
    type Output = Result<i64>;
    type Future = BoxFuture<'a, Result<i64>>;

    fn name(&self) -> OperationName {
        if self.downwards {
            OperationName::DecrVersion
        } else {
            OperationName::IncrVersion
        }
    }

    fn key(&self) -> Option<&str> {
        Some(&self.key)
    }

    fn outcome(output: &Self::Output) -> &'static str {
        done(output)
    }

    fn start(self, cache: &'a Cache, options: CallOptions) -> Self::Future {
        Box::pin(async move {
            let operation = self.name();
            let version = options.version.unwrap_or(cache.options().version());
            let not_found = || CacheError::KeyNotFound {
                key: self.key.to_string(),
            };
            let old_key = cache.prepare_key(operation, &self.key, Some(version))?;
            let backend = cache.backend_ref();
            let found = cache.answer(operation, backend.get(&old_key).await, Some(&*self.key))?;
            let value = cache.observe(operation, found.ok_or_else(not_found))?;
            let moved = if self.downwards {
                version.checked_sub(self.delta)
            } else {
                version.checked_add(self.delta)
            };
            let new_version = cache.observe(
                operation,
                moved.ok_or_else(|| CacheError::VersionOverflow {
                    alias: cache.alias().to_owned(),
                    key: self.key.to_string(),
                    version,
                    delta: if self.downwards {
                        self.delta.saturating_neg()
                    } else {
                        self.delta
                    },
                }),
            )?;
            let new_key = cache.prepare_key(operation, &self.key, Some(new_version))?;
            // Deliberate difference: when both versions make the same key (a delta of 0, or a key
            // function that ignores the version), Django sets then deletes that key, losing it.
            if new_key == old_key {
                return Ok(new_version);
            }
            // Django re-sets with the alias' default timeout, not the value's remaining one.
            match cache.lifetime(crate::Timeout::Default) {
                Lifetime::Store(expiry) => {
                    cache.answer(operation, backend.set(&new_key, value, expiry).await, Some(&*self.key))?
                }
                Lifetime::ExpiredAtOnce => {
                    cache.answer(operation, backend.delete(&new_key).await, Some(&*self.key))?;
                }
            }
            cache.answer(operation, backend.delete(&old_key).await, Some(&*self.key))?;
            Ok(new_version)
        })
    }
}

// ---- get_or_set ------------------------------------------------------------------------------

/// [`Cache::get_or_try_set`].
pub struct GetOrTrySet<'a, T, E, F> {
    key: Cow<'a, str>,
    produce: F,
    types: PhantomData<fn() -> (T, E)>,
}

impl<'a, T, E, F> GetOrTrySet<'a, T, E, F> {
    pub(crate) fn new(key: Cow<'a, str>, produce: F) -> Self {
        GetOrTrySet {
            key,
            produce,
            types: PhantomData,
        }
    }
}

impl<T, E, F> Writes for GetOrTrySet<'_, T, E, F> {}

impl<'a, T, E, F, Fut> Operation<'a> for GetOrTrySet<'a, T, E, F>
where
    T: Serialize + DeserializeOwned + Send + 'static,
    E: From<CacheError> + Send + 'a,
    F: FnOnce() -> Fut + Send + 'a,
    Fut: Future<Output = std::result::Result<T, E>> + Send + 'a,
{
    type Output = std::result::Result<T, E>;
    type Future = BoxFuture<'a, Self::Output>;

    fn name(&self) -> OperationName {
        OperationName::GetOrSet
    }

    fn key(&self) -> Option<&str> {
        Some(&self.key)
    }

    fn outcome(output: &Self::Output) -> &'static str {
        match output {
            Ok(_) => "ok",
            Err(_) => "error",
        }
    }

    fn start(self, cache: &'a Cache, options: CallOptions) -> Self::Future {
        Box::pin(async move { get_or_try_set_inner(cache, &self.key, self.produce, options).await })
    }
}

/// The shared body of `get_or_set` and `get_or_try_set`.
pub(crate) async fn get_or_try_set_inner<T, E, F, Fut>(
    cache: &Cache,
    key: &str,
    produce: F,
    options: CallOptions,
) -> std::result::Result<T, E>
where
    T: Serialize + DeserializeOwned,
    E: From<CacheError>,
    F: FnOnce() -> Fut,
    Fut: Future<Output = std::result::Result<T, E>>,
{
    let made = cache.prepare_key(OperationName::GetOrSet, key, options.version)?;
    let backend = cache.backend_ref();
    // Set when a failed read was ignored (fail-silently): the server is down, so storing is not
    // tried either, and the call counts one error, not one per step.
    let mut unreachable = false;
    let leader = loop {
        let landed = cache.flights().landed();
        match cache.tolerate(OperationName::GetOrSet, backend.get(&made).await, Some(key))? {
            Some(Some(bytes)) => {
                cache.count(OperationName::GetOrSet, Event::Hit, 1);
                return Ok(cache.decode(OperationName::GetOrSet, key, &bytes)?);
            }
            Some(None) => {}
            None => unreachable = true,
        }
        // Counted once the role is known: a follower takes the leader's value, so it is
        // coalesced, not a miss.
        match cache.flights().join(made.clone()) {
            // A leader that ended between our miss and our join may have stored the value: look
            // once more, but only then (a miss is otherwise one read, as in Django).
            Role::Leader(leader) if !unreachable && cache.flights().landed() != landed => {
                if let Some(bytes) = cache
                    .tolerate(OperationName::GetOrSet, backend.get(&made).await, Some(key))?
                    .flatten()
                {
                    cache.count(OperationName::GetOrSet, Event::Hit, 1);
                    leader.publish(bytes.clone());
                    return Ok(cache.decode(OperationName::GetOrSet, key, &bytes)?);
                }
                cache.count(OperationName::GetOrSet, Event::Miss, 1);
                break leader;
            }
            Role::Leader(leader) => {
                cache.count(OperationName::GetOrSet, Event::Miss, 1);
                break leader;
            }
            Role::Follower(follower) => match follower.outcome().await {
                Some(bytes) => {
                    cache.count(OperationName::GetOrSet, Event::Coalesced, 1);
                    return Ok(cache.decode(OperationName::GetOrSet, key, &bytes)?);
                }
                // The leader failed or was cancelled: look again, and lead if nobody else does.
                None => continue,
            },
        }
    };
    let value = produce().await?;
    let bytes = cache.observe(OperationName::GetOrSet, cache.encode(key, &value))?;
    if unreachable {
        leader.publish(bytes);
        return Ok(value);
    }
    match store_produced(cache, key, &made, &bytes, options).await {
        Ok(Some(winner)) => {
            let decoded = cache.decode(OperationName::GetOrSet, key, &winner)?;
            leader.publish(winner);
            Ok(decoded)
        }
        Ok(None) => {
            leader.publish(bytes);
            Ok(value)
        }
        Err(error) => {
            // The value exists even though it could not be stored (too large, server down): the
            // waiters get it rather than each running the producer again, one after another.
            leader.publish(bytes);
            Err(error.into())
        }
    }
}

/// Stores a produced value the way Django's `get_or_set` does (`add`, then a re-read so that a
/// value stored by a concurrent writer wins). Returns the stored bytes when they differ from ours.
async fn store_produced(
    cache: &Cache,
    key: &str,
    made: &str,
    bytes: &Bytes,
    options: CallOptions,
) -> Result<Option<Bytes>> {
    let Lifetime::Store(expiry) = cache.lifetime(options.timeout) else {
        // Django: `add` with a zero timeout stores nothing, and the re-read returns the default.
        return Ok(None);
    };
    cache.observe(OperationName::GetOrSet, cache.check_size(key, bytes))?;
    let backend = cache.backend_ref();
    if cache.tolerate(
        OperationName::GetOrSet,
        backend.add(made, bytes.clone(), expiry).await,
        Some(key),
    )? == Some(true)
    {
        cache.count(OperationName::GetOrSet, Event::Set, 1);
    }
    match cache
        .tolerate(OperationName::GetOrSet, backend.get(made).await, Some(key))?
        .flatten()
    {
        Some(stored) if stored != *bytes => Ok(Some(stored)),
        _ => Ok(None),
    }
}

/// [`Cache::get_or_set`].
pub struct GetOrSet<'a, T, F> {
    key: Cow<'a, str>,
    produce: F,
    types: PhantomData<fn() -> T>,
}

impl<'a, T, F> GetOrSet<'a, T, F> {
    pub(crate) fn new(key: Cow<'a, str>, produce: F) -> Self {
        GetOrSet {
            key,
            produce,
            types: PhantomData,
        }
    }
}

impl<T, F> Writes for GetOrSet<'_, T, F> {}

impl<'a, T, F, Fut> Operation<'a> for GetOrSet<'a, T, F>
where
    T: Serialize + DeserializeOwned + Send + 'static,
    F: FnOnce() -> Fut + Send + 'a,
    Fut: Future<Output = T> + Send + 'a,
{
    type Output = Result<T>;
    type Future = BoxFuture<'a, Result<T>>;

    fn name(&self) -> OperationName {
        OperationName::GetOrSet
    }

    fn key(&self) -> Option<&str> {
        Some(&self.key)
    }

    fn outcome(output: &Self::Output) -> &'static str {
        done(output)
    }

    fn start(self, cache: &'a Cache, options: CallOptions) -> Self::Future {
        let (key, produce) = (self.key, self.produce);
        Box::pin(async move {
            let produce = move || async move { Ok::<T, CacheError>(produce().await) };
            get_or_try_set_inner(cache, &key, produce, options).await
        })
    }
}

// ---- Debug -------------------------------------------------------------------------------------
// By hand: the derived impls would demand `Debug` of the value type, key type and producer,
// which a pending call need not have. A call shows what it will do, not its payload.

impl<T> fmt::Debug for Typed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Typed<{}>", std::any::type_name::<T>())
    }
}

impl fmt::Debug for Raw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Raw")
    }
}

/// `Debug` for operations on one key: the operation's name and the key.
macro_rules! debug_by_key {
    ($($name:ident<$($param:ident),*>),* $(,)?) => {$(
        impl<$($param),*> fmt::Debug for $name<'_, $($param),*> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).field("key", &self.key).finish_non_exhaustive()
            }
        }
    )*};
}

debug_by_key!(Get<V>, Set<>, Add<>, Touch<>, Delete<>, HasKey<>, Incr<>, IncrVersion<>, GetOrTrySet<T, E, F>, GetOrSet<T, F>);

impl<K: AsRef<str>, V> fmt::Debug for GetMany<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self.keys.iter().map(AsRef::as_ref).collect();
        f.debug_struct("GetMany").field("keys", &keys).finish_non_exhaustive()
    }
}

impl<K: AsRef<str>> fmt::Debug for DeleteMany<'_, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self.keys.iter().map(AsRef::as_ref).collect();
        f.debug_struct("DeleteMany")
            .field("keys", &keys)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for SetMany {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = match &self.items {
            Ok(items) => items.iter().map(|(key, _)| key.as_str()).collect(),
            Err(_) => Vec::new(),
        };
        f.debug_struct("SetMany").field("keys", &keys).finish_non_exhaustive()
    }
}
