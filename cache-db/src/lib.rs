#![doc = include_str!("../README.md")]
// Every dependency must be used: a declared but unused one costs build time for nothing.
#![cfg_attr(not(test), deny(unused_crate_dependencies))]

mod backend;
mod builder;
mod cull;
mod database;
mod errors;
mod options;
mod postgres;
mod registration;
mod sql;
mod sqlite;
mod stored;
mod table;
mod timestamp;

pub use backend::DbBackend;
pub use builder::DbBuilder;
pub use database::Database;
pub use options::DbOptions;
pub use registration::{NAMES, registration, registration_with_clock};
