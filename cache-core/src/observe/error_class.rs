//! Which errors are the servers' and which are the caller's: counted apart, so an alert on
//! server failures doesn't fire because an application `incr`s a missing key.

use crate::backend_error::{ErrorKind, Unavailability};
use crate::error::CacheError;

/// Who has to act on an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Blame {
    /// The server or the connection to it failed: an operator's concern (`cache_errors_total`).
    Server,
    /// The call itself was wrong, or asked for what isn't there: the application's concern
    /// (`cache_caller_errors_total`).
    Caller,
}

/// The `kind` label of an error, and whose it is. Every kind, with its blame, in one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum ErrorLabel {
    Timeout,
    Unavailable,
    RefusedByServer,
    Protocol,
    Io,
    InvalidKey,
    KeyNotFound,
    NotAnInteger,
    Overflow,
    ValueTooLarge,
    Codec,
    Unsupported,
    NoRuntime,
    Config,
}

impl ErrorLabel {
    pub(crate) const COUNT: usize = 14;

    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            ErrorLabel::Timeout => "timeout",
            ErrorLabel::Unavailable => "unavailable",
            ErrorLabel::RefusedByServer => "refused_by_server",
            ErrorLabel::Protocol => "protocol",
            ErrorLabel::Io => "io",
            ErrorLabel::InvalidKey => "invalid_key",
            ErrorLabel::KeyNotFound => "key_not_found",
            ErrorLabel::NotAnInteger => "not_an_integer",
            ErrorLabel::Overflow => "overflow",
            ErrorLabel::ValueTooLarge => "value_too_large",
            ErrorLabel::Codec => "codec",
            ErrorLabel::Unsupported => "unsupported",
            ErrorLabel::NoRuntime => "no_runtime",
            ErrorLabel::Config => "config",
        }
    }

    pub(crate) const fn blame(self) -> Blame {
        match self {
            ErrorLabel::Timeout
            | ErrorLabel::Unavailable
            | ErrorLabel::RefusedByServer
            | ErrorLabel::Protocol
            | ErrorLabel::Io => Blame::Server,
            // An unsupported operation, a call outside a runtime and a misconfiguration are fixed
            // in the application, like a bad key.
            ErrorLabel::InvalidKey
            | ErrorLabel::KeyNotFound
            | ErrorLabel::NotAnInteger
            | ErrorLabel::Overflow
            | ErrorLabel::ValueTooLarge
            | ErrorLabel::Codec
            | ErrorLabel::Unsupported
            | ErrorLabel::NoRuntime
            | ErrorLabel::Config => Blame::Caller,
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    pub(crate) fn of(error: &CacheError) -> ErrorLabel {
        match error {
            CacheError::InvalidKey(_) => ErrorLabel::InvalidKey,
            CacheError::KeyNotFound { .. } => ErrorLabel::KeyNotFound,
            CacheError::NotAnInteger { .. } => ErrorLabel::NotAnInteger,
            CacheError::Overflow { .. } | CacheError::VersionOverflow { .. } => ErrorLabel::Overflow,
            CacheError::ValueTooLarge { .. } => ErrorLabel::ValueTooLarge,
            CacheError::Codec { .. } => ErrorLabel::Codec,
            CacheError::Backend { source, .. } => match source.kind() {
                ErrorKind::Timeout(_) => ErrorLabel::Timeout,
                ErrorKind::Unavailable(Unavailability::NoRuntime) => ErrorLabel::NoRuntime,
                ErrorKind::Unavailable(_) => ErrorLabel::Unavailable,
                ErrorKind::RefusedByServer => ErrorLabel::RefusedByServer,
                ErrorKind::Protocol => ErrorLabel::Protocol,
                ErrorKind::Io => ErrorLabel::Io,
                ErrorKind::Unsupported => ErrorLabel::Unsupported,
                // The façade turns these into their own variants; kept for completeness.
                ErrorKind::KeyNotFound => ErrorLabel::KeyNotFound,
                ErrorKind::NotAnInteger => ErrorLabel::NotAnInteger,
                ErrorKind::Overflow { .. } => ErrorLabel::Overflow,
                ErrorKind::ValueTooLarge { .. } => ErrorLabel::ValueTooLarge,
                ErrorKind::InvalidKey(_) => ErrorLabel::InvalidKey,
            },
            _ => ErrorLabel::Config,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend_error::{BackendError, Wait};

    #[test]
    fn a_missing_key_is_the_callers_and_a_timeout_the_servers() {
        let missing = CacheError::KeyNotFound { key: "k".into() };
        assert_eq!(ErrorLabel::of(&missing).blame(), Blame::Caller);
        let timeout = CacheError::from_backend("a", Some("k"), BackendError::timeout(Wait::Response, "no answer"));
        assert_eq!(ErrorLabel::of(&timeout), ErrorLabel::Timeout);
        assert_eq!(ErrorLabel::of(&timeout).blame(), Blame::Server);
    }

    #[test]
    fn every_label_has_a_distinct_index_below_count() {
        let labels = [
            ErrorLabel::Timeout,
            ErrorLabel::Unavailable,
            ErrorLabel::RefusedByServer,
            ErrorLabel::Protocol,
            ErrorLabel::Io,
            ErrorLabel::InvalidKey,
            ErrorLabel::KeyNotFound,
            ErrorLabel::NotAnInteger,
            ErrorLabel::Overflow,
            ErrorLabel::ValueTooLarge,
            ErrorLabel::Codec,
            ErrorLabel::Unsupported,
            ErrorLabel::NoRuntime,
            ErrorLabel::Config,
        ];
        assert_eq!(labels.len(), ErrorLabel::COUNT);
        for (index, label) in labels.iter().enumerate() {
            assert_eq!(label.index(), index);
        }
    }
}
