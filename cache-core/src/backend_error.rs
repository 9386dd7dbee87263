//! What a backend reports when an operation fails: [`BackendError`].
//!
//! A backend knows the server it talked to, never the alias it serves or the key the caller
//! gave; the façade adds both when it turns a `BackendError` into the public
//! [`CacheError`](crate::CacheError). That conversion happens in one place, so no backend fills
//! in placeholders and no backend reads its own error back out of a `CacheError`.

use std::fmt;

use crate::error::{BoxError, KeyProblem};

/// The result of every [`CacheBackend`](crate::CacheBackend) method.
pub type BackendResult<T> = std::result::Result<T, BackendError>;

/// What went wrong, in terms a caller can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `incr` on a key that does not exist.
    KeyNotFound,
    /// `incr` on a stored value that is not a decimal integer.
    NotAnInteger,
    /// `incr` by `delta` would leave the signed 64-bit range.
    Overflow {
        /// The delta that overflowed.
        delta: i64,
    },
    /// The value is larger than the backend accepts.
    ValueTooLarge {
        /// The encoded size, in bytes.
        size: usize,
        /// The backend's limit, in bytes.
        limit: usize,
    },
    /// The backend refused the key it was given (a backend called directly, past the façade's checks).
    InvalidKey(KeyProblem),
    /// No answer in time.
    Timeout(Wait),
    /// The server can't be reached right now.
    Unavailable(Unavailability),
    /// The server answered with a refusal (an error reply, an authentication failure, out of memory).
    RefusedByServer,
    /// The server's reply broke the protocol: not the server expected, or a broken one.
    Protocol,
    /// The backend can't do what was asked (a command the server doesn't know, an expiry it can't store).
    Unsupported,
    /// Local I/O failed (a file, a socket error that is none of the above).
    Io,
}

/// Which wait ran out, for [`ErrorKind::Timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Wait {
    /// Connecting to the server.
    Connect,
    /// Waiting for the reply to a request already sent.
    Response,
}

/// Why a server can't be reached, for [`ErrorKind::Unavailable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unavailability {
    /// The connection was refused: nothing listens there.
    Refused,
    /// The connection closed or broke.
    Closed,
    /// Recent calls to the server failed, so calls fail at once until its cool-down ends.
    CircuitOpen,
    /// The call was made where the backend can't run it (outside a tokio runtime).
    NoRuntime,
}

/// A failed backend operation: its [`ErrorKind`], the server it concerns, what failed, and the
/// underlying error.
///
/// Build one with a kind's constructor ([`BackendError::timeout`], [`BackendError::protocol`], …)
/// and name the server with [`BackendError::on_server`].
pub struct BackendError {
    // Boxed: a backend's `Result` stays one pointer wide on the hot path, where errors are rare.
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    retryable: bool,
    server: Option<String>,
    detail: Option<String>,
    source: Option<BoxError>,
}

impl BackendError {
    /// An error of `kind`, retryable when the kind usually is (timeouts, unavailable servers, I/O).
    pub fn new(kind: ErrorKind) -> Self {
        let retryable = matches!(kind, ErrorKind::Timeout(_) | ErrorKind::Unavailable(_) | ErrorKind::Io);
        BackendError {
            inner: Box::new(Inner {
                kind,
                retryable,
                server: None,
                detail: None,
                source: None,
            }),
        }
    }

    /// `incr` on a missing key.
    pub fn key_not_found() -> Self {
        BackendError::new(ErrorKind::KeyNotFound)
    }

    /// `incr` on a value that is not a decimal integer.
    pub fn not_an_integer() -> Self {
        BackendError::new(ErrorKind::NotAnInteger)
    }

    /// `incr` by `delta` leaves the signed 64-bit range.
    pub fn overflow(delta: i64) -> Self {
        BackendError::new(ErrorKind::Overflow { delta })
    }

    /// A value of `size` bytes over the backend's `limit`.
    pub fn value_too_large(size: usize, limit: usize) -> Self {
        BackendError::new(ErrorKind::ValueTooLarge { size, limit })
    }

    /// No answer within the wait named, `detail` saying which setting bounds it.
    pub fn timeout(wait: Wait, detail: impl Into<String>) -> Self {
        BackendError::new(ErrorKind::Timeout(wait)).with_detail(detail)
    }

    /// The server can't be reached, `detail` saying what happened and what to check.
    pub fn unavailable(why: Unavailability, detail: impl Into<String>) -> Self {
        BackendError::new(ErrorKind::Unavailable(why)).with_detail(detail)
    }

    /// The server refused the request; `detail` carries its words.
    pub fn refused_by_server(detail: impl Into<String>) -> Self {
        BackendError::new(ErrorKind::RefusedByServer).with_detail(detail)
    }

    /// A reply that breaks the protocol.
    pub fn protocol(detail: impl Into<String>) -> Self {
        BackendError::new(ErrorKind::Protocol).with_detail(detail)
    }

    /// Something the backend can't do.
    pub fn unsupported(detail: impl Into<String>) -> Self {
        BackendError::new(ErrorKind::Unsupported).with_detail(detail)
    }

    /// Local I/O failed.
    pub fn io(detail: impl Into<String>, source: std::io::Error) -> Self {
        BackendError::new(ErrorKind::Io).with_detail(detail).with_source(source)
    }

    /// The call was made outside a tokio runtime, which `backend` needs for its sockets.
    pub fn no_runtime(backend: &str) -> Self {
        BackendError::unavailable(
            Unavailability::NoRuntime,
            format!(
                "the {backend} backend was called outside a tokio runtime; call the cache from async code \
                 running on tokio (e.g. inside `#[tokio::main]`, or `Runtime::block_on`)"
            ),
        )
        // Trying again from the same place fails the same way.
        .retryable(false)
    }

