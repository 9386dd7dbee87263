//! How keys and values are written into Django's columns.
//!
//! - `value` is `text` in Django's schema, holding base64 (of a pickle, in Django). Here it holds
//!   the standard base64 of the bytes the façade encoded (JSON by default), so the column type
//!   matches and any text column can hold any value. Django can't unpickle these rows, and this
//!   crate can't read Django's: a table is shared in shape, not in content.
//! - `cache_key` is the made key as it is, except that PostgreSQL's text can't hold a NUL
//!   character (Django's driver drops it or fails). A key holding NUL, or starting with the
//!   escape character U+0001, is stored as U+0001 followed by the base64 of its UTF-8 bytes.
//!   No key stored as it is starts with U+0001, so the mapping stays one-to-one.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;

/// Marks a key stored in escaped form.
const ESCAPE: char = '\u{1}';

/// The `cache_key` a made key is stored under.
pub(crate) fn stored_key(key: &str) -> Cow<'_, str> {
    if key.starts_with(ESCAPE) || key.contains('\0') {
        let mut escaped = String::with_capacity(1 + key.len().div_ceil(3) * 4);
        escaped.push(ESCAPE);
        STANDARD.encode_string(key.as_bytes(), &mut escaped);
        Cow::Owned(escaped)
    } else {
        Cow::Borrowed(key)
    }
}

/// The `value` text of some bytes.
pub(crate) fn value_text(value: &[u8]) -> String {
    STANDARD.encode(value)
}

/// The bytes a `value` text holds; `None` when it is not base64 (a row written by something else).
pub(crate) fn value_bytes(text: &str) -> Option<Bytes> {
    STANDARD.decode(text.as_bytes()).ok().map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_as_base64() {
        assert_eq!(value_text(b"\"hello\""), "ImhlbGxvIg==");
        assert_eq!(value_bytes("ImhlbGxvIg==").unwrap(), Bytes::from_static(b"\"hello\""));
        assert_eq!(value_bytes(&value_text(&[0, 255, 10])).unwrap()[..], [0, 255, 10]);
        assert_eq!(value_bytes("not base64!"), None);
    }

    #[test]
    fn only_keys_with_nul_or_the_escape_are_escaped() {
        assert!(matches!(stored_key(":1:清 key"), Cow::Borrowed(":1:清 key")));
        let nul = stored_key(":1:a\0b");
        assert_eq!(nul, "\u{1}OjE6YQBi");
        assert!(!nul.contains('\0'));
        let escape = stored_key("\u{1}OjE6YQBi");
        assert_ne!(
            escape, nul,
            "a key that looks escaped is escaped again, so the two differ"
        );
        assert!(escape.starts_with('\u{1}'));
    }
}
