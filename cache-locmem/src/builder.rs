//! [`LocMemBuilder`]: a private locmem store built in code, with no configuration.

use cache_core::Clock;

use crate::backend::LocMemBackend;
use crate::options::LocMemOptions;

/// Builds a [`LocMemBackend`] over a private store, shared with nothing but the backend's clones:
/// for embedding a cache that no configuration names.
///
/// ```
/// use cache_locmem::LocMemBackend;
///
/// let backend = LocMemBackend::builder().max_entries(1000).cull_frequency(4).build();
/// assert_eq!(backend.options().max_entries, 1000);
/// ```
///
/// Every value of either option is valid (0 culls on every set, or removes everything), so
/// building can't fail.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct LocMemBuilder {
    options: LocMemOptions,
    clock: Clock,
}

impl LocMemBuilder {
    pub(crate) fn new() -> Self {
        LocMemBuilder {
            options: LocMemOptions::default(),
            clock: Clock::system(),
        }
    }

    /// Django's `MAX_ENTRIES` (300 unless set); see [`LocMemOptions::max_entries`].
    pub fn max_entries(mut self, max_entries: u64) -> Self {
        self.options.max_entries = max_entries;
        self
    }

    /// Django's `CULL_FREQUENCY` (3 unless set); see [`LocMemOptions::cull_frequency`].
    pub fn cull_frequency(mut self, cull_frequency: u64) -> Self {
        self.options.cull_frequency = cull_frequency;
        self
    }

    /// The clock entries expire by (the system clock unless set): tests give a
    /// [`Clock::manual`] and move it instead of sleeping.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The backend, over a new empty store.
    pub fn build(self) -> LocMemBackend {
        LocMemBackend::private(self.options, self.clock)
    }
}
