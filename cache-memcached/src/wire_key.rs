//! The last check before a key is written to a socket: memcached's own rules, in bytes.
//!
//! The façade already refuses keys over 250 *characters* or holding spaces and control characters
//! (Django's rules, for a backend whose keys are strict). memcached counts *bytes*, and the backend
//! can be called without the façade, so every key is checked again here. A key that passes can't
//! end a command line early or add a token to it: no protocol injection.

use cache_core::key::has_forbidden_byte;
use cache_core::{BackendError, BackendResult, ErrorKind, KeyProblem, KeyRule};

/// memcached's key length limit, in bytes.
pub const MAX_KEY_BYTES: usize = 250;

/// Refuses a key memcached would reject or misread: empty, over [`MAX_KEY_BYTES`] bytes of UTF-8,
/// or holding a byte from 0x00 to 0x20 (controls and space) or 0x7F.
///
/// Over-long and forbidden-byte keys are [`ErrorKind::InvalidKey`] (the façade already refused
/// them before I/O; this is the last line of defence at the wire); an empty key, which only a
/// custom key function can make, is unsupported.
pub(crate) fn check(key: &str) -> BackendResult<()> {
    if key.is_empty() {
        return Err(BackendError::unsupported(
            "memcached can't store an empty key; check the alias' key function",
        ));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(BackendError::new(ErrorKind::InvalidKey(KeyProblem {
            key: key.to_owned(),
            rule: KeyRule::TooManyBytes { limit: MAX_KEY_BYTES },
        })));
    }
    if has_forbidden_byte(key.as_bytes()) {
        return Err(BackendError::new(ErrorKind::InvalidKey(KeyProblem {
            key: key.to_owned(),
            rule: KeyRule::ForbiddenCharacter,
        })));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_counted_not_characters() {
        assert!(check(&"a".repeat(250)).is_ok());
        assert!(check(&"清".repeat(83)).is_ok()); // 249 bytes
        // 84 characters, 252 bytes: fine for Django, too long for memcached.
        let wide = "清".repeat(84);
        match check(&wide).map_err(|error| error.kind().clone()) {
            Err(ErrorKind::InvalidKey(KeyProblem {
                rule: KeyRule::TooManyBytes { limit: 250 },
                key,
            })) => assert_eq!(key, wide),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn controls_space_and_del_are_refused() {
        for key in ["a b", "a\r\nflush_all", "a\nb", "a\tb", "\0", "a\x7fb", " ", "a\x1b"] {
            assert!(
                matches!(
                    check(key).map_err(|error| error.kind().clone()),
                    Err(ErrorKind::InvalidKey(KeyProblem {
                        rule: KeyRule::ForbiddenCharacter,
                        ..
                    }))
                ),
                "{key:?}"
            );
        }
        for key in ["清", "a\u{a0}b", "a\u{2028}b", "a\u{85}b", "emoji😀", ":1:key"] {
            assert!(check(key).is_ok(), "{key:?}");
        }
    }

    #[test]
    fn empty_is_refused() {
        let error = check("").unwrap_err();
        assert_eq!(*error.kind(), ErrorKind::Unsupported);
        assert!(!error.is_retryable());
    }
}
