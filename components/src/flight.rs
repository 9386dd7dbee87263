//! Coalescing of identical output-cache misses: one render, every waiter gets its result.
//!
//! The façade's `get_or_try_set` coalesces too, but hands waiters the bytes it stored; here the
//! waiters need the render itself, also when it could not be stored (the backend is failing) and
//! without decoding it again.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::watch;

use crate::fragment::Fragment;

type Outcome = Option<Arc<Fragment>>;

/// The renders in progress, by alias and key. One per renderer, shared by all its pages.
#[derive(Default)]
pub(crate) struct Flights {
    in_flight: Mutex<HashMap<(String, String), watch::Receiver<Outcome>>>,
}

/// What a caller that missed should do.
pub(crate) enum Role {
    /// Render, then [`Leader::publish`].
    Leader(Leader),
    /// Wait with [`Follower::outcome`].
    Follower(Follower),
}

/// The caller that renders. Dropping it without publishing (an error, a cancelled request, a
/// render that can't be shared) releases the followers, who then look again.
pub(crate) struct Leader {
    flights: Arc<Flights>,
    key: (String, String),
    sender: watch::Sender<Outcome>,
}

/// A caller waiting for the leader.
pub(crate) struct Follower {
    receiver: watch::Receiver<Outcome>,
}

impl Flights {
    /// Joins the flight for `key` in `alias`, or starts it.
    pub(crate) fn join(self: &Arc<Self>, alias: &str, key: &str) -> Role {
        let key = (alias.to_owned(), key.to_owned());
        let mut in_flight = self.in_flight.lock();
        if let Some(receiver) = in_flight.get(&key) {
            return Role::Follower(Follower {
                receiver: receiver.clone(),
            });
        }
        let (sender, receiver) = watch::channel(None);
        in_flight.insert(key.clone(), receiver);
        Role::Leader(Leader {
            flights: Arc::clone(self),
            key,
            sender,
        })
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.in_flight.lock().len()
    }
}

impl Leader {
    /// Hands the render to every follower, and to callers joining until the leader is dropped
    /// (published before the cache write, so nobody waits on the network for a render already done).
    pub(crate) fn publish(&self, fragment: Arc<Fragment>) {
        // Nobody waiting is fine.
        let _ = self.sender.send(Some(fragment));
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        let mut in_flight = self.flights.in_flight.lock();
        if in_flight
            .get(&self.key)
            .is_some_and(|receiver| receiver.same_channel(&self.sender.subscribe()))
        {
            in_flight.remove(&self.key);
        }
    }
}

impl Follower {
    /// The leader's render, or `None` when it gave up without one.
    pub(crate) async fn outcome(mut self) -> Outcome {
        match self.receiver.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone(),
            Err(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn followers_get_the_render_and_the_flight_is_forgotten() {
        let flights = Arc::new(Flights::default());
        let Role::Leader(leader) = flights.join("default", "k") else {
            panic!("the first caller leads")
        };
        let Role::Follower(follower) = flights.join("default", "k") else {
            panic!("the second caller follows")
        };
        assert!(
            matches!(flights.join("other", "k"), Role::Leader(_)),
            "aliases don't share flights"
        );
        let waiting = tokio::spawn(follower.outcome());
        let fragment = Arc::new(Fragment::default());
        leader.publish(Arc::clone(&fragment));
        let Role::Follower(late) = flights.join("default", "k") else {
            panic!("a caller arriving after the publish still follows")
        };
        assert!(Arc::ptr_eq(&late.outcome().await.unwrap(), &fragment));
        drop(leader);
        assert!(Arc::ptr_eq(&waiting.await.unwrap().unwrap(), &fragment));
        assert_eq!(flights.len(), 0);
    }

    #[tokio::test]
    async fn a_leader_that_gives_up_releases_its_followers() {
        let flights = Arc::new(Flights::default());
        let Role::Leader(leader) = flights.join("default", "k") else {
            panic!()
        };
        let Role::Follower(follower) = flights.join("default", "k") else {
            panic!()
        };
        drop(leader);
        assert!(follower.outcome().await.is_none());
        assert!(matches!(flights.join("default", "k"), Role::Leader(_)));
    }
}
