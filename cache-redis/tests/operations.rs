//! What Redis does for each operation, seen from the server: one `MGET` per `get_many`, one
//! `UNLINK` per `delete_many`, scripts for `incr` and `touch`, millisecond expiries, and what
//! `clear()` removes. Also the deliberate differences from Django, each with its own test.

mod common;

use std::time::Duration;

use bytes::Bytes;
use cache_core::testkit::servers::{RedisCluster, RedisServer};
use cache_core::{CacheError, Location, Timeout};
use cache_redis::RedisBackend;
use redis::AsyncCommands;
use serde_json::json;

fn keys(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("key:{i}")).collect()
}

#[tokio::test]
async fn get_many_is_one_mget_and_batches_are_one_command_each() {
    let server = RedisServer::start().await.unwrap();
    let url = server.url();
    let cache = common::cache("default", Location::One(url.clone()), "", json!({})).unwrap();
    let keys = keys(100);
    cache.set_many(keys.iter().map(|key| (key.as_str(), 7))).await.unwrap();
    common::reset_stats(&url).await;

    let found = cache.get_many::<_, i64>(&keys).await.unwrap();
    assert_eq!(found.len(), 100);
    assert_eq!(common::calls(&url, "MGET").await, 1, "get_many(100) is one MGET");
    assert_eq!(common::calls(&url, "GET").await, 0);

    cache.delete_many(&keys).await.unwrap();
    assert_eq!(common::calls(&url, "UNLINK").await, 1, "delete_many is one UNLINK");
    assert_eq!(common::calls(&url, "DEL").await, 0);

    // A TTL: one SET PX per key, sent as one pipeline; never: one MSET.
    cache
        .set_many(keys.iter().map(|key| (key.as_str(), 1)))
        .timeout(Timeout::secs(60))
        .await
        .unwrap();
    assert_eq!(common::calls(&url, "SET").await, 100);
    cache
        .set_many(keys.iter().map(|key| (key.as_str(), 1)))
        .timeout(Timeout::Never)
        .await
        .unwrap();
    assert_eq!(common::calls(&url, "MSET").await, 1);

    // incr: one script call, not EXISTS then INCRBY from the client. The first call of a script on
    // a server is EVALSHA, refused with NOSCRIPT, then EVAL; every later one a single EVALSHA.
    cache.set("counter", &1).await.unwrap();
    assert_eq!(cache.incr("counter", 2).await.unwrap(), 3);
    common::reset_stats(&url).await;
    assert_eq!(cache.incr("counter", 2).await.unwrap(), 5);
    assert_eq!(common::calls(&url, "EVALSHA").await, 1);
    assert_eq!(common::calls(&url, "EVAL").await, 0);
    assert_eq!(common::calls(&url, "INCRBY").await, 1, "inside the script");
    assert_eq!(common::calls(&url, "EXISTS").await, 0);
    server.stop();
}

#[tokio::test]
async fn reads_go_to_the_readers_and_writes_to_the_writer() {
    let leader = RedisServer::start().await.unwrap();
    let first = RedisServer::start_replica_of(&leader).await.unwrap();
    let second = RedisServer::start_replica_of(&leader).await.unwrap();
    let location = Location::Many(vec![leader.url(), first.url(), second.url()]);
    // `WAIT` may take most of a second on a loaded machine (two replicas, and every other test
    // running), which the default one-second response timeout would call a failure: this test is
    // about where calls go, not how fast.
    let options = json!({"wait_for_replicas": true, "response_timeout": 5});
    let cache = common::cache("replicated", location, "", options).unwrap();
    let keys = keys(10);
    cache.set_many(keys.iter().map(|key| (key.as_str(), 1))).await.unwrap();
    for url in [leader.url(), first.url(), second.url()] {
        common::reset_stats(&url).await;
    }
    for _ in 0..50 {
        assert_eq!(cache.get::<i64>("key:1").await.unwrap(), Some(1));
        assert_eq!(cache.get_many::<_, i64>(&keys).await.unwrap().len(), 10);
        assert!(cache.has_key("key:2").await.unwrap());
    }
    assert_eq!(
        common::calls(&leader.url(), "GET").await,
        0,
        "no read reaches the writer"
    );
    assert_eq!(common::calls(&leader.url(), "MGET").await, 0);
    assert_eq!(common::calls(&leader.url(), "EXISTS").await, 0);
    let (first_gets, second_gets) = (
        common::calls(&first.url(), "GET").await,
        common::calls(&second.url(), "GET").await,
    );
    assert_eq!(first_gets + second_gets, 50);
    assert!(
        first_gets > 0 && second_gets > 0,
        "each read picks a replica at random: {first_gets}/{second_gets}"
    );
    cache.set("written", &1).await.unwrap();
    assert_eq!(common::calls(&leader.url(), "SET").await, 1);
    second.stop();
    first.stop();
    leader.stop();
}

