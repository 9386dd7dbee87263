//! The checklist: every conformance function, the catalogue item it ports, and when it applies;
//! and the catalogue items that have no Rust counterpart, with the reason.

use futures::future::BoxFuture;

use crate::Capabilities;
use crate::testkit::Subject;

/// Whether a test waits for entries to expire (and may overlap with the other waiting tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timing {
    Instant,
    Waits,
}

/// Why a test does not apply to a backend, or `Ok` when it does.
type Applies = fn(&Capabilities) -> Result<(), &'static str>;

/// One conformance function as the runner sees it.
pub(super) struct Conformance {
    /// `module::function`.
    pub(super) name: &'static str,
    /// The catalogue items it ports (sections of `reference/django-cache.md`, or of the design).
    pub(super) covers: &'static str,
    pub(super) applies: Applies,
    pub(super) timing: Timing,
    pub(super) run: for<'a> fn(&'a Subject) -> BoxFuture<'a, ()>,
}

macro_rules! entry {
    ($module:ident :: $function:ident, $covers:literal, $applies:ident) => {
        entry!($module::$function, $covers, $applies, Timing::Instant)
    };
    ($module:ident :: $function:ident, $covers:literal, $applies:ident, $timing:expr) => {
        Conformance {
            name: concat!(stringify!($module), "::", stringify!($function)),
            covers: $covers,
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
        Err("the backend stores nothing (stores_values = false); the dummy:: catalogue runs instead")
    }
}

fn stores_nothing(capabilities: &Capabilities) -> Result<(), &'static str> {
    if capabilities.stores_values {
        Err("for backends that store nothing (stores_values = false)")
    } else {
        Ok(())
    }
}

fn has_value_limit(capabilities: &Capabilities) -> Result<(), &'static str> {
    stores(capabilities)?;
    match capabilities.max_value_bytes {
        Some(_) => Ok(()),
        None => Err("the backend declares no value size limit (max_value_bytes = None)"),
    }
}

fn no_value_limit(capabilities: &Capabilities) -> Result<(), &'static str> {
    stores(capabilities)?;
    match capabilities.max_value_bytes {
        Some(_) => Err("the backend declares a value size limit; limits::value_too_large runs instead"),
        None => Ok(()),
    }
}

