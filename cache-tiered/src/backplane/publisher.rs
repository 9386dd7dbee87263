//! Publishing invalidations over one multiplexed connection, made again after it breaks.

use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use redis::aio::MultiplexedConnection;

#[derive(Debug)]
pub(super) struct Publisher {
    client: redis::Client,
    channel: String,
    /// How long a connect or a reply may take before the publish counts as failed.
    wait: Duration,
    connection: Mutex<Option<MultiplexedConnection>>,
}

impl Publisher {
    pub(super) fn new(client: redis::Client, channel: String, wait: Duration) -> Self {
        Publisher {
            client,
            channel,
            wait,
            connection: Mutex::new(None),
        }
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

    pub(super) async fn publish(&self, message: Bytes) -> redis::RedisResult<()> {
        let mut command = redis::cmd("PUBLISH");
        command.arg(&self.channel).arg(&message[..]);
        self.run::<i64>(&command).await.map(drop)
    }

    pub(super) async fn ping(&self) -> redis::RedisResult<()> {
        self.run::<String>(&redis::cmd("PING")).await.map(drop)
    }
}
