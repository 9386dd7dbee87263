//! What a render hands back: [`RenderOutput`].

use std::fmt;

use arrayvec::ArrayString;
use std::sync::Arc;

use crate::media::variables::Variables;

/// The result of rendering a component, whether its output came from the cache or not.
#[derive(Debug, Clone)]
pub struct RenderOutput {
    /// The HTML, with fresh instance ids wherever templates printed `component_id`.
    pub html: String,
    /// One record per component instance in the HTML, in document order (a parent before its
    /// children) — on a cache hit as on a miss, so the page's JS/CSS dependencies can be rendered
    /// either way (django-components skips them on a top-level hit).
    pub dependencies: Vec<Dependency>,
    /// The JS/CSS variable payloads the instances use, each once — registered again on every hit,
    /// so they are never lost when the media store forgot them.
    pub variables: Vec<Variables>,
    /// What the output cache did during this render.
    pub stats: RenderStats,
}

impl RenderOutput {
    /// The distinct component classes on the page, in order of first appearance: whose class-level
    /// JS and CSS the page needs.
    pub fn classes(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for dependency in &self.dependencies {
            if !seen.contains(&&*dependency.class_id) {
                seen.push(&dependency.class_id);
            }
        }
        seen
    }
}

/// One component instance on the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The component's class id (`Card_1a2b3c`).
    pub class_id: Arc<str>,
    /// This instance's id, new on every render (also on a cache hit).
    pub id: InstanceId,
    /// The hash of the instance's JS variables, when the component has JS and `js_data` returned some.
    pub js_vars: Option<Arc<str>>,
    /// The hash of the instance's CSS variables, when the component has CSS and `css_data` returned some.
    pub css_vars: Option<Arc<str>>,
}

/// A component instance id: `c` and six characters from `[0-9A-Za-z]`, django-components' format,
/// random so that fragments rendered later (by any process) don't reuse the page's ids.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct InstanceId(pub(crate) ArrayString<7>);

impl InstanceId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id lowercased, as an HTML parser has it in an attribute name.
    pub(crate) fn lowercase(&self) -> ArrayString<7> {
        let mut id = self.0;
        id.make_ascii_lowercase();
        id
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InstanceId({})", self.as_str())
    }
}

/// What the output cache did during one render; counts of components, not of cache calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderStats {
    /// Components, and template fragments (`{% call cache(…) %}`), whose output came from the cache.
    pub hits: u32,
    /// Cached components and template fragments that were not in the cache (each was rendered, or
    /// a component waited for a concurrent render).
    pub misses: u32,
    /// Cached components that waited for an identical render already in progress (same page or another).
    pub coalesced: u32,
    /// Components whose template or render function ran.
    pub renders: u32,
    /// Renders (of components and template fragments) stored in the cache.
    pub stores: u32,
    /// Cache calls that failed; each time the component or template fragment was rendered (or kept) uncached.
    pub cache_errors: u32,
}
