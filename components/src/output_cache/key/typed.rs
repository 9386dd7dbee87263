//! Typed props into the digest, through serde, with nothing built in between.
//!
//! A self-delimiting binary encoding: every value starts with a tag byte, strings carry their
//! length, containers end with a byte no value starts with. So the encoding of one value never
//! runs into the next (`["a","bc"]` and `["ab","c"]` differ), and two props encode the same only
//! when they serialize the same. Struct fields go in declaration order, which the props type
//! fixes; map entries (a `HashMap` iterates in any order) are sorted by their encoding, the only
//! place bytes are buffered.
//!
//! A field name is written in full the first time it appears in an encoding and as its index in
//! that first-appearance table afterwards: a list of 20 structs hashes its field names once, not
//! 20 times (the digest's cost is proportional to its input, about 1.5 ns a byte here). The table
//! is decided by the names' text alone, so the encoding still depends on nothing but the value,
//! and it stays injective: read from the start, every reference names an earlier definition.
//!
//! A field is left out altogether when it is the field that came right after the previous field
//! of its struct the last time that previous field was followed by a field (a struct's end
//! changes nothing): the second field of each of 20 records costs nothing. A reader keeps the same
//! "what followed what" table, so after a field's value a byte that starts a value (not a field,
//! not the struct's end) means that expected field.

use arrayvec::ArrayVec;
use serde::ser::{self, Serialize};

use crate::output_cache::key::sink::Sink;

/// Why props can't be encoded: their `Serialize` impl failed (the canonical JSON writer's error).
pub(crate) use crate::canonical::Error;

/// Tags shared with the template arguments' encoding (see `arguments.rs`). Plain tags are ASCII;
/// the three that carry a number in their low bits take the byte ranges above 0x7f, one range
/// each (short strings 0x80–0xbf, field references 0xc0–0xdf, floats 0xe0–0xe8), so a tag
/// byte alone says how to read what follows.
pub(crate) mod tag {
    pub(crate) const NONE: u8 = b'n';
    pub(crate) const SOME: u8 = b'?';
    pub(crate) const TRUE: u8 = b't';
    pub(crate) const FALSE: u8 = b'f';
    /// A non-negative integer, its value as a varint.
    pub(crate) const INT: u8 = b'i';
    /// A negative integer `n`, `-(n + 1)` as a varint.
    pub(crate) const NEG: u8 = b'-';
    /// A float whose last `n` bytes (big-endian bits) are zero: `FLOAT + (8 - n)`, then its first
    /// `8 - n` bytes. `1.25` is three bytes, not nine; `0.0` one.
    pub(crate) const FLOAT: u8 = 0xE0;
    /// A string of 64 bytes or more: the tag, its length, the bytes.
    pub(crate) const STR: u8 = b's';
    /// A string shorter than 64 bytes: `SHORT_STR | length`, the bytes. Most props' strings are
    /// short, so their length costs no byte of its own.
    pub(crate) const SHORT_STR: u8 = 0x80;
    pub(crate) const BYTES: u8 = b'b';
    pub(crate) const SEQ: u8 = b'[';
    pub(crate) const SEQ_END: u8 = b']';
    pub(crate) const MAP: u8 = b'{';
    pub(crate) const MAP_END: u8 = b'}';
    pub(crate) const STRUCT: u8 = b'(';
    pub(crate) const FIELD: u8 = b'.';
    /// A field whose name appeared before in this encoding: `FIELD_REF | index` in the name
    /// table, which holds 32 names, so one byte.
    pub(crate) const FIELD_REF: u8 = 0xC0;
    pub(crate) const STRUCT_END: u8 = b')';
    pub(crate) const UNIT_VARIANT: u8 = b'v';
    pub(crate) const VARIANT: u8 = b'V';
}

/// Writes the encoding of `value` to `out`.
pub(crate) fn encode<T: Serialize + ?Sized, S: Sink>(value: &T, out: &mut S) -> Result<(), Error> {
    value.serialize(&mut Encoder {
        out,
        names: ArrayVec::new(),
        successor: [NO_FIELD; NAME_TABLE],
    })
}

