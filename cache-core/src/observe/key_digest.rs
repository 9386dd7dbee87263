//! How a span names a key: by a digest unless the alias opts in to raw keys (`options.log_keys`),
//! because keys often hold personal data (emails, session ids) that logs must not collect.

use std::fmt;

use crate::cache::Cache;

/// A span's `key` field: the key itself when the alias logs keys, else `#` and the first 16 hex
/// digits of the key's BLAKE3 digest: the same key always gets the same digest, so a key's calls
/// can be followed across log lines and processes without the key being written anywhere.
pub(crate) enum KeyDigest<'a> {
    Raw(&'a str),
    Hashed(&'a str),
    None,
}

impl<'a> KeyDigest<'a> {
    pub(crate) fn of(cache: &Cache, key: Option<&'a str>) -> Self {
        match key {
            Some(key) if cache.options().log_keys() => KeyDigest::Raw(key),
            Some(key) => KeyDigest::Hashed(key),
            None => KeyDigest::None,
        }
    }
}

impl fmt::Display for KeyDigest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyDigest::Raw(key) => f.write_str(key),
            KeyDigest::Hashed(key) => {
                let digest = blake3::hash(key.as_bytes());
                f.write_str("#")?;
                for byte in &digest.as_bytes()[..8] {
                    write!(f, "{byte:02x}")?;
                }
                Ok(())
            }
            KeyDigest::None => f.write_str("-"),
        }
    }
}
