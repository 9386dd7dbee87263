//! Backends register by name; [`Caches`] builds every configured alias from them.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use crate::backend::CacheBackend;
use crate::cache::{Cache, CacheOptions};
use crate::config::{AliasConfig, CachesConfig, Location, Options, facade_options};
use crate::error::{CacheError, Result};
use crate::health::AliasHealth;
use crate::key::KeyFunction;

/// What a backend factory is given to build one alias' backend.
///
/// Non-exhaustive so that new fields don't break backends: build one with [`BackendConfig::new`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct BackendConfig<'a> {
    /// The alias being built, for error messages.
    pub alias: &'a str,
    /// The alias' `location`, as written.
    pub location: &'a Location,
    /// The alias' `options`; the factory parses them with [`Options::parse`], which rejects unknown keys.
    pub options: &'a Options,
    /// The alias' `key_prefix` when its keys are made by the default key function, so that every key
    /// it writes starts with `<key_prefix>:<version>:`; `None` when a custom key function makes them
    /// and their shape is unknown. A backend that must find its own keys among others' (Redis'
    /// `clear()` scanning by pattern) reads it; most backends ignore it.
    pub key_prefix: Option<&'a str>,
    /// The other aliases of the configuration being built, for a backend that stands in front of
    /// one (`tiered`); `None` outside `Caches::build`.
    aliases: Option<AliasLookup<'a>>,
}

/// How a factory reaches another alias of the same configuration: built on first request, so the
/// order aliases are written in doesn't matter.
#[derive(Clone, Copy)]
struct AliasLookup<'a>(&'a dyn Fn(&str) -> std::result::Result<Cache, String>);

impl fmt::Debug for AliasLookup<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AliasLookup")
    }
}

impl<'a> BackendConfig<'a> {
    /// The configuration of `alias`, whose keys are made by the default key function with an empty
    /// prefix (set [`BackendConfig::key_prefix`] otherwise).
    pub fn new(alias: &'a str, location: &'a Location, options: &'a Options) -> Self {
        BackendConfig {
            alias,
            location,
            options,
            key_prefix: Some(""),
            aliases: None,
        }
    }

    /// Another alias of the configuration being built (its `Cache`, built first if it wasn't yet),
    /// for a backend that stands in front of it. `field` names the option that names it, for the
    /// error: an alias that doesn't exist, that failed to build (its own error is reported too), or
    /// that leads back to this one.
    pub fn other_alias(&self, field: &str, name: &str) -> Result<Cache> {
        let found = match self.aliases {
            Some(AliasLookup(lookup)) => lookup(name),
            None => Err(
                "other aliases can only be named in a configuration built by `Caches::build`; \
                         build this backend in code and give it the other backend directly"
                    .to_owned(),
            ),
        };
        found.map_err(|message| CacheError::config(Some(self.alias), field, message))
    }

    /// The same configuration with this key prefix (`None`: a custom key function makes the keys).
    pub fn with_key_prefix(mut self, key_prefix: Option<&'a str>) -> Self {
        self.key_prefix = key_prefix;
        self
    }
}

