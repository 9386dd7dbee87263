//! A tiered alias in CACHES: it names its far alias (written before or after it), and every
//! mistake is reported with the fix.

use cache_core::{Backends, Caches, CachesConfig, ConfigFormat};
use cache_tiered::{TieredBackend, TieredBuilder, TieredCache};

fn backends() -> Backends {
    let mut backends = Backends::new();
    backends.register(cache_locmem::registration());
    backends.register(cache_tiered::registration());
    backends
}

fn build(toml: &str) -> cache_core::Result<Caches> {
    let config = CachesConfig::from_str(toml, ConfigFormat::Toml)?;
    Caches::build(&config, &backends())
}

fn error(toml: &str) -> String {
    build(toml).expect_err("the configuration is refused").to_string()
}

#[test]
fn a_tiered_alias_names_its_far_alias_in_any_order() {
    // `default` (tiered) sorts before `shared`, its far alias: built on demand.
    let caches = build(
        r#"
        [caches.default]
        backend = "tiered"
        options = { far = "shared", max_entries = 500, near_timeout = 2.5, fail_safe_max = 60 }
        [caches.shared]
        backend = "locmem"
        location = "tiered-config-shared"
        "#,
    )
    .expect("the aliases build");
    let tiered = TieredCache::new(caches.default_cache()).expect("the default alias is tiered");
    let options = tiered.backend().options();
    assert_eq!(options.far, "shared");
    assert_eq!(options.max_entries, 500);
    assert_eq!(options.near_timeout.as_secs_f64(), 2.5);
    assert_eq!(options.fail_safe_max.as_secs(), 60);
    assert_eq!(tiered.backend().far().name(), "locmem");
    // The far alias is the same one `caches.get("shared")` gives.
    let shared = caches.get("shared").unwrap();
    let far: &dyn std::any::Any = &**shared.backend();
    assert!(far.downcast_ref::<cache_locmem::LocMemBackend>().is_some());
    assert!(format!("{:?}", tiered.backend()).contains("TieredBackend"));
}

#[test]
fn a_missing_or_unknown_far_alias_is_named() {
    assert_eq!(
        error("[caches.default]\nbackend = \"tiered\"\n"),
        "cache alias `default`: options.far: required by the tiered backend: name the alias the near tier stands in \
         front of (`far = \"redis\"`)"
    );
    assert_eq!(
        error("[caches.default]\nbackend = \"tiered\"\noptions = { far = \"redis\" }\n"),
        "cache alias `default`: options.far: no alias `redis` is configured (configured aliases: default); name one of them"
    );
}

#[test]
fn an_alias_in_front_of_itself_is_refused() {
    let message = error(
        r#"
        [caches.default]
        backend = "tiered"
        options = { far = "other" }
        [caches.other]
        backend = "tiered"
        options = { far = "default" }
        "#,
    );
    assert!(
        message.contains("leads back to this one (default → other → default)"),
        "{message}"
    );
}

#[test]
fn a_far_alias_with_problems_is_reported_once_and_named() {
    let message = error(
        r#"
        [caches.default]
        backend = "tiered"
        options = { far = "shared" }
        [caches.shared]
        backend = "locmem"
        options = { max_entries = "many" }
        "#,
    );
    assert!(message.starts_with("2 problems"), "{message}");
    assert!(
        message.contains("cache alias `shared`: options.max_entries: expected a whole number"),
        "{message}"
    );
    assert!(
        message.contains(
            "cache alias `default`: options.far: the alias `shared` it names has problems of its own; fix those first"
        ),
        "{message}"
    );
}