#[tokio::test]
async fn a_cluster_get_many_is_one_mget_per_slot_sent_together() {
    let cluster = RedisCluster::start(3).await.unwrap();
    let urls = cluster.urls();
    let cache = common::cache("cluster", Location::Many(urls.clone()), "", json!({"cluster": true})).unwrap();
    let keys = keys(100);
    cache.set_many(keys.iter().map(|key| (key.as_str(), 7))).await.unwrap();
    for url in &urls {
        common::reset_stats(url).await;
    }
    let found = cache.get_many::<_, i64>(&keys).await.unwrap();
    assert_eq!(found.len(), 100);
    assert!(found.iter().all(|(_, value)| *value == 7));

    // Redis Cluster refuses an MGET whose keys hash to different slots, so the keys are grouped by
    // slot: one MGET per slot, every one sent before any reply is awaited.
    let mut raw = common::raw(&urls[0]).await;
    let mut slots = std::collections::HashSet::new();
    for key in &keys {
        let slot: u16 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(format!(":1:{key}"))
            .query_async(&mut raw)
            .await
            .unwrap();
        slots.insert(slot);
    }
    let mut mgets = 0;
    for url in &urls {
        let on_node = common::calls(url, "MGET").await;
        assert!(on_node > 0, "every master owns some of the keys");
        mgets += on_node;
    }
    assert_eq!(mgets, slots.len() as u64);
    assert_eq!(cache.get_many::<_, i64>(&["missing"]).await.unwrap().len(), 0);
    cluster.stop();
}

#[tokio::test]
async fn expiries_are_milliseconds_so_fractional_timeouts_hold() {
    let server = RedisServer::start().await.unwrap();
    let url = server.url();
    let cache = common::cache("default", Location::One(url.clone()), "", json!({})).unwrap();
    let mut raw = common::raw(&url).await;

    // Django truncates with int(): 0.5 s is 0, so its set deletes; 1.9 s keeps 1 s.
    cache.set("half", &1).timeout(Timeout::Seconds(0.5)).await.unwrap();
    assert_eq!(cache.get::<i64>("half").await.unwrap(), Some(1));
    let ttl: i64 = raw.pttl(":1:half").await.unwrap();
    assert!((1..=500).contains(&ttl), "PTTL {ttl}");
    cache.set("long", &1).timeout(Timeout::Seconds(1.9)).await.unwrap();
    let ttl: i64 = raw.pttl(":1:long").await.unwrap();
    assert!((1500..=1900).contains(&ttl), "PTTL {ttl}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(cache.get::<i64>("half").await.unwrap(), None);

    // A never-expiring set removes an old TTL; touch to never does the same.
    cache.set("ttl", &1).timeout(Timeout::secs(60)).await.unwrap();
    cache.set("ttl", &2).timeout(Timeout::Never).await.unwrap();
    assert_eq!(raw.pttl::<_, i64>(":1:ttl").await.unwrap(), -1);
    cache.set("t", &1).timeout(Timeout::secs(60)).await.unwrap();
    assert!(cache.touch("t").timeout(Timeout::Never).await.unwrap());
    assert_eq!(raw.pttl::<_, i64>(":1:t").await.unwrap(), -1);
    assert!(cache.touch("t").timeout(Timeout::Seconds(2.5)).await.unwrap());
    let ttl: i64 = raw.pttl(":1:t").await.unwrap();
    assert!((2000..=2500).contains(&ttl), "PTTL {ttl}");

    // incr keeps the TTL (INCRBY does).
    cache.set("n", &1).timeout(Timeout::secs(50)).await.unwrap();
    cache.incr("n", 1).await.unwrap();
    let ttl: i64 = raw.pttl(":1:n").await.unwrap();
    assert!(ttl > 49_000, "PTTL {ttl}");
    server.stop();
}

/// Deliberate difference (see the README): Django's `touch(key, None)` is `PERSIST`, which replies 0 —
/// "missing" — for a key that exists but has no TTL to remove.
#[tokio::test]
async fn touch_to_never_reports_an_existing_key_without_ttl() {
    let server = RedisServer::start().await.unwrap();
    let cache = common::cache("default", Location::One(server.url()), "", json!({})).unwrap();
    cache.set("forever", &1).timeout(Timeout::Never).await.unwrap();
    assert!(cache.touch("forever").timeout(Timeout::Never).await.unwrap());
    assert!(!cache.touch("missing").timeout(Timeout::Never).await.unwrap());
    assert!(!cache.has_key("missing").await.unwrap(), "touch doesn't create the key");
    // The script also works after the server forgot it (SCRIPT FLUSH, or a restart): EVAL again.
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut common::raw(&server.url()).await)
        .await
        .unwrap();
    assert!(cache.touch("forever").timeout(Timeout::Never).await.unwrap());
    cache.set("n", &1).await.unwrap();
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut common::raw(&server.url()).await)
        .await
        .unwrap();
    assert_eq!(cache.incr("n", 41).await.unwrap(), 42);
    server.stop();
}

