//! The shared conformance suite (Django's BaseCacheTests catalogue with memcached's overrides) on
//! real memcached servers started by the testkit: once on one server, once spread over two.

use cache_core::testkit::servers::MemcachedServer;
use cache_core::testkit::{Subject, Time, run_all};
use cache_core::{Backends, Location, Options};

fn subject(location: Location) -> Subject {
    let mut backends = Backends::new();
    backends.register(cache_memcached::registration());
    Subject::build(backends, "memcached", location, Options::default(), Time::Real)
        .expect("the conformance aliases build on memcached")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_on_one_server() {
    let server = MemcachedServer::start().await.expect("memcached starts");
    let report = run_all(&subject(Location::One(server.location()))).await;
    assert!(report.passed().len() > 60 && report.failed().is_empty(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_on_two_servers() {
    let first = MemcachedServer::start().await.expect("memcached starts");
    let second = MemcachedServer::start().await.expect("memcached starts");
    // Django's `;`-separated form.
    let location = Location::One(format!("{};{}", first.location(), second.location()));
    let report = run_all(&subject(location)).await;
    assert!(report.passed().len() > 60 && report.failed().is_empty(), "{report}");
}
