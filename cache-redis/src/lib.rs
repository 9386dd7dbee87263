#![doc = include_str!("../README.md")]

mod backend;
mod coalesce;
mod connection;
mod error;
mod location;
mod options;
mod registration;
mod scripts;

pub use backend::RedisBackend;
pub use options::{ClearMode, RedisOptions};
pub use registration::{NAMES, registration};
