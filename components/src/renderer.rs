//! [`Renderer`]: renders registered components, through the output cache aliases of a [`Caches`].

use std::future::IntoFuture;
use std::sync::Arc;

use std::sync::atomic::{AtomicBool, Ordering};

use cache_core::single_flight::SingleFlight;
use cache_core::{Cache, Caches, CachesConfig, Timeout};
use futures::future::BoxFuture;

use crate::component::Component;
use crate::config::ComponentsConfig;
use crate::deps::{self, Strategy};
use crate::erased::Props;
use crate::error::ComponentError;
use crate::fragment::Fragment;
use crate::key::output_key;
use crate::media::MediaStore;
use crate::output::RenderOutput;
use crate::page::{Lineage, Page, PendingCall};
use crate::registry::Registry;
use crate::resolve::resolve;
use crate::settings::OutputCache;
use crate::slots::Slots;

/// Renders components. Cheap to clone; clones share the registry, the caches and the renders in
/// progress (so identical concurrent misses anywhere in the process render once).
///
/// Built once per application from the registry, the cache aliases and the `[components]` section;
/// every alias a component names is checked then, so a typo fails at startup, not at the first render.
#[derive(Clone)]
pub struct Renderer {
    inner: Arc<RendererInner>,
}

pub(crate) struct RendererInner {
    pub(crate) registry: Registry,
    pub(crate) caches: Caches,
    pub(crate) config: ComponentsConfig,
    /// Per registry entry: where its output is cached, or `None` when it isn't.
    pub(crate) outputs: Vec<Option<StoredOutput>>,
    /// Identical output-cache misses in flight, by alias and key: one render, every waiter gets it
    /// (also when it can't be stored, and without decoding it again).
    pub(crate) flights: Arc<SingleFlight<(String, String), Arc<Fragment>>>,
    /// Where component JS/CSS and JS/CSS variables go.
    pub(crate) media: MediaStore,
    /// Per registry entry: whether this renderer has written its class JS/CSS to the media store.
    pub(crate) classes_stored: Vec<AtomicBool>,
}

/// The output cache of one component, resolved against the configuration.
pub(crate) struct StoredOutput {
    pub(crate) cache: Cache,
    /// The lifetime of what is stored (`settings.ttl`, which stores).
    pub(crate) timeout: Timeout,
    pub(crate) settings: OutputCache,
}

impl Renderer {
    /// A renderer over `registry`, caching output in `caches` as each component's settings and the
    /// `[components]` section say.
    ///
    /// Errors: an override for a component that isn't registered, an alias (output cache or
    /// `[components] cache`) that isn't configured, a ttl that isn't a positive number of seconds.
    pub fn new(registry: Registry, caches: Caches, config: ComponentsConfig) -> Result<Renderer, ComponentError> {
        if let Some(unknown) = config.overrides.keys().find(|name| registry.get(name).is_none()) {
            return Err(ComponentError::config(
                format!("components.overrides.{unknown}"),
                format!(
                    "no component named `{unknown}` is registered (registered: {})",
                    registry.names().join(", ")
                ),
            ));
        }
        let media = MediaStore::new(&caches, config.cache.as_deref())?;
        let mut outputs = Vec::with_capacity(registry.entries.len());
        for entry in &registry.entries {
            let settings = config.settings_for(entry.name, entry.output_cache.clone());
            if let Some(problem) = settings.ttl.problem() {
                return Err(ComponentError::definition(entry.name, problem));
            }
            // `stores()` rules out `Ttl::DontStore`, the one without a timeout.
            let output = match settings.ttl.timeout() {
                Some(timeout) if settings.stores() => {
                    let cache = caches.get(&settings.cache).map_err(|error| {
                        ComponentError::definition(entry.name, format!("its output cache alias: {error}"))
                    })?;
                    Some(StoredOutput {
                        cache,
                        timeout,
                        settings,
                    })
                }
                _ => None,
            };
            outputs.push(output);
        }
        let registry_len = registry.entries.len();
        Ok(Renderer {
            inner: Arc::new(RendererInner {
                registry,
                caches,
                config,
                outputs,
                flights: Arc::default(),
                media,
                classes_stored: (0..registry_len).map(|_| AtomicBool::new(false)).collect(),
            }),
        })
    }

    /// [`Renderer::new`] with the `[components]` section of a loaded configuration file.
    pub fn from_config(registry: Registry, caches: Caches, config: &CachesConfig) -> Result<Renderer, ComponentError> {
        Renderer::new(registry, caches, ComponentsConfig::from_caches_config(config)?)
    }