/// Builds a backend from its configuration.
pub type BackendFactory = Arc<dyn Fn(&BackendConfig<'_>) -> Result<Arc<dyn CacheBackend>> + Send + Sync>;

/// A backend crate's entry in the registry: the names it answers to and its factory.
#[derive(Clone)]
pub struct BackendRegistration {
    names: Vec<String>,
    factory: BackendFactory,
}

impl BackendRegistration {
    /// A backend known by `names` (a short name and Django's dotted path, usually).
    pub fn new(
        names: &[&str],
        factory: impl Fn(&BackendConfig<'_>) -> Result<Arc<dyn CacheBackend>> + Send + Sync + 'static,
    ) -> Self {
        BackendRegistration {
            names: names.iter().map(|name| (*name).to_owned()).collect(),
            factory: Arc::new(factory),
        }
    }

    /// The names it answers to.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

impl fmt::Debug for BackendRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendRegistration")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

/// The backends and key functions an application makes available to its configuration.
///
/// `Backends::new()` knows `dummy`; add each backend crate you depend on with [`Backends::register`].
#[derive(Clone)]
pub struct Backends {
    factories: BTreeMap<String, BackendFactory>,
    key_functions: HashMap<String, KeyFunction>,
}

impl fmt::Debug for Backends {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backends")
            .field("backends", &self.factories.keys().collect::<Vec<_>>())
            .field("key_functions", &self.key_functions.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Default for Backends {
    fn default() -> Self {
        Self::new()
    }
}

impl Backends {
    /// A registry holding the built-in `dummy` backend.
    pub fn new() -> Self {
        let mut backends = Backends {
            factories: BTreeMap::new(),
            key_functions: HashMap::new(),
        };
        backends.register(crate::dummy::registration());
        backends
    }

    /// Adds a backend under each of its names (a later registration of a name replaces the earlier one).
    pub fn register(&mut self, registration: BackendRegistration) -> &mut Self {
        for name in registration.names {
            self.factories.insert(name, Arc::clone(&registration.factory));
        }
        self
    }

    /// Adds a custom key function that aliases select with `key_function = "<name>"`.
    pub fn key_function(&mut self, function: KeyFunction) -> &mut Self {
        self.key_functions.insert(function.name().to_owned(), function);
        self
    }

    /// Every registered backend name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.factories.keys().cloned().collect()
    }

    pub(crate) fn factory(&self, alias: &str, backend: &str) -> Result<&BackendFactory> {
        self.factories.get(backend).ok_or_else(|| CacheError::UnknownBackend {
            alias: alias.to_owned(),
            backend: backend.to_owned(),
            known: self.names(),
        })
    }

    pub(crate) fn find_key_function(&self, alias: &str, name: &str) -> Result<KeyFunction> {
        if let Some(function) = self.key_functions.get(name) {
            return Ok(function.clone());
        }
        if name == "default" {
            return Ok(KeyFunction::default_format());
        }
        Err({
            let mut known: Vec<&str> = self.key_functions.keys().map(String::as_str).collect();
            known.push("default");
            known.sort_unstable();
            CacheError::config(
                Some(alias),
                "key_function",
                format!(
                    "no key function named `{name}` is registered (known: {}); register it with `Backends::key_function`",
                    known.join(", ")
                ),
            )
        })
    }
}

/// Every configured alias, built: Django's `caches`.
#[derive(Clone, Debug)]
pub struct Caches {
    aliases: BTreeMap<String, Cache>,
}

impl Caches {
    /// Builds every alias of `config` with the registered backends. Every alias is validated here;
    /// servers may be connected lazily. The `default` alias is required, as in Django.
    pub fn build(config: &CachesConfig, backends: &Backends) -> Result<Caches> {
        if !config.aliases.contains_key("default") {
            return Err(CacheError::config(
                None,
                "caches.default",
                "you must define a 'default' cache in the `caches` section",
            ));
        }
        let building = Building {
            config,
            backends,
            built: RefCell::new(BTreeMap::new()),
            in_progress: RefCell::new(Vec::new()),
            problems: RefCell::new(Vec::new()),
        };
        // Every alias is built, so one run reports the problems of all of them.
        for alias in config.aliases.keys() {
            let _ = building.alias(alias);
        }
        match CacheError::combine(building.problems.into_inner()) {
            Some(error) => Err(error),
            None => Ok(Caches {
                aliases: building
                    .built
                    .into_inner()
                    .into_iter()
                    .filter_map(|(alias, cache)| Some((alias, cache?)))
                    .collect(),
            }),
        }
    }

    /// Assembles aliases in code, without a configuration file:
    ///
    /// ```
    /// use std::sync::Arc;
    /// use cache_core::{CacheOptions, Caches, DummyBackend};
    ///
    /// let caches = Caches::builder()
    ///     .alias("default", Arc::new(DummyBackend), CacheOptions::default())
    ///     .alias("sessions", Arc::new(DummyBackend), CacheOptions::default().with_key_prefix("s"))
    ///     .build()?;
    /// assert_eq!(caches.get("sessions")?.options().key_prefix(), "s");
    /// # Ok::<(), cache_core::CacheError>(())
    /// ```
    pub fn builder() -> CachesBuilder {
        CachesBuilder::default()
    }

    /// The cache for `alias`.
    pub fn get(&self, alias: &str) -> Result<Cache> {
        self.aliases
            .get(alias)
            .cloned()
            .ok_or_else(|| CacheError::UnknownAlias {
                alias: alias.to_owned(),
                known: self.aliases.keys().cloned().collect(),
            })
    }

    /// The `default` alias.
    pub fn default_cache(&self) -> Cache {
        // `build` refuses a configuration without `default`.
        self.aliases["default"].clone()
    }

    /// Every alias, by name.
    pub fn all(&self) -> impl Iterator<Item = &Cache> {
        self.aliases.values()
    }

    /// Probes every server of every alias — all at once, each within its backend's timeout, so
    /// the whole check takes about the slowest probe, not their sum — and reports each alias as
    /// healthy, degraded or down with its servers' results, in alias order. Probes are not
    /// counted in the aliases' metrics.
    pub async fn check(&self) -> Vec<AliasHealth> {
        let probes = self
            .aliases
            .iter()
            .map(|(alias, cache)| AliasHealth::probe(alias, &**cache.backend()));
        futures::future::join_all(probes).await
    }

    /// Closes every alias' connections.
    pub async fn close_all(&self) -> Result<()> {
        for cache in self.aliases.values() {
            cache.close().await?;
        }
        Ok(())
    }
}

/// [`Caches`] put together in code, from [`Caches::builder`].
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct CachesBuilder {
    aliases: BTreeMap<String, Cache>,
    /// The first alias given twice: reported by `build`, so the chain of calls stays unbroken.
    repeated: Option<String>,
}

impl CachesBuilder {
    /// Adds the alias `name` over `backend`, with its key, timeout and codec settings.
    pub fn alias(self, name: impl Into<String>, backend: Arc<dyn CacheBackend>, options: CacheOptions) -> Self {
        self.cache(Cache::new(name, backend, options))
    }

    /// Adds a `Cache` made already, under its own alias name.
    pub fn cache(mut self, cache: Cache) -> Self {
        let name = cache.alias().to_owned();
        if self.aliases.insert(name.clone(), cache).is_some() {
            self.repeated.get_or_insert(name);
        }
        self
    }

    /// The aliases, once each, with a `default` among them (required, as in Django).
    pub fn build(self) -> Result<Caches> {
        if let Some(name) = self.repeated {
            return Err(CacheError::config(
                Some(&name),
                "alias",
                "given twice to `Caches::builder()`; give each alias once",
            ));
        }
        if !self.aliases.contains_key("default") {
            return Err(CacheError::config(
                None,
                "caches.default",
                "you must define a 'default' cache; add one with `Caches::builder().alias(\"default\", …)`",
            ));
        }
        Ok(Caches { aliases: self.aliases })
    }
}

/// The aliases of one `Caches::build`, each built once: in name order, or earlier when another
/// alias' factory asks for it ([`BackendConfig::other_alias`]).
struct Building<'c> {
    config: &'c CachesConfig,
    backends: &'c Backends,
    /// Every alias built so far; `None` for one that failed (its problems are in `problems`).
    built: RefCell<BTreeMap<String, Option<Cache>>>,
    /// The aliases being built, innermost last: naming one of them is a loop.
    in_progress: RefCell<Vec<String>>,
    problems: RefCell<Vec<CacheError>>,
}

impl Building<'_> {
    /// The alias, built now if it wasn't; the error is what the alias naming it reports.
    fn alias(&self, alias: &str) -> std::result::Result<Cache, String> {
        if let Some(built) = self.built.borrow().get(alias) {
            return built
                .clone()
                .ok_or_else(|| format!("the alias `{alias}` it names has problems of its own; fix those first"));
        }
        if self.in_progress.borrow().iter().any(|building| building == alias) {
            return Err(format!(
                "the alias `{alias}` leads back to this one ({} → {alias}); an alias can't stand in front of itself",
                self.in_progress.borrow().join(" → ")
            ));
        }
        let Some(entry) = self.config.aliases.get(alias) else {
            return Err(format!(
                "no alias `{alias}` is configured (configured aliases: {}); name one of them",
                self.config.aliases.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        };
        self.in_progress.borrow_mut().push(alias.to_owned());
        let lookup = |name: &str| self.alias(name);
        let result = build_alias(alias, entry, self.backends, AliasLookup(&lookup));
        self.in_progress.borrow_mut().pop();
        let built = match result {
            Ok(cache) => Some(cache),
            Err(error) => {
                self.problems
                    .borrow_mut()
                    .push(self.config.name_variables(alias, error));
                None
            }
        };
        self.built.borrow_mut().insert(alias.to_owned(), built.clone());
        built.ok_or_else(|| format!("the alias `{alias}` it names has problems of its own; fix those first"))
    }
}

/// Builds one alias, reporting every problem found: the backend's name, the key function, the
/// façade's options and whatever the backend's factory refuses.
fn build_alias(alias: &str, entry: &AliasConfig, backends: &Backends, aliases: AliasLookup<'_>) -> Result<Cache> {
    let factory = backends.factory(alias, &entry.backend);
    let key_function = match &entry.key_function {
        Some(name) => backends.find_key_function(alias, name).map(Some),
        None => Ok(None),
    };
    let default_keys = key_function
        .as_ref()
        .map_or(true, |function| function.as_ref().is_none_or(KeyFunction::is_default));
    let (facade, backend_options, facade_problem) = facade_options::split(alias, &entry.options);
    let mut config = BackendConfig::new(alias, &entry.location, &backend_options)
        .with_key_prefix(default_keys.then_some(entry.key_prefix.as_str()));
    config.aliases = Some(aliases);
    let backend = match &factory {
        Ok(factory) => Some(factory(&config)),
        Err(_) => None,
    };
    match (factory, key_function, facade_problem, backend) {
        (Ok(_), Ok(key_function), None, Some(Ok(backend))) => {
            let mut options = entry
                .cache_options()
                .with_ignore_exceptions(facade.ignore_exceptions)
                .with_log_keys(facade.log_keys)
                .with_latency_histogram(facade.latency_histogram);
            if let Some(function) = key_function {
                options = options.with_key_function(function);
            }
            Ok(Cache::new(alias, backend, options))
        }
        (factory, key_function, facade_problem, backend) => {
            let mut problems = [
                factory.err(),
                key_function.err(),
                facade_problem,
                backend.and_then(Result::err),
            ]
            .into_iter()
            .flatten();
            // At least one of them is an error, or the first arm would have matched.
            let first = problems
                .next()
                .unwrap_or(CacheError::ConfigErrors { errors: Vec::new() });
            Err(CacheError::together(first, problems))
        }
    }
}
