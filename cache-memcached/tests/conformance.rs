//! The shared conformance suite (Django's `BaseCacheTests` with `BaseMemcachedTests`' overrides) on
//! real memcached servers started by the testkit: once on one server, once spread over two. Each
//! behaviour is a test of its own (`harness = false`: the testkit's `Harness` is `main`), and every
//! server started here is stopped before the binary exits.

use std::process::ExitCode;

use cache_core::testkit::servers::MemcachedServer;
use cache_core::testkit::{Harness, Subject, Time};
use cache_core::{Backends, Location, Options};

fn subject(location: Location) -> Subject {
    let mut backends = Backends::new();
    backends.register(cache_memcached::registration());
    Subject::build(backends, "memcached", location, Options::default(), Time::Real)
        .expect("the conformance aliases build on memcached")
}

fn main() -> ExitCode {
    let mut harness = Harness::new();
    let one = harness.block_on(MemcachedServer::start()).expect("memcached starts");
    let first = harness.block_on(MemcachedServer::start()).expect("memcached starts");
    let second = harness.block_on(MemcachedServer::start()).expect("memcached starts");
    let one_server = harness.block_on(async { subject(Location::One(one.location())) });
    // Django's `;`-separated form.
    let two_servers =
        harness.block_on(async { subject(Location::One(format!("{};{}", first.location(), second.location()))) });
    harness
        .conformance("memcached_one_server", &one_server)
        .conformance("memcached_two_servers", &two_servers);
    let conclusion = harness.run();
    for server in [one, first, second] {
        server.stop();
    }
    conclusion.exit_code()
}
