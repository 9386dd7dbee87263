//! Canonical JSON: one byte string per value, so equal props make equal keys and different props
//! different ones.
//!
//! Object entries are written sorted by their key's JSON encoding (for ordinary keys, the keys'
//! own order), whatever order the struct declares its fields in or the map iterates; no
//! whitespace; strings and numbers are formatted by `serde_json`. JSON is self-delimiting, so the
//! text decides the value: no two different values share an encoding (django-components joins
//! `str()`s with `,` and `-`, so `["a,b"]` and `["a", "b"]` collide there).
//!
//! The serializer writes straight into the output — no `serde_json::Value` tree — because a cache
//! hit computes this for every component on the page: objects are written as they come and only
//! rearranged when their keys arrive out of order.

use std::fmt::Display;
use std::ops::Range;

use serde::ser::{self, Impossible, Serialize};

/// Why a value can't be written as canonical JSON (a map whose keys aren't strings or numbers,
/// a `Serialize` impl that fails).
///
/// A `Box<str>` rather than a `String`: every serializer method returns `Result<(), Error>`,
/// which at 16 bytes comes back in registers instead of through memory (the key encoder calls one per
/// field of every props value on every cache hit).
#[derive(Debug)]
pub(crate) struct Error(Box<str>);

impl Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: Display>(message: T) -> Self {
        Error(message.to_string().into())
    }
}

type Result<T = (), E = Error> = std::result::Result<T, E>;

/// Appends the canonical JSON of `value` to `out`.
pub(crate) fn write<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result {
    let mut writer = Writer {
        out,
        entries: Vec::new(),
        scratch: Vec::new(),
    };
    value.serialize(&mut writer)
}

/// The canonical JSON of `value`, as a string.
pub(crate) fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    let mut out = Vec::new();
    write(value, &mut out)?;
    // Only serde_json's output and ASCII punctuation went in.
    Ok(String::from_utf8(out).expect("serde_json writes UTF-8"))
}

/// One object entry written so far: where its key and its value are in the output.
struct ObjectMember {
    key: Range<usize>,
    value_end: usize,
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
    /// The entries of every object being written, innermost last (a stack shared by all levels,
    /// so objects allocate nothing of their own).
    entries: Vec<ObjectMember>,
    scratch: Vec<u8>,
}

impl Writer<'_> {
    fn scalar<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        serde_json::to_writer(&mut *self.out, value).map_err(|error| Error(error.to_string().into()))
    }
}

/// An object being written; see [`Writer::end_object`].
struct Object<'w, 'a> {
    writer: &'w mut Writer<'a>,
    /// Where this object's entries start on the entry stack.
    base: usize,
    /// Where its first entry starts in the output (just after `{`).
    start: usize,
    /// The start of the entry being written.
    pending_key: Option<Range<usize>>,
}

impl<'w, 'a> Object<'w, 'a> {
    fn open(writer: &'w mut Writer<'a>) -> Self {
        writer.out.push(b'{');
        Object {
            base: writer.entries.len(),
            start: writer.out.len(),
            writer,
            pending_key: None,
        }
    }

    fn key<K: Serialize + ?Sized>(&mut self, key: &K) -> Result {
        if self.writer.entries.len() > self.base {
            self.writer.out.push(b',');
        }
        let start = self.writer.out.len();
        key.serialize(KeyWriter {
            out: &mut *self.writer.out,
        })?;
        self.pending_key = Some(start..self.writer.out.len());
        self.writer.out.push(b':');
        Ok(())
    }

    fn value<V: Serialize + ?Sized>(&mut self, value: &V) -> Result {
        value.serialize(&mut *self.writer)?;
        let key = self
            .pending_key
            .take()
            .ok_or_else(|| Error("a map value came without its key".into()))?;
        self.writer.entries.push(ObjectMember {
            key,
            value_end: self.writer.out.len(),
        });
        Ok(())
    }