pub(crate) fn int<S: Sink>(out: &mut S, n: i128) {
    if n >= 0 {
        out.tagged_varint(tag::INT, n as u128);
    } else {
        out.tagged_varint(tag::NEG, (-(n + 1)) as u128);
    }
}

pub(crate) fn float<S: Sink>(out: &mut S, f: f64) {
    let bits = f.to_bits();
    // Prices, counts and halves end in zero bytes; they are left out, and the tag says how many
    // bytes are kept, so the encoding stays injective. One write rather than a byte at a time.
    let kept = 8 - (bits.trailing_zeros() / 8) as usize;
    out.tagged_prefix(tag::FLOAT + kept as u8, bits.to_be_bytes(), kept);
}

/// A string: its length in the tag when it is short.
pub(crate) fn string<S: Sink>(out: &mut S, text: &str) {
    out.short_or_tagged(tag::SHORT_STR, tag::STR, text.as_bytes());
}

struct Encoder<'s, S: Sink> {
    out: &'s mut S,
    /// Field names seen so far, in order of first appearance; names past its capacity are always
    /// written in full (the table fills the same way for equal values, so that is deterministic too).
    names: ArrayVec<&'static str, NAME_TABLE>,
    /// For each name in the table, the index of the field that followed it last time, or
    /// [`NO_FIELD`].
    successor: [u8; NAME_TABLE],
}

/// No field: before a struct's first field, or after one whose name isn't in the table.
const NO_FIELD: u8 = u8::MAX;

/// How many distinct field names one encoding refers back to.
const NAME_TABLE: usize = 32;
// A reference is one byte, `FIELD_REF | index`: the whole table must fit in the low five bits.
const _: () = assert!(NAME_TABLE <= 32);

/// A sequence, tuple or struct: elements written as they come, then an end byte.
struct Compound<'e, 's, S: Sink> {
    encoder: &'e mut Encoder<'s, S>,
    end: u8,
    /// A struct's last field's index in the name table, or [`NO_FIELD`].
    previous: u8,
}

/// A map: entries encoded apart, then sorted and written.
struct Map<'e, 's, S: Sink> {
    encoder: &'e mut Encoder<'s, S>,
    /// Each entry's encoding and where its key ends in it.
    entries: Vec<(Vec<u8>, usize)>,
}

impl<'s, S: Sink> Encoder<'s, S> {
    fn compound(&mut self, open: u8, end: u8) -> Compound<'_, 's, S> {
        self.out.byte(open);
        Compound {
            encoder: self,
            end,
            previous: NO_FIELD,
        }
    }

    fn variant(&mut self, name: &str) {
        self.out.tagged_bytes(tag::VARIANT, name.as_bytes());
    }
}

impl<'e, 's, S: Sink> ser::Serializer for &'e mut Encoder<'s, S> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'e, 's, S>;
    type SerializeTuple = Compound<'e, 's, S>;
    type SerializeTupleStruct = Compound<'e, 's, S>;
    type SerializeTupleVariant = Compound<'e, 's, S>;
    type SerializeMap = Map<'e, 's, S>;
    type SerializeStruct = Compound<'e, 's, S>;
    type SerializeStructVariant = Compound<'e, 's, S>;

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out.byte(if v { tag::TRUE } else { tag::FALSE });
        Ok(())
    }
    #[inline]
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i128(v.into())
    }
    #[inline]
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i128(v.into())
    }
    #[inline]
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i128(v.into())
    }
    #[inline]
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.serialize_i128(v.into())
    }
    #[inline]
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        int(self.out, v);
        Ok(())
    }
    #[inline]
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_u128(v.into())
    }
    #[inline]
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_u128(v.into())
    }
    #[inline]
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_u128(v.into())
    }
    #[inline]
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.serialize_u128(v.into())
    }
    #[inline]
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.out.tagged_varint(tag::INT, v);
        Ok(())
    }
    #[inline]
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.serialize_f64(v.into())
    }
    #[inline]
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        float(self.out, v);
        Ok(())
    }
    #[inline]
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        string(self.out, v);
        Ok(())
    }
    #[inline]
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        self.out.tagged_bytes(tag::BYTES, v);
        Ok(())
    }
    #[inline]
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        self.out.byte(tag::SOME);
        value.serialize(self)
    }
    #[inline]
    fn serialize_unit(self) -> Result<(), Error> {
        self.out.byte(tag::NONE);
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), Error> {
        self.out.tagged_bytes(tag::UNIT_VARIANT, variant.as_bytes());
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.variant(variant);
        value.serialize(self)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Ok(self.compound(tag::SEQ, tag::SEQ_END))
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Self::SerializeTupleStruct, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        self.variant(variant);
        Ok(self.compound(tag::SEQ, tag::SEQ_END))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Ok(Map {
            encoder: self,
            entries: Vec::with_capacity(len.unwrap_or(0)),
        })
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct, Error> {
        Ok(self.compound(tag::STRUCT, tag::STRUCT_END))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        self.variant(variant);
        Ok(self.compound(tag::STRUCT, tag::STRUCT_END))
    }
}

