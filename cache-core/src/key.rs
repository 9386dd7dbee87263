//! Making keys (`prefix:version:key`) and checking them against memcached's rules, as Django does.

use std::fmt;
use std::fmt::Write as _;
use std::sync::Arc;

use unicode_general_category::{GeneralCategory, get_general_category};

use crate::error::{KeyProblem, KeyRule};

/// The longest key memcached accepts, in characters; Django checks every backend against it.
pub const MAX_KEY_LENGTH: usize = 250;

/// A made key held on the stack: room for the longest key memcached accepts, in bytes, and more.
pub(crate) type InlineKey = arrayvec::ArrayString<320>;

/// The signature of a custom key function: `(key, key_prefix, version) -> made key`.
pub type KeyFn = dyn Fn(&str, &str, i64) -> String + Send + Sync;

/// How a caller's key becomes the stored key: Django's `KEY_FUNCTION`.
///
/// The default is `"{prefix}:{version}:{key}"`. Custom functions are registered by name with
/// `Backends::key_function` and chosen per alias with `key_function = "name"` in the config.
#[derive(Clone, Default)]
pub struct KeyFunction {
    custom: Option<(Arc<str>, Arc<KeyFn>)>,
}

impl KeyFunction {
    /// Django's `default_key_func`.
    pub fn default_format() -> Self {
        KeyFunction { custom: None }
    }

    /// A named custom function.
    pub fn custom(name: impl Into<Arc<str>>, make: impl Fn(&str, &str, i64) -> String + Send + Sync + 'static) -> Self {
        KeyFunction {
            custom: Some((name.into(), Arc::new(make))),
        }
    }

    /// The name it is registered under (`"default"` for the built-in one).
    pub fn name(&self) -> &str {
        self.custom.as_ref().map_or("default", |(name, _)| name)
    }

    /// Appends the made key to `out`, which lets the hot path reuse one buffer.
    #[inline]
    pub fn make_into(&self, out: &mut String, key: &str, prefix: &str, version: i64) {
        match &self.custom {
            None => {
                out.reserve(prefix.len() + key.len() + 22);
                out.push_str(prefix);
                out.push(':');
                out.push_str(itoa::Buffer::new().format(version));
                out.push(':');
                out.push_str(key);
            }
            Some((_, make)) => out.push_str(&make(key, prefix, version)),
        }
    }

    /// Whether this is Django's `default_key_func`.
    pub fn is_default(&self) -> bool {
        self.custom.is_none()
    }

    /// The made key.
    pub fn make(&self, key: &str, prefix: &str, version: i64) -> String {
        let mut out = String::new();
        self.make_into(&mut out, key, prefix, version);
        out
    }
}

impl fmt::Debug for KeyFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyFunction({})", self.name())
    }
}

/// Whether `made_key` breaks none of memcached's rules: the check every operation pays.
#[inline]
pub(crate) fn key_is_valid(made_key: &str, max_length: usize) -> bool {
    !is_too_long(made_key, max_length) && !has_forbidden_byte(made_key.as_bytes())
}

/// Whether any byte is one memcached forbids in a key (0x00–0x20, 0x7F), eight bytes at a time: a
/// key is scanned on every operation.
#[inline]
pub fn has_forbidden_byte(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH_BITS: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut words = bytes.chunks_exact(8);
    for chunk in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_ne_bytes(word);
        // The classic "has a byte less than n" test (exact for n <= 128): a byte below 0x21 ...
        let below_space = x.wrapping_sub(0x21 * ONES) & !x & HIGH_BITS;
        // ... or a byte equal to 0x7f, i.e. a zero byte in x ^ 0x7f7f….
        let del = x ^ (0x7f * ONES);
        let has_del = del.wrapping_sub(ONES) & !del & HIGH_BITS;
        if below_space | has_del != 0 {
            return true;
        }
    }
    words.remainder().iter().copied().any(is_forbidden_byte)
}

/// Length counts characters (code points), like Django. A byte length within the limit means the
/// character count is too, so most keys never count characters.
#[inline]
fn is_too_long(made_key: &str, max_length: usize) -> bool {
    made_key.len() > max_length && made_key.chars().count() > max_length
}

/// U+0000–U+0020 (controls and space) and U+007F. Bytes >= 0x80 only occur inside multi-byte
/// characters, so a byte scan finds every forbidden character.
#[inline]
fn is_forbidden_byte(byte: u8) -> bool {
    byte <= 0x20 || byte == 0x7f
}

/// Every rule `made_key` breaks, length first, as Django yields its warnings.
pub fn key_problems(made_key: &str, max_length: usize) -> impl Iterator<Item = KeyProblem> + '_ {
    let too_long = is_too_long(made_key, max_length);
    let bad_char = has_forbidden_byte(made_key.as_bytes());
    let problem = move |rule| KeyProblem {
        key: made_key.to_owned(),
        rule,
    };
    too_long
        .then(|| problem(KeyRule::TooLong { limit: max_length }))
        .into_iter()
        .chain(bad_char.then(|| problem(KeyRule::ForbiddenCharacter)))
}

