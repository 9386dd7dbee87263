//! Two tiers in one process, without a backplane: reads fill the near tier, writes go far then
//! near, and a near copy never outlives `near_timeout` nor the lifetime it was written with.

use std::time::Duration;

use cache_core::{Backends, Cache, Caches, CachesConfig, Clock, ConfigFormat, Timeout};
use cache_tiered::TieredCache;

/// The tiered `default` alias and its far alias `shared` (locmem at `location`), both on `clock`.
fn caches(location: &str, clock: &Clock, options: &str) -> (TieredCache, Cache) {
    let mut backends = Backends::new();
    backends.register(cache_locmem::registration_with_clock(clock.clone()));
    backends.register(cache_tiered::registration_with_clock(clock.clone()));
    let toml = format!(
        "[caches.default]\nbackend = \"tiered\"\noptions = {{ far = \"shared\", {options} }}\n\
         [caches.shared]\nbackend = \"locmem\"\nlocation = \"{location}\"\n"
    );
    let config = CachesConfig::from_str(&toml, ConfigFormat::Toml).unwrap();
    let caches = Caches::build(&config, &backends).unwrap();
    (
        TieredCache::new(caches.default_cache()).unwrap(),
        caches.get("shared").unwrap(),
    )
}

#[tokio::test]
async fn a_read_fills_the_near_tier_and_the_next_one_stays_there() {
    let clock = Clock::manual();
    let (tiered, far) = caches("tiers-fill", &clock, "near_timeout = 10");
    far.set("k", "far value").await.unwrap();
    let cache = tiered.cache();
    assert_eq!(cache.get::<String>("k").await.unwrap().as_deref(), Some("far value"));
    assert_eq!(tiered.backend().stats().far_reads, 1);
    for _ in 0..10 {
        assert_eq!(cache.get::<String>("k").await.unwrap().as_deref(), Some("far value"));
    }
    assert_eq!(tiered.backend().stats().far_reads, 1, "hits are served near");
    // A miss is not kept: the next read asks the far tier again.
    assert_eq!(cache.get::<String>("missing").await.unwrap(), None);
    assert_eq!(cache.get::<String>("missing").await.unwrap(), None);
    assert_eq!(tiered.backend().stats().far_reads, 3);
}

#[tokio::test]
async fn a_write_goes_to_the_far_tier_then_the_near_one() {
    let clock = Clock::manual();
    let (tiered, far) = caches("tiers-write", &clock, "near_timeout = 10");
    let cache = tiered.cache();
    cache.set("k", 1).await.unwrap();
    assert_eq!(
        far.get::<i64>("k").await.unwrap(),
        Some(1),
        "the far tier holds the write"
    );
    assert_eq!(cache.get::<i64>("k").await.unwrap(), Some(1));
    assert_eq!(tiered.backend().stats().far_reads, 0, "the write filled the near tier");
    assert_eq!(cache.incr("k", 5).await.unwrap(), 6);
    assert_eq!(
        cache.get::<i64>("k").await.unwrap(),
        Some(6),
        "incr evicts the near copy"
    );
    assert!(cache.add("fresh", "a").await.unwrap());
    assert!(!cache.add("fresh", "b").await.unwrap());
    assert_eq!(cache.get::<String>("fresh").await.unwrap().as_deref(), Some("a"));
    assert!(cache.delete("k").await.unwrap());
    assert_eq!(cache.get::<i64>("k").await.unwrap(), None);
    assert_eq!(far.get::<i64>("k").await.unwrap(), None);
    cache.set_many([("a", 1), ("b", 2)]).await.unwrap();
    assert_eq!(
        cache.get_many::<_, i64>(&["a", "b", "c"]).await.unwrap().len(),
        2,
        "both read back, from the near tier"
    );
    cache.clear().await.unwrap();
    assert_eq!(cache.get::<i64>("a").await.unwrap(), None);
    assert_eq!(far.get::<i64>("a").await.unwrap(), None);
}

