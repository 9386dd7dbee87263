//! What a cache file holds: a fixed 24-byte header, then the value's bytes as the façade encoded
//! them.
//!
//! ```text
//! offset  size  field
//!      0     7  magic: the ASCII bytes `djcache`
//!      7     1  format version: 1
//!      8     8  expiry: nanoseconds since the Unix epoch, little-endian u64; u64::MAX = never
//!     16     8  value length in bytes, little-endian u64
//!     24     n  the value
//! ```
//!
//! Django writes a pickled expiry float and then the zlib-compressed pickle of the value; these
//! files are not pickle-compatible (our values are already encoded bytes, and a fixed header lets
//! a reader check the expiry with one small read). The length makes a truncated file (or one
//! with bytes appended) detectable: it reads as a miss, never as a shorter value.

const MAGIC: &[u8; 7] = b"djcache";
const VERSION: u8 = 1;

/// The header's size; the value starts here.
pub(crate) const HEADER_LEN: usize = 24;

/// Where the expiry is: `touch` rewrites these 8 bytes in place.
pub(crate) const EXPIRY_AT: usize = 8;

/// A header that was read and understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// Nanoseconds since the epoch, or [`NEVER`](crate::wall_clock::NEVER).
    pub(crate) expires_at: u64,
    /// The value's length: the file is exactly `HEADER_LEN + value_len` bytes.
    pub(crate) value_len: u64,
}

impl Header {
    pub(crate) fn encode(self) -> [u8; HEADER_LEN] {
        let mut bytes = [0; HEADER_LEN];
        bytes[..7].copy_from_slice(MAGIC);
        bytes[7] = VERSION;
        bytes[EXPIRY_AT..EXPIRY_AT + 8].copy_from_slice(&self.expires_at.to_le_bytes());
        bytes[16..24].copy_from_slice(&self.value_len.to_le_bytes());
        bytes
    }

    /// The header at the start of `bytes`, if they start with one this version wrote.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Header> {
        let bytes: &[u8; HEADER_LEN] = bytes.get(..HEADER_LEN)?.try_into().ok()?;
        if &bytes[..7] != MAGIC || bytes[7] != VERSION {
            return None;
        }
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or_default());
        Some(Header {
            expires_at: word(EXPIRY_AT),
            value_len: word(16),
        })
    }

    /// The file size this header promises.
    pub(crate) fn file_len(self) -> Option<u64> {
        self.value_len.checked_add(HEADER_LEN as u64)
    }
}

/// The header of a whole cache file whose first bytes are `start` and whose size is
/// `file_size`. `None` when it is not a whole file of this format (empty, truncated, foreign, or
/// longer than the header says): checked before the value is read, so a stray file of any size
/// costs one small read.
pub(crate) fn whole_file_header(start: &[u8], file_size: u64) -> Option<Header> {
    let header = Header::decode(start)?;
    (header.file_len()? == file_size).then_some(header)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use proptest::prelude::*;

    use super::*;

    /// A whole file's header and value, as the backend reads them.
    fn decode(file: Bytes) -> Option<(Header, Bytes)> {
        let header = whole_file_header(&file, file.len() as u64)?;
        Some((header, file.slice(HEADER_LEN..)))
    }

    proptest! {
        /// A cache directory's files are read back as found: whatever they hold (another program's
        /// file, a torn write, a disk error's garbage) decodes to an entry or is refused, never a
        /// panic — also after a well-formed magic, which random bytes rarely get past.
        #[test]
        fn any_file_contents_decode_or_are_refused(
            expires_at in any::<u64>(),
            length in any::<u64>(),
            honest in any::<bool>(),
            tail in prop::collection::vec(any::<u8>(), 0..64),
        ) {
            let _ = decode(Bytes::from(tail.clone()));
            let length = if honest { tail.len() as u64 } else { length };
            let mut bytes = file(expires_at, b"").slice(..8).to_vec();
            bytes.extend_from_slice(&expires_at.to_le_bytes());
            bytes.extend_from_slice(&length.to_le_bytes());
            bytes.extend_from_slice(&tail);
            let decoded = decode(Bytes::from(bytes));
            prop_assert_eq!(decoded.is_some(), length == tail.len() as u64);
            if let Some((header, value)) = decoded {
                prop_assert_eq!(header.expires_at, expires_at);
                prop_assert_eq!(&value[..], &tail[..]);
            }
        }
    }

    fn file(expires_at: u64, value: &[u8]) -> Bytes {
        let header = Header {
            expires_at,
            value_len: value.len() as u64,
        };
        [&header.encode()[..], value].concat().into()
    }

    #[test]
    fn a_file_round_trips() {
        let (header, value) = decode(file(42, b"hello")).unwrap();
        assert_eq!(header.expires_at, 42);
        assert_eq!(value, Bytes::from_static(b"hello"));
        assert_eq!(decode(file(u64::MAX, b"")).unwrap().1, Bytes::new());
    }

    #[test]
    fn the_layout_is_the_documented_one() {
        let bytes = file(0x0102_0304_0506_0708, b"v");
        assert_eq!(&bytes[..8], b"djcache\x01");
        assert_eq!(&bytes[8..16], &[8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(&bytes[16..24], &[1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&bytes[24..], b"v");
    }

    #[test]
    fn anything_but_a_whole_file_is_refused() {
        let whole = file(42, b"hello");
        assert!(
            decode(Bytes::new()).is_none(),
            "empty (Django: an empty file is expired)"
        );
        for cut in [1, HEADER_LEN - 1, HEADER_LEN, whole.len() - 1] {
            assert!(decode(whole.slice(..cut)).is_none(), "truncated at {cut}");
        }
        let longer: Bytes = [&whole[..], b"!"].concat().into();
        assert!(decode(longer).is_none());
        let mut foreign = whole.to_vec();
        foreign[7] = 2;
        assert!(decode(foreign.into()).is_none(), "another version");
        assert!(decode(Bytes::from_static(b"\x80\x05\x95 a Django pickle")).is_none());
    }
}
