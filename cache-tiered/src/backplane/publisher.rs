//! Publishing invalidations over one multiplexed connection, made again after it breaks, behind
//! a circuit breaker: a write awaits its publish, so a hung or unreachable backplane would
//! otherwise cost every write a whole `wait`.

use std::time::Duration;

use bytes::Bytes;
use cache_core::{BackendError, BackendResult, CircuitBreaker, CircuitSettings, Unavailability, Wait};
use parking_lot::Mutex;
use redis::aio::MultiplexedConnection;

#[derive(Debug)]
pub(super) struct Publisher {
    client: redis::Client,
    channel: String,
    /// How long a connect or a reply may take before the publish counts as failed.
    wait: Duration,
    connection: Mutex<Option<MultiplexedConnection>>,
    /// After `failures` publishes in a row went unanswered (timed out, refused, connection lost),
    /// publishes fail at once for the cool-down, then one probes: a hung backplane costs one
    /// `wait` per cool-down instead of one per write.
    circuit: CircuitBreaker,
}

impl Publisher {
    pub(super) fn new(
        client: redis::Client,
        channel: String,
        wait: Duration,
        server: String,
        circuit: CircuitSettings,
    ) -> Self {
        Publisher {
            client,
            channel,
            wait,
            connection: Mutex::new(None),
            circuit: CircuitBreaker::new(server, circuit),
        }
    }

    /// Its breaker (for its state and counters).
    pub(super) fn circuit(&self) -> &CircuitBreaker {
        &self.circuit
    }

    async fn connection(&self) -> redis::RedisResult<MultiplexedConnection> {
        if let Some(connection) = self.connection.lock().clone() {
            return Ok(connection);
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.wait))
            .set_response_timeout(Some(self.wait));
        let connection = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        *self.connection.lock() = Some(connection.clone());
        Ok(connection)
    }

    async fn run<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> redis::RedisResult<T> {
        let mut connection = self.connection().await?;
        let result = command.query_async(&mut connection).await;
        if result.is_err() {
            // A broken connection is made again by the next call, not retried here: the caller's
            // write already happened, and a late invalidation is worth less than a prompt answer.
            *self.connection.lock() = None;
        }
        result
    }

    /// Publishes `message`, or fails at once while the circuit is open.
    pub(super) async fn publish(&self, message: Bytes) -> BackendResult<()> {
        let mut command = redis::cmd("PUBLISH");
        command.arg(&self.channel).arg(&message[..]);
        let published = async {
            let sent = self.run::<i64>(&command).await;
            sent.map(drop).map_err(|error| self.backend_error(error))
        };
        self.circuit.run(published).await
    }

    /// Asks the server itself, past the breaker: a health check reports the server, not the
    /// breaker's memory of it.
    pub(super) async fn ping(&self) -> redis::RedisResult<()> {
        self.run::<String>(&redis::cmd("PING")).await.map(drop)
    }

    /// What the breaker needs to tell a server that didn't answer (which counts against it) from
    /// one that answered with an error (which doesn't).
    fn backend_error(&self, error: redis::RedisError) -> BackendError {
        let detail = error.to_string();
        let error = match error.kind() {
            redis::ErrorKind::Io if error.is_timeout() => BackendError::timeout(Wait::Response, detail),
            redis::ErrorKind::Io if error.is_connection_refusal() => {
                BackendError::unavailable(Unavailability::Refused, detail)
            }
            redis::ErrorKind::Io => BackendError::unavailable(Unavailability::Closed, detail),
            // A reply that isn't RESP: the server (or what answers in its place) is broken.
            redis::ErrorKind::Parse => BackendError::protocol(detail),
            // An error reply (a wrong password, `NOPERM`, `LOADING`): the server is there and
            // answering, so it doesn't count against it.
            _ => BackendError::refused_by_server(detail),
        };
        error.on_server(self.circuit.server().to_owned())
    }
}
