//! The one error type every cache operation and every configuration step returns.

use std::error::Error as StdError;
use std::fmt;

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

    /// The backend's server or store failed: I/O, protocol, timeout.
    #[error("cache alias `{alias}`: {message}{}", if *retryable { " (retryable)" } else { "" })]
    Backend {
        /// The alias (filled in by the façade when a backend leaves it empty).
        alias: String,
        /// What failed.
        message: String,
        /// Whether the same call may succeed if tried again (connection lost, timeout).
        retryable: bool,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
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

    /// A backend failure that may succeed when tried again (connection refused or lost, timeout).
    pub fn retryable(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        CacheError::Backend {
            alias: String::new(),
            message: message.into(),
            retryable: true,
            source: Some(source.into()),
        }
    }

    /// A backend failure that will fail again the same way (protocol error, refused command).
    pub fn permanent(message: impl Into<String>, source: Option<BoxError>) -> Self {
        CacheError::Backend {
            alias: String::new(),
            message: message.into(),
            retryable: false,
            source,
        }
    }

    /// Whether retrying the same call may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, CacheError::Backend { retryable: true, .. })
    }

    /// Fills in the alias a backend could not know. Called by the façade on the error path only.
    pub(crate) fn in_alias(mut self, name: &str) -> Self {
        match &mut self {
            CacheError::NotAnInteger { alias, .. }
            | CacheError::Overflow { alias, .. }
            | CacheError::ValueTooLarge { alias, .. }
            | CacheError::Codec { alias, .. }
            | CacheError::Backend { alias, .. }
                if alias.is_empty() =>
            {
                name.clone_into(alias)
            }
            _ => {}
        }
        self
    }

    /// Replaces the made key a backend reports with the key the caller gave.
    pub(crate) fn for_key(mut self, caller_key: &str) -> Self {
        match &mut self {
            CacheError::KeyNotFound { key }
            | CacheError::NotAnInteger { key, .. }
            | CacheError::Overflow { key, .. }
            | CacheError::ValueTooLarge { key, .. } => caller_key.clone_into(key),
            _ => {}
        }
        self
    }
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
