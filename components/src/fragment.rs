//! The structured render result: what the output cache stores.
//!
//! django-components caches the final HTML string, so a hit replays the first render's instance
//! ids and forgets its JS/CSS variables (reference §2.6). A [`Fragment`] keeps the HTML with the
//! places instance ids go left open, one record per component instance in it, and the JS/CSS
//! variable payloads, so each use gets fresh ids and registers its variables again.

use std::sync::Arc;

use cache_core::Bytes;

use crate::output::{MediaKind, Variables};
use crate::registry::Registry;

/// One component instance inside a fragment, in document order (a parent before its children).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Instance {
    pub(crate) class_id: Arc<str>,
    /// The hash of its JS variables, when it has any.
    pub(crate) js_vars: Option<Arc<str>>,
    /// The hash of its CSS variables, when it has any.
    pub(crate) css_vars: Option<Arc<str>>,
    /// Where its output is in the fragment's HTML: bytes `start..end` (its children's included).
    /// Its root elements — the ones its `data-djc-*` attributes go on — are found there.
    pub(crate) span: (u32, u32),
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
/// The HTML is shared bytes, always UTF-8: a hit keeps the cache's buffer instead of copying it.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Fragment {
    pub(crate) html: Bytes,
    /// Where ids go, by byte offset into `html`, ascending.
    pub(crate) ids: Vec<(u32, IdRef)>,
    pub(crate) instances: Vec<Instance>,
    /// Distinct variable payloads of every instance.
    pub(crate) variables: Vec<Variables>,
}

impl Fragment {
    /// Whether the fragment can be stored and reused: it refers to nothing outside itself.
    pub(crate) fn is_self_contained(&self) -> bool {
        self.ids.iter().all(|(_, id)| matches!(id, IdRef::Local(_)))
    }
}

/// A fragment being put together from a template's output and its children's fragments.
pub(crate) struct Assembly {
    html: Vec<u8>,
    ids: Vec<(u32, IdRef)>,
    instances: Vec<Instance>,
    variables: Vec<Variables>,
    /// The page render the root came from: ids of it are the root's own.
    own_render: u32,
}

impl Assembly {
    /// Starts the fragment of `root`, rendered as page render `own_render`.
    pub(crate) fn new(root: Instance, variables: Vec<Variables>, own_render: u32, capacity: usize) -> Self {
        Assembly {
            html: Vec::with_capacity(capacity),
            ids: Vec::new(),
            instances: vec![root],
            variables,
            own_render,
        }
    }

    pub(crate) fn text(&mut self, text: &str) {
        self.html.extend_from_slice(text.as_bytes());
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
        self.html.extend_from_slice(&child.html);
        self.instances.extend(child.instances.iter().map(|instance| Instance {
            span: (at + instance.span.0, at + instance.span.1),
            ..instance.clone()
        }));
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
        self.instances[0].span = (0, self.html.len() as u32);
        Fragment {
            html: Bytes::from(self.html),
            ids: self.ids,
            instances: self.instances,
            variables: self.variables,
        }
    }
}

impl Fragment {
    // ---- the stored form ---------------------------------------------------------------------
    //
    // A small length-prefixed binary layout rather than JSON: a hit decodes with a few copies and
    // no escaping, which is most of what a hit costs. Every length is checked, so a corrupt or
    // foreign value is an error (then treated as a miss), never a panic.

    /// The bytes stored in the cache. Only self-contained fragments are stored.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MAGIC.len() + self.html.len() + 16 * self.ids.len() + 64);
        out.extend_from_slice(MAGIC);
        put_u32(&mut out, self.html.len() as u32);
        out.extend_from_slice(&self.html);
        put_u32(&mut out, self.ids.len() as u32);
        for &(offset, id) in &self.ids {
            let IdRef::Local(n) = id else {
                unreachable!("only self-contained fragments are encoded")
            };
            put_u32(&mut out, offset);
            put_u32(&mut out, n);
        }
        put_u32(&mut out, self.instances.len() as u32);
        for instance in &self.instances {
            put_str(&mut out, &instance.class_id);
            put_opt(&mut out, instance.js_vars.as_deref());
            put_opt(&mut out, instance.css_vars.as_deref());
            put_u32(&mut out, instance.span.0);
            put_u32(&mut out, instance.span.1);
        }
        put_u32(&mut out, self.variables.len() as u32);
        for v in &self.variables {
            put_str(&mut out, &v.class_id);
            out.push(match v.kind {
                MediaKind::Js => b'j',
                MediaKind::Css => b'c',
            });
            put_str(&mut out, &v.hash);
            put_str(&mut out, &v.json);
        }
        out
    }

    /// Reads what [`Fragment::encode`] wrote. Class ids the registry knows share its strings
    /// rather than being allocated again.
    pub(crate) fn decode(stored: &Bytes, registry: &Registry) -> Result<Fragment, DecodeError> {
        let bytes: &[u8] = stored;
        let mut reader = Reader { bytes, at: 0 };
        if reader.take(MAGIC.len())? != MAGIC {
            return Err(DecodeError("not a stored component render (wrong header)"));
        }
        let html_start = reader.at + 4;
        let html = reader.str()?;
        let id_count = reader.count(8)?;
        let mut ids = Vec::with_capacity(id_count);
        for _ in 0..id_count {
            ids.push((reader.u32()?, reader.u32()?));
        }
        let instance_count = reader.count(14)?;
        let mut instances = Vec::with_capacity(instance_count);
        for _ in 0..instance_count {
            let class_id = reader.str()?;
            let class_id = registry.class_id_arc(class_id).unwrap_or_else(|| class_id.into());
            let js_vars = reader.opt()?.map(Into::into);
            let css_vars = reader.opt()?.map(Into::into);
            let span = (reader.u32()?, reader.u32()?);
            let fits =
                span.0 <= span.1 && html.is_char_boundary(span.0 as usize) && html.is_char_boundary(span.1 as usize);
            if !fits {
                return Err(DecodeError("an instance span is out of range"));
            }
            instances.push(Instance {
                class_id,
                js_vars,
                css_vars,
                span,
            });
        }
        let mut previous = 0;
        let ids = ids
            .into_iter()
            .map(|(offset, n)| {
                let fits =
                    offset >= previous && html.is_char_boundary(offset as usize) && (n as usize) < instance_count;
                previous = offset;
                fits.then_some((offset, IdRef::Local(n)))
            })
            .collect::<Option<Vec<_>>>()
            .ok_or(DecodeError("an id position is out of range"))?;
        let variable_count = reader.count(13)?;
        let mut variables = Vec::with_capacity(variable_count);
        for _ in 0..variable_count {
            let class_id = reader.str()?;
            let class_id = registry.class_id_arc(class_id).unwrap_or_else(|| class_id.into());
            let kind = match reader.take(1)?[0] {
                b'j' => MediaKind::Js,
                b'c' => MediaKind::Css,
                _ => return Err(DecodeError("unknown variables kind")),
            };
            variables.push(Variables {
                class_id,
                kind,
                hash: reader.str()?.into(),
                json: reader.str()?.into(),
            });
        }
        if reader.at != bytes.len() {
            return Err(DecodeError("trailing bytes"));
        }
        if instances.is_empty() {
            return Err(DecodeError("no root instance"));
        }
        Ok(Fragment {
            // The cache's own buffer, validated above: no copy.
            html: stored.slice(html_start..html_start + html.len()),
            ids,
            instances,
            variables,
        })
    }
}

