//! One top-level render in progress: the calls templates made, the renders under way, the
//! fragments already fetched, and the counters.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use crate::erased::Props;
use crate::error::ComponentError;
use crate::fragment::{Fragment, IdRef};
use crate::ids::IdSequence;
use crate::key::{Digest, DigestInput};
use crate::markers::{self, Token};
use crate::output::{Dependency, RenderOutput, RenderStats};
use crate::renderer::RendererInner;

/// A component call waiting to be rendered: made by `component(...)` in a template,
/// [`crate::Html::child`] in a render function, or the top-level render.
pub(crate) struct PendingCall {
    pub(crate) entry: usize,
    pub(crate) props: Props,
    /// Slot contents by name, sorted by name, raw (they may hold markers).
    pub(crate) slots: Vec<(String, String)>,
    /// Where in the component tree the call was made.
    pub(crate) lineage: Lineage,
    /// The call's digest with its slots, once computed: the keys of parents that put it in a slot
    /// include it, and so does its own key when it caches with its slots.
    identity: OnceLock<Digest>,
}

impl PendingCall {
    pub(crate) fn new(entry: usize, props: Props, slots: Vec<(String, String)>, lineage: Lineage) -> Self {
        PendingCall {
            entry,
            props,
            slots,
            lineage,
            identity: OnceLock::new(),
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

/// Counters of one render; see [`RenderStats`].
#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) hits: AtomicU32,
    pub(crate) misses: AtomicU32,
    pub(crate) coalesced: AtomicU32,
    pub(crate) renders: AtomicU32,
    pub(crate) stores: AtomicU32,
    pub(crate) cache_errors: AtomicU32,
}

impl Stats {
    pub(crate) fn count(counter: &AtomicU32) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn read(&self) -> RenderStats {
        let get = |counter: &AtomicU32| counter.load(Ordering::Relaxed);
        RenderStats {
            hits: get(&self.hits),
            misses: get(&self.misses),
            coalesced: get(&self.coalesced),
            renders: get(&self.renders),
            stores: get(&self.stores),
            cache_errors: get(&self.cache_errors),
        }
    }
}

/// See the module docs.
pub(crate) struct Page {
    pub(crate) renderer: Arc<RendererInner>,
    calls: Mutex<Vec<Arc<PendingCall>>>,
    next_render: AtomicU32,
    /// Shareable fragments already obtained in this page, by cache key: identical cached children
    /// are looked up and rendered once per page.
    /// Keyed by the digest (which is keyed by the class), not the key string: no string to copy.
    seen: Mutex<HashMap<Digest, Arc<Fragment>, foldhash::fast::RandomState>>,
    pub(crate) stats: Stats,
}

impl Page {
    pub(crate) fn new(renderer: Arc<RendererInner>) -> Self {
        Page {
            renderer,
            calls: Mutex::new(Vec::new()),
            next_render: AtomicU32::new(0),
            seen: Mutex::new(HashMap::default()),
            stats: Stats::default(),
        }
    }

    /// Records a call and returns its number, for its marker.
    pub(crate) fn add_call(&self, call: PendingCall) -> u32 {
        let mut calls = self.calls.lock();
        calls.push(Arc::new(call));
        (calls.len() - 1) as u32
    }

    pub(crate) fn call(&self, n: u32) -> Option<Arc<PendingCall>> {
        self.calls.lock().get(n as usize).cloned()
    }

    /// A number for a render starting now, for its id marker.
    pub(crate) fn start_render(&self) -> u32 {
        self.next_render.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn seen(&self, digest: &Digest) -> Option<Arc<Fragment>> {
        self.seen.lock().get(digest).cloned()
    }

    pub(crate) fn remember(&self, digest: Digest, fragment: &Arc<Fragment>) {
        self.seen.lock().insert(digest, Arc::clone(fragment));
    }

    /// The digest of `call`: class, code fingerprint, props after defaults, and the slots when
    /// `with_slots`.
    ///
    /// With slots it is the call's identity, computed once: a parent that caches with its slots
    /// has already asked for it when the call is resolved.
    pub(crate) fn digest(&self, call: &PendingCall, with_slots: bool) -> Result<Digest, ComponentError> {
        if with_slots && let Some(identity) = call.identity.get() {
            return Ok(*identity);
        }
        let entry = &self.renderer.registry.entries[call.entry];
        let mut props = Vec::with_capacity(64);
        entry
            .component
            .canonical_props(&call.props, &mut props)
            .map_err(|source| ComponentError::Props {
                component: entry.name.to_owned(),
                source,
            })?;
        let mut input = DigestInput::new(&entry.class_key);
        input.field(&props);
        if with_slots {
            input.tag(1);
            input.count(call.slots.len());
            let mut canonical = Vec::new();
            for (name, content) in &call.slots {
                input.field(name.as_bytes());
                canonical.clear();
                self.canonical_slot(content, &mut canonical)?;
                input.field(&canonical);
            }
            return Ok(*call.identity.get_or_init(|| input.finish()));
        }
        input.tag(0);
        Ok(input.finish())
    }

    /// Slot content with its markers replaced by what they stand for: a call by the call's identity
    /// (so two slots holding the same child with different page numbers are equal), an id by a
    /// constant (such a render is never stored anyway). Text holds no NUL, so `NUL` starts a record.
    fn canonical_slot(&self, content: &str, out: &mut Vec<u8>) -> Result<(), ComponentError> {
        for token in markers::tokens(content) {
            match token {
                Token::Text(text) => out.extend_from_slice(text.as_bytes()),
                Token::Call(n) => match self.call(n) {
                    Some(child) => {
                        out.extend_from_slice(b"\0c");
                        out.extend_from_slice(&self.digest(&child, true)?);
                    }
                    None => out.extend_from_slice("\u{FFFD}".as_bytes()),
                },
                Token::Id(_) => out.extend_from_slice(b"\0i"),
            }
        }
        Ok(())
    }

    /// Stamps fresh ids into the top-level fragment: the page as the caller gets it.
    pub(crate) fn finish(&self, fragment: &Fragment) -> RenderOutput {
        let mut ids = IdSequence::new();
        let dependencies: Vec<Dependency> = fragment
            .instances
            .iter()
            .map(|instance| Dependency {
                class_id: Arc::clone(&instance.class_id),
                id: ids.next_id(),
                js_vars: instance.js_vars.clone(),
                css_vars: instance.css_vars.clone(),
            })
            .collect();
        let mut html = Vec::with_capacity(fragment.html.len() + 7 * fragment.ids.len());
        let mut copied = 0;
        for &(offset, id) in &fragment.ids {
            let offset = offset as usize;
            html.extend_from_slice(&fragment.html[copied..offset]);
            copied = offset;
            // Only a forged marker can point outside the page; it prints nothing.
            if let IdRef::Local(n) = id {
                html.extend_from_slice(dependencies[n as usize].id.as_str().as_bytes());
            }
        }
        html.extend_from_slice(&fragment.html[copied..]);
        // Where each instance ended up once the ids were written in: every local id before a
        // position moves it by an id's length (an id at a span's start counts as inside it).
        let inserted: Vec<u32> = fragment
            .ids
            .iter()
            .filter(|(_, id)| matches!(id, IdRef::Local(_)))
            .map(|&(offset, _)| offset)
            .collect();
        let moved = |offset: u32, inclusive: bool| {
            let before = inserted.partition_point(|&at| if inclusive { at <= offset } else { at < offset });
            offset as usize + before * 7 // an instance id is 7 bytes
        };
        let spans = fragment
            .instances
            .iter()
            .map(|instance| (moved(instance.span.0, false), moved(instance.span.1, true)))
            .collect();
        // Every piece is UTF-8 (template output, or validated when read from the cache) and ids sit
        // on character boundaries, so this can't fail; the check is what lets us say so safely.
        let html =
            String::from_utf8(html).unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned());
        RenderOutput {
            html,
            dependencies,
            variables: fragment.variables.clone(),
            stats: self.stats.read(),
            spans,
        }
    }
}

impl std::fmt::Debug for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Page")
            .field("calls", &self.calls.lock().len())
            .finish_non_exhaustive()
    }
}