    /// Closes the object, first putting its entries in key order if they didn't come that way.
    fn end(self) -> Result {
        let Object {
            writer, base, start, ..
        } = self;
        let Writer {
            out, entries, scratch, ..
        } = writer;
        let mine = &mut entries[base..];
        let in_order = mine
            .windows(2)
            .all(|pair| out[pair[0].key.clone()] < out[pair[1].key.clone()]);
        if !in_order {
            scratch.clear();
            scratch.extend_from_slice(&out[start..]);
            mine.sort_unstable_by(|a, b| out[a.key.clone()].cmp(&out[b.key.clone()]));
            out.truncate(start);
            for (i, entry) in mine.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(&scratch[entry.key.start - start..entry.value_end - start]);
            }
        }
        entries.truncate(base);
        out.push(b'}');
        Ok(())
    }
}

/// An array being written.
struct Array<'w, 'a> {
    writer: &'w mut Writer<'a>,
    first: bool,
}

impl<'w, 'a> Array<'w, 'a> {
    fn open(writer: &'w mut Writer<'a>) -> Self {
        writer.out.push(b'[');
        Array { writer, first: true }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        if !self.first {
            self.writer.out.push(b',');
        }
        self.first = false;
        value.serialize(&mut *self.writer)
    }

    fn end(self) -> Result {
        self.writer.out.push(b']');
        Ok(())
    }
}

/// A value written as a one-entry object `{"variant": value}` (serde_json's enum layout).
struct Tagged<'w, 'a> {
    inner: Result<Array<'w, 'a>, Object<'w, 'a>>,
}

impl<'w, 'a> ser::Serializer for &'w mut Writer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Array<'w, 'a>;
    type SerializeTuple = Array<'w, 'a>;
    type SerializeTupleStruct = Array<'w, 'a>;
    type SerializeTupleVariant = Tagged<'w, 'a>;
    type SerializeMap = Object<'w, 'a>;
    type SerializeStruct = Object<'w, 'a>;
    type SerializeStructVariant = Tagged<'w, 'a>;

    fn serialize_bool(self, v: bool) -> Result {
        self.scalar(&v)
    }
    fn serialize_i8(self, v: i8) -> Result {
        self.scalar(&v)
    }
    fn serialize_i16(self, v: i16) -> Result {
        self.scalar(&v)
    }
    fn serialize_i32(self, v: i32) -> Result {
        self.scalar(&v)
    }
    fn serialize_i64(self, v: i64) -> Result {
        self.scalar(&v)
    }
    fn serialize_i128(self, v: i128) -> Result {
        self.scalar(&v)
    }
    fn serialize_u8(self, v: u8) -> Result {
        self.scalar(&v)
    }
    fn serialize_u16(self, v: u16) -> Result {
        self.scalar(&v)
    }
    fn serialize_u32(self, v: u32) -> Result {
        self.scalar(&v)
    }
    fn serialize_u64(self, v: u64) -> Result {
        self.scalar(&v)
    }
    fn serialize_u128(self, v: u128) -> Result {
        self.scalar(&v)
    }
    fn serialize_f32(self, v: f32) -> Result {
        self.scalar(&v)
    }
    fn serialize_f64(self, v: f64) -> Result {
        self.scalar(&v)
    }
    fn serialize_char(self, v: char) -> Result {
        self.scalar(&v)
    }
    fn serialize_str(self, v: &str) -> Result {
        self.scalar(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result {
        self.scalar(v)
    }
    fn serialize_none(self) -> Result {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result {
        self.serialize_none()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.scalar(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        let mut object = Object::open(self);
        object.key(variant)?;
        object.value(value)?;
        object.end()
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
        Ok(Array::open(self))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
        Ok(Array::open(self))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct> {
        Ok(Array::open(self))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        self.out.push(b'{');
        self.scalar(variant)?;
        self.out.push(b':');
        Ok(Tagged {
            inner: Ok(Array::open(self)),
        })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        Ok(Object::open(self))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        Ok(Object::open(self))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        self.out.push(b'{');
        self.scalar(variant)?;
        self.out.push(b':');
        Ok(Tagged {
            inner: Err(Object::open(self)),
        })
    }
}

impl ser::SerializeSeq for Array<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.element(value)
    }
    fn end(self) -> Result {
        Array::end(self)
    }
}

impl ser::SerializeTuple for Array<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.element(value)
    }
    fn end(self) -> Result {
        Array::end(self)
    }
}

