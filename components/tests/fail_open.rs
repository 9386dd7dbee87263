//! Fail-open: a cache backend that errors costs a warning, a counted error and an uncached
//! render — never the page. The backend here fails on demand; `redis.rs` does the same with a
//! real server stopped.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use cache_components::{ComponentsConfig, Registry, Renderer};
use cache_core::testkit::capture_warnings;
use cache_core::{
    BackendError, BackendRegistration, Backends, Bytes, CacheBackend, Caches, Capabilities, Expiry, Unavailability,
    async_trait,
};
use common::*;
use parking_lot::Mutex;

/// A store whose reads and writes can be made to fail as a dead server's would (retryable).
#[derive(Debug, Default)]
struct Flaky {
    fail_reads: AtomicBool,
    fail_writes: AtomicBool,
    entries: Mutex<HashMap<String, Bytes>>,
}

impl Flaky {
    fn check(&self, flag: &AtomicBool) -> cache_core::BackendResult<()> {
        if flag.load(Ordering::SeqCst) {
            Err(BackendError::unavailable(Unavailability::Refused, "connection refused"))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl CacheBackend for Flaky {
    fn capabilities(&self) -> Capabilities {
        Capabilities::lenient()
    }
    async fn get(&self, key: &str) -> cache_core::BackendResult<Option<Bytes>> {
        self.check(&self.fail_reads)?;
        Ok(self.entries.lock().get(key).cloned())
    }
    async fn set(&self, key: &str, value: Bytes, _: Expiry) -> cache_core::BackendResult<()> {
        self.check(&self.fail_writes)?;
        self.entries.lock().insert(key.to_owned(), value);
        Ok(())
    }
    async fn add(&self, key: &str, value: Bytes, _: Expiry) -> cache_core::BackendResult<bool> {
        self.check(&self.fail_writes)?;
        Ok(self.entries.lock().try_insert_or_keep(key, value))
    }
    async fn touch(&self, key: &str, _: Expiry) -> cache_core::BackendResult<bool> {
        self.check(&self.fail_writes)?;
        Ok(self.entries.lock().contains_key(key))
    }
    async fn delete(&self, key: &str) -> cache_core::BackendResult<bool> {
        self.check(&self.fail_writes)?;
        Ok(self.entries.lock().remove(key).is_some())
    }
    async fn incr(&self, _key: &str, _: i64) -> cache_core::BackendResult<i64> {
        Err(BackendError::key_not_found())
    }
    async fn clear(&self) -> cache_core::BackendResult<()> {
        self.entries.lock().clear();
        Ok(())
    }
}

trait InsertOrKeep {
    fn try_insert_or_keep(&mut self, key: &str, value: Bytes) -> bool;
}

impl InsertOrKeep for HashMap<String, Bytes> {
    fn try_insert_or_keep(&mut self, key: &str, value: Bytes) -> bool {
        if self.contains_key(key) {
            return false;
        }
        self.insert(key.to_owned(), value);
        true
    }
}

fn flaky_renderer() -> (Renderer, Arc<Flaky>) {
    let flaky = Arc::new(Flaky::default());
    let backend = Arc::clone(&flaky);
    let mut backends = Backends::new();
    backends.register(BackendRegistration::new(&["flaky"], move |_| {
        Ok(Arc::clone(&backend) as Arc<dyn CacheBackend>)
    }));
    let config = cache_core::CachesConfig::from_str_with_env(
        "[caches.default]\nbackend = \"flaky\"\n",
        cache_core::ConfigFormat::Toml,
        Vec::<(String, String)>::new(),
    )
    .unwrap();
    let caches = Caches::build(&config, &backends).unwrap();
    let mut registry = Registry::new();
    registry
        .register(Greeting::cached())
        .unwrap()
        .register(Shell(
            r#"<main>{{ component("Greeting", name="a") }}{{ component("Greeting", name="b") }}</main>"#,
        ))
        .unwrap();
    (
        Renderer::new(registry, caches, ComponentsConfig::default()).unwrap(),
        flaky,
    )
}

#[tokio::test]
async fn a_cache_that_fails_to_read_costs_a_warning_and_a_counted_error_not_the_page() {
    let (renderer, flaky) = flaky_renderer();
    flaky.fail_reads.store(true, Ordering::SeqCst);
    flaky.fail_writes.store(true, Ordering::SeqCst);

    let (page, warnings) = capture_warnings(renderer.render::<Shell>(&Default::default()).into_future()).await;
    let page = page.expect("the page is served");
    assert!(
        page.html.contains("Hello a!") && page.html.contains("Hello b!"),
        "{}",
        page.html
    );
    assert_eq!(
        (page.stats.renders, page.stats.cache_errors, page.stats.stores),
        (3, 2, 0),
        "both greetings rendered uncached; no write is tried after a failed read"
    );
    // Two failures, one warning: the alias warns at most once per interval.
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("output cache failed to read"), "{warnings:?}");
    assert_eq!(renderer.caches().get("default").unwrap().metrics().errors(), 2);

    // The server is back: the next render caches again, the one after hits.
    flaky.fail_reads.store(false, Ordering::SeqCst);
    flaky.fail_writes.store(false, Ordering::SeqCst);
    let recovered = renderer.render::<Shell>(&Default::default()).await.unwrap();
    assert_eq!((recovered.stats.stores, recovered.stats.cache_errors), (2, 0));
    let hit = renderer.render::<Shell>(&Default::default()).await.unwrap();
    assert_eq!(hit.stats.hits, 2);
}

#[tokio::test]
async fn a_cache_that_fails_to_write_still_serves_the_render() {
    let (renderer, flaky) = flaky_renderer();
    flaky.fail_writes.store(true, Ordering::SeqCst);
    let (page, warnings) = capture_warnings(renderer.render::<Shell>(&Default::default()).into_future()).await;
    let page = page.unwrap();
    assert!(page.html.contains("Hello a!"));
    assert_eq!(
        (page.stats.misses, page.stats.cache_errors, page.stats.stores),
        (2, 2, 0)
    );
    assert!(warnings.iter().all(|w| w.contains("failed to write")), "{warnings:?}");
    let metrics = renderer.caches().get("default").unwrap().metrics();
    assert_eq!((metrics.misses(), metrics.errors()), (2, 2));
}
