//! Façade behaviour that needs a backend misbehaving on purpose, and the registry's health check.
#![cfg(feature = "testkit")]

#[allow(dead_code)]
#[path = "../examples/custom_backend.rs"]
mod custom_backend;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cache_core::{
    AliasConfig, BackendError, BackendRegistration, BackendResult, Backends, Bytes, Cache, CacheBackend, CacheError,
    CacheOptions, Caches, CachesConfig, Capabilities, Clock, Expiry, HealthStatus, KeyFunction, Unavailability,
    async_trait,
};

/// A store whose writes fail as if its server had gone away; reads miss, and are counted.
#[derive(Debug, Default)]
struct WritesFail {
    reads: AtomicUsize,
}

fn server_gone() -> BackendError {
    BackendError::unavailable(Unavailability::Refused, "connection refused").on_server("test 127.0.0.1:1")
}

#[async_trait]
impl CacheBackend for WritesFail {
    fn capabilities(&self) -> Capabilities {
        Capabilities::lenient()
    }
    async fn get(&self, _: &str) -> BackendResult<Option<Bytes>> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        Ok(None)
    }
    async fn set(&self, _: &str, _: Bytes, _: Expiry) -> BackendResult<()> {
        Err(server_gone())
    }
    async fn add(&self, _: &str, _: Bytes, _: Expiry) -> BackendResult<bool> {
        Err(server_gone())
    }
    async fn touch(&self, _: &str, _: Expiry) -> BackendResult<bool> {
        Err(server_gone())
    }
    async fn delete(&self, _: &str) -> BackendResult<bool> {
        Err(server_gone())
    }
    async fn incr(&self, _: &str, _: i64) -> BackendResult<i64> {
        Err(server_gone())
    }
    async fn has_key(&self, _: &str) -> BackendResult<bool> {
        Err(server_gone())
    }
    async fn clear(&self) -> BackendResult<()> {
        Err(server_gone())
    }
}

/// A `get_or_set` miss reads once before producing, as Django's does: the leader looks again only
/// when another flight ended in between.
#[tokio::test]
async fn a_get_or_set_miss_reads_once_before_producing() {
    let backend = Arc::new(WritesFail::default());
    let cache = Cache::new("failing", backend.clone(), CacheOptions::default());
    let stored = cache.get_or_set("k", || async { 1i64 }).await;
    assert!(stored.unwrap_err().is_retryable(), "the add fails");
    assert_eq!(backend.reads.load(Ordering::Relaxed), 1);
}

/// When the leader of a single flight can't store what it produced, the waiters still get the
/// value — they don't each run the producer again, one after another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_get_the_value_when_the_leader_cannot_store_it() {
    let cache = Cache::new("failing", Arc::new(WritesFail::default()), CacheOptions::default());
    let runs = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..20)
        .map(|_| {
            let (cache, runs) = (cache.clone(), Arc::clone(&runs));
            tokio::spawn(async move {
                cache
                    .get_or_set("report", || async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        42i64
                    })
                    .await
            })
        })
        .collect();
    let mut values = 0;
    let mut errors = 0;
    for caller in callers {
        match caller.await.unwrap() {
            Ok(value) => {
                assert_eq!(value, 42);
                values += 1;
            }
            Err(error) => {
                assert!(error.is_retryable(), "{error}");
                errors += 1;
            }
        }
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the producer ran once");
    assert_eq!(errors, 1, "only the leader sees the store's error");
    assert_eq!(values, 19);
}

/// `decr_version` by `i64::MIN` has no negation to fall back on; it must still be exact.
#[tokio::test]
async fn version_arithmetic_is_exact_at_the_edges() {
    let backend = custom_backend::HashMapBackend::new(Clock::manual());
    let cache = Cache::new("versions", Arc::new(backend), CacheOptions::default());
    cache.set("k", &1).version(-1).await.unwrap();
    assert_eq!(cache.decr_version("k", i64::MIN).version(-1).await.unwrap(), i64::MAX);
    assert_eq!(cache.get::<i64>("k").version(i64::MAX).await.unwrap(), Some(1));

    match cache.incr_version("k", 1).version(i64::MAX).await {
        Err(error @ CacheError::VersionOverflow { .. }) => assert_eq!(
            error.to_string(),
            "cache alias `versions`: moving 'k' from version 9223372036854775807 by +1 leaves the signed 64-bit range"
        ),
        other => panic!("expected VersionOverflow, got {other:?}"),
    }
    assert_eq!(
        cache.get::<i64>("k").version(i64::MAX).await.unwrap(),
        Some(1),
        "nothing moved"
    );
}

/// A key function registered as `default` replaces the built-in one rather than being ignored.
#[tokio::test]
async fn a_key_function_registered_as_default_is_used() {
    let mut backends = Backends::new();
    backends.register(custom_backend::registration(Clock::manual()));
    backends.key_function(KeyFunction::custom("default", |key, _, _| format!("mine:{key}")));
    let mut entry = AliasConfig::new("hashmap");
    entry.key_function = Some("default".to_owned());
    let mut config = CachesConfig::default();
    config.aliases.insert("default".to_owned(), entry);
    let caches = Caches::build(&config, &backends).unwrap();
    assert_eq!(caches.default_cache().make_key("k", None), "mine:k");
}

/// A key function that ignores the version makes the same key for both versions: moving the
/// version keeps the value where Django's set-then-delete would lose it.
#[tokio::test]
async fn incr_version_keeps_the_value_when_both_versions_make_one_key() {
    let mut backends = Backends::new();
    backends.register(custom_backend::registration(Clock::manual()));
    backends.key_function(KeyFunction::custom("unversioned", |key, _, _| format!("flat:{key}")));
    let mut entry = AliasConfig::new("hashmap");
    entry.key_function = Some("unversioned".to_owned());
    let mut config = CachesConfig::default();
    config.aliases.insert("default".to_owned(), entry);
    let cache = Caches::build(&config, &backends).unwrap().default_cache();
    cache.set("k", &1).await.unwrap();
    assert_eq!(cache.incr_version("k", 1).await.unwrap(), 2);
    assert_eq!(cache.get::<i64>("k").version(2).await.unwrap(), Some(1));
}

/// `Caches::check` reports each alias' health, names the failing alias, and counts nothing.
#[tokio::test]
async fn check_reports_each_alias() {
    let mut backends = Backends::new();
    backends.register(BackendRegistration::new(&["failing"], |_| {
        Ok(Arc::new(WritesFail::default()))
    }));
    let mut config = CachesConfig::default();
    config.aliases.insert("default".to_owned(), AliasConfig::new("dummy"));
    config.aliases.insert("broken".to_owned(), AliasConfig::new("failing"));
    let caches = Caches::build(&config, &backends).unwrap();

    let report = caches.check().await;
    let by_alias = |name: &str| report.iter().find(|health| health.alias == name).unwrap();
    assert!(by_alias("default").is_healthy());
    let broken = by_alias("broken");
    assert_eq!((broken.status, broken.backend), (HealthStatus::Down, "custom"));
    let error = broken.failing().next().unwrap().status.as_ref().unwrap_err();
    assert_eq!(error.to_string(), "test 127.0.0.1:1: connection refused");
    assert!(error.is_unavailable() && error.is_retryable() && !error.is_timeout());
    assert_eq!(error.server(), Some("test 127.0.0.1:1"));
    assert_eq!(caches.get("broken").unwrap().metrics().errors(), 0);
    assert_eq!(caches.default_cache().metrics().misses(), 0);
}
