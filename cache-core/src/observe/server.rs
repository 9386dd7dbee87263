//! Letting a backend name, in the call's span, the server it talked to.

use std::fmt::Display;

/// Records `server` as the `server` field of the running call's `cache` span, for backends that
/// pick a server per call (memcached's hash ring, Redis' writer or replica). Free when debug
/// logging is off: the span is checked before anything is formatted.
pub fn record_server(server: &dyn Display) {
    if tracing::enabled!(tracing::Level::DEBUG) {
        let span = tracing::Span::current();
        if !span.is_disabled() {
            span.record("server", tracing::field::display(server));
        }
    }
}
