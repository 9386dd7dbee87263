//! A template call's arguments into the digest, as minijinja values: a hit on a child never
//! builds its typed props (deserializing them cost more than the rest of the hit).
//!
//! The same self-delimiting tags as the typed encoding (`typed.rs`). Maps are written in their
//! own order: minijinja keeps maps sorted by key (a `BTreeMap`), so equal maps encode the same,
//! and an order that could show in the output is never merged. Plain strings and markup
//! (`|safe`, `{% set %}` blocks) are told apart. A value whose content can't be read out
//! (an iterator, a plain object, an error) makes the arguments unkeyable: the call is then keyed
//! by its typed props instead.

use minijinja::value::{Value, ValueKind};

use crate::output_cache::key::sink::Sink;
use crate::output_cache::key::typed::{float, int, tag};

/// Markup (a safe string): rendered as it is, where a plain string is escaped.
const SAFE_STR: u8 = b'h';
const UNDEFINED: u8 = b'u';

/// A value the encoding can't read out.
#[derive(Debug)]
pub(crate) struct Unkeyable;

/// Writes the encoding of `value` to `out`.
pub(crate) fn encode<S: Sink>(value: &Value, out: &mut S) -> Result<(), Unkeyable> {
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
                        out.byte(tag::INT);
                        out.varint(n);
                    }
                }
            } else {
                float(out, f64::try_from(value.clone()).map_err(|_| Unkeyable)?);
            }
        }
        ValueKind::String => {
            out.byte(if value.is_safe() { SAFE_STR } else { tag::STR });
            out.bytes(value.as_str().ok_or(Unkeyable)?.as_bytes());
        }
        ValueKind::Bytes => {
            out.byte(tag::BYTES);
            out.bytes(value.as_bytes().ok_or(Unkeyable)?);
        }
        ValueKind::Seq => {
            out.byte(tag::SEQ);
            for item in value.try_iter().map_err(|_| Unkeyable)? {
                encode(&item, out)?;
            }
            out.byte(tag::SEQ_END);
        }
        ValueKind::Map => {
            let pairs = value
                .as_object()
                .and_then(|object| object.try_iter_pairs())
                .ok_or(Unkeyable)?;
            out.byte(tag::MAP);
            for (key, item) in pairs {
                encode(&key, out)?;
                encode(&item, out)?;
            }
            out.byte(tag::MAP_END);
        }
        ValueKind::Iterable | ValueKind::Plain | ValueKind::Invalid => return Err(Unkeyable),
        // A kind added by a later minijinja: key by typed props rather than guess.
        _ => return Err(Unkeyable),
    }
    Ok(())
}
