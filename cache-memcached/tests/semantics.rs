//! memcached's semantics and the deliberate differences from Django, on real servers: the 30-day
//! rule and its 2038 limit, rounding of fractions, touch, incr/decr, item size limits, clear,
//! multi-gets, unix sockets, and where keys land when servers are added.

mod support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use cache_core::testkit::servers::MemcachedServer;
use cache_core::{Cache, CacheBackend, CacheError, CacheOptions, ErrorKind, Expiry, Timeout};
use cache_memcached::{ITEM_OVERHEAD, MemcachedBackend, MemcachedBuilder, MemcachedOptions};
use support::{FakeServer, UnixMemcached, raw, ttl};

const DAY: f64 = 86_400.0;

fn builder(locations: &[String]) -> MemcachedBuilder {
    locations.iter().fold(MemcachedBackend::builder(), |builder, location| {
        builder.server(location)
    })
}

fn backend(locations: &[String]) -> MemcachedBackend {
    builder(locations).build().unwrap()
}

fn cache(backend: &MemcachedBackend) -> Cache {
    Cache::new("semantics", Arc::new(backend.clone()), CacheOptions::default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_day_rule_and_the_2038_limit() {
    let server = MemcachedServer::start().await.unwrap();
    let cache = cache(&backend(&[server.location()]));

    cache
        .set("rel", &1)
        .timeout(Timeout::Seconds(30.0 * DAY))
        .await
        .unwrap();
    let left = ttl(&server.location(), ":1:rel").await.unwrap();
    assert!((2_591_990..=2_592_000).contains(&left), "{left}");

    // Sent as an absolute time: memcached still reports the remaining seconds.
    cache
        .set("abs", &1)
        .timeout(Timeout::Seconds(31.0 * DAY))
        .await
        .unwrap();
    let left = ttl(&server.location(), ":1:abs").await.unwrap();
    assert!((2_678_390..=2_678_401).contains(&left), "{left}");
    assert!(
        cache
            .add("abs_add", &1)
            .timeout(Timeout::Seconds(365.0 * DAY))
            .await
            .unwrap()
    );
    assert!(ttl(&server.location(), ":1:abs_add").await.unwrap() > 364 * 86_400);

    // Past 2038: an error before anything is sent, and the old value stays.
    let century = Timeout::Seconds(100.0 * 365.0 * DAY);
    for result in [
        cache.set("rel", &2).timeout(century).await.map(drop),
        cache.add("new", &2).timeout(century).await.map(drop),
        cache.touch("rel").timeout(century).await.map(drop),
        cache.set_many([("rel", 2)]).timeout(century).await.map(drop),
    ] {
        let error = result.unwrap_err();
        assert!(!error.is_retryable());
        assert!(error.to_string().contains("2038-01-19 03:14:07 UTC"), "{error}");
    }
    assert_eq!(cache.get::<i64>("rel").await.unwrap(), Some(1));
    assert!(!cache.has_key("new").await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fractions_of_a_second_round_up() {
    let server = MemcachedServer::start().await.unwrap();
    let cache = cache(&backend(&[server.location()]));
    cache.set("short", &1).timeout(Timeout::Seconds(0.3)).await.unwrap();
    assert_eq!(
        cache.get::<i64>("short").await.unwrap(),
        Some(1),
        "0.3 s is 1 s, not 'expire now'"
    );
    assert_eq!(ttl(&server.location(), ":1:short").await, Some(1));
    cache.set("longer", &1).timeout(Timeout::Seconds(1.2)).await.unwrap();
    assert_eq!(ttl(&server.location(), ":1:longer").await, Some(2));
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(cache.get::<i64>("short").await.unwrap(), None);
    assert_eq!(cache.get::<i64>("longer").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn touch_sets_a_new_expiry() {
    let server = MemcachedServer::start().await.unwrap();
    let cache = cache(&backend(&[server.location()]));
    cache.set("k", &1).timeout(Timeout::secs(100)).await.unwrap();
    assert!(cache.touch("k").timeout(Timeout::Never).await.unwrap());
    assert_eq!(ttl(&server.location(), ":1:k").await, Some(-1));
    assert!(cache.touch("k").timeout(Timeout::Seconds(40.0 * DAY)).await.unwrap());
    assert!(ttl(&server.location(), ":1:k").await.unwrap() > 39 * 86_400);
    assert!(!cache.touch("missing").await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incr_and_decr() {
    let server = MemcachedServer::start().await.unwrap();
    let backend = backend(&[server.location()]);
    let cache = cache(&backend);

    // decr stops at zero; decr is memcached's decr, incr of a negative delta too.
    cache.set("n", &3).await.unwrap();
    assert_eq!(cache.decr("n", 10).await.unwrap(), 0);
    assert_eq!(cache.incr("n", -5).await.unwrap(), 0);
    assert_eq!(cache.decr("n", -8).await.unwrap(), 8);

    // A value a decr shortened is padded with spaces on the server; it still reads as a number.
    cache.set("ten", &10).await.unwrap();
    assert_eq!(cache.decr("ten", 1).await.unwrap(), 9);
    assert_eq!(cache.get_raw("ten").await.unwrap(), Some(Bytes::from_static(b"9 ")));
    assert_eq!(cache.get::<i64>("ten").await.unwrap(), Some(9));
    assert_eq!(cache.incr("ten", 1).await.unwrap(), 10);

    // The expiry is kept.
    cache.set("ttl", &1).timeout(Timeout::secs(100)).await.unwrap();
    cache.incr("ttl", 1).await.unwrap();
    let left = ttl(&server.location(), ":1:ttl").await.unwrap();
    assert!((90..=100).contains(&left), "{left}");

    // memcached can't add to a negative number: NotAnInteger, value unchanged.
    cache.set("negative", &-5).await.unwrap();
    assert!(matches!(cache.incr("negative", 1).await, Err(CacheError::NotAnInteger { key, .. }) if key == "negative"));
    assert_eq!(cache.get::<i64>("negative").await.unwrap(), Some(-5));

    // Past i64::MAX memcached would keep counting (and wrap at 2^64): Overflow, value unchanged.
    cache.set("max", &(i64::MAX - 1)).await.unwrap();
    assert_eq!(cache.incr("max", 1).await.unwrap(), i64::MAX);
    assert!(matches!(cache.incr("max", 1).await, Err(CacheError::Overflow { .. })));
    assert!(matches!(
        cache.incr("max", i64::MAX).await,
        Err(CacheError::Overflow { .. })
    ));
    assert_eq!(cache.get::<i64>("max").await.unwrap(), Some(i64::MAX));
    // A number stored by another client beyond i64: the wrap past 2^64 is undone too.
    cache
        .set_raw("huge", Bytes::from_static(b"18446744073709551615"))
        .await
        .unwrap();
    for delta in [1, -1] {
        let error = backend.incr(":1:huge", delta).await.unwrap_err();
        assert_eq!(*error.kind(), ErrorKind::Overflow { delta });
    }
    assert_eq!(
        cache.get_raw("huge").await.unwrap().as_deref(),
        Some(&b"18446744073709551615"[..])
    );

    assert!(matches!(cache.incr("missing", 1).await, Err(CacheError::KeyNotFound { key }) if key == "missing"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_largest_value_fits_and_one_byte_more_is_refused_before_sending() {
    let server = MemcachedServer::start().await.unwrap();
    let backend = backend(&[server.location()]);
    let cache = cache(&backend);
    let limit = MemcachedOptions::default().max_value_bytes();
    assert_eq!(limit, 1024 * 1024 - ITEM_OVERHEAD);
    assert_eq!(backend.capabilities().max_value_bytes, Some(limit));

    // The longest key memcached takes, with the largest value: the server stores it.
    let key = "k".repeat(247);
    cache.set_raw(&key, Bytes::from(vec![b'a'; limit])).await.unwrap();
    assert_eq!(cache.get_raw(&key).await.unwrap().map(|v| v.len()), Some(limit));

    cache.set("small_value", "a").await.unwrap();
    let error = backend
        .set(":1:small_value", Bytes::from(vec![b'a'; limit + 1]), Expiry::Never)
        .await
        .unwrap_err();
    assert!(
        matches!(*error.kind(), ErrorKind::ValueTooLarge { size, .. } if size == limit + 1),
        "{error}"
    );
    assert_eq!(cache.get::<String>("small_value").await.unwrap().as_deref(), Some("a"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_refuses_a_value_as_too_large() {
    // Configured for 2 MiB items, talking to a server with the default 1 MiB: the server refuses.
    let server = MemcachedServer::start().await.unwrap();
    let backend = builder(&[server.location()])
        .item_size_max(2 * 1024 * 1024)
        .build()
        .unwrap();
    let cache = cache(&backend);
    let big = Bytes::from(vec![b'a'; 1_500_000]);
    let error = cache.set_raw("big", big.clone()).await.unwrap_err();
    assert!(
        matches!(&error, CacheError::ValueTooLarge { size: 1_500_000, .. }),
        "{error}"
    );
    let failed = cache
        .set_many_raw([
            ("fits", Bytes::from_static(b"ok")),
            ("big", big.clone()),
            ("also", Bytes::from_static(b"ok")),
        ])
        .await
        .unwrap();
    assert_eq!(failed, ["big"]);
    assert!(cache.has_key("fits").await.unwrap() && cache.has_key("also").await.unwrap());
    // The connection is still in step after the refusals.
    assert_eq!(cache.get_raw("fits").await.unwrap().as_deref(), Some(&b"ok"[..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_larger_item_size_on_both_sides() {
    let server = MemcachedServer::start_with(&["-I", "2m"]).await.unwrap();
    let backend = builder(&[server.location()])
        .item_size_max(2 * 1024 * 1024)
        .build()
        .unwrap();
    let cache = cache(&backend);
    let big = Bytes::from(vec![b'z'; 2 * 1024 * 1024 - ITEM_OVERHEAD]);
    cache.set_raw("big", big.clone()).await.unwrap();
    assert_eq!(cache.get_raw("big").await.unwrap(), Some(big));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_flushes_every_server_entirely() {
    let first = MemcachedServer::start().await.unwrap();
    let second = MemcachedServer::start().await.unwrap();
    let backend = backend(&[first.location(), second.location()]);
    let cache = cache(&backend);
    let keys: Vec<String> = (0..50).map(|i| format!("k{i}")).collect();
    cache.set_many(keys.iter().map(|k| (k.as_str(), 1))).await.unwrap();
    // Both servers hold some, and a key another client wrote goes too (Django's flush_all).
    for stats in backend.stats().await.unwrap() {
        assert!(stats.number("curr_items").unwrap() > 5, "{:?}", stats.address);
    }
    raw(&first.location(), b"set foreign 0 0 1\r\nx\r\n", b"\r\n").await;
    cache.clear().await.unwrap();
    assert!(cache.get_many::<_, i64>(&keys).await.unwrap().is_empty());
    assert_eq!(raw(&first.location(), b"get foreign\r\n", b"END\r\n").await, b"END\r\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_many_is_one_multi_get_per_server() {
    let fakes = [FakeServer::start().await, FakeServer::start().await];
    let cache = cache(&backend(&[fakes[0].location(), fakes[1].location()]));
    let keys: Vec<String> = (0..100).map(|i| format!("key{i}")).collect();
    cache.set_many(keys.iter().map(|k| (k.as_str(), 7))).await.unwrap();
    for fake in &fakes {
        fake.clear_log();
    }
    let found = cache.get_many::<_, i64>(&keys).await.unwrap();
    assert_eq!(found.len(), 100);
    for fake in &fakes {
        assert_eq!(fake.count("get"), 1, "one multi-get per server");
        assert!(fake.violations().is_empty());
    }
    // The same against real servers: every key found, and each server asked for its own keys.
    let first = MemcachedServer::start().await.unwrap();
    let second = MemcachedServer::start().await.unwrap();
    let real = backend(&[first.location(), second.location()]);
    let cache = self::cache(&real);
    cache.set_many(keys.iter().map(|k| (k.as_str(), 7))).await.unwrap();
    let before: Vec<u64> = real
        .stats()
        .await
        .unwrap()
        .iter()
        .map(|s| s.number("get_hits").unwrap())
        .collect();
    assert_eq!(cache.get_many::<_, i64>(&keys).await.unwrap().len(), 100);
    let after: Vec<u64> = real
        .stats()
        .await
        .unwrap()
        .iter()
        .map(|s| s.number("get_hits").unwrap())
        .collect();
    let on_first = keys
        .iter()
        .filter(|k| real.server_for(&format!(":1:{k}")).to_string() == first.location())
        .count() as u64;
    assert_eq!(after[0] - before[0], on_first);
    assert_eq!(after[1] - before[1], 100 - on_first);
    // Duplicates and misses map back to the right keys.
    let asked = ["key1", "nope", "key1", "key2"];
    let found = cache.get_many::<_, i64>(&asked).await.unwrap();
    assert_eq!(found.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_a_server_moves_about_a_quarter_of_the_keys() {
    let servers = [
        MemcachedServer::start().await.unwrap(),
        MemcachedServer::start().await.unwrap(),
        MemcachedServer::start().await.unwrap(),
        MemcachedServer::start().await.unwrap(),
    ];
    let locations: Vec<String> = servers.iter().map(MemcachedServer::location).collect();
    let three = cache(&backend(&locations[..3]));
    let four = cache(&backend(&locations));
    let keys: Vec<String> = (0..2000).map(|i| format!("user:{i}")).collect();
    three.set_many(keys.iter().map(|k| (k.as_str(), 1))).await.unwrap();
    let still_found = four.get_many::<_, i64>(&keys).await.unwrap().len();
    let moved = (keys.len() - still_found) as f64 / keys.len() as f64;
    assert!((0.2..0.3).contains(&moved), "moved {moved}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unix_socket_location() {
    let server = UnixMemcached::start().await;
    for location in [
        format!("unix:{}", server.path.display()),
        server.path.display().to_string(),
    ] {
        let cache = cache(&backend(&[location]));
        cache.set("k", "over a socket").await.unwrap();
        assert_eq!(
            cache.get::<String>("k").await.unwrap().as_deref(),
            Some("over a socket")
        );
        assert_eq!(cache.get_many::<_, String>(&["k"]).await.unwrap().len(), 1);
        cache.clear().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_then_use_again() {
    let server = MemcachedServer::start().await.unwrap();
    let cache = cache(&backend(&[server.location()]));
    cache.set("k", &1).await.unwrap();
    let before = server_connections(&server).await;
    cache.close().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        server_connections(&server).await < before,
        "close drops the connections"
    );
    assert_eq!(cache.get::<i64>("k").await.unwrap(), Some(1));
}

async fn server_connections(server: &MemcachedServer) -> u64 {
    let reply = String::from_utf8(raw(&server.location(), b"stats\r\n", b"END\r\n").await).unwrap();
    reply
        .lines()
        .find_map(|line| line.strip_prefix("STAT curr_connections "))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Django's memcached passes a negative timeout through: memcached reads `exptime` as 32 bits, so
/// −2^63 becomes 0 ("never") and −2^32 + 100 becomes 100 seconds, and Django's memcached stores
/// those values. Here every zero or negative timeout expires at once, as on every other backend
/// (a deliberate difference).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_negative_timeouts_expire_at_once() {
    let server = MemcachedServer::start().await.unwrap();
    let cache = cache(&backend(&[server.location()]));
    for seconds in [-(2f64.powi(63)), -(2f64.powi(32)) + 100.0, -1.0] {
        cache.set("k", &1).await.unwrap();
        cache.set("k", &2).timeout(Timeout::Seconds(seconds)).await.unwrap();
        assert_eq!(cache.get::<i64>("k").await.unwrap(), None, "set with {seconds}");
        assert!(cache.add("a", &1).timeout(Timeout::Seconds(seconds)).await.unwrap());
        assert_eq!(cache.get::<i64>("a").await.unwrap(), None, "add with {seconds}");
    }
}
