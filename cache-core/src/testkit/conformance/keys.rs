//! Keys: custom key functions, and keys memcached would refuse — warned about on lenient backends,
//! refused before any I/O on strict ones, with Django's exact message about the made key.

use std::fmt::Debug;
use std::future::{Future, IntoFuture};

use crate::testkit::{Subject, aliases, capture_warnings};
use crate::{CacheError, Result};

/// `BaseCacheTests.test_custom_key_func`: aliases with a custom key function see each other's keys
/// (the same function registered under two names, as Django passes it by value and by path) and
/// not the default alias' keys.
pub async fn custom_key_func(s: &Subject) {
    let cache = s.cache();
    let custom = s.alias(aliases::CUSTOM_KEY);
    let custom2 = s.alias(aliases::CUSTOM_KEY2);
    assert_eq!(custom.make_key("answer2", None), "CUSTOM--1-answer2");

    cache.set("answer1", &42).await.unwrap();
    assert_eq!(cache.get::<i64>("answer1").await.unwrap(), Some(42));
    assert_eq!(custom.get::<i64>("answer1").await.unwrap(), None);
    assert_eq!(custom2.get::<i64>("answer1").await.unwrap(), None);

    custom.set("answer2", &42).await.unwrap();
    assert_eq!(cache.get::<i64>("answer2").await.unwrap(), None);
    assert_eq!(custom.get::<i64>("answer2").await.unwrap(), Some(42));
    assert_eq!(custom2.get::<i64>("answer2").await.unwrap(), Some(42));
}

/// Runs one operation on a bad key and checks the backend's reaction: on a strict backend an
/// `InvalidKey` error whose message is `expected`; on a lenient one, exactly that one warning and
/// the operation's result. Returns the result when the backend is lenient.
///
/// `call` makes the operation's future: Django validates keys when the call is made, so the call is
/// made inside the capture.
pub(crate) async fn expect_key_problem<T, F>(
    s: &Subject,
    operation: &str,
    expected: &str,
    call: impl FnOnce() -> F,
) -> Option<Result<T>>
where
    T: Debug,
    F: Future<Output = Result<T>>,
{
    let (result, warnings) = capture_warnings(async { call().await }).await;
    if s.capabilities().strict_keys {
        match result {
            Err(CacheError::InvalidKey(problem)) => assert_eq!(problem.to_string(), expected, "{operation}"),
            other => panic!("{operation}: a strict backend must refuse the key with InvalidKey, got {other:?}"),
        }
        assert!(
            warnings.is_empty(),
            "{operation}: refused keys are not also warned about"
        );
        None
    } else {
        assert_eq!(warnings, [expected], "{operation}: the warning about the key");
        Some(result)
    }
}

/// On a lenient backend, the operation must still have been carried out.
fn ok<T: Debug>(result: Option<Result<T>>, operation: &str) {
    if let Some(result) = result {
        assert!(
            result.is_ok(),
            "{operation} must still work on a lenient backend: {result:?}"
        );
    }
}

/// Django's `_perform_invalid_key_test`: the ten operations, in Django's order, each warned about
/// (lenient) or refused (strict). A lenient backend must also carry every one of them out.
async fn perform_invalid_key_test(s: &Subject, key: &str, expected: &str) {
    let cache = s.cache();
    let added = expect_key_problem(s, "add", expected, || cache.add(key, &1).into_future()).await;
    assert!(matches!(added, None | Some(Ok(true))), "add: {added:?}");
    let got = expect_key_problem(s, "get", expected, || cache.get::<i64>(key).into_future()).await;
    assert!(matches!(got, None | Some(Ok(Some(1)))), "get: {got:?}");
    ok(
        expect_key_problem(s, "set", expected, || cache.set(key, &1).into_future()).await,
        "set",
    );
    let incremented = expect_key_problem(s, "incr", expected, || cache.incr(key, 1).into_future()).await;
    assert!(matches!(incremented, None | Some(Ok(2))), "incr: {incremented:?}");
    let decremented = expect_key_problem(s, "decr", expected, || cache.decr(key, 1).into_future()).await;
    assert!(matches!(decremented, None | Some(Ok(1))), "decr: {decremented:?}");
    let touched = expect_key_problem(s, "touch", expected, || cache.touch(key).into_future()).await;
    assert!(matches!(touched, None | Some(Ok(true))), "touch: {touched:?}");
    let deleted = expect_key_problem(s, "delete", expected, || cache.delete(key).into_future()).await;
    assert!(matches!(deleted, None | Some(Ok(true))), "delete: {deleted:?}");
    let keys = [key, "b"];
    ok(
        expect_key_problem(s, "get_many", expected, || {
            cache.get_many::<_, i64>(&keys).into_future()
        })
        .await,
        "get_many",
    );
    ok(
        expect_key_problem(s, "set_many", expected, || {
            cache.set_many([(key, 1), ("b", 2)]).into_future()
        })
        .await,
        "set_many",
    );
    if s.capabilities().strict_keys {
        assert!(
            !cache.has_key("b").await.unwrap(),
            "one bad key must stop the whole batch before anything is sent"
        );
    }
    ok(
        expect_key_problem(s, "delete_many", expected, || cache.delete_many(&keys).into_future()).await,
        "delete_many",
    );
}

