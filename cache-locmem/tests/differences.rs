//! Where this backend deliberately departs from Django's LocMemCache (see the README), and
//! the rules `incr` and lazy expiry follow; each through the `Cache` façade with a manual clock.

use std::sync::Arc;
use std::time::Duration;

use cache_core::{Cache, CacheBackend, CacheError, CacheOptions, Capabilities, Clock, Expiry, Result, Timeout};
use cache_locmem::LocMemBackend;

fn locmem(max_entries: u64, cull_frequency: u64, clock: &Clock) -> (Cache, Arc<LocMemBackend>) {
    let backend = LocMemBackend::builder()
        .max_entries(max_entries)
        .cull_frequency(cull_frequency)
        .clock(clock.clone())
        .build();
    let backend = Arc::new(backend);
    let cache = Cache::new("default", backend.clone(), CacheOptions::default());
    (cache, backend)
}

/// Django would evict `b`, the least recently used live entry, and keep the expired `a` in its
/// slot; here the expired entry goes and frees the room, so no live entry is lost.
#[tokio::test]
async fn a_cull_drops_expired_entries_before_live_ones() -> Result<()> {
    let clock = Clock::manual();
    let (cache, backend) = locmem(3, 3, &clock);
    cache.set("b", "live").timeout(Timeout::Never).await?;
    cache.set("c", "live").timeout(Timeout::Never).await?;
    cache.set("a", "expiring").timeout(Timeout::secs(10)).await?;
    clock.advance(Duration::from_secs(10));
    cache.set("d", "new").await?;
    assert_eq!(backend.len(), 3);
    for key in ["b", "c", "d"] {
        assert!(cache.has_key(key).await?, "{key}");
    }
    assert!(!cache.has_key("a").await?);
    Ok(())
}

/// Django's `_set` culls a full store before writing even a value that expires at once; here a
/// write with a zero or negative timeout stores nothing, so it evicts nothing either.
#[tokio::test]
async fn a_write_that_expires_at_once_evicts_nothing() -> Result<()> {
    let clock = Clock::manual();
    let (cache, backend) = locmem(3, 1, &clock);
    for key in ["a", "b", "c"] {
        cache.set(key, "live").await?;
    }
    cache.set("d", "gone").timeout(Timeout::secs(0)).await?;
    assert!(cache.add("e", "gone").timeout(Timeout::Seconds(-1.0)).await?);
    assert_eq!(
        cache.set_many([("f", 1), ("g", 2)]).timeout(Timeout::secs(0)).await?,
        Vec::<String>::new()
    );
    assert_eq!(
        cache.get_or_set("h", || async { 8 }).timeout(Timeout::secs(0)).await?,
        8
    );
    assert_eq!(backend.len(), 3);
    for key in ["a", "b", "c"] {
        assert!(cache.has_key(key).await?, "{key} survived");
    }
    for key in ["d", "e", "f", "g", "h"] {
        assert!(!cache.has_key(key).await?, "{key} was never stored");
    }
    Ok(())
}

/// With `cull_frequency = 0` Django empties the store; dropping the expired entry is enough here.
#[tokio::test]
async fn zero_cull_frequency_clears_only_when_nothing_has_expired() -> Result<()> {
    let clock = Clock::manual();
    let (cache, backend) = locmem(3, 0, &clock);
    cache.set("a", "expiring").timeout(Timeout::secs(10)).await?;
    cache.set("b", "live").timeout(Timeout::Never).await?;
    cache.set("c", "live").timeout(Timeout::Never).await?;
    clock.advance(Duration::from_secs(10));
    cache.set("d", "new").await?;
    assert_eq!(backend.len(), 3);
    assert!(cache.has_key("b").await? && cache.has_key("c").await?);
    // Full of live entries: Django's wipe.
    cache.set("e", "new").await?;
    assert_eq!(backend.len(), 1);
    assert!(cache.has_key("e").await?);
    Ok(())
}

