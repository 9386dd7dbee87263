//! Building aliases from configuration: names, locations, options, and what the backend declares.

use cache_core::testkit::servers::MemcachedServer;
use cache_core::{Backends, Caches, CachesConfig, ConfigFormat};
use cache_memcached::{MemcachedBackend, NAMES};

fn backends() -> Backends {
    let mut backends = Backends::new();
    backends.register(cache_memcached::registration());
    backends
}

fn build(text: &str) -> cache_core::Result<Caches> {
    let config = CachesConfig::from_str_with_env(text, ConfigFormat::Toml, [] as [(&str, &str); 0])?;
    Caches::build(&config, &backends())
}

#[test]
fn every_name_is_registered() {
    let names = backends().names();
    for name in NAMES {
        assert!(names.contains(&name.to_owned()), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_django_caches_setting_loads_as_is() {
    let server = MemcachedServer::start().await.unwrap();
    // The second server doesn't exist: building doesn't connect.
    let json = format!(
        r#"{{"CACHES": {{"default": {{
            "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
            "LOCATION": "{};127.0.0.1:1",
            "TIMEOUT": 60,
            "OPTIONS": {{"no_delay": true, "connect_timeout": 0.5, "timeout": 0.5}}
        }}}}}}"#,
        server.location()
    );
    let config = CachesConfig::from_str_with_env(&json, ConfigFormat::Json, [] as [(&str, &str); 0]).unwrap();
    let caches = Caches::build(&config, &backends()).unwrap();
    let cache = caches.default_cache();
    let capabilities = cache.backend().capabilities();
    assert!(capabilities.strict_keys && capabilities.decr_floors_at_zero);
    assert_eq!(capabilities.max_value_bytes, Some(1024 * 1024 - 512));
    // Keys on the live server work; keys on the missing one fail, retryably.
    let (mut stored, mut refused) = (0, 0);
    for i in 0..40 {
        match cache.set(&format!("k{i}"), &i).await {
            Ok(()) => stored += 1,
            Err(error) => {
                assert!(error.is_retryable(), "{error}");
                refused += 1;
            }
        }
    }
    assert!(stored > 5 && refused > 5, "{stored} stored, {refused} refused");
}

#[test]
fn options_are_checked() {
    let error = build(
        r#"[caches.default]
backend = "memcached"
location = "127.0.0.1:11211"
options = { max_entries = 30 }"#,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        error,
        "cache alias `default`: options.max_entries: unknown option; the options this backend accepts are \
         `connect_timeout`, `timeout`, `response_timeout`, `item_size_max`, `pool_size`, `max_pool_size`, \
         `no_delay`, `circuit_failures`, `circuit_cooldown`, `use_pooling`, `default_noreply`, \
         `allow_unicode_keys`, `binary`, `behaviors`; every alias also accepts `ignore_exceptions`, `log_keys` and `latency_histogram`"
    );
    let caches = build(
        r#"[caches.default]
backend = "memcached"
location = ["127.0.0.1:11211", "unix:/run/memcached.sock"]
options = { item_size_max = "2m", pool_size = 4, timeout = 0.25 }"#,
    )
    .unwrap();
    let capabilities = caches.default_cache().backend().capabilities();
    assert_eq!(capabilities.max_value_bytes, Some(2 * 1024 * 1024 - 512));
    let error = build(
        r#"[caches.default]
backend = "memcached"
location = "127.0.0.1:11211"
options = { pool_size = 0 }"#,
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.starts_with("cache alias `default`: options.pool_size: expected"),
        "{error}"
    );
}

#[test]
fn locations_are_checked() {
    for (location, expected) in [
        ("\"\"", "memcached needs at least one server"),
        ("\"host:port\"", "no valid port"),
        ("[\"a:1\", \"a:1\"]", "listed twice"),
        ("\"::1\"", "without brackets"),
    ] {
        let error = build(&format!(
            "[caches.default]\nbackend = \"memcached\"\nlocation = {location}"
        ))
        .unwrap_err()
        .to_string();
        assert!(error.starts_with("cache alias `default`: location: "), "{error}");
        assert!(error.contains(expected), "{location}: {error}");
    }
    let error = build("[caches.default]\nbackend = \"memcached\"")
        .unwrap_err()
        .to_string();
    assert!(error.contains("needs at least one server"), "{error}");
}

#[test]
fn options_in_code_are_checked_too() {
    let error = MemcachedBackend::builder()
        .server("h")
        .pool_size(0)
        .build()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "options.pool_size: expected a whole number from 1 to 64; got 0"
    );
    let error = MemcachedBackend::builder().build().unwrap_err();
    assert!(error.to_string().contains("at least one server"), "{error}");
    let backend = MemcachedBackend::builder().server("h").build().unwrap();
    assert!(format!("{backend:?}").contains("h:11211"));
}
