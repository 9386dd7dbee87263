//! Where one component's output is stored: its alias and lifetime, resolved from its settings and
//! the `[components]` section when the renderer is built.

use cache_core::{Cache, Caches, Timeout};

use crate::config::ComponentsConfig;
use crate::error::ComponentError;
use crate::output_cache::settings::OutputCache;
use crate::registry::RegisteredComponent;

/// The output cache of one component, resolved against the configuration.
pub(crate) struct OutputStore {
    pub(crate) cache: Cache,
    /// The lifetime of what is stored (`settings.ttl`, which stores).
    pub(crate) timeout: Timeout,
    pub(crate) settings: OutputCache,
}

impl OutputStore {
    /// Where `entry`'s output goes with the `[components]` section applied, or `None` when it
    /// isn't stored. A ttl that isn't positive, or an alias that isn't configured, is an error.
    pub(crate) fn for_component(
        entry: &RegisteredComponent,
        caches: &Caches,
        config: &ComponentsConfig,
    ) -> Result<Option<OutputStore>, ComponentError> {
        let settings = config.settings_for(entry.name, entry.output_cache.clone());
        if let Some(problem) = settings.ttl.problem() {
            return Err(ComponentError::definition(entry.name, problem));
        }
        // `stores()` rules out `Ttl::DontStore`, the one without a timeout.
        match settings.ttl.timeout() {
            Some(timeout) if settings.stores() => {
                let cache = caches.get(&settings.cache).map_err(|error| {
                    ComponentError::definition(entry.name, format!("its output cache alias: {error}"))
                })?;
                Ok(Some(OutputStore {
                    cache,
                    timeout,
                    settings,
                }))
            }
            _ => Ok(None),
        }
    }
}
