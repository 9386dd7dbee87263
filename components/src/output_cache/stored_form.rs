//! The stored form of a [`Fragment`]: a small length-prefixed binary layout rather than JSON, so a
//! hit decodes with a few copies and no escaping, which is most of what a hit costs. Every length
//! is checked, so a corrupt or foreign value is an error (then treated as a miss), never a panic.

use crate::media::kind::MediaKind;
use crate::media::variables::Variables;
use crate::output_cache::fragment::{Fragment, IdRef, Instance};
use crate::output_cache::roots::Outline;
use crate::registry::Registry;

impl Fragment {
    /// The bytes stored in the cache. Only self-contained fragments are stored.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MAGIC.len() + self.html.len() + 16 * self.ids.len() + 64);
        out.extend_from_slice(MAGIC);
        put_u32(&mut out, self.html.len() as u32);
        out.extend_from_slice(self.html.as_bytes());
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
        }
        put_u32(&mut out, self.roots.len() as u32);
        for &(offset, n) in &self.roots {
            put_u32(&mut out, offset);
            put_u32(&mut out, n);
        }
        put_u32(&mut out, self.outline.depth as u32);
        put_u32(&mut out, self.outline.min_depth as u32);
        out.push(u8::from(self.outline.clean));
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

    /// Reads what [`Fragment::encode`] wrote (see [`StoredView::parse`]). Class ids the registry
    /// knows share its strings rather than being allocated again.
    pub(crate) fn decode(stored: &[u8], registry: &Registry, rooted: bool) -> Result<Fragment, DecodeError> {
        let view = StoredView::parse(stored, rooted)?;
        Ok(Fragment {
            html: view.html.to_owned(),
            ids: view.ids().map(|(offset, n)| (offset, IdRef::Local(n))).collect(),
            instances: view.instances(registry).collect(),
            variables: view.variables(registry),
            roots: view.roots().collect(),
            outline: view.outline,
            rootless: !rooted,
        })
    }
}

/// A stored render read in place: every length, position and string checked, nothing copied. A
/// top-level hit stamps the caller's page straight from it (no [`Fragment`], so no copy of the
/// HTML and no vectors to fill and drop); a nested one makes a `Fragment` of it.
///
/// Once parsed, reading it can't fail: the instance and variables records are read again by the
/// same functions ([`read_instance`], [`read_variables`]) that checked them.
pub(crate) struct StoredView<'a> {
    pub(crate) html: &'a str,
    /// `(offset, instance)` pairs, 8 bytes each: offsets ascending (several may share one), on
    /// character boundaries, naming an instance.
    ids: &'a [u8],
    /// The instance records, as written.
    instances: &'a [u8],
    instance_count: usize,
    /// `(offset, instance)` pairs as `ids`, where instance attributes go, ascending as pairs (at
    /// one offset, a parent before its children).
    roots: &'a [u8],
    pub(crate) outline: Outline,
    /// The variables records, as written.
    variables: &'a [u8],
    variable_count: usize,
}

impl<'a> StoredView<'a> {
    /// Checks what [`Fragment::encode`] wrote: every length and count against what is left, every
    /// string as UTF-8, every position against the HTML. A corrupt or foreign value is an error
    /// (the caller treats it as a miss), never a panic. A component's render (`rooted`) has a
    /// root instance; a template fragment's body may hold no component.
    pub(crate) fn parse(bytes: &'a [u8], rooted: bool) -> Result<StoredView<'a>, DecodeError> {
        let mut reader = Reader { bytes, at: 0 };
        if reader.take(MAGIC.len())? != MAGIC {
            return Err(DecodeError("not a stored component render (wrong header)"));
        }
        let html = reader.str()?;
        let id_count = reader.count(8)?;
        let ids = reader.take(8 * id_count)?;
        let instance_count = reader.count(6)?;
        let instances = reader.records(instance_count, read_instance)?;
        let root_count = reader.count(8)?;
        let roots = reader.take(8 * root_count)?;
        let outline = Outline {
            depth: reader.u32()? as i32,
            min_depth: reader.u32()? as i32,
            clean: match reader.take(1)?[0] {
                0 => false,
                1 => true,
                _ => return Err(DecodeError("bad outline flag")),
            },
        };
        let variable_count = reader.count(13)?;
        let variables = reader.records(variable_count, read_variables)?;
        if reader.at != bytes.len() {
            return Err(DecodeError("trailing bytes"));
        }
        if rooted && instance_count == 0 {
            return Err(DecodeError("no root instance"));
        }
        let view = StoredView {
            html,
            ids,
            instances,
            instance_count,
            roots,
            outline,
            variables,
            variable_count,
        };
        // Ids at one offset may name any instances (a child's id, then its parent's, where the
        // child ends); roots at one offset go parent first.
        view.check_positions(view.ids(), |(offset, _)| offset, "an id position is out of range")?;
        view.check_positions(view.roots(), |root| root, "a root element position is out of range")?;
        Ok(view)
    }

    /// Positions must not go back by `order` (the page is stamped in one pass), must fall on
    /// character boundaries and must name an instance.
    fn check_positions<K: PartialOrd>(
        &self,
        positions: impl Iterator<Item = (u32, u32)>,
        order: impl Fn((u32, u32)) -> K,
        problem: &'static str,
    ) -> Result<(), DecodeError> {
        let mut previous = None;
        for position @ (offset, n) in positions {
            let key = order(position);
            let fits = previous.is_none_or(|previous| key >= previous)
                && self.html.is_char_boundary(offset as usize)
                && (n as usize) < self.instance_count;
            if !fits {
                return Err(DecodeError(problem));
            }
            previous = Some(key);
        }
        Ok(())
    }

    /// Where instance ids go: `(offset into the HTML, instance)`, ascending.
    pub(crate) fn ids(&self) -> impl Iterator<Item = (u32, u32)> + use<'a> {
        pairs(self.ids)
    }

