#![doc = include_str!("../README.md")]
// Every dependency must be used: a declared but unused one costs build time for nothing.
#![cfg_attr(not(test), deny(unused_crate_dependencies))]

// Named only to choose rustls' features (the ring provider, TLS 1.2) for redis-rs' TLS.
#[cfg(feature = "tls")]
use rustls as _;

mod backend;
mod builder;
mod cluster_nodes;
mod cluster_watch;
mod coalesce;
mod connection;
mod error;
mod location;
mod options;
mod registration;
mod scripts;

pub use backend::RedisBackend;
pub use builder::RedisBuilder;
pub use options::{ClearMode, RedisOptions};
pub use registration::{NAMES, registration};
