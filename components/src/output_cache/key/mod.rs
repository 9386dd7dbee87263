//! Output cache keys: `components:cache:<class id>:<digest>`.
//!
//! The digest is keyed BLAKE3 over a self-delimiting encoding of every input, streamed into the
//! hasher as it is produced, so the encoding of one input can never run into the next
//! (django-components md5s `class_id + ":" + args + ":" + kwargs`, where a `:` or `,` inside a
//! value shifts the boundaries).

pub(crate) mod arguments;
pub(crate) mod sink;
pub(crate) mod typed;

use sink::{HashSink, Sink};

/// What keys start with; the same prefix django-components uses.
pub const KEY_PREFIX: &str = "components:cache:";

/// Bytes of the digest shown in a key: 128 bits, 32 hex characters.
const KEY_DIGEST_BYTES: usize = 16;

/// A BLAKE3 digest of a component call.
pub(crate) type Digest = [u8; 32];

/// Versions the encoding: a change to it must change every key rather than reinterpret old entries.
const DOMAIN: &[u8] = b"components/output-cache/v3";

/// What the props part of a digest was computed from; the first byte of the input, so keys
/// computed from different forms never meet.
#[derive(Debug, Clone, Copy)]
pub(crate) enum KeySource {
    /// A template call's arguments, as given.
    Arguments = b'A' as isize,
    /// Typed props, or the component's own key ([`crate::Component::cache_key`]).
    Typed = b'T' as isize,
}

/// The key a component class's digests are computed with: BLAKE3 of its class id and code
/// fingerprint, length-prefixed. Computed once at registration, so a render only hashes its props
/// (and slots) — keyed BLAKE3 of them under this key — instead of the class's constant fields too.
pub(crate) fn class_key(class_id: &str, fingerprint: &Digest) -> Digest {
    let mut hasher = blake3::Hasher::new();
    for part in [DOMAIN, class_id.as_bytes(), fingerprint.as_slice()] {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    *hasher.finalize().as_bytes()
}

/// One render's identity, fed field by field.
pub(crate) struct DigestInput {
    pub(crate) sink: HashSink,
}

impl DigestInput {
    /// Starts a digest for one component class (see [`class_key`]) whose props come from `source`.
    pub(crate) fn new(class_key: &Digest, source: KeySource) -> Self {
        let mut sink = HashSink::new(class_key);
        sink.byte(source as u8);
        DigestInput { sink }
    }

    /// Starts again, as [`DigestInput::new`], in place.
    pub(crate) fn restart(&mut self, class_key: &Digest, source: KeySource) {
        self.sink.restart(class_key);
        self.sink.byte(source as u8);
    }

    /// Adds one length-prefixed field.
    pub(crate) fn field(&mut self, bytes: &[u8]) {
        self.sink.bytes(bytes);
    }

    /// Adds a count (of slots) so a list's end is never ambiguous.
    pub(crate) fn count(&mut self, n: usize) {
        self.sink.varint(n as u128);
    }

    /// Adds a one-byte tag (whether slots follow).
    pub(crate) fn tag(&mut self, tag: u8) {
        self.sink.byte(tag);
    }

    pub(crate) fn finish(&mut self) -> Digest {
        self.sink.finish()
    }
}

/// The cache key of a render of `class_id` with this digest.
pub(crate) fn output_key(class_id: &str, digest: &Digest) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut key = String::with_capacity(KEY_PREFIX.len() + class_id.len() + 1 + 2 * KEY_DIGEST_BYTES);
    key.push_str(KEY_PREFIX);
    key.push_str(class_id);
    key.push(':');
    for byte in &digest[..KEY_DIGEST_BYTES] {
        key.push(HEX[usize::from(byte >> 4)] as char);
        key.push(HEX[usize::from(byte & 0xf)] as char);
    }
    key
}

/// The fingerprint of a component's code: its template source (or, for a render function, the
/// version string its author bumps) and its `code_version`, so a deploy that changes them stops
/// reading entries rendered by the old code.
pub(crate) fn fingerprint(kind: &str, source: &str, code_version: &str) -> Digest {
    let mut hasher = blake3::Hasher::new();
    for part in [kind, source, code_version] {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    *hasher.finalize().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_the_documented_shape() {
        let key = output_key("Card_abc123", &[0xab; 32]);
        assert_eq!(key, format!("components:cache:Card_abc123:{}", "ab".repeat(16)));
    }

    #[test]
    fn length_prefixes_keep_field_boundaries() {
        let key = class_key("C_000000", &fingerprint("template", "x", ""));
        let digest = |fields: &[&[u8]]| {
            let mut input = DigestInput::new(&key, KeySource::Typed);
            for field in fields {
                input.field(field);
            }
            input.finish()
        };
        assert_ne!(digest(&[b"ab", b"c"]), digest(&[b"a", b"bc"]));
        assert_ne!(digest(&[b"abc"]), digest(&[b"abc", b""]));
        assert_ne!(fingerprint("template", "ab", "c"), fingerprint("template", "a", "bc"));
        let fp = fingerprint("template", "x", "");
        assert_ne!(
            class_key("Ab_1", &fp),
            class_key("A", &fingerprint("template", "b_1x", ""))
        );
    }
}