#[test]
fn options_are_checked_with_the_fix() {
    let far = "[caches.shared]\nbackend = \"locmem\"\nlocation = \"tiered-config-options\"\n";
    let with = |options: &str| {
        format!("[caches.default]\nbackend = \"tiered\"\noptions = {{ far = \"shared\", {options} }}\n{far}")
    };
    assert!(error(&with("near = 3")).contains("options.near: unknown option; the options this backend accepts are"));
    assert_eq!(
        error(&with("backplane = \"http://nope\"")),
        "cache alias `default`: options.backplane: expected a redis:// URL (Redis URL did not parse- InvalidClientConfig); got \"http://nope\""
            .replace("(Redis URL did not parse- InvalidClientConfig)", &redis_url_error("http://nope"))
    );
    assert!(
        error(&with(
            "backplane = \"redis://127.0.0.1:1\", backplane_heartbeat = 2, backplane_max_staleness = 1"
        ))
        .contains("options.backplane_max_staleness: must be longer than backplane_heartbeat")
    );
    assert!(error(&with("near_timeout = 0")).contains("options.near_timeout: expected a number of seconds above 0"));
    assert!(
        error(&with("backplane_circuit_failures = -1")).contains("options.backplane_circuit_failures: expected "),
        "{}",
        error(&with("backplane_circuit_failures = -1"))
    );
    assert!(
        error(&with("backplane_circuit_cooldown = 0")).contains("options.backplane_circuit_cooldown: expected "),
        "{}",
        error(&with("backplane_circuit_cooldown = 0"))
    );
    let caches = build(&with(
        "backplane_circuit_failures = 0, backplane_circuit_cooldown = 2.5",
    ))
    .unwrap();
    let tiered = TieredCache::new(caches.default_cache()).unwrap();
    assert_eq!(
        tiered.backend().options().backplane_circuit,
        cache_core::CircuitSettings::new(0, std::time::Duration::from_millis(2500))
    );
    let located =
        format!("[caches.default]\nbackend = \"tiered\"\nlocation = \"x\"\noptions = {{ far = \"shared\" }}\n{far}");
    assert!(error(&located).contains("location: a tiered alias has no location of its own"));
    let prefixed =
        format!("[caches.default]\nbackend = \"tiered\"\nkey_prefix = \"a\"\noptions = {{ far = \"shared\" }}\n{far}");
    assert_eq!(
        error(&prefixed),
        "cache alias `default`: key_prefix: is `a` but the far alias `shared` has key_prefix ``; give both the same \
         key_prefix so the far store's clear() finds this alias' keys"
    );
    let tiered_far = "[caches.default]\nbackend = \"tiered\"\noptions = { far = \"middle\" }\n\
                      [caches.middle]\nbackend = \"tiered\"\noptions = { far = \"shared\" }\n";
    assert!(error(&format!("{tiered_far}{far}")).contains("`middle` is itself tiered"));
}

fn redis_url_error(url: &str) -> String {
    format!("({})", redis::Client::open(url).expect_err("not a redis URL"))
}

#[test]
fn tiered_cache_needs_a_tiered_alias() {
    let caches = build("[caches.default]\nbackend = \"locmem\"\nlocation = \"tiered-config-plain\"\n").unwrap();
    assert_eq!(
        TieredCache::new(caches.default_cache()).unwrap_err().to_string(),
        "cache alias `default`: backend: is `locmem`, not `tiered`: TieredCache needs an alias whose backend is `tiered`"
    );
}

#[test]
fn the_builder_refuses_what_the_configuration_refuses() {
    use std::time::Duration;
    let far = std::sync::Arc::new(cache_locmem::LocMemBackend::builder().build());
    let refused = |configure: fn(TieredBuilder) -> TieredBuilder, expected: &str| {
        let error = configure(TieredBackend::builder(far.clone())).build().unwrap_err();
        assert!(error.to_string().contains(expected), "{error}");
    };
    refused(
        |builder| builder.near_timeout(Duration::ZERO),
        "options.near_timeout: must be longer than zero",
    );
    // A zero heartbeat would panic the listener's `tokio::time::interval`.
    refused(
        |builder| builder.backplane_heartbeat(Duration::ZERO),
        "options.backplane_heartbeat: must be longer than zero",
    );
    // The rule every breaker follows, under this alias' names for its options.
    refused(
        |builder| builder.backplane_circuit(cache_core::CircuitSettings::new(5, Duration::ZERO)),
        "options.backplane_circuit_cooldown: expected a duration above 0",
    );
    refused(
        |builder| builder.backplane("nope://"),
        "options.backplane: the backplane URL can't be used",
    );
}
