//! Fail-safe against a real redis-server that dies: the last good value is served (counted as
//! stale) for `fail_safe_max` after it was last known good, the dead server isn't asked on every
//! read, and after the window the far tier's error is the answer.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cache_core::testkit::servers::RedisServer;
use cache_core::{Backends, Caches, CachesConfig, ConfigFormat};
use cache_tiered::TieredCache;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

const FAIL_SAFE_MAX: Duration = Duration::from_secs(2);

fn tiered(far: &RedisServer, fail_safe_max: Duration) -> TieredCache {
    let mut backends = Backends::new();
    backends.register(cache_redis::registration());
    backends.register(cache_tiered::registration());
    let toml = format!(
        "[caches.default]\nbackend = \"tiered\"\n\
         options = {{ far = \"redis\", near_timeout = 0.1, fail_safe_max = {}, fail_safe_throttle = 1 }}\n\
         [caches.redis]\nbackend = \"redis\"\nlocation = \"{}\"\noptions = {{ connect_timeout = 0.2, response_timeout = 0.2 }}\n",
        fail_safe_max.as_secs_f64(),
        far.url()
    );
    let config = CachesConfig::from_str(&toml, ConfigFormat::Toml).unwrap();
    TieredCache::new(Caches::build(&config, &backends).unwrap().default_cache()).unwrap()
}

/// The process' recorder, installed once for this test binary.
fn snapshotter() -> &'static Snapshotter {
    static SNAPSHOTTER: OnceLock<Snapshotter> = OnceLock::new();
    SNAPSHOTTER.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder.install().expect("no other recorder in this test binary");
        snapshotter
    })
}

/// `cache_stale_total` for the `default` alias' `get`s.
fn stale_metric() -> u64 {
    snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, _, _, _)| {
            let key = key.key();
            let label = |name: &str| key.labels().find(|l| l.key() == name).map(|l| l.value().to_owned());
            key.name() == cache_core::observe::names::STALE
                && label("alias").as_deref() == Some("default")
                && label("backend").as_deref() == Some("tiered")
                && label("operation").as_deref() == Some("get")
        })
        .map(|(_, _, _, value)| match value {
            DebugValue::Counter(count) => count,
            other => panic!("not a counter: {other:?}"),
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_far_tier_serves_the_last_good_value_then_errors() {
    snapshotter();
    let far = RedisServer::start().await.unwrap();
    let tiered = tiered(&far, FAIL_SAFE_MAX);
    let cache = tiered.cache();
    cache.set("k", "last good").await.unwrap();
    let good_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(150)).await; // past near_timeout: reads ask the far tier
    far.stop();

    // At once: the far tier fails, the last good value is served.
    assert_eq!(cache.get::<String>("k").await.unwrap().as_deref(), Some("last good"));
    let stale = tiered.backend().stats().stale_served;
    assert!(stale >= 1);
    // The next reads are served from the throttled copy, not each a failed call to the server.
    let far_reads = tiered.backend().stats().far_reads;
    for _ in 0..200 {
        assert_eq!(cache.get::<String>("k").await.unwrap().as_deref(), Some("last good"));
    }
    assert!(
        tiered.backend().stats().far_reads - far_reads < 200,
        "the dead server was asked on every read"
    );
    assert!(tiered.backend().stats().stale_served > stale);
    assert_eq!(
        stale_metric(),
        tiered.backend().stats().stale_served,
        "each stale value is in cache_stale_total"
    );
    // A key with no last good value fails as the far tier did.
    let error = cache.get::<String>("never-read").await.unwrap_err();
    assert!(error.is_unavailable() || error.is_timeout(), "{error}");

    // Every answer is the last good value or the far tier's error; once the window is over, errors.
    let mut last = None;
    while good_at.elapsed() < FAIL_SAFE_MAX + Duration::from_millis(1500) {
        match cache.get::<String>("k").await {
            Ok(value) => assert_eq!(value.as_deref(), Some("last good")),
            Err(error) => assert!(error.is_unavailable() || error.is_timeout(), "{error}"),
        }
        last = Some(cache.get::<String>("k").await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let error = last.unwrap().unwrap_err();
    assert!(error.is_unavailable() || error.is_timeout(), "{error}");

    // Back (empty: nothing persisted): the far tier answers again.
    far.restart().await.unwrap();
    let started = Instant::now();
    loop {
        match cache.get::<String>("k").await {
            Ok(value) => {
                assert_eq!(value, None);
                break;
            }
            Err(_) if started.elapsed() < Duration::from_secs(20) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("the far tier never came back: {error}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_fail_safe_a_dead_far_tier_is_an_error() {
    let far = RedisServer::start().await.unwrap();
    let tiered = tiered(&far, Duration::ZERO);
    let cache = tiered.cache();
    cache.set("k", "value").await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    far.stop();
    let error = cache.get::<String>("k").await.unwrap_err();
    assert!(error.is_unavailable() || error.is_timeout(), "{error}");
    assert_eq!(tiered.backend().stats().stale_served, 0);
}

/// A key the far tier answered "not there" for, through `has_key`, has no last good value left:
/// when the far tier then dies, a read fails instead of bringing the deleted value back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_the_far_tier_said_is_gone_is_not_rescued() {
    let far = RedisServer::start().await.unwrap();
    let tiered = tiered(&far, FAIL_SAFE_MAX);
    let cache = tiered.cache();
    cache.set("k", "deleted elsewhere").await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await; // past near_timeout: reads ask the far tier

    // Another writer deletes it straight from the far alias (same key shape, no backplane here).
    let mut backends = Backends::new();
    backends.register(cache_redis::registration());
    let toml = format!("[caches.default]\nbackend = \"redis\"\nlocation = \"{}\"\n", far.url());
    let config = CachesConfig::from_str(&toml, ConfigFormat::Toml).unwrap();
    let other = Caches::build(&config, &backends).unwrap().default_cache();
    assert!(other.delete("k").await.unwrap());

    assert!(!cache.has_key("k").await.unwrap());
    far.stop();
    let read = cache.get::<String>("k").await;
    assert!(read.is_err(), "the deleted value came back: {read:?}");
}
