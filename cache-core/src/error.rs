//! The one error type every cache operation and every configuration step returns.

use std::error::Error as StdError;
use std::fmt;

use crate::backend_error::{BackendError, ErrorKind};

/// A boxed source error kept for `Error::source()` chains.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// The result of every cache operation.
pub type Result<T, E = CacheError> = std::result::Result<T, E>;

/// Everything that can go wrong, each message naming what to fix.
///
/// A miss is `Ok(None)`, never an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// A configuration value is missing, of the wrong type or out of range.
    #[error("{}{field}: {message}", alias_prefix(alias))]
    Config {
        /// The alias whose entry is wrong, if the problem belongs to one.
        alias: Option<String>,
        /// The field, as written in the config file (`timeout`, `options.max_entries`, …).
        field: String,
        /// What was expected, and what to do about it.
        message: String,
    },

    /// Several configuration problems, all found in one pass (each a [`CacheError::Config`] or a
    /// [`CacheError::UnknownBackend`]), so one run shows every fix to make. A pass that finds one
    /// problem returns it as it is.
    #[error("{} problems in the cache configuration:{}", errors.len(), bullet_list(errors))]
    ConfigErrors {
        /// Every problem, in the order found (aliases by name, fields in the order they are read).
        errors: Vec<CacheError>,
    },

    /// The `backend` of an alias names no registered backend.
    #[error(
        "cache alias `{alias}`: unknown backend `{backend}`; registered backends are: {}. \
         Register the backend crate's factory with `Backends::register` or fix the name",
        known.join(", ")
    )]
    UnknownBackend {
        /// The alias that names it.
        alias: String,
        /// The name as written.
        backend: String,
        /// Every name the registry knows.
        known: Vec<String>,
    },

    /// `Caches::get` was asked for an alias the configuration does not define.
    #[error("the cache alias `{alias}` doesn't exist; configured aliases are: {}", known.join(", "))]
    UnknownAlias {
        /// The alias asked for.
        alias: String,
        /// The configured aliases.
        known: Vec<String>,
    },

    /// A key breaks a rule of a backend whose keys are strict (memcached), found before any I/O.
    #[error("{0}")]
    InvalidKey(KeyProblem),

    /// `incr`, `decr` or `incr_version` on a key that does not exist.
    #[error("Key '{key}' not found")]
    KeyNotFound {
        /// The key as the caller gave it.
        key: String,
    },

    /// `incr`/`decr` on a stored value that is not a decimal integer.
    #[error("cache alias `{alias}`: the value stored at '{key}' is not an integer, so it can't be incremented")]
    NotAnInteger {
        /// The alias.
        alias: String,
        /// The key as the caller gave it.
        key: String,
    },

    /// `incr`/`decr` would leave the signed 64-bit range.
    #[error("cache alias `{alias}`: incrementing '{key}' by {delta} overflows a signed 64-bit integer")]
    Overflow {
        /// The alias.
        alias: String,
        /// The key as the caller gave it.
        key: String,
        /// The delta that overflowed.
        delta: i64,
    },

    /// `incr_version`/`decr_version` would move a key past the signed 64-bit version range.
    #[error("cache alias `{alias}`: moving '{key}' from version {version} by {delta:+} leaves the signed 64-bit range")]
    VersionOverflow {
        /// The alias.
        alias: String,
        /// The key as the caller gave it.
        key: String,
        /// The version it is at.
        version: i64,
        /// The requested change (`decr_version`'s delta is shown negated, saturating at `i64::MIN`).
        delta: i64,
    },

    /// A value is larger than the backend accepts.
    #[error("cache alias `{alias}`: the value for '{key}' is {size} bytes, over the backend's limit of {limit} bytes")]
    ValueTooLarge {
        /// The alias.
        alias: String,
        /// The key as the caller gave it.
        key: String,
        /// The encoded size.
        size: usize,
        /// The backend's limit.
        limit: usize,
    },

    /// The codec could not encode a value or decode what is stored.
    #[error("cache alias `{alias}`: can't {action} the value for '{key}': {source}")]
    Codec {
        /// The alias.
        alias: String,
        /// The key as the caller gave it.
        key: String,
        /// `encode` or `decode`.
        action: &'static str,
        /// The codec's own error.
        #[source]
        source: BoxError,
    },

    /// The backend's server or store failed: timeout, unavailable, refused, protocol, I/O.
    #[error("cache alias `{alias}`{}: {source}", key_part(key))]
    Backend {
        /// The alias.
        alias: String,
        /// The key as the caller gave it, for single-key operations.
        key: Option<String>,
        /// What the backend reported: its kind, server and cause.
        #[source]
        source: BackendError,
    },
}

impl CacheError {
    /// A configuration error for one field of one alias.
    pub fn config(alias: Option<&str>, field: impl Into<String>, message: impl Into<String>) -> Self {
        CacheError::Config {
            alias: alias.map(str::to_owned),
            field: field.into(),
            message: message.into(),
        }
    }

