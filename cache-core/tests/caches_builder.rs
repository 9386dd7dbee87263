//! `Caches::builder`: aliases assembled in code, with the same rules as a configuration file.

use std::sync::Arc;

use cache_core::{Cache, CacheBackend, CacheError, CacheOptions, Caches, DummyBackend, Timeout};

fn dummy() -> Arc<dyn CacheBackend> {
    Arc::new(DummyBackend)
}

#[test]
fn aliases_keep_their_options() {
    let caches = Caches::builder()
        .alias("default", dummy(), CacheOptions::default())
        .alias(
            "sessions",
            dummy(),
            CacheOptions::default()
                .with_key_prefix("s")
                .with_version(3)
                .with_timeout(Timeout::Never),
        )
        .cache(Cache::new("pages", dummy(), CacheOptions::default()))
        .build()
        .unwrap();
    assert_eq!(caches.default_cache().alias(), "default");
    let sessions = caches.get("sessions").unwrap();
    assert_eq!(
        (sessions.options().key_prefix(), sessions.options().version()),
        ("s", 3)
    );
    assert_eq!(sessions.options().timeout(), Timeout::Never);
    assert_eq!(sessions.make_key("k", None), "s:3:k");
    let names: Vec<&str> = caches.all().map(Cache::alias).collect();
    assert_eq!(names, ["default", "pages", "sessions"]);
}

#[test]
fn the_default_alias_is_required() {
    let error = Caches::builder()
        .alias("sessions", dummy(), CacheOptions::default())
        .build()
        .unwrap_err();
    assert!(matches!(error, CacheError::Config { .. }));
    assert_eq!(
        error.to_string(),
        "caches.default: you must define a 'default' cache; add one with `Caches::builder().alias(\"default\", …)`"
    );
    assert!(Caches::builder().build().is_err(), "no alias at all");
}

#[test]
fn an_alias_given_twice_is_refused() {
    let error = Caches::builder()
        .alias("default", dummy(), CacheOptions::default())
        .cache(Cache::new("default", dummy(), CacheOptions::default()))
        .build()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cache alias `default`: alias: given twice to `Caches::builder()`; give each alias once"
    );
}
