//! `TieredCache::get_or_set`: single-flight, stale-while-revalidate, eager refresh, factory soft
//! and hard timeouts, and fail-safe when the producer fails. Real time, short durations; no
//! assertion depends on how long anything took, only on what was returned and stored.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cache_core::{Backends, Caches, CachesConfig, ConfigFormat, Timeout};
use cache_tiered::{RefreshOptions, TieredCache};

fn tiered(location: &str) -> TieredCache {
    let mut backends = Backends::new();
    backends.register(cache_locmem::registration());
    backends.register(cache_tiered::registration());
    let toml = format!(
        "[caches.default]\nbackend = \"tiered\"\noptions = {{ far = \"shared\", fail_safe_max = 60 }}\n\
         [caches.shared]\nbackend = \"locmem\"\nlocation = \"{location}\"\n"
    );
    let config = CachesConfig::from_str(&toml, ConfigFormat::Toml).unwrap();
    TieredCache::new(Caches::build(&config, &backends).unwrap().default_cache()).unwrap()
}

/// Waits until `key` reads as `expected` (a background refresh finishing); bounded.
async fn eventually(cache: &TieredCache, key: &str, expected: &str) {
    for _ in 0..500 {
        if cache.cache().get::<String>(key).await.unwrap().as_deref() == Some(expected) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("`{key}` never became `{expected}`");
}

fn short(seconds: f64) -> RefreshOptions {
    RefreshOptions::default().timeout(Timeout::Seconds(seconds))
}

async fn slow(value: &'static str, delay: Duration) -> String {
    tokio::time::sleep(delay).await;
    value.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_run_one_producer() {
    let cache = tiered("gos-single-flight");
    let calls = Arc::new(AtomicUsize::new(0));
    let callers = (0..20).map(|_| {
        let (cache, calls) = (cache.clone(), Arc::clone(&calls));
        tokio::spawn(async move {
            cache
                .get_or_set("k", &RefreshOptions::default(), move || async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    slow("made once", Duration::from_millis(100)).await
                })
                .await
                .unwrap()
        })
    });
    for caller in futures::future::join_all(callers).await {
        assert_eq!(caller.unwrap(), "made once");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_while_revalidate_returns_the_expired_value_and_refreshes() {
    let cache = tiered("gos-swr");
    let first: String = cache
        .get_or_set("k", &short(0.2), || async { "old".to_owned() })
        .await
        .unwrap();
    assert_eq!(first, "old");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let options = short(60.0).stale_while_revalidate(true);
    let served: String = cache
        .get_or_set("k", &options, || slow("new", Duration::from_millis(200)))
        .await
        .unwrap();
    assert_eq!(served, "old", "the expired value, at once");
    assert!(cache.backend().stats().stale_served >= 1);
    eventually(&cache, "k", "new").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eager_refresh_refreshes_in_the_background_after_its_share() {
    let cache = tiered("gos-eager");
    let options = short(1.0).eager_refresh(0.3);
    let first: String = cache
        .get_or_set("k", &options, || async { "v1".to_owned() })
        .await
        .unwrap();
    assert_eq!(first, "v1");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let served: String = cache
        .get_or_set("k", &options, || slow("v2", Duration::from_millis(50)))
        .await
        .unwrap();
    assert_eq!(served, "v1", "still fresh: returned as is");
    eventually(&cache, "k", "v2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soft_timeout_returns_the_expired_value_and_the_producer_finishes() {
    let cache = tiered("gos-soft");
    let _: String = cache
        .get_or_set("k", &short(0.2), || async { "v1".to_owned() })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let options = short(60.0).factory_soft_timeout(Duration::from_millis(50));
    let served: String = cache
        .get_or_set("k", &options, || slow("v2", Duration::from_millis(400)))
        .await
        .unwrap();
    assert_eq!(served, "v1");
    eventually(&cache, "k", "v2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hard_timeout_fails_the_call_and_the_producer_still_stores() {
    let cache = tiered("gos-hard");
    let options = short(60.0).factory_hard_timeout(Duration::from_millis(50));
    let error = cache
        .get_or_set::<String, _, _>("k", &options, || slow("late", Duration::from_millis(300)))
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert!(error.to_string().contains("factory_hard_timeout"), "{error}");
    eventually(&cache, "k", "late").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_producer_falls_back_to_the_expired_value() {
    let cache = tiered("gos-producer-fails");
    let _: String = cache
        .get_or_set("k", &short(0.2), || async { "good".to_owned() })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let served: Result<String, cache_core::CacheError> = cache
        .get_or_try_set("k", &short(60.0), || async {
            Err(cache_core::CacheError::config(None, "source", "the database is down"))
        })
        .await;
    assert_eq!(served.unwrap(), "good");
    // Without an expired copy the producer's error is the answer.
    let error = cache
        .get_or_try_set::<String, _, _, _>("other", &short(60.0), || async {
            Err(cache_core::CacheError::config(None, "source", "the database is down"))
        })
        .await
        .unwrap_err();
    assert!(error.to_string().contains("the database is down"));
}

/// Timeouts follow the façade's rules (cache-core's `Cache::expiry_for`): one too large to
/// represent never expires instead of panicking, and zero or negative stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_follow_the_facades_rules() {
    let cache = tiered("gos-timeouts");
    for (key, seconds) in [("infinite", f64::INFINITY), ("huge", 1e300)] {
        let value = cache
            .get_or_set(key, &short(seconds), || async { "kept".to_owned() })
            .await
            .unwrap();
        assert_eq!(value, "kept");
        assert_eq!(cache.cache().get::<String>(key).await.unwrap().as_deref(), Some("kept"));
    }
    let value = cache
        .get_or_set("zero", &short(0.0), || async { "not stored".to_owned() })
        .await
        .unwrap();
    assert_eq!(value, "not stored");
    assert_eq!(cache.cache().get::<String>("zero").await.unwrap(), None);
}

/// A produced value is stored as any `set` is, through the alias' `Cache`: the alias' metrics
/// count the write, and it lands under the version asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_produced_value_is_stored_through_the_facade() {
    let cache = tiered("gos-facade");
    let sets = cache.cache().metrics().sets();
    let options = RefreshOptions::default().version(3);
    let value = cache
        .get_or_set("k", &options, || async { "made".to_owned() })
        .await
        .unwrap();
    assert_eq!(value, "made");
    assert_eq!(cache.cache().metrics().sets(), sets + 1, "the write is counted");
    let stored = cache.cache().get::<String>("k").version(3).await.unwrap();
    assert_eq!(stored.as_deref(), Some("made"));
    assert_eq!(
        cache.cache().get::<String>("k").await.unwrap(),
        None,
        "only under version 3"
    );
}

/// With an expired copy held, a hard timeout shorter than the soft one still bounds the wait: the
/// copy is served at the hard timeout, not after the soft one (or the producer) ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hard_timeout_shorter_than_the_soft_one_bounds_the_wait() {
    let cache = tiered("gos-hard-before-soft");
    let _: String = cache
        .get_or_set("k", &short(0.2), || async { "v1".to_owned() })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let options = short(60.0)
        .factory_soft_timeout(Duration::from_secs(10))
        .factory_hard_timeout(Duration::from_millis(50));
    let served: String = cache
        .get_or_set("k", &options, || slow("v2", Duration::from_millis(1_000)))
        .await
        .unwrap();
    assert_eq!(
        served, "v1",
        "the copy at the hard timeout, not v2 when the producer ended"
    );
    eventually(&cache, "k", "v2").await;
}
