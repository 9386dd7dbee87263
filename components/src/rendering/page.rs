//! One top-level render in progress: the calls templates made, the renders under way, the
//! fragments already fetched, and the counters.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use parking_lot::Mutex;

use crate::error::ComponentError;
use crate::output_cache::fragment::Fragment;
use crate::output_cache::key::arguments::ArgumentDigests;
use crate::output_cache::key::{self, Digest};
use crate::rendering::call::PendingCall;
use crate::rendering::html::ChildCalls;
use crate::rendering::ids::IdSequence;
use crate::rendering::markers::{self, Token};
use crate::rendering::output::{Dependency, RenderOutput, RenderStats};
use crate::rendering::stamp::{self, Places};
use crate::rendering::state::RendererState;
use crate::template_fragments::PendingTemplateFragment;

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
    pub(crate) state: Arc<RendererState>,
    calls: Mutex<Vec<Arc<PendingCall<'static>>>>,
    /// The `{% call cache(…) %}` blocks templates left markers of, by number.
    template_fragments: Mutex<Vec<Arc<PendingTemplateFragment>>>,
    next_render: AtomicU32,
    /// Shareable fragments already obtained in this page, by cache key: identical cached children
    /// are looked up and rendered once per page.
    /// Keyed by the digest (which is keyed by the class), not the key string: no string to copy.
    seen: Mutex<HashMap<Digest, Arc<Fragment>, foldhash::fast::RandomState>>,
    /// Digests of the lists and maps templates pass as arguments, hashed once per page.
    argument_digests: ArgumentDigests,
    pub(crate) stats: Stats,
}

impl Page {
    pub(crate) fn new(state: Arc<RendererState>) -> Self {
        Page {
            state,
            calls: Mutex::new(Vec::new()),
            template_fragments: Mutex::new(Vec::new()),
            next_render: AtomicU32::new(0),
            seen: Mutex::new(HashMap::default()),
            argument_digests: ArgumentDigests::default(),
            stats: Stats::default(),
        }
    }

    /// Records a call and returns its number, for its marker.
    pub(crate) fn add_call(&self, call: PendingCall<'static>) -> u32 {
        let mut calls = self.calls.lock();
        calls.push(Arc::new(call));
        (calls.len() - 1) as u32
    }

    pub(crate) fn call(&self, n: u32) -> Option<Arc<PendingCall<'static>>> {
        self.calls.lock().get(n as usize).cloned()
    }

    /// Records a template fragment and returns its number, for its marker.
    pub(crate) fn add_template_fragment(&self, fragment: PendingTemplateFragment) -> u32 {
        let mut fragments = self.template_fragments.lock();
        fragments.push(Arc::new(fragment));
        (fragments.len() - 1) as u32
    }

    pub(crate) fn template_fragment(&self, n: u32) -> Option<Arc<PendingTemplateFragment>> {
        self.template_fragments.lock().get(n as usize).cloned()
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

    /// The digest of `call` (see [`key::call::digest`]), slot content's markers read against this
    /// page's calls.
    pub(crate) fn digest(&self, call: &PendingCall<'_>, with_slots: bool) -> Result<Digest, ComponentError> {
        key::call::digest(&self.state, call, with_slots, &self.argument_digests, |content, out| {
            self.canonical_slot(content, out)
        })
    }

    /// Slot content with its markers replaced by what they stand for: a call by the call's identity
    /// (so two slots holding the same child with different page numbers are equal), an id by a
    /// constant (such a render is never stored anyway). Text holds no NUL, so `NUL` starts a record.
    pub(crate) fn canonical_slot(&self, content: &str, out: &mut Vec<u8>) -> Result<(), ComponentError> {
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
                Token::TemplateFragment(n) => self.canonical_template_fragment(n, out)?,
            }
        }
        Ok(())
    }

    /// Stamps fresh ids into the top-level fragment, and the instance attributes on its root
    /// elements, in one pass: the page as the caller gets it.
    pub(crate) fn finish(&self, fragment: &Fragment, id_sequence: &mut IdSequence) -> RenderOutput {
        let dependencies: Vec<Dependency> = (fragment.instances.iter())
            .map(|instance| stamp::dependency(instance.clone(), id_sequence))
            .collect();
        let places = Places {
            ids: fragment.ids.iter().copied(),
            roots: fragment.roots.iter().copied(),
            counts: (fragment.ids.len(), fragment.roots.len()),
        };
        let html = stamp::page_html(&fragment.html, places, &dependencies);
        stamp::output(html, dependencies, fragment.variables.clone(), self.stats.read())
    }
}

impl ChildCalls for Page {
    fn index_of(&self, type_id: std::any::TypeId, name: &str) -> Result<usize, ComponentError> {
        self.state.registry.index_of_type(type_id, name)
    }

    fn add_call(&self, call: PendingCall<'static>) -> u32 {
        Page::add_call(self, call)
    }
}

impl std::fmt::Debug for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Page")
            .field("calls", &self.calls.lock().len())
            .finish_non_exhaustive()
    }
}
