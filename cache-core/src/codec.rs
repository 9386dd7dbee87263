//! How typed values become the bytes a backend stores.

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::BoxError;

/// The value encoding of an alias (`codec = "json"` in the config).
///
/// Every codec stores integers as plain ASCII decimal (`5` is the byte string `5`), so a value set as
/// an integer can be incremented atomically by Redis `INCRBY` or memcached `incr` and read back by
/// any client. JSON does so naturally; a future binary codec must keep that property.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Codec {
    /// `serde_json`: readable, portable, and integers are decimal text.
    #[default]
    Json,
}

impl Codec {
    /// The codec named in a config file.
    pub fn from_name(name: &str) -> Option<Codec> {
        match name {
            "json" => Some(Codec::Json),
            _ => None,
        }
    }

    /// The names `from_name` accepts.
    pub const NAMES: &'static [&'static str] = &["json"];

    /// Encodes a value.
    pub fn encode<T: Serialize + ?Sized>(self, value: &T) -> Result<Bytes, BoxError> {
        match self {
            Codec::Json => Ok(Bytes::from(serde_json::to_vec(value)?)),
        }
    }

    /// Decodes stored bytes.
    pub fn decode<T: DeserializeOwned>(self, bytes: &[u8]) -> Result<T, BoxError> {
        match self {
            Codec::Json => Ok(serde_json::from_slice(bytes)?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_ascii_decimal_and_strings_are_not() {
        assert_eq!(Codec::Json.encode(&5i64).unwrap(), Bytes::from_static(b"5"));
        assert_eq!(Codec::Json.encode(&-17i32).unwrap(), Bytes::from_static(b"-17"));
        assert_eq!(Codec::Json.encode("42").unwrap(), Bytes::from_static(b"\"42\""));
        assert_eq!(Codec::Json.decode::<i64>(b"6").unwrap(), 6);
    }

    #[test]
    fn memcached_space_padding_after_decr_still_decodes() {
        // memcached shortens "10" to "9 " after a decr; the decoder must not choke on it.
        assert_eq!(Codec::Json.decode::<i64>(b"9 ").unwrap(), 9);
    }

    #[test]
    fn a_stored_none_is_a_value() {
        let bytes = Codec::Json.encode(&None::<i32>).unwrap();
        assert_eq!(Codec::Json.decode::<Option<i32>>(&bytes).unwrap(), None);
    }
}
