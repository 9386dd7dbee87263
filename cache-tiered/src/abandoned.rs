//! Writes whose caller stops waiting while the far tier has them: a request timeout drops the
//! handler's future, or a `select!` takes another branch.
//!
//! The far write may land all the same (the server had the command; a hung server applies it when
//! it resumes), but the code after it, which evicts the near copy and publishes the keys, never
//! runs. Other processes would then serve their near copy until `near_timeout`, and so would this
//! one. So every write arms a [`WriteUnderway`] before the far call and disarms it when the call
//! returns; dropped armed, it does what the write's end would have done with a far error that
//! may have landed: evicts the keys near and tells this process' other aliases on the channel, at
//! once, and publishes them from a task of its own, twice: at once, and again when a read of the
//! far tier behind the write answers (see `TieredBackend::abandoned`).

use bytes::Bytes;

use crate::backend::TieredBackend;
use crate::backplane::message::Invalidation;
use crate::stats::bump;

/// What a write changes, borrowed from its arguments, made into the [`Invalidation`] that tells
/// others only when one is sent: a guard whose write returns allocates nothing.
pub(crate) enum Named<'a> {
    Key(&'a str),
    Keys(&'a [&'a str]),
    Items(&'a [(&'a str, Bytes)]),
    All,
}

impl Named<'_> {
    pub(crate) fn invalidation(&self) -> Invalidation {
        match self {
            Named::Key(key) => Invalidation::Keys(vec![(*key).to_owned()]),
            Named::Keys(keys) => Invalidation::Keys(keys.iter().map(|key| (*key).to_owned()).collect()),
            Named::Items(items) => Invalidation::Keys(items.iter().map(|(key, _)| (*key).to_owned()).collect()),
            Named::All => Invalidation::All,
        }
    }
}

/// A far write under way; see the module docs.
#[must_use = "a guard dropped at once protects nothing"]
pub(crate) struct WriteUnderway<'a> {
    backend: &'a TieredBackend,
    /// `None` once the far call returned.
    named: Option<Named<'a>>,
}

impl<'a> WriteUnderway<'a> {
    pub(crate) fn new(backend: &'a TieredBackend, named: Named<'a>) -> Self {
        WriteUnderway {
            backend,
            named: Some(named),
        }
    }

    /// The far call returned: the write's own code evicts and publishes from here on.
    pub(crate) fn returned(mut self) {
        self.named = None;
    }
}

impl Drop for WriteUnderway<'_> {
    fn drop(&mut self) {
        let Some(named) = self.named.take() else {
            return;
        };
        let shared = &self.backend.inner.shared;
        bump(&shared.counters.abandoned_writes);
        let invalidation = named.invalidation();
        // Also stops a read of the far tier under way from filling what it read before the write.
        shared.forget(&invalidation);
        self.backend.abandoned(invalidation);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use cache_core::{CacheBackend, Remaining};

    use super::*;

    /// Dropped where no runtime runs (its future was polled by another executor): the keys leave
    /// the near tier at once, a read of the far tier under way can no longer fill them, and they
    /// are owed to the backplane's next publish.
    #[test]
    fn without_a_runtime_the_keys_are_evicted_and_owed() {
        let far: Arc<dyn CacheBackend> = Arc::new(cache_locmem::LocMemBackend::builder().build());
        let backend = TieredBackend::builder(far)
            .backplane("redis://127.0.0.1:1")
            .build()
            .unwrap();
        let shared = &backend.inner.shared;
        backend.fill("k", b"old", backend.ticket("k"), Remaining::Unknown);
        assert!(shared.near.get("k").is_some());
        let read_under_way = backend.ticket("j");

        let keys = ["k", "j"];
        drop(WriteUnderway::new(&backend, Named::Keys(&keys)));
        assert!(shared.near.get("k").is_none());
        assert!(!shared.coherence.still_valid(read_under_way));
        assert_eq!(backend.stats().abandoned_writes, 1);
        let Some(Invalidation::Keys(mut owed)) = backend.inner.backplane.as_ref().unwrap().take_owed() else {
            panic!("the keys are owed");
        };
        owed.sort();
        assert_eq!(owed, ["j", "k"]);

        // A write that returned owes nothing.
        WriteUnderway::new(&backend, Named::Key("k")).returned();
        assert_eq!(backend.stats().abandoned_writes, 1);
        assert!(backend.inner.backplane.as_ref().unwrap().take_owed().is_none());
    }
}
