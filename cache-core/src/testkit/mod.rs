//! The conformance suite every backend runs, and fixtures that start real servers for it.
//!
//! Enabled by the `testkit` feature; backend crates take `cache-core` with it as a dev-dependency.
//!
//! - [`Subject`]: the aliases Django's own test suite uses (`default`, `prefix`, `v2`, `custom_key`,
//!   `custom_key2`, plus a few with other default timeouts), all over the same storage, and how time
//!   passes for it ([`Time::Real`] sleeps, [`Time::Manual`] moves a [`Clock`](crate::Clock)).
//! - [`conformance`]: one `pub async fn` per behaviour of the catalogue in the Django reference
//!   (§12.1, §12.7, §13), each panicking on failure, and [`run_all`], which runs every test that
//!   applies to the backend's [`Capabilities`](crate::Capabilities) and reports what it skipped and why.
//! - [`servers`]: `redis-server` and `memcached` as child processes on free loopback ports, with
//!   persistence off, killed on drop, and able to stop and restart for fault injection.
//! - [`capture_warnings`]: the `tracing` warnings emitted while a future runs (Django's key warnings).
//!
//! # Running the whole suite from one test file
//!
//! A backend crate registers its factory, builds a [`Subject`] and calls [`run_all`]. This is the
//! whole of `tests/conformance.rs` for an in-process backend whose factory reads a manual clock
//! (here the built-in `dummy` backend stands in for yours):
//!
//! ```
//! use cache_core::testkit::{Subject, Time, run_all};
//! use cache_core::{Backends, Clock, Location, Options};
//!
//! # /*
//! #[tokio::test(flavor = "multi_thread")]
//! # */
//! async fn conformance() {
//!     let clock = Clock::manual();
//!     let backends = Backends::new(); // plus `backends.register(my_backend::registration(clock.clone()))`
//!     let subject = Subject::build(backends, "dummy", Location::Unset, Options::default(), Time::Manual(clock));
//!     run_all(&subject.expect("the aliases build")).await;
//! }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() { conformance().await }
//! ```
//!
//! A server backend starts its server from [`servers`] and uses [`Time::Real`]; its expiration
//! tests then sleep, concurrently with one another, for about five seconds in all:
//!
//! ```text
//! let redis = RedisServer::start().await?;
//! let location = Location::One(redis.url());
//! let subject = Subject::build(backends, "redis", location, Options::default(), Time::Real)?;
//! run_all(&subject).await;
//! ```
//!
//! `run_all` clears every alias before each test, so give each concurrently running test function its
//! own storage (its own server, database or `location`). It needs a Tokio runtime (the suite sleeps
//! and spawns tasks); a multi-thread one makes the single-flight test truly parallel. The backend
//! crate's `Cargo.toml` asks for the feature:
//!
//! ```toml
//! [dev-dependencies]
//! cache-core = { workspace = true, features = ["testkit"] }
//! tokio = { workspace = true, features = ["macros", "rt-multi-thread"] }
//! ```

pub mod conformance;
pub mod servers;
mod subject;
mod warnings;

pub use conformance::{Report, run_all, run_matching};
pub use subject::{Subject, Time, aliases, custom_key_func, key_functions};
pub use warnings::capture_warnings;
