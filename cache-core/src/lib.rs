#![doc = include_str!("../README.md")]
// Every dependency must be used: a declared but unused one costs build time for nothing.
#![cfg_attr(not(test), deny(unused_crate_dependencies))]

mod backend;
mod backend_error;
mod cache;
pub mod call;
mod circuit_breaker;
mod clock;
mod codec;
mod config;
mod cull_options;
mod dummy;
mod error;
mod health;
mod ignored_errors;
pub mod key;
mod key_argument;
mod metrics;
pub mod observe;
mod operations;
mod registry;
pub mod single_flight;
pub mod stored_integer;
mod timeout;
mod warning_gate;

#[cfg(feature = "testkit")]
pub mod testkit;

pub use backend::{CacheBackend, Capabilities, Expiry, HEALTH_CHECK_KEY, Remaining};
pub use backend_error::{BackendError, BackendResult, ErrorKind, Unavailability, Wait};
pub use bytes::Bytes;
pub use cache::{Cache, CacheOptions, DEFAULT_TIMEOUT_SECONDS};
pub use circuit_breaker::{CircuitBreaker, CircuitPermit, CircuitSettings, CircuitState, CircuitStats};
pub use clock::{Clock, Timestamp};
pub use codec::Codec;
pub use config::{AliasConfig, CachesConfig, ConfigFormat, Location, Options, option_values};
pub use cull_options::CullOptions;
pub use dummy::DummyBackend;
pub use error::{BoxError, CacheError, KeyProblem, KeyRule, Result};
pub use health::{AliasHealth, HealthStatus, ServerHealth, ServerRole};
pub use ignored_errors::IGNORED_ERROR_WARNING_INTERVAL;
pub use key::KeyFunction;
pub use key_argument::IntoKey;
pub use metrics::Metrics;
pub use registry::{BackendConfig, BackendFactory, BackendRegistration, Backends, Caches, CachesBuilder};
pub use timeout::Timeout;
pub use warning_gate::WarningGate;

/// Re-exported so backend crates implement [`CacheBackend`] with the same macro version.
pub use async_trait::async_trait;