impl<S: Sink> Compound<'_, '_, S> {
    #[inline]
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut *self.encoder)
    }

    #[inline(always)]
    fn field<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) -> Result<(), Error> {
        let encoder = &mut *self.encoder;
        // Names come from `Serialize` impls as `&'static str`, so a repeated field is nearly always
        // the same pointer: compared first, the text only when the pointers differ. Equal text at
        // another address (the same name in another struct) must encode the same, or equal values
        // would get different keys.
        let same = |seen: &&str| seen.as_ptr() == name.as_ptr() && seen.len() == name.len();
        let expected = encoder.successor.get(usize::from(self.previous)).copied();
        if let Some(expected) = expected
            && let Some(seen) = encoder.names.get(usize::from(expected))
            && (same(seen) || *seen == name)
        {
            // What followed the previous field last time: nothing to write.
            self.previous = expected;
            return value.serialize(&mut *self.encoder);
        }
        // From the end: a list of structs repeats the names it added last.
        let found =
            (encoder.names.iter().rposition(same)).or_else(|| encoder.names.iter().position(|&seen| seen == name));
        let index = match found {
            Some(index) => {
                // `index` < NAME_TABLE = 32: it fits beside the tag.
                encoder.out.byte(tag::FIELD_REF | index as u8);
                index as u8
            }
            None => {
                encoder.out.tagged_bytes(tag::FIELD, name.as_bytes());
                // Full: later uses are written in full as well, and nothing follows them.
                match encoder.names.try_push(name) {
                    Ok(()) => (encoder.names.len() - 1) as u8,
                    Err(_) => NO_FIELD,
                }
            }
        };
        if let Some(slot) = encoder.successor.get_mut(usize::from(self.previous)) {
            *slot = index;
        }
        self.previous = index;
        value.serialize(&mut *self.encoder)
    }

    fn close(self) -> Result<(), Error> {
        self.encoder.out.byte(self.end);
        Ok(())
    }
}

