//! The checklist: every conformance function, the Django tests it ports, and when it applies; and the
//! Django tests that have no Rust counterpart, with the reason.
//!
//! Django's tests are named as in `tests/cache/tests.py` (`BaseCacheTests.test_add`); a behaviour
//! Django has no test of its own for says what it checks instead.

use futures::future::BoxFuture;

use crate::Capabilities;
use crate::testkit::Subject;

/// Whether a test waits for entries to expire (and, in real time, overlaps the other waiting tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timing {
    Instant,
    Waits,
}

/// Why a test does not apply to a backend, or `Ok` when it does.
type Applies = fn(&Capabilities) -> Result<(), &'static str>;

/// One conformance function as the runner sees it.
#[derive(Debug)]
pub(super) struct Conformance {
    /// `module::function`.
    pub(super) name: &'static str,
    /// The Django tests it ports, or what it checks when Django has no test for it.
    pub(super) django: &'static str,
    pub(super) applies: Applies,
    pub(super) timing: Timing,
    pub(super) run: for<'a> fn(&'a Subject) -> BoxFuture<'a, ()>,
}

macro_rules! entry {
    ($module:ident :: $function:ident, $django:literal, $applies:ident) => {
        entry!($module::$function, $django, $applies, Timing::Instant)
    };
    ($module:ident :: $function:ident, $django:literal, $applies:ident, $timing:expr) => {
        Conformance {
            name: concat!(stringify!($module), "::", stringify!($function)),
            django: $django,
            applies: $applies,
            timing: $timing,
            run: |subject| Box::pin(super::$module::$function(subject)),
        }
    };
}

fn stores(capabilities: &Capabilities) -> Result<(), &'static str> {
    if capabilities.stores_values {
        Ok(())
    } else {
        Err("the backend stores nothing, stores_values is false: the dummy:: behaviours run instead")
    }
}

fn stores_nothing(capabilities: &Capabilities) -> Result<(), &'static str> {
    if capabilities.stores_values {
        Err("for backends that store nothing, and this one stores values")
    } else {
        Ok(())
    }
}

fn has_value_limit(capabilities: &Capabilities) -> Result<(), &'static str> {
    stores(capabilities)?;
    match capabilities.max_value_bytes {
        Some(_) => Ok(()),
        None => Err("the backend declares no value size limit: max_value_bytes is None"),
    }
}

fn no_value_limit(capabilities: &Capabilities) -> Result<(), &'static str> {
    stores(capabilities)?;
    match capabilities.max_value_bytes {
        Some(_) => Err("the backend declares a value size limit; limits::value_too_large runs instead"),
        None => Ok(()),
    }
}

