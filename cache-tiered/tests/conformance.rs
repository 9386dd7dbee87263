//! The shared conformance suite (Django's `BaseCacheTests`) on tiered aliases: every alias of the
//! suite is `tiered`, each with a near tier of its own, in front of far aliases on one store —
//! locmem on the suite's manual clock without a backplane, and Redis in real time with one. Each
//! behaviour is a test of its own (`harness = false`: the testkit's `Harness` is `main`).
//!
//! The suite reads one alias' writes through another (`v2` writes, `default` reads at version 2),
//! so the aliases name one channel (`backplane_channel`): aliases of one process on a channel
//! evict each other's near copies inside the writer's call, backplane or not.

use std::process::ExitCode;

use cache_core::testkit::servers::RedisServer;
use cache_core::testkit::{Harness, Subject, Time};
use cache_core::{AliasConfig, Backends, Caches, Clock, Location, Options};

/// The suite's aliases, all tiered with the suite's own settings (prefix, version, key function,
/// timeout), each over a far alias of its own (`far` with the tiered alias' key prefix, which
/// `clear()` needs), all far aliases on one store.
fn subject(far: AliasConfig, channel: &str, backplane: Option<&str>, backends: Backends, time: Time) -> Subject {
    let mut config = Subject::config("tiered", Location::default(), Options::default());
    let tiered: Vec<String> = config.aliases.keys().cloned().collect();
    for name in tiered {
        let far_name = format!("far-{name}");
        let alias = config.aliases.get_mut(&name).expect("listed");
        let mut options = serde_json::Map::new();
        options.insert("far".into(), far_name.clone().into());
        options.insert("near_timeout".into(), 60.into());
        options.insert("backplane_channel".into(), channel.into());
        if let Some(url) = backplane {
            options.insert("backplane".into(), url.into());
        }
        alias.options = Options::from_map(options);
        let mut far = far.clone();
        far.key_prefix = alias.key_prefix.clone();
        config.aliases.insert(far_name, far);
    }
    let mut backends = backends;
    for function in cache_core::testkit::key_functions() {
        backends.key_function(function);
    }
    let caches = Caches::build(&config, &backends).expect("the tiered conformance aliases build");
    Subject::new(caches, time).expect("every alias of the suite is defined")
}

fn main() -> ExitCode {
    let mut harness = Harness::new();
    let redis = harness.block_on(RedisServer::start()).expect("redis-server starts");

    let clock = Clock::manual();
    let mut backends = Backends::new();
    backends.register(cache_locmem::registration_with_clock(clock.clone()));
    backends.register(cache_tiered::registration_with_clock(clock.clone()));
    let mut locmem_far = AliasConfig::new("locmem");
    locmem_far.location = Location::One("tiered-conformance".into());
    let over_locmem = subject(locmem_far, "conformance-locmem", None, backends, Time::Manual(clock));

    let mut backends = Backends::new();
    backends.register(cache_redis::registration());
    backends.register(cache_tiered::registration());
    let mut redis_far = AliasConfig::new("redis");
    redis_far.location = Location::One(redis.url());
    let url = redis.url();
    let over_redis =
        harness.block_on(async { subject(redis_far, "conformance-redis", Some(&url), backends, Time::Real) });

    harness
        .conformance("tiered_over_locmem", &over_locmem)
        .conformance("tiered_over_redis", &over_redis);
    let conclusion = harness.run();
    redis.stop();
    conclusion.exit_code()
}
