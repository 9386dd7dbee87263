//! The structured render result: what the output cache stores.
//!
//! django-components caches the final HTML string (its docs: "Component caching"), so a hit
//! replays the first render's instance ids and forgets its JS/CSS variables. A [`Fragment`] keeps the HTML with the
//! places instance ids go left open, one record per component instance in it, and the JS/CSS
//! variable payloads, so each use gets fresh ids and registers its variables again.

use std::sync::Arc;

use crate::media::variables::Variables;
use crate::output_cache::roots::{Outline, RootScanner};

/// One component instance inside a fragment, in document order (a parent before its children).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Instance {
    pub(crate) class_id: Arc<str>,
    /// The hash of its JS variables, when it has any.
    pub(crate) js_vars: Option<Arc<str>>,
    /// The hash of its CSS variables, when it has any.
    pub(crate) css_vars: Option<Arc<str>>,
}

/// Whose id goes at a place in the HTML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdRef {
    /// The fragment's own instance number `n` (0 is the fragment's root).
    Local(u32),
    /// The page render `n` outside this fragment: slot content that printed its parent's
    /// `component_id`. Such a fragment is only meaningful inside that page and is never shared.
    Outer(u32),
}

/// A rendered component subtree. See the module docs.
///
/// The HTML is a `String`, not the cache's bytes: they are checked as UTF-8 once when read (see
/// `stored_form.rs`) and copied (a few hundred bytes, cheaper than checking them again), so the page
/// is assembled from `str` slices and never validated a second time.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Fragment {
    pub(crate) html: String,
    /// Where ids go, by byte offset into `html`, ascending.
    pub(crate) ids: Vec<(u32, IdRef)>,
    pub(crate) instances: Vec<Instance>,
    /// Distinct variable payloads of every instance.
    pub(crate) variables: Vec<Variables>,
    /// Where instance attributes go, by byte offset into `html` then instance number (a parent
    /// before its children): the end of each root element's start tag (see `roots.rs`).
    pub(crate) roots: Vec<(u32, u32)>,
    /// What the HTML does to the depth of what contains it.
    pub(crate) outline: Outline,
    /// A template fragment's body (`{% call cache(…) %}`): no instance is its root, and its
    /// top-level elements are roots of whatever component it is in, recorded nowhere.
    pub(crate) rootless: bool,
}

impl Fragment {
    /// Whether the fragment can be stored and reused: it refers to nothing outside itself.
    pub(crate) fn is_self_contained(&self) -> bool {
        self.ids.iter().all(|(_, id)| matches!(id, IdRef::Local(_)))
    }
}

/// A fragment being put together from a template's output and its children's fragments.
pub(crate) struct Assembly {
    html: String,
    ids: Vec<(u32, IdRef)>,
    instances: Vec<Instance>,
    variables: Vec<Variables>,
    /// The root elements of the children, renumbered.
    roots: Vec<(u32, u32)>,
    /// Finds the root's own root elements.
    scanner: RootScanner,
    /// The page render the root came from: ids of it are the root's own.
    own_render: u32,
    /// Whether instance 0 is the root the scanner's root elements belong to; a template
    /// fragment's body has no component of its own.
    rooted: bool,
}

impl Assembly {
    /// Starts the fragment of `root`, rendered as page render `own_render`.
    pub(crate) fn new(root: Instance, variables: Vec<Variables>, own_render: u32, capacity: usize) -> Self {
        Assembly {
            html: String::with_capacity(capacity),
            ids: Vec::new(),
            instances: vec![root],
            variables,
            roots: Vec::new(),
            scanner: RootScanner::new(),
            own_render,
            rooted: true,
        }
    }

    /// Starts the fragment of a template fragment's body (`{% call cache(…) %}`): the components
    /// in it are its instances, and ids it prints of the component around it stay references out.
    pub(crate) fn rootless(capacity: usize) -> Self {
        Assembly {
            html: String::with_capacity(capacity),
            ids: Vec::new(),
            instances: Vec::new(),
            variables: Vec::new(),
            roots: Vec::new(),
            scanner: RootScanner::new(),
            // Render numbers count up from 0 within a page: this one is never reached.
            own_render: u32::MAX,
            rooted: false,
        }
    }

    pub(crate) fn text(&mut self, text: &str) {
        let from = self.html.len();
        self.html.push_str(text);
        self.scanner.scan(self.html.as_bytes(), from);
    }

    /// The id of page render `render` goes here.
    pub(crate) fn id(&mut self, render: u32) {
        let id = if render == self.own_render {
            IdRef::Local(0)
        } else {
            IdRef::Outer(render)
        };
        self.ids.push((self.html.len() as u32, id));
    }

