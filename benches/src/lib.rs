//! Benchmarks only: see `benches/` and README.md. What follows is shared by the bench files.
// Every dependency must be used: a declared but unused one costs build time for nothing.
#![cfg_attr(not(test), deny(unused_crate_dependencies))]

use std::future::IntoFuture;

use futures::FutureExt;

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
