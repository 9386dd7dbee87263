//! Django's own LocMemCache results (its culling, `BaseCacheTests.test_cull`/`test_zero_cull` and
//! `LocMemCacheTests`), with the exact counts its test suite asserts, driven through the `Cache` façade with a manual clock.

use std::sync::Arc;
use std::time::Duration;

use cache_core::{Cache, CacheOptions, Clock, Result, Timeout};
use cache_locmem::LocMemBackend;

fn locmem(max_entries: u64, cull_frequency: u64, clock: &Clock) -> Cache {
    let backend = LocMemBackend::builder()
        .max_entries(max_entries)
        .cull_frequency(cull_frequency)
        .clock(clock.clone())
        .build();
    Cache::new("default", Arc::new(backend), CacheOptions::default())
}

async fn present(cache: &Cache, keys: impl IntoIterator<Item = String>) -> Result<usize> {
    let mut count = 0;
    for key in keys {
        count += usize::from(cache.has_key(&key).await?);
    }
    Ok(count)
}

async fn set_cull_keys(cache: &Cache) -> Result<()> {
    for i in 1..50 {
        cache
            .set(&format!("cull{i}"), "value")
            .timeout(Timeout::secs(1000))
            .await?;
    }
    Ok(())
}

fn cull_keys() -> impl Iterator<Item = String> {
    (1..50).map(|i| format!("cull{i}"))
}

#[tokio::test]
async fn test_cull() -> Result<()> {
    let cache = locmem(30, 3, &Clock::manual());
    set_cull_keys(&cache).await?;
    assert_eq!(present(&cache, cull_keys()).await?, 29);
    Ok(())
}

#[tokio::test]
async fn test_zero_cull() -> Result<()> {
    let cache = locmem(30, 0, &Clock::manual());
    set_cull_keys(&cache).await?;
    assert_eq!(present(&cache, cull_keys()).await?, 19);
    Ok(())
}

/// Django sets `_max_entries = -1`; the nearest limit here is 0: an empty store culls `0 / 3 = 0`
/// entries and the insert goes ahead.
#[tokio::test]
async fn test_cull_delete_when_store_empty() -> Result<()> {
    let cache = locmem(0, 3, &Clock::manual());
    cache
        .set("force_cull_delete", "value")
        .timeout(Timeout::secs(1000))
        .await?;
    assert!(cache.has_key("force_cull_delete").await?);
    Ok(())
}

/// Observed in Django: with `MAX_ENTRIES = 0` every set culls `len / 3`, so the store settles at 3.
#[tokio::test]
async fn max_entries_zero_settles_at_three_entries() -> Result<()> {
    let clock = Clock::manual();
    let backend = Arc::new(
        LocMemBackend::builder()
            .max_entries(0)
            .cull_frequency(3)
            .clock(clock)
            .build(),
    );
    let cache = Cache::new("default", backend.clone(), CacheOptions::default());
    for i in 0..20 {
        cache.set(&format!("k{i}"), &i).await?;
    }
    assert_eq!(backend.len(), 3);
    assert_eq!(present(&cache, (0..20).map(|i| format!("k{i}"))).await?, 3);
    Ok(())
}

/// Observed in Django: `CULL_FREQUENCY = 1` empties the store at every 11th insert into a store of 10.
#[tokio::test]
async fn cull_frequency_one_removes_everything_when_full() -> Result<()> {
    let cache = locmem(10, 1, &Clock::manual());
    for i in 0..25 {
        cache.set(&format!("k{i}"), &i).await?;
    }
    assert_eq!(present(&cache, (0..25).map(|i| format!("k{i}"))).await?, 5);
    for i in 20..25 {
        assert_eq!(cache.get::<i64>(&format!("k{i}")).await?, Some(i));
    }
    Ok(())
}

/// Django's arithmetic with `CULL_FREQUENCY` above `MAX_ENTRIES`: `len / cull_frequency` is 0
/// until the store holds `cull_frequency` entries, so it settles there.
#[tokio::test]
async fn cull_frequency_above_max_entries_lets_the_store_grow_to_it() -> Result<()> {
    let backend = Arc::new(
        LocMemBackend::builder()
            .max_entries(2)
            .cull_frequency(5)
            .clock(Clock::manual())
            .build(),
    );
    let cache = Cache::new("default", backend.clone(), CacheOptions::default());
    for i in 0..20 {
        cache.set(&format!("k{i}"), &i).await?;
    }
    assert_eq!(backend.len(), 5);
    Ok(())
}

#[tokio::test]
async fn test_lru_get() -> Result<()> {
    let cache = locmem(9, 3, &Clock::manual());
    for key in 0..9 {
        cache.set(&key.to_string(), &key).timeout(Timeout::Never).await?;
    }
    for key in 0..6 {
        assert_eq!(cache.get::<i64>(&key.to_string()).await?, Some(key));
    }
    cache.set("9", &9).timeout(Timeout::Never).await?;
    for key in (0..6).chain([9]) {
        assert_eq!(cache.get::<i64>(&key.to_string()).await?, Some(key), "{key}");
    }
    for key in 6..9 {
        assert_eq!(cache.get::<i64>(&key.to_string()).await?, None, "{key}");
    }
    Ok(())
}

