//! Where a key's input goes: straight into the digest, through a small staging buffer (BLAKE3
//! costs per call, and an encoder writes a few bytes at a time), or into a byte vector when a
//! map's entries must be sorted before they are hashed.

/// Something an encoder writes bytes to.
pub(crate) trait Sink {
    fn put(&mut self, bytes: &[u8]);

    #[inline]
    fn byte(&mut self, byte: u8) {
        self.put(&[byte]);
    }

    /// A length or count, LEB128: one byte below 128, so short strings cost one byte of prefix.
    #[inline]
    fn varint(&mut self, mut n: u128) {
        if n < 0x80 {
            return self.byte(n as u8);
        }
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
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }

    fn byte(&mut self, byte: u8) {
        self.push(byte);
    }
}

/// Bytes staged before a BLAKE3 update: a few of its 64-byte blocks, so updates are few while the
/// sink stays small to build.
const STAGE: usize = 256;

/// Keyed BLAKE3, fed through a fixed staging buffer: no document of the input is ever built.
pub(crate) struct HashSink {
    hasher: blake3::Hasher,
    stage: [u8; STAGE],
    staged: usize,
}

impl HashSink {
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        HashSink {
            hasher: blake3::Hasher::new_keyed(key),
            stage: [0; STAGE],
            staged: 0,
        }
    }

    /// Starts again with `key`, in place.
    pub(crate) fn restart(&mut self, key: &[u8; 32]) {
        self.hasher = blake3::Hasher::new_keyed(key);
        self.staged = 0;
    }

    pub(crate) fn finish(&mut self) -> [u8; 32] {
        self.hasher.update(&self.stage[..self.staged]);
        self.staged = 0;
        *self.hasher.finalize().as_bytes()
    }
}

impl Sink for HashSink {
    // Inlined into the encoders (generic, so instantiated in the caller's crate): most writes are
    // a byte or a few, and a call per write cost more than the copy.
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        if self.staged + bytes.len() > STAGE {
            self.hasher.update(&self.stage[..self.staged]);
            self.staged = 0;
            if bytes.len() > STAGE {
                self.hasher.update(bytes);
                return;
            }
        }
        self.stage[self.staged..self.staged + bytes.len()].copy_from_slice(bytes);
        self.staged += bytes.len();
    }

    #[inline]
    fn byte(&mut self, byte: u8) {
        if self.staged == STAGE {
            self.hasher.update(&self.stage);
            self.staged = 0;
        }
        self.stage[self.staged] = byte;
        self.staged += 1;
    }
}
