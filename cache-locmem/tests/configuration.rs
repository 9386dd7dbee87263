//! The backend as an application meets it: a Django `CACHES` setting loaded by cache-core, the
//! backend registered by name, every alias built by `Caches::build`.
//!
//! Stores are process-wide, so each test uses locations of its own.

use cache_core::{Backends, Caches, CachesConfig, Clock, ConfigFormat, Result, Timeout};

fn backends(clock: &Clock) -> Backends {
    let mut backends = Backends::new();
    backends.register(cache_locmem::registration_with_clock(clock.clone()));
    backends
}

fn no_env() -> [(&'static str, &'static str); 0] {
    []
}

/// Django's own test fixtures (`cull`, `zero_cull`), as JSON of its `CACHES` dict, upper-case
/// keys and the dotted backend path included.
#[tokio::test]
async fn djangos_cull_aliases_load_and_count_as_in_django() -> Result<()> {
    let text = r#"{
        "CACHES": {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "configuration::default"
            },
            "cull": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "configuration::cull",
                "OPTIONS": {"MAX_ENTRIES": 30}
            },
            "zero_cull": {
                "BACKEND": "locmem",
                "LOCATION": "configuration::zero_cull",
                "OPTIONS": {"CULL_FREQUENCY": 0, "MAX_ENTRIES": 30}
            }
        }
    }"#;
    let config = CachesConfig::from_str_with_env(text, ConfigFormat::Json, no_env())?;
    let caches = Caches::build(&config, &backends(&Clock::manual()))?;
    for (alias, expected) in [("cull", 29), ("zero_cull", 19)] {
        let cache = caches.get(alias)?;
        for i in 1..50 {
            cache
                .set(&format!("cull{i}"), "value")
                .timeout(Timeout::secs(1000))
                .await?;
        }
        let mut count = 0;
        for i in 1..50 {
            count += usize::from(cache.has_key(&format!("cull{i}")).await?);
        }
        assert_eq!(count, expected, "{alias}");
    }
    // Separate locations, separate stores.
    assert!(!caches.default_cache().has_key("cull49").await?);
    Ok(())
}

#[tokio::test]
async fn options_can_be_overridden_from_the_environment() -> Result<()> {
    let text = r#"
        [caches.default]
        backend = "locmem"
        location = "configuration::env"
        options = { max_entries = 300 }
    "#;
    let env = [("CACHES__DEFAULT__OPTIONS__MAX_ENTRIES", "2")];
    let config = CachesConfig::from_str_with_env(text, ConfigFormat::Toml, env)?;
    let caches = Caches::build(&config, &backends(&Clock::manual()))?;
    let cache = caches.default_cache();
    for key in ["a", "b", "c"] {
        cache.set(key, "v").await?;
    }
    // Full at 2: the third set culls 2 / 3 = 0 entries, so a store of 2 holds 3 (Django's arithmetic).
    assert!(cache.has_key("a").await? && cache.has_key("b").await? && cache.has_key("c").await?);
    cache.set("d", "v").await?; // 3 / 3 = 1 culled: `a`
    assert!(!cache.has_key("a").await?);
    Ok(())
}

#[test]
fn a_bad_option_fails_the_build_naming_the_alias() {
    let text = r#"
        [caches.default]
        backend = "locmem"
        location = "configuration::bad"
        options = { max_entries = -5 }
    "#;
    let config = CachesConfig::from_str_with_env(text, ConfigFormat::Toml, no_env()).unwrap();
    let error = Caches::build(&config, &backends(&Clock::manual())).unwrap_err();
    assert_eq!(
        error.to_string(),
        "cache alias `default`: options.max_entries: expected a whole number, 0 or more; got -5"
    );
}

/// A bad option set by an environment variable names the variable, though the backend finds it
/// when `Caches::build` runs, long after the variable was read; every bad one is reported.
#[test]
fn options_from_environment_variables_name_the_variable() {
    let text = "[caches.default]\nbackend = \"locmem\"\nlocation = \"configuration::env\"\n";
    let vars = [
        ("CACHES__DEFAULT__OPTIONS__MAX_ENTRIES", "abc"),
        ("CACHES__DEFAULT__OPTIONS__CULL_FREQUENCY", "-5"),
    ];
    let config = CachesConfig::from_str_with_env(text, ConfigFormat::Toml, vars).unwrap();
    let error = Caches::build(&config, &backends(&Clock::manual())).unwrap_err();
    assert_eq!(
        error.to_string(),
        "2 problems in the cache configuration:\n\
         - cache alias `default`: options.cull_frequency: expected a whole number, 0 or more; got -5 (set by the \
         environment variable `CACHES__DEFAULT__OPTIONS__CULL_FREQUENCY`)\n\
         - cache alias `default`: options.max_entries: expected a whole number, 0 or more; got \"abc\" (set by the \
         environment variable `CACHES__DEFAULT__OPTIONS__MAX_ENTRIES`)"
    );
}