    /// Every problem of `errors` as one error: `None` when there are none, the problem itself when
    /// there is one, [`CacheError::ConfigErrors`] (flattened: lists inside the list are opened)
    /// when there are more. A backend's factory uses it to report every bad option at once.
    pub fn combine(errors: impl IntoIterator<Item = CacheError>) -> Option<CacheError> {
        let mut all = Vec::new();
        for error in errors {
            match error {
                CacheError::ConfigErrors { errors } => all.extend(errors),
                other => all.push(other),
            }
        }
        match all.len() {
            0 => None,
            1 => all.pop(),
            _ => Some(CacheError::ConfigErrors { errors: all }),
        }
    }

    /// `first` and every problem of `rest` as one error (see [`CacheError::combine`]), for a step
    /// that has failed already and found more.
    pub fn together(first: CacheError, rest: impl IntoIterator<Item = CacheError>) -> CacheError {
        let mut all = vec![first];
        all.extend(rest);
        // Never empty, so `combine` always has an error to give.
        CacheError::combine(all).unwrap_or(CacheError::ConfigErrors { errors: Vec::new() })
    }

    /// The configuration problems this error stands for: the list of a
    /// [`CacheError::ConfigErrors`], or the error itself.
    pub fn problems(&self) -> &[CacheError] {
        match self {
            CacheError::ConfigErrors { errors } => errors,
            single => std::slice::from_ref(single),
        }
    }

    /// The public error for what `alias`' backend reported while serving the caller's `key`: the
    /// one place a [`BackendError`] crosses into the API users see.
    pub(crate) fn from_backend(alias: &str, key: Option<&str>, error: BackendError) -> Self {
        let caller_key = || key.unwrap_or_default().to_owned();
        match *error.kind() {
            ErrorKind::KeyNotFound => CacheError::KeyNotFound { key: caller_key() },
            ErrorKind::NotAnInteger => CacheError::NotAnInteger {
                alias: alias.to_owned(),
                key: caller_key(),
            },
            ErrorKind::Overflow { delta } => CacheError::Overflow {
                alias: alias.to_owned(),
                key: caller_key(),
                delta,
            },
            ErrorKind::ValueTooLarge { size, limit } => CacheError::ValueTooLarge {
                alias: alias.to_owned(),
                key: caller_key(),
                size,
                limit,
            },
            ErrorKind::InvalidKey(ref problem) => CacheError::InvalidKey(problem.clone()),
            _ => CacheError::Backend {
                alias: alias.to_owned(),
                key: key.map(str::to_owned),
                source: error,
            },
        }
    }

    /// What the backend reported, when the error is a failure of its server or store.
    pub fn backend_error(&self) -> Option<&BackendError> {
        match self {
            CacheError::Backend { source, .. } => Some(source),
            _ => None,
        }
    }

    /// Whether retrying the same call may succeed (a timeout, a lost connection, a server that
    /// is loading).
    pub fn is_retryable(&self) -> bool {
        self.backend_error().is_some_and(BackendError::is_retryable)
    }

    /// Whether the backend's server gave no answer in time.
    pub fn is_timeout(&self) -> bool {
        self.backend_error().is_some_and(BackendError::is_timeout)
    }

    /// Whether the backend's server could not be reached (refused, closed, circuit open).
    pub fn is_unavailable(&self) -> bool {
        self.backend_error().is_some_and(BackendError::is_unavailable)
    }

    /// Whether the call was refused at once, without reaching the server, because the server's
    /// circuit breaker is open (see [`crate::CircuitBreaker`]).
    pub fn is_circuit_open(&self) -> bool {
        self.backend_error().is_some_and(BackendError::is_circuit_open)
    }
}

fn key_part(key: &Option<String>) -> String {
    match key {
        Some(key) => format!(", key '{key}'"),
        None => String::new(),
    }
}

fn bullet_list(errors: &[CacheError]) -> String {
    errors.iter().map(|error| format!("\n- {error}")).collect()
}

fn alias_prefix(alias: &Option<String>) -> String {
    match alias {
        Some(alias) => format!("cache alias `{alias}`: "),
        None => String::new(),
    }
}

/// Why a key was refused or warned about, with Django's exact wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyProblem {
    /// The made key (prefix and version included), as validated.
    pub key: String,
    /// Which rule it breaks.
    pub rule: KeyRule,
}

/// The rules memcached imposes on keys; Django checks the first two for every backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyRule {
    /// Longer than the limit (250 characters).
    TooLong {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// Contains a control character, a space or DEL.
    ForbiddenCharacter,
    /// Within the character limit but longer in UTF-8 bytes, which is what memcached counts.
    /// Only strict backends check it (Django counts characters and lets pymemcache fail later).
    TooManyBytes {
        /// The limit that was exceeded, in bytes.
        limit: usize,
    },
}

impl fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = crate::key::python_repr(&self.key);
        match self.rule {
            KeyRule::TooLong { limit } => write!(
                f,
                "Cache key will cause errors if used with memcached: {key} (longer than {limit})"
            ),
            KeyRule::TooManyBytes { limit } => write!(
                f,
                "Cache key will cause errors if used with memcached: {key} (longer than {limit} bytes in UTF-8)"
            ),
            KeyRule::ForbiddenCharacter => write!(
                f,
                "Cache key contains characters that will cause errors if used with memcached: {key}"
            ),
        }
    }
}
