//! Output cache keys: `components:cache:<class id>:<digest>`.
//!
//! The digest is keyed BLAKE3 over a self-delimiting encoding of every input, streamed into the
//! hasher as it is produced, so the encoding of one input can never run into the next
//! (django-components md5s `class_id + ":" + args + ":" + kwargs`, where a `:` or `,` inside a
//! value shifts the boundaries). Each thread remembers its latest digests with their whole input
//! (`memo.rs`), so props hashed before are compared, not hashed again.

pub(crate) mod arguments;
pub(crate) mod call;
mod memo;
pub(crate) mod sink;
pub(crate) mod typed;

use std::cell::RefCell;

use arrayvec::ArrayString;

use sink::{HashSink, Sink};

/// What keys start with; the same prefix django-components uses.
pub const KEY_PREFIX: &str = "components:cache:";

/// Bytes of the digest shown in a key: 128 bits, 32 hex characters.
const KEY_DIGEST_BYTES: usize = 16;

/// A BLAKE3 digest of a component call.
pub(crate) type Digest = [u8; 32];

/// Versions the encoding: a change to it must change every key rather than reinterpret old entries.
const DOMAIN: &[u8] = b"components/output-cache/v4";

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

thread_local! {
    /// Each thread's reused input. It holds a 1 KiB buffer: making one per digest (zeroing it,
    /// then moving it into place) cost about as much as hashing a small set of props.
    static REUSED: RefCell<DigestInput> = const { RefCell::new(DigestInput { sink: HashSink::EMPTY }) };
}

/// Runs `digest` with an input started for `class_key` and `source`: the thread's reused one, or
/// a new one when a digest is already being computed on this thread (a slot's child is digested
/// inside its parent's) or the thread is shutting down.
pub(crate) fn with_input<R>(class_key: &Digest, source: KeySource, digest: impl FnOnce(&mut DigestInput) -> R) -> R {
    let mut digest = Some(digest);
    let reused = REUSED.try_with(|reused| {
        let mut input = reused.try_borrow_mut().ok()?;
        input.restart(class_key, source);
        Some((digest.take().expect("called once"))(&mut input))
    });
    match reused {
        Ok(Some(result)) => result,
        _ => (digest.take().expect("called once"))(&mut DigestInput::new(class_key, source)),
    }
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
pub(crate) fn output_key(class_id: &str, digest: &Digest) -> OutputKey {
    let mut hex = [0u8; 2 * KEY_DIGEST_BYTES];
    for (pair, byte) in hex.chunks_exact_mut(2).zip(&digest[..KEY_DIGEST_BYTES]) {
        pair[0] = HEX[usize::from(byte >> 4)];
        pair[1] = HEX[usize::from(byte & 0xf)];
    }
    let hex = std::str::from_utf8(&hex).expect("hex digits are ASCII");
    let parts = [KEY_PREFIX, class_id, ":", hex];
    let mut inline = ArrayString::new();
    if parts.iter().try_for_each(|part| inline.try_push_str(part)).is_ok() {
        return OutputKey::Inline(inline);
    }
    OutputKey::Heap(parts.concat())
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// An output cache key, on the stack when it fits (almost always: the prefix, a class id, 32 hex
/// digits), so a hit allocates nothing for it.
pub(crate) enum OutputKey {
    Inline(ArrayString<INLINE_KEY>),
    Heap(String),
}

/// Room for a class id of up to 78 bytes.
const INLINE_KEY: usize = 128;

impl std::ops::Deref for OutputKey {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            OutputKey::Inline(key) => key,
            OutputKey::Heap(key) => key,
        }
    }
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
        assert_eq!(&*key, format!("components:cache:Card_abc123:{}", "ab".repeat(16)));
        let long = "C".repeat(200);
        let key = output_key(&long, &[0x01; 32]);
        assert!(matches!(key, OutputKey::Heap(_)));
        assert_eq!(&*key, format!("components:cache:{long}:{}", "01".repeat(16)));
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
