//! The built-in `dummy` backend (Django's DummyCache) against the suite: it stores nothing, so the
//! runner picks the dummy catalogue (Django's `DummyCacheTests`) by its capabilities.
#![cfg(feature = "testkit")]

use cache_core::testkit::{Subject, Time, run_all};
use cache_core::{Backends, Location, Options};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dummy_backend_passes_the_dummy_catalogue() {
    let subject = Subject::build(
        Backends::new(),
        "dummy",
        Location::Unset,
        Options::default(),
        Time::Real,
    )
    .expect("the subject's aliases build");
    assert!(!subject.capabilities().stores_values);
    let report = run_all(&subject).await;

    let passed = report.passed();
    assert!(!passed.is_empty());
    assert!(
        passed.iter().all(|name| name.starts_with("dummy::")),
        "only the dummy catalogue applies: {report}"
    );
    let skipped: Vec<&str> = report.skipped().into_iter().map(|(name, _)| name).collect();
    assert!(skipped.contains(&"basic::simple"));
    assert!(skipped.contains(&"expiration::expiration"));
}

/// Django's dotted class path names the same backend.
#[tokio::test]
async fn dummy_backend_answers_to_djangos_class_path() {
    let subject = Subject::build(
        Backends::new(),
        "django.core.cache.backends.dummy.DummyCache",
        Location::One("ignored".to_owned()),
        Options::default(),
        Time::Real,
    )
    .unwrap();
    cache_core::testkit::conformance::dummy::simple(&subject).await;
    cache_core::testkit::conformance::dummy::get_or_set(&subject).await;
}
