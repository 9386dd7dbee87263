//! Coherence across processes: Redis pub/sub. A write publishes the keys it changed; every other
//! process subscribed to the channel evicts them from its near tier. A heartbeat on the
//! subscription tells the near tier how long it may keep vouching for its entries.

mod listener;
pub(crate) mod message;
mod owed;
mod publisher;

use std::sync::Arc;
use std::time::Duration;

use cache_core::CircuitSettings;
use parking_lot::Mutex;
use tokio::task::AbortHandle;

use crate::state::Shared;
use message::Invalidation;
use owed::{Owed, Unsent};
use publisher::Publisher;

/// One alias' backplane: where it publishes, and the listener task it starts on first use.
#[derive(Debug)]
pub(crate) struct Backplane {
    client: redis::Client,
    channel: String,
    heartbeat: Duration,
    max_staleness: Duration,
    publisher: Publisher,
    listener: Mutex<Option<AbortHandle>>,
    /// What lost publishes named, for the next one that gets through.
    owed: Owed,
}

impl Backplane {
    pub(crate) fn new(
        url: &str,
        channel: String,
        heartbeat: Duration,
        max_staleness: Duration,
        circuit: CircuitSettings,
    ) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let server = format!("{} (backplane)", client.get_connection_info().addr());
        Ok(Backplane {
            publisher: Publisher::new(client.clone(), channel.clone(), max_staleness, server, circuit),
            client,
            channel,
            heartbeat,
            max_staleness,
            listener: Mutex::new(None),
            owed: Owed::default(),
        })
    }

    /// The server, as health checks and messages show it (no password).
    pub(crate) fn server(&self) -> String {
        self.publisher.circuit().server().to_owned()
    }

    /// The breaker publishes go through.
    pub(crate) fn circuit(&self) -> &cache_core::CircuitBreaker {
        self.publisher.circuit()
    }

    /// Starts listening unless it already does; needs a tokio runtime (a call without one leaves
    /// the near tier unvouched, so reads go to the far tier).
    pub(crate) fn ensure_listening(&self, shared: &Arc<Shared>) {
        let mut listener = self.listener.lock();
        if listener.is_some() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let task = listener::Listener {
            shared: Arc::downgrade(shared),
            client: self.client.clone(),
            channel: self.channel.clone(),
            heartbeat: self.heartbeat,
            max_staleness: self.max_staleness,
        };
        *listener = Some(runtime.spawn(task.run()).abort_handle());
    }

    /// Whether the listener task runs (the near tier is vouched for only while it is subscribed).
    pub(crate) fn is_listening(&self) -> bool {
        self.listener.lock().is_some()
    }

    /// Stops listening; the near tier stops being vouched for until the next call starts it again.
    pub(crate) fn stop(&self, shared: &Shared) {
        if let Some(task) = self.listener.lock().take() {
            task.abort();
            shared.coherence.disconnected();
        }
    }

    /// Tells every other process to evict; waits until Redis has handed the message to every
    /// subscriber's connection. Returns whether it was published.
    ///
    /// What earlier publishes lost is carried along (see `owed.rs`); what this one loses, by
    /// failing or by its caller giving up on it, is owed to the next.
    pub(crate) async fn publish(&self, shared: &Shared, invalidation: &Invalidation) -> bool {
        let settling = self.owed.settle_with(invalidation);
        // Nothing named and nothing owed (`delete_many(&[])`, or an abandoned write of no keys).
        if settling.is_none() && matches!(invalidation, Invalidation::Keys(keys) if keys.is_empty()) {
            return true;
        }
        let message = settling.as_ref().unwrap_or(invalidation);
        let unsent = Unsent {
            owed: &self.owed,
            message: Some(message),
        };
        let sent = self.publisher.publish(message::encode(shared.instance, message)).await;
        match &sent {
            Ok(()) => {
                unsent.sent();
                crate::stats::bump(&shared.counters.invalidations_sent);
                if settling.is_some() {
                    tracing::info!(alias = %shared.alias, "cache-tiered: the backplane took a publish again, with the invalidations lost meanwhile");
                }
            }
            Err(error) => {
                drop(unsent);
                crate::stats::bump(&shared.counters.publish_failures);
                // While the circuit is open every write lands here; the breaker said so once.
                if !error.is_circuit_open() {
                    tracing::warn!(alias = %shared.alias, %error, "cache-tiered: an invalidation could not be published; the next publish that gets through carries it, and until then other processes may serve their near copy");
                }
            }
        }
        sent.is_ok()
    }

    /// Owes `invalidation` to the next publish (a write whose caller stopped waiting; see
    /// `abandoned.rs`).
    pub(crate) fn owe(&self, invalidation: &Invalidation) {
        self.owed.owe(invalidation);
    }

    /// What is owed, no longer owed (a test's view of the debt).
    #[cfg(test)]
    pub(crate) fn take_owed(&self) -> Option<Invalidation> {
        self.owed.settle_with(&Invalidation::Keys(Vec::new()))
    }

    pub(crate) async fn ping(&self) -> redis::RedisResult<()> {
        self.publisher.ping().await
    }
}

/// Stops the listener with the last handle to it.
pub(crate) fn stop_on_drop(backplane: &Backplane) {
    if let Some(task) = backplane.listener.lock().take() {
        task.abort();
    }
}
