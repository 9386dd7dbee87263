//! Value sizes: a backend with a limit refuses what is over it without losing what it had; a
//! backend without one stores large values whole.

use bytes::Bytes;

use crate::CacheError;
use crate::testkit::Subject;

/// `BaseMemcachedTests.test_memcached_deletes_key_on_failed_set`, as a deliberate difference: a value over the
/// backend's `max_value_bytes` is `ValueTooLarge` from `set`, `add` and `get_or_set`, a failed key
/// in `set_many` (the rest of the batch is stored), and the value stored before stays.
pub async fn value_too_large(s: &Subject) {
    let limit = s
        .capabilities()
        .max_value_bytes
        .expect("only run for backends with a value limit");
    let cache = s.cache();
    let too_big = Bytes::from(vec![b'a'; limit + 1]);

    cache.set("small_value", "a").await.unwrap();
    let errors_before = cache.metrics().caller_errors();
    assert_err!(
        cache.set_raw("small_value", too_big.clone()).await,
        CacheError::ValueTooLarge { key, size, limit: reported, .. }
            if key == "small_value" && size == limit + 1 && reported == limit
    );
    assert_eq!(
        cache.get::<String>("small_value").await.unwrap().as_deref(),
        Some("a"),
        "a refused value must not delete the old one"
    );
    assert_eq!(
        cache.metrics().caller_errors(),
        errors_before + 1,
        "a refused set is one error"
    );
    // Typed values are measured once encoded.
    let big_string = "a".repeat(limit);
    assert_err!(
        cache.set("small_value", &big_string).await,
        CacheError::ValueTooLarge { key, .. } if key == "small_value"
    );
    assert_eq!(cache.get::<String>("small_value").await.unwrap().as_deref(), Some("a"));

    assert_err!(
        cache.add_raw("big_add", too_big.clone()).await,
        CacheError::ValueTooLarge { key, .. } if key == "big_add"
    );
    assert!(!cache.has_key("big_add").await.unwrap());

    let failed = cache
        .set_many_raw([("fits", Bytes::from_static(b"ok")), ("too_big", too_big.clone())])
        .await
        .unwrap();
    assert_eq!(failed, ["too_big"]);
    assert_eq!(
        cache.metrics().caller_errors(),
        errors_before + 3,
        "a key set_many reports as failed is not an error (after the set and add refused above)"
    );
    assert_eq!(cache.get_raw("fits").await.unwrap(), Some(Bytes::from_static(b"ok")));
    assert!(!cache.has_key("too_big").await.unwrap());

    let big_for_producer = big_string.clone();
    assert_err!(
        cache.get_or_set("big_computed", move || async move { big_for_producer }).await,
        CacheError::ValueTooLarge { key, .. } if key == "big_computed"
    );
    assert!(!cache.has_key("big_computed").await.unwrap());
}

/// A backend that declares no value limit stores a value of a few megabytes whole, through the raw,
/// typed and batch methods.
pub async fn large_value_round_trips(s: &Subject) {
    let cache = s.cache();
    let large: Bytes = (0..(2 * 1024 * 1024 + 1))
        .map(|i| (i % 251) as u8)
        .collect::<Vec<u8>>()
        .into();
    cache.set_raw("large_raw", large.clone()).await.unwrap();
    assert_eq!(cache.get_raw("large_raw").await.unwrap(), Some(large.clone()));

    let failed = cache.set_many_raw([("large_many", large.clone())]).await.unwrap();
    assert!(failed.is_empty());
    assert_eq!(cache.get_raw("large_many").await.unwrap(), Some(large));

    let text = "x".repeat(2 * 1024 * 1024);
    cache.set("large_typed", &text).await.unwrap();
    assert_eq!(cache.get::<String>("large_typed").await.unwrap(), Some(text));
}
