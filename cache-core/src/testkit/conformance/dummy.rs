//! Django's `DummyCacheTests`: a backend that stores nothing (`stores_values == false`) still accepts
//! every call, misses every read, and warns about bad keys.

use std::future::IntoFuture;

use serde_json::json;

use crate::testkit::conformance::keys::expect_key_problem;
use crate::testkit::{Subject, capture_warnings};
use crate::{CacheError, Timeout};

/// `DummyCacheTests.test_simple`: a set value is not read back.
pub async fn simple(s: &Subject) {
    let cache = s.cache();
    cache.set("key", "value").await.unwrap();
    assert_eq!(cache.get::<String>("key").await.unwrap(), None);
}

/// `DummyCacheTests.test_add`: `add` yields true every time, and nothing is read back.
pub async fn add(s: &Subject) {
    let cache = s.cache();
    assert!(cache.add("addkey1", "value").await.unwrap());
    assert!(cache.add("addkey1", "newvalue").await.unwrap());
    assert_eq!(cache.get::<String>("addkey1").await.unwrap(), None);
}

/// `DummyCacheTests.test_non_existent`: a miss, so the caller's default applies.
pub async fn non_existent(s: &Subject) {
    let got = s.cache().get::<String>("does_not_exist").await.unwrap();
    assert_eq!(got, None);
    assert_eq!(got.unwrap_or_else(|| "bang!".to_owned()), "bang!");
}

/// `DummyCacheTests.test_get_many`: nothing is found after set_many.
pub async fn get_many(s: &Subject) {
    let cache = s.cache();
    cache
        .set_many([("a", "a"), ("b", "b"), ("c", "c"), ("d", "d")])
        .await
        .unwrap();
    assert!(cache.get_many::<_, String>(&["a", "c", "d"]).await.unwrap().is_empty());
    assert!(cache.get_many::<_, String>(&["a", "b", "e"]).await.unwrap().is_empty());
}

/// The message Django gives for `"key with spaces"` through the `default` alias.
fn spaces_message(s: &Subject) -> String {
    let made = s.cache().make_key("key with spaces", None);
    format!("Cache key contains characters that will cause errors if used with memcached: '{made}'")
}

/// `DummyCacheTests.test_get_many_invalid_key`: the bad key is warned about (made key in the message).
pub async fn get_many_invalid_key(s: &Subject) {
    let cache = s.cache();
    let keys = ["key with spaces"];
    let found = expect_key_problem(s, "get_many", &spaces_message(s), || {
        cache.get_many::<_, String>(&keys).into_future()
    })
    .await;
    if let Some(found) = found {
        assert!(found.unwrap().is_empty());
    }
}

/// `DummyCacheTests.test_delete`: nothing to delete, so false.
pub async fn delete(s: &Subject) {
    let cache = s.cache();
    cache.set_many([("key1", "spam"), ("key2", "eggs")]).await.unwrap();
    assert!(!cache.delete("key1").await.unwrap());
    assert_eq!(cache.get::<String>("key1").await.unwrap(), None);
    assert_eq!(cache.get::<String>("key2").await.unwrap(), None);
}

/// `DummyCacheTests.test_has_key` and `test_in`: always false.
pub async fn has_key(s: &Subject) {
    let cache = s.cache();
    cache.set("hello1", "goodbye1").await.unwrap();
    assert!(!cache.has_key("hello1").await.unwrap());
    assert!(!cache.has_key("goodbye1").await.unwrap());
}

/// `DummyCacheTests.test_incr`: `KeyNotFound` for a key just set, a missing key, and a negative delta.
pub async fn incr(s: &Subject) {
    let cache = s.cache();
    cache.set("answer", &42).await.unwrap();
    assert_err!(cache.incr("answer", 1).await, CacheError::KeyNotFound { key } if key == "answer");
    assert_err!(
        cache.incr("does_not_exist", 1).await,
        CacheError::KeyNotFound { key } if key == "does_not_exist"
    );
    assert_err!(
        cache.incr("does_not_exist", -1).await,
        CacheError::KeyNotFound { key } if key == "does_not_exist"
    );
}

