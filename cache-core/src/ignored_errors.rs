//! Fail-silently (django-redis' `IGNORE_EXCEPTIONS`, pymemcache's `ignore_exc`): which errors an
//! alias may swallow, and the rate-limited warning it gives when it does.

use std::time::Duration;

use crate::backend_error::BackendError;
use crate::clock::Clock;
use crate::error::CacheError;
use crate::warning_gate::WarningGate;

/// At most one warning per alias in this long about the errors it ignored.
pub const IGNORED_ERROR_WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// Whether an alias with `ignore_exceptions` on may turn `error` into a miss or a dropped write:
/// only failures of the server or the connection to it (a timeout, an unreachable server, an open
/// circuit, a refusal, a broken reply, an I/O error). Configuration, key, value, codec and integer
/// errors, a call outside a runtime and an operation the backend can't do are the caller's to fix,
/// and are never swallowed.
pub(crate) fn is_ignorable(error: &CacheError) -> bool {
    error.backend_error().is_some_and(BackendError::is_server_failure)
}

/// The warning side of fail-silently: the first ignored error warns, then at most one warning per
/// [`IGNORED_ERROR_WARNING_INTERVAL`], saying how many were ignored without one.
pub(crate) struct IgnoredErrors {
    gate: WarningGate,
}

impl IgnoredErrors {
    pub(crate) fn new(clock: Clock) -> Self {
        IgnoredErrors {
            gate: WarningGate::with_clock(IGNORED_ERROR_WARNING_INTERVAL, clock),
        }
    }

    /// Notes one ignored error; warns when the last warning is old enough. Returns whether it warned.
    pub(crate) fn report(&self, alias: &str, operation: &str, error: &CacheError) -> bool {
        let Some(unreported) = self.gate.admit() else {
            return false;
        };
        let others = match unreported {
            0 => String::new(),
            n => format!(" ({n} more ignored since the last warning)"),
        };
        tracing::warn!(
            alias,
            "ignoring a failed {operation} because options.ignore_exceptions is on: {error}{others}; at most one such \
             warning every {}s",
            IGNORED_ERROR_WARNING_INTERVAL.as_secs()
        );
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend_error::{Unavailability, Wait};

    fn failure(error: BackendError) -> CacheError {
        CacheError::from_backend("a", Some("k"), error)
    }

    #[test]
    fn only_server_failures_are_ignorable() {
        assert!(is_ignorable(&failure(BackendError::timeout(Wait::Response, "slow"))));
        assert!(is_ignorable(&failure(BackendError::unavailable(
            Unavailability::CircuitOpen,
            "open"
        ))));
        assert!(is_ignorable(&failure(BackendError::refused_by_server("OOM"))));
        assert!(is_ignorable(&failure(BackendError::protocol("garbage"))));
        assert!(!is_ignorable(&failure(BackendError::no_runtime("x"))));
        assert!(!is_ignorable(&failure(BackendError::key_not_found())));
        assert!(!is_ignorable(&failure(BackendError::not_an_integer())));
        assert!(!is_ignorable(&failure(BackendError::value_too_large(2, 1))));
        assert!(!is_ignorable(&failure(BackendError::unsupported("no"))));
        assert!(!is_ignorable(&CacheError::config(Some("a"), "timeout", "bad")));
    }

    #[test]
    fn warns_at_most_once_per_interval_and_counts_the_rest() {
        let clock = Clock::manual();
        let ignored = IgnoredErrors::new(clock.clone());
        let error = failure(BackendError::timeout(Wait::Response, "slow"));
        assert!(ignored.report("a", "get", &error));
        for _ in 0..5 {
            assert!(!ignored.report("a", "get", &error));
        }
        clock.advance(IGNORED_ERROR_WARNING_INTERVAL - Duration::from_millis(1));
        assert!(!ignored.report("a", "set", &error));
        clock.advance(Duration::from_millis(1));
        assert!(ignored.report("a", "set", &error));
    }

    #[cfg(feature = "testkit")]
    #[tokio::test]
    async fn the_warning_names_the_alias_operation_error_and_count() {
        let clock = Clock::manual();
        let ignored = IgnoredErrors::new(clock.clone());
        let error = failure(BackendError::timeout(Wait::Response, "no reply within 1s"));
        let ((), warnings) = crate::testkit::capture_warnings(async {
            ignored.report("a", "get", &error);
            ignored.report("a", "get", &error);
            ignored.report("a", "get", &error);
            clock.advance(IGNORED_ERROR_WARNING_INTERVAL);
            ignored.report("a", "delete", &error);
        })
        .await;
        assert_eq!(
            warnings,
            [
                "ignoring a failed get because options.ignore_exceptions is on: cache alias `a`, key 'k': no reply \
                 within 1s; at most one such warning every 10s",
                "ignoring a failed delete because options.ignore_exceptions is on: cache alias `a`, key 'k': no reply \
                 within 1s (2 more ignored since the last warning); at most one such warning every 10s"
            ]
        );
    }
}
