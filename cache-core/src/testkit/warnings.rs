//! Capturing the `tracing` warnings a future emits, as Django's tests capture `CacheKeyWarning`s.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing::instrument::WithSubscriber;
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber, span};

/// Runs `future` and returns its output with the message of every `WARN` event it emitted, in order.
///
/// The recording subscriber is the default only while `future` is polled, so warnings from other
/// tasks don't leak in, and the caller's own subscriber, if any, is left in place.
pub async fn capture_warnings<F: Future>(future: F) -> (F::Output, Vec<String>) {
    keep_every_callsite_open();
    let recorder = WarningRecorder::default();
    let output = future.with_subscriber(recorder.clone()).await;
    let messages = std::mem::take(&mut *recorder.messages.lock().unwrap_or_else(PoisonError::into_inner));
    (output, messages)
}

/// Makes sure no `warn!` callsite is cached as "never enabled" before a capture starts.
///
/// `tracing` caches each callsite's interest globally, from the subscribers alive when the callsite
/// first fires. Tests run in parallel threads: a warning first emitted by a test that captures
/// nothing (only the no-op default is current there) could be cached as never-enabled while
/// another test is about to capture it, and that capture would silently miss it. A global default
/// that answers "sometimes" for every callsite (and records nothing) keeps every callsite asking
/// the current subscriber on each event; the rebuild repairs any callsite cached before it was set.
fn keep_every_callsite_open() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        // Fails only when the test binary installed its own global subscriber, which then decides.
        let _ = tracing::subscriber::set_global_default(AskEveryTime);
    });
    tracing::callsite::rebuild_interest_cache();
}

/// The global default [`keep_every_callsite_open`] installs: interested in every callsite,
/// enabled for none, so events outside a capture cost one `enabled` call and go nowhere.
struct AskEveryTime;

impl Subscriber for AskEveryTime {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }

    fn enabled(&self, _: &Metadata<'_>) -> bool {
        false
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        // Never called: `enabled` refuses everything. An id is still required by the trait.
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, _: &Event<'_>) {}

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

/// A minimal subscriber: it keeps the `message` of `WARN` events and ignores everything else.
#[derive(Clone, Default)]
struct WarningRecorder {
    messages: Arc<Mutex<Vec<String>>>,
}

impl Subscriber for WarningRecorder {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        // Decided per call by `enabled`, against whichever subscriber is current then.
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event() && *metadata.level() == Level::WARN
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        // Never called: `enabled` refuses spans. An id is still required by the trait.
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut message = MessageField(None);
        event.record(&mut message);
        if let Some(message) = message.0 {
            self.messages
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(message);
        }
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

/// Pulls the formatted `message` out of an event.
struct MessageField(Option<String>);

impl Visit for MessageField {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn warnings_inside_the_future_are_captured_in_order() {
        let ((), messages) = capture_warnings(async {
            tracing::info!("not a warning");
            tracing::warn!(alias = "default", "first {}", 1);
            tokio::task::yield_now().await;
            tracing::warn!("second");
        })
        .await;
        assert_eq!(messages, ["first 1", "second"]);
    }

    #[tokio::test]
    async fn warnings_outside_the_future_are_not() {
        tracing::warn!("before");
        let ((), messages) = capture_warnings(async {}).await;
        assert!(messages.is_empty());
    }
}
