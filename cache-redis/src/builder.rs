//! [`RedisBuilder`]: a Redis backend built in code, with no configuration.

use std::path::PathBuf;
use std::time::Duration;

use cache_core::option_values::MAX_TIMEOUT;
use cache_core::{CacheError, Location, Result};

use crate::backend::RedisBackend;
use crate::options::{ClearMode, RedisOptions};

/// Builds a [`RedisBackend`]: the writer's URL, any replicas, then any option that differs from
/// its default.
///
/// ```
/// use std::time::Duration;
/// use cache_redis::RedisBackend;
///
/// let backend = RedisBackend::builder()
///     .location("redis://127.0.0.1:6379/0")
///     .replica("redis://127.0.0.1:6380/0")
///     .response_timeout(Duration::from_millis(200))
///     .key_prefix("shop")
///     .build()?;
/// assert_eq!(backend.servers(), ["redis://127.0.0.1:6379/0", "redis://127.0.0.1:6380/0"]);
/// assert_eq!(backend.clear_pattern(), Some("shop:[-0-9]*"));
/// # Ok::<(), cache_core::CacheError>(())
/// ```
///
/// `build` checks every URL and option and connects to nothing (connections open on first use).
/// Its errors are `CacheError::Config` naming the setting at fault (`location`, `location[1]` for
/// the first replica, `options.response_timeout`, …) and what it takes.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct RedisBuilder {
    /// The writer first, then the replicas; an empty writer is "not given yet".
    locations: Vec<String>,
    options: RedisOptions,
    key_prefix: String,
}

impl RedisBuilder {
    pub(crate) fn new() -> Self {
        RedisBuilder {
            locations: vec![String::new()],
            options: RedisOptions::default(),
            key_prefix: String::new(),
        }
    }

    /// The server every write goes to (and every read, without replicas):
    /// `redis://[[user]:password@]host[:port][/db]`, `rediss://…` for TLS, or `unix:///path`. With
    /// [`cluster`](RedisBuilder::cluster), the first seed node.
    pub fn location(mut self, url: impl Into<String>) -> Self {
        self.locations[0] = url.into();
        self
    }

    /// Adds a replica reads are spread over (with [`cluster`](RedisBuilder::cluster), another seed node).
    pub fn replica(mut self, url: impl Into<String>) -> Self {
        self.locations.push(url.into());
        self
    }

    /// The `key_prefix` of the `Cache` this backend serves, so that `clear()` removes only the
    /// keys it makes (`""` unless set); see [`ClearMode::Prefix`].
    pub fn key_prefix(mut self, key_prefix: impl Into<String>) -> Self {
        self.key_prefix = key_prefix.into();
        self
    }

    /// See [`RedisOptions::connect_timeout`]; above zero and at most a day.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.options.connect_timeout = timeout;
        self
    }

    /// See [`RedisOptions::response_timeout`]; above zero and at most a day.
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.options.response_timeout = timeout;
        self
    }

    /// See [`RedisOptions::clear`].
    pub fn clear(mut self, mode: ClearMode) -> Self {
        self.options.clear = mode;
        self
    }

    /// See [`RedisOptions::cluster`].
    pub fn cluster(mut self, cluster: bool) -> Self {
        self.options.cluster = cluster;
        self
    }

    /// See [`RedisOptions::wait_for_replicas`].
    pub fn wait_for_replicas(mut self, wait: bool) -> Self {
        self.options.wait_for_replicas = wait;
        self
    }

    /// See [`RedisOptions::batch_reads`].
    pub fn batch_reads(mut self, batch: bool) -> Self {
        self.options.batch_reads = batch;
        self
    }

    /// See [`RedisOptions::tls_ca_file`].
    pub fn tls_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.options.tls_ca_file = Some(path.into());
        self
    }

    /// See [`RedisOptions::circuit`](crate::RedisOptions::circuit): consecutive timeouts or lost
    /// connections on one server that open its circuit; 0 turns the breaker off. At most 10000.
    pub fn circuit_failures(mut self, failures: u32) -> Self {
        self.options.circuit = self.options.circuit.with_failures(failures);
        self
    }

    /// See [`RedisOptions::circuit`](crate::RedisOptions::circuit): how long an open circuit fails
    /// calls at once before one probes the server; above zero and at most a day.
    pub fn circuit_cooldown(mut self, cool_down: Duration) -> Self {
        self.options.circuit = self.options.circuit.with_cool_down(cool_down);
        self
    }

    /// The backend, once every URL and option is checked.
    pub fn build(self) -> Result<RedisBackend> {
        for (field, timeout) in [
            ("connect_timeout", self.options.connect_timeout),
            ("response_timeout", self.options.response_timeout),
        ] {
            if timeout.is_zero() || timeout > MAX_TIMEOUT {
                return Err(CacheError::config(
                    None,
                    format!("options.{field}"),
                    format!("expected a duration above 0 and at most a day; got {timeout:?}"),
                ));
            }
        }
        if let Some((field, message)) = self.options.circuit.check() {
            return Err(CacheError::config(None, field, message));
        }
        if self.locations[0].is_empty() {
            return Err(CacheError::config(
                None,
                "location",
                "a Redis backend needs the writer's URL; give it with `.location(\"redis://127.0.0.1:6379/0\")`",
            ));
        }
        let location = Location::Many(self.locations);
        RedisBackend::create(None, &location, self.options, Some(&self.key_prefix))
    }
}
