#![doc = include_str!("../README.md")]
// Every dependency must be used: a declared but unused one costs build time for nothing.
#![cfg_attr(not(test), deny(unused_crate_dependencies))]

mod backend;
mod builder;
mod now;
mod options;
mod registration;
mod shard;
mod shared_stores;
mod store;

pub use backend::LocMemBackend;
pub use builder::LocMemBuilder;
pub use options::LocMemOptions;
pub use registration::{NAMES, registration, registration_with_clock};
