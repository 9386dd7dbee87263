#![doc = include_str!("../README.md")]
// Every dependency must be used: a declared but unused one costs build time for nothing.
#![cfg_attr(not(test), deny(unused_crate_dependencies))]

mod abandoned;
mod backend;
mod backplane;
mod builder;
mod coherence;
mod fail_safe;
mod local_peers;
mod near;
mod options;
mod refresh;
mod registration;
mod state;
mod stats;

pub use backend::TieredBackend;
pub use builder::TieredBuilder;
pub use options::TieredOptions;
pub use refresh::{RefreshOptions, TieredCache};
pub use registration::{NAMES, registration, registration_with_clock};
pub use stats::TieredStats;
