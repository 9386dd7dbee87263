//! A template call's arguments into the digest, as minijinja values: a hit on a child never
//! builds its typed props (deserializing them cost more than the rest of the hit).
//!
//! The same self-delimiting tags as the typed encoding (`typed.rs`). Maps are written in their
//! own order: minijinja keeps maps sorted by key (a `BTreeMap`), so equal maps encode the same,
//! and an order that could show in the output is never merged. Plain strings and markup
//! (`|safe`, `{% set %}` blocks) are told apart. A value whose content can't be read out
//! (an iterator, a plain object, an error) makes the arguments unkeyable: the call is then keyed
//! by its typed props instead.
//!
//! An argument that is a list or a map enters the key as the BLAKE3 digest of its encoding (a
//! Merkle step: injective as long as BLAKE3 is collision-resistant, like the key itself), and that
//! digest is remembered per page by the value's identity. A page passing the same 20-item list to
//! a hundred children hashes the list once, not a hundred times.

use std::collections::{BTreeMap, HashMap};

use minijinja::value::{Value, ValueKind};
use parking_lot::Mutex;

use crate::output_cache::key::sink::{HashSink, Sink};
use crate::output_cache::key::typed::{float, int, string, tag};

/// An argument's list or map, by its digest.
const DIGEST: u8 = b'#';

/// Keys the digests of arguments' lists and maps: not a class key, so one digest serves every
/// component a page passes the value to.
const ARGUMENT_KEY: [u8; 32] = *b"components/output-cache/argument";

/// Digests of the lists and maps passed as arguments during one page, by the address of the
/// shared object behind the value. The value is kept alongside, so the object lives (and its
/// address means it) as long as the memo does.
#[derive(Default)]
pub(crate) struct ArgumentDigests {
    known: Mutex<HashMap<usize, (Value, [u8; 32]), foldhash::fast::RandomState>>,
}

impl ArgumentDigests {
    fn digest(&self, value: &Value) -> Result<[u8; 32], Unkeyable> {
        let identity = identity(value);
        if let Some(identity) = identity
            && let Some((_, digest)) = self.known.lock().get(&identity)
        {
            return Ok(*digest);
        }
        let mut sink = HashSink::new(&ARGUMENT_KEY);
        encode(value, &mut sink)?;
        let digest = sink.finish();
        if let Some(identity) = identity {
            self.known.lock().insert(identity, (value.clone(), digest));
        }
        Ok(digest)
    }
}

/// The address of the shared list or map behind `value`, when it is one minijinja builds.
fn identity(value: &Value) -> Option<usize> {
    if let Some(list) = value.downcast_object_ref::<Vec<Value>>() {
        return Some(list as *const Vec<Value> as usize);
    }
    value
        .downcast_object_ref::<BTreeMap<Value, Value>>()
        .map(|map| map as *const BTreeMap<Value, Value> as usize)
}

/// Writes the encoding of a call's arguments (a map of name to value) to `out`.
pub(crate) fn encode_arguments<S: Sink>(
    arguments: &Value,
    out: &mut S,
    digests: &ArgumentDigests,
) -> Result<(), Unkeyable> {
    if arguments.kind() != ValueKind::Map {
        return Err(Unkeyable);
    }
    out.byte(tag::MAP);
    let mut result = Ok(());
    for_each_pair(arguments, |name, value| {
        if result.is_err() {
            return;
        }
        result = encode(name, out).and_then(|()| match value.kind() {
            ValueKind::Seq | ValueKind::Map => {
                out.byte(DIGEST);
                out.put(&digests.digest(value)?);
                Ok(())
            }
            _ => encode(value, out),
        });
    })?;
    result?;
    out.byte(tag::MAP_END);
    Ok(())
}

/// Calls `f` on every entry of map `value`, in the map's order; straight over the map when it is
/// one minijinja builds (no boxed iterator, no clones).
fn for_each_pair(value: &Value, mut f: impl FnMut(&Value, &Value)) -> Result<(), Unkeyable> {
    if let Some(map) = value.downcast_object_ref::<BTreeMap<Value, Value>>() {
        map.iter().for_each(|(key, item)| f(key, item));
        return Ok(());
    }
    let pairs = value
        .as_object()
        .and_then(|object| object.try_iter_pairs())
        .ok_or(Unkeyable)?;
    pairs.for_each(|(key, item)| f(&key, &item));
    Ok(())
}

/// Markup (a safe string): rendered as it is, where a plain string is escaped.
const SAFE_STR: u8 = b'h';
const UNDEFINED: u8 = b'u';

/// A value the encoding can't read out.
#[derive(Debug)]
pub(crate) struct Unkeyable;

/// Writes the encoding of `value` to `out`.
fn encode<S: Sink>(value: &Value, out: &mut S) -> Result<(), Unkeyable> {
    match value.kind() {
        ValueKind::Undefined => out.byte(UNDEFINED),
        ValueKind::None => out.byte(tag::NONE),
        ValueKind::Bool => out.byte(if value.is_true() { tag::TRUE } else { tag::FALSE }),
        ValueKind::Number => {
            if value.is_integer() {
                match i128::try_from(value.clone()) {
                    Ok(n) => int(out, n),
                    // Only a u128 above i128::MAX gets here.
                    Err(_) => {
                        let n = u128::try_from(value.clone()).map_err(|_| Unkeyable)?;
                        out.tagged_varint(tag::INT, n);
                    }
                }
            } else {
                float(out, f64::try_from(value.clone()).map_err(|_| Unkeyable)?);
            }
        }
        ValueKind::String => {
            let text = value.as_str().ok_or(Unkeyable)?;
            if value.is_safe() {
                out.tagged_bytes(SAFE_STR, text.as_bytes());
            } else {
                string(out, text);
            }
        }
        ValueKind::Bytes => {
            out.tagged_bytes(tag::BYTES, value.as_bytes().ok_or(Unkeyable)?);
        }
        ValueKind::Seq => {
            out.byte(tag::SEQ);
            if let Some(list) = value.downcast_object_ref::<Vec<Value>>() {
                for item in list {
                    encode(item, out)?;
                }
            } else {
                for item in value.try_iter().map_err(|_| Unkeyable)? {
                    encode(&item, out)?;
                }
            }
            out.byte(tag::SEQ_END);
        }
        ValueKind::Map => {
            out.byte(tag::MAP);
            let mut result = Ok(());
            for_each_pair(value, |key, item| {
                if result.is_ok() {
                    result = encode(key, out).and_then(|()| encode(item, out));
                }
            })?;
            result?;
            out.byte(tag::MAP_END);
        }
        ValueKind::Iterable | ValueKind::Plain | ValueKind::Invalid => return Err(Unkeyable),
        // A kind added by a later minijinja: key by typed props rather than guess.
        _ => return Err(Unkeyable),
    }
    Ok(())
}