    /// Names the server the error concerns, as users would recognise it (`redis://host:6379/0`,
    /// `memcached 127.0.0.1:11211`).
    pub fn on_server(mut self, server: impl Into<String>) -> Self {
        self.inner.server = Some(server.into());
        self
    }

    /// What failed and what to check, in words.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.inner.detail = Some(detail.into());
        self
    }

    /// The underlying error, kept for `Error::source()`.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// Overrides whether the same call may succeed if tried again (a server that refused because
    /// it is loading or out of memory may accept later).
    pub fn retryable(mut self, retryable: bool) -> Self {
        self.inner.retryable = retryable;
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// The server it concerns, when the backend has servers.
    pub fn server(&self) -> Option<&str> {
        self.inner.server.as_deref()
    }

    /// Whether the same call may succeed if tried again.
    pub fn is_retryable(&self) -> bool {
        self.inner.retryable
    }

    /// Whether no answer came in time.
    pub fn is_timeout(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Timeout(_))
    }

    /// Whether the server could not be reached (refused, closed, circuit open, no runtime).
    pub fn is_unavailable(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Unavailable(_))
    }

    /// Whether this is a failure of the server or of the way to it (a timeout, an unreachable
    /// server, an open circuit, a refusal, a broken reply, an I/O error), rather than something
    /// for the caller to fix (a key, a value, an integer, a call outside a runtime, an operation
    /// the backend can't do). What fail-silently (`ignore_exceptions`) swallows, and what a tiered
    /// alias' fail-safe answers with a last good value.
    pub fn is_server_failure(&self) -> bool {
        match self.inner.kind {
            ErrorKind::Timeout(_)
            | ErrorKind::Unavailable(Unavailability::Refused | Unavailability::Closed | Unavailability::CircuitOpen)
            | ErrorKind::RefusedByServer
            | ErrorKind::Protocol
            | ErrorKind::Io => true,
            ErrorKind::Unavailable(Unavailability::NoRuntime)
            | ErrorKind::KeyNotFound
            | ErrorKind::NotAnInteger
            | ErrorKind::Overflow { .. }
            | ErrorKind::ValueTooLarge { .. }
            | ErrorKind::InvalidKey(_)
            | ErrorKind::Unsupported => false,
        }
    }

    /// Whether the call was refused at once, without reaching the server, because its circuit
    /// breaker is open after consecutive failures.
    pub fn is_circuit_open(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Unavailable(Unavailability::CircuitOpen))
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Inner {
            kind, server, detail, ..
        } = &*self.inner;
        if let Some(server) = server {
            write!(f, "{server}: ")?;
        }
        match (detail, kind) {
            (Some(detail), _) => f.write_str(detail),
            (None, ErrorKind::KeyNotFound) => f.write_str("key not found"),
            (None, ErrorKind::NotAnInteger) => f.write_str("the stored value is not an integer"),
            (None, ErrorKind::Overflow { delta }) => {
                write!(f, "incrementing by {delta} overflows a signed 64-bit integer")
            }
            (None, ErrorKind::ValueTooLarge { size, limit }) => {
                write!(
                    f,
                    "the value is {size} bytes, over the backend's limit of {limit} bytes"
                )
            }
            (None, ErrorKind::InvalidKey(problem)) => write!(f, "{problem}"),
            (None, ErrorKind::Timeout(Wait::Connect)) => f.write_str("connecting timed out"),
            (None, ErrorKind::Timeout(Wait::Response)) => f.write_str("no answer in time"),
            (None, ErrorKind::Unavailable(Unavailability::Refused)) => f.write_str("connection refused"),
            (None, ErrorKind::Unavailable(Unavailability::Closed)) => f.write_str("connection closed"),
            (None, ErrorKind::Unavailable(Unavailability::CircuitOpen)) => {
                f.write_str("circuit open: recent calls failed, so calls fail at once until the cool-down ends")
            }
            (None, ErrorKind::Unavailable(Unavailability::NoRuntime)) => f.write_str("called outside a tokio runtime"),
            (None, ErrorKind::RefusedByServer) => f.write_str("the server refused the request"),
            (None, ErrorKind::Protocol) => f.write_str("the reply broke the protocol"),
            (None, ErrorKind::Unsupported) => f.write_str("not supported by this backend"),
            (None, ErrorKind::Io) => f.write_str("I/O failed"),
        }
    }
}

impl fmt::Debug for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendError")
            .field("kind", &self.inner.kind)
            .field("retryable", &self.inner.retryable)
            .field("server", &self.inner.server)
            .field("detail", &self.inner.detail)
            .field("source", &self.inner.source)
            .finish()
    }
}

impl std::error::Error for BackendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_decide_retryable_unless_overridden() {
        assert!(BackendError::timeout(Wait::Response, "slow").is_retryable());
        assert!(BackendError::unavailable(Unavailability::Refused, "down").is_retryable());
        assert!(!BackendError::protocol("garbage").is_retryable());
        assert!(BackendError::refused_by_server("OOM").retryable(true).is_retryable());
        assert!(!BackendError::key_not_found().is_retryable());
    }

    #[test]
    fn display_names_the_server_then_the_detail() {
        let error = BackendError::protocol("a VALUE block for another key").on_server("memcached 127.0.0.1:1");
        assert_eq!(
            error.to_string(),
            "memcached 127.0.0.1:1: a VALUE block for another key"
        );
        assert_eq!(error.server(), Some("memcached 127.0.0.1:1"));
        assert_eq!(
            BackendError::overflow(5).to_string(),
            "incrementing by 5 overflows a signed 64-bit integer"
        );
    }
}