/// Python's `repr()` of a `str`, so key messages match Django's to the character.
pub fn python_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c if (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push(quote);
    out
}

/// Python's `str.isprintable()` for one character.
fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !matches!(
        get_general_category(c),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::Surrogate
            | GeneralCategory::PrivateUse
            | GeneralCategory::Unassigned
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::SpaceSeparator
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{KeyProblem, KeyRule};

    #[test]
    fn default_key_function_formats_prefix_version_key() {
        let f = KeyFunction::default_format();
        assert_eq!(f.make("k", "", 1), ":1:k");
        assert_eq!(f.make("k", "p", 2), "p:2:k");
        assert_eq!(f.make("k", "p", -3), "p:-3:k");
    }

    #[test]
    fn custom_key_function_is_used_and_named() {
        let f = KeyFunction::custom("custom", |key, prefix, version| {
            format!("CUSTOM-{prefix}-{version}-{key}")
        });
        assert_eq!(f.make("answer", "", 1), "CUSTOM--1-answer");
        assert_eq!(f.name(), "custom");
    }

    #[test]
    fn python_repr_matches_cpython() {
        let cases = [
            ("abc", "'abc'"),
            ("it's", "\"it's\""),
            ("it's \"q\"", "'it\\'s \"q\"'"),
            ("a\\b", "'a\\\\b'"),
            ("a\nb\r\t", "'a\\nb\\r\\t'"),
            ("a\u{0}b", "'a\\x00b'"),
            ("a\u{7f}b", "'a\\x7fb'"),
            ("\u{85}", "'\\x85'"),
            ("a\u{a0}b", "'a\\xa0b'"),
            ("a\u{2028}b", "'a\\u2028b'"),
            ("a\u{200b}b", "'a\\u200bb'"),
            ("\u{e0001}", "'\\U000e0001'"),
            ("清😀", "'清😀'"),
            ("key with spaces and 清", "'key with spaces and 清'"),
        ];
        for (input, expected) in cases {
            assert_eq!(python_repr(input), expected, "repr of {input:?}");
        }
    }

    #[test]
    fn key_problems_follow_django_order_and_limits() {
        let ok = format!(":1:{}", "x".repeat(247));
        assert_eq!(key_problems(&ok, 250).count(), 0);
        let long = format!(":1:{}", "x".repeat(248));
        let problems: Vec<_> = key_problems(&long, 250).collect();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].rule, KeyRule::TooLong { limit: 250 });

        let both = format!(":1:{} ", "x".repeat(250));
        let rules: Vec<_> = key_problems(&both, 250).map(|p| p.rule).collect();
        assert_eq!(rules, [KeyRule::TooLong { limit: 250 }, KeyRule::ForbiddenCharacter]);

        // 247 CJK characters are 741 bytes but only 250 characters: Django counts characters.
        let wide = format!(":1:{}", "清".repeat(247));
        assert_eq!(key_problems(&wide, 250).count(), 0);
        for bad in [":1:a b", ":1:a\u{7f}b", ":1:a\nb", ":1:a\tb", ":1:\u{0}"] {
            assert_eq!(key_problems(bad, 250).count(), 1, "{bad:?}");
        }
        assert_eq!(key_problems(":1:a\u{a0}b", 250).count(), 0, "NBSP is allowed");
    }

    #[test]
    fn the_word_at_a_time_scan_agrees_with_a_byte_scan() {
        for byte in 0..=u8::MAX {
            for position in 0..19 {
                let mut key = vec![b'k'; 19];
                key[position] = byte;
                assert_eq!(
                    has_forbidden_byte(&key),
                    is_forbidden_byte(byte),
                    "byte {byte:#x} at {position}"
                );
            }
        }
    }

    #[test]
    fn too_many_bytes_names_the_unit() {
        let problem = KeyProblem {
            key: "清".into(),
            rule: KeyRule::TooManyBytes { limit: 250 },
        };
        assert_eq!(
            problem.to_string(),
            "Cache key will cause errors if used with memcached: '清' (longer than 250 bytes in UTF-8)"
        );
    }

    #[test]
    fn messages_are_djangos() {
        let problem = key_problems("key with spaces and 清", 250).next().unwrap();
        assert_eq!(
            problem.to_string(),
            "Cache key contains characters that will cause errors if used with memcached: 'key with spaces and 清'"
        );
        let long = "a".repeat(251);
        let problem = key_problems(&long, 250).next().unwrap();
        assert_eq!(
            problem.to_string(),
            format!("Cache key will cause errors if used with memcached: '{long}' (longer than 250)")
        );
    }
}
