//! A near copy read from a Redis far tier never outlives the far entry: the far backend reports
//! what the entry has left (`GET` + `PTTL` in one round trip) and the near tier keeps it no longer.

use std::time::Duration;

use cache_core::testkit::servers::RedisServer;
use cache_core::{Backends, Caches, CachesConfig, ConfigFormat, Remaining, Timeout};

fn caches(far: &RedisServer) -> Caches {
    let mut backends = Backends::new();
    backends.register(cache_redis::registration());
    backends.register(cache_tiered::registration());
    let toml = format!(
        "[caches.default]\nbackend = \"tiered\"\noptions = {{ far = \"redis\", near_timeout = 60 }}\n\
         [caches.redis]\nbackend = \"redis\"\nlocation = \"{}\"\n",
        far.url()
    );
    Caches::build(&CachesConfig::from_str(&toml, ConfigFormat::Toml).unwrap(), &backends).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_reports_what_an_entry_has_left() {
    let server = RedisServer::start().await.unwrap();
    let caches = caches(&server);
    let redis = caches.get("redis").unwrap();
    redis.set("short", 1).timeout(Timeout::Seconds(30.0)).await.unwrap();
    redis.set("forever", 2).timeout(Timeout::Never).await.unwrap();
    let backend = redis.backend();
    let (value, left) = backend
        .get_with_remaining(&redis.make_key("short", None))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&value[..], b"1");
    assert!(matches!(left, Remaining::For(left) if left <= Duration::from_secs(30) && left > Duration::ZERO));
    let (_, left) = backend
        .get_with_remaining(&redis.make_key("forever", None))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(left, Remaining::Never);
    assert_eq!(
        backend
            .get_with_remaining(&redis.make_key("missing", None))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_near_copy_read_from_redis_expires_with_the_far_entry() {
    let server = RedisServer::start().await.unwrap();
    let caches = caches(&server);
    let (tiered, redis) = (caches.default_cache(), caches.get("redis").unwrap());
    // Written by another client, with a lifetime much shorter than `near_timeout`.
    redis
        .set("k", "short-lived")
        .timeout(Timeout::Seconds(0.5))
        .await
        .unwrap();
    assert_eq!(tiered.get::<String>("k").await.unwrap().as_deref(), Some("short-lived"));
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        tiered.get::<String>("k").await.unwrap(),
        None,
        "gone near too, long before near_timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_reports_what_many_entries_have_left() {
    let server = RedisServer::start().await.unwrap();
    let caches = caches(&server);
    let redis = caches.get("redis").unwrap();
    redis.set("short", 1).timeout(Timeout::Seconds(30.0)).await.unwrap();
    redis.set("forever", 2).timeout(Timeout::Never).await.unwrap();
    let keys = ["short", "missing", "forever"].map(|key| redis.make_key(key, None));
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let found = redis.backend().get_many_with_remaining(&keys).await.unwrap();
    assert_eq!(found.len(), 3);
    let (value, left) = found[0].as_ref().unwrap();
    assert_eq!(&value[..], b"1");
    assert!(matches!(left, Remaining::For(left) if *left <= Duration::from_secs(30) && *left > Duration::ZERO));
    assert_eq!(found[1], None);
    let (value, left) = found[2].as_ref().unwrap();
    assert_eq!((&value[..], *left), (&b"2"[..], Remaining::Never));
    assert_eq!(redis.backend().get_many_with_remaining(&[]).await.unwrap(), Vec::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn near_copies_read_by_get_many_expire_with_their_far_entries() {
    let server = RedisServer::start().await.unwrap();
    let caches = caches(&server);
    let (tiered, redis) = (caches.default_cache(), caches.get("redis").unwrap());
    for key in ["a", "b"] {
        redis.set(key, key).timeout(Timeout::Seconds(0.5)).await.unwrap();
    }
    redis.set("c", "c").timeout(Timeout::Never).await.unwrap();
    let read = tiered.get_many::<_, String>(&["a", "b", "c"]).await.unwrap();
    assert_eq!(read.len(), 3, "{read:?}");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let read = tiered.get_many::<_, String>(&["a", "b", "c"]).await.unwrap();
    assert_eq!(
        read.keys().map(String::as_str).collect::<Vec<_>>(),
        ["c"],
        "a and b gone near too, long before near_timeout"
    );
}
