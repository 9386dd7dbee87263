//! The subscription: applies other processes' invalidations to the near tier, and vouches for
//! the near tier only while heartbeats on the same connection are answered.
//!
//! Redis delivers a channel's messages and the replies to `PING` on one connection, in order: once
//! a `PING` sent at `t` is answered, every invalidation published before `t` has arrived. So the
//! near tier may serve until `t + backplane_max_staleness`, and a value overwritten at `w` is never
//! served from a near tier later than `w + backplane_max_staleness`, whatever happens to the
//! connection (closed, refused, hung).

use std::sync::Weak;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use redis::aio::{PubSubSink, PubSubStream};

use super::message;
use crate::state::Shared;
use crate::stats::bump;

/// The first wait before connecting again, doubled after each failure up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(25);
const MAX_BACKOFF: Duration = Duration::from_millis(500);

pub(super) struct Listener {
    pub(super) shared: Weak<Shared>,
    pub(super) client: redis::Client,
    pub(super) channel: String,
    pub(super) heartbeat: Duration,
    pub(super) max_staleness: Duration,
}

impl Listener {
    pub(super) async fn run(self) {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let Some(shared) = self.shared.upgrade() else { return };
            let started = shared.near.now();
            drop(shared);
            match tokio::time::timeout(self.max_staleness, self.subscribe()).await {
                Ok(Ok((sink, stream))) => {
                    backoff = FIRST_BACKOFF;
                    let Some(shared) = self.shared.upgrade() else { return };
                    shared.coherence.connected();
                    // Entries filled from now on are vouched for: the subscription is confirmed.
                    shared.coherence.answered(started + self.max_staleness);
                    bump(&shared.counters.backplane_connects);
                    tracing::debug!(alias = %shared.alias, "cache-tiered: backplane subscribed");
                    drop(shared);
                    self.listen(sink, stream).await;
                    let Some(shared) = self.shared.upgrade() else { return };
                    shared.coherence.disconnected();
                    bump(&shared.counters.backplane_losses);
                    tracing::warn!(alias = %shared.alias, "cache-tiered: backplane lost; the near tier serves nothing as fresh until it is back");
                }
                Ok(Err(error)) => {
                    tracing::debug!(%error, "cache-tiered: backplane subscription failed");
                }
                Err(_) => tracing::debug!("cache-tiered: backplane subscription timed out"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    async fn subscribe(&self) -> redis::RedisResult<(PubSubSink, PubSubStream)> {
        let (mut sink, stream) = self.client.get_async_pubsub().await?.split();
        sink.subscribe(&self.channel).await?;
        Ok((sink, stream))
    }

    /// Until the connection ends or a heartbeat goes unanswered.
    async fn listen(&self, mut sink: PubSubSink, mut stream: PubSubStream) {
        let mut heartbeat = tokio::time::interval(self.heartbeat);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                message = stream.next() => match message {
                    Some(message) => {
                        if !self.apply(message.get_payload_bytes()) {
                            return;
                        }
                    }
                    None => return,
                },
                _ = heartbeat.tick() => {
                    let Some(sent) = self.shared.upgrade().map(|shared| shared.near.now()) else { return };
                    match tokio::time::timeout(self.max_staleness, sink.ping::<redis::Value>()).await {
                        Ok(Ok(_)) => {
                            // What arrived before the reply is applied before vouching anew.
                            while let Some(Some(message)) = stream.next().now_or_never() {
                                if !self.apply(message.get_payload_bytes()) {
                                    return;
                                }
                            }
                            let Some(shared) = self.shared.upgrade() else { return };
                            shared.coherence.answered(sent + self.max_staleness);
                        }
                        _ => return,
                    }
                }
            }
        }
    }

    /// Applies one message; false once the backend is gone.
    fn apply(&self, payload: &[u8]) -> bool {
        let Some(shared) = self.shared.upgrade() else {
            return false;
        };
        match message::decode(payload) {
            Some((sender, _)) if sender == shared.instance => {}
            Some((_, invalidation)) => {
                shared.forget(&invalidation);
                bump(&shared.counters.invalidations_received);
            }
            None => {
                // Not ours to read: what it meant to evict is unknown, so evict everything.
                tracing::warn!(alias = %shared.alias, "cache-tiered: an unreadable message on the backplane channel; the near tier was cleared");
                shared.evict_all();
            }
        }
        true
    }
}
