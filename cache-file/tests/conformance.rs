//! The shared conformance suite (Django's BaseCacheTests catalogue) on the file backend,
//! configured through the registry like an application would, each run in its own directory:
//! once with a clock the suite moves and once in real time.

use cache_core::testkit::{Subject, Time, run_all};
use cache_core::{Backends, Clock, Location, Options};

fn subject(directory: &std::path::Path, clock: Clock, time: Time) -> Subject {
    let mut backends = Backends::new();
    backends.register(cache_file::registration_with_clock(clock));
    let location = Location::One(directory.to_str().expect("a UTF-8 temporary path").to_owned());
    Subject::build(backends, "file", location, Options::default(), time)
        .expect("the conformance aliases build on files")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_with_a_manual_clock() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let clock = Clock::manual();
    let report = run_all(&subject(directory.path(), clock.clone(), Time::Manual(clock))).await;
    assert!(report.passed().len() > 60 && report.failed().is_empty(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_in_real_time() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let report = run_all(&subject(directory.path(), Clock::system(), Time::Real)).await;
    assert!(report.passed().len() > 60 && report.failed().is_empty(), "{report}");
}