/// `BaseCacheTests.test_invalid_key_characters` (and `BaseMemcachedTests._perform_invalid_key_test`, for
/// strict backends): a key with spaces. The message names the made key (`:1:` prefixed), as memcached's
/// override expects.
pub async fn invalid_key_characters(s: &Subject) {
    let key = "key with spaces and 清";
    let made = s.cache().make_key(key, None);
    let expected = format!("Cache key contains characters that will cause errors if used with memcached: '{made}'");
    perform_invalid_key_test(s, key, &expected).await;
}

/// A call warns once per distinct key it makes, where Django warns once per inner operation
/// (a deliberate difference): `get_or_set` on a bad key warns once (Django's `get`, `add`, `get`
/// warn three times), and `incr_version` warns for the old and the new key (Django's `get`, `set`,
/// `delete` warn for the old key twice). A strict backend refuses both calls before any I/O.
pub async fn invalid_key_warns_once_per_key(s: &Subject) {
    let cache = s.cache();
    let key = "key with spaces";
    let old = cache.make_key(key, None);
    let new = cache.make_key(key, Some(2));
    let warning =
        |made: &str| format!("Cache key contains characters that will cause errors if used with memcached: '{made}'");
    let (produced, warnings) =
        capture_warnings(async { cache.get_or_set(key, || async { 7_i64 }).into_future().await }).await;
    if s.capabilities().strict_keys {
        assert!(matches!(produced, Err(CacheError::InvalidKey(_))), "{produced:?}");
        assert!(warnings.is_empty(), "{warnings:?}");
        let moved = cache.incr_version(key, 1).into_future().await;
        assert!(matches!(moved, Err(CacheError::InvalidKey(_))), "{moved:?}");
        return;
    }
    assert_eq!(produced.unwrap(), 7);
    assert_eq!(warnings, [warning(&old)], "get_or_set: one warning, not Django's three");
    let (moved, warnings) = capture_warnings(async { cache.incr_version(key, 1).into_future().await }).await;
    assert_eq!(moved.unwrap(), 2);
    assert_eq!(
        warnings,
        [warning(&old), warning(&new)],
        "incr_version: the old key and the new one, once each (Django warns for the old key twice)"
    );
}

/// `BaseCacheTests.test_invalid_key_length`: 251 characters (the last one wide) is too long.
pub async fn invalid_key_length(s: &Subject) {
    let key = format!("{}清", "a".repeat(250));
    let made = s.cache().make_key(&key, None);
    let expected = format!("Cache key will cause errors if used with memcached: '{made}' (longer than 250)");
    perform_invalid_key_test(s, &key, &expected).await;
}

/// `BaseCacheTests.test_invalid_with_version_key_length` (`BaseMemcachedTests`' form): the limit applies to
/// the made key, so 248 characters plus `:1:` is too long, while 247 plus `:1:` is exactly allowed.
pub async fn invalid_with_version_key_length(s: &Subject) {
    let key = "a".repeat(248);
    let made = s.cache().make_key(&key, None);
    assert_eq!(made.chars().count(), 251);
    let expected = format!("Cache key will cause errors if used with memcached: '{made}' (longer than 250)");
    perform_invalid_key_test(s, &key, &expected).await;

    let cache = s.cache();
    let longest = "a".repeat(247);
    let (stored, warnings) = capture_warnings(async { cache.set(&longest, &1).await }).await;
    stored.unwrap();
    assert!(warnings.is_empty(), "a 250-character made key is allowed: {warnings:?}");
    assert_eq!(cache.get::<i64>(&longest).await.unwrap(), Some(1));
}

/// No Django test (Django's `validate_key` rules): keys that look unusual but break no rule are stored
/// without a warning: non-ASCII letters, a no-break space (only U+0000–U+0020 and U+007F are forbidden),
/// colons, emoji.
pub async fn unusual_but_valid_keys(s: &Subject) {
    let cache = s.cache();
    for key in [
        "清",
        "a\u{a0}b",
        "Iñtërnâtiônàlizætiøn",
        "key:with:colons",
        "emoji😀",
        "tab-free_punctuation!@#$%^&*()",
    ] {
        let (stored, warnings) = capture_warnings(async { cache.set(key, key).await }).await;
        stored.unwrap();
        assert!(warnings.is_empty(), "{key:?} must not be warned about: {warnings:?}");
        assert_eq!(cache.get::<String>(key).await.unwrap().as_deref(), Some(key));
        assert!(cache.delete(key).await.unwrap());
    }
}

/// No Django test: Django counts characters, memcached bytes. A made key of 84 CJK characters (252 bytes in
/// UTF-8) passes Django's check; a strict backend refuses it before any I/O, naming the unit,
/// while a lenient one stores it without a warning.
pub async fn multi_byte_key_length(s: &Subject) {
    let cache = s.cache();
    let key = "清".repeat(84);
    let made = cache.make_key(&key, None);
    let (result, warnings) = capture_warnings(async { cache.set(&key, &1).await }).await;
    assert!(warnings.is_empty(), "no character rule is broken: {warnings:?}");
    if s.capabilities().strict_keys {
        match result {
            Err(CacheError::InvalidKey(problem)) => assert_eq!(
                problem.to_string(),
                format!(
                    "Cache key will cause errors if used with memcached: '{made}' (longer than {} bytes in UTF-8)",
                    s.capabilities().max_key_length
                )
            ),
            other => panic!("a strict backend must refuse a {}-byte key: {other:?}", made.len()),
        }
        assert!(!cache.has_key("清").await.unwrap());
    } else {
        result.unwrap();
        assert_eq!(cache.get::<i64>(&key).await.unwrap(), Some(1));
    }
}
