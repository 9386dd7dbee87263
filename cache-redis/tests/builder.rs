//! `RedisBackend::builder`: servers and options in code, checked at `build` without connecting.

use std::time::Duration;

use cache_core::CacheError;
use cache_redis::{ClearMode, RedisBackend, RedisBuilder};

fn refused(builder: RedisBuilder) -> String {
    let error = builder.build().unwrap_err();
    assert!(matches!(error, CacheError::Config { .. }), "{error:?}");
    error.to_string()
}

#[test]
fn writer_then_replicas() {
    let backend = RedisBackend::builder()
        .location("redis://:secret@127.0.0.1:1/0")
        .replica("redis://127.0.0.1:2/0")
        .replica("redis://127.0.0.1:3/0")
        .build()
        .unwrap();
    assert_eq!(
        backend.servers(),
        [
            "redis://:***@127.0.0.1:1/0",
            "redis://127.0.0.1:2/0",
            "redis://127.0.0.1:3/0"
        ]
    );
    assert!(!backend.is_cluster());
    assert_eq!(backend.clear_pattern(), Some(":[-0-9]*"), "the empty prefix unless set");
}

#[test]
fn clear_follows_the_prefix_or_the_mode() {
    let builder = || RedisBackend::builder().location("redis://127.0.0.1:1");
    assert_eq!(
        builder().key_prefix("shop").build().unwrap().clear_pattern(),
        Some("shop:[-0-9]*")
    );
    let pattern = builder().clear(ClearMode::Pattern("app-*".into())).build().unwrap();
    assert_eq!(pattern.clear_pattern(), Some("app-*"));
    assert_eq!(
        builder().clear(ClearMode::FlushDb).build().unwrap().clear_pattern(),
        None
    );
}

#[test]
fn cluster_seeds() {
    let backend = RedisBackend::builder()
        .location("redis://127.0.0.1:7000")
        .replica("redis://127.0.0.1:7001")
        .cluster(true)
        .build()
        .unwrap();
    assert!(backend.is_cluster());
}

#[test]
fn invalid_values_name_the_setting() {
    assert_eq!(
        refused(RedisBackend::builder()),
        "location: a Redis backend needs the writer's URL; give it with `.location(\"redis://127.0.0.1:6379/0\")`"
    );
    let builder = || RedisBackend::builder().location("redis://127.0.0.1:1");
    assert_eq!(
        refused(builder().response_timeout(Duration::ZERO)),
        "options.response_timeout: expected a duration above 0 and at most a day; got 0ns"
    );
    assert!(refused(builder().connect_timeout(Duration::from_secs(90_000))).starts_with("options.connect_timeout: "));
    assert!(
        refused(RedisBackend::builder().location("http://h")).starts_with("location: `http://h` is not a Redis URL")
    );
    assert!(refused(builder().replica("nope")).starts_with("location[1]: "));
    assert!(refused(builder().wait_for_replicas(true)).starts_with("options.wait_for_replicas: needs at least two"));
    assert!(refused(builder().cluster(true).location("redis://h/3")).contains("only database 0"));
    assert!(refused(builder().tls_ca_file("/ca.pem")).starts_with("options.tls_ca_file: "));
}
