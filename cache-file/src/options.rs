//! The alias' `options`: Django's `MAX_ENTRIES` and `CULL_FREQUENCY`, read as every culling
//! backend reads them ([`CullOptions`]).

use cache_core::CullOptions;

/// How many files a cache directory holds before a write culls, and how many a cull removes:
/// a write that finds `max_entries` `.djcache` files culls first (`0`: on every write), and a cull
/// removes `files / cull_frequency` files chosen at random (`0`: every cache file).
///
/// Read from an alias' `options` with `FileOptions::from_options`; set in code through
/// [`FileBackend::builder`](crate::FileBackend::builder).
pub type FileOptions = CullOptions;
