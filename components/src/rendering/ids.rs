//! Instance ids: `c` + six characters of `[0-9A-Za-z]`, new for every instance of every render.

use std::cell::Cell;
use std::hash::{BuildHasher, RandomState};

use arrayvec::ArrayString;

use crate::rendering::output::InstanceId;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// 62^6: how many distinct ids there are.
const SPACE: u64 = 56_800_235_584;

/// The ids of one page. Ids walk the id space from a random start by a random step that shares
/// no factor with its size, so the ids of one page never repeat (no set to check against) while
/// another page's — or another process's — start somewhere unrelated.
///
/// Ids tell instances apart for CSS, scripts and tests; they are not secrets. The pages one thread
/// renders come from one splitmix64 sequence, which someone who sees a page's ids could work
/// out, so nothing should rely on an id being unguessable (django-components' ids aren't either).
pub(crate) struct IdSequence {
    next: u64,
    step: u64,
}

impl IdSequence {
    pub(crate) fn new() -> Self {
        // Each page takes the next value of its thread's splitmix64 sequence, which starts from
        // `RandomState`'s OS-seeded keys: pages on one thread never share 64 random bits,
        // threads and processes start apart, and it costs no dependency (a SipHash per page cost
        // a tenth of a cache hit). The step is the same bits remixed once more, so it is unrelated
        // to the start.
        let random = PAGE_SEQUENCE.with(|state| {
            let next = state.get().wrapping_add(GOLDEN_GAMMA);
            state.set(next);
            remix(next)
        });
        let start = random % SPACE;
        // 62^6 = 2^6 * 31^6: an odd step not divisible by 31 is coprime with it.
        let mut step = (remix(random) % SPACE) | 1;
        if step.is_multiple_of(31) {
            step += 2;
        }
        IdSequence { next: start, step }
    }

    /// `seed`, `seed + 1`, … (modulo the id space): the same ids on every run.
    pub(crate) fn counting_from(seed: u64) -> Self {
        IdSequence {
            next: seed % SPACE,
            step: 1,
        }
    }

    pub(crate) fn next_id(&mut self) -> InstanceId {
        let mut n = self.next;
        self.next = (self.next + self.step) % SPACE;
        let mut digits = [0u8; 6];
        for slot in digits.iter_mut().rev() {
            *slot = ALPHABET[(n % 62) as usize];
            n /= 62;
        }
        let mut id = ArrayString::new();
        id.push('c');
        // ALPHABET is ASCII, so each byte is a char.
        digits.iter().for_each(|&digit| id.push(char::from(digit)));
        InstanceId(id)
    }
}

thread_local! {
    /// This thread's splitmix64 state.
    static PAGE_SEQUENCE: Cell<u64> = Cell::new(RandomState::new().hash_one(0x5eed_u64));
}

/// splitmix64's increment: odd, so the state visits every 64-bit value before repeating.
const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// splitmix64's output function: a bijection on 64 bits that spreads every input bit over the
/// output.
fn remix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_have_the_django_components_shape_and_never_repeat_within_a_page() {
        let mut ids = IdSequence::new();
        let mut seen = HashSet::new();
        for _ in 0..100_000 {
            let id = ids.next_id();
            let text = id.as_str();
            assert_eq!(text.len(), 7);
            assert!(text.starts_with('c'));
            assert!(text[1..].bytes().all(|b| b.is_ascii_alphanumeric()));
            assert!(seen.insert(id), "{text} repeated");
        }
    }

    #[test]
    fn pages_start_in_different_places() {
        let firsts: HashSet<_> = (0..50).map(|_| IdSequence::new().next_id()).collect();
        assert!(firsts.len() > 45);
    }
}