/// Every conformance function: those that don't wait, then those that wait for entries to expire.
pub(super) static CONFORMANCE: &[Conformance] = &[
    entry!(basic::simple, "BaseCacheTests.test_simple", stores),
    entry!(
        basic::default_used_when_none_is_set,
        "BaseCacheTests.test_default_used_when_none_is_set",
        stores
    ),
    entry!(basic::add, "BaseCacheTests.test_add", stores),
    entry!(basic::prefix, "BaseCacheTests.test_prefix", stores),
    entry!(basic::non_existent, "BaseCacheTests.test_non_existent", stores),
    entry!(batch::get_many, "BaseCacheTests.test_get_many", stores),
    entry!(basic::delete, "BaseCacheTests.test_delete", stores),
    entry!(
        basic::delete_nonexistent,
        "BaseCacheTests.test_delete_nonexistent",
        stores
    ),
    entry!(
        basic::has_key,
        "BaseCacheTests.test_has_key, BaseCacheTests.test_in",
        stores
    ),
    entry!(counters::incr, "BaseCacheTests.test_incr", stores),
    entry!(counters::decr, "BaseCacheTests.test_decr", stores),
    entry!(basic::close, "BaseCacheTests.test_close", stores),
    entry!(basic::data_types, "BaseCacheTests.test_data_types", stores),
    entry!(basic::unicode, "BaseCacheTests.test_unicode", stores),
    entry!(basic::binary_string, "BaseCacheTests.test_binary_string", stores),
    entry!(batch::set_many, "BaseCacheTests.test_set_many", stores),
    entry!(
        batch::set_many_returns_empty_list_on_success,
        "BaseCacheTests.test_set_many_returns_empty_list_on_success",
        stores
    ),
    entry!(
        batch::set_many_empty_data,
        "BaseCacheTests.test_set_many_empty_data",
        stores
    ),
    entry!(batch::delete_many, "BaseCacheTests.test_delete_many", stores),
    entry!(
        batch::delete_many_no_keys,
        "BaseCacheTests.test_delete_many_no_keys",
        stores
    ),
    entry!(basic::clear, "BaseCacheTests.test_clear", stores),
    entry!(timeouts::long_timeout, "BaseCacheTests.test_long_timeout", stores),
    entry!(
        timeouts::forever_timeout,
        "BaseCacheTests.test_forever_timeout (the part without a wait)",
        stores
    ),
    entry!(timeouts::zero_timeout, "BaseCacheTests.test_zero_timeout", stores),
    entry!(
        timeouts::negative_timeout,
        "no Django test: a negative timeout stores nothing readable, like a zero one",
        stores
    ),
    entry!(timeouts::float_timeout, "BaseCacheTests.test_float_timeout", stores),
    entry!(
        timeouts::default_never_expiring_timeout,
        "BaseMemcachedTests.test_default_never_expiring_timeout",
        stores
    ),
    entry!(
        timeouts::default_far_future_timeout,
        "BaseMemcachedTests.test_default_far_future_timeout",
        stores
    ),
    entry!(
        timeouts::default_zero_timeout,
        "no Django test: an alias whose TIMEOUT is 0 stores nothing readable by default",
        stores
    ),
    entry!(
        timeouts::touch_returns_whether_key_exists,
        "BaseCacheTests.test_touch (the missing key)",
        stores
    ),
    entry!(
        keys::invalid_key_characters,
        "BaseCacheTests.test_invalid_key_characters; BaseMemcachedTests._perform_invalid_key_test if strict",
        stores
    ),
    entry!(
        keys::invalid_key_warns_once_per_key,
        "deliberate: BaseCacheTests.test_invalid_key_characters' get_or_set and incr_version warn once per key",
        stores
    ),
    entry!(
        keys::invalid_key_length,
        "BaseCacheTests.test_invalid_key_length",
        stores
    ),
    entry!(
        keys::invalid_with_version_key_length,
        "BaseCacheTests.test_invalid_with_version_key_length, BaseMemcachedTests.test_invalid_with_version_key_length",
        stores
    ),
    entry!(
        keys::unusual_but_valid_keys,
        "no Django test: keys Django accepts without a warning round-trip",
        stores
    ),
    entry!(
        keys::multi_byte_key_length,
        "no Django test: key length is counted in characters, not bytes",
        stores
    ),
    entry!(
        versions::cache_versioning_get_set,
        "BaseCacheTests.test_cache_versioning_get_set",
        stores
    ),
    entry!(
        versions::cache_versioning_add,
        "BaseCacheTests.test_cache_versioning_add",
        stores
    ),
    entry!(
        versions::cache_versioning_has_key,
        "BaseCacheTests.test_cache_versioning_has_key",
        stores
    ),
    entry!(
        versions::cache_versioning_delete,
        "BaseCacheTests.test_cache_versioning_delete",
        stores
    ),
    entry!(
        versions::cache_versioning_incr_decr,
        "BaseCacheTests.test_cache_versioning_incr_decr",
        stores
    ),
    entry!(
        versions::cache_versioning_get_set_many,
        "BaseCacheTests.test_cache_versioning_get_set_many",
        stores
    ),
    entry!(versions::incr_version, "BaseCacheTests.test_incr_version", stores),
    entry!(versions::decr_version, "BaseCacheTests.test_decr_version", stores),
    entry!(
        versions::incr_version_with_zero_delta_changes_nothing,
        "no Django test: incr_version with delta 0 leaves the entry where it is",
        stores
    ),
    entry!(keys::custom_key_func, "BaseCacheTests.test_custom_key_func", stores),
    entry!(
        codec::add_fail_on_codec_error,
        "BaseCacheTests.test_add_fail_on_pickleerror",
        stores
    ),
    entry!(
        codec::set_fail_on_codec_error,
        "BaseCacheTests.test_set_fail_on_pickleerror",
        stores
    ),
    entry!(
        codec::codec_error_in_set_many_and_get_or_set,
        "BaseCacheTests.test_add_fail_on_pickleerror and test_set_fail_on_pickleerror, for set_many and get_or_set",
        stores
    ),
    entry!(
        codec::decode_error,
        "no Django test: a stored value that does not decode as the type asked is an error",
        stores
    ),
    entry!(get_or_set::get_or_set, "BaseCacheTests.test_get_or_set", stores),
    entry!(
        get_or_set::get_or_set_callable,
        "BaseCacheTests.test_get_or_set_callable",
        stores
    ),
    entry!(
        get_or_set::get_or_set_version,
        "BaseCacheTests.test_get_or_set_version",
        stores
    ),
    entry!(
        get_or_set::get_or_set_racing,
        "BaseCacheTests.test_get_or_set_racing",
        stores
    ),
    entry!(
        get_or_set::get_or_set_zero_timeout,
        "no Django test: get_or_set with timeout 0 returns the default and stores nothing readable",
        stores
    ),
    entry!(
        get_or_set::get_or_try_set_passes_producer_errors_through,
        "no Django test: a failing producer's error reaches the caller and nothing is stored",
        stores
    ),
    entry!(
        get_or_set::get_or_set_single_flight,
        "no Django test: concurrent get_or_set callers of one key run the producer once",
        stores
    ),
    entry!(
        counters::incr_decr_below_zero,
        "no Django test: decr below zero (negative, or zero where the backend declares a floor)",
        stores
    ),
    entry!(
        counters::incr_of_non_integer_is_an_error,
        "BaseCacheTests.test_incr and test_decr (a stored value that is not an integer)",
        stores
    ),
    entry!(
        counters::incr_overflow,
        "no Django test: incr past the 64-bit range is an error that leaves the value alone",
        stores
    ),
    entry!(
        counters::integers_are_ascii_decimal,
        "no Django test: counters are stored as ASCII decimal, readable by incr on every backend",
        stores
    ),
    entry!(
        basic::stored_empty_values_are_hits,
        "BaseCacheTests.test_default_used_when_none_is_set, test_has_key and test_get_many (a stored None is a hit)",
        stores
    ),
    entry!(
        metrics::metrics_count_operations,
        "no Django test: each alias counts hits, misses and writes",
        stores
    ),
    entry!(
        metrics::metrics_count_each_failed_call_once,
        "no Django test: a failed call is counted once",
        stores
    ),
    entry!(
        limits::value_too_large,
        "BaseMemcachedTests.test_memcached_deletes_key_on_failed_set",
        has_value_limit
    ),
    entry!(
        limits::large_value_round_trips,
        "no Django test: a large value round-trips on a backend without a size limit",
        no_value_limit
    ),
    // Waiting for entries to expire; in real time these overlap one another.
    entry!(
        expiration::expiration,
        "BaseCacheTests.test_expiration",
        stores,
        Timing::Waits
    ),
    entry!(expiration::touch, "BaseCacheTests.test_touch", stores, Timing::Waits),
    entry!(
        expiration::set_many_expiration,
        "BaseCacheTests.test_set_many_expiration",
        stores,
        Timing::Waits
    ),
    entry!(
        expiration::forever_timeout_touch,
        "BaseCacheTests.test_forever_timeout (touch with no timeout)",
        stores,
        Timing::Waits
    ),
    entry!(
        expiration::incr_keeps_timeout,
        "LocMemCacheTests.test_incr_decr_timeout",
        stores,
        Timing::Waits
    ),
    entry!(
        expiration::incr_version_uses_default_timeout,
        "no Django test: incr_version re-sets the entry with the alias's default timeout",
        stores,
        Timing::Waits
    ),
    entry!(
        expiration::expired_entry_is_missing,
        "no Django test: delete and touch of an expired entry find nothing",
        stores,
        Timing::Waits
    ),
    entry!(
        expiration::remaining_lifetimes_agree_with_reads,
        "no Django test: the lifetimes a near tier is told agree with reads and the timeouts written",
        stores
    ),
    // Django's DummyCacheTests.
    entry!(dummy::simple, "DummyCacheTests.test_simple", stores_nothing),
    entry!(dummy::add, "DummyCacheTests.test_add", stores_nothing),
    entry!(dummy::non_existent, "DummyCacheTests.test_non_existent", stores_nothing),
    entry!(dummy::get_many, "DummyCacheTests.test_get_many", stores_nothing),
    entry!(
        dummy::get_many_invalid_key,
        "DummyCacheTests.test_get_many_invalid_key",
        stores_nothing
    ),
    entry!(dummy::delete, "DummyCacheTests.test_delete", stores_nothing),
    entry!(
        dummy::has_key,
        "DummyCacheTests.test_has_key, DummyCacheTests.test_in",
        stores_nothing
    ),
    entry!(dummy::incr, "DummyCacheTests.test_incr", stores_nothing),
    entry!(dummy::decr, "DummyCacheTests.test_decr", stores_nothing),
    entry!(dummy::touch, "DummyCacheTests.test_touch", stores_nothing),
    entry!(dummy::data_types, "DummyCacheTests.test_data_types", stores_nothing),
    entry!(dummy::expiration, "DummyCacheTests.test_expiration", stores_nothing),
    entry!(dummy::unicode, "DummyCacheTests.test_unicode", stores_nothing),
    entry!(dummy::set_many, "DummyCacheTests.test_set_many", stores_nothing),
    entry!(
        dummy::set_many_invalid_key,
        "DummyCacheTests.test_set_many_invalid_key",
        stores_nothing
    ),
    entry!(dummy::delete_many, "DummyCacheTests.test_delete_many", stores_nothing),
    entry!(
        dummy::delete_many_invalid_key,
        "DummyCacheTests.test_delete_many_invalid_key",
        stores_nothing
    ),
    entry!(dummy::clear, "DummyCacheTests.test_clear", stores_nothing),
    entry!(
        dummy::close,
        "AsyncDummyCacheTests.test_aclose (tests_async.py)",
        stores_nothing
    ),
    entry!(dummy::incr_version, "DummyCacheTests.test_incr_version", stores_nothing),
    entry!(dummy::decr_version, "DummyCacheTests.test_decr_version", stores_nothing),
    entry!(dummy::get_or_set, "DummyCacheTests.test_get_or_set", stores_nothing),
    entry!(
        dummy::get_or_set_callable,
        "DummyCacheTests.test_get_or_set_callable",
        stores_nothing
    ),
    entry!(
        dummy::every_operation_validates_keys,
        "DummyCacheTests.test_get_many_invalid_key and the other *_invalid_key tests, for every operation",
        stores_nothing
    ),
];