/// When dropping the expired entries leaves the store still full, Django's arithmetic applies to
/// what is left: `len / cull_frequency` least recently used live entries.
#[tokio::test]
async fn live_entries_are_culled_by_djangos_arithmetic_after_the_expired_ones() -> Result<()> {
    let clock = Clock::manual();
    let (cache, backend) = locmem(6, 3, &clock);
    for key in ["l1", "l2", "l3", "l4", "l5", "l6"] {
        cache.set(key, "live").timeout(Timeout::Never).await?;
    }
    // Nothing has expired: 6 / 3 = 2 culled (l1, l2), then the insert.
    cache.set("l7", "live").await?;
    assert_eq!(backend.len(), 5);
    assert!(!cache.has_key("l1").await? && !cache.has_key("l2").await?);
    Ok(())
}

/// Django's locmem reports true for deleting an entry that has expired but not been removed yet.
#[tokio::test]
async fn deleting_an_expired_entry_reports_false_and_removes_it() -> Result<()> {
    let clock = Clock::manual();
    let (cache, backend) = locmem(300, 3, &clock);
    cache.set("k", "v").timeout(Timeout::secs(1)).await?;
    clock.advance(Duration::from_secs(1));
    assert_eq!(backend.len(), 1, "expired entries linger until something touches them");
    assert!(!cache.delete("k").await?);
    assert_eq!(backend.len(), 0);
    assert!(!cache.delete("k").await?);
    cache.set("live", "v").await?;
    assert!(cache.delete("live").await?);
    Ok(())
}

#[tokio::test]
async fn touch_reports_whether_a_live_entry_exists() -> Result<()> {
    let clock = Clock::manual();
    let (cache, backend) = locmem(300, 3, &clock);
    cache.set("k", "v").timeout(Timeout::secs(1)).await?;
    clock.advance(Duration::from_secs(1));
    assert!(!cache.touch("k").timeout(Timeout::secs(100)).await?);
    assert!(!cache.has_key("k").await?, "an expired entry is not revived");
    assert_eq!(backend.len(), 0);
    assert!(!cache.touch("missing").await?);
    cache.set("n", "v").timeout(Timeout::secs(1)).await?;
    assert!(cache.touch("n").timeout(Timeout::Never).await?);
    clock.advance(Duration::from_secs(1_000_000));
    assert!(cache.has_key("n").await?);
    Ok(())
}

#[tokio::test]
async fn expired_entries_are_removed_by_get_has_key_and_incr() -> Result<()> {
    let clock = Clock::manual();
    let (cache, backend) = locmem(300, 3, &clock);
    for key in ["g", "h", "i", "t"] {
        cache.set(key, &1).timeout(Timeout::secs(5)).await?;
    }
    clock.advance(Duration::from_secs(5));
    assert_eq!(cache.get::<i64>("g").await?, None);
    assert_eq!(backend.len(), 3);
    assert!(!cache.has_key("h").await?);
    assert_eq!(backend.len(), 2);
    assert!(matches!(cache.incr("i", 1).await, Err(CacheError::KeyNotFound { .. })));
    assert_eq!(backend.len(), 1);
    // touch leaves it, as Django's does.
    assert!(!cache.touch("t").await?);
    assert_eq!(backend.len(), 1);
    Ok(())
}

#[tokio::test]
async fn add_stores_over_an_expired_entry() -> Result<()> {
    let clock = Clock::manual();
    let (cache, _) = locmem(300, 3, &clock);
    cache.set("k", "old").timeout(Timeout::secs(1)).await?;
    assert!(!cache.add("k", "new").await?);
    clock.advance(Duration::from_secs(1));
    assert!(cache.add("k", "new").await?);
    assert_eq!(cache.get::<String>("k").await?.as_deref(), Some("new"));
    Ok(())
}

#[tokio::test]
async fn incr_reads_and_writes_ascii_decimal() -> Result<()> {
    let (cache, _) = locmem(300, 3, &Clock::manual());
    cache.set("a", &1).await?;
    assert_eq!(cache.incr("a", 1).await?, 2);
    assert_eq!(cache.incr("a", 10).await?, 12);
    assert_eq!(cache.incr("a", -20).await?, -8);
    assert_eq!(cache.decr("a", 5).await?, -13);
    assert_eq!(cache.get_raw("a").await?.as_deref(), Some(&b"-13"[..]));
    // memcached pads a shortened number with spaces; such bytes still count.
    cache.set_raw("padded", &b"12  "[..]).await?;
    assert_eq!(cache.incr("padded", 1).await?, 13);
    assert_eq!(cache.get_raw("padded").await?.as_deref(), Some(&b"13"[..]));
    Ok(())
}

