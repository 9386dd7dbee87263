//! Django's cull: when a write finds `max_entries` cache files or more, it first removes
//! `files / cull_frequency` of them chosen at random (every one when `cull_frequency` is 0).
//!
//! Random, not least recently used: the files carry no recency, and Django's
//! `random.sample` is what its own `FileBasedCacheTests.test_cull` counts against.

use std::collections::hash_map::RandomState;
use std::ffi::OsString;
use std::hash::BuildHasher;

/// The files a cull removes out of `files` (in any order), or `None` when there is room.
pub(crate) fn choose(files: Vec<OsString>, max_entries: u64, cull_frequency: u64) -> Option<Vec<OsString>> {
    let count = files.len() as u64;
    if count < max_entries {
        return None;
    }
    if cull_frequency == 0 {
        return Some(files);
    }
    let remove = usize::try_from(count / cull_frequency).unwrap_or(usize::MAX);
    Some(sample(files, remove))
}

/// `amount` entries of `items` chosen uniformly at random (a partial Fisher–Yates shuffle).
fn sample<T>(mut items: Vec<T>, amount: usize) -> Vec<T> {
    let amount = amount.min(items.len());
    let mut random = Random::new();
    for i in 0..amount {
        let j = i + random.below(items.len() - i);
        items.swap(i, j);
    }
    items.truncate(amount);
    items
}

/// xorshift64*, seeded from the process' random hash keys: a cull needs a fair sample, not
/// secrecy, and this saves a dependency.
struct Random(u64);

impl Random {
    fn new() -> Self {
        Random(RandomState::new().hash_one(0u64) | 1)
    }

    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let word = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        // Multiply-shift: close enough to uniform for bounds far below 2^64.
        ((u128::from(word) * bound as u128) >> 64) as usize
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn files(count: usize) -> Vec<OsString> {
        (0..count).map(|i| OsString::from(format!("{i}.djcache"))).collect()
    }

    #[test]
    fn djangos_counts() {
        assert_eq!(choose(files(29), 30, 3), None);
        assert_eq!(choose(files(30), 30, 3).unwrap().len(), 10);
        assert_eq!(choose(files(31), 30, 0).unwrap().len(), 31);
        assert_eq!(
            choose(files(0), 0, 3).unwrap().len(),
            0,
            "test_cull_delete_when_store_empty"
        );
        assert_eq!(choose(files(2), 0, 3).unwrap().len(), 0);
        assert_eq!(choose(files(10), 10, 1).unwrap().len(), 10);
    }

    #[test]
    fn a_sample_is_distinct_and_varies() {
        let chosen = choose(files(300), 300, 3).unwrap();
        assert_eq!(chosen.iter().collect::<HashSet<_>>().len(), 100);
        let mut seen = HashSet::new();
        for _ in 0..20 {
            seen.insert(choose(files(300), 300, 100).unwrap());
        }
        assert!(seen.len() > 1, "twenty culls all picked the same files");
    }
}