#[tokio::test]
async fn a_near_copy_never_outlives_near_timeout() {
    let clock = Clock::manual();
    let (tiered, far) = caches("tiers-near-timeout", &clock, "near_timeout = 5");
    let cache = tiered.cache();
    cache.set("k", "old").timeout(Timeout::Never).await.unwrap();
    // Changed behind the near tier's back (another process, without a backplane).
    far.set("k", "new").timeout(Timeout::Never).await.unwrap();
    clock.advance(Duration::from_secs(4));
    assert_eq!(cache.get::<String>("k").await.unwrap().as_deref(), Some("old"));
    clock.advance(Duration::from_secs(2));
    assert_eq!(cache.get::<String>("k").await.unwrap().as_deref(), Some("new"));
}

#[tokio::test]
async fn a_near_copy_never_outlives_the_lifetime_it_was_written_with() {
    let clock = Clock::manual();
    let (tiered, far) = caches("tiers-far-lifetime", &clock, "near_timeout = 60");
    let cache = tiered.cache();
    cache.set("k", "short").timeout(Timeout::Seconds(2.0)).await.unwrap();
    far.set("k", "replacement").timeout(Timeout::Never).await.unwrap();
    clock.advance(Duration::from_secs(1));
    assert_eq!(cache.get::<String>("k").await.unwrap().as_deref(), Some("short"));
    clock.advance(Duration::from_millis(1500));
    assert_eq!(cache.get::<String>("k").await.unwrap().as_deref(), Some("replacement"));
}

#[tokio::test]
async fn a_near_copy_read_from_the_far_tier_is_bounded_by_near_timeout() {
    let clock = Clock::manual();
    let (tiered, far) = caches("tiers-read-lifetime", &clock, "near_timeout = 3");
    let cache = tiered.cache();
    far.set("k", "first").timeout(Timeout::Seconds(1.0)).await.unwrap();
    assert_eq!(cache.get::<String>("k").await.unwrap().as_deref(), Some("first"));
    clock.advance(Duration::from_secs(4));
    assert_eq!(cache.get::<String>("k").await.unwrap(), None, "gone from both tiers");
}

/// Two tiered aliases over one far store, as a versioned alias and the default one are: when they
/// name the same channel, a write through one evicts the other's near copy inside the call, with no
/// backplane; on channels of their own the other's copy stays until `near_timeout`.
#[tokio::test]
async fn aliases_on_one_channel_evict_each_other_at_once() {
    for (shared_channel, expected) in [(true, "second"), (false, "first")] {
        let clock = Clock::manual();
        let mut backends = Backends::new();
        backends.register(cache_locmem::registration_with_clock(clock.clone()));
        backends.register(cache_tiered::registration_with_clock(clock.clone()));
        let location = format!("tiers-channel-{shared_channel}");
        let channel = |alias: &str| {
            if shared_channel {
                "backplane_channel = \"tiers-shared\"".to_owned()
            } else {
                format!("backplane_channel = \"tiers-{alias}\"")
            }
        };
        let toml = format!(
            "[caches.default]\nbackend = \"tiered\"\noptions = {{ far = \"far\", near_timeout = 60, {} }}\n\
             [caches.two]\nbackend = \"tiered\"\noptions = {{ far = \"far\", near_timeout = 60, {} }}\n\
             [caches.far]\nbackend = \"locmem\"\nlocation = \"{location}\"\n",
            channel("default"),
            channel("two"),
        );
        let caches = Caches::build(&CachesConfig::from_str(&toml, ConfigFormat::Toml).unwrap(), &backends).unwrap();
        let (one, two) = (caches.default_cache(), caches.get("two").unwrap());
        one.set("k", "first").await.unwrap();
        assert_eq!(two.get::<String>("k").await.unwrap().as_deref(), Some("first"));
        one.set("k", "second").await.unwrap();
        assert_eq!(
            two.get::<String>("k").await.unwrap().as_deref(),
            Some(expected),
            "shared channel: {shared_channel}"
        );
        one.delete("k").await.unwrap();
        let after_delete = if shared_channel { None } else { Some("first") };
        assert_eq!(two.get::<String>("k").await.unwrap().as_deref(), after_delete);
        one.clear().await.unwrap();
    }
}

