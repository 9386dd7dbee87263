//! What travels on the backplane: which process wrote, and which keys (or every key) to evict.
//!
//! Binary and length-prefixed, so any key (spaces, newlines, any byte a lenient backend accepts)
//! travels intact: `T 1`, the sender's instance id (`u64`), `k` + a count + (length, key)… or `c`.

use bytes::{BufMut, Bytes, BytesMut};

const MAGIC: [u8; 2] = *b"T1";

/// A decoded backplane message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Invalidation {
    /// Evict these keys.
    Keys(Vec<String>),
    /// Evict everything (a `clear()`).
    All,
}

/// Encodes `invalidation` as sent by `instance`.
pub(crate) fn encode(instance: u64, invalidation: &Invalidation) -> Bytes {
    let mut bytes = BytesMut::with_capacity(16);
    bytes.put_slice(&MAGIC);
    bytes.put_u64(instance);
    match invalidation {
        Invalidation::All => bytes.put_u8(b'c'),
        Invalidation::Keys(keys) => {
            bytes.put_u8(b'k');
            bytes.put_u32(u32::try_from(keys.len()).unwrap_or(u32::MAX));
            for key in keys {
                bytes.put_u32(u32::try_from(key.len()).unwrap_or(u32::MAX));
                bytes.put_slice(key.as_bytes());
            }
        }
    }
    bytes.freeze()
}

/// The sender and what to evict; `None` for bytes this module didn't write (the caller then
/// evicts everything, since it can't tell what was meant).
pub(crate) fn decode(mut bytes: &[u8]) -> Option<(u64, Invalidation)> {
    fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        if bytes.len() < n {
            return None;
        }
        let (head, rest) = bytes.split_at(n);
        *bytes = rest;
        Some(head)
    }
    fn u32_of(bytes: &mut &[u8]) -> Option<usize> {
        let word = take(bytes, 4)?;
        Some(u32::from_be_bytes([word[0], word[1], word[2], word[3]]) as usize)
    }
    if take(&mut bytes, 2)? != MAGIC {
        return None;
    }
    let mut instance = [0; 8];
    instance.copy_from_slice(take(&mut bytes, 8)?);
    let instance = u64::from_be_bytes(instance);
    match take(&mut bytes, 1)?[0] {
        b'c' if bytes.is_empty() => Some((instance, Invalidation::All)),
        b'k' => {
            let count = u32_of(&mut bytes)?;
            // Each key takes at least its 4-byte length: a count larger than that is a lie.
            let mut keys = Vec::with_capacity(count.min(bytes.len() / 4));
            for _ in 0..count {
                let length = u32_of(&mut bytes)?;
                keys.push(std::str::from_utf8(take(&mut bytes, length)?).ok()?.to_owned());
            }
            bytes.is_empty().then_some((instance, Invalidation::Keys(keys)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Messages come off the network: whatever arrives decodes to a message or is refused,
        /// never a panic — also after a well-formed header, which random bytes rarely get past.
        #[test]
        fn any_bytes_decode_or_are_refused(
            instance in any::<u64>(),
            kind in prop::sample::select(vec![b'k', b'c', b'x']),
            tail in prop::collection::vec(any::<u8>(), 0..80),
        ) {
            let _ = decode(&tail);
            let mut message = MAGIC.to_vec();
            message.extend_from_slice(&instance.to_be_bytes());
            message.push(kind);
            message.extend_from_slice(&tail);
            if let Some((sender, _)) = decode(&message) {
                prop_assert_eq!(sender, instance);
            }
        }

        #[test]
        fn any_keys_round_trip(instance in any::<u64>(), keys in prop::collection::vec(".{0,20}", 0..6)) {
            let keys = Invalidation::Keys(keys);
            prop_assert_eq!(decode(&encode(instance, &keys)), Some((instance, keys)));
        }
    }

    #[test]
    fn messages_round_trip_with_any_key() {
        let keys = Invalidation::Keys(vec![":1:a key\nwith newline".into(), String::new(), "é".into()]);
        assert_eq!(decode(&encode(42, &keys)), Some((42, keys)));
        assert_eq!(
            decode(&encode(u64::MAX, &Invalidation::All)),
            Some((u64::MAX, Invalidation::All))
        );
    }

    #[test]
    fn anything_else_is_refused() {
        let good = encode(1, &Invalidation::Keys(vec!["abc".into()]));
        for cut in 0..good.len() {
            assert_eq!(decode(&good[..cut]), None, "cut at {cut}");
        }
        assert_eq!(decode(b"hello"), None);
        let mut trailing = good.to_vec();
        trailing.push(0);
        assert_eq!(decode(&trailing), None);
        let mut huge_count = encode(1, &Invalidation::Keys(Vec::new())).to_vec();
        huge_count[11..15].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(decode(&huge_count), None);
    }
}