#[tokio::test]
async fn incr_of_anything_but_an_integer_is_refused_and_changes_nothing() -> Result<()> {
    let (cache, _) = locmem(300, 3, &Clock::manual());
    cache.set("float", &1.5).await?;
    cache.set("bool", &true).await?;
    cache.set("string", "12").await?;
    cache.set("null", &None::<i64>).await?;
    for key in ["float", "bool", "string", "null"] {
        let before = cache.get_raw(key).await?;
        let error = cache.incr(key, 1).await.unwrap_err();
        assert!(matches!(error, CacheError::NotAnInteger { .. }), "{key}: {error:?}");
        assert_eq!(
            error.to_string(),
            format!("cache alias `default`: the value stored at '{key}' is not an integer, so it can't be incremented")
        );
        assert_eq!(cache.get_raw(key).await?, before);
    }
    Ok(())
}

#[tokio::test]
async fn incr_of_a_missing_key_names_the_callers_key() -> Result<()> {
    let (cache, _) = locmem(300, 3, &Clock::manual());
    let error = cache.incr("missing", 1).await.unwrap_err();
    assert!(matches!(error, CacheError::KeyNotFound { .. }));
    assert_eq!(error.to_string(), "Key 'missing' not found");
    assert!(matches!(
        cache.decr("missing", 1).await,
        Err(CacheError::KeyNotFound { .. })
    ));
    Ok(())
}

#[tokio::test]
async fn incr_past_the_i64_range_is_an_error_not_a_wrap() -> Result<()> {
    let (cache, _) = locmem(300, 3, &Clock::manual());
    cache.set("max", &i64::MAX).await?;
    let error = cache.incr("max", 1).await.unwrap_err();
    assert!(matches!(error, CacheError::Overflow { delta: 1, .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "cache alias `default`: incrementing 'max' by 1 overflows a signed 64-bit integer"
    );
    assert_eq!(cache.get::<i64>("max").await?, Some(i64::MAX));
    cache.set("min", &i64::MIN).await?;
    assert!(matches!(cache.decr("min", 1).await, Err(CacheError::Overflow { .. })));
    // A stored integer that no i64 holds can't be incremented either.
    cache.set_raw("huge", &b"1180591620717411303424"[..]).await?;
    assert!(matches!(cache.incr("huge", 1).await, Err(CacheError::Overflow { .. })));
    Ok(())
}

#[tokio::test]
async fn batches_clear_and_the_synchronous_get() -> Result<()> {
    let (cache, backend) = locmem(300, 3, &Clock::manual());
    assert!(cache.set_many([("a", 1), ("b", 2), ("c", 3)]).await?.is_empty());
    let found = cache.get_many::<_, i64>(&["a", "b", "missing"]).await?;
    assert_eq!(found.len(), 2);
    cache.delete_many(&["a", "b"]).await?;
    assert!(!cache.has_key("a").await? && cache.has_key("c").await?);

    assert_eq!(backend.capabilities(), Capabilities::lenient());
    assert!(matches!(backend.get_now(":1:c"), Some(Ok(Some(_)))));
    assert!(matches!(backend.get_now(":1:missing"), Some(Ok(None))));

    cache.clear().await?;
    assert!(backend.is_empty());
    assert!(matches!(backend.get_now(":1:c"), Some(Ok(None))));
    Ok(())
}

/// The backend itself, below the façade: the expiry it is given is the one it keeps.
#[tokio::test]
async fn backend_level_expiry() -> Result<(), cache_core::BackendError> {
    let clock = Clock::manual();
    let backend = LocMemBackend::builder().clock(clock.clone()).build();
    backend
        .set("k", "v".into(), Expiry::After(Duration::from_secs(2)))
        .await?;
    assert!(
        backend
            .add("k", "w".into(), Expiry::Never)
            .await
            .map(|stored| !stored)?
    );
    clock.advance(Duration::from_secs(2));
    assert_eq!(backend.get("k").await?, None);
    assert!(backend.add("k", "w".into(), Expiry::Never).await?);
    clock.advance(Duration::from_secs(1 << 40));
    assert_eq!(backend.get("k").await?.as_deref(), Some(&b"w"[..]));
    Ok(())
}
