//! [`Renderer`]: renders registered components, through the output cache aliases of a [`Caches`].

use std::future::IntoFuture;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use cache_core::{Cache, CacheError, Caches, CachesConfig};
use futures::future::BoxFuture;

use crate::component::Component;
use crate::config::ComponentsConfig;
use crate::error::ComponentError;
use crate::media::store::MediaStore;
use crate::media::strategies::{self, Strategy};
use crate::output_cache::key::output_key;
use crate::output_cache::settings::OutputCache;
use crate::output_cache::top_level::{self, TopLevel};
use crate::registry::Registry;
use crate::rendering::cache_warnings::{CACHE_WARNING_INTERVAL, CacheRole, Trouble};
use crate::rendering::call::{CallProps, Lineage, PendingCall};
use crate::rendering::ids::IdSequence;
use crate::rendering::output::RenderOutput;
use crate::rendering::page::Page;
use crate::rendering::resolve::resolve;
use crate::rendering::slots::Slots;
use crate::rendering::state::RendererState;
use crate::rendering::template;

/// Renders components. Cheap to clone; clones share the registry, the caches and the renders in
/// progress (so identical concurrent misses anywhere in the process render once).
///
/// Built once per application from the registry, the cache aliases and the `[components]` section;
/// every alias a component names is checked then, so a typo fails at startup, not at the first render.
#[derive(Clone)]
pub struct Renderer {
    state: Arc<RendererState>,
    /// Where every render's instance ids start, for output that is the same on every run.
    id_seed: Option<u64>,
}

impl Renderer {
    /// A renderer over `registry`, caching output in `caches` as each component's settings and the
    /// `[components]` section say.
    ///
    /// Errors: an override for a component that isn't registered, an alias (output cache or
    /// `[components] cache`) that isn't configured, a ttl that isn't a positive number of seconds.
    pub fn new(mut registry: Registry, caches: Caches, config: ComponentsConfig) -> Result<Renderer, ComponentError> {
        // Templates look the function up when they run, so they compiled at registration without it.
        registry.env.add_function("component", template::component);
        registry
            .env
            .add_function("cache", crate::template_fragments::tag::cache);
        Ok(Renderer {
            state: Arc::new(RendererState::new(registry, caches, config)?),
            id_seed: None,
        })
    }

    /// This renderer (sharing everything with it) giving instance ids from a fixed sequence:
    /// every render's ids start at `seed` and count up (`seed` 0: `c000000`, `c000001`, …), so
    /// the same render gives the same HTML every time — for snapshot tests (django-components'
    /// `GenIdPatcher`). Not for serving: fragments rendered later reuse the page's ids.
    pub fn with_id_seed(&self, seed: u64) -> Renderer {
        Renderer {
            state: Arc::clone(&self.state),
            id_seed: Some(seed),
        }
    }

    /// [`Renderer::new`] with the `[components]` section of a loaded configuration file.
    pub fn from_config(registry: Registry, caches: Caches, config: &CachesConfig) -> Result<Renderer, ComponentError> {
        Renderer::new(registry, caches, ComponentsConfig::from_caches_config(config)?)
    }

    /// Renders component `C` with `props` (borrowed for the render); add slots with
    /// [`Render::slot`], then await it.
    pub fn render<'a, C: Component>(&'a self, props: &'a C::Props) -> Render<'a> {
        let target = self
            .state
            .registry
            .index_of::<C>()
            .map(|index| (index, CallProps::Borrowed(props)));
        Render {
            renderer: self,
            target,
            slots: Slots::new(),
            strategy: None,
        }
    }

