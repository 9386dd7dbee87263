#![doc = include_str!("../README.md")]

mod backend;
mod builder;
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