/// Integers are ASCII decimal (the codec's contract), so another client's INCRBY works on what
/// `set` wrote and `get` reads back what INCRBY wrote; values INCRBY can't parse are NotAnInteger,
/// and a stored integer past i64 is Overflow, each leaving the value as it was.
#[tokio::test]
async fn integers_are_shared_with_other_redis_clients() {
    let server = RedisServer::start().await.unwrap();
    let cache = common::cache("default", Location::One(server.url()), "", json!({})).unwrap();
    let mut raw = common::raw(&server.url()).await;
    cache.set("n", &5).await.unwrap();
    let incremented: i64 = raw.incr(":1:n", 1).await.unwrap();
    assert_eq!(incremented, 6);
    assert_eq!(cache.get::<i64>("n").await.unwrap(), Some(6));
    assert_eq!(
        cache.incr("n", i64::MAX - 6).await.unwrap(),
        i64::MAX,
        "exact beyond 2^53"
    );
    assert_eq!(cache.decr("n", 1).await.unwrap(), i64::MAX - 1);

    let _: () = raw.set(":1:big", "99999999999999999999").await.unwrap();
    assert!(matches!(cache.incr("big", 1).await, Err(CacheError::Overflow { key, .. }) if key == "big"));
    let _: () = raw.set(":1:padded", "007").await.unwrap();
    assert!(matches!(cache.incr("padded", 1).await, Err(CacheError::NotAnInteger { key, .. }) if key == "padded"));
    let _: () = raw.rpush(":1:list", "x").await.unwrap();
    assert!(matches!(
        cache.incr("list", 1).await,
        Err(CacheError::NotAnInteger { .. })
    ));
    let stored: String = raw.get(":1:big").await.unwrap();
    assert_eq!(stored, "99999999999999999999");
    server.stop();
}

