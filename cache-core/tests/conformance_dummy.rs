//! The built-in `dummy` backend (Django's DummyCache) against the suite: it stores nothing, so the
//! testkit picks Django's `DummyCacheTests` by its capabilities, and skips the rest.

use std::process::ExitCode;

use cache_core::testkit::{Harness, Subject, Time};
use cache_core::{Backends, Location, Options};

/// Django's dotted class path names the same backend.
async fn dummy_backend_answers_to_djangos_class_path() {
    let subject = Subject::build(
        Backends::new(),
        "django.core.cache.backends.dummy.DummyCache",
        Location::One("ignored".to_owned()),
        Options::default(),
        Time::Real,
    )
    .unwrap();
    assert!(!subject.capabilities().stores_values);
    cache_core::testkit::conformance::dummy::simple(&subject).await;
    cache_core::testkit::conformance::dummy::get_or_set(&subject).await;
}

fn main() -> ExitCode {
    let subject = Subject::build(
        Backends::new(),
        "dummy",
        Location::Unset,
        Options::default(),
        Time::Real,
    )
    .expect("the subject's aliases build");
    let mut harness = Harness::new();
    harness.conformance("dummy_backend", &subject).check(
        "dummy_backend_answers_to_djangos_class_path",
        dummy_backend_answers_to_djangos_class_path,
    );
    harness.run().exit_code()
}
