//! The `[cache_middleware]` section: Django's `CACHE_MIDDLEWARE_*` settings, and the mistakes a
//! user makes in it, each named with its fix.

use cache_core::{Backends, Caches, CachesConfig, ConfigFormat};
use cache_http::{CacheLayer, CacheMiddlewareConfig};

fn load(text: &str) -> CachesConfig {
    CachesConfig::from_str_with_env(text, ConfigFormat::Toml, Vec::<(String, String)>::new()).unwrap()
}

fn caches(config: &CachesConfig) -> Caches {
    let mut backends = Backends::new();
    backends.register(cache_locmem::registration());
    Caches::build(config, &backends).unwrap()
}

const ALIASES: &str = r#"
[caches.default]
backend = "locmem"

[caches.pages]
backend = "locmem"
location = "pages"
"#;

#[test]
fn the_section_is_read_with_djangos_defaults() {
    let config = load(ALIASES);
    let section = CacheMiddlewareConfig::from_caches_config(&config).unwrap();
    assert_eq!(section.seconds, 600, "CACHE_MIDDLEWARE_SECONDS");
    assert_eq!(section.key_prefix, "");
    assert_eq!(section.alias, "default");
    assert!(!section.conditional_get);
    let layer = CacheLayer::from_config(&config, &caches(&config)).unwrap();
    assert_eq!(layer.cache().alias(), "default");
}

#[test]
fn the_section_names_the_alias_prefix_and_seconds() {
    let config = load(&format!(
        "{ALIASES}\n[cache_middleware]\nseconds = 30\nkey_prefix = \"site1\"\nalias = \"pages\"\nlanguage = \"en-us\"\ntime_zone = \"UTC\"\nconditional_get = true\n"
    ));
    let section = CacheMiddlewareConfig::from_caches_config(&config).unwrap();
    assert_eq!(
        (section.seconds, section.key_prefix.as_str(), section.alias.as_str()),
        (30, "site1", "pages")
    );
    assert_eq!(section.language.as_deref(), Some("en-us"));
    assert!(section.conditional_get);
    let layer = CacheLayer::from_config(&config, &caches(&config)).unwrap();
    assert_eq!(layer.cache().alias(), "pages");
}

#[test]
fn djangos_upper_case_names_are_accepted() {
    let config = load(&format!(
        "{ALIASES}\n[CACHE_MIDDLEWARE]\nSECONDS = 5\nKEY_PREFIX = \"p\"\nALIAS = \"pages\"\n"
    ));
    let section = CacheMiddlewareConfig::from_caches_config(&config).unwrap();
    assert_eq!(
        (section.seconds, section.key_prefix.as_str(), section.alias.as_str()),
        (5, "p", "pages")
    );
}

#[test]
fn an_unknown_key_is_refused_naming_it() {
    let config = load(&format!("{ALIASES}\n[cache_middleware]\ntimeout = 30\n"));
    let error = CacheMiddlewareConfig::from_caches_config(&config)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("cache_middleware") && error.contains("timeout"),
        "{error}"
    );
}

#[test]
fn an_alias_that_does_not_exist_is_an_error_naming_the_fix() {
    let config = load(&format!("{ALIASES}\n[cache_middleware]\nalias = \"missing\"\n"));
    let error = CacheLayer::from_config(&config, &caches(&config))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("cache_middleware.alias") && error.contains("missing") && error.contains("add it"),
        "{error}"
    );
}

#[test]
fn a_wrongly_typed_value_is_refused() {
    let config = load(&format!("{ALIASES}\n[cache_middleware]\nseconds = \"ten\"\n"));
    let error = CacheMiddlewareConfig::from_caches_config(&config)
        .unwrap_err()
        .to_string();
    assert!(error.contains("cache_middleware"), "{error}");
}