#[tokio::test]
async fn test_lru_set() -> Result<()> {
    let cache = locmem(9, 3, &Clock::manual());
    for key in 0..9 {
        cache.set(&key.to_string(), &key).timeout(Timeout::Never).await?;
    }
    // The first of these re-sets finds the store full and culls 0, 1 and 2; the rest don't cull.
    for key in 3..9 {
        cache.set(&key.to_string(), &key).timeout(Timeout::Never).await?;
    }
    cache.set("9", &9).timeout(Timeout::Never).await?;
    for key in 3..10 {
        assert_eq!(cache.get::<i64>(&key.to_string()).await?, Some(key), "{key}");
    }
    for key in 0..3 {
        assert_eq!(cache.get::<i64>(&key.to_string()).await?, None, "{key}");
    }
    Ok(())
}

#[tokio::test]
async fn test_lru_incr() -> Result<()> {
    let cache = locmem(9, 3, &Clock::manual());
    for key in 0..9 {
        cache.set(&key.to_string(), &key).timeout(Timeout::Never).await?;
    }
    for key in 0..6 {
        assert_eq!(cache.incr(&key.to_string(), 1).await?, key + 1);
    }
    cache.set("9", &9).timeout(Timeout::Never).await?;
    for key in 0..6 {
        assert_eq!(cache.get::<i64>(&key.to_string()).await?, Some(key + 1), "{key}");
    }
    for key in 6..9 {
        assert_eq!(cache.get::<i64>(&key.to_string()).await?, None, "{key}");
    }
    assert_eq!(cache.get::<i64>("9").await?, Some(9));
    Ok(())
}

/// Django's locmem culling: with room for 5, `get` refreshes recency; `touch`, `has_key` and a refused
/// `add` do not; the set that finds the store full culls `5 / 3 = 1` entry, the least recently used.
#[tokio::test]
async fn lru_order_of_the_max_5_example() -> Result<()> {
    let cache = locmem(5, 3, &Clock::manual());
    for key in 0..5 {
        cache.set(&key.to_string(), &key).await?;
    }
    // Order, most recent first: 4 3 2 1 0.
    assert_eq!(cache.get::<i64>("0").await?, Some(0)); // 0 4 3 2 1
    assert!(cache.touch("1").await?);
    assert!(cache.has_key("2").await?);
    assert!(!cache.add("0", &100).await?);
    cache.set("3", &33).await?; // culls 1: 3 0 4 2
    assert!(!cache.has_key("1").await?);
    for (key, value) in [("3", 33), ("0", 0), ("4", 4), ("2", 2)] {
        assert_eq!(cache.get::<i64>(key).await?, Some(value), "{key}");
    }
    Ok(())
}

/// Django's `test_incr_decr_timeout`: incr and decr keep the entry's expiry.
#[tokio::test]
async fn test_incr_decr_timeout() -> Result<()> {
    let clock = Clock::manual();
    let cache = locmem(300, 3, &clock);
    cache.set("key", &1).timeout(Timeout::secs(3000)).await?;
    clock.advance(Duration::from_secs(1000));
    assert_eq!(cache.incr("key", 1).await?, 2);
    assert_eq!(cache.decr("key", 1).await?, 1);
    // Not reset to the alias default (300 s), nor restarted at the incr.
    clock.advance(Duration::from_secs(1999));
    assert_eq!(cache.get::<i64>("key").await?, Some(1));
    clock.advance(Duration::from_secs(1));
    assert_eq!(cache.get::<i64>("key").await?, None);
    Ok(())
}

/// Django's `test_expiration`, with the clock moved instead of a sleep.
#[tokio::test]
async fn test_expiration() -> Result<()> {
    let clock = Clock::manual();
    let cache = locmem(300, 3, &clock);
    for key in ["expire1", "expire2", "expire3"] {
        cache.set(key, "good").timeout(Timeout::secs(1)).await?;
    }
    clock.advance(Duration::from_secs(2));
    assert_eq!(cache.get::<String>("expire1").await?, None);
    assert!(cache.add("expire2", "newvalue").await?);
    assert_eq!(cache.get::<String>("expire2").await?.as_deref(), Some("newvalue"));
    assert!(!cache.has_key("expire3").await?);
    Ok(())
}

/// Django's `test_touch`, with the clock moved instead of sleeps.
#[tokio::test]
async fn test_touch() -> Result<()> {
    let clock = Clock::manual();
    let cache = locmem(300, 3, &clock);
    cache.set("expire1", "value").timeout(Timeout::secs(1)).await?;
    assert!(cache.touch("expire1").timeout(Timeout::secs(4)).await?);
    clock.advance(Duration::from_secs(2));
    assert!(cache.has_key("expire1").await?);
    clock.advance(Duration::from_secs(3));
    assert!(!cache.has_key("expire1").await?);

    cache.set("expire2", "value").timeout(Timeout::secs(1)).await?;
    assert!(cache.touch("expire2").await?);
    clock.advance(Duration::from_secs(2));
    assert!(cache.has_key("expire2").await?);

    assert!(!cache.touch("nonexistent").await?);
    Ok(())
}

/// Fractions of a second are kept and expiry is inclusive (Django's `exp <= now`).
#[tokio::test]
async fn expiry_is_exact_to_the_instant() -> Result<()> {
    let clock = Clock::manual();
    let cache = locmem(300, 3, &clock);
    cache.set("k", "v").timeout(Timeout::Seconds(1.5)).await?;
    clock.advance(Duration::from_millis(1499));
    assert!(cache.has_key("k").await?);
    clock.advance(Duration::from_millis(1));
    assert!(!cache.has_key("k").await?);
    Ok(())
}
