//! Where a key's input goes: into the digest (collected in a fixed buffer and hashed at once, or
//! streamed when it is long), or into a byte vector when a map's entries must be sorted before
//! they are hashed.

use crate::output_cache::key::memo;

/// Something an encoder writes bytes to.
pub(crate) trait Sink {
    fn put(&mut self, bytes: &[u8]);

    #[inline]
    fn byte(&mut self, byte: u8) {
        self.put(&[byte]);
    }

    /// A length or count, LEB128: one byte below 128. That case is inlined into every encoder;
    /// longer ones take a call.
    #[inline(always)]
    fn varint(&mut self, n: u128) {
        if n < 0x80 {
            self.byte(n as u8);
        } else {
            self.long_varint(n);
        }
    }

    #[inline(never)]
    fn long_varint(&mut self, mut n: u128) {
        let mut buf = [0u8; 19];
        let mut len = 0;
        loop {
            let low = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                buf[len] = low;
                len += 1;
                break;
            }
            buf[len] = low | 0x80;
            len += 1;
        }
        self.put(&buf[..len]);
    }

    /// A length-prefixed byte string.
    #[inline]
    fn bytes(&mut self, bytes: &[u8]) {
        self.varint(bytes.len() as u128);
        self.put(bytes);
    }

    /// A tag byte, then a length-prefixed byte string (a string value, a field name).
    #[inline]
    fn tagged_bytes(&mut self, tag: u8, bytes: &[u8]) {
        self.byte(tag);
        self.bytes(bytes);
    }

    /// Bytes shorter than [`SHORT`]: `short_tag | length` and the bytes; longer ones as
    /// [`Sink::tagged_bytes`] with `long_tag`. `short_tag`'s low six bits must be clear, and no
    /// other tag may fall in its range.
    #[inline]
    fn short_or_tagged(&mut self, short_tag: u8, long_tag: u8, bytes: &[u8]) {
        if bytes.len() < SHORT {
            self.byte(short_tag | bytes.len() as u8);
            self.put(bytes);
        } else {
            self.tagged_bytes(long_tag, bytes);
        }
    }

    /// A tag byte, then the first `len` bytes of `bytes` (a float, whose zero tail is left out).
    #[inline]
    fn tagged_prefix(&mut self, tag: u8, bytes: [u8; 8], len: usize) {
        self.byte(tag);
        self.put(&bytes[..len]);
    }

    /// A tag byte, then a varint (an integer).
    #[inline]
    fn tagged_varint(&mut self, tag: u8, n: u128) {
        self.byte(tag);
        self.varint(n);
    }
}

/// Byte strings shorter than this carry their length in their tag byte.
pub(crate) const SHORT: usize = 64;

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }

    fn byte(&mut self, byte: u8) {
        self.push(byte);
    }
}

/// Inputs up to this size are hashed in one call when the key is finished. BLAKE3 compresses one
/// 64-byte block after another below 1 KiB anyway, and its one-shot form needs no `Hasher` (about
/// 2 KB of chaining-value stack to set up and move); almost every set of props fits. Such a
/// digest is also remembered by this thread (`memo.rs`), so a repeat skips BLAKE3.
const INLINE: usize = memo::MAX_INPUT;

/// Keyed BLAKE3 of everything put in, with no document of the input built: it is collected in a
/// fixed buffer and hashed at once, and only an input past [`INLINE`] bytes streams through a
/// `Hasher`. Both give the same digest for the same input.
pub(crate) struct HashSink {
    key: [u8; 32],
    inline: [u8; INLINE],
    len: usize,
    /// Made when the input outgrows `inline`, which is then fed to it and reused as its staging
    /// buffer (BLAKE3 costs per call, and an encoder writes a few bytes at a time).
    overflow: Option<Box<blake3::Hasher>>,
}

impl HashSink {
    /// An empty sink under an all-zero key, for a `const` (a thread's reused input).
    pub(crate) const EMPTY: HashSink = HashSink {
        key: [0; 32],
        inline: [0; INLINE],
        len: 0,
        overflow: None,
    };

    pub(crate) fn new(key: &[u8; 32]) -> Self {
        HashSink {
            key: *key,
            inline: [0; INLINE],
            len: 0,
            overflow: None,
        }
    }

    /// Starts again with `key`, in place.
    pub(crate) fn restart(&mut self, key: &[u8; 32]) {
        self.key = *key;
        self.len = 0;
        self.overflow = None;
    }