/// Every conformance function, in the order the runner runs them.
pub(super) static CONFORMANCE: &[Conformance] = &[
    entry!(basic::simple, "§12.1 #1 test_simple", stores),
    entry!(basic::default_used_when_none_is_set, "§12.1 #2, §13.1", stores),
    entry!(basic::add, "§12.1 #3 test_add", stores),
    entry!(basic::prefix, "§12.1 #4 test_prefix", stores),
    entry!(basic::non_existent, "§12.1 #5 test_non_existent", stores),
    entry!(batch::get_many, "§12.1 #6 test_get_many, §2.3", stores),
    entry!(basic::delete, "§12.1 #7 test_delete", stores),
    entry!(basic::delete_nonexistent, "§12.1 #8 test_delete_nonexistent", stores),
    entry!(basic::has_key, "§12.1 #9 test_has_key, #10 test_in", stores),
    entry!(counters::incr, "§12.1 #11 test_incr", stores),
    entry!(counters::decr, "§12.1 #12 test_decr", stores),
    entry!(basic::close, "§12.1 #13 test_close", stores),
    entry!(basic::data_types, "§12.1 #14 test_data_types", stores),
    entry!(basic::unicode, "§12.1 #20 test_unicode", stores),
    entry!(basic::binary_string, "§12.1 #21 test_binary_string", stores),
    entry!(batch::set_many, "§12.1 #22 test_set_many", stores),
    entry!(
        batch::set_many_returns_empty_list_on_success,
        "§12.1 #23, §13.10",
        stores
    ),
    entry!(batch::set_many_empty_data, "§12.1 #25, §2.3", stores),
    entry!(batch::delete_many, "§12.1 #26 test_delete_many", stores),
    entry!(batch::delete_many_no_keys, "§12.1 #27 test_delete_many_no_keys", stores),
    entry!(basic::clear, "§12.1 #28 test_clear", stores),
    entry!(timeouts::long_timeout, "§12.1 #29 test_long_timeout", stores),
    entry!(
        timeouts::forever_timeout,
        "§12.1 #30 test_forever_timeout (no wait)",
        stores
    ),
    entry!(
        timeouts::zero_timeout,
        "§12.1 #31 test_zero_timeout, §3.4, §13.2-3",
        stores
    ),
    entry!(timeouts::negative_timeout, "§3.4", stores),
    entry!(timeouts::float_timeout, "§12.1 #32 test_float_timeout", stores),
    entry!(
        timeouts::default_never_expiring_timeout,
        "§12.3 test_default_never_expiring_timeout",
        stores
    ),
    entry!(
        timeouts::default_far_future_timeout,
        "§12.3 test_default_far_future_timeout",
        stores
    ),
    entry!(timeouts::default_zero_timeout, "§3.4, §1.3 TIMEOUT 0", stores),
    entry!(
        timeouts::touch_returns_whether_key_exists,
        "§3.6 touch, §12.1 #19 (missing key)",
        stores
    ),
    entry!(
        keys::invalid_key_characters,
        "§12.1 #36 test_invalid_key_characters, §12.3 override",
        stores
    ),
    entry!(keys::invalid_key_length, "§12.1 #37 test_invalid_key_length", stores),
    entry!(
        keys::invalid_with_version_key_length,
        "§12.1 #38, §12.3 test_invalid_with_version_key_length",
        stores
    ),
    entry!(keys::unusual_but_valid_keys, "§4.2, §11 allowed keys", stores),
    entry!(keys::multi_byte_key_length, "§4.2 characters vs bytes", stores),
    entry!(versions::cache_versioning_get_set, "§12.1 #39", stores),
    entry!(versions::cache_versioning_add, "§12.1 #40", stores),
    entry!(versions::cache_versioning_has_key, "§12.1 #41", stores),
    entry!(versions::cache_versioning_delete, "§12.1 #42", stores),
    entry!(versions::cache_versioning_incr_decr, "§12.1 #43", stores),
    entry!(versions::cache_versioning_get_set_many, "§12.1 #44", stores),
    entry!(versions::incr_version, "§12.1 #45 test_incr_version, §2.2", stores),
    entry!(versions::decr_version, "§12.1 #46 test_decr_version", stores),
    entry!(
        versions::incr_version_with_zero_delta_changes_nothing,
        "§3.6 incr_version delta 0",
        stores
    ),
    entry!(keys::custom_key_func, "§12.1 #47 test_custom_key_func", stores),
    entry!(
        codec::add_fail_on_codec_error,
        "§12.1 #49 test_add_fail_on_pickleerror",
        stores
    ),
    entry!(
        codec::set_fail_on_codec_error,
        "§12.1 #50 test_set_fail_on_pickleerror",
        stores
    ),
    entry!(
        codec::codec_error_in_set_many_and_get_or_set,
        "§12.1 #49-50 (batch and get_or_set)",
        stores
    ),
    entry!(codec::decode_error, "design §3.3 codec errors", stores),
    entry!(get_or_set::get_or_set, "§12.1 #51 test_get_or_set", stores),
    entry!(
        get_or_set::get_or_set_callable,
        "§12.1 #52 test_get_or_set_callable",
        stores
    ),
    entry!(
        get_or_set::get_or_set_version,
        "§12.1 #53 test_get_or_set_version",
        stores
    ),
    entry!(
        get_or_set::get_or_set_racing,
        "§12.1 #54 test_get_or_set_racing",
        stores
    ),
    entry!(get_or_set::get_or_set_zero_timeout, "§2.1", stores),
    entry!(
        get_or_set::get_or_try_set_passes_producer_errors_through,
        "design §3.2",
        stores
    ),
    entry!(
        get_or_set::get_or_set_single_flight,
        "design §3.2 single-flight",
        stores
    ),
    entry!(counters::incr_decr_below_zero, "§11, §13.4", stores),
    entry!(counters::incr_of_non_integer_is_an_error, "§3.6, §11", stores),
    entry!(counters::incr_overflow, "§3.6 overflow", stores),
    entry!(counters::integers_are_ascii_decimal, "design §3.2 codec, §3.6", stores),
    entry!(basic::stored_empty_values_are_hits, "§13.1, §11", stores),
    entry!(metrics::metrics_count_operations, "design §3.2 metrics", stores),
    entry!(
        metrics::metrics_count_each_failed_call_once,
        "design §3.2 metrics",
        stores
    ),
    entry!(
        limits::value_too_large,
        "§12.3 test_memcached_deletes_key_on_failed_set, §3.6",
        has_value_limit
    ),
    entry!(limits::large_value_round_trips, "large values", no_value_limit),
    // Waiting for expiry; the runner overlaps these in real time.
    entry!(
        expiration::expiration,
        "§12.1 #18 test_expiration",
        stores,
        Timing::Waits
    ),
    entry!(expiration::touch, "§12.1 #19 test_touch", stores, Timing::Waits),
    entry!(
        expiration::set_many_expiration,
        "§12.1 #24 test_set_many_expiration",
        stores,
        Timing::Waits
    ),
    entry!(
        expiration::forever_timeout_touch,
        "§12.1 #30 test_forever_timeout (touch)",
        stores,
        Timing::Waits
    ),
    entry!(
        expiration::incr_keeps_timeout,
        "§12.2 test_incr_decr_timeout, §13.4",
        stores,
        Timing::Waits
    ),
    entry!(
        expiration::incr_version_uses_default_timeout,
        "§2.2, §13.5",
        stores,
        Timing::Waits
    ),
    entry!(
        expiration::expired_entry_is_missing,
        "§3.6 delete/touch of expired",
        stores,
        Timing::Waits
    ),
    // Django's DummyCacheTests.
    entry!(dummy::simple, "§12.7 test_simple", stores_nothing),
    entry!(dummy::add, "§12.7 test_add", stores_nothing),
    entry!(dummy::non_existent, "§12.7 test_non_existent", stores_nothing),
    entry!(dummy::get_many, "§12.7 test_get_many", stores_nothing),
    entry!(
        dummy::get_many_invalid_key,
        "§12.7 test_get_many_invalid_key",
        stores_nothing
    ),
    entry!(dummy::delete, "§12.7 test_delete", stores_nothing),
    entry!(dummy::has_key, "§12.7 test_has_key, test_in", stores_nothing),
    entry!(dummy::incr, "§12.7 test_incr", stores_nothing),
    entry!(dummy::decr, "§12.7 test_decr", stores_nothing),
    entry!(dummy::touch, "§12.7 test_touch", stores_nothing),
    entry!(dummy::data_types, "§12.7 test_data_types", stores_nothing),
    entry!(dummy::expiration, "§12.7 test_expiration", stores_nothing),
    entry!(dummy::unicode, "§12.7 test_unicode", stores_nothing),
    entry!(dummy::set_many, "§12.7 test_set_many", stores_nothing),
    entry!(
        dummy::set_many_invalid_key,
        "§12.7 test_set_many_invalid_key",
        stores_nothing
    ),
    entry!(dummy::delete_many, "§12.7 test_delete_many", stores_nothing),
    entry!(
        dummy::delete_many_invalid_key,
        "§12.7 test_delete_many_invalid_key",
        stores_nothing
    ),
    entry!(dummy::clear, "§12.7 test_clear", stores_nothing),
    entry!(dummy::close, "§12.8 AsyncDummyCacheTests.test_aclose", stores_nothing),
    entry!(dummy::incr_version, "§12.7 test_incr_version", stores_nothing),
    entry!(dummy::decr_version, "§12.7 test_decr_version", stores_nothing),
    entry!(dummy::get_or_set, "§12.7 test_get_or_set, §8.1", stores_nothing),
    entry!(
        dummy::get_or_set_callable,
        "§12.7 test_get_or_set_callable",
        stores_nothing
    ),
    entry!(
        dummy::every_operation_validates_keys,
        "§8.1 key warnings",
        stores_nothing
    ),
];

