//! Helpers shared by the integration tests: building caches over fixture servers, and reading a
//! server's own counters.

#![allow(dead_code, missing_docs)]

use cache_core::testkit::{Subject, Time, aliases, key_functions};
use cache_core::{AliasConfig, Backends, Cache, Caches, CachesConfig, Location, Options};
use serde_json::Value;

/// `options` from a JSON object.
pub(crate) fn options(value: Value) -> Options {
    match value {
        Value::Object(map) => Options::from_map(map),
        other => panic!("options must be an object, not {other}"),
    }
}

/// The registry with `redis` and the conformance suite's custom key functions.
pub(crate) fn backends() -> Backends {
    let mut backends = Backends::new();
    backends.register(cache_redis::registration());
    for function in key_functions() {
        backends.key_function(function);
    }
    backends
}

/// The conformance aliases over `location`, all with `extra` options. The two aliases whose custom
/// key function makes `CUSTOM-<prefix>-<version>-<key>` clear by that pattern, since the prefix
/// rule can't see their keys.
pub(crate) fn subject(location: Location, extra: Value) -> Subject {
    let mut config = Subject::config("redis", location, options(extra.clone()));
    for alias in [aliases::CUSTOM_KEY, aliases::CUSTOM_KEY2] {
        let mut custom = extra.clone();
        custom["clear_pattern"] = Value::from("CUSTOM-*");
        config.aliases.get_mut(alias).expect("a conformance alias").options = options(custom);
    }
    let caches = Caches::build(&config, &backends()).expect("the conformance aliases build on redis");
    Subject::new(caches, Time::Real).expect("every conformance alias is defined")
}

/// One alias named `alias` with these settings.
pub(crate) fn cache(alias: &str, location: Location, key_prefix: &str, extra: Value) -> cache_core::Result<Cache> {
    let mut entry = AliasConfig::new("redis");
    entry.location = location;
    entry.key_prefix = key_prefix.to_owned();
    entry.options = options(extra);
    let mut config = CachesConfig::default();
    config.aliases.insert("default".to_owned(), entry.clone());
    config.aliases.insert(alias.to_owned(), entry);
    Caches::build(&config, &backends())?.get(alias)
}

/// A plain redis-rs connection, to look at what the backend did.
pub(crate) async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("a fixture URL")
        .get_multiplexed_async_connection()
        .await
        .expect("the fixture server answers")
}

/// How many times `command` ran on the server since its statistics were last reset
/// (`INFO commandstats`, line `cmdstat_<command>:calls=<n>,…`).
pub(crate) async fn calls(url: &str, command: &str) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut raw(url).await)
        .await
        .expect("INFO commandstats");
    let prefix = format!("cmdstat_{}:calls=", command.to_ascii_lowercase());
    info.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |calls| calls.parse().expect("a call count"))
}

/// Zeroes the server's command statistics.
pub(crate) async fn reset_stats(url: &str) {
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(&mut raw(url).await)
        .await
        .expect("CONFIG RESETSTAT");
}
