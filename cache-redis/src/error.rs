//! redis-rs errors as `BackendError`s that say which server and which operation failed, and
//! whether trying again may help.

use std::time::Duration;

use cache_core::{BackendError, CircuitSettings, Unavailability, Wait};
use redis::{ErrorKind, RedisError, RetryMethod, ServerErrorKind};

/// Whether a new connection may fix what `error` broke: the socket failed, or a reply was lost.
pub(crate) fn breaks_connection(error: &RedisError) -> bool {
    error.is_io_error() || error.is_connection_dropped() || error.is_unrecoverable_error()
}

/// Whether `error` means the server didn't answer (a broken or refused connection, a timeout, a
/// reply that isn't RESP). Any error reply (`WRONGTYPE`, `LOADING`, `MOVED`, a refused password)
/// is an answer. The one rule for both a server's circuit breaker and the watch over a cluster
/// connection (`ClusterWatch`): what counts against one counts against the other.
pub(crate) fn server_failed(error: &RedisError) -> bool {
    breaks_connection(error)
        || error.is_timeout()
        || error.is_connection_refusal()
        || matches!(error.kind(), ErrorKind::Parse)
}

/// How users see a server in errors.
fn named(server: &str) -> String {
    format!("redis {server}")
}

/// `error`, from `operation` on `server`, as a `BackendError` (the façade adds the alias).
pub(crate) fn from_redis(server: &str, operation: &str, error: RedisError) -> BackendError {
    let failed = if is_authentication(&error) {
        BackendError::refused_by_server(format!(
            "{operation} failed: authentication failed ({}); check the user name and password of the location URL",
            error.detail().unwrap_or("the server refused the credentials")
        ))
    } else {
        let detail = format!("{operation} failed: {error}");
        if error.is_connection_refusal() {
            BackendError::unavailable(Unavailability::Refused, detail)
        } else if is_connect_timeout(&error) {
            BackendError::timeout(Wait::Connect, detail)
        } else if error.is_timeout() {
            BackendError::timeout(Wait::Response, detail)
        } else if error.is_io_error() || error.is_connection_dropped() {
            BackendError::unavailable(Unavailability::Closed, detail)
        } else if matches!(error.kind(), ErrorKind::Server(_)) {
            BackendError::refused_by_server(detail).retryable(is_retryable(&error))
        } else if matches!(error.kind(), ErrorKind::Parse) {
            BackendError::protocol(detail)
        } else {
            BackendError::new(cache_core::ErrorKind::Io)
                .with_detail(detail)
                .retryable(is_retryable(&error))
        }
    };
    failed.on_server(named(server)).with_source(error)
}

/// No connection within `connect_timeout`: the payload of the io error redis-rs carries, so the
/// failure is told as a connect timeout rather than a response timeout.
#[derive(Debug)]
pub(crate) struct ConnectTimedOut(pub(crate) Duration);

impl std::fmt::Display for ConnectTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no connection within {:?} (options.connect_timeout)", self.0)
    }
}

impl std::error::Error for ConnectTimedOut {}

fn is_connect_timeout(error: &RedisError) -> bool {
    use std::error::Error as _;
    // redis-rs keeps an io error as `Arc<dyn Error>` and hands out the `Arc` as the source.
    error
        .source()
        .and_then(|source| source.downcast_ref::<std::sync::Arc<dyn std::error::Error + Send + Sync>>())
        .and_then(|shared| shared.downcast_ref::<std::io::Error>())
        .and_then(std::io::Error::get_ref)
        .is_some_and(|payload| payload.is::<ConnectTimedOut>())
}

/// The operation got no answer within the alias' `response_timeout`.
pub(crate) fn timed_out(server: &str, operation: &str, timeout: Duration) -> BackendError {
    BackendError::timeout(
        Wait::Response,
        format!("{operation} got no answer within {timeout:?} (options.response_timeout)"),
    )
    .on_server(named(server))
}