/// Starts every stored value; bumped when the layout changes.
const MAGIC: &[u8] = b"djc-fragment-2\n";

/// A stored value that isn't a fragment this version can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DecodeError(pub(crate) &'static str);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

fn put_u32(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(&n.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len() as u32);
    out.extend_from_slice(s.as_bytes());
}

fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.at.checked_add(n).filter(|&end| end <= self.bytes.len());
        let end = end.ok_or(DecodeError("truncated"))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes(bytes.try_into().expect("four bytes")))
    }

    /// A count of items at least `min_size` bytes each, refused when the rest can't hold them
    /// (so a corrupt count can't make us allocate gigabytes).
    fn count(&mut self, min_size: usize) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_size) > self.bytes.len() - self.at {
            return Err(DecodeError("a count is larger than the value"));
        }
        Ok(n)
    }

    fn str(&mut self) -> Result<&'a str, DecodeError> {
        let len = self.u32()? as usize;
        std::str::from_utf8(self.take(len)?).map_err(|_| DecodeError("a string is not UTF-8"))
    }

    fn opt(&mut self) -> Result<Option<&'a str>, DecodeError> {
        match self.take(1)?[0] {
            0 => Ok(None),
            1 => self.str().map(Some),
            _ => Err(DecodeError("bad option tag")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Fragment {
        Fragment {
            html: Bytes::from_static("<div id=\"\">é<span id=\"\"></span></div>".as_bytes()),
            ids: vec![(9, IdRef::Local(0)), (23, IdRef::Local(1))],
            instances: vec![
                Instance {
                    class_id: "Card_000001".into(),
                    js_vars: Some("00ff00ff00ff00ff".into()),
                    css_vars: None,
                    span: (0, 38),
                },
                Instance {
                    class_id: "Badge_000002".into(),
                    js_vars: None,
                    css_vars: Some("1234567890abcdef".into()),
                    span: (13, 32),
                },
            ],
            variables: vec![Variables {
                class_id: "Card_000001".into(),
                kind: MediaKind::Js,
                hash: "00ff00ff00ff00ff".into(),
                json: "{\"a\":1}".into(),
            }],
        }
    }

    #[test]
    fn a_fragment_round_trips() {
        let fragment = sample();
        assert_eq!(
            Fragment::decode(&Bytes::from(fragment.encode()), &Registry::new()).unwrap(),
            fragment
        );
    }

    #[test]
    fn every_truncation_and_corruption_is_an_error_not_a_panic() {
        let bytes = Bytes::from(sample().encode());
        for len in 0..bytes.len() {
            assert!(
                Fragment::decode(&bytes.slice(..len), &Registry::new()).is_err(),
                "truncated to {len}"
            );
        }
        for i in 0..bytes.len() {
            let mut corrupt = bytes.to_vec();
            corrupt[i] ^= 0xff;
            let _ = Fragment::decode(&Bytes::from(corrupt), &Registry::new());
        }
        assert!(
            Fragment::decode(
                &Bytes::from_static(b"\"<p>a plain string someone else stored</p>\""),
                &Registry::new()
            )
            .is_err()
        );
    }

    #[test]
    fn children_are_renumbered_and_references_to_the_parent_become_local() {
        let mut parent = Assembly::new(sample().instances[0].clone(), Vec::new(), 7, 0);
        parent.text("<main>");
        let child = Fragment {
            html: Bytes::from_static(b"ab"),
            ids: vec![(0, IdRef::Local(0)), (1, IdRef::Outer(7)), (2, IdRef::Outer(9))],
            instances: vec![sample().instances[1].clone()],
            variables: sample().variables,
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
        assert_eq!(&parent.html[..], b"<main>abab");
        assert_eq!(parent.instances.len(), 3);
        assert_eq!(parent.variables.len(), 1, "payloads are registered once");
        assert!(!parent.is_self_contained());
    }
}
