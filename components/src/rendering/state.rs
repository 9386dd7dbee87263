//! What every render of one renderer shares: the registry, one record per registered component
//! with its configuration resolved, the renders in flight and the media store.

use crate::rendering::cache_warnings::CacheWarnings;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use cache_core::Caches;
use cache_core::single_flight::SingleFlight;

use crate::config::ComponentsConfig;
use crate::error::ComponentError;
use crate::media::store::MediaStore;
use crate::output_cache::fragment::Fragment;
use crate::output_cache::target::OutputStore;
use crate::registry::{RegisteredComponent, Registry};

/// See the module docs.
pub(crate) struct RendererState {
    pub(crate) registry: Registry,
    /// One per registered component, in registration order, so a registry index is an index here.
    components: Vec<ConfiguredComponent>,
    pub(crate) caches: Caches,
    pub(crate) config: ComponentsConfig,
    /// Identical output-cache misses in flight, by alias and key: one render, every waiter gets it
    /// (also when it can't be stored, and without decoding it again).
    pub(crate) flights: Arc<SingleFlight<(String, String), Arc<Fragment>>>,
    /// Where component JS/CSS and JS/CSS variables go.
    pub(crate) media: MediaStore,
    /// Rate-limits "the cache failed" warnings, per alias.
    pub(crate) cache_warnings: CacheWarnings,
}

/// A registered component as this renderer runs it.
pub(crate) struct ConfiguredComponent {
    pub(crate) entry: Arc<RegisteredComponent>,
    /// Where its output is cached, or `None` when it isn't.
    pub(crate) output: Option<OutputStore>,
    /// Whether this renderer has written its class JS/CSS to the media store.
    pub(crate) class_media_stored: AtomicBool,
}

impl RendererState {
    /// Resolves every component's output cache against `config` and `caches`; see
    /// [`crate::Renderer::new`] for what is refused.
    pub(crate) fn new(
        registry: Registry,
        caches: Caches,
        config: ComponentsConfig,
    ) -> Result<RendererState, ComponentError> {
        if let Some(unknown) = config.overrides.keys().find(|name| registry.get(name).is_none()) {
            return Err(ComponentError::config(
                format!("components.overrides.{unknown}"),
                format!(
                    "no component named `{unknown}` is registered (registered: {})",
                    registry.names().join(", ")
                ),
            ));
        }
        let media = MediaStore::new(&caches, config.media_alias()?)?;
        let components = registry
            .entries
            .iter()
            .map(|entry| {
                Ok(ConfiguredComponent {
                    entry: Arc::clone(entry),
                    output: OutputStore::for_component(entry, &caches, &config)?,
                    class_media_stored: AtomicBool::new(false),
                })
            })
            .collect::<Result<_, ComponentError>>()?;
        Ok(RendererState {
            registry,
            components,
            caches,
            config,
            flights: Arc::default(),
            media,
            cache_warnings: CacheWarnings::default(),
        })
    }

    /// The component at registry index `index`.
    pub(crate) fn component(&self, index: usize) -> &ConfiguredComponent {
        &self.components[index]
    }

    /// Every component, in registration order.
    pub(crate) fn components(&self) -> &[ConfiguredComponent] {
        &self.components
    }
}
