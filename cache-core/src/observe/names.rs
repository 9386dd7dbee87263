//! The metric names and labels: stable, documented in one table (cache-core's README, "Metrics").

/// Reads that found a value (`get`, `get_many` per key, `has_key` true, `get_or_set` hits).
pub const HITS: &str = "cache_hits_total";
/// Reads that found nothing. A `get_or_set` caller that waited for another caller's producer
/// is [`COALESCED`], not a miss.
pub const MISSES: &str = "cache_misses_total";
/// `get_or_set` callers that missed while another caller of this process was producing the same
/// key, and took its value instead of running their own producer (single-flight followers).
pub const COALESCED: &str = "cache_coalesced_total";
/// Values written (`set`, `add` that stored, `set_many` per key, `incr`/`decr`, `touch`).
pub const SETS: &str = "cache_sets_total";
/// Entries removed (`delete` that removed one, `delete_many` per key, zero-timeout writes).
pub const DELETES: &str = "cache_deletes_total";
/// Calls that failed because a server or the connection to it did (label `kind`: `timeout`,
/// `unavailable`, `refused_by_server`, `protocol`, `io`).
pub const ERRORS: &str = "cache_errors_total";
/// Calls refused because of what the caller asked (label `kind`: `invalid_key`,
/// `key_not_found`, `not_an_integer`, `overflow`, `value_too_large`, `codec`, `unsupported`,
/// `no_runtime`).
pub const CALLER_ERRORS: &str = "cache_caller_errors_total";
/// Server failures an alias with `ignore_exceptions` turned into a miss or a dropped write (each
/// is in [`ERRORS`] too).
pub const IGNORED_ERRORS: &str = "cache_ignored_errors_total";
/// Values served past their freshness because the store behind them failed (fail-safe), or while
/// a background refresh runs (stale-while-revalidate). Each is in [`HITS`] too.
pub const STALE: &str = "cache_stale_total";
/// How long each call took, in seconds, from the call to its answer; recorded when the alias sets
/// `options.latency_histogram`.
pub const DURATION: &str = "cache_operation_duration_seconds";

/// Label: the alias name.
pub const ALIAS: &str = "alias";
/// Label: the backend's short name (`locmem`, `redis`, `memcached`, `file`, `dummy`, …).
pub const BACKEND: &str = "backend";
/// Label: the façade method ([`OperationName`](super::OperationName)).
pub const OPERATION: &str = "operation";
/// Label of [`ERRORS`] and [`CALLER_ERRORS`]: what went wrong.
pub const KIND: &str = "kind";
