//! `LocMemBackend::builder`: a private store built in code.

use std::sync::Arc;
use std::time::Duration;

use cache_core::{Cache, CacheBackend, CacheOptions, Clock, Expiry, Result, Timeout};
use cache_locmem::{LocMemBackend, LocMemOptions};

#[test]
fn defaults_are_djangos() {
    let backend = LocMemBackend::builder().build();
    assert_eq!(backend.options(), LocMemOptions::default());
    assert_eq!(
        (backend.options().max_entries, backend.options().cull_frequency),
        (300, 3)
    );
    assert_eq!(backend.location(), None, "a private store has no location");
}

#[tokio::test]
async fn options_and_clock_are_the_stores() -> Result<()> {
    let clock = Clock::manual();
    let backend = LocMemBackend::builder()
        .max_entries(2)
        .cull_frequency(0)
        .clock(clock.clone())
        .build();
    let cache = Cache::new("default", Arc::new(backend.clone()), CacheOptions::default());
    cache.set("a", &1).timeout(Timeout::secs(10)).await?;
    cache.set("b", &2).await?;
    // Full: a cull frequency of 0 empties the store before the third set.
    cache.set("c", &3).await?;
    assert_eq!(backend.len(), 1);
    cache.set("d", &4).timeout(Timeout::secs(10)).await?;
    clock.advance(Duration::from_secs(11));
    assert_eq!(cache.get::<i64>("d").await?, None, "expired on the manual clock");
    Ok(())
}

#[tokio::test]
async fn each_build_is_a_store_of_its_own() -> Result<(), cache_core::BackendError> {
    let builder = LocMemBackend::builder().max_entries(10);
    let (one, two) = (builder.clone().build(), builder.build());
    one.set("k", "v".into(), Expiry::Never).await?;
    assert_eq!(two.get("k").await?, None);
    assert_eq!(
        one.clone().get("k").await?.as_deref(),
        Some(&b"v"[..]),
        "clones share theirs"
    );
    Ok(())
}
