//! Stores shared by location (Django's `test_multiple_caches`), options read from configuration,
//! and the errors for both, with their exact messages.
//!
//! Stores are process-wide, so every test here uses locations no other test uses.

use std::sync::Arc;
use std::time::Duration;

use cache_core::{BackendConfig, Cache, CacheError, CacheOptions, Clock, Location, Options, Result, Timeout};
use cache_locmem::{LocMemBackend, NAMES, registration, registration_with_clock};
use serde_json::{Value, json};

fn options(value: Value) -> Options {
    match value {
        Value::Object(map) => Options::from_map(map),
        other => panic!("options must be an object, not {other}"),
    }
}

fn backend(alias: &str, location: &Location, options: &Options, clock: &Clock) -> Result<LocMemBackend> {
    LocMemBackend::from_config(&BackendConfig::new(alias, location, options), clock.clone())
}

fn cache(alias: &str, location: &str, clock: &Clock) -> Cache {
    let backend = backend(alias, &Location::One(location.to_owned()), &Options::default(), clock).unwrap();
    Cache::new(alias, Arc::new(backend), CacheOptions::default())
}

#[tokio::test]
async fn test_multiple_caches() -> Result<()> {
    let clock = Clock::manual();
    let default = cache("default", "locations::multiple::default", &clock);
    let other = cache("other", "locations::multiple::other", &clock);
    default.set("value", &42).await?;
    assert_eq!(default.get::<i64>("value").await?, Some(42));
    assert_eq!(other.get::<i64>("value").await?, None);
    Ok(())
}

#[tokio::test]
async fn aliases_with_the_same_location_share_one_store() -> Result<()> {
    let clock = Clock::manual();
    let first = cache("first", "locations::shared", &clock);
    let second = cache("second", "locations::shared", &clock);
    first.set("k", "v").timeout(Timeout::secs(10)).await?;
    assert_eq!(second.get::<String>("k").await?.as_deref(), Some("v"));
    assert!(second.delete("k").await?);
    assert!(!first.has_key("k").await?);
    // One clock for the store: time moved by either alias' test clock is the store's.
    first.set("t", "v").timeout(Timeout::secs(10)).await?;
    clock.advance(Duration::from_secs(10));
    assert!(!second.has_key("t").await?);
    assert_eq!(first.backend().capabilities(), second.backend().capabilities());
    Ok(())
}

/// Django's default alias has no LOCATION and uses the store named `""`; so does every locmem
/// alias that omits it. (The only test in this file that uses the unnamed store.)
#[tokio::test]
async fn aliases_without_a_location_share_the_unnamed_store() -> Result<()> {
    let clock = Clock::manual();
    let one = backend("one", &Location::Unset, &Options::default(), &clock)?;
    let two = backend("two", &Location::Many(vec![String::new()]), &Options::default(), &clock)?;
    assert_eq!(one.location(), Some(""));
    let one = Cache::new("one", Arc::new(one), CacheOptions::default());
    let two = Cache::new("two", Arc::new(two), CacheOptions::default());
    one.set("locations::unnamed", &1).await?;
    assert_eq!(two.get::<i64>("locations::unnamed").await?, Some(1));
    Ok(())
}

#[test]
fn options_come_from_the_alias() {
    let clock = Clock::manual();
    let built = backend(
        "cull",
        &Location::One("locations::options".into()),
        &options(json!({"max_entries": 30, "cull_frequency": 0})),
        &clock,
    )
    .unwrap();
    assert_eq!((built.options().max_entries, built.options().cull_frequency), (30, 0));
    assert_eq!(built.location(), Some("locations::options"));
    assert_eq!(
        format!("{built:?}"),
        "LocMemBackend { location: Some(\"locations::options\"), max_entries: 30, cull_frequency: 0, \
         shards: 1, clock: Clock::manual }"
    );
}

#[test]
fn a_negative_max_entries_is_refused() {
    let error = backend(
        "negative",
        &Location::One("locations::negative".into()),
        &options(json!({"max_entries": -1})),
        &Clock::manual(),
    )
    .unwrap_err();
    assert!(
        matches!(&error, CacheError::Config { alias: Some(alias), field, .. }
            if alias == "negative" && field == "options.max_entries"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "cache alias `negative`: options.max_entries: expected a whole number, 0 or more; got -1"
    );
}

#[test]
fn a_negative_cull_frequency_is_refused() {
    let error = backend(
        "negative",
        &Location::One("locations::negative-cull".into()),
        &options(json!({"cull_frequency": -1})),
        &Clock::manual(),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cache alias `negative`: options.cull_frequency: expected a whole number, 0 or more; got -1"
    );
}

#[test]
fn an_unknown_option_is_refused_naming_it() {
    let error = backend(
        "typo",
        &Location::One("locations::typo".into()),
        &options(json!({"max_entrie": 5})),
        &Clock::manual(),
    )
    .unwrap_err();
    assert!(
        matches!(&error, CacheError::Config { alias: Some(alias), field, .. }
            if alias == "typo" && field == "options.max_entrie"),
        "{error:?}"
    );
    // The wording is `Options::parse`'s (cache-core); the accepted names come from this backend.
    assert_eq!(
        error.to_string(),
        "cache alias `typo`: options.max_entrie: unknown option; the options this backend accepts are \
         `max_entries` or `cull_frequency`; every alias also accepts `ignore_exceptions`, `log_keys` and `latency_histogram`"
    );
}

#[test]
fn a_shared_location_refuses_different_options() {
    let clock = Clock::manual();
    let location = Location::One("locations::mismatch".into());
    backend("first", &location, &Options::default(), &clock).unwrap();
    let error = backend("second", &location, &options(json!({"max_entries": 50})), &clock).unwrap_err();
    assert!(
        matches!(&error, CacheError::Config { alias: Some(alias), field, .. }
            if alias == "second" && field == "options"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "cache alias `second`: options: the locmem store at location `locations::mismatch` is already in use \
         by alias `first` with max_entries = 300, cull_frequency = 3, but this alias gives max_entries = 50, \
         cull_frequency = 3; aliases with the same location share one store, so give them the same options \
         or different locations"
    );
    // The same options, spelt out, are the same store.
    let explicit = options(json!({"max_entries": 300, "cull_frequency": "3"}));
    backend("third", &location, &explicit, &clock).unwrap();
}

#[test]
fn a_shared_location_refuses_a_different_clock() {
    let location = Location::One("locations::clock".into());
    backend("first", &location, &Options::default(), &Clock::manual()).unwrap();
    let error = backend("second", &location, &Options::default(), &Clock::manual()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "cache alias `second`: location: the locmem store at location `locations::clock` is already in use by \
         alias `first` with a different clock; a store keeps the clock it was created with, so give each test \
         its own location"
    );
}

#[test]
fn a_list_of_locations_is_refused() {
    let location = Location::Many(vec!["a".into(), "b".into()]);
    let error = backend("list", &location, &Options::default(), &Clock::manual()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "cache alias `list`: location: locmem names one in-process store, but a list of 2 locations was given; \
         use one name"
    );
}

#[test]
fn registered_under_the_short_name_and_djangos_class_path() {
    assert_eq!(NAMES, ["locmem", "django.core.cache.backends.locmem.LocMemCache"]);
    assert_eq!(registration().names(), NAMES);
    assert_eq!(registration_with_clock(Clock::manual()).names(), NAMES);
    let mut backends = cache_core::Backends::new();
    backends.register(registration());
    let names = backends.names();
    assert!(
        NAMES.iter().all(|name| names.iter().any(|known| known == name)),
        "{names:?}"
    );
}
