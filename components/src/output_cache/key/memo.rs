//! Digests remembered per thread by their exact input, so a hit on props seen before skips BLAKE3.
//!
//! A cache hit is by definition a render of props rendered before, and hashing them was the
//! largest single part of one: BLAKE3 over a 20-item list's 313 bytes took a fifth of the hit's
//! time (five 64-byte blocks, one after another). Here each thread keeps the last digests it
//! computed, each with its whole input and key; a digest is reused only when both are equal byte
//! for byte, so the key stays BLAKE3 of the input, exactly as collision-resistant. Looking up
//! costs one foldhash of the input and one comparison; a miss adds a copy of the input.
//!
//! Bounded: [`SLOTS`] entries of at most [`MAX_INPUT`] bytes each, 64 KiB a thread at most (a
//! longer input streams through BLAKE3's `Hasher` and isn't remembered). A direct-mapped table:
//! an input takes the slot its hash names, so finding one is one comparison and a slot in use by
//! another input is simply overwritten.

use std::cell::RefCell;
use std::hash::BuildHasher;

/// Slots in a thread's table; a power of two, so a slot is the top bits of a hash.
const SLOTS: usize = 64;

/// The longest input remembered, the same as the sink's one-shot buffer.
pub(crate) const MAX_INPUT: usize = 1024;

/// One remembered digest: keyed BLAKE3 of `input` under `key`.
struct Slot {
    key: [u8; 32],
    /// Empty when the slot was never used (a digest input always has at least its source byte,
    /// and an empty one is hashed, not looked up).
    input: Vec<u8>,
    digest: [u8; 32],
}

thread_local! {
    /// Empty until the thread's first digest, so a thread that never renders allocates nothing.
    static MEMO: RefCell<Vec<Slot>> = const { RefCell::new(Vec::new()) };
}

/// Keyed BLAKE3 of `input` under `key`: remembered when this thread computed it lately.
pub(crate) fn keyed_hash(key: &[u8; 32], input: &[u8]) -> [u8; 32] {
    let hash = || *blake3::keyed_hash(key, input).as_bytes();
    if input.is_empty() || input.len() > MAX_INPUT {
        return hash();
    }
    // `try_with`: a thread being torn down (a render in a thread-local's destructor) just hashes;
    // `try_borrow_mut`: so does a digest computed inside another's (never, today).
    MEMO.try_with(|memo| match memo.try_borrow_mut() {
        Ok(mut memo) => remembered(&mut memo, key, input),
        Err(_) => hash(),
    })
    .unwrap_or_else(|_| hash())
}

fn remembered(memo: &mut Vec<Slot>, key: &[u8; 32], input: &[u8]) -> [u8; 32] {
    if memo.is_empty() {
        memo.resize_with(SLOTS, || Slot {
            key: [0; 32],
            input: Vec::new(),
            digest: [0; 32],
        });
    }
    let slot = &mut memo[slot_of(key, input)];
    if slot.input == input && slot.key == *key {
        return slot.digest;
    }
    let digest = *blake3::keyed_hash(key, input).as_bytes();
    slot.key = *key;
    slot.input.clear();
    // Exactly: growing by doubling would let a slot hold 2 KiB for a 1 KiB input.
    slot.input.reserve_exact(input.len());
    slot.input.extend_from_slice(input);
    slot.digest = digest;
    digest
}

/// The slot an input lives in: foldhash of the whole input, mixed with the key's first word so
/// the same props given to two components land in different slots. Sampling a few of the input's
/// words instead saved 160 instructions a lookup, but typed props all start alike (source byte,
/// struct tag, first field's name) and props that differ in one short field landed in one slot.
/// The seed is fixed: the index only spreads inputs over the table (one found in its slot is
/// still compared in full), so nothing depends on it being secret.
#[inline]
fn slot_of(key: &[u8; 32], input: &[u8]) -> usize {
    let hash = foldhash::fast::FixedState::with_seed(0).hash_one(input);
    let mut class = [0; 8];
    class.copy_from_slice(&key[..8]);
    ((hash ^ u64::from_le_bytes(class)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SLOTS.trailing_zeros())) as usize
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever the inputs, their order and their repeats, and however they collide in the
        /// table, every answer is keyed BLAKE3 of its own input under its own key.
        #[test]
        fn every_digest_is_keyed_blake3_of_its_own_input(
            inputs in proptest::collection::vec(
                (0u8..3, proptest::collection::vec(any::<u8>(), 0..80)),
                1..400,
            ),
            repeats in proptest::collection::vec(any::<prop::sample::Index>(), 0..400),
        ) {
            let keys = [[1u8; 32], [2u8; 32], *blake3::hash(b"k").as_bytes()];
            let check = |(key, input): &(u8, Vec<u8>)| {
                let key = &keys[usize::from(*key)];
                prop_assert_eq!(keyed_hash(key, input), *blake3::keyed_hash(key, input).as_bytes());
                Ok(())
            };
            for input in &inputs {
                check(input)?;
            }
            for index in &repeats {
                check(index.get(&inputs))?;
            }
        }
    }

    /// Typed props start alike (source byte, struct tag, the first field's name); props that
    /// differ in one short field must still spread over the table, or they evict each other.
    #[test]
    fn props_that_differ_in_one_short_field_spread_over_the_table() {
        let key = *blake3::hash(b"class").as_bytes();
        let slots: std::collections::HashSet<usize> = (0..32)
            .map(|n| {
                let mut input = b"T(.\x05title".to_vec();
                input.push(0x80 | 8);
                input.extend_from_slice(format!("shoes {n:02}").as_bytes());
                input.extend_from_slice(&[b'['; 300]);
                slot_of(&key, &input)
            })
            .collect();
        assert!(slots.len() >= 16, "32 inputs in {} slots", slots.len());
    }

    #[test]
    fn inputs_that_differ_only_in_their_key_or_last_byte_are_told_apart() {
        let input = vec![7u8; 313];
        let mut other = input.clone();
        *other.last_mut().unwrap() = 8;
        let (a, b) = ([1u8; 32], [2u8; 32]);
        for _ in 0..2 {
            assert_eq!(keyed_hash(&a, &input), *blake3::keyed_hash(&a, &input).as_bytes());
            assert_eq!(keyed_hash(&b, &input), *blake3::keyed_hash(&b, &input).as_bytes());
            assert_eq!(keyed_hash(&a, &other), *blake3::keyed_hash(&a, &other).as_bytes());
        }
        // Longer than the table remembers: hashed every time, still right.
        let long = vec![3u8; MAX_INPUT + 1];
        assert_eq!(keyed_hash(&a, &long), *blake3::keyed_hash(&a, &long).as_bytes());
    }
}
