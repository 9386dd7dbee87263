//! Invalidations that didn't reach the backplane (a publish failed, was skipped by the circuit
//! breaker, or was cancelled with its caller), owed to the next publish that does.
//!
//! Other processes may be subscribed and vouching all along (only this process' link was down,
//! or the backplane came back during the cool-down): without this they would keep what the lost
//! publishes named until `near_timeout`. The keys are carried by the next publish rather than an
//! "evict everything", so the other processes keep the rest of their near tier, fail-safe copies
//! included; only past [`MAX_OWED_BYTES`] of keys, or after a lost `clear()`, is everything owed.

use std::collections::HashSet;

use parking_lot::Mutex;

use crate::backplane::message::Invalidation;

/// Key bytes owed before the debt becomes "everything": one message stays small, whatever an
/// outage lasted.
const MAX_OWED_BYTES: usize = 64 * 1024;

/// What the next publish must carry besides its own keys.
#[derive(Debug, Default)]
enum Debt {
    #[default]
    Nothing,
    /// Each key once, however often it was written during the outage.
    Keys {
        keys: HashSet<String>,
        bytes: usize,
    },
    Everything,
}

#[derive(Debug, Default)]
pub(super) struct Owed {
    debt: Mutex<Debt>,
}

impl Owed {
    /// What to publish instead of `invalidation` when something is owed (`None`: nothing is, send
    /// it as it is). What is returned is no longer owed: [`Unsent`] owes it again if it isn't sent.
    pub(super) fn settle_with(&self, invalidation: &Invalidation) -> Option<Invalidation> {
        let debt = std::mem::take(&mut *self.debt.lock());
        match (debt, invalidation) {
            (Debt::Nothing, _) => None,
            (Debt::Everything, _) | (_, Invalidation::All) => Some(Invalidation::All),
            (Debt::Keys { mut keys, .. }, Invalidation::Keys(own)) => {
                keys.extend(own.iter().cloned());
                Some(Invalidation::Keys(keys.into_iter().collect()))
            }
        }
    }

    /// Owes `invalidation` to the next publish.
    pub(super) fn owe(&self, invalidation: &Invalidation) {
        // A failed `delete_many(&[])` named nothing: nothing to owe.
        if matches!(invalidation, Invalidation::Keys(keys) if keys.is_empty()) {
            return;
        }
        let mut debt = self.debt.lock();
        *debt = match (std::mem::take(&mut *debt), invalidation) {
            (Debt::Everything, _) | (_, Invalidation::All) => Debt::Everything,
            (Debt::Nothing, Invalidation::Keys(more)) => owe_keys(HashSet::new(), 0, more),
            (Debt::Keys { keys, bytes }, Invalidation::Keys(more)) => owe_keys(keys, bytes, more),
        };
    }
}

/// `keys` (of `bytes` in all) and `more`, each once; everything past [`MAX_OWED_BYTES`].
fn owe_keys(mut keys: HashSet<String>, mut bytes: usize, more: &[String]) -> Debt {
    for key in more {
        if !keys.contains(key) {
            bytes += key.len();
            if bytes > MAX_OWED_BYTES {
                return Debt::Everything;
            }
            keys.insert(key.clone());
        }
    }
    Debt::Keys { keys, bytes }
}

/// A message on its way: owed again when dropped before [`Unsent::sent`] (the publish failed,
/// or the caller's future was dropped while it waited: the message may or may not have gone).
pub(super) struct Unsent<'a> {
    pub(super) owed: &'a Owed,
    pub(super) message: Option<&'a Invalidation>,
}

impl Unsent<'_> {
    pub(super) fn sent(mut self) {
        self.message = None;
    }
}

impl Drop for Unsent<'_> {
    fn drop(&mut self) {
        if let Some(message) = self.message {
            self.owed.owe(message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(keys: &[&str]) -> Invalidation {
        Invalidation::Keys(keys.iter().map(|key| (*key).to_owned()).collect())
    }

    fn sorted(invalidation: Option<Invalidation>) -> Invalidation {
        match invalidation.expect("something owed") {
            Invalidation::Keys(mut keys) => {
                keys.sort();
                Invalidation::Keys(keys)
            }
            all => all,
        }
    }

    #[test]
    fn what_was_lost_rides_with_the_next_publish_once() {
        let owed = Owed::default();
        assert_eq!(owed.settle_with(&keys(&["a"])), None, "nothing owed: sent as it is");
        owed.owe(&keys(&["a"]));
        owed.owe(&keys(&["b", "a"]));
        owed.owe(&keys(&["a"]));
        assert_eq!(
            sorted(owed.settle_with(&keys(&["c"]))),
            keys(&["a", "b", "c"]),
            "each key once"
        );
        assert_eq!(owed.settle_with(&keys(&["d"])), None, "settled");
        // A key written a million times in an outage is owed once, not as a million.
        for _ in 0..1_000_000 {
            owed.owe(&keys(&["a"]));
        }
        assert_eq!(sorted(owed.settle_with(&keys(&["c"]))), keys(&["a", "c"]));
    }

    #[test]
    fn an_empty_key_list_owes_nothing() {
        let owed = Owed::default();
        owed.owe(&keys(&[]));
        assert_eq!(owed.settle_with(&keys(&["a"])), None);
    }

    #[test]
    fn a_lost_clear_or_too_many_keys_owe_everything() {
        let owed = Owed::default();
        owed.owe(&keys(&["a"]));
        owed.owe(&Invalidation::All);
        owed.owe(&keys(&["b"]));
        assert_eq!(owed.settle_with(&keys(&["c"])), Some(Invalidation::All));
        let long = "k".repeat(1000);
        for n in 0..=MAX_OWED_BYTES / 1000 {
            owed.owe(&Invalidation::Keys(vec![format!("{n}{long}")]));
        }
        assert_eq!(owed.settle_with(&keys(&["c"])), Some(Invalidation::All));
        // A clear being sent settles key debts too.
        owed.owe(&keys(&["a"]));
        assert_eq!(owed.settle_with(&Invalidation::All), Some(Invalidation::All));
    }

    #[test]
    fn a_message_dropped_before_it_was_sent_is_owed_again() {
        let owed = Owed::default();
        let message = keys(&["a"]);
        drop(Unsent {
            owed: &owed,
            message: Some(&message),
        });
        Unsent {
            owed: &owed,
            message: Some(&keys(&["b"])),
        }
        .sent();
        assert_eq!(sorted(owed.settle_with(&keys(&["c"]))), keys(&["a", "c"]));
    }
}
