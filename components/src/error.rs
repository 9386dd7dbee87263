//! The one error type of this crate: [`ComponentError`].

use cache_core::{BoxError, CacheError};

/// What can go wrong defining, configuring or rendering components; each message names the
/// component (or the configuration field) to fix.
///
/// A cache backend that fails while rendering is *not* an error: the component renders uncached
/// (fail-open). Configuration problems (an unknown alias) are [`ComponentError::Config`]; a cache
/// that fails where the caller asked for a write ([`crate::Renderer::store_media`]) is
/// [`ComponentError::Cache`], never a configuration error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ComponentError {
    /// A component can't be registered: a bad name, a duplicate, a template that doesn't compile.
    #[error("component `{component}`: {message}")]
    Definition {
        /// The component's name.
        component: String,
        /// What is wrong and what to do.
        message: String,
    },

    /// A render asked for a component that is not registered.
    #[error("no component named `{name}` is registered (registered: {})", known.join(", "))]
    Unknown {
        /// The name or type asked for.
        name: String,
        /// The registered names.
        known: Vec<String>,
    },

    /// The props given don't fit the component's `Props` type, or can't be serialized for the key.
    #[error("component `{component}`: the props don't fit: {source}")]
    Props {
        /// The component's name.
        component: String,
        /// The serde error.
        #[source]
        source: BoxError,
    },

    /// The component's template failed (a syntax error surfaced at render, a failing filter, a
    /// `component(...)` call with an unknown name…).
    #[error("component `{component}`: template error: {source:#}")]
    Template {
        /// The component's name.
        component: String,
        /// minijinja's error, with the template location.
        #[source]
        source: minijinja::Error,
    },

    /// The component's own code failed: its `template_data` hook or its render function.
    #[error("component `{component}`: {source}")]
    Render {
        /// The component's name.
        component: String,
        /// The error it returned.
        #[source]
        source: BoxError,
    },

    /// Components nest deeper than [`crate::MAX_DEPTH`]: usually a component that includes itself.
    #[error("component `{component}`: components nest deeper than {limit} levels; does a component include itself?")]
    TooDeep {
        /// The component that would have gone one level too deep.
        component: String,
        /// The limit.
        limit: u32,
    },

    /// A cached component calls itself (directly or through others) with the same props and slots:
    /// it would wait for its own render forever.
    #[error("component `{component}` includes itself with the same props and slots, so its render would never finish")]
    Recursive {
        /// The component.
        component: String,
    },

    /// The `[components]` section or a component's output cache settings are wrong
    /// (an alias that doesn't exist, a ttl that isn't positive, an override of an unknown component).
    #[error(transparent)]
    Config(CacheError),

    /// [`crate::Renderer::html_with`] was given [`crate::Strategy::Fragment`], which writes the
    /// media store and so can't be done without awaiting.
    #[error(
        "strategy `fragment` writes the page's JS/CSS to the media store: use \
         `renderer.with_dependencies(&output, Strategy::Fragment).await` or \
         `renderer.render::<C>(&props).strategy(Strategy::Fragment).await`"
    )]
    FragmentNeedsAwait,

    /// A cache call failed: the server behind the alias is down, slow or refused it. Nothing in
    /// the configuration is wrong; the same call may work once the server is back.
    #[error(
        "cache alias `{alias}` failed: {source}; check that its server is up and reachable \
         within the alias' timeouts, then try again"
    )]
    Cache {
        /// The alias whose cache failed.
        alias: String,
        /// The cache's error.
        #[source]
        source: CacheError,
    },
}

impl ComponentError {
    pub(crate) fn definition(component: &str, message: impl Into<String>) -> Self {
        ComponentError::Definition {
            component: component.to_owned(),
            message: message.into(),
        }
    }

    /// A failed call to the cache of `alias`.
    pub(crate) fn cache(alias: &str, source: CacheError) -> Self {
        ComponentError::Cache {
            alias: alias.to_owned(),
            source,
        }
    }

    pub(crate) fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        ComponentError::Config(CacheError::config(None, field, message))
    }
}
