//! [`Registry`]: the components an application renders, each compiled once.

use std::any::TypeId;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use minijinja::value::{Value, ValueKind};
use minijinja::{AutoEscape, Environment, Error, Output, State, escape_formatter};

use crate::class_id::{check_name, class_id};
use crate::component::{Component, View};
use crate::erased::{Erased, Typed};
use crate::error::ComponentError;
use crate::media::content::{check_media, class_js};
use crate::media::kind::MediaKind;
use crate::output_cache::key::{Digest, class_key, fingerprint};
use crate::output_cache::settings::OutputCache;
use crate::rendering::markers;

/// Every component an application renders, registered by value.
///
/// ```
/// use cache_components::{Component, NoProps, Registry, View};
///
/// struct Hello;
/// impl Component for Hello {
///     const NAME: &'static str = "Hello";
///     type Props = NoProps;
///     fn view(&self) -> View<Self> {
///         View::template("<p>Hello</p>")
///     }
/// }
///
/// let mut registry = Registry::new();
/// registry.register(Hello)?;
/// let hello = registry.get("Hello").unwrap();
/// assert_eq!(hello.class_id(), cache_components::class_id::<Hello>());
/// # Ok::<(), cache_components::ComponentError>(())
/// ```
pub struct Registry {
    /// In registration order; an entry's index is how the rest of the crate refers to it.
    pub(crate) entries: Vec<Arc<RegisteredComponent>>,
    pub(crate) env: Environment<'static>,
    // foldhash, not std's SipHash: these are looked up on every render and cache hit, with keys
    // the application chose (names, type ids and class ids), not ones a client sends.
    by_name: HashMap<&'static str, usize, foldhash::fast::RandomState>,
    by_type: HashMap<TypeId, usize, foldhash::fast::RandomState>,
    by_class_id: HashMap<Arc<str>, usize, foldhash::fast::RandomState>,
}

/// One registered component.
pub(crate) struct RegisteredComponent {
    pub(crate) name: &'static str,
    pub(crate) class_id: Arc<str>,
    /// The key its output digests are computed with: its class id and code fingerprint.
    pub(crate) class_key: Digest,
    /// Whether the HTML comes from the template named by the class id (else a render function).
    pub(crate) has_template: bool,
    pub(crate) js: Option<Cow<'static, str>>,
    pub(crate) css: Option<Cow<'static, str>>,
    pub(crate) output_cache: OutputCache,
    pub(crate) component: Box<dyn Erased>,
}

impl RegisteredComponent {
    /// Whether the component has JS (resp. CSS), which its JS (resp. CSS) variables are handed to.
    pub(crate) fn has_media(&self, kind: MediaKind) -> bool {
        match kind {
            MediaKind::Js => self.js.is_some(),
            MediaKind::Css => self.css.is_some(),
        }
    }

    /// Its class-level JS or CSS as stored, served and inlined.
    pub(crate) fn class_media(&self, kind: MediaKind) -> Option<String> {
        match kind {
            MediaKind::Js => self.js.as_deref().map(|js| class_js(&self.class_id, js)),
            MediaKind::Css => self.css.clone().map(Cow::into_owned),
        }
    }
}

/// The environment every component template compiles in: HTML autoescaping whatever the
/// template's name, and a formatter that keeps NUL out. The renderer adds `component(...)` when
/// it takes the registry, since only a render has a page to record child calls in.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_formatter(formatter);
    env
}