impl ser::SerializeTupleStruct for Array<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.element(value)
    }
    fn end(self) -> Result {
        Array::end(self)
    }
}

impl ser::SerializeMap for Object<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        self.key(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.value(value)
    }
    fn end(self) -> Result {
        Object::end(self)
    }
}

impl ser::SerializeStruct for Object<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) -> Result {
        self.key(name)?;
        self.value(value)
    }
    fn end(self) -> Result {
        Object::end(self)
    }
}

impl Tagged<'_, '_> {
    fn finish(self) -> Result {
        match self.inner {
            Ok(array) => {
                array.writer.out.extend_from_slice(b"]}");
                Ok(())
            }
            Err(object) => close_tagged_object(object),
        }
    }
}

/// Closes the inner object of `{"variant": {…}}`, then the outer one.
fn close_tagged_object(object: Object<'_, '_>) -> Result {
    let Object {
        writer, base, start, ..
    } = object;
    Object {
        writer: &mut *writer,
        base,
        start,
        pending_key: None,
    }
    .end()?;
    writer.out.push(b'}');
    Ok(())
}

impl ser::SerializeTupleVariant for Tagged<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        match &mut self.inner {
            Ok(array) => array.element(value),
            Err(_) => unreachable!("a tuple variant is an array"),
        }
    }
    fn end(self) -> Result {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Tagged<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) -> Result {
        match &mut self.inner {
            Err(object) => {
                object.key(name)?;
                object.value(value)
            }
            Ok(_) => unreachable!("a struct variant is an object"),
        }
    }
    fn end(self) -> Result {
        self.finish()
    }
}

/// Writes an object key: a JSON string. Numbers, booleans and chars become strings, as
/// `serde_json` does; anything else is refused.
struct KeyWriter<'o> {
    out: &'o mut Vec<u8>,
}

impl KeyWriter<'_> {
    fn text(self, text: &str) -> Result {
        serde_json::to_writer(&mut *self.out, text).map_err(|error| Error(error.to_string().into()))
    }

    fn display<T: Display>(self, value: T) -> Result {
        self.text(&value.to_string())
    }
}

fn key_error() -> Error {
    Error("object keys must be strings, numbers, booleans or chars".into())
}