/// `DummyCacheTests.test_decr`: the same, downwards.
pub async fn decr(s: &Subject) {
    let cache = s.cache();
    cache.set("answer", &42).await.unwrap();
    assert_err!(cache.decr("answer", 1).await, CacheError::KeyNotFound { key } if key == "answer");
    assert_err!(
        cache.decr("does_not_exist", 1).await,
        CacheError::KeyNotFound { key } if key == "does_not_exist"
    );
    assert_err!(
        cache.decr("does_not_exist", -1).await,
        CacheError::KeyNotFound { key } if key == "does_not_exist"
    );
}

/// `DummyCacheTests.test_touch`: false.
pub async fn touch(s: &Subject) {
    assert!(!s.cache().touch("whatever").await.unwrap());
}

/// `DummyCacheTests.test_data_types`: whatever is set, nothing is read back.
pub async fn data_types(s: &Subject) {
    let cache = s.cache();
    let stuff = json!({
        "string": "this is a string",
        "int": 42,
        "bool": true,
        "list": [1, 2, 3, 4],
        "tuple": [1, 2, 3, 4],
        "dict": {"A": 1, "B": 2},
    });
    cache.set("stuff", &stuff).await.unwrap();
    assert_eq!(cache.get::<serde_json::Value>("stuff").await.unwrap(), None);
}

/// `DummyCacheTests.test_expiration`: with any timeout, `add` yields true and nothing is read back.
/// (Django sleeps two seconds here; there is nothing that could expire, so this doesn't.)
pub async fn expiration(s: &Subject) {
    let cache = s.cache();
    for key in ["expire1", "expire2", "expire3"] {
        cache.set(key, "very quickly").timeout(Timeout::secs(1)).await.unwrap();
    }
    assert_eq!(cache.get::<String>("expire1").await.unwrap(), None);
    assert!(cache.add("expire2", "newvalue").await.unwrap());
    assert_eq!(cache.get::<String>("expire2").await.unwrap(), None);
    assert!(!cache.has_key("expire3").await.unwrap());
}

/// `DummyCacheTests.test_unicode`: non-ASCII keys and values, nothing read back.
pub async fn unicode(s: &Subject) {
    let cache = s.cache();
    let stuff = [
        ("ascii", json!("ascii_value")),
        ("unicode_ascii", json!("Iñtërnâtiônàlizætiøn1")),
        ("Iñtërnâtiônàlizætiøn", json!("Iñtërnâtiônàlizætiøn2")),
        ("ascii2", json!({"x": 1})),
    ];
    for (key, value) in &stuff {
        cache.set(key, value).await.unwrap();
        assert_eq!(cache.get::<serde_json::Value>(key).await.unwrap(), None);
    }
}

/// `DummyCacheTests.test_set_many`: no failed keys, with or without a timeout and version.
pub async fn set_many(s: &Subject) {
    let cache = s.cache();
    assert!(cache.set_many([("a", 1), ("b", 2)]).await.unwrap().is_empty());
    let failed = cache
        .set_many([("a", 1), ("b", 2)])
        .timeout(Timeout::secs(2))
        .version(1)
        .await
        .unwrap();
    assert!(failed.is_empty());
}

/// `DummyCacheTests.test_set_many_invalid_key`: the bad key is warned about.
pub async fn set_many_invalid_key(s: &Subject) {
    let cache = s.cache();
    let stored = expect_key_problem(s, "set_many", &spaces_message(s), || {
        cache.set_many([("key with spaces", "foo")]).into_future()
    })
    .await;
    if let Some(stored) = stored {
        assert!(stored.unwrap().is_empty());
    }
}

/// `DummyCacheTests.test_delete_many`: succeeds.
pub async fn delete_many(s: &Subject) {
    s.cache().delete_many(&["a", "b"]).await.unwrap();
}

