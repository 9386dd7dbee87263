//! Django's file name for a made key: the md5 hex digest of its UTF-8 bytes, then `.djcache`.

use md5::{Digest, Md5};

/// The suffix every cache file has; `clear()` and a cull touch nothing else.
pub(crate) const SUFFIX: &str = ".djcache";

/// A cache file's name (`86faa9ea774c6ce60e4513e14b3c0af9.djcache` for `:1:k`) and which key
/// lock guards it.
#[derive(Debug, Clone)]
pub(crate) struct FileName {
    name: String,
    stripe: u8,
}

impl FileName {
    /// Django's `_key_to_file`, without the directory.
    pub(crate) fn of(made_key: &str) -> FileName {
        let digest = Md5::digest(made_key.as_bytes());
        let mut name = String::with_capacity(32 + SUFFIX.len());
        for byte in digest {
            name.push(char::from(HEX[usize::from(byte >> 4)]));
            name.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        name.push_str(SUFFIX);
        FileName {
            name,
            // md5 spreads keys evenly, so its first byte picks a lock as well as any hash would.
            stripe: digest[0],
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.name
    }

    pub(crate) fn stripe(&self) -> u8 {
        self.stripe
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether a directory entry is a cache file (what Django's `glob("*.djcache")` matches).
pub(crate) fn is_cache_file(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|name| name.ends_with(SUFFIX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_djangos() {
        // Django: hashlib.md5(b":1:k").hexdigest() + ".djcache".
        assert_eq!(
            FileName::of(":1:k").as_str(),
            "86faa9ea774c6ce60e4513e14b3c0af9.djcache"
        );
        assert_eq!(FileName::of("").as_str(), "d41d8cd98f00b204e9800998ecf8427e.djcache");
    }

    #[test]
    fn only_djcache_files_are_cache_files() {
        assert!(is_cache_file("86faa9ea774c6ce60e4513e14b3c0af9.djcache".as_ref()));
        assert!(!is_cache_file("not-a-cache-file".as_ref()));
        assert!(!is_cache_file(".1.2.djcache-tmp".as_ref()));
    }
}
