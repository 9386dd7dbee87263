//! [`LocalPeers`]: the tiered aliases of this process that name the same channel, which evict one
//! another's near copies inside the writer's call.
//!
//! The backplane tells other processes within milliseconds, but a second alias in the same process
//! over the same far store (another version, another key function) would otherwise still read
//! its old near copy right after the write returned — and without a backplane, until
//! `near_timeout`. Only aliases that name a channel (`backplane_channel`) join: the default
//! channel, `cache-tiered:<alias>`, is an alias name that another `Caches` in this process, over
//! another store, may use as well.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Weak};

use parking_lot::Mutex;

use crate::backplane::message::Invalidation;
use crate::state::Shared;
use crate::stats::bump;

/// Every channel's members in this process. Looked up only when a backend is built; a channel
/// stays listed (its id and an empty list) after its last backend is gone.
static CHANNELS: LazyLock<Mutex<HashMap<String, Arc<LocalPeers>>>> = LazyLock::new(Mutex::default);

/// The tiered aliases of this process on one named channel.
pub(crate) struct LocalPeers {
    /// The instance id every member sends backplane messages under. Members have told each
    /// other at once, so each skips the others' messages as its own.
    instance: u64,
    members: Mutex<Vec<Weak<Shared>>>,
}

impl LocalPeers {
    /// The members of `channel` in this process, made on first use with a fresh instance id.
    pub(crate) fn of(channel: &str, new_instance: impl FnOnce() -> u64) -> Arc<LocalPeers> {
        let mut channels = CHANNELS.lock();
        let peers = channels.entry(channel.to_owned()).or_insert_with(|| {
            Arc::new(LocalPeers {
                instance: new_instance(),
                members: Mutex::default(),
            })
        });
        Arc::clone(peers)
    }

    /// The instance id the channel's members share.
    pub(crate) fn instance(&self) -> u64 {
        self.instance
    }

    /// Adds `shared` to the members, dropping members whose backends are gone.
    pub(crate) fn join(&self, shared: &Arc<Shared>) {
        let mut members = self.members.lock();
        members.retain(|member| member.strong_count() > 0);
        members.push(Arc::downgrade(shared));
    }

    /// Applies `invalidation` to every other live member's near tier, now, and forgets members
    /// whose backends are gone.
    pub(crate) fn tell(&self, sender: &Shared, invalidation: &Invalidation) {
        let mut members = self.members.lock();
        // The common case, one alias on its own channel: nothing to tell.
        if members.len() < 2 {
            return;
        }
        members.retain(|member| member.strong_count() > 0);
        for peer in members.iter().filter_map(Weak::upgrade) {
            if std::ptr::eq(Arc::as_ptr(&peer), sender) {
                continue;
            }
            peer.forget(invalidation);
            bump(&peer.counters.invalidations_received);
        }
    }
}