impl ser::Serializer for KeyWriter<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Impossible<(), Error>;
    type SerializeStructVariant = Impossible<(), Error>;

    fn serialize_bool(self, v: bool) -> Result {
        self.display(v)
    }
    fn serialize_i8(self, v: i8) -> Result {
        self.display(v)
    }
    fn serialize_i16(self, v: i16) -> Result {
        self.display(v)
    }
    fn serialize_i32(self, v: i32) -> Result {
        self.display(v)
    }
    fn serialize_i64(self, v: i64) -> Result {
        self.display(v)
    }
    fn serialize_i128(self, v: i128) -> Result {
        self.display(v)
    }
    fn serialize_u8(self, v: u8) -> Result {
        self.display(v)
    }
    fn serialize_u16(self, v: u16) -> Result {
        self.display(v)
    }
    fn serialize_u32(self, v: u32) -> Result {
        self.display(v)
    }
    fn serialize_u64(self, v: u64) -> Result {
        self.display(v)
    }
    fn serialize_u128(self, v: u128) -> Result {
        self.display(v)
    }
    fn serialize_f32(self, v: f32) -> Result {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result {
        if !v.is_finite() {
            return Err(key_error());
        }
        let number = serde_json::to_string(&v).map_err(|error| Error(error.to_string().into()))?;
        self.text(&number)
    }
    fn serialize_char(self, v: char) -> Result {
        self.text(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result {
        self.text(v)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result {
        Err(key_error())
    }
    fn serialize_none(self) -> Result {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result {
        Err(key_error())
    }
    fn serialize_unit(self) -> Result {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result {
        Err(key_error())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.text(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result {
        Err(key_error())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(key_error())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
        Err(key_error())
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(key_error())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        Err(key_error())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(key_error())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use serde::Serialize;
    use serde_json::json;

    use super::*;

    #[test]
    fn keys_are_sorted_and_nothing_else_changes() {
        let text = to_string(&json!({"b": 1, "a": {"d": [true, null], "c": "x\"y"}, "é": 1.5})).unwrap();
        assert_eq!(text, r#"{"a":{"c":"x\"y","d":[true,null]},"b":1,"é":1.5}"#);
    }

    #[test]
    fn struct_fields_are_sorted_whatever_their_declaration_order() {
        #[derive(Serialize)]
        struct Outer {
            zeta: Vec<Inner>,
            alpha: Option<u8>,
            mid: Inner,
        }
        #[derive(Serialize)]
        struct Inner {
            y: &'static str,
            x: f64,
        }
        let value = Outer {
            zeta: vec![Inner { y: "a", x: 1.0 }, Inner { y: "b", x: 0.5 }],
            alpha: None,
            mid: Inner { y: "c", x: -2.0 },
        };
        let text = to_string(&value).unwrap();
        assert_eq!(
            text,
            r#"{"alpha":null,"mid":{"x":-2.0,"y":"c"},"zeta":[{"x":1.0,"y":"a"},{"x":0.5,"y":"b"}]}"#
        );
        // The same as going through serde_json's own tree, which sorts its maps.
        let through_value = to_string(&serde_json::to_value(&value).unwrap()).unwrap();
        assert_eq!(text, through_value);
    }

    #[test]
    fn insertion_order_does_not_matter() {
        let mut one = HashMap::new();
        let mut two = BTreeMap::new();
        for (k, v) in [("z", 1), ("a", 2), ("m", 3)] {
            one.insert(k, v);
        }
        for (k, v) in [("m", 3), ("z", 1), ("a", 2)] {
            two.insert(k, v);
        }
        assert_eq!(to_string(&one).unwrap(), to_string(&two).unwrap());
    }

    #[test]
    fn enums_and_odd_keys_follow_serde_json() {
        #[derive(Serialize)]
        enum Shape {
            Dot,
            Circle(f64),
            Line(u8, u8),
            Rect { w: u8, h: u8 },
        }
        let shapes = vec![
            Shape::Dot,
            Shape::Circle(1.5),
            Shape::Line(1, 2),
            Shape::Rect { w: 3, h: 4 },
        ];
        assert_eq!(
            to_string(&shapes).unwrap(),
            r#"["Dot",{"Circle":1.5},{"Line":[1,2]},{"Rect":{"h":4,"w":3}}]"#
        );
        assert_eq!(
            to_string(&shapes).unwrap(),
            to_string(&serde_json::to_value(&shapes).unwrap()).unwrap()
        );
        let numbered: BTreeMap<u32, bool> = [(10, true), (9, false)].into();
        assert_eq!(to_string(&numbered).unwrap(), r#"{"10":true,"9":false}"#);
        let bad: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        assert!(to_string(&bad).is_err());
    }

    #[test]
    fn the_values_django_components_confuses_stay_apart() {
        assert_ne!(to_string(&["a,b"]).unwrap(), to_string(&["a", "b"]).unwrap());
        assert_ne!(
            to_string(&json!({"a": "1,b-2"})).unwrap(),
            to_string(&json!({"a": "1", "b": "2"})).unwrap()
        );
        assert_ne!(to_string(&json!(1)).unwrap(), to_string(&json!("1")).unwrap());
        assert_ne!(to_string(&json!(1)).unwrap(), to_string(&json!(1.0)).unwrap());
    }
}
