//! Coalescing of concurrent `get_or_set` misses for one key: one caller computes, the rest wait.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::watch;

/// The flights in progress on one alias, by made key.
#[derive(Default)]
pub(crate) struct SingleFlight {
    in_flight: Mutex<HashMap<String, watch::Receiver<Option<Bytes>>>>,
}

/// What a caller that missed should do.
pub(crate) enum Role {
    /// Compute the value, then [`Leader::publish`] it.
    Leader(Leader),
    /// Wait for the leader with [`Follower::outcome`].
    Follower(Follower),
}

/// The caller that computes. Dropping it without publishing (an error, a cancelled task) releases
/// the followers, who then try again themselves.
pub(crate) struct Leader {
    flights: Arc<SingleFlight>,
    key: String,
    sender: watch::Sender<Option<Bytes>>,
}

/// A caller waiting for the leader's value.
pub(crate) struct Follower {
    receiver: watch::Receiver<Option<Bytes>>,
}

impl SingleFlight {
    /// Joins the flight for `key`, or starts it.
    pub(crate) fn join(self: &Arc<Self>, key: &str) -> Role {
        let mut in_flight = self.in_flight.lock();
        if let Some(receiver) = in_flight.get(key) {
            return Role::Follower(Follower {
                receiver: receiver.clone(),
            });
        }
        let (sender, receiver) = watch::channel(None);
        in_flight.insert(key.to_owned(), receiver);
        Role::Leader(Leader {
            flights: Arc::clone(self),
            key: key.to_owned(),
            sender,
        })
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.in_flight.lock().len()
    }
}

impl Leader {
    /// Hands the encoded value to every follower.
    pub(crate) fn publish(self, value: Bytes) {
        // Followers may all have gone away; nobody to tell is fine.
        let _ = self.sender.send(Some(value));
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        let mut in_flight = self.flights.in_flight.lock();
        if in_flight
            .get(&self.key)
            .is_some_and(|r| r.same_channel(&self.sender.subscribe()))
        {
            in_flight.remove(&self.key);
        }
    }
}

impl Follower {
    /// The leader's value, or `None` when the leader gave up without one.
    pub(crate) async fn outcome(mut self) -> Option<Bytes> {
        match self.receiver.wait_for(Option::is_some).await {
            Ok(value) => value.clone(),
            Err(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn followers_get_the_leaders_value_and_the_flight_is_forgotten() {
        let flights = Arc::new(SingleFlight::default());
        let Role::Leader(leader) = flights.join("k") else {
            panic!("first caller must lead")
        };
        let Role::Follower(follower) = flights.join("k") else {
            panic!("second caller must follow")
        };
        let waiting = tokio::spawn(follower.outcome());
        leader.publish(Bytes::from_static(b"v"));
        assert_eq!(waiting.await.unwrap(), Some(Bytes::from_static(b"v")));
        assert_eq!(flights.len(), 0);
    }

    #[tokio::test]
    async fn a_leader_that_gives_up_releases_its_followers() {
        let flights = Arc::new(SingleFlight::default());
        let Role::Leader(leader) = flights.join("k") else {
            panic!()
        };
        let Role::Follower(follower) = flights.join("k") else {
            panic!()
        };
        drop(leader);
        assert_eq!(follower.outcome().await, None);
        assert!(
            matches!(flights.join("k"), Role::Leader(_)),
            "the next caller leads again"
        );
    }
}