/// A far store that applies each write, then (when told to) answers it with a garbled reply: what
/// a real server won't do on purpose.
#[derive(Debug, Default)]
struct Garbling {
    entries: std::sync::Mutex<std::collections::HashMap<String, cache_core::Bytes>>,
    garble: std::sync::atomic::AtomicBool,
}

#[cache_core::async_trait]
impl cache_core::CacheBackend for Garbling {
    fn capabilities(&self) -> cache_core::Capabilities {
        cache_core::Capabilities::lenient()
    }
    async fn get(&self, key: &str) -> cache_core::BackendResult<Option<cache_core::Bytes>> {
        Ok(self.entries.lock().unwrap().get(key).cloned())
    }
    async fn set(&self, key: &str, value: cache_core::Bytes, _: cache_core::Expiry) -> cache_core::BackendResult<()> {
        self.entries.lock().unwrap().insert(key.to_owned(), value);
        self.reply(())
    }
    async fn add(
        &self,
        key: &str,
        value: cache_core::Bytes,
        expiry: cache_core::Expiry,
    ) -> cache_core::BackendResult<bool> {
        self.set(key, value, expiry).await.map(|()| true)
    }
    async fn touch(&self, key: &str, _: cache_core::Expiry) -> cache_core::BackendResult<bool> {
        Ok(self.entries.lock().unwrap().contains_key(key))
    }
    async fn delete(&self, key: &str) -> cache_core::BackendResult<bool> {
        let removed = self.entries.lock().unwrap().remove(key).is_some();
        self.reply(removed)
    }
    async fn incr(&self, _: &str, _: i64) -> cache_core::BackendResult<i64> {
        Err(cache_core::BackendError::key_not_found())
    }
    async fn clear(&self) -> cache_core::BackendResult<()> {
        self.entries.lock().unwrap().clear();
        self.reply(())
    }
}

impl Garbling {
    /// `applied`, or a garbled reply when told to garble.
    fn reply<T>(&self, applied: T) -> cache_core::BackendResult<T> {
        if self.garble.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(cache_core::BackendError::protocol("a reply that isn't RESP"));
        }
        Ok(applied)
    }
}

/// A write answered with a garbled reply may have landed (the server had the command): the other
/// aliases on the channel are told, as after a timeout, instead of serving their old copy for
/// `near_timeout`. So are batch writes and `clear()` (the default `set_many` and `delete_many`
/// call `set` and `delete`, whose replies are garbled).
#[tokio::test]
async fn a_write_answered_with_a_garbled_reply_is_still_published() {
    let far = std::sync::Arc::new(Garbling::default());
    let alias = |name: &str| {
        let backend = cache_tiered::TieredBackend::builder(far.clone())
            .alias(name)
            .backplane_channel("tiers-garbled")
            .near_timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        Cache::new(name, std::sync::Arc::new(backend), cache_core::CacheOptions::default())
    };
    let (one, two) = (alias("one"), alias("two"));
    one.set("k", "first").await.unwrap();
    assert_eq!(two.get::<String>("k").await.unwrap().as_deref(), Some("first"));
    far.garble.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(one.set("k", "second").await.is_err());
    assert_eq!(
        two.get::<String>("k").await.unwrap().as_deref(),
        Some("second"),
        "the other alias read the far store again"
    );
    assert!(one.set_many([("k", "third")]).await.is_err());
    assert_eq!(
        two.get::<String>("k").await.unwrap().as_deref(),
        Some("third"),
        "set_many"
    );
    assert!(one.delete_many(&["k"]).await.is_err());
    assert_eq!(two.get::<String>("k").await.unwrap(), None, "delete_many");
    far.garble.store(false, std::sync::atomic::Ordering::SeqCst);
    one.set("k", "fourth").await.unwrap();
    assert_eq!(two.get::<String>("k").await.unwrap().as_deref(), Some("fourth"));
    far.garble.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(one.clear().await.is_err());
    assert_eq!(two.get::<String>("k").await.unwrap(), None, "clear");
}
