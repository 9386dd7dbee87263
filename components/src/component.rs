//! The [`Component`] trait: what a component author writes.

use std::borrow::Cow;
use std::future::Future;

use cache_core::BoxError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::output_cache::settings::OutputCache;
use crate::rendering::html::Html;

/// Extra template variables, and JS/CSS variables: a JSON object.
pub type Data = serde_json::Map<String, serde_json::Value>;

/// An HTML component: typed props in, HTML out, optionally cached.
///
/// A component is a value (it may hold what its render needs: a client, a pool, settings),
/// registered once with [`crate::Registry::register`]. Its HTML comes from a minijinja template,
/// autoescaped, or from a render function ([`View`]).
///
/// In a template the props are variables (`{{ title }}`), and so are:
/// - `slots`: the slot contents given by the caller, by name (`{{ slots.default }}`,
///   `{% if slots.header %}…{% endif %}`), already HTML;
/// - `component_id`: this instance's id (fresh on every render, cache hits included). Print it as
///   it is: filters that change text (`upper`, `replace`) break it;
/// - `component(name, prop=value, …, slots={…})`: renders a child component. Inside
///   `{% call component("Card", title="x") %}…{% endcall %}` the body is its `default` slot; named
///   slots come from `slots={"header": header}` where `header` is usually a
///   `{% set header %}…{% endset %}` block. Plain strings given as slots are escaped.
///
/// Names `slots`, `component_id` and `component` shadow props of the same name.
///
/// ```
/// use cache_components::{Component, OutputCache, View};
/// use serde::{Deserialize, Serialize};
///
/// struct Card;
///
/// #[derive(Serialize, Deserialize)]
/// #[serde(default)] // props left out in a template call take their defaults (and share their cache key)
/// struct CardProps {
///     title: String,
///     items: Vec<String>,
/// }
///
/// impl Default for CardProps {
///     fn default() -> Self {
///         CardProps { title: "Untitled".into(), items: Vec::new() }
///     }
/// }
///
/// impl Component for Card {
///     const NAME: &'static str = "Card";
///     type Props = CardProps;
///
///     fn view(&self) -> View<Self> {
///         View::template(
///             r#"<section id="{{ component_id }}"><h2>{{ title }}</h2>{{ slots.default }}
///             <ul>{% for item in items %}<li>{{ item }}</li>{% endfor %}</ul></section>"#,
///         )
///     }
///
///     fn output_cache(&self) -> OutputCache {
///         OutputCache::enabled()
///     }
/// }
/// ```
pub trait Component: Send + Sync + Sized + 'static {
    /// The name templates call it by and class ids start with: `[A-Za-z_][A-Za-z0-9_]*`, unique
    /// within a registry.
    const NAME: &'static str;

    /// The props. Give the struct `#[serde(default)]` so template callers may leave props out;
    /// the cache key is computed from the props *after* defaults, so leaving a prop out and
    /// passing its default value hit the same entry. Use [`NoProps`] for a component without any.
    type Props: Serialize + DeserializeOwned + Send + Sync + 'static;

    /// Where the HTML comes from. Called once, at registration.
    fn view(&self) -> View<Self>;

    /// Extra template variables (or [`Html::data`] for a render function), computed before each
    /// render — the place for slow work (queries, calls) worth caching. Not called on a cache hit.
    /// Its keys override props of the same name.
    fn template_data(&self, props: &Self::Props) -> impl Future<Output = Result<Data, BoxError>> + Send {
        let _ = props;
        std::future::ready(Ok(Data::new()))
    }

    /// The component's class-level JavaScript, if any.
    fn js(&self) -> Option<Cow<'static, str>> {
        None
    }

    /// The component's class-level CSS, if any.
    fn css(&self) -> Option<Cow<'static, str>> {
        None
    }

    /// JS variables of one render, handed to the component's JS. Ignored when [`Component::js`] is
    /// `None` or the map is empty (as in django-components).
    fn js_data(&self, props: &Self::Props) -> Data {
        let _ = props;
        Data::new()
    }

    /// CSS variables of one render (custom properties on the instance). Ignored when
    /// [`Component::css`] is `None` or the map is empty.
    fn css_data(&self, props: &Self::Props) -> Data {
        let _ = props;
        Data::new()
    }

    /// Whether and how the rendered output is cached. Off unless overridden; the `[components]`
    /// section may override it per component.
    fn output_cache(&self) -> OutputCache {
        OutputCache::disabled()
    }

    /// What identifies a render's output for the output cache, in place of the props:
    /// django-components' `Cache.hash`. Used when [`OutputCache::own_key`] is set; the default is
    /// the props themselves.
    ///
    /// Return what determines the output — an id and a version, say — so that large props are
    /// not hashed on every lookup. It is encoded like the props (self-delimiting, so `("a", "bc")`
    /// and `("ab", "c")` differ) into a 128-bit keyed BLAKE3 digest, under the component's class
    /// and code fingerprint. Two props giving the same key share one cached output: leave
    /// nothing out that changes it.
    ///
    /// ```
    /// # use cache_components::{Component, OutputCache, View};
    /// # use serde::{Deserialize, Serialize};
    /// struct Article;
    ///
    /// #[derive(Serialize, Deserialize)]
    /// struct ArticleProps {
    ///     id: u64,
    ///     version: u32,
    ///     body: String, // large, and fixed by id and version
    /// }
    ///
    /// impl Component for Article {
    ///     const NAME: &'static str = "Article";
    ///     type Props = ArticleProps;
    ///
    ///     fn view(&self) -> View<Self> {
    ///         View::template("<article>{{ body }}</article>")
    ///     }
    ///
    ///     fn output_cache(&self) -> OutputCache {
    ///         OutputCache::enabled().own_key()
    ///     }
    ///
    ///     fn cache_key<'a>(&'a self, props: &'a ArticleProps) -> impl serde::Serialize + 'a {
    ///         (props.id, props.version)
    ///     }
    /// }
    /// ```
    fn cache_key<'a>(&'a self, props: &'a Self::Props) -> impl Serialize + 'a {
        props
    }

    /// Goes into the cache key's fingerprint next to the template source. A render function's
    /// code can't be fingerprinted, so bump this when it (or what `template_data` computes)
    /// changes output; old entries are then never read again.
    fn code_version(&self) -> Cow<'static, str> {
        Cow::Borrowed("")
    }
}

/// A render function: writes the HTML of one render with [`Html`].
pub type RenderFn<C> = fn(&C, &<C as Component>::Props, &mut Html<'_>) -> Result<(), BoxError>;

/// Where a component's HTML comes from.
pub enum View<C: Component> {
    /// A minijinja template, HTML-autoescaped. Its source is part of the cache key's fingerprint.
    Template(Cow<'static, str>),
    /// A function writing HTML; see [`Component::code_version`].
    Function(RenderFn<C>),
}

impl<C: Component> std::fmt::Debug for View<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            View::Template(source) => f.debug_tuple("Template").field(source).finish(),
            View::Function(_) => f.write_str("Function"),
        }
    }
}

impl<C: Component> View<C> {
    /// A template view.
    pub fn template(source: impl Into<Cow<'static, str>>) -> Self {
        View::Template(source.into())
    }

    /// A render function view.
    pub fn function(render: RenderFn<C>) -> Self {
        View::Function(render)
    }
}

/// Props of a component that takes none: `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoProps {}
