//! The conformance suite: Django's cache test catalogue, one `pub async fn` per behaviour.
//!
//! Each function takes a [`Subject`](crate::testkit::Subject) and panics (through `assert!`) when the backend
//! misbehaves; Django's test names are kept without the `test_` prefix, and each function's docs name the
//! Django test of `tests/cache/tests.py` it ports (`BaseCacheTests.test_add`), or say what it checks when
//! Django has no test for it. [`behaviours`] lists them with whether each applies to a backend's
//! [`Capabilities`](crate::Capabilities), and [`trials`] (or a [`Harness`]) makes each one a test of its own,
//! so that `cargo test` names every behaviour that passed, failed or was skipped, and why.
//!
//! The functions assume a cleared storage and use keys of their own, so they can also be called one
//! by one from a backend's tests.
//!
//! | module | what it covers |
//! |---|---|
//! | [`basic`] | get/set/add/delete/has_key/clear/close, typed round-trips, stored empty values |
//! | [`batch`] | get_many/set_many/delete_many |
//! | [`timeouts`] | zero, negative, fractional, long, never and alias-default timeouts, touch results |
//! | [`expiration`] | entries that expire while the suite waits (sleeps, or a manual clock) |
//! | [`counters`] | incr/decr: results, missing keys, non-integers, overflow, ASCII decimal storage |
//! | [`versions`] | per-call and per-alias versions, incr_version/decr_version |
//! | [`keys`] | prefixes, custom key functions, invalid keys (warned, or refused by strict backends) |
//! | [`codec`] | values that can't be encoded or decoded |
//! | [`get_or_set`] | get_or_set/get_or_try_set, races, single-flight |
//! | [`metrics`] | the per-alias counters |
//! | [`limits`] | values over the backend's size limit, large values without one |
//! | [`dummy`] | Django's `DummyCacheTests`, for backends that store nothing |

/// Asserts that `$result` is an `Err` matching `$pattern`, and shows what it was otherwise.
macro_rules! assert_err {
    ($result:expr, $pattern:pat $(if $guard:expr)? $(,)?) => {
        match $result {
            Err($pattern) $(if $guard)? => {}
            other => panic!(
                "expected Err({}), got {:?} (at {}:{})",
                stringify!($pattern),
                other,
                file!(),
                line!()
            ),
        }
    };
}

pub mod basic;
pub mod batch;
mod catalogue;
pub mod codec;
pub mod counters;
pub mod dummy;
pub mod expiration;
pub mod get_or_set;
pub mod keys;
pub mod limits;
pub mod metrics;
mod runner;
pub mod timeouts;
pub mod versions;

pub use runner::{Behaviour, Harness, behaviours, trials};
