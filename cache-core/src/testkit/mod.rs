//! The conformance suite every backend runs, and fixtures that start real servers for it.
//!
//! Enabled by the `testkit` feature; backend crates take `cache-core` with it as a dev-dependency.
//!
//! - [`Subject`]: the aliases Django's own test suite uses (`default`, `prefix`, `v2`, `custom_key`,
//!   `custom_key2`, plus a few with other default timeouts), all over the same storage, and how time
//!   passes for it ([`Time::Real`] sleeps, [`Time::Manual`] moves a [`Clock`](crate::Clock)).
//! - [`conformance`]: one `pub async fn` per behaviour of Django's cache tests (`tests/cache/tests.py`:
//!   `BaseCacheTests`, the memcached overrides, `DummyCacheTests`), each panicking on failure;
//!   [`behaviours`] says which apply to the backend's [`Capabilities`](crate::Capabilities), and
//!   [`trials`] makes each one a test of its own, skipped ones reported as ignored with the reason.
//! - [`Harness`]: the `main` of a `harness = false` test target: a Tokio runtime to start servers and
//!   build subjects on, the trials of each subject, and libtest's command line and report.
//! - [`servers`]: `redis-server` and `memcached` as child processes on free loopback ports, with
//!   persistence off, killed on drop, and able to stop and restart for fault injection.
//! - [`capture_warnings`]: the `tracing` warnings emitted while a future runs (Django's key warnings).
//!
//! # Running the whole suite from one test target
//!
//! A backend crate declares a test target without libtest's harness, so that each behaviour is a
//! test of its own (`cargo test` prints `locmem_manual_clock::basic::add ... ok`, and a failure names
//! the behaviour):
//!
//! ```toml
//! [dev-dependencies]
//! cache-core = { workspace = true, features = ["testkit"] }
//!
//! [[test]]
//! name = "conformance"
//! harness = false
//! ```
//!
//! Its `main` registers the backend, builds a [`Subject`] per configuration and runs the trials. This
//! is the whole of `tests/conformance.rs` for an in-process backend whose factory reads a manual
//! clock (here the built-in `dummy` backend stands in for yours):
//!
//! ```no_run
//! use std::process::ExitCode;
//!
//! use cache_core::testkit::{Harness, Subject, Time};
//! use cache_core::{Backends, Clock, Location, Options};
//!
//! fn main() -> ExitCode {
//!     let clock = Clock::manual();
//!     let backends = Backends::new(); // plus `backends.register(my_backend::registration(clock.clone()))`
//!     let subject = Subject::build(backends, "dummy", Location::Unset, Options::default(), Time::Manual(clock))
//!         .expect("the aliases build");
//!     let mut harness = Harness::new();
//!     harness.conformance("dummy_manual_clock", &subject);
//!     harness.run().exit_code()
//! }
//! ```
//!
//! A server backend starts its server from [`servers`] on the harness's runtime, uses
//! [`Time::Real`], and stops the server once the trials have run:
//!
//! ```text
//! let redis = harness.block_on(RedisServer::start()).expect("redis-server starts");
//! let location = Location::One(redis.url());
//! let subject = Subject::build(backends, "redis", location, Options::default(), Time::Real)?;
//! harness.conformance("redis_one_server", &subject);
//! let conclusion = harness.run();
//! redis.stop();
//! conclusion.exit_code()
//! ```
//!
//! The trials of one subject take turns on its storage, each clearing it first, except those that
//! wait for entries to expire in real time, which overlap one another (their keys are distinct).
//! Trials of different subjects run in parallel, so give each subject its own storage (its own
//! server, database or `location`).

pub mod conformance;
pub mod load;
pub mod servers;
mod subject;
mod warnings;

pub use conformance::{Behaviour, Harness, behaviours, trials};
pub use load::Load;
pub use subject::{Subject, Time, aliases, custom_key_func, key_functions};
pub use warnings::capture_warnings;