    pub(crate) fn finish(&mut self) -> [u8; 32] {
        let staged = &self.inline[..self.len];
        let hash = match self.overflow.take() {
            None => memo::keyed_hash(&self.key, staged),
            Some(mut hasher) => *hasher.update(staged).finalize().as_bytes(),
        };
        self.len = 0;
        hash
    }

    /// Moves what is buffered into the streaming hasher, making it on first use.
    #[cold]
    fn spill(&mut self) {
        let key = &self.key;
        let hasher = self
            .overflow
            .get_or_insert_with(|| Box::new(blake3::Hasher::new_keyed(key)));
        hasher.update(&self.inline[..self.len]);
        self.len = 0;
    }
}

impl Sink for HashSink {
    // Inlined into the encoders (generic, so instantiated in the caller's crate): most writes are
    // a byte or a few, and a call per write cost more than the copy.
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        if self.len + bytes.len() > INLINE {
            self.spill();
            if bytes.len() > INLINE {
                self.overflow.as_mut().expect("spill made it").update(bytes);
                return;
            }
        }
        self.inline[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    #[inline]
    fn byte(&mut self, byte: u8) {
        if self.len == INLINE {
            self.spill();
        }
        self.inline[self.len] = byte;
        self.len += 1;
    }

    // The common short cases with one room check instead of one per byte: most of a key's input
    // is tags, short strings and small numbers.
    #[inline(always)]
    fn tagged_bytes(&mut self, tag: u8, bytes: &[u8]) {
        let (at, len) = (self.len, bytes.len());
        if len < 0x80 && at + 2 + len <= INLINE {
            self.inline[at] = tag;
            self.inline[at + 1] = len as u8;
            self.inline[at + 2..at + 2 + len].copy_from_slice(bytes);
            self.len = at + 2 + len;
        } else {
            self.byte(tag);
            self.bytes(bytes);
        }
    }

    // The tag and all eight bytes stored straight into the buffer (a fixed-size move, no `memcpy`
    // call), only `len` of them kept. Not through a nine-byte array on the stack: reading the
    // tag's byte and the word's back as one load stalled on store forwarding, a tenth of a hit.
    #[inline(always)]
    fn tagged_prefix(&mut self, tag: u8, bytes: [u8; 8], len: usize) {
        let at = self.len;
        if at + 1 + bytes.len() <= INLINE {
            self.inline[at] = tag;
            self.inline[at + 1..at + 1 + bytes.len()].copy_from_slice(&bytes);
            self.len = at + 1 + len;
        } else {
            self.byte(tag);
            self.put(&bytes[..len]);
        }
    }

    #[inline(always)]
    fn short_or_tagged(&mut self, short_tag: u8, long_tag: u8, bytes: &[u8]) {
        let (at, len) = (self.len, bytes.len());
        if len < SHORT && at + 1 + len <= INLINE {
            self.inline[at] = short_tag | len as u8;
            self.inline[at + 1..at + 1 + len].copy_from_slice(bytes);
            self.len = at + 1 + len;
        } else if len < SHORT {
            self.byte(short_tag | len as u8);
            self.put(bytes);
        } else {
            self.tagged_bytes(long_tag, bytes);
        }
    }

    #[inline(always)]
    fn tagged_varint(&mut self, tag: u8, n: u128) {
        let at = self.len;
        if n < 0x80 && at + 2 <= INLINE {
            self.inline[at] = tag;
            self.inline[at + 1] = n as u8;
            self.len = at + 2;
        } else {
            self.byte(tag);
            self.varint(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Short inputs take the one-shot path, long ones spill into a `Hasher` part way; both must be
    /// keyed BLAKE3 of the whole input, however it was cut into writes.
    #[test]
    fn the_digest_is_keyed_blake3_of_the_input_whatever_its_length() {
        let key = [7u8; 32];
        for len in [0, 1, 63, 64, 1023, 1024, 1025, 3000, 5000] {
            let input: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            for piece in [1, 3, 64, 700, 2048] {
                let mut sink = HashSink::new(&key);
                for chunk in input.chunks(piece) {
                    if chunk.len() == 1 {
                        sink.byte(chunk[0]);
                    } else {
                        sink.put(chunk);
                    }
                }
                let expected = *blake3::keyed_hash(&key, &input).as_bytes();
                assert_eq!(sink.finish(), expected, "{len} bytes in writes of {piece}");
            }
        }
    }
}
