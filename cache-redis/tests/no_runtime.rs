//! A call made outside a tokio runtime is an error naming the cause, never a panic ("there is no
//! reactor running"): redis-rs' sockets and the backend's timeouts need tokio.

mod common;

use cache_core::{ErrorKind, Location, Unavailability};
use serde_json::json;
use std::future::IntoFuture;

#[test]
fn calls_outside_a_tokio_runtime_are_errors_not_panics() {
    // Nothing listens there: the check comes before any connection attempt.
    let cache = common::cache("default", Location::One("redis://127.0.0.1:1/0".into()), "", json!({})).unwrap();
    for error in [
        futures::executor::block_on(cache.get::<String>("k").into_future()).unwrap_err(),
        futures::executor::block_on(cache.set("k", "v").into_future()).unwrap_err(),
        futures::executor::block_on(cache.incr("k", 1).into_future()).unwrap_err(),
    ] {
        let kind = error.backend_error().map(|error| error.kind().clone());
        assert_eq!(kind, Some(ErrorKind::Unavailable(Unavailability::NoRuntime)), "{error}");
        assert!(error.to_string().contains("outside a tokio runtime"), "{error}");
        assert!(error.to_string().contains("redis://127.0.0.1:1"), "{error}");
    }
}
