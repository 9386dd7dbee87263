//! The process-wide stores, one per location: Django's module-level `_caches` dict.
//!
//! Stores are never dropped, as in Django: an alias built again later (a reloaded configuration,
//! a second `Caches`) finds the data the first one left. A store is as large as its
//! `max_entries` allows, and a process names only the few locations its configuration does.

use std::collections::BTreeMap;
use std::sync::Arc;

use cache_core::{CacheError, Clock, Result};
use parking_lot::Mutex;

use crate::options::LocMemOptions;
use crate::store::Store;

struct Shared {
    store: Arc<Store>,
    /// The alias that created the store, to point at it when another alias disagrees.
    created_by: String,
}

static STORES: Mutex<BTreeMap<String, Shared>> = Mutex::new(BTreeMap::new());

/// The store named `location`, created with `options` and `clock` if this is its first use.
///
/// Django lets aliases sharing a location differ in options and silently keeps whichever
/// arrived first; here a difference is a configuration error, since one of the two settings
/// would be ignored.
pub(crate) fn shared_store(alias: &str, location: &str, options: LocMemOptions, clock: Clock) -> Result<Arc<Store>> {
    let mut stores = STORES.lock();
    if let Some(shared) = stores.get(location) {
        let existing = shared.store.options();
        if existing != options {
            return Err(CacheError::config(
                Some(alias),
                "options",
                format!(
                    "the locmem store at location `{location}` is already in use by alias `{}` with \
                     max_entries = {}, cull_frequency = {}, but this alias gives max_entries = {}, \
                     cull_frequency = {}; aliases with the same location share one store, so give them \
                     the same options or different locations",
                    shared.created_by,
                    existing.max_entries,
                    existing.cull_frequency,
                    options.max_entries,
                    options.cull_frequency,
                ),
            ));
        }
        if *shared.store.clock() != clock {
            return Err(CacheError::config(
                Some(alias),
                "location",
                format!(
                    "the locmem store at location `{location}` is already in use by alias `{}` with a \
                     different clock; a store keeps the clock it was created with, so give each test \
                     its own location",
                    shared.created_by,
                ),
            ));
        }
        return Ok(Arc::clone(&shared.store));
    }
    let store = Arc::new(Store::new(options, clock));
    stores.insert(
        location.to_owned(),
        Shared {
            store: Arc::clone(&store),
            created_by: alias.to_owned(),
        },
    );
    Ok(store)
}
