//! Fail-silently (`options.ignore_exceptions`) against a real memcached that is stopped: reads are
//! misses, writes are dropped, errors are counted, the warning is rate-limited, and what the
//! caller must fix (a bad key, a bad option) is never swallowed.

use std::sync::Arc;

use cache_core::testkit::capture_warnings;
use cache_core::testkit::servers::MemcachedServer;
use cache_core::{Backends, Cache, CacheError, CacheOptions, Caches, CachesConfig, ConfigFormat};
use cache_memcached::MemcachedBackend;

fn caches(location: &str, options: &str) -> cache_core::Result<Caches> {
    let text =
        format!("[caches.default]\nbackend = \"memcached\"\nlocation = \"{location}\"\noptions = {{ {options} }}");
    let config = CachesConfig::from_str_with_env(&text, ConfigFormat::Toml, [] as [(&str, &str); 0])?;
    let mut backends = Backends::new();
    backends.register(cache_memcached::registration());
    Caches::build(&config, &backends)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_reads_as_misses_and_drops_writes() {
    let server = MemcachedServer::start().await.unwrap();
    let caches = caches(
        &server.location(),
        "IGNORE_EXCEPTIONS = true, timeout = 0.2, connect_timeout = 0.2",
    )
    .unwrap();
    let cache = caches.default_cache();
    assert!(cache.options().ignore_exceptions());
    cache.set("k", &1).await.unwrap();
    assert_eq!(cache.get::<i64>("k").await.unwrap(), Some(1));
    server.stop();

    let before = cache.metrics();
    let (failed_calls, warnings) = capture_warnings(async {
        assert_eq!(cache.get::<i64>("k").await.unwrap(), None, "a failed read is a miss");
        assert_eq!(cache.get_raw("k").await.unwrap(), None);
        assert!(!cache.has_key("k").await.unwrap());
        assert!(cache.get_many::<_, i64>(&["k", "j"]).await.unwrap().is_empty());
        cache.set("k", &2).await.unwrap();
        assert!(!cache.add("new", &2).await.unwrap(), "a dropped add stored nothing");
        assert!(!cache.touch("k").await.unwrap());
        assert!(!cache.delete("k").await.unwrap());
        cache.delete_many(&["k", "j"]).await.unwrap();
        let mut failed = cache.set_many([("a", 1), ("b", 2)]).await.unwrap();
        failed.sort();
        assert_eq!(failed, ["a", "b"], "set_many reports every dropped key");
        assert_eq!(cache.get_or_set("g", async || 7).await.unwrap(), 7);
        cache.clear().await.unwrap();
        // incr has no honest answer without the server: it still fails.
        let error = cache.incr("k", 1).await.unwrap_err();
        assert!(error.is_unavailable(), "{error}");
        // What the caller must fix is never swallowed.
        let error = cache.get::<i64>("a key with spaces").await.unwrap_err();
        assert!(matches!(error, CacheError::InvalidKey(_)), "{error}");
        12 // failed calls above that reached the backend and were ignored, counted below
    })
    .await;
    let counted = cache.metrics().since(&before);
    println!("{counted:?}; warnings: {warnings:?}");
    // get, get_raw, has_key, get_many, set, add, touch, delete, delete_many, set_many, get_or_set
    // (its read only: with the server down it doesn't try to store), clear: 12 ignored; incr and
    // the invalid key: not ignored, one the server's error, one the caller's.
    assert_eq!(counted.ignored_errors(), failed_calls);
    assert_eq!(counted.errors(), failed_calls + 1);
    assert_eq!(counted.caller_errors(), 1);
    assert_eq!(counted.hits(), 0);
    assert_eq!(counted.sets(), 0, "dropped writes are not counted as sets");
    let (ignored, others): (Vec<_>, Vec<_>) = warnings.iter().partition(|w| w.starts_with("ignoring"));
    assert_eq!(ignored.len(), 1, "one warning per interval: {warnings:?}");
    // The server's circuit breaker opened along the way, and said so once.
    assert_eq!(others.len(), 1, "{warnings:?}");
    assert!(others[0].contains("circuit open"), "{warnings:?}");
    assert!(
        ignored[0].starts_with("ignoring a failed get because options.ignore_exceptions is on: cache alias `default`"),
        "{warnings:?}"
    );
    assert!(
        warnings[0].contains(&format!("memcached server {}", server.location())),
        "{warnings:?}"
    );

    // Back: the same cache works again once the circuit's cool-down ends (writes until then are
    // dropped silently too).
    server.restart().await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        cache.set("k", &3).await.unwrap();
        if cache.get::<i64>("k").await.unwrap() == Some(3) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server is back but writes are still dropped"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_by_default_and_on_in_code() {
    let server = MemcachedServer::start().await.unwrap();
    let backend = Arc::new(
        MemcachedBackend::builder()
            .server(server.location())
            .response_timeout(std::time::Duration::from_millis(200))
            .build()
            .unwrap(),
    );
    let strict = Cache::new("strict", backend.clone(), CacheOptions::default());
    let silent = Cache::new("silent", backend, CacheOptions::default().with_ignore_exceptions(true));
    assert!(!strict.options().ignore_exceptions());
    server.stop();
    assert!(strict.get::<i64>("k").await.unwrap_err().is_retryable());
    assert_eq!(silent.get::<i64>("k").await.unwrap(), None);
    assert_eq!(strict.metrics().ignored_errors(), 0);
    assert_eq!(silent.metrics().ignored_errors(), 1);
}

#[test]
fn a_bad_value_is_a_config_error_and_the_option_never_reaches_the_backend() {
    let error = caches("127.0.0.1:11211", "ignore_exceptions = \"sometimes\"")
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "cache alias `default`: options.ignore_exceptions: expected true or false; got \"sometimes\""
    );
    // pymemcache's name is accepted too, and the backend still refuses what it doesn't know.
    assert!(caches("127.0.0.1:11211", "ignore_exc = false").is_ok());
    let error = caches("127.0.0.1:11211", "ignore_exc = true, max_entries = 3")
        .unwrap_err()
        .to_string();
    assert!(error.contains("options.max_entries: unknown option"), "{error}");
}