/// A Django test with no Rust counterpart.
#[derive(Debug)]
pub(super) struct NotPorted {
    /// `not_ported::item`.
    pub(super) name: &'static str,
    /// The Django tests.
    pub(super) django: &'static str,
    /// Why there is no counterpart.
    pub(super) reason: &'static str,
}

/// Django tests with no Rust counterpart, each reported as skipped with the reason.
pub(super) static NOT_PORTED: &[NotPorted] = &[
    NotPorted {
        name: "not_ported::model_instances",
        django: "BaseCacheTests.test_cache_read_for_model_instance, test_cache_write_for_model_instance_with_deferred, \
                 test_cache_read_for_model_instance_with_deferred",
        reason: "Django ORM model instances: a Rust value is encoded once by serde and has no callable field \
                 defaults to re-run; codec:: covers values that can't be encoded",
    },
    NotPorted {
        name: "not_ported::cull",
        django: "BaseCacheTests.test_cull, test_zero_cull, test_cull_delete_when_store_empty",
        reason: "culling is set by a backend's own options (locmem's max_entries/cull_frequency), which \
                 Capabilities don't describe; the backend crate tests it (Django skips them for Redis and memcached)",
    },
    NotPorted {
        name: "not_ported::cache_write_unpicklable_object",
        django: "BaseCacheTests.test_cache_write_unpicklable_object",
        reason: "HTTP cache middleware: out of scope",
    },
    NotPorted {
        name: "not_ported::get_or_set_without_default",
        django: "BaseCacheTests.test_get_or_set_version (the TypeError part)",
        reason: "a get_or_set without a producer doesn't compile in Rust; the rest of the test is \
                 get_or_set::get_or_set_version",
    },
    NotPorted {
        name: "not_ported::async_uses_specialized_implementation",
        django: "BaseCacheTests.test_*_async_uses_specialized_implementation",
        reason: "the Rust API is async only, so there are no sync/async pairs to delegate between",
    },
];
