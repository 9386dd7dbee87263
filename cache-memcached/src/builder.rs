//! [`MemcachedBuilder`]: a memcached backend built in code, with no configuration.

use std::time::Duration;

use cache_core::{CacheError, Result};

use crate::backend::MemcachedBackend;
use crate::location::ServerAddress;
use crate::options::MemcachedOptions;

/// Builds a [`MemcachedBackend`]: its servers, then any option that differs from its default.
///
/// ```
/// use std::time::Duration;
/// use cache_memcached::MemcachedBackend;
///
/// let backend = MemcachedBackend::builder()
///     .server("127.0.0.1:11211")
///     .server("unix:/run/memcached.sock")
///     .response_timeout(Duration::from_millis(200))
///     .pool_size(4)
///     .build()?;
/// assert_eq!(backend.servers().count(), 2);
/// # Ok::<(), cache_core::CacheError>(())
/// ```
///
/// `build` checks everything and connects to nothing (connections open on first use). Its errors
/// are `CacheError::Config` naming the setting at fault (`server`, `options.response_timeout`, …) and what
/// it takes.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct MemcachedBuilder {
    servers: Vec<String>,
    options: MemcachedOptions,
}

impl MemcachedBuilder {
    pub(crate) fn new() -> Self {
        MemcachedBuilder {
            servers: Vec::new(),
            options: MemcachedOptions::default(),
        }
    }

    /// Adds a server, written as a location entry is: `host:port`, `host` (port 11211), `[v6]:port`,
    /// `unix:/path` or `/path`. Keys are spread over every server added.
    pub fn server(mut self, address: impl Into<String>) -> Self {
        self.servers.push(address.into());
        self
    }

    /// See [`MemcachedOptions::connect_timeout`]; above zero and at most a day.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.options.connect_timeout = timeout;
        self
    }

    /// See [`MemcachedOptions::response_timeout`]; above zero and at most a day.
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.options.response_timeout = timeout;
        self
    }

    /// See [`MemcachedOptions::item_size_max`]; from 2 KiB to 1 GiB.
    pub fn item_size_max(mut self, bytes: usize) -> Self {
        self.options.item_size_max = bytes;
        self
    }

    /// See [`MemcachedOptions::pool_size`]; from 1 to 64.
    pub fn pool_size(mut self, connections: usize) -> Self {
        self.options.pool_size = connections;
        self
    }

    /// See [`MemcachedOptions::no_delay`].
    pub fn no_delay(mut self, no_delay: bool) -> Self {
        self.options.no_delay = no_delay;
        self
    }

    /// See [`MemcachedOptions::circuit`]: consecutive timeouts or lost connections on one server
    /// that open its circuit; 0 turns the breaker off. At most 10000.
    pub fn circuit_failures(mut self, failures: u32) -> Self {
        self.options.circuit = self.options.circuit.with_failures(failures);
        self
    }

    /// See [`MemcachedOptions::circuit`]: how long an open circuit fails calls at once before one
    /// probes the server; above zero and at most a day.
    pub fn circuit_cooldown(mut self, cool_down: Duration) -> Self {
        self.options.circuit = self.options.circuit.with_cool_down(cool_down);
        self
    }

    /// The backend, once every server address and option is checked.
    pub fn build(self) -> Result<MemcachedBackend> {
        let servers = self
            .servers
            .iter()
            .map(|text| ServerAddress::parse(text).map_err(|message| CacheError::config(None, "server", message)))
            .collect::<Result<Vec<_>>>()?;
        MemcachedBackend::new(servers, self.options)
    }
}