/// Catalogue items with no Rust counterpart: (Django tests, catalogue item, why).
pub(super) static NOT_PORTED: &[(&str, &str, &str)] = &[
    (
        "test_cache_read_for_model_instance, test_cache_{write,read}_for_model_instance_with_deferred",
        "§12.1 #15-17",
        "Django ORM model instances: a Rust value is encoded once by serde and has no callable field \
         defaults to re-run; codec:: covers values that can't be encoded",
    ),
    (
        "test_cull, test_zero_cull, test_cull_delete_when_store_empty",
        "§12.1 #33-35",
        "culling is set by a backend's own options (locmem's max_entries/cull_frequency), which \
         Capabilities don't describe; the backend crate tests it (Django skips them for Redis and memcached)",
    ),
    (
        "test_cache_write_unpicklable_object",
        "§12.1 #48",
        "HTTP cache middleware: out of scope",
    ),
    (
        "test_get_or_set_version (the TypeError part)",
        "§12.1 #53",
        "a get_or_set without a producer doesn't compile in Rust; the rest of the test is \
         get_or_set::get_or_set_version",
    ),
    (
        "test_*_async_uses_specialized_implementation",
        "§12.1 #55-62",
        "the Rust API is async only, so there are no sync/async pairs to delegate between",
    ),
];
