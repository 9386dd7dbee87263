//! incr and decr: results, missing keys, values that are not integers, overflow, and the ASCII
//! decimal storage that lets servers increment atomically.

use bytes::Bytes;

use crate::CacheError;
use crate::testkit::Subject;

/// `BaseCacheTests.test_incr`: adds, reads back, takes negative deltas; a missing key is
/// `KeyNotFound` with the caller's key (Django's `ValueError("Key 'x' not found")`); a stored
/// `None` is `NotAnInteger` (Django's backend-specific type error).
pub async fn incr(s: &Subject) {
    let cache = s.cache();
    cache.set("answer", &41).await.unwrap();
    assert_eq!(cache.incr("answer", 1).await.unwrap(), 42);
    assert_eq!(cache.get::<i64>("answer").await.unwrap(), Some(42));
    assert_eq!(cache.incr("answer", 10).await.unwrap(), 52);
    assert_eq!(cache.get::<i64>("answer").await.unwrap(), Some(52));
    assert_eq!(cache.incr("answer", -10).await.unwrap(), 42);

    let missing = cache.incr("does_not_exist", 1).await;
    assert_err!(&missing, CacheError::KeyNotFound { key } if key == "does_not_exist");
    assert_eq!(missing.unwrap_err().to_string(), "Key 'does_not_exist' not found");
    assert_err!(
        cache.incr("does_not_exist", -1).await,
        CacheError::KeyNotFound { key } if key == "does_not_exist"
    );
    assert!(
        !cache.has_key("does_not_exist").await.unwrap(),
        "incr must not create the key"
    );

    cache.set("null", &None::<i64>).await.unwrap();
    assert_err!(cache.incr("null", 1).await, CacheError::NotAnInteger { key, .. } if key == "null");
}

/// `BaseCacheTests.test_decr`: the same, downwards.
pub async fn decr(s: &Subject) {
    let cache = s.cache();
    cache.set("answer", &43).await.unwrap();
    assert_eq!(cache.decr("answer", 1).await.unwrap(), 42);
    assert_eq!(cache.get::<i64>("answer").await.unwrap(), Some(42));
    assert_eq!(cache.decr("answer", 10).await.unwrap(), 32);
    assert_eq!(cache.get::<i64>("answer").await.unwrap(), Some(32));
    assert_eq!(cache.decr("answer", -10).await.unwrap(), 42);

    assert_err!(
        cache.decr("does_not_exist", 1).await,
        CacheError::KeyNotFound { key } if key == "does_not_exist"
    );
    assert_err!(
        cache.incr("does_not_exist", -1).await,
        CacheError::KeyNotFound { key } if key == "does_not_exist"
    );

    cache.set("null", &None::<i64>).await.unwrap();
    assert_err!(cache.decr("null", 1).await, CacheError::NotAnInteger { key, .. } if key == "null");
}

/// No Django test (Django's memcached backends floor `decr` at zero, the others go negative): going below
/// zero gives negative numbers, or stops at zero on a backend whose capabilities say decrements floor there
/// (memcached).
pub async fn incr_decr_below_zero(s: &Subject) {
    let cache = s.cache();
    let floors = s.capabilities().decr_floors_at_zero;
    let below = |negative: i64| if floors { 0 } else { negative };

    cache.set("a", &1).await.unwrap();
    assert_eq!(cache.incr("a", 1).await.unwrap(), 2);
    assert_eq!(cache.incr("a", 10).await.unwrap(), 12);
    assert_eq!(cache.incr("a", -20).await.unwrap(), below(-8));
    assert_eq!(cache.decr("a", 5).await.unwrap(), below(-13));
    assert_eq!(cache.get::<i64>("a").await.unwrap(), Some(below(-13)));

    cache.set("zero", &0).await.unwrap();
    assert_eq!(cache.decr("zero", 1).await.unwrap(), below(-1));
    assert_eq!(cache.get::<i64>("zero").await.unwrap(), Some(below(-1)));

    if !floors {
        cache.set("negative", &-5).await.unwrap();
        assert_eq!(cache.incr("negative", 1).await.unwrap(), -4);
        assert_eq!(cache.decr("negative", 1).await.unwrap(), -5);
    }
}

