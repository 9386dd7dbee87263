//! The stored form of a [`Fragment`]: a small length-prefixed binary layout rather than JSON, so a
//! hit decodes with a few copies and no escaping, which is most of what a hit costs. Every length
//! is checked, so a corrupt or foreign value is an error (then treated as a miss), never a panic.

use cache_core::Bytes;

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

    /// Reads what [`Fragment::encode`] wrote. Class ids the registry knows share its strings
    /// rather than being allocated again. A component's render (`rooted`) has a root instance; a
    /// template fragment's body may hold no component, and comes back marked rootless.
    pub(crate) fn decode(stored: &Bytes, registry: &Registry, rooted: bool) -> Result<Fragment, DecodeError> {
        let bytes: &[u8] = stored;
        let mut reader = Reader { bytes, at: 0 };
        if reader.take(MAGIC.len())? != MAGIC {
            return Err(DecodeError("not a stored component render (wrong header)"));
        }
        let html = reader.str()?;
        let id_count = reader.count(8)?;
        // Read once the instances they refer to are known (below).
        let mut id_records = Reader {
            bytes: reader.take(8 * id_count)?,
            at: 0,
        };
        let instance_count = reader.count(6)?;
        let mut instances = Vec::with_capacity(instance_count);
        for _ in 0..instance_count {
            let class_id = reader.str()?;
            let class_id = registry.class_id_arc(class_id).unwrap_or_else(|| class_id.into());
            let js_vars = reader.opt()?.map(Into::into);
            let css_vars = reader.opt()?.map(Into::into);
            instances.push(Instance {
                class_id,
                js_vars,
                css_vars,
            });
        }
        let root_count = reader.count(8)?;
        let mut roots = Vec::with_capacity(root_count);
        let mut previous = (0, 0);
        for _ in 0..root_count {
            let root = (reader.u32()?, reader.u32()?);
            let fits = root >= previous && html.is_char_boundary(root.0 as usize) && (root.1 as usize) < instance_count;
            if !fits {
                return Err(DecodeError("a root element position is out of range"));
            }
            previous = root;
            roots.push(root);
        }
        let outline = Outline {
            depth: reader.u32()? as i32,
            min_depth: reader.u32()? as i32,
            clean: match reader.take(1)?[0] {
                0 => false,
                1 => true,
                _ => return Err(DecodeError("bad outline flag")),
            },
        };
        let mut ids = Vec::with_capacity(id_count);
        let mut previous = 0;
        for _ in 0..id_count {
            let (offset, n) = (id_records.u32()?, id_records.u32()?);
            let fits = offset >= previous && html.is_char_boundary(offset as usize) && (n as usize) < instance_count;
            if !fits {
                return Err(DecodeError("an id position is out of range"));
            }
            previous = offset;
            ids.push((offset, IdRef::Local(n)));
        }
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
        if rooted && instances.is_empty() {
            return Err(DecodeError("no root instance"));
        }
        Ok(Fragment {
            html: html.to_owned(),
            ids,
            instances,
            variables,
            roots,
            outline,
            rootless: !rooted,
        })
    }
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
    use crate::output_cache::fragment::tests::sample;

    #[test]
    fn a_fragment_round_trips() {
        let fragment = sample();
        assert_eq!(
            Fragment::decode(&Bytes::from(fragment.encode()), &Registry::new(), true).unwrap(),
            fragment
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
