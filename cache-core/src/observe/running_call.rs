//! [`Running`]: a façade call while it runs, timed and traced when someone is listening.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use tracing::Span;

use super::key_digest::KeyDigest;
use super::operation_name::OperationName;
use crate::cache::Cache;
use crate::call::{CallOptions, Operation};

/// What awaiting a [`Call`](crate::call::Call) runs: the operation's future, inside a debug-level
/// `cache` span and timed for the latency histogram when either is wanted, bare otherwise.
#[must_use = "futures do nothing unless polled"]
pub struct Running<'a, F: Future> {
    future: F,
    /// `None` when neither a span nor the histogram wants the call: nothing is allocated or timed.
    watch: Option<Box<Watch<'a, F::Output>>>,
}

struct Watch<'a, Output> {
    cache: &'a Cache,
    operation: OperationName,
    outcome: fn(&Output) -> &'static str,
    started: Instant,
    span: Span,
}

impl<'a, F: Future + Unpin> Running<'a, F> {
    #[inline]
    pub(crate) fn start<Op: Operation<'a, Future = F, Output = F::Output>>(
        cache: &'a Cache,
        op: Op,
        options: CallOptions,
    ) -> Self {
        // The common case, decided by one load of tracing's global level and one of a flag: no
        // span is built (not even a disabled one) and nothing is timed.
        if !tracing::level_enabled!(tracing::Level::DEBUG) && !cache.inner.instruments.records_latency() {
            return Running {
                future: op.start(cache, options),
                watch: None,
            };
        }
        Running::watched(cache, op, options)
    }

    #[cold]
    fn watched<Op: Operation<'a, Future = F, Output = F::Output>>(
        cache: &'a Cache,
        op: Op,
        options: CallOptions,
    ) -> Self {
        let operation = op.name();
        let span = tracing::debug_span!(
            "cache",
            alias = cache.alias(),
            operation = operation.as_str(),
            backend = cache.backend().name(),
            key = %KeyDigest::of(cache, op.key()),
            server = tracing::field::Empty,
            outcome = tracing::field::Empty,
            elapsed_us = tracing::field::Empty,
        );
        if span.is_disabled() && !cache.inner.instruments.records_latency() {
            return Running {
                future: op.start(cache, options),
                watch: None,
            };
        }
        let watch = Box::new(Watch {
            cache,
            operation,
            outcome: Op::outcome,
            started: Instant::now(),
            span,
        });
        // Entered while starting too: an in-process backend answers inside `start`.
        let future = watch.span.in_scope(|| op.start(cache, options));
        Running {
            future,
            watch: Some(watch),
        }
    }
}

impl<F: Future + Unpin> Future for Running<'_, F> {
    type Output = F::Output;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let Some(watch) = &this.watch else {
            return Pin::new(&mut this.future).poll(cx);
        };
        let polled = watch.span.in_scope(|| Pin::new(&mut this.future).poll(cx));
        if let Poll::Ready(output) = &polled {
            let elapsed = watch.started.elapsed();
            watch.cache.inner.instruments.record_latency(watch.operation, elapsed);
            let outcome = (watch.outcome)(output);
            let elapsed_us = elapsed.as_micros() as u64;
            watch.span.record("outcome", outcome);
            watch.span.record("elapsed_us", elapsed_us);
            // The fields are the span's; the event is what a plain log line prints when it ends.
            tracing::debug!(parent: &watch.span, "{} {outcome} in {elapsed_us}µs", watch.operation);
        }
        polled
    }
}

impl<F: Future> fmt::Debug for Running<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Running")
            .field("operation", &self.watch.as_ref().map(|watch| watch.operation))
            .finish_non_exhaustive()
    }
}
