//! No key can break the protocol: keys with spaces or control characters, or over 250 bytes,
//! are refused before anything is written, through the façade and through the backend alike.

mod support;

use std::sync::Arc;

use bytes::Bytes;
use cache_core::testkit::servers::MemcachedServer;
use cache_core::{Cache, CacheBackend, CacheError, CacheOptions, ErrorKind, Expiry, KeyRule, Timeout};
use cache_memcached::MemcachedBackend;
use proptest::prelude::*;
use support::{FakeServer, valid_key};

fn backend(location: &str) -> MemcachedBackend {
    MemcachedBackend::builder().server(location).build().unwrap()
}

fn cache(backend: &MemcachedBackend) -> Cache {
    Cache::new("keys", Arc::new(backend.clone()), CacheOptions::default())
}

const INJECTIONS: [&str; 6] = [
    "a\r\nflush_all",
    "a\nflush_all",
    "a\r\nflush_all\r\n",
    "a flush_all",
    "a\0b",
    "a\x7f",
];

/// Every operation, on one key; the results are ignored (only what reaches the wire matters).
async fn every_operation(backend: &MemcachedBackend, key: &str) -> Vec<bool> {
    let value = Bytes::from_static(b"1");
    let expiry = Expiry::After(std::time::Duration::from_secs(60));
    vec![
        backend.get(key).await.is_ok(),
        backend.set(key, value.clone(), expiry).await.is_ok(),
        backend.add(key, value.clone(), expiry).await.is_ok(),
        backend.touch(key, expiry).await.is_ok(),
        backend.incr(key, 1).await.is_ok(),
        backend.incr(key, -1).await.is_ok(),
        backend.has_key(key).await.is_ok(),
        backend.delete(key).await.is_ok(),
        backend.get_many(&["ok", key]).await.is_ok(),
        backend
            .set_many(&[("ok", value.clone()), (key, value)], expiry)
            .await
            .is_ok(),
        backend.delete_many(&["ok", key]).await.is_ok(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_injected_command_never_reaches_a_real_server() {
    let server = MemcachedServer::start().await.unwrap();
    let backend = backend(&server.location());
    let cache = cache(&backend);
    cache.set("canary", "alive").timeout(Timeout::Never).await.unwrap();

    for key in INJECTIONS {
        // Through the façade, which validates Django's way (the made key is ":1:<key>").
        assert!(
            matches!(cache.get::<String>(key).await, Err(CacheError::InvalidKey(_))),
            "{key:?}"
        );
        assert!(
            matches!(cache.set(key, "x").await, Err(CacheError::InvalidKey(_))),
            "{key:?}"
        );
        assert!(
            matches!(cache.delete(key).await, Err(CacheError::InvalidKey(_))),
            "{key:?}"
        );
        assert!(
            matches!(cache.incr(key, 1).await, Err(CacheError::InvalidKey(_))),
            "{key:?}"
        );
        // Straight to the backend, as a custom key function or a caller of `backend()` could.
        assert!(every_operation(&backend, key).await.iter().all(|ok| !ok), "{key:?}");
        match backend.get(key).await.map_err(|error| error.kind().clone()) {
            Err(ErrorKind::InvalidKey(problem)) => assert_eq!(problem.rule, KeyRule::ForbiddenCharacter),
            other => panic!("{key:?}: {other:?}"),
        }
    }
    assert_eq!(cache.get::<String>("canary").await.unwrap().as_deref(), Some("alive"));
    // The batch refused as a whole: its valid key wasn't stored either.
    assert!(!cache.has_key("ok").await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_measured_in_bytes() {
    let server = MemcachedServer::start().await.unwrap();
    let backend = backend(&server.location());
    let cache = cache(&backend);

    // 3 + 82 characters made key, 3 + 246 = 249 bytes: fits both rules.
    let fits = "清".repeat(82);
    cache.set(&fits, &1).await.unwrap();
    assert_eq!(cache.get::<i64>(&fits).await.unwrap(), Some(1));

    // 3 + 83 characters (Django's rule passes), 3 + 249 = 252 bytes: memcached's rule doesn't.
    let wide = "清".repeat(83);
    for result in [
        cache.set(&wide, &1).await.map(drop),
        cache.get::<i64>(&wide).await.map(drop),
        cache.delete(&wide).await.map(drop),
        cache.get_many::<_, i64>(&["a", wide.as_str()]).await.map(drop),
    ] {
        match result {
            Err(CacheError::InvalidKey(problem)) => {
                // The façade refuses it before any I/O, naming the unit.
                assert_eq!(problem.rule, KeyRule::TooManyBytes { limit: 250 });
                assert_eq!(problem.key, format!(":1:{wide}"));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_server_sees_only_well_formed_commands() {
    let fake = FakeServer::start().await;
    let backend = backend(&fake.location());
    for key in INJECTIONS
        .iter()
        .copied()
        .chain(["", &"x".repeat(251), "清 ", "ok\u{85}"])
    {
        every_operation(&backend, key).await;
    }
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    assert_eq!(fake.count("flush_all"), 0);
    // "ok\u{85}" is a valid key (NEL is not an ASCII control), so something was sent.
    assert!(fake.count("set") > 0);
}

/// Arbitrary strings: what the fake server receives is always a well-formed command with valid
/// keys, and a key that is refused makes nothing reach it.
fn arbitrary_key() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,260}",
        "[a-z\\x00-\\x20\\x7f\u{85}\u{a0}\u{2028}清😀]{0,100}",
        "[a-z]{240,260}",
        "[清]{80,90}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_keys_never_reach_the_wire_invalid(keys in proptest::collection::vec(arbitrary_key(), 1..6)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        runtime.block_on(async {
            let fake = FakeServer::start().await;
            let backend = backend(&fake.location());
            let cache = cache(&backend);
            for key in &keys {
                let before = fake.log.lock().lines.len();
                let backend_valid = key.len() <= 250 && valid_key(key.as_bytes());
                let results = every_operation(&backend, key).await;
                if !backend_valid {
                    prop_assert!(results.iter().all(|ok| !ok), "{key:?} was accepted: {results:?}");
                    prop_assert_eq!(fake.log.lock().lines.len(), before, "{:?} reached the wire", key);
                }
                // The façade, whose made key is ":1:<key>".
                let _ = cache.set(key, &1).await;
                let _ = cache.get::<i64>(key).await;
                let _ = cache.incr(key, 1).await;
                let _ = cache.get_many::<_, i64>(&[key.as_str(), "b"]).await;
                let _ = cache.set_many([(key.as_str(), 1), ("b", 2)]).await;
                let _ = cache.delete_many(&[key.as_str()]).await;
            }
            let violations = fake.violations();
            prop_assert!(violations.is_empty(), "{:?}", violations);
            let lines = fake.log.lock().lines.clone();
            for line in lines {
                prop_assert!(!line.starts_with(b"flush_all"), "{:?}", String::from_utf8_lossy(&line));
            }
            Ok(())
        })?;
    }
}