    /// Renders component `C` with `props`; add slots with [`Render::slot`], then await it.
    pub fn render<C: Component>(&self, props: C::Props) -> Render<'_> {
        let target = self
            .inner
            .registry
            .index_of::<C>()
            .map(|index| (index, Arc::new(props) as Props));
        Render {
            renderer: self,
            target,
            slots: Slots::new(),
        }
    }

    /// Renders the component registered as `name` with props given as JSON (from a request, say);
    /// props that don't fit its type are a [`ComponentError::Props`] when awaited.
    pub fn render_named(&self, name: &str, props: serde_json::Value) -> Render<'_> {
        let registry = &self.inner.registry;
        let target = match registry.index_of_name(name) {
            None => Err(registry.unknown(name)),
            Some(index) => registry.entries[index]
                .component
                .props_from_json(props)
                .map(|props| (index, props))
                .map_err(|source| ComponentError::Props {
                    component: name.to_owned(),
                    source,
                }),
        };
        Render {
            renderer: self,
            target,
            slots: Slots::new(),
        }
    }

    /// The key component `C`'s output for these props and slots is cached under (before the
    /// alias' key function adds its prefix and version), or `None` when `C`'s output isn't cached.
    /// Delete it from [`Renderer::caches`] to drop one entry.
    pub fn output_key<C: Component>(&self, props: C::Props, slots: Slots) -> Result<Option<String>, ComponentError> {
        let index = self.inner.registry.index_of::<C>()?;
        let Some(output) = &self.inner.outputs[index] else {
            return Ok(None);
        };
        let page = Page::new(Arc::clone(&self.inner));
        let call = PendingCall::new(index, Arc::new(props), slots.into_sorted(), Lineage::default());
        let digest = page.digest(&call, output.settings.include_slots)?;
        Ok(Some(output_key(&self.inner.registry.entries[index].class_id, &digest)))
    }

    /// Puts the JS and CSS of `output` into its HTML as `strategy` says, and sets
    /// `data-djc-id-<instance id>` (and `data-djc-css-<hash>`, with CSS variables) on the root
    /// elements of every component instance.
    ///
    /// `Strategy::Fragment` is the one whose page fetches its JS/CSS from the media endpoint, so
    /// before it the media the result refers to is made available there: the class JS/CSS of its
    /// components (written once per renderer; the endpoint rebuilds entries a cache lost) and its
    /// JS/CSS variables (written on every call, cache hits included, so their lifetime starts
    /// again). The other strategies inline everything and write nothing. A media store that fails
    /// costs a warning, not the page.
    pub async fn with_dependencies(&self, output: &RenderOutput, strategy: Strategy) -> Result<String, ComponentError> {
        if strategy == Strategy::Fragment {
            self.store_media_of(output).await;
        }
        deps::apply(output, &self.inner.registry, strategy)
    }

    /// Writes the class JS/CSS of every registered component to the media store (overwriting), as
    /// at startup: pages rendered by an earlier process can then load them at once.
    ///
    /// A cache that fails is a [`ComponentError::Cache`] naming the media alias.
    pub async fn store_media(&self) -> Result<(), ComponentError> {
        let registry = &self.inner.registry;
        for (index, entry) in registry.entries.iter().enumerate() {
            let media = &self.inner.media;
            media
                .store_class(entry)
                .await
                .map_err(|source| ComponentError::cache(media.cache.alias(), source))?;
            self.inner.classes_stored[index].store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    /// The cache the media store uses: the `[components] cache` alias, or the embedded store.
    pub fn media_cache(&self) -> &Cache {
        &self.inner.media.cache
    }

    pub(crate) fn media(&self) -> &MediaStore {
        &self.inner.media
    }

    async fn store_media_of(&self, output: &RenderOutput) {
        let registry = &self.inner.registry;
        let mut writes: Vec<BoxFuture<'_, Result<(), cache_core::CacheError>>> = Vec::new();
        for class_id in output.classes() {
            let Some(index) = registry.index_of_class_id(class_id) else {
                continue;
            };
            if !self.inner.classes_stored[index].swap(true, Ordering::Relaxed) {
                let entry = &registry.entries[index];
                writes.push(Box::pin(self.inner.media.store_class(entry)));
            }
        }
        for variables in &output.variables {
            writes.push(Box::pin(self.inner.media.store_variables(variables)));
        }
        for result in futures::future::join_all(writes).await {
            if let Err(error) = result {
                tracing::warn!(
                    alias = self.inner.media.cache.alias(),
                    %error,
                    "components: the media store failed; the endpoint may not serve this page's JS/CSS"
                );
            }
        }
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// The cache aliases.
    pub fn caches(&self) -> &Caches {
        &self.inner.caches
    }

    /// The `[components]` section in force.
    pub fn config(&self) -> &ComponentsConfig {
        &self.inner.config
    }

    /// The output cache settings component `name` runs with (its own, with the section's overrides),
    /// or `None` when it doesn't read or write a cache (off, or [`crate::Ttl::DontStore`]).
    pub fn output_cache(&self, name: &str) -> Option<&OutputCache> {
        let index = self.inner.registry.index_of_name(name)?;
        self.inner.outputs[index].as_ref().map(|output| &output.settings)
    }
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("registry", &self.inner.registry)
            .finish_non_exhaustive()
    }
}

/// A render waiting to be awaited; see [`Renderer::render`].
#[must_use = "a render does nothing until it is awaited"]
pub struct Render<'a> {
    renderer: &'a Renderer,
    target: Result<(usize, Props), ComponentError>,
    slots: Slots,
}

impl Render<'_> {
    /// Fills slot `name` with trusted HTML.
    pub fn slot(mut self, name: impl Into<String>, html: impl AsRef<str>) -> Self {
        self.slots = self.slots.fill(name, html);
        self
    }

    /// Fills the slots given.
    pub fn slots(mut self, slots: Slots) -> Self {
        self.slots = slots;
        self
    }
}

impl<'a> IntoFuture for Render<'a> {
    type Output = Result<RenderOutput, ComponentError>;
    type IntoFuture = BoxFuture<'a, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let (entry, props) = self.target?;
            let page = Arc::new(Page::new(Arc::clone(&self.renderer.inner)));
            let call = Arc::new(PendingCall::new(
                entry,
                props,
                self.slots.into_sorted(),
                Lineage::default(),
            ));
            let fragment = resolve(&page, call).await?;
            Ok(page.finish(&fragment))
        })
    }
}
