//! [`TieredCache`]: `get_or_set` with FusionCache's refinements, on a tiered alias.
//!
//! The façade's `Cache::get_or_set` keeps Django's semantics on every backend; what only a tier
//! that keeps expired copies can do (serve one while refreshing, give up on a slow producer in
//! favour of one) is a handle of this crate's, so `cache-core` stays unchanged.

mod options;

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use cache_core::single_flight::Role;
use cache_core::{BackendError, Cache, CacheError, Expiry, Result, Timeout, Wait};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::backend::TieredBackend;
use crate::near::NearEntry;
pub use options::RefreshOptions;

/// A tiered alias' `Cache` with `get_or_set` refinements: stale-while-revalidate, eager refresh,
/// factory soft and hard timeouts. Everything else is the `Cache`'s ([`TieredCache::cache`]).
#[derive(Debug, Clone)]
pub struct TieredCache {
    cache: Cache,
    backend: TieredBackend,
}

impl TieredCache {
    /// The handle for `cache`, which must be a tiered alias (`Caches::get("…")` of an alias whose
    /// `backend = "tiered"`, or a `Cache` over a [`TieredBackend`]).
    pub fn new(cache: Cache) -> Result<TieredCache> {
        let any: &dyn std::any::Any = &**cache.backend();
        match any.downcast_ref::<TieredBackend>() {
            Some(backend) => Ok(TieredCache {
                backend: backend.clone(),
                cache,
            }),
            None => Err(CacheError::config(
                Some(cache.alias()),
                "backend",
                format!(
                    "is `{}`, not `tiered`: TieredCache needs an alias whose backend is `tiered`",
                    cache.backend().name()
                ),
            )),
        }
    }

    /// The alias' `Cache`, for every other call.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// The tiered backend (its stats and options).
    pub fn backend(&self) -> &TieredBackend {
        &self.backend
    }

    /// The value of `key`, or `produce`'s, stored for the next caller. One producer runs per key
    /// in this process at a time (single-flight); `options` say when a stale value may be returned
    /// instead of waiting for it.
    pub async fn get_or_set<T, F, Fut>(&self, key: &str, options: &RefreshOptions, produce: F) -> Result<T>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = T> + Send + 'static,
    {
        self.get_or_try_set(
            key,
            options,
            move || async move { Ok::<T, CacheError>(produce().await) },
        )
        .await
    }

    /// [`TieredCache::get_or_set`] with a producer that can fail: its error is returned (or, with
    /// fail-safe on and an expired copy held, the copy is).
    pub async fn get_or_try_set<T, E, F, Fut>(
        &self,
        key: &str,
        options: &RefreshOptions,
        produce: F,
    ) -> std::result::Result<T, E>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
        E: From<CacheError> + Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = std::result::Result<T, E>> + Send + 'static,
    {
        let made = self.cache.make_key(key, options.version);
        let shared = &self.backend.inner.shared;
        let peeked = self.backend.near_fresh(&made);
        if let Some(entry) = &peeked
            && !entry.stamp.stale
            && self.due_for_eager_refresh(entry, options)
            && let Role::Leader(leader) = self.backend.inner.refreshes.join(made.clone())
        {
            let refresh = self
                .clone()
                .produce_and_store(key.to_owned(), options.clone(), produce, leader);
            let refresh = tokio::spawn(refresh);
            return match self.read(key, options).await? {
                Some(bytes) => Ok(self.decode(key, &bytes)?),
                // Evicted between the look and the read: the refresh just started is the value.
                None => self.wait_for(key, refresh, None, options).await,
            };
        }
        // An expired copy, held for fail-safe, that no invalidation has removed since: what a soft
        // timeout or stale-while-revalidate may return.
        let stale = match peeked {
            Some(_) => None,
            None => shared.near.get(&made).filter(|entry| {
                entry.stamp.epoch == shared.coherence.epoch()
                    && self.backend.now() < entry.stamp.good_at + self.backend.inner.fail_safe.max
            }),
        };
        let landed = self.backend.inner.refreshes.landed();
        if let Some(bytes) = self.read(key, options).await? {
            return Ok(self.decode(key, &bytes)?);
        }
        let leader = loop {
            match self.backend.inner.refreshes.join(made.clone()) {
                // A producer that finished between the miss and the join stored its value: read
                // once more, but only then.
                Role::Leader(leader) if self.backend.inner.refreshes.landed() != landed => {
                    match self.read(key, options).await? {
                        Some(bytes) => {
                            leader.publish(bytes.clone());
                            return Ok(self.decode(key, &bytes)?);
                        }
                        None => break leader,
                    }
                }
                Role::Leader(leader) => break leader,
                Role::Follower(follower) => {
                    if let Some(stale) = stale.as_ref().filter(|_| options.stale_while_revalidate) {
                        return self.serve_stale(key, stale);
                    }
                    match self.wait_as_follower(key, follower, stale.as_ref(), options).await? {
                        Some(value) => return Ok(value),
                        // The leader failed or was cancelled: try again, leading if nobody does.
                        None => continue,
                    }
                }
            }
        };
        let running = tokio::spawn(
            self.clone()
                .produce_and_store(key.to_owned(), options.clone(), produce, leader),
        );
        if let Some(stale) = stale.as_ref().filter(|_| options.stale_while_revalidate) {
            return self.serve_stale(key, stale);
        }
        self.wait_for(key, running, stale.as_ref(), options).await
    }

