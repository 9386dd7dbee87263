//! Coalescing of concurrent misses for one key: one caller (the leader) computes, the others
//! (followers) wait for its value.
//!
//! The façade's `get_or_set` uses it per alias, keyed by made key, sharing the stored bytes; the
//! components crate uses it for renders, sharing the render itself (also when it can't be stored).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use tokio::sync::watch;

/// The flights in progress, by key.
pub struct SingleFlight<K: Hash + Eq, V> {
    in_flight: Mutex<HashMap<K, watch::Receiver<Option<V>>>>,
    /// Leaders that have ended, on any key: see [`SingleFlight::landed`].
    landed: AtomicU64,
}

impl<K: Hash + Eq, V> Default for SingleFlight<K, V> {
    fn default() -> Self {
        SingleFlight {
            in_flight: Mutex::new(HashMap::new()),
            landed: AtomicU64::new(0),
        }
    }
}

/// What a caller that missed should do.
pub enum Role<K: Hash + Eq, V> {
    /// Compute the value, then [`Leader::publish`] it.
    Leader(Leader<K, V>),
    /// Wait for the leader with [`Follower::outcome`].
    Follower(Follower<V>),
}

/// The caller that computes. Dropping it without publishing (an error, a cancelled task) releases
/// the followers, who then try again themselves.
pub struct Leader<K: Hash + Eq, V> {
    flights: Arc<SingleFlight<K, V>>,
    key: K,
    sender: watch::Sender<Option<V>>,
}

/// A caller waiting for the leader's value.
pub struct Follower<V> {
    receiver: watch::Receiver<Option<V>>,
}

impl<K: Hash + Eq + Clone, V: Clone> SingleFlight<K, V> {
    /// Joins the flight for `key`, or starts it.
    pub fn join(self: &Arc<Self>, key: K) -> Role<K, V> {
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

    /// How many leaders have ended so far. A caller that reads it before looking a key up, then
    /// becomes the leader, knows no flight landed in between (and stored a value it missed) when
    /// the number hasn't moved.
    pub fn landed(&self) -> u64 {
        self.landed.load(Ordering::Acquire)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.in_flight.lock().len()
    }
}

impl<K: Hash + Eq, V> Leader<K, V> {
    /// Hands the value to every follower, and to callers joining until the leader is dropped.
    pub fn publish(&self, value: V) {
        // Followers may all have gone away; nobody to tell is fine.
        let _ = self.sender.send(Some(value));
    }
}

impl<K: Hash + Eq, V> Drop for Leader<K, V> {
    fn drop(&mut self) {
        let mut in_flight = self.flights.in_flight.lock();
        if in_flight
            .get(&self.key)
            .is_some_and(|receiver| receiver.same_channel(&self.sender.subscribe()))
        {
            in_flight.remove(&self.key);
        }
        self.flights.landed.fetch_add(1, Ordering::Release);
    }
}

impl<V: Clone> Follower<V> {
    /// The leader's value, or `None` when the leader gave up without one.
    pub async fn outcome(mut self) -> Option<V> {
        match self.receiver.wait_for(Option::is_some).await {
            Ok(value) => value.clone(),
            Err(_) => None,
        }
    }
}

// By hand: a flight is shown by what it holds, without demanding `Debug` of keys and values.
impl<K: Hash + Eq, V> std::fmt::Debug for SingleFlight<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SingleFlight")
            .field("in_flight", &self.in_flight.lock().len())
            .field("landed", &self.landed.load(Ordering::Relaxed))
            .finish()
    }
}

impl<K: Hash + Eq, V> std::fmt::Debug for Role<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Leader(_) => "Leader",
            Role::Follower(_) => "Follower",
        })
    }
}

impl<K: Hash + Eq, V> std::fmt::Debug for Leader<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leader").finish_non_exhaustive()
    }
}

impl<V> std::fmt::Debug for Follower<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follower").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Flights = SingleFlight<String, Arc<str>>;

    #[tokio::test]
    async fn followers_get_the_leaders_value_and_the_flight_is_forgotten() {
        let flights = Arc::new(Flights::default());
        let Role::Leader(leader) = flights.join("k".into()) else {
            panic!("first caller must lead")
        };
        let Role::Follower(follower) = flights.join("k".into()) else {
            panic!("second caller must follow")
        };
        assert!(
            matches!(flights.join("other".into()), Role::Leader(_)),
            "keys don't share flights"
        );
        let waiting = tokio::spawn(follower.outcome());
        let value: Arc<str> = Arc::from("v");
        leader.publish(Arc::clone(&value));
        let Role::Follower(late) = flights.join("k".into()) else {
            panic!("a caller arriving after the publish still follows")
        };
        assert!(Arc::ptr_eq(&late.outcome().await.unwrap(), &value));
        let before = flights.landed();
        drop(leader);
        assert_eq!(flights.landed(), before + 1, "the leader's end is counted");
        assert!(Arc::ptr_eq(&waiting.await.unwrap().unwrap(), &value));
        assert_eq!(flights.len(), 0);
    }

    #[tokio::test]
    async fn a_leader_that_gives_up_releases_its_followers() {
        let flights = Arc::new(Flights::default());
        let Role::Leader(leader) = flights.join("k".into()) else {
            panic!()
        };
        let Role::Follower(follower) = flights.join("k".into()) else {
            panic!()
        };
        drop(leader);
        assert_eq!(follower.outcome().await, None);
        assert!(
            matches!(flights.join("k".into()), Role::Leader(_)),
            "the next caller leads again"
        );
    }
}