/// What went wrong with one round trip, before it is told as a `BackendError`: cheap to clone, so
/// every caller waiting on one batched `MGET` gets its own error.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    /// redis-rs (or the server) failed.
    Redis(RedisError),
    /// No answer within `response_timeout`.
    TimedOut(Duration),
    /// A reply of a shape the command never gives.
    Unexpected(redis::Value),
    /// Called outside a tokio runtime.
    NoRuntime,
    /// The server's circuit breaker is open: nothing was sent.
    CircuitOpen(CircuitSettings),
}

impl Failure {
    /// The `BackendError` for `operation` on `server`.
    pub(crate) fn into_error(self, server: &str, operation: &str) -> BackendError {
        match self {
            Failure::Redis(error) => from_redis(server, operation, error),
            Failure::TimedOut(timeout) => timed_out(server, operation, timeout),
            Failure::Unexpected(reply) => unexpected(server, operation, &reply),
            Failure::NoRuntime => BackendError::no_runtime("redis").on_server(named(server)),
            Failure::CircuitOpen(settings) => {
                let error = BackendError::circuit_open(&settings);
                let detail = format!("{operation} not sent: {error}");
                error.with_detail(detail).on_server(named(server))
            }
        }
    }

    /// The server refused a read of a key that holds another type than a string (a list, a
    /// set…): such a key is no cache entry, and `MGET` reads it as missing too.
    pub(crate) fn is_wrong_type(&self) -> bool {
        matches!(self, Failure::Redis(error) if error.code() == Some("WRONGTYPE"))
    }
}

/// A reply of a shape the command never gives: a bug, or not a Redis server.
pub(crate) fn unexpected(server: &str, operation: &str, reply: &redis::Value) -> BackendError {
    BackendError::protocol(format!("{operation}: unexpected reply {reply:?}")).on_server(named(server))
}

fn is_authentication(error: &RedisError) -> bool {
    error.kind() == ErrorKind::AuthenticationFailed || matches!(error.code(), Some("WRONGPASS" | "NOAUTH"))
}

fn is_retryable(error: &RedisError) -> bool {
    if error.is_io_error() || error.is_timeout() || error.is_connection_dropped() || error.is_connection_refusal() {
        return true;
    }
    match error.kind() {
        ErrorKind::Server(
            ServerErrorKind::BusyLoading
            | ServerErrorKind::TryAgain
            | ServerErrorKind::ClusterDown
            | ServerErrorKind::MasterDown
            | ServerErrorKind::ReadOnly
            | ServerErrorKind::Moved
            | ServerErrorKind::Ask,
        ) => true,
        ErrorKind::Server(_) => false,
        _ => !matches!(error.retry_method(), RetryMethod::NoRetry),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_failures_are_retryable_and_name_the_server() {
        let refused = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        let error = from_redis("redis://127.0.0.1:1", "GET", refused);
        assert!(error.is_retryable());
        assert!(error.is_unavailable());
        let message = error.to_string();
        assert!(message.contains("redis redis://127.0.0.1:1: GET failed"), "{message}");
        assert!(timed_out("s", "SET", Duration::from_millis(500)).is_retryable());
    }

    #[test]
    fn a_connect_timeout_is_told_apart_from_a_response_timeout() {
        let connect = RedisError::from(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            ConnectTimedOut(Duration::from_millis(300)),
        ));
        let error = from_redis("s", "GET", connect);
        assert_eq!(*error.kind(), cache_core::ErrorKind::Timeout(Wait::Connect), "{error}");
        assert!(error.to_string().contains("options.connect_timeout"), "{error}");
        let response = RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut));
        assert_eq!(
            *from_redis("s", "GET", response).kind(),
            cache_core::ErrorKind::Timeout(Wait::Response)
        );
    }

    #[test]
    fn refused_commands_are_permanent() {
        let error = RedisError::from((
            ErrorKind::Server(ServerErrorKind::ResponseError),
            "bad",
            "detail".to_owned(),
        ));
        assert!(!from_redis("s", "EVALSHA", error).is_retryable());
        let auth = RedisError::from((ErrorKind::AuthenticationFailed, "Password authentication failed"));
        let error = from_redis("s", "GET", auth);
        assert!(!error.is_retryable());
        assert!(
            error.to_string().contains("check the user name and password"),
            "{error}"
        );
    }
}