    /// Reads through the façade, so the alias' metrics count the read as any `get`.
    async fn read(&self, key: &str, options: &RefreshOptions) -> Result<Option<Bytes>> {
        match options.version {
            Some(version) => self.cache.get_raw(key).version(version).await,
            None => self.cache.get_raw(key).await,
        }
    }

    /// A follower waits for the leader's value within the same timeouts as a leader: past the
    /// soft one (with an expired copy held) the copy, past the hard one an error. `None`: the
    /// leader gave up, try again.
    async fn wait_as_follower<T: DeserializeOwned>(
        &self,
        key: &str,
        follower: cache_core::single_flight::Follower<Bytes>,
        stale: Option<&NearEntry>,
        options: &RefreshOptions,
    ) -> Result<Option<T>> {
        let soft = stale.and(options.factory_soft_timeout);
        let outcome = match first_timeout(soft, options.factory_hard_timeout) {
            Some(wait) => tokio::time::timeout(wait, follower.outcome()).await,
            None => Ok(follower.outcome().await),
        };
        match (outcome, soft, stale) {
            (Ok(Some(bytes)), _, _) => Ok(Some(self.decode(key, &bytes)?)),
            (Ok(None), _, _) => Ok(None),
            (Err(_), Some(_), Some(stale)) => self.serve_stale(key, stale).map(Some),
            (Err(_), _, _) => Err(self.factory_timed_out(key, options.factory_hard_timeout.unwrap_or_default())),
        }
    }

    /// Waits for the producer within the timeouts that apply; a timed-out producer keeps running
    /// and stores its value when it finishes.
    async fn wait_for<T, E>(
        &self,
        key: &str,
        mut running: tokio::task::JoinHandle<std::result::Result<Bytes, E>>,
        stale: Option<&NearEntry>,
        options: &RefreshOptions,
    ) -> std::result::Result<T, E>
    where
        T: DeserializeOwned,
        E: From<CacheError>,
    {
        let soft = stale.and(options.factory_soft_timeout);
        let hard = options.factory_hard_timeout;
        let first = first_timeout(soft, hard);
        let finished = match first {
            Some(wait) => tokio::time::timeout(wait, &mut running).await,
            None => Ok((&mut running).await),
        };
        let finished = match (finished, soft, stale) {
            (Ok(done), _, _) => done,
            (Err(_), Some(_), Some(stale)) => return self.serve_stale(key, stale),
            (Err(_), _, _) => {
                return Err(self.factory_timed_out(key, hard.unwrap_or_default()).into());
            }
        };
        match finished {
            Ok(Ok(bytes)) => Ok(self.decode(key, &bytes)?),
            // The producer failed: fail-safe returns the expired copy if one is held.
            Ok(Err(error)) => match stale {
                Some(stale) => self.serve_stale(key, stale),
                None => Err(error),
            },
            Err(panic) => std::panic::resume_unwind(panic.into_panic()),
        }
    }

