//! Benchmarks only: see `benches/` and README.md. What follows is shared by the bench files.
// Every dependency must be used: a declared but unused one costs build time for nothing.
#![cfg_attr(not(test), deny(unused_crate_dependencies))]

use std::future::IntoFuture;

use bytes::Bytes;
use futures::FutureExt;

/// `count` keys shaped like an application's (`user:<i>:profile`), the working set of the
/// in-process and file/database benches.
pub fn profile_keys(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("user:{i}:profile")).collect()
}

/// The value those benches store: sixty bytes of JSON, like a small rendered fragment.
pub fn small_value() -> Bytes {
    Bytes::from_static(b"\"a small cached value of sixty bytes, like a rendered fragment\"")
}

/// The middle value (the upper one of an even count).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The output of a future that completes on its first poll: the façade's and the components'
/// futures do on locmem, so a benchmark loop over them needs no runtime.
pub fn now<F: IntoFuture>(future: F) -> F::Output {
    future
        .into_future()
        .now_or_never()
        .expect("an in-process call completes at once")
}