/// `DummyCacheTests.test_delete_many_invalid_key`: the bad key is warned about.
pub async fn delete_many_invalid_key(s: &Subject) {
    let cache = s.cache();
    let keys = ["key with spaces"];
    let deleted = expect_key_problem(s, "delete_many", &spaces_message(s), || {
        cache.delete_many(&keys).into_future()
    })
    .await;
    if let Some(deleted) = deleted {
        deleted.unwrap();
    }
}

/// `DummyCacheTests.test_clear`: succeeds.
pub async fn clear(s: &Subject) {
    s.cache().clear().await.unwrap();
}

/// `AsyncDummyCacheTests.test_aclose` (`tests/cache/tests_async.py`): succeeds.
pub async fn close(s: &Subject) {
    s.cache().close().await.unwrap();
}

/// `DummyCacheTests.test_incr_version`: `KeyNotFound` for a key just set and for a missing one, at any version.
pub async fn incr_version(s: &Subject) {
    let cache = s.cache();
    cache.set("answer", &42).await.unwrap();
    assert_err!(cache.incr_version("answer", 1).await, CacheError::KeyNotFound { key } if key == "answer");
    assert_err!(
        cache.incr_version("answer", 1).version(2).await,
        CacheError::KeyNotFound { key } if key == "answer"
    );
    assert_err!(
        cache.incr_version("does_not_exist", 1).await,
        CacheError::KeyNotFound { key } if key == "does_not_exist"
    );
}

/// `DummyCacheTests.test_decr_version`: the same, downwards.
pub async fn decr_version(s: &Subject) {
    let cache = s.cache();
    cache.set("answer", &42).await.unwrap();
    assert_err!(cache.decr_version("answer", 1).await, CacheError::KeyNotFound { key } if key == "answer");
    assert_err!(
        cache.decr_version("answer", 1).version(2).await,
        CacheError::KeyNotFound { key } if key == "answer"
    );
    assert_err!(
        cache.decr_version("does_not_exist", 1).await,
        CacheError::KeyNotFound { key } if key == "does_not_exist"
    );
}

/// `DummyCacheTests.test_get_or_set`: the produced value every time, nothing kept.
pub async fn get_or_set(s: &Subject) {
    let cache = s.cache();
    let value = cache
        .get_or_set("mykey", || async { "default".to_owned() })
        .await
        .unwrap();
    assert_eq!(value, "default");
    let value = cache.get_or_set("mykey", || async { None::<String> }).await.unwrap();
    assert_eq!(value, None);
    assert_eq!(cache.get_or_set("gs", || async { 1i64 }).await.unwrap(), 1);
    assert_eq!(cache.get_or_set("gs", || async { 2i64 }).await.unwrap(), 2);
}

/// `DummyCacheTests.test_get_or_set_callable`: the producer runs on every call.
pub async fn get_or_set_callable(s: &Subject) {
    let cache = s.cache();
    let my_callable = || async { "default".to_owned() };
    assert_eq!(cache.get_or_set("mykey", my_callable).await.unwrap(), "default");
    assert_eq!(cache.get_or_set("mykey", my_callable).await.unwrap(), "default");
}

/// `DummyCacheTests.test_get_many_invalid_key` and the other `*_invalid_key` tests, for every operation:
/// every operation still validates its key, so a bad key is warned about even though nothing is stored.
pub async fn every_operation_validates_keys(s: &Subject) {
    let cache = s.cache();
    let expected = spaces_message(s);
    let key = "key with spaces";
    let (_, warnings) = capture_warnings(async {
        let _ = cache.set(key, &1).await;
        let _ = cache.get::<i64>(key).await;
        let _ = cache.add(key, &1).await;
        let _ = cache.touch(key).await;
        let _ = cache.delete(key).await;
        let _ = cache.has_key(key).await;
        let _ = cache.incr(key, 1).await;
    })
    .await;
    if !s.capabilities().strict_keys {
        assert_eq!(warnings, vec![expected; 7]);
    }
}