    /// Runs the producer and stores its value (far, near, backplane), then hands it to the
    /// followers. A task of its own, so a caller that stopped waiting doesn't stop it.
    async fn produce_and_store<T, E, F, Fut>(
        self,
        key: String,
        options: RefreshOptions,
        produce: F,
        leader: cache_core::single_flight::Leader<String, Bytes>,
    ) -> std::result::Result<Bytes, E>
    where
        T: Serialize,
        E: From<CacheError>,
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::result::Result<T, E>>,
    {
        let value = produce().await?;
        let bytes = self
            .cache
            .options()
            .codec()
            .encode(&value)
            .map_err(|source| CacheError::Codec {
                alias: self.cache.alias().to_owned(),
                key: key.clone(),
                action: "encode",
                source,
            })?;
        // Through the façade, as any `set`: the alias' metrics count the write, and its
        // `ignore_exceptions` applies. A timeout of zero or less stores nothing, as in the
        // façade's `get_or_set` (where a `set` would delete the key instead).
        if self.expiry(options.timeout).is_some() {
            let set = self.cache.set_raw(key.as_str(), bytes.clone()).timeout(options.timeout);
            let written = match options.version {
                Some(version) => set.version(version).await,
                None => set.await,
            };
            if let Err(error) = written {
                tracing::warn!(alias = %self.cache.alias(), %error, "cache-tiered: a produced value could not be stored");
            }
        }
        leader.publish(bytes.clone());
        Ok(bytes)
    }

    fn due_for_eager_refresh(&self, entry: &NearEntry, options: &RefreshOptions) -> bool {
        let (Some(share), Some(expires)) = (options.eager_refresh, entry.stamp.far_expires_at) else {
            return false;
        };
        let lifetime = expires.saturating_duration_since(entry.stamp.good_at);
        self.backend.now().saturating_duration_since(entry.stamp.good_at) >= lifetime.mul_f64(share)
    }

    fn serve_stale<T: DeserializeOwned, E: From<CacheError>>(
        &self,
        key: &str,
        stale: &NearEntry,
    ) -> std::result::Result<T, E> {
        self.backend.inner.shared.served_stale("get_or_set");
        Ok(self.decode(key, &stale.value)?)
    }

    fn decode<T: DeserializeOwned>(&self, key: &str, bytes: &[u8]) -> Result<T> {
        self.cache
            .options()
            .codec()
            .decode(bytes)
            .map_err(|source| CacheError::Codec {
                alias: self.cache.alias().to_owned(),
                key: key.to_owned(),
                action: "decode",
                source,
            })
    }

    fn factory_timed_out(&self, key: &str, after: Duration) -> CacheError {
        CacheError::Backend {
            alias: self.cache.alias().to_owned(),
            key: Some(key.to_owned()),
            source: BackendError::timeout(
                Wait::Response,
                format!(
                    "the producer didn't finish within factory_hard_timeout ({after:?}); it keeps running and \
                     stores its value when done. Raise the timeout or make the producer faster"
                ),
            ),
        }
    }

    /// The expiry a value stored with `timeout` gets; `None` when it expires at once (nothing is
    /// stored, as Django's `get_or_set` with a zero timeout).
    fn expiry(&self, timeout: Timeout) -> Option<Expiry> {
        self.cache.expiry_for(timeout)
    }
}

/// How long to wait for a producer: the sooner of the soft timeout (which applies only with an
/// expired copy to fall back on) and the hard one. When the soft one applies, the copy is served
/// at either; else the hard one is an error.
fn first_timeout(soft: Option<Duration>, hard: Option<Duration>) -> Option<Duration> {
    match (soft, hard) {
        (Some(soft), Some(hard)) => Some(soft.min(hard)),
        (soft, hard) => soft.or(hard),
    }
}