/// Deliberate difference: Django's `clear()` is FLUSHDB. Here it removes the alias' own keys only
/// (every version), so two aliases, or two applications, sharing a database keep each other's.
#[tokio::test]
async fn clear_removes_only_this_alias_keys() {
    let server = RedisServer::start().await.unwrap();
    let location = || Location::One(server.url_with_db(3));
    let app = common::cache("app", location(), "app", json!({})).unwrap();
    let other = common::cache("other", location(), "other", json!({})).unwrap();
    let unprefixed = common::cache("unprefixed", location(), "", json!({})).unwrap();
    let glob = common::cache("glob", location(), "a*[b]", json!({})).unwrap();
    let mut raw = redis::Client::open(server.url_with_db(3))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: () = raw.set("foreign", "written by someone else").await.unwrap();
    let _: () = raw.set("app:cache:x", "looks like a prefix, isn't one").await.unwrap();
    for i in 0..2500 {
        app.set(&format!("k{i}"), &i).await.unwrap();
    }
    app.set("v2", &1).version(2).await.unwrap();
    app.set("neg", &1).version(-1).await.unwrap();
    other.set("k1", &1).await.unwrap();
    unprefixed.set("k1", &1).await.unwrap();
    glob.set("k1", &1).await.unwrap();

    app.clear().await.unwrap();
    assert_eq!(app.get::<i64>("k1").await.unwrap(), None);
    assert_eq!(app.get::<i64>("v2").version(2).await.unwrap(), None);
    assert_eq!(app.get::<i64>("neg").version(-1).await.unwrap(), None);
    assert_eq!(other.get::<i64>("k1").await.unwrap(), Some(1));
    assert_eq!(unprefixed.get::<i64>("k1").await.unwrap(), Some(1));
    assert_eq!(glob.get::<i64>("k1").await.unwrap(), Some(1));
    assert!(raw.exists::<_, bool>("foreign").await.unwrap());
    assert!(raw.exists::<_, bool>("app:cache:x").await.unwrap());

    // An empty prefix: keys `:<version>:…`, the ones this library makes without a prefix.
    unprefixed.clear().await.unwrap();
    assert_eq!(unprefixed.get::<i64>("k1").await.unwrap(), None);
    assert_eq!(other.get::<i64>("k1").await.unwrap(), Some(1));
    // Glob characters in the prefix are matched literally.
    glob.clear().await.unwrap();
    assert_eq!(glob.get::<i64>("k1").await.unwrap(), None);
    assert_eq!(other.get::<i64>("k1").await.unwrap(), Some(1));
    assert!(raw.exists::<_, bool>("foreign").await.unwrap());
    server.stop();
}

#[tokio::test]
async fn clear_on_a_cluster_scans_every_master() {
    let cluster = RedisCluster::start(3).await.unwrap();
    let location = || Location::Many(cluster.urls());
    let app = common::cache("app", location(), "app", json!({"cluster": true})).unwrap();
    let other = common::cache("other", location(), "other", json!({"cluster": true})).unwrap();
    let keys = keys(300);
    app.set_many(keys.iter().map(|key| (key.as_str(), 1))).await.unwrap();
    other
        .set_many(keys.iter().map(|key| (key.as_str(), 1)))
        .timeout(Timeout::secs(60))
        .await
        .unwrap();
    app.clear().await.unwrap();
    assert!(app.get_many::<_, i64>(&keys).await.unwrap().is_empty());
    assert_eq!(other.get_many::<_, i64>(&keys).await.unwrap().len(), 300);
    let flushing = common::cache(
        "flushing",
        location(),
        "x",
        json!({"cluster": true, "clear": "flushdb"}),
    )
    .unwrap();
    flushing.clear().await.unwrap();
    assert!(other.get_many::<_, i64>(&keys).await.unwrap().is_empty());
    cluster.stop();
}

#[tokio::test]
async fn flushdb_mode_empties_the_whole_database() {
    let server = RedisServer::start().await.unwrap();
    let app = common::cache(
        "app",
        Location::One(server.url_with_db(2)),
        "app",
        json!({"clear": "flushdb"}),
    )
    .unwrap();
    let other = common::cache("other", Location::One(server.url_with_db(2)), "other", json!({})).unwrap();
    let elsewhere = common::cache("elsewhere", Location::One(server.url_with_db(4)), "app", json!({})).unwrap();
    app.set("k", &1).await.unwrap();
    other.set("k", &1).await.unwrap();
    elsewhere.set("k", &1).await.unwrap();
    app.clear().await.unwrap();
    assert_eq!(app.get::<i64>("k").await.unwrap(), None);
    assert_eq!(
        other.get::<i64>("k").await.unwrap(),
        None,
        "FLUSHDB takes every key of the database"
    );
    assert_eq!(
        elsewhere.get::<i64>("k").await.unwrap(),
        Some(1),
        "but not another database's"
    );
    server.stop();
}