/// The default formatter, except that text from outside can't carry a NUL (it would read as a
/// render marker).
fn formatter(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    if !value.is_safe() {
        let text = match value.kind() {
            ValueKind::String => value.as_str().map(str::to_owned),
            ValueKind::Seq | ValueKind::Map | ValueKind::Iterable | ValueKind::Plain | ValueKind::Bytes => {
                Some(value.to_string())
            }
            _ => None,
        };
        if let Some(text) = text.filter(|text| text.contains('\0')) {
            return escape_formatter(out, state, &Value::from(markers::sanitize(&text).into_owned()));
        }
    }
    escape_formatter(out, state, value)
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry {
            entries: Vec::new(),
            env: environment(),
            by_name: HashMap::default(),
            by_type: HashMap::default(),
            by_class_id: HashMap::default(),
        }
    }

    /// Adds a component under its [`Component::NAME`]. Its name must be an identifier not used by
    /// another component of this registry, and its template must compile; the error says which
    /// rule it broke.
    pub fn register<C: Component>(&mut self, component: C) -> Result<&mut Self, ComponentError> {
        self.register_as(C::NAME, component)
    }

    /// Adds a component under `name` (django-components' `@register("list20")`): templates call it
    /// `component("list20", …)` and `[components.overrides.list20]` configures it, while its class
    /// id — in cache keys, media URLs and `data-djc-*` attributes — still comes from
    /// [`Component::NAME`] and its type. The same rules as [`Registry::register`] apply to `name`.
    ///
    /// ```
    /// # use cache_components::{Component, NoProps, Registry, View};
    /// struct List20;
    /// impl Component for List20 {
    ///     const NAME: &'static str = "List20";
    ///     type Props = NoProps;
    ///     fn view(&self) -> View<Self> {
    ///         View::template("<ul></ul>")
    ///     }
    /// }
    /// let mut registry = Registry::new();
    /// registry.register_as("list20", List20)?;
    /// let list = registry.get("list20").unwrap();
    /// assert!(list.class_id().starts_with("List20_"));
    /// # Ok::<(), cache_components::ComponentError>(())
    /// ```
    pub fn register_as<C: Component>(&mut self, name: &'static str, component: C) -> Result<&mut Self, ComponentError> {
        check_name(C::NAME).map_err(|problem| ComponentError::definition(C::NAME, problem))?;
        check_name(name).map_err(|problem| ComponentError::definition(name, problem))?;
        if self.by_name.contains_key(name) {
            return Err(ComponentError::definition(
                name,
                "another component with this name is already registered; names must be unique in a registry",
            ));
        }
        if self.by_type.contains_key(&TypeId::of::<C>()) {
            return Err(ComponentError::definition(
                name,
                "this component type is already registered",
            ));
        }
        let class_id: Arc<str> = class_id::<C>().into();
        if self.by_class_id.contains_key(&class_id) {
            return Err(ComponentError::definition(
                name,
                format!("class id `{class_id}` is already taken by another component"),
            ));
        }
        let view = component.view();
        let code_version = component.code_version();
        let (fingerprint, has_template) = match &view {
            View::Template(source) => {
                if source.contains('\0') {
                    return Err(ComponentError::definition(
                        name,
                        "the template contains a NUL character, which is reserved for render markers",
                    ));
                }
                self.env
                    .add_template_owned(class_id.to_string(), source.to_string())
                    .map_err(|error| {
                        ComponentError::definition(name, format!("the template doesn't compile: {error:#}"))
                    })?;
                (fingerprint("template", source, &code_version), true)
            }
            View::Function(_) => (fingerprint("function", "", &code_version), false),
        };
        let js = component.js().filter(|js| !js.trim().is_empty());
        let css = component.css().filter(|css| !css.trim().is_empty());
        check_media(name, js.as_deref(), css.as_deref())?;
        let index = self.entries.len();
        self.entries.push(Arc::new(RegisteredComponent {
            name,
            class_id: Arc::clone(&class_id),
            class_key: class_key(&class_id, &fingerprint),
            has_template,
            js,
            css,
            output_cache: component.output_cache(),
            component: Box::new(Typed::new(component, &view)),
        }));
        self.by_name.insert(name, index);
        self.by_type.insert(TypeId::of::<C>(), index);
        self.by_class_id.insert(class_id, index);
        Ok(self)
    }

    /// The component registered under `name`.
    pub fn get(&self, name: &str) -> Option<ComponentInfo<'_>> {
        self.index_of_name(name).map(|index| ComponentInfo {
            entry: &self.entries[index],
        })
    }

    /// The index of class id `class_id`.
    pub(crate) fn index_of_class_id(&self, class_id: &str) -> Option<usize> {
        self.by_class_id.get(class_id).copied()
    }

    /// The entry of class id `class_id`.
    pub(crate) fn entry_by_class_id(&self, class_id: &str) -> Option<&RegisteredComponent> {
        self.by_class_id.get(class_id).map(|&index| &*self.entries[index])
    }

    /// The component with this class id (what rendered HTML and media URLs name).
    pub fn by_class_id(&self, class_id: &str) -> Option<ComponentInfo<'_>> {
        self.by_class_id.get(class_id).map(|&index| ComponentInfo {
            entry: &self.entries[index],
        })
    }

    /// Every registered component, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = ComponentInfo<'_>> {
        self.entries.iter().map(|entry| ComponentInfo { entry })
    }

    /// The registered names, in registration order.
    pub fn names(&self) -> Vec<String> {
        self.entries.iter().map(|entry| entry.name.to_owned()).collect()
    }

    /// The registry's own copy of a class id, shared rather than allocated again; a new one for a
    /// class this registry doesn't have (a stored render of another deploy's).
    pub(crate) fn shared_class_id(&self, class_id: &str) -> Arc<str> {
        match self.by_class_id.get_key_value(class_id) {
            Some((shared, _)) => Arc::clone(shared),
            None => class_id.into(),
        }
    }

    pub(crate) fn index_of_name(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    pub(crate) fn index_of<C: Component>(&self) -> Result<usize, ComponentError> {
        self.index_of_type(TypeId::of::<C>(), C::NAME)
    }

    /// The index of the component type `type_id`, whose `NAME` is `name`.
    pub(crate) fn index_of_type(&self, type_id: TypeId, name: &str) -> Result<usize, ComponentError> {
        self.by_type.get(&type_id).copied().ok_or_else(|| self.unknown(name))
    }

    pub(crate) fn unknown(&self, name: &str) -> ComponentError {
        ComponentError::Unknown {
            name: name.to_owned(),
            known: self.names(),
        }
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|entry| &entry.class_id))
            .finish()
    }
}

/// A registered component, as the registry describes it.
#[derive(Clone, Copy)]
pub struct ComponentInfo<'a> {
    entry: &'a RegisteredComponent,
}

impl<'a> ComponentInfo<'a> {
    /// Its name.
    pub fn name(&self) -> &'static str {
        self.entry.name
    }

    /// Its class id.
    pub fn class_id(&self) -> &'a str {
        &self.entry.class_id
    }

    /// Its class-level JS, when not blank.
    pub fn js(&self) -> Option<&'a str> {
        self.entry.js.as_deref()
    }

    /// Its class-level CSS, when not blank.
    pub fn css(&self) -> Option<&'a str> {
        self.entry.css.as_deref()
    }

    /// The output cache settings its code declares (before the `[components]` section's overrides).
    pub fn output_cache(&self) -> &'a OutputCache {
        &self.entry.output_cache
    }
}

impl fmt::Debug for ComponentInfo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponentInfo")
            .field("name", &self.entry.name)
            .field("class_id", &self.entry.class_id)
            .finish_non_exhaustive()
    }
}
