//! What an operator sees: counters and a latency histogram in the [`metrics`] facade, and a
//! debug-level `tracing` span per call.
//!
//! The names and labels are in [`names`] and in the "Metrics" table of the crate README. Install a
//! `metrics` recorder (a Prometheus, OpenTelemetry or StatsD exporter) before the first call and
//! every series appears; without one, counting costs one atomic load and a branch per event.

mod error_class;
mod instruments;
mod key_digest;
pub mod names;
mod operation_name;
mod running_call;
mod server;

pub(crate) use error_class::{Blame, ErrorLabel};
pub(crate) use instruments::Instruments;
pub use operation_name::OperationName;
pub use running_call::Running;
pub use server::record_server;
