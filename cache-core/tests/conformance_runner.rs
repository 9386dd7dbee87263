//! The runner itself: it chooses behaviours by capabilities, makes each one a trial of its own that
//! fails, passes or is skipped with the reason, and filters by name like libtest.
#![cfg(feature = "testkit")]

use std::sync::Arc;

use cache_core::testkit::{Behaviour, Harness, Subject, Time, behaviours, trials};
use libtest_mimic::{Arguments, Conclusion};

use cache_core::{
    BackendError, BackendRegistration, BackendResult, Backends, Bytes, CacheBackend, Capabilities, Expiry, Location,
    Options, async_trait,
};

/// A backend that claims to store values and forgets them: every storing test must fail.
#[derive(Debug)]
struct Forgetful;

#[async_trait]
impl CacheBackend for Forgetful {
    fn capabilities(&self) -> Capabilities {
        Capabilities::lenient()
    }
    async fn get(&self, _: &str) -> BackendResult<Option<Bytes>> {
        Ok(None)
    }
    async fn set(&self, _: &str, _: Bytes, _: Expiry) -> BackendResult<()> {
        Ok(())
    }
    async fn add(&self, _: &str, _: Bytes, _: Expiry) -> BackendResult<bool> {
        Ok(true)
    }
    async fn touch(&self, _: &str, _: Expiry) -> BackendResult<bool> {
        Ok(false)
    }
    async fn delete(&self, _: &str) -> BackendResult<bool> {
        Ok(false)
    }
    async fn incr(&self, _: &str, _: i64) -> BackendResult<i64> {
        Err(BackendError::key_not_found())
    }
    async fn clear(&self) -> BackendResult<()> {
        Ok(())
    }
}

fn forgetful_subject() -> Subject {
    let mut backends = Backends::new();
    backends.register(BackendRegistration::new(&["forgetful"], |_| {
        Ok(Arc::new(Forgetful) as Arc<dyn CacheBackend>)
    }));
    Subject::build(backends, "forgetful", Location::Unset, Options::default(), Time::Real).unwrap()
}

/// The trials of `subject` whose name is exactly `name`, run one at a time on the calling thread.
/// Their report goes to a file: a nested `test result: FAILED` line in this test's output would
/// read like a failure of its own.
fn run_exactly(subject: &Subject, name: &str) -> Conclusion {
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut harness = Harness::new();
    harness.conformance("forgetful", subject);
    harness.run_with(&Arguments {
        filter: Some(name.to_owned()),
        exact: true,
        test_threads: Some(1),
        logfile: Some(log.path().display().to_string()),
        ..Arguments::default()
    })
}

#[test]
fn each_behaviour_is_a_trial_that_passes_fails_or_is_skipped_on_its_own() {
    let subject = forgetful_subject();
    let failed = run_exactly(&subject, "forgetful::basic::simple");
    assert_eq!((failed.num_passed, failed.num_failed, failed.num_ignored), (0, 1, 0));
    let passed = run_exactly(&subject, "forgetful::basic::delete_nonexistent");
    assert_eq!((passed.num_passed, passed.num_failed, passed.num_ignored), (1, 0, 0));
    // Skipped behaviours are listed as ignored, not dropped.
    let skipped = run_exactly(&subject, "forgetful::dummy::simple");
    assert_eq!((skipped.num_passed, skipped.num_failed, skipped.num_ignored), (0, 0, 1));
    let not_ported = run_exactly(&subject, "forgetful::not_ported::cull");
    assert_eq!(not_ported.num_ignored, 1);
}

#[test]
fn every_behaviour_of_the_catalogue_is_a_trial_named_by_the_prefix() {
    let subject = forgetful_subject();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let trials = trials(&subject, "forgetful", runtime.handle());
    let names: Vec<&str> = trials.iter().map(|trial| trial.name()).collect();
    let expected: Vec<String> = behaviours(subject.capabilities())
        .iter()
        .map(|behaviour| format!("forgetful::{}", behaviour.name()))
        .collect();
    assert_eq!(names, expected);
    assert!(names.contains(&"forgetful::basic::add"), "{names:?}");
    assert!(names.contains(&"forgetful::dummy::add"), "{names:?}");
}

#[tokio::test]
async fn a_failing_behaviour_reports_its_panic_message() {
    let subject = forgetful_subject();
    let all = behaviours(subject.capabilities());
    let named = |name: &str| *all.iter().find(|behaviour| behaviour.name() == name).unwrap();
    let message = named("basic::simple")
        .run(&subject)
        .await
        .expect_err("the value was forgotten");
    assert!(message.contains("assertion"), "{message}");
    assert_eq!(named("basic::simple").django(), "BaseCacheTests.test_simple");
    assert_eq!(named("basic::delete_nonexistent").run(&subject).await, Ok(()));
}

#[test]
fn behaviours_are_chosen_by_capabilities() {
    let skipped = |capabilities: &Capabilities| -> Vec<&'static str> {
        behaviours(capabilities)
            .iter()
            .filter(|behaviour| {
                assert_ne!(behaviour.skip_reason(), Some(""), "{}", behaviour.name());
                behaviour.skip_reason().is_some()
            })
            .map(Behaviour::name)
            .collect()
    };
    let applies = |capabilities: &Capabilities, name: &str| {
        let all = behaviours(capabilities);
        let behaviour = all.iter().find(|behaviour| behaviour.name() == name).unwrap();
        behaviour.skip_reason().is_none()
    };

    // A store with lenient keys and no value limit: everything but the dummy catalogue and the
    // size limit, and the Django tests that have no Rust counterpart.
    let lenient = Capabilities::lenient();
    for name in skipped(&lenient) {
        assert!(
            name.starts_with("dummy::") || name.starts_with("not_ported::") || name == "limits::value_too_large",
            "{name} skipped"
        );
    }
    for name in ["basic::simple", "expiration::touch", "limits::large_value_round_trips"] {
        assert!(applies(&lenient, name), "{name}");
    }

    // memcached's rules: strict keys, a value size limit, decrements that stop at zero.
    let memcached = Capabilities::lenient()
        .with_strict_keys()
        .with_max_value_bytes(1024 * 1024)
        .with_decr_floor_at_zero();
    for name in [
        "keys::invalid_key_characters",
        "limits::value_too_large",
        "counters::incr_decr_below_zero",
    ] {
        assert!(applies(&memcached, name), "{name}");
    }
    assert!(!applies(&memcached, "limits::large_value_round_trips"));

    // A backend that stores nothing runs Django's DummyCacheTests only.
    let dummy = Capabilities::lenient().storing_nothing();
    let all = behaviours(&dummy);
    for behaviour in &all {
        let dummy_test = behaviour.name().starts_with("dummy::");
        assert_eq!(behaviour.skip_reason().is_none(), dummy_test, "{}", behaviour.name());
    }
    assert!(!skipped(&dummy).contains(&"dummy::simple"));
}

#[test]
fn waiting_behaviours_come_after_the_others() {
    let all = behaviours(&Capabilities::lenient());
    let first_waiting = all.iter().position(Behaviour::waits).unwrap();
    assert!(all[first_waiting..].iter().all(|behaviour| behaviour.waits()
        || behaviour.name().starts_with("dummy::")
        || behaviour.name().starts_with("not_ported::")));
    assert!(all[..first_waiting].iter().all(|behaviour| !behaviour.waits()));
}
