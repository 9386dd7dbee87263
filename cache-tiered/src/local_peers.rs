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
/// stays listed (a name and an empty list) after its last backend is gone.
static CHANNELS: LazyLock<Mutex<HashMap<String, Arc<Members>>>> = LazyLock::new(Mutex::default);

type Members = Mutex<Vec<Weak<Shared>>>;

/// One backend's place among its channel's members.
pub(crate) struct LocalPeers {
    members: Arc<Members>,
}

impl LocalPeers {
    /// Adds `shared` to `channel`'s members, dropping members whose backends are gone.
    pub(crate) fn join(channel: &str, shared: &Arc<Shared>) -> Self {
        let members = Arc::clone(CHANNELS.lock().entry(channel.to_owned()).or_default());
        {
            let mut list = members.lock();
            list.retain(|member| member.strong_count() > 0);
            list.push(Arc::downgrade(shared));
        }
        LocalPeers { members }
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
            match invalidation {
                Invalidation::Keys(keys) => keys.iter().for_each(|key| peer.evict(key)),
                Invalidation::All => peer.evict_all(),
            }
            bump(&peer.counters.invalidations_received);
        }
    }
}