    /// Appends `child`; its references to this fragment's root become local.
    pub(crate) fn append_child(&mut self, child: &Fragment) {
        let base = self.instances.len() as u32;
        let at = self.html.len() as u32;
        let own = self.own_render;
        self.ids.extend(child.ids.iter().map(|&(offset, id)| {
            let id = match id {
                IdRef::Local(n) => IdRef::Local(base + n),
                IdRef::Outer(render) if render == own => IdRef::Local(0),
                outer => outer,
            };
            (at + offset, id)
        }));
        self.html.push_str(&child.html);
        self.instances.extend(child.instances.iter().cloned());
        let depth = self.scanner.depth_between_tokens();
        // A child inside a tag or raw text (`<script>`) has no elements there.
        if depth.is_some() {
            let shifted = child.roots.iter().map(|&(offset, n)| (at + offset, base + n));
            self.roots.extend(shifted);
        }
        match depth {
            // At depth 0 the child's roots are ours too; deeper, a balanced child has none of
            // ours. Either way its HTML needn't be scanned again — but at depth 0 a rootless
            // child's top-level elements are ours and recorded nowhere.
            Some(0) if child.outline.clean && !child.rootless => {
                let own = child.roots.iter().filter(|&&(_, n)| n == 0);
                self.scanner.roots.extend(own.map(|&(offset, _)| at + offset));
                self.scanner.skip(child.outline);
            }
            Some(depth) if depth > 0 && child.outline.clean && child.outline.min_depth > -depth => {
                self.scanner.skip(child.outline);
            }
            // A child that closes what it is in, inside a tag, or ending mid-token: scan it as ours.
            _ => self.scanner.scan(self.html.as_bytes(), at as usize),
        }
        for variables in &child.variables {
            let known = self
                .variables
                .iter()
                .any(|v| v.hash == variables.hash && v.kind == variables.kind && v.class_id == variables.class_id);
            if !known {
                self.variables.push(variables.clone());
            }
        }
    }

    pub(crate) fn finish(mut self) -> Fragment {
        let outline = self.scanner.outline();
        if self.rooted {
            self.roots.extend(self.scanner.roots.iter().map(|&offset| (offset, 0)));
        }
        // Children's roots come in document order; the root's own interleave with them.
        if !self.roots.is_sorted() {
            self.roots.sort_unstable();
            self.roots.dedup();
        }
        Fragment {
            html: self.html,
            ids: self.ids,
            instances: self.instances,
            variables: self.variables,
            roots: self.roots,
            outline,
            rootless: !self.rooted,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::media::kind::MediaKind;

    pub(crate) fn sample() -> Fragment {
        Fragment {
            html: "<div id=\"\">é<span id=\"\"></span></div>".to_owned(),
            ids: vec![(9, IdRef::Local(0)), (23, IdRef::Local(1))],
            instances: vec![
                Instance {
                    class_id: "Card_000001".into(),
                    js_vars: Some("00ff00ff00ff00ff".into()),
                    css_vars: None,
                },
                Instance {
                    class_id: "Badge_000002".into(),
                    js_vars: None,
                    css_vars: Some("1234567890abcdef".into()),
                },
            ],
            variables: vec![Variables {
                class_id: "Card_000001".into(),
                kind: MediaKind::Js,
                hash: "00ff00ff00ff00ff".into(),
                json: "{\"a\":1}".into(),
            }],
            roots: vec![(10, 0), (24, 1)],
            outline: Outline {
                depth: 0,
                min_depth: 0,
                clean: true,
            },
            rootless: false,
        }
    }

    #[test]
    fn children_are_renumbered_and_references_to_the_parent_become_local() {
        let mut parent = Assembly::new(sample().instances[0].clone(), Vec::new(), 7, 0);
        parent.text("<main>");
        let child = Fragment {
            html: "ab".to_owned(),
            ids: vec![(0, IdRef::Local(0)), (1, IdRef::Outer(7)), (2, IdRef::Outer(9))],
            instances: vec![sample().instances[1].clone()],
            variables: sample().variables,
            roots: Vec::new(),
            outline: Outline::default(),
            rootless: false,
        };
        parent.append_child(&child);
        parent.id(7);
        parent.append_child(&child);
        let parent = parent.finish();
        assert_eq!(
            parent.ids,
            vec![
                (6, IdRef::Local(1)),
                (7, IdRef::Local(0)),
                (8, IdRef::Outer(9)),
                (8, IdRef::Local(0)),
                (8, IdRef::Local(2)),
                (9, IdRef::Local(0)),
                (10, IdRef::Outer(9)),
            ]
        );
        assert_eq!(parent.html, "<main>abab");
        assert_eq!(parent.instances.len(), 3);
        assert_eq!(parent.variables.len(), 1, "payloads are registered once");
        assert!(!parent.is_self_contained());
    }

    #[test]
    fn a_child_at_depth_zero_shares_its_roots_with_its_parent_and_is_not_scanned_again() {
        let child = || {
            let mut child = Assembly::new(sample().instances[1].clone(), Vec::new(), 1, 0);
            child.text("<p>x</p>");
            child.finish()
        };
        assert_eq!(child().roots, vec![(2, 0)]);
        let mut top = Assembly::new(sample().instances[0].clone(), Vec::new(), 0, 0);
        top.append_child(&child());
        top.text("<main>");
        top.append_child(&child());
        top.text("</main><br>");
        let top = top.finish();
        // The first child's <p> is the top's root too; the second is inside <main>, the top's root.
        assert_eq!(top.roots, vec![(2, 0), (2, 1), (13, 0), (16, 2), (32, 0)]);
        assert_eq!(
            top.outline,
            Outline {
                depth: 0,
                min_depth: 0,
                clean: true
            }
        );
    }
}
