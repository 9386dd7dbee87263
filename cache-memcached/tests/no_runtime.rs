//! A call made outside a tokio runtime is an error naming the cause, never a panic: the client's
//! connection tasks and timeouts need tokio.

use cache_core::{Cache, CacheOptions, ErrorKind, Unavailability};
use cache_memcached::MemcachedBackend;
use std::future::IntoFuture;
use std::sync::Arc;

#[test]
fn calls_outside_a_tokio_runtime_are_errors_not_panics() {
    // Nothing listens there: the check comes before any connection attempt.
    let backend = MemcachedBackend::builder().server("127.0.0.1:1").build().unwrap();
    let cache = Cache::new("default", Arc::new(backend), CacheOptions::default());
    for error in [
        futures::executor::block_on(cache.get::<String>("k").into_future()).unwrap_err(),
        futures::executor::block_on(cache.set("k", "v").into_future()).unwrap_err(),
        futures::executor::block_on(cache.get_many::<_, String>(&["a", "b"]).into_future()).unwrap_err(),
    ] {
        let kind = error.backend_error().map(|error| error.kind().clone());
        assert_eq!(kind, Some(ErrorKind::Unavailable(Unavailability::NoRuntime)), "{error}");
        assert!(error.to_string().contains("outside a tokio runtime"), "{error}");
        assert!(error.to_string().contains("127.0.0.1:1"), "{error}");
    }
}