    /// Renders the component registered as `name` with props given as JSON (from a request, say);
    /// props that don't fit its type are a [`ComponentError::Props`] when awaited.
    pub fn render_named(&self, name: &str, props: serde_json::Value) -> Render<'_> {
        let registry = &self.state.registry;
        let target = match registry.index_of_name(name) {
            None => Err(registry.unknown(name)),
            Some(index) => registry.entries[index]
                .component
                .props_from_json(props)
                .map(|props| (index, CallProps::Owned(props)))
                .map_err(|source| ComponentError::Props {
                    component: name.to_owned(),
                    source,
                }),
        };
        Render {
            renderer: self,
            target,
            slots: Slots::new(),
            strategy: None,
        }
    }

    /// The key component `C`'s output for these props and slots is cached under (before the
    /// alias' key function adds its prefix and version), or `None` when `C`'s output isn't cached.
    /// Delete it from [`Renderer::caches`] to drop one entry.
    ///
    /// A template's `component(...)` call is keyed by its arguments as given (see
    /// [`Renderer::template_call_key`]), unless the component declares its own key.
    pub fn output_key<C: Component>(&self, props: &C::Props, slots: Slots) -> Result<Option<String>, ComponentError> {
        let index = self.state.registry.index_of::<C>()?;
        self.key_of(PendingCall::new(
            index,
            CallProps::Borrowed(props),
            slots.into_sorted(),
            Lineage::default(),
        ))
    }

    /// The key the output of a template's `component(name, …)` call with these arguments (a JSON
    /// object: argument name to value) and slots is cached under, or `None` when that component's
    /// output isn't cached. Arguments the call leaves out are left out here too: a template call is
    /// keyed by what it passes, without building the props.
    pub fn template_call_key(
        &self,
        name: &str,
        arguments: &serde_json::Value,
        slots: Slots,
    ) -> Result<Option<String>, ComponentError> {
        let registry = &self.state.registry;
        let index = registry.index_of_name(name).ok_or_else(|| registry.unknown(name))?;
        let props = CallProps::Arguments {
            args: minijinja::Value::from(minijinja::value::Serde(arguments)),
            typed: Default::default(),
        };
        self.key_of(PendingCall::new(index, props, slots.into_sorted(), Lineage::default()))
    }

    fn key_of(&self, call: PendingCall<'_>) -> Result<Option<String>, ComponentError> {
        let component = self.state.component(call.component);
        let Some(output) = &component.output else {
            return Ok(None);
        };
        let page = Page::new(Arc::clone(&self.state));
        let digest = page.digest(&call, output.settings.include_slots)?;
        Ok(Some(output_key(&component.entry.class_id, &digest).to_string()))
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
    ///
    /// Only `Strategy::Fragment` does I/O: [`Renderer::html_with`] does the others without
    /// awaiting, and [`Render::strategy`] does it all in the render's own call.
    pub async fn with_dependencies(&self, output: &RenderOutput, strategy: Strategy) -> Result<String, ComponentError> {
        if strategy == Strategy::Fragment {
            self.store_media_of(output).await;
        }
        Ok(strategies::apply(output, &self.state.registry, strategy))
    }

    /// [`Renderer::with_dependencies`] for the strategies that write nothing (all but
    /// `Strategy::Fragment`, which is a [`ComponentError::FragmentNeedsAwait`]): no I/O, no await.
    pub fn html_with(&self, output: &RenderOutput, strategy: Strategy) -> Result<String, ComponentError> {
        if strategy == Strategy::Fragment {
            return Err(ComponentError::FragmentNeedsAwait);
        }
        Ok(strategies::apply(output, &self.state.registry, strategy))
    }

    /// Writes the class JS/CSS of every registered component to the media store (overwriting), as
    /// at startup: pages rendered by an earlier process can then load them at once.
    ///
    /// A cache that fails is a [`ComponentError::Cache`] naming the media alias.
    pub async fn store_media(&self) -> Result<(), ComponentError> {
        let media = &self.state.media;
        for component in self.state.components() {
            media
                .store_class(&component.entry)
                .await
                .map_err(|source| ComponentError::cache(media.cache.alias(), source))?;
            component.class_media_stored.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    /// The cache the media store uses: the `[components] cache` alias, or the embedded store.
    pub fn media_cache(&self) -> &Cache {
        &self.state.media.cache
    }

    pub(crate) fn media(&self) -> &MediaStore {
        &self.state.media
    }

    async fn store_media_of(&self, output: &RenderOutput) {
        let media = &self.state.media;
        let mut writes: Vec<BoxFuture<'_, Result<(), CacheError>>> = Vec::new();
        for class_id in output.classes() {
            let Some(index) = self.state.registry.index_of_class_id(class_id) else {
                continue;
            };
            let component = self.state.component(index);
            if !component.class_media_stored.swap(true, Ordering::Relaxed) {
                writes.push(Box::pin(media.store_class(&component.entry)));
            }
        }
        for variables in &output.variables {
            writes.push(Box::pin(media.store_variables(variables)));
        }
        for result in futures::future::join_all(writes).await {
            if let Err(error) = result {
                self.state
                    .cache_warnings
                    .warn(media.cache.alias(), CacheRole::Media, Trouble::Failed, |held_back| {
                        tracing::warn!(
                            alias = media.cache.alias(),
                            %error,
                            held_back,
                            "components: the media store failed; the endpoint may not serve this page's JS/CSS \
                             (one such warning per alias every {}s)",
                            CACHE_WARNING_INTERVAL.as_secs()
                        );
                    });
            }
        }
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.state.registry
    }

    /// The cache aliases.
    pub fn caches(&self) -> &Caches {
        &self.state.caches
    }

    /// The `[components]` section in force.
    pub fn config(&self) -> &ComponentsConfig {
        &self.state.config
    }

    /// The output cache settings component `name` runs with (its own, with the section's overrides),
    /// or `None` when it doesn't read or write a cache (off, or [`crate::Ttl::DontStore`]).
    pub fn output_cache(&self, name: &str) -> Option<&OutputCache> {
        let index = self.state.registry.index_of_name(name)?;
        self.state
            .component(index)
            .output
            .as_ref()
            .map(|output| &output.settings)
    }
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("registry", &self.state.registry)
            .finish_non_exhaustive()
    }
}

/// A render waiting to be awaited; see [`Renderer::render`].
#[must_use = "a render does nothing until it is awaited"]
pub struct Render<'a> {
    renderer: &'a Renderer,
    target: Result<(usize, CallProps<'a>), ComponentError>,
    slots: Slots,
    strategy: Option<Strategy>,
}

impl std::fmt::Debug for Render<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Render")
            .field("slots", &self.slots)
            .finish_non_exhaustive()
    }
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

    /// Puts the JS and CSS into the HTML as `strategy` says ([`Renderer::with_dependencies`]), so
    /// the awaited output's `html` is the final HTML: one call. Without it, `html` is the HTML
    /// as rendered, which is `Strategy::Ignore`'s.
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = Some(strategy);
        self
    }
}

