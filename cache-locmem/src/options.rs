//! The alias' `options`: Django's `MAX_ENTRIES` and `CULL_FREQUENCY`, read as every culling
//! backend reads them ([`CullOptions`]).

use cache_core::CullOptions;

/// How large a locmem store grows and how much of it a cull removes: `max_entries` entries
/// (expired ones included) before a set culls, and `len / cull_frequency` least recently used
/// entries removed by a cull (`0`: every entry).
///
/// Read from an alias' `options` with `LocMemOptions::from_options`; set in code through
/// [`LocMemBackend::builder`](crate::LocMemBackend::builder).
pub type LocMemOptions = CullOptions;
