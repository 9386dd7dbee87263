#![doc = include_str!("../README.md")]
// Every dependency must be used: a declared but unused one costs build time for nothing.
#![cfg_attr(not(test), deny(unused_crate_dependencies))]

mod backend;
mod builder;
mod connection;
mod expiry;
mod hashing;
mod location;
mod options;
mod protocol;
mod registration;
mod server;
mod wire_key;

pub use backend::{MemcachedBackend, ServerStats};
pub use builder::MemcachedBuilder;
pub use expiry::{LAST_ABSOLUTE_EXPTIME, RELATIVE_LIMIT_SECONDS};
pub use location::{DEFAULT_PORT, ServerAddress, servers_from_location};
pub use options::{ITEM_OVERHEAD, MemcachedOptions};
pub use registration::{NAMES, registration};
pub use wire_key::MAX_KEY_BYTES;