impl<'a> IntoFuture for Render<'a> {
    type Output = Result<RenderOutput, ComponentError>;
    type IntoFuture = BoxFuture<'a, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let (entry, props) = self.target?;
            let state = &self.renderer.state;
            let call = PendingCall::new(entry, props, self.slots.into_sorted(), Lineage::default());
            let mut ids = match self.renderer.id_seed {
                Some(seed) => IdSequence::counting_from(seed),
                None => IdSequence::new(),
            };
            // A top-level hit needs no page at all.
            let mut output = match top_level::read(state, &call, &mut ids).await? {
                TopLevel::Hit(output) => output,
                TopLevel::Render(first_read) => {
                    let page = Arc::new(Page::new(Arc::clone(state)));
                    let fragment = resolve(&page, &call, first_read).await?;
                    page.finish(&fragment, &mut ids)
                }
            };
            if let Some(strategy) = self.strategy.filter(|&strategy| strategy != Strategy::Ignore) {
                output.html = if strategy == Strategy::Fragment {
                    // The one strategy that writes (the media store), in a box of its own like the
                    // render above: this future, allocated on every call, stays small.
                    Box::pin(self.renderer.with_dependencies(&output, strategy)).await?
                } else {
                    self.renderer.html_with(&output, strategy)?
                };
            }
            Ok(output)
        })
    }
}
