//! One top-level render in progress: the calls templates made, the renders under way, the
//! fragments already fetched, and the counters.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use parking_lot::Mutex;

use crate::error::ComponentError;
use crate::output_cache::fragment::{Fragment, IdRef};
use crate::output_cache::key::arguments::{self, ArgumentDigests};
use crate::output_cache::key::{self, Digest, KeySource};
use crate::rendering::call::{CallProps, PendingCall};
use crate::rendering::html::ChildCalls;
use crate::rendering::ids::IdSequence;
use crate::rendering::markers::{self, Token};
use crate::rendering::output::{Dependency, RenderOutput, RenderStats};
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

    /// The digest of `call`: class, code fingerprint, what identifies its props, and the slots
    /// when `with_slots`. The props part is streamed into the hasher: the template's arguments as
    /// given (no typed props are built), else the typed props or the component's own key.
    ///
    /// With slots it is the call's identity, computed once: a parent that caches with its slots
    /// has already asked for it when the call is resolved.
    pub(crate) fn digest(&self, call: &PendingCall<'_>, with_slots: bool) -> Result<Digest, ComponentError> {
        if with_slots && let Some(identity) = call.identity.get() {
            return Ok(*identity);
        }
        let component = self.state.component(call.component);
        let entry = &component.entry;
        let own_key = component.output.as_ref().is_some_and(|output| output.settings.own_key);
        let given = match &call.props {
            CallProps::Arguments { args, .. } if !own_key => Some(args),
            _ => None,
        };
        let source = if given.is_some() {
            KeySource::Arguments
        } else {
            KeySource::Typed
        };
        key::with_input(&entry.class_key, source, |input| {
            let from_arguments = given
                .is_some_and(|args| arguments::encode_arguments(args, &mut input.sink, &self.argument_digests).is_ok());
            if !from_arguments {
                // A value that can't be read out (an iterator, an object): keyed as typed props.
                if given.is_some() {
                    input.restart(&entry.class_key, KeySource::Typed);
                }
                entry
                    .component
                    .key(call.props(entry)?, &mut input.sink)
                    .map_err(|source| ComponentError::Props {
                        component: entry.name.to_owned(),
                        source,
                    })?;
            }
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
                let digest = input.finish();
                return Ok(*call.identity.get_or_init(|| digest));
            }
            input.tag(0);
            Ok(input.finish())
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
        let dependencies: Vec<Dependency> = fragment
            .instances
            .iter()
            .map(|instance| Dependency {
                class_id: Arc::clone(&instance.class_id),
                id: id_sequence.next_id(),
                js_vars: instance.js_vars.clone(),
                css_vars: instance.css_vars.clone(),
            })
            .collect();
        let attributes = fragment.roots.len() * ATTRIBUTE.len();
        let mut html = String::with_capacity(fragment.html.len() + 7 * fragment.ids.len() + attributes);
        let mut copied = 0;
        let (mut ids, mut roots) = (fragment.ids.iter().peekable(), fragment.roots.iter().peekable());
        loop {
            // At one offset an id goes first: it ends an attribute value the root's attributes follow.
            let id_next = match (ids.peek(), roots.peek()) {
                (Some(&&(id_at, _)), Some(&&(root_at, _))) => id_at <= root_at,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let offset = if id_next {
                let &(offset, id) = ids.next().expect("peeked");
                html.push_str(&fragment.html[copied..offset as usize]);
                // Only a forged marker can point outside the page; it prints nothing.
                if let IdRef::Local(n) = id {
                    html.push_str(dependencies[n as usize].id.as_str());
                }
                offset
            } else {
                let &(offset, n) = roots.next().expect("peeked");
                html.push_str(&fragment.html[copied..offset as usize]);
                let dependency = &dependencies[n as usize];
                // Lowercased, as an HTML parser (and so the client script's query) has it.
                html.push_str(" data-djc-id-");
                html.push_str(&dependency.id.lowercase());
                html.push_str("=\"\"");
                if let Some(hash) = &dependency.css_vars {
                    html.push_str(" data-djc-css-");
                    html.push_str(hash);
                    html.push_str("=\"\"");
                }
                offset
            };
            copied = offset as usize;
        }
        html.push_str(&fragment.html[copied..]);
        let stats = self.stats.read();
        crate::counters::count_render(&stats);
        RenderOutput {
            html,
            dependencies,
            variables: fragment.variables.clone(),
            stats,
        }
    }
}

/// The length of a root's `data-djc-id-…` attribute, to size the page up front.
const ATTRIBUTE: &str = " data-djc-id-c000000=\"\"";

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