#[tokio::test]
async fn a_custom_key_function_needs_a_clear_pattern() {
    let server = RedisServer::start().await.unwrap();
    let mut config =
        cache_core::testkit::Subject::config("redis", Location::One(server.url()), common::options(json!({})));
    let caches = cache_core::Caches::build(&config, &common::backends()).unwrap();
    let custom = caches.get(cache_core::testkit::aliases::CUSTOM_KEY).unwrap();
    custom.set("k", &1).await.unwrap();
    let error = custom.clear().await.unwrap_err();
    let kind = error.backend_error().map(|error| error.kind().clone());
    assert_eq!(kind, Some(cache_core::ErrorKind::Unsupported), "{error}");
    let error = error.to_string();
    assert!(
        error.starts_with("cache alias `custom_key`: this alias makes its keys with a custom key function"),
        "{error}"
    );
    assert!(
        error.contains("options.clear_pattern") && error.contains("flushdb"),
        "{error}"
    );
    assert_eq!(custom.get::<i64>("k").await.unwrap(), Some(1), "nothing was removed");

    let alias = config
        .aliases
        .get_mut(cache_core::testkit::aliases::CUSTOM_KEY)
        .unwrap();
    alias.options = common::options(json!({"clear_pattern": "CUSTOM-*"}));
    let caches = cache_core::Caches::build(&config, &common::backends()).unwrap();
    let custom = caches.get(cache_core::testkit::aliases::CUSTOM_KEY).unwrap();
    let backend = format!("{:?}", custom.backend());
    assert!(backend.contains("CUSTOM-*"), "{backend}");
    caches.default_cache().set("k", &1).await.unwrap();
    custom.clear().await.unwrap();
    assert_eq!(custom.get::<i64>("k").await.unwrap(), None);
    assert_eq!(caches.default_cache().get::<i64>("k").await.unwrap(), Some(1));
    server.stop();
}

#[tokio::test]
async fn raw_bytes_round_trip_and_djangos_class_path_is_registered() {
    let server = RedisServer::start().await.unwrap();
    let mut entry = cache_core::AliasConfig::new("django.core.cache.backends.redis.RedisCache");
    entry.location = Location::One(format!("{};{}", server.url(), server.url()));
    let mut config = cache_core::CachesConfig::default();
    config.aliases.insert("default".into(), entry);
    let caches = cache_core::Caches::build(&config, &common::backends()).unwrap();
    let cache = caches.default_cache();
    let html = Bytes::from_static(b"<p>\x00\xff binary-safe</p>");
    cache.set_raw("page", html.clone()).await.unwrap();
    assert_eq!(cache.get_raw("page").await.unwrap(), Some(html));
    let servers = format!("{:?}", cache.backend());
    assert!(servers.contains("readers"), "{servers}");
    assert!(caches.check().await.iter().all(|health| health.is_healthy()));
    let _ = RedisBackend::servers;
    server.stop();
}

/// Django's Redis backend sends a timeout past what Redis can hold and gets "invalid expire time":
/// the call fails and nothing is stored. Here too (not a TTL silently clamped), before anything is
/// sent, and the old value stays.
#[tokio::test]
async fn a_timeout_redis_cant_hold_is_an_error_and_stores_nothing() {
    let server = RedisServer::start().await.unwrap();
    let cache = common::cache("default", Location::One(server.url()), "", json!({})).unwrap();
    cache.set("k", &1).await.unwrap();
    let huge = Timeout::Seconds(2f64.powi(63));
    for error in [
        cache.set("k", &2).timeout(huge).await.unwrap_err(),
        cache.add("new", &2).timeout(huge).await.map(drop).unwrap_err(),
        cache.touch("k").timeout(huge).await.map(drop).unwrap_err(),
        cache
            .set_many([("k", 3), ("other", 3)])
            .timeout(huge)
            .await
            .map(drop)
            .unwrap_err(),
    ] {
        assert!(!error.is_retryable(), "{error}");
        assert!(
            error.to_string().contains("use a shorter timeout or `never`"),
            "{error}"
        );
    }
    assert_eq!(cache.get::<i64>("k").await.unwrap(), Some(1));
    assert!(!cache.has_key("new").await.unwrap());
    assert!(!cache.has_key("other").await.unwrap());
    // 146 million years still fits.
    cache.set("k", &4).timeout(Timeout::Seconds(4.6e15)).await.unwrap();
    assert_eq!(cache.get::<i64>("k").await.unwrap(), Some(4));
}
