//! The runner itself: it chooses tests by capabilities, reports failures instead of hiding them,
//! and filters by name.
#![cfg(feature = "testkit")]

use std::sync::Arc;

use cache_core::testkit::{Subject, Time, run_matching};
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

#[tokio::test]
async fn a_misbehaving_backend_fails_with_the_report() {
    let subject = forgetful_subject();
    let run = tokio::spawn(async move {
        run_matching(&subject, |name| {
            name == "basic::simple" || name == "basic::delete_nonexistent"
        })
        .await
    });
    let panic = run.await.expect_err("the run must fail").into_panic();
    let message = panic.downcast_ref::<String>().expect("the panic carries the report");
    assert!(message.starts_with("1 conformance test(s) failed"), "{message}");
    assert!(message.contains("\n  basic::simple: "), "{message}");
    assert!(!message.contains("basic::delete_nonexistent"), "{message}");
}

#[tokio::test]
async fn tests_are_chosen_by_capabilities_and_filtered_by_name() {
    let subject = forgetful_subject();
    let report = run_matching(&subject, |name| {
        name.starts_with("dummy::") || name == "limits::value_too_large" || name == "basic::delete_nonexistent"
    })
    .await;
    assert_eq!(report.passed(), ["basic::delete_nonexistent"]);
    for (name, reason) in report.skipped() {
        assert!(
            name.starts_with("dummy::") || name == "limits::value_too_large",
            "{name} skipped: {reason}"
        );
        assert!(!reason.is_empty());
    }
    assert!(report.failed().is_empty());
}