/// The serde compound traits over [`Compound`]: elements (`$method(value)`) or named fields
/// (`$method(name, value)`), then the end byte.
macro_rules! compound {
    ($($trait:ident :: $method:ident ( $($name:ident)? );)*) => {$(
        impl<S: Sink> ser::$trait for Compound<'_, '_, S> {
            type Ok = ();
            type Error = Error;
            #[inline(always)]
            fn $method<T: Serialize + ?Sized>(&mut self, $($name: &'static str,)? value: &T) -> Result<(), Error> {
                compound!(@write self $($name)? value)
            }
            fn end(self) -> Result<(), Error> {
                self.close()
            }
        }
    )*};
    (@write $self:ident $name:ident $value:ident) => { $self.field($name, $value) };
    (@write $self:ident $value:ident) => { $self.element($value) };
}

compound! {
    SerializeSeq::serialize_element();
    SerializeTuple::serialize_element();
    SerializeTupleStruct::serialize_field();
    SerializeTupleVariant::serialize_field();
    SerializeStruct::serialize_field(name);
    SerializeStructVariant::serialize_field(name);
}

impl<S: Sink> ser::SerializeMap for Map<'_, '_, S> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        let mut entry = Vec::new();
        encode(key, &mut entry)?;
        let key_end = entry.len();
        self.entries.push((entry, key_end));
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let (entry, _) = self
            .entries
            .last_mut()
            .ok_or_else(|| <Error as ser::Error>::custom("a map value came without its key"))?;
        encode(value, entry)
    }
    fn end(mut self) -> Result<(), Error> {
        // By key, then by value for a serializer that repeats a key: the order never depends on
        // the map's own.
        self.entries
            .sort_unstable_by(|(a, a_key), (b, b_key)| a[..*a_key].cmp(&b[..*b_key]).then_with(|| a.cmp(b)));
        let out = &mut *self.encoder.out;
        out.byte(tag::MAP);
        for (entry, _) in &self.entries {
            out.put(entry);
        }
        out.byte(tag::MAP_END);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;

    use super::{encode, tag};

    fn bytes<T: Serialize>(value: &T) -> Vec<u8> {
        let mut out = Vec::new();
        encode(value, &mut out).unwrap();
        out
    }

    #[derive(Serialize)]
    struct Item {
        name: &'static str,
        price: u32,
    }

    /// Fields that may be left out: which name a value carries must still tell values apart.
    #[derive(Serialize)]
    struct Sparse {
        #[serde(skip_serializing_if = "Option::is_none")]
        a: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        b: Option<&'static str>,
    }

    #[test]
    fn a_repeated_field_name_is_written_once() {
        let one = bytes(&vec![Item { name: "x", price: 1 }]);
        let two = bytes(&vec![Item { name: "x", price: 1 }, Item { name: "x", price: 1 }]);
        let names = b"name".len() + b"price".len();
        // The second item costs its values and two one-byte references, not the names again.
        assert!(two.len() - one.len() < one.len() - names, "{one:?} {two:?}");
        assert_eq!(two.windows(4).filter(|w| w == b"name").count(), 1);
    }

    /// Floats drop their trailing zero bytes and strings their length byte when short; the tag
    /// still tells every value apart, at the edges of both ranges too.
    #[test]
    fn short_forms_stay_apart() {
        assert_eq!(bytes(&1.25f64), [0xE2, 0x3F, 0xF4]);
        assert_eq!(bytes(&0.0f64), [0xE0]);
        let floats = [
            0.0,
            -0.0,
            1.0,
            1.25,
            -1.25,
            0.1,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NAN,
        ];
        for (i, a) in floats.iter().enumerate() {
            assert_eq!(bytes(a).len(), 1 + usize::from(bytes(a)[0] - 0xE0));
            for b in &floats[i + 1..] {
                assert_ne!(bytes(a), bytes(b), "{a} {b}");
            }
        }
        assert_eq!(bytes(&"ab"), [0x82, b'a', b'b']);
        let edge = |n: usize| bytes(&"x".repeat(n));
        assert_eq!(edge(63)[0], 0x80 | 63);
        assert_eq!(edge(64)[..2], [b's', 64]);
        // Every short string's tag stays below the field references' and floats' ranges.
        for n in 0..64 {
            assert!((0x80..0xC0).contains(&edge(n)[0]), "{n}");
        }
        assert_ne!(bytes(&vec!["a"; 2]), bytes(&vec!["aa"]));
    }

    /// A record's second field follows its first as it did in the record before: not written.
    #[test]
    fn a_field_that_follows_as_before_costs_nothing() {
        let items = |n: u32| bytes(&(0..n).map(|_| Item { name: "x", price: 1 }).collect::<Vec<_>>());
        // `(`, a one-byte reference to `name`, `"x"` in two bytes, `1` in two, `)`: no `price`.
        assert_eq!(items(3).len() - items(2).len(), 7);
        assert_eq!(items(2).len() - items(1).len(), 7);
    }

    /// Exhaustively: every list of up to three records, each field left out or holding one of
    /// two values, encodes differently — left-out fields, implicit fields and references never
    /// make two values meet.
    #[test]
    fn records_with_fields_left_out_never_share_an_encoding() {
        #[derive(Serialize, Clone, Copy)]
        struct Three {
            #[serde(skip_serializing_if = "Option::is_none")]
            a: Option<&'static str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            b: Option<&'static str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            c: Option<&'static str>,
        }
        let states = [None, Some("x"), Some("y")];
        let mut records = Vec::new();
        for a in states {
            for b in states {
                for c in states {
                    records.push(Three { a, b, c });
                }
            }
        }
        let mut lists: Vec<Vec<Three>> = vec![Vec::new()];
        let mut last = lists.clone();
        for _ in 0..3 {
            last = last
                .iter()
                .flat_map(|list| {
                    records.iter().map(move |&record| {
                        let mut longer = list.clone();
                        longer.push(record);
                        longer
                    })
                })
                .collect();
            lists.extend(last.iter().cloned());
        }
        assert_eq!(lists.len(), 1 + 27 + 27 * 27 + 27 * 27 * 27);
        let encodings: std::collections::HashSet<Vec<u8>> = lists.iter().map(bytes).collect();
        assert_eq!(encodings.len(), lists.len());
    }

    #[test]
    fn references_keep_values_apart() {
        let sparse = |a, b| bytes(&vec![Sparse { a, b }, Sparse { a: b, b: a }]);
        assert_ne!(sparse(Some("x"), None), sparse(None, Some("x")));
        assert_ne!(
            bytes(&vec![
                Sparse { a: Some("x"), b: None },
                Sparse { a: None, b: Some("y") }
            ]),
            bytes(&vec![
                Sparse { a: None, b: Some("x") },
                Sparse { a: Some("y"), b: None }
            ]),
        );
        // A name defined inside one value is referred back to, not defined again, where it recurs.
        let pair = bytes(&(Sparse { a: Some("x"), b: None }, Sparse { a: Some("x"), b: None }));
        assert_eq!(
            pair.windows(3).filter(|w| *w == [tag::FIELD, 1, b'a']).count(),
            1,
            "{pair:?}"
        );
    }

    /// Equal names at different addresses (another struct's, or built at run time) encode as the
    /// same name: the encoding depends on the text, so equal values get equal keys whatever the
    /// compiler did with the string literals.
    #[test]
    fn a_name_encodes_by_its_text_not_its_address() {
        struct Named(&'static str, &'static str);
        impl Serialize for Named {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeStruct;
                let mut fields = serializer.serialize_struct("Named", 2)?;
                fields.serialize_field(self.0, &1)?;
                fields.serialize_field(self.1, &2)?;
                fields.end()
            }
        }
        let (first, second): (&'static str, &'static str) =
            (String::from("first").leak(), String::from("second").leak());
        let twice = |a: Named, b: Named| bytes(&vec![a, b]);
        let literal = twice(Named("first", "second"), Named("first", "second"));
        assert_eq!(twice(Named(first, second), Named("first", "second")), literal);
        assert_eq!(twice(Named("first", "second"), Named(first, second)), literal);
        assert_eq!(twice(Named("first", second), Named(first, "second")), literal);
    }

    #[test]
    fn more_names_than_the_table_holds_are_written_in_full() {
        /// A struct with 40 fields, more than the name table's 32.
        struct Wide;
        const NAMES: [&str; 40] = [
            "n00", "n01", "n02", "n03", "n04", "n05", "n06", "n07", "n08", "n09", "n10", "n11", "n12", "n13", "n14",
            "n15", "n16", "n17", "n18", "n19", "n20", "n21", "n22", "n23", "n24", "n25", "n26", "n27", "n28", "n29",
            "n30", "n31", "n32", "n33", "n34", "n35", "n36", "n37", "n38", "n39",
        ];
        impl Serialize for Wide {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeStruct;
                let mut fields = serializer.serialize_struct("Wide", NAMES.len())?;
                for (n, name) in NAMES.iter().enumerate() {
                    fields.serialize_field(name, &n)?;
                }
                fields.end()
            }
        }
        let twice = bytes(&(Wide, Wide));
        let count = |name: &str| twice.windows(3).filter(|w| *w == name.as_bytes()).count();
        assert_eq!(count("n05"), 1, "a name in the table is referred to the second time");
        assert_eq!(count("n35"), 2, "a name past the table is written in full each time");
        assert_ne!(bytes(&(Wide, Wide)), bytes(&(Wide,)));
    }
}
