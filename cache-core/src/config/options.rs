//! [`Options::parse`](super::Options::parse): a backend's options type read from the JSON table,
//! with errors that name the option at fault.
//!
//! `serde_json::from_value` reports "unknown field `x`, expected …" or "invalid type: …" without
//! saying which entry of the table was being read. This deserializer walks the table itself and
//! remembers the key it is on, so the error can say `options.max_entries` instead of `options`.

use std::cell::RefCell;

use serde::Deserializer;
use serde::de::value::StrDeserializer;
use serde::de::{DeserializeOwned, DeserializeSeed, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::option_values::unknown_option_message;
use crate::error::{CacheError, Result};

pub(super) fn parse<T: DeserializeOwned>(values: &Map<String, Value>, alias: &str) -> Result<T> {
    let current = RefCell::new(None);
    let table = Table {
        values,
        current: &current,
    };
    T::deserialize(table).map_err(|error| describe(alias, current.into_inner(), &error.to_string()))
}

/// Turns serde's message into one naming the option, with the fix where serde's wording is
/// generic. The messages matched here are serde's own `Error::unknown_field`/`missing_field`
/// defaults, which serde_json does not override.
fn describe(alias: &str, key: Option<&str>, message: &str) -> CacheError {
    let unknown = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once("`, "));
    if let Some((name, expected)) = unknown {
        let message = if expected == "there are no fields" {
            unknown_option_message(&[], true)
        } else {
            let list = expected.strip_prefix("expected ").unwrap_or(expected);
            let list = list.strip_prefix("one of ").unwrap_or(list);
            // serde's list is already worded (`` `a`, `b` `` or `` `a` or `b` ``); it stands as one name.
            unknown_option_message(&[list.to_owned()], true)
        };
        return CacheError::config(Some(alias), format!("options.{name}"), message);
    }
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'));
    if let Some(name) = missing {
        return CacheError::config(
            Some(alias),
            format!("options.{name}"),
            "required by this backend but not given",
        );
    }
    let field = key.map_or_else(|| "options".to_owned(), |key| format!("options.{key}"));
    CacheError::config(Some(alias), field, message)
}

/// The options table as a serde map, recording in `current` the key being read.
#[derive(Clone, Copy)]
struct Table<'a, 'c> {
    values: &'a Map<String, Value>,
    current: &'c RefCell<Option<&'a str>>,
}

impl<'de> Deserializer<'de> for Table<'de, '_> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_map(Entries {
            iter: self.values.iter(),
            value: None,
            current: self.current,
        })
    }

    // An `Option<Options>` or a newtype around the options type sees the table itself.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

struct Entries<'a, 'c> {
    iter: serde_json::map::Iter<'a>,
    value: Option<&'a Value>,
    current: &'c RefCell<Option<&'a str>>,
}

impl<'de> MapAccess<'de> for Entries<'de, '_> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        let Some((key, value)) = self.iter.next() else {
            // Errors raised after the last entry (a missing field) belong to no key.
            *self.current.borrow_mut() = None;
            return Ok(None);
        };
        *self.current.borrow_mut() = Some(key);
        self.value = Some(value);
        seed.deserialize(StrDeserializer::new(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        let value = self.value.take().unwrap_or(&Value::Null);
        let parsed = seed.deserialize(value)?;
        *self.current.borrow_mut() = None;
        Ok(parsed)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Cull {
        max_entries: u64,
        #[serde(default)]
        cull_frequency: Option<u64>,
        #[serde(default)]
        verbose: bool,
    }

    fn table(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    fn error<T: DeserializeOwned + std::fmt::Debug>(json: &str) -> String {
        parse::<T>(&table(json), "default").unwrap_err().to_string()
    }

    #[test]
    fn reads_a_struct() {
        let cull: Cull = parse(&table(r#"{"max_entries": 5, "cull_frequency": 2}"#), "a").unwrap();
        assert_eq!(
            cull,
            Cull {
                max_entries: 5,
                cull_frequency: Some(2),
                verbose: false
            }
        );
        let optional: Option<Cull> = parse(&table(r#"{"max_entries": 5}"#), "a").unwrap();
        assert_eq!(optional.unwrap().max_entries, 5);
        let map: std::collections::BTreeMap<String, Value> = parse(&table(r#"{"x": [1]}"#), "a").unwrap();
        assert_eq!(map["x"], serde_json::json!([1]));
    }

    #[test]
    fn errors_name_the_option() {
        assert_eq!(
            error::<Cull>(r#"{"max_entries": 5, "max_entrys": 6}"#),
            "cache alias `default`: options.max_entrys: unknown option; the options this backend accepts are \
             `max_entries`, `cull_frequency`, `verbose`; every alias also accepts `ignore_exceptions`, `log_keys` and `latency_histogram`"
        );
        assert_eq!(
            error::<Cull>(r#"{"max_entries": "many"}"#),
            "cache alias `default`: options.max_entries: invalid type: string \"many\", expected u64"
        );
        assert_eq!(
            error::<Cull>(r#"{"cull_frequency": 2}"#),
            "cache alias `default`: options.max_entries: required by this backend but not given"
        );
        assert_eq!(
            error::<Cull>(r#"{"max_entries": 1, "verbose": 1}"#),
            "cache alias `default`: options.verbose: invalid type: integer `1`, expected a boolean"
        );
    }

    #[test]
    fn a_backend_without_options() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct NoOptions {}
        assert!(parse::<NoOptions>(&Map::new(), "a").is_ok());
        assert_eq!(
            error::<NoOptions>(r#"{"x": 1}"#),
            "cache alias `default`: options.x: unknown option; this backend takes no options (every alias accepts `ignore_exceptions`)"
        );
    }

    #[test]
    fn two_accepted_options_read_naturally() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Two {
            a: Option<u8>,
            b: Option<u8>,
        }
        assert_eq!(
            error::<Two>(r#"{"c": 1}"#),
            "cache alias `default`: options.c: unknown option; the options this backend accepts are `a` or `b`; every alias also accepts `ignore_exceptions`, `log_keys` and `latency_histogram`"
        );
    }
}
