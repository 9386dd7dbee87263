#![doc = include_str!("../README.md")]
// Every dependency must be used: a declared but unused one costs build time for nothing.
#![cfg_attr(not(test), deny(unused_crate_dependencies))]

mod backend;
mod builder;
mod cull;
mod directory;
mod file_format;
mod file_name;
mod io_error;
mod key_locks;
mod options;
mod registration;
mod wall_clock;

pub use backend::FileBackend;
pub use builder::FileBuilder;
pub use options::FileOptions;
pub use registration::{NAMES, registration, registration_with_clock};