    /// Where instance attributes go: `(offset into the HTML, instance)`, ascending.
    pub(crate) fn roots(&self) -> impl Iterator<Item = (u32, u32)> + use<'a> {
        pairs(self.roots)
    }

    /// How many ids and root elements there are, to size the page.
    pub(crate) fn id_and_root_counts(&self) -> (usize, usize) {
        (self.ids.len() / 8, self.roots.len() / 8)
    }

    /// The instances, in document order.
    pub(crate) fn instances<'r>(&self, registry: &'r Registry) -> impl Iterator<Item = Instance> + use<'a, 'r> {
        let mut reader = Reader {
            bytes: self.instances,
            at: 0,
        };
        // Checked by `parse`: a record that could fail to read isn't there to read.
        (0..self.instance_count).map_while(move |_| {
            let (class_id, js_vars, css_vars) = read_instance(&mut reader).ok()?;
            Some(Instance {
                class_id: registry.shared_class_id(class_id),
                js_vars: js_vars.map(Into::into),
                css_vars: css_vars.map(Into::into),
            })
        })
    }

    /// The variables payloads.
    pub(crate) fn variables(&self, registry: &Registry) -> Vec<Variables> {
        let mut reader = Reader {
            bytes: self.variables,
            at: 0,
        };
        // Checked by `parse`, as the instances.
        (0..self.variable_count)
            .map_while(|_| {
                let (class_id, kind, hash, json) = read_variables(&mut reader).ok()?;
                Some(Variables {
                    class_id: registry.shared_class_id(class_id),
                    kind,
                    hash: hash.into(),
                    json: json.into(),
                })
            })
            .collect()
    }
}

/// One instance record: its class id and its JS and CSS variables hashes, if any.
fn read_instance<'a>(reader: &mut Reader<'a>) -> Result<(&'a str, Option<&'a str>, Option<&'a str>), DecodeError> {
    Ok((reader.str()?, reader.opt()?, reader.opt()?))
}

/// One variables record: class id, kind, hash, JSON.
fn read_variables<'a>(reader: &mut Reader<'a>) -> Result<(&'a str, MediaKind, &'a str, &'a str), DecodeError> {
    let class_id = reader.str()?;
    let kind = match reader.take(1)?[0] {
        b'j' => MediaKind::Js,
        b'c' => MediaKind::Css,
        _ => return Err(DecodeError("unknown variables kind")),
    };
    Ok((class_id, kind, reader.str()?, reader.str()?))
}

/// Little-endian `(u32, u32)` pairs, 8 bytes each.
fn pairs(bytes: &[u8]) -> impl Iterator<Item = (u32, u32)> + use<'_> {
    bytes.chunks_exact(8).map(|pair| {
        let (first, second) = pair.split_at(4);
        let word = |bytes: &[u8]| u32::from_le_bytes(bytes.try_into().expect("four bytes"));
        (word(first), word(second))
    })
}

/// Starts every stored value; bumped when the layout changes.
const MAGIC: &[u8] = b"djc-fragment-3\n";

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
        // simdutf8: the HTML is most of a hit's bytes, and std's check slows to a byte at a time on
        // text that isn't ASCII (a `—` per list item tripled a hit's validation cost).
        simdutf8::basic::from_utf8(self.take(len)?).map_err(|_| DecodeError("a string is not UTF-8"))
    }

    /// `count` records, each checked by reading it with `read`: the bytes they take.
    fn records<T>(
        &mut self,
        count: usize,
        read: impl Fn(&mut Reader<'a>) -> Result<T, DecodeError>,
    ) -> Result<&'a [u8], DecodeError> {
        let start = self.at;
        for _ in 0..count {
            read(self)?;
        }
        Ok(&self.bytes[start..self.at])
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
    use cache_core::Bytes;

    use super::*;
    use crate::output_cache::fragment::tests::sample;

    #[test]
    fn a_fragment_round_trips() {
        let fragment = sample();
        assert_eq!(
            Fragment::decode(&Bytes::from(fragment.encode()), &Registry::new(), true).unwrap(),
            fragment
        );
    }

    /// Ids at one offset may come in any instance order (a child's id where it ends, then its
    /// parent's); root elements at one offset may not: a parent's attributes go first.
    #[test]
    fn positions_at_one_offset_are_checked_as_the_page_needs_them() {
        let mut fragment = sample();
        fragment.ids = vec![(9, IdRef::Local(1)), (9, IdRef::Local(0))];
        assert!(Fragment::decode(&fragment.encode(), &Registry::new(), true).is_ok());
        let mut fragment = sample();
        fragment.roots = vec![(10, 1), (10, 0)];
        assert_eq!(
            Fragment::decode(&fragment.encode(), &Registry::new(), true),
            Err(DecodeError("a root element position is out of range"))
        );
    }

    #[test]
    fn every_truncation_and_corruption_is_an_error_not_a_panic() {
        let bytes = Bytes::from(sample().encode());
        for len in 0..bytes.len() {
            assert!(
                Fragment::decode(&bytes.slice(..len), &Registry::new(), true).is_err(),
                "truncated to {len}"
            );
        }
        for i in 0..bytes.len() {
            let mut corrupt = bytes.to_vec();
            corrupt[i] ^= 0xff;
            let _ = Fragment::decode(&Bytes::from(corrupt), &Registry::new(), true);
        }
        assert!(
            Fragment::decode(
                &Bytes::from_static(b"\"<p>a plain string someone else stored</p>\""),
                &Registry::new(),
                true
            )
            .is_err()
        );
    }
}
