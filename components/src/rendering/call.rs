//! A component call waiting to be rendered, and where in the component tree it was made.

use std::any::Any;
use std::sync::{Arc, OnceLock};

use minijinja::Value;

use crate::error::ComponentError;
use crate::output_cache::key::Digest;
use crate::registry::RegisteredComponent;

/// Props of some component, typed inside. Always made by the same component's erased form (or
/// given to `render::<C>` for that `C`), so the downcasts can't fail.
pub(crate) type AnyProps = dyn Any + Send + Sync;

/// Owned [`AnyProps`].
pub(crate) type Props = Arc<AnyProps>;

/// The props of a call, in the form the caller had them.
pub(crate) enum CallProps<'p> {
    /// Made by the crate: from JSON, or by a render function's `child`.
    Owned(Props),
    /// Lent by the top-level caller for the duration of the render.
    Borrowed(&'p AnyProps),
    /// A template's arguments: keyed as they are, turned into typed props only when the call
    /// renders (a hit never needs them).
    Arguments { args: Value, typed: OnceLock<Props> },
}

/// A component call waiting to be rendered: made by `component(...)` in a template,
/// [`crate::Html::child`] in a render function, or the top-level render.
pub(crate) struct PendingCall<'p> {
    /// The component called: its index in the registry (and the renderer's component records).
    pub(crate) component: usize,
    pub(crate) props: CallProps<'p>,
    /// Slot contents by name, sorted by name, raw (they may hold markers).
    pub(crate) slots: Vec<(String, String)>,
    /// Where in the component tree the call was made.
    pub(crate) lineage: Lineage,
    /// The call's digest with its slots, once computed: the keys of parents that put it in a slot
    /// include it, and so does its own key when it caches with its slots.
    pub(crate) identity: OnceLock<Digest>,
}

impl<'p> PendingCall<'p> {
    pub(crate) fn new(component: usize, props: CallProps<'p>, slots: Vec<(String, String)>, lineage: Lineage) -> Self {
        PendingCall {
            component,
            props,
            slots,
            lineage,
            identity: OnceLock::new(),
        }
    }

    /// The typed props, built from the template's arguments the first time they are needed.
    pub(crate) fn props(&self, entry: &RegisteredComponent) -> Result<&AnyProps, ComponentError> {
        match &self.props {
            CallProps::Owned(props) => Ok(&**props),
            CallProps::Borrowed(props) => Ok(*props),
            CallProps::Arguments { args, typed } => {
                if let Some(props) = typed.get() {
                    return Ok(&**props);
                }
                let props =
                    entry
                        .component
                        .props_from_template(args.clone())
                        .map_err(|source| ComponentError::Props {
                            component: entry.name.to_owned(),
                            source,
                        })?;
                Ok(&**typed.get_or_init(|| props))
            }
        }
    }

    pub(crate) fn slot(&self, name: &str) -> Option<&str> {
        self.slots
            .binary_search_by(|(slot, _)| slot.as_str().cmp(name))
            .ok()
            .map(|index| self.slots[index].1.as_str())
    }
}

/// Where a call sits in the component tree: how deep, and inside which cached renders.
///
/// A cached component that (directly or through others) calls itself with the same props would
/// wait for its own render to finish — forever, since single-flight makes the inner call wait for
/// the outer. The cached renders a call is inside are kept so that such a call is an error instead.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lineage {
    /// 0 at the top level.
    pub(crate) depth: u32,
    cached: Option<Arc<CachedAncestor>>,
}

#[derive(Debug)]
struct CachedAncestor {
    digest: Digest,
    parent: Option<Arc<CachedAncestor>>,
}

impl Lineage {
    /// The lineage of calls made while rendering a call of this lineage; `digest` when that
    /// render is a cached one.
    pub(crate) fn children(&self, digest: Option<Digest>) -> Lineage {
        let cached = match digest {
            None => self.cached.clone(),
            Some(digest) => Some(Arc::new(CachedAncestor {
                digest,
                parent: self.cached.clone(),
            })),
        };
        Lineage {
            depth: self.depth + 1,
            cached,
        }
    }

    /// Whether the call is inside a render of `digest`.
    pub(crate) fn is_inside(&self, digest: &Digest) -> bool {
        let mut ancestor = self.cached.as_deref();
        while let Some(node) = ancestor {
            if node.digest == *digest {
                return true;
            }
            ancestor = node.parent.as_deref();
        }
        false
    }
}
