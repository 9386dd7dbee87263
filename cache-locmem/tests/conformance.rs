//! The shared conformance suite (Django's BaseCacheTests catalogue) on locmem, configured through
//! the registry like an application would, once with a clock the suite moves and once in real time.

use cache_core::testkit::{Subject, Time, run_all};
use cache_core::{Backends, Clock, Location, Options};

fn subject(location: &str, clock: Clock, time: Time) -> Subject {
    let mut backends = Backends::new();
    backends.register(cache_locmem::registration_with_clock(clock));
    Subject::build(
        backends,
        "locmem",
        Location::One(location.into()),
        Options::default(),
        time,
    )
    .expect("the conformance aliases build on locmem")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_with_a_manual_clock() {
    let clock = Clock::manual();
    let report = run_all(&subject("conformance-manual", clock.clone(), Time::Manual(clock))).await;
    assert!(report.passed().len() > 60 && report.failed().is_empty(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_in_real_time() {
    let report = run_all(&subject("conformance-real", Clock::system(), Time::Real)).await;
    assert!(report.passed().len() > 60 && report.failed().is_empty(), "{report}");
}
