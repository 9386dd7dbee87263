//! The requirement: a backend written outside `cache-core`, against its public API only,
//! registered under its own name, built through `Caches::build` and passing the whole suite, each
//! behaviour a test of its own (`harness = false`: the testkit's [`Harness`] is `main`).

// The backend lives in the example so that there is one copy of it; its `main` is unused here.
#[allow(dead_code)]
#[path = "../examples/custom_backend.rs"]
mod custom_backend;

use std::process::ExitCode;
use std::sync::Arc;

use cache_core::testkit::{Harness, Subject, Time};
use cache_core::{
    BackendRegistration, BackendResult, Backends, Bytes, CacheBackend, CacheError, Caches, Capabilities, Clock, Expiry,
    Location, Options, async_trait,
};

fn backends(clock: &Clock) -> Backends {
    let mut backends = Backends::new();
    backends.register(custom_backend::registration(clock.clone()));
    backends
}

/// The usual way for an in-process backend: a manual clock, so expiry costs no time.
fn with_a_manual_clock() -> Subject {
    let clock = Clock::manual();
    Subject::build(
        backends(&clock),
        "hashmap",
        Location::One("manual-clock".to_owned()),
        Options::default(),
        Time::Manual(clock),
    )
    .expect("the subject's aliases build")
}

/// The same backend on the system clock: the expiration tests really sleep, overlapping.
fn in_real_time() -> Subject {
    let clock = Clock::system();
    Subject::build(
        backends(&clock),
        "hashmap",
        Location::One("real-time".to_owned()),
        Options::default(),
        Time::Real,
    )
    .expect("the subject's aliases build")
}

/// The backend is chosen by the name it registered in a config file (examples/hashmap.toml),
/// aliases with one `location` share a store, and a misspelt backend name lists the registered ones.
async fn hashmap_backend_builds_from_a_caches_config_file() {
    let clock = Clock::manual();
    let mut config = custom_backend::example_config().expect("examples/hashmap.toml loads");
    assert_eq!(config.aliases["default"].backend, "hashmap");
    let caches = Caches::build(&config, &backends(&clock)).unwrap();

    let default = caches.get("default").unwrap();
    let other = caches.get("sessions").unwrap();
    default.set("k", &1).await.unwrap();
    assert_eq!(default.get::<i64>("k").await.unwrap(), Some(1));
    assert_eq!(
        other.get::<i64>("k").await.unwrap(),
        None,
        "prefixes keep aliases apart"
    );
    other.clear().await.unwrap();
    assert_eq!(
        default.get::<i64>("k").await.unwrap(),
        None,
        "one location is one store, so clearing either alias clears both"
    );

    config.aliases.get_mut("default").unwrap().backend = "hashmapp".to_owned();
    match Caches::build(&config, &backends(&clock)) {
        Err(CacheError::UnknownBackend { backend, known, .. }) => {
            assert_eq!(backend, "hashmapp");
            assert!(known.contains(&"hashmap".to_owned()), "{known:?}");
        }
        other => panic!("expected UnknownBackend, got {other:?}"),
    }
}

/// The hashmap store behind memcached's rules — strict keys, a value size limit, decrements that
/// stop at zero — so the strict-key, size-limit and floor branches of the suite run too. The
/// façade enforces the first two from the capabilities alone; the floor is this wrapper's.
#[derive(Debug)]
struct MemcachedRules(Arc<dyn CacheBackend>);

/// memcached's default item size limit.
const ONE_MEGABYTE: usize = 1024 * 1024;

#[async_trait]
impl CacheBackend for MemcachedRules {
    fn capabilities(&self) -> Capabilities {
        Capabilities::lenient()
            .with_strict_keys()
            .with_max_value_bytes(ONE_MEGABYTE)
            .with_decr_floor_at_zero()
    }
    async fn get(&self, key: &str) -> BackendResult<Option<Bytes>> {
        self.0.get(key).await
    }
    async fn set(&self, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<()> {
        self.0.set(key, value, expiry).await
    }
    async fn add(&self, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<bool> {
        self.0.add(key, value, expiry).await
    }
    async fn touch(&self, key: &str, expiry: Expiry) -> BackendResult<bool> {
        self.0.touch(key, expiry).await
    }
    async fn delete(&self, key: &str) -> BackendResult<bool> {
        self.0.delete(key).await
    }
    async fn incr(&self, key: &str, delta: i64) -> BackendResult<i64> {
        let value = self.0.incr(key, delta).await?;
        if value < 0 && delta < 0 {
            // Undo the part below zero; a second incr keeps the entry's expiry, as memcached's decr does.
            return self.0.incr(key, -value).await;
        }
        Ok(value)
    }
    async fn clear(&self) -> BackendResult<()> {
        self.0.clear().await
    }
}

/// The hashmap store behind [`MemcachedRules`], on a manual clock.
fn with_memcached_rules() -> Subject {
    let clock = Clock::manual();
    let inner = custom_backend::HashMapBackend::new(clock.clone());
    let store: Arc<dyn CacheBackend> = Arc::new(MemcachedRules(Arc::new(inner)));
    let mut backends = Backends::new();
    backends.register(BackendRegistration::new(&["memcached-rules"], move |_| {
        Ok(Arc::clone(&store))
    }));
    Subject::build(
        backends,
        "memcached-rules",
        Location::Unset,
        Options::default(),
        Time::Manual(clock),
    )
    .expect("the subject's aliases build")
}

fn main() -> ExitCode {
    let mut harness = Harness::new();
    harness
        .conformance("hashmap_manual_clock", &with_a_manual_clock())
        .conformance("hashmap_real_time", &in_real_time())
        .conformance("hashmap_memcached_rules", &with_memcached_rules())
        .check(
            "hashmap_backend_builds_from_a_caches_config_file",
            hashmap_backend_builds_from_a_caches_config_file,
        );
    harness.run().exit_code()
}