/// `BaseCacheTests.test_incr`/`test_decr` on a stored `None`, widened (a deliberate difference: Django's
/// locmem adds to any number): incr and decr of a float, a bool, a string (even "12"), a `None`, a list or a
/// map are `NotAnInteger` on every backend, and leave the value as it was.
pub async fn incr_of_non_integer_is_an_error(s: &Subject) {
    let cache = s.cache();
    let values = [
        ("float", serde_json::json!(1.5)),
        ("bool", serde_json::json!(true)),
        ("string", serde_json::json!("abc")),
        ("numeric_string", serde_json::json!("12")),
        ("null", serde_json::Value::Null),
        ("list", serde_json::json!([1])),
        ("map", serde_json::json!({"a": 1})),
    ];
    for (key, value) in &values {
        cache.set(key, value).await.unwrap();
        assert_err!(
            cache.incr(key, 1).await,
            CacheError::NotAnInteger { key: reported, .. } if reported == *key
        );
        assert_err!(
            cache.decr(key, 1).await,
            CacheError::NotAnInteger { key: reported, .. } if reported == *key
        );
        assert_eq!(
            cache.get::<serde_json::Value>(key).await.unwrap().as_ref(),
            Some(value),
            "a failed incr changed `{key}`"
        );
    }
}

/// No Django test (a deliberate difference: Python integers don't overflow): an increment past the signed
/// 64-bit range is `Overflow`, never a wrap, and the stored value stays as it was.
pub async fn incr_overflow(s: &Subject) {
    let cache = s.cache();
    cache.set("max", &i64::MAX).await.unwrap();
    assert_err!(cache.incr("max", 1).await, CacheError::Overflow { key, .. } if key == "max");
    assert_err!(cache.incr("max", i64::MAX).await, CacheError::Overflow { key, .. } if key == "max");
    assert_eq!(cache.get::<i64>("max").await.unwrap(), Some(i64::MAX));
    // -i64::MIN does not exist: the façade refuses before asking the backend.
    assert_err!(
        cache.decr("max", i64::MIN).await,
        CacheError::Overflow { key, .. } if key == "max"
    );
    assert_eq!(cache.get::<i64>("max").await.unwrap(), Some(i64::MAX));

    if !s.capabilities().decr_floors_at_zero {
        cache.set("min", &i64::MIN).await.unwrap();
        assert_err!(cache.decr("min", 1).await, CacheError::Overflow { key, .. } if key == "min");
        assert_eq!(cache.get::<i64>("min").await.unwrap(), Some(i64::MIN));
    }
}

/// No Django test (the contract between backends): integers are stored as plain ASCII decimal, so any client reads
/// what `set` wrote, a raw `b"5"` increments to 6, and a value a decrement shortened (memcached pads
/// it with spaces) still reads back as an integer.
pub async fn integers_are_ascii_decimal(s: &Subject) {
    let cache = s.cache();
    cache.set("five", &5).await.unwrap();
    assert_eq!(cache.get_raw("five").await.unwrap(), Some(Bytes::from_static(b"5")));
    cache.set("minus", &-17i64).await.unwrap();
    assert_eq!(cache.get_raw("minus").await.unwrap(), Some(Bytes::from_static(b"-17")));

    cache.set_raw("raw_five", Bytes::from_static(b"5")).await.unwrap();
    assert_eq!(cache.incr("raw_five", 1).await.unwrap(), 6);
    assert_eq!(cache.get::<i64>("raw_five").await.unwrap(), Some(6));
    assert_eq!(cache.get_raw("raw_five").await.unwrap(), Some(Bytes::from_static(b"6")));

    cache.set("ten", &10).await.unwrap();
    assert_eq!(cache.decr("ten", 1).await.unwrap(), 9);
    assert_eq!(cache.get::<i64>("ten").await.unwrap(), Some(9));
    assert_eq!(cache.incr("ten", 991).await.unwrap(), 1000);
    assert_eq!(cache.get::<i64>("ten").await.unwrap(), Some(1000));
}
