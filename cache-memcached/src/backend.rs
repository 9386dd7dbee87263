//! [`MemcachedBackend`]: the `CacheBackend` over one or many memcached servers.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use cache_core::{
    BackendConfig, BackendError, BackendResult, CacheBackend, CacheError, Capabilities, CircuitState, CircuitStats,
    Expiry, HEALTH_CHECK_KEY, Result, ServerHealth, ServerRole,
};
use futures::future::try_join_all;

use crate::builder::MemcachedBuilder;
use crate::connection::Command;
use crate::expiry::{exptime, unix_now};
use crate::hashing::Rendezvous;
use crate::location::{ServerAddress, servers_from_location};
use crate::options::MemcachedOptions;
use crate::protocol::{self, Expect, Reply, Status, Store};
use crate::server::Server;
use crate::wire_key;

/// Keys per `get` command in a multi-get; a larger batch goes out as several commands, still
/// pipelined in one round trip per server.
const KEYS_PER_GET: usize = 1024;

/// Django's `PyMemcacheCache`: keys spread over one or many memcached servers by pymemcache's
/// rendezvous hashing, spoken to with memcached's text protocol over pipelined async connections.
///
/// A cheap `Clone` handle; clones share the connections. Connections are opened on first use (so
/// building never fails for a server that is down) and need a tokio runtime. See the crate
/// documentation for the semantics and the deliberate differences from Django.
#[derive(Clone)]
pub struct MemcachedBackend {
    inner: Arc<Inner>,
}

struct Inner {
    servers: Vec<Server>,
    ring: Rendezvous,
    options: MemcachedOptions,
    capabilities: Capabilities,
}

impl fmt::Debug for MemcachedBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemcachedBackend")
            .field("servers", &self.inner.servers)
            .field("options", &self.inner.options)
            .finish()
    }
}

/// One server's `stats`, from [`MemcachedBackend::stats`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerStats {
    /// The server.
    pub address: ServerAddress,
    /// Every `STAT name value` line (`curr_items`, `cmd_get`, `get_hits`, …).
    pub stats: BTreeMap<String, String>,
}

impl ServerStats {
    /// A statistic read as a number, when the server reports it as one.
    pub fn number(&self, name: &str) -> Option<u64> {
        self.stats.get(name)?.parse().ok()
    }
}

impl MemcachedBackend {
    /// Builds a backend in code, with no configuration: its servers and options.
    pub fn builder() -> MemcachedBuilder {
        MemcachedBuilder::new()
    }

    /// A backend over `servers` (at least one, each once). Nothing is connected yet.
    ///
    /// Errors are `CacheError::Config` naming the field at fault (`server` or `options.<name>`).
    pub(crate) fn new(servers: Vec<ServerAddress>, options: MemcachedOptions) -> Result<MemcachedBackend> {
        options
            .check()
            .map_err(|(field, message)| CacheError::config(None, field, message))?;
        if servers.is_empty() {
            return Err(CacheError::config(
                None,
                "server",
                "memcached needs at least one server; add one with `.server(\"127.0.0.1:11211\")`",
            ));
        }
        for (index, server) in servers.iter().enumerate() {
            if servers[..index].contains(server) {
                return Err(CacheError::config(
                    None,
                    "server",
                    format!("the server `{server}` is listed twice; list each server once"),
                ));
            }
        }
        let ring = Rendezvous::new(servers.iter().map(ServerAddress::node_name).collect());
        let capabilities = Capabilities::lenient()
            .with_strict_keys()
            .with_max_value_bytes(options.max_value_bytes())
            .with_decr_floor_at_zero();
        Ok(MemcachedBackend {
            inner: Arc::new(Inner {
                servers: servers
                    .into_iter()
                    .map(|address| Server::new(address, &options))
                    .collect(),
                ring,
                options,
                capabilities,
            }),
        })
    }

    /// The backend an alias describes: its `location` read by
    /// [`servers_from_location`](crate::servers_from_location), its `options` by
    /// [`MemcachedOptions::from_options`].
    pub fn from_config(config: &BackendConfig<'_>) -> Result<MemcachedBackend> {
        let servers = servers_from_location(config.alias, config.location)?;
        let options = MemcachedOptions::from_options(config.alias, config.options)?;
        MemcachedBackend::new(servers, options)
    }

    /// The servers, in the order configured.
    pub fn servers(&self) -> impl Iterator<Item = &ServerAddress> {
        self.inner.servers.iter().map(Server::address)
    }

    /// The server that holds `key` (a made key, as the façade sends it: `Cache::make_key`).
    pub fn server_for(&self, key: &str) -> &ServerAddress {
        self.inner.servers[self.inner.ring.pick(key)].address()
    }

    /// The options in force.
    pub fn options(&self) -> &MemcachedOptions {
        &self.inner.options
    }

    /// Every server's circuit breaker counters, added up: how often a circuit opened, reopened
    /// after a failed probe, let a probe through, closed, and how many calls it refused at once.
    pub fn circuit_stats(&self) -> CircuitStats {
        self.inner
            .servers
            .iter()
            .map(|server| server.breaker().stats())
            .fold(CircuitStats::default(), CircuitStats::merge)
    }

    /// Where the circuit breaker of `server` stands, or `None` for a server this backend doesn't use.
    pub fn circuit_state(&self, server: &ServerAddress) -> Option<CircuitState> {
        self.inner
            .servers
            .iter()
            .find(|candidate| candidate.address() == server)
            .map(|server| server.breaker().state())
    }

    /// Every server's `stats`, asked concurrently; fails if any server fails.
    pub async fn stats(&self) -> BackendResult<Vec<ServerStats>> {
        try_join_all(self.inner.servers.iter().map(|server| async move {
            match server.call(command(protocol::stats(), Expect::Stats)).await? {
                Reply::Stats(stats) => Ok(ServerStats {
                    address: server.address().clone(),
                    stats: stats.into_iter().collect(),
                }),
                other => Err(refused(server, other)),
            }
        }))
        .await
    }

    /// The server of a single-key call, named in the call's span.
    fn server(&self, key: &str) -> &Server {
        let server = &self.inner.servers[self.inner.ring.pick(key)];
        cache_core::observe::record_server(server.address());
        server
    }

    /// Indexes into `keys`, grouped by server; servers with no key get an empty group.
    fn by_server<'k>(&self, keys: impl Iterator<Item = &'k str>) -> Vec<Vec<usize>> {
        let mut groups = vec![Vec::new(); self.inner.servers.len()];
        for (index, key) in keys.enumerate() {
            groups[self.inner.ring.pick(key)].push(index);
        }
        groups
    }

    /// Sends each server its share of a batch — the commands `build` makes from the indexes of
    /// its keys — in one pipelined round trip, all servers concurrently. Yields, per server asked,
    /// the server, the indexes of its keys and the replies in order.
    async fn fan_out<'k>(
        &self,
        keys: impl Iterator<Item = &'k str>,
        build: impl Fn(&[usize]) -> Vec<Command>,
    ) -> BackendResult<Vec<(&Server, Vec<usize>, Vec<Reply>)>> {
        let calls = self
            .by_server(keys)
            .into_iter()
            .enumerate()
            .filter(|(_, group)| !group.is_empty())
            .map(|(index, group)| {
                let server = &self.inner.servers[index];
                let commands = build(&group);
                async move {
                    let replies = server.call_all(commands).await?;
                    Ok::<_, BackendError>((server, group, replies))
                }
            });
        try_join_all(calls).await
    }

    fn check_size(&self, value: &Bytes) -> BackendResult<()> {
        let limit = self.inner.options.max_value_bytes();
        if value.len() > limit {
            return Err(BackendError::value_too_large(value.len(), limit));
        }
        Ok(())
    }

    async fn store(&self, verb: Store, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<bool> {
        wire_key::check(key)?;
        self.check_size(&value)?;
        let exptime = exptime(expiry, unix_now())?;
        let server = self.server(key);
        let size = value.len();
        let command = Command {
            line: protocol::store(verb, key, exptime, size),
            data: Some(value),
            expect: Expect::Status,
        };
        match server.call(command).await? {
            Reply::Status(Status::Stored) => Ok(true),
            Reply::Status(Status::NotStored) if verb == Store::Add => Ok(false),
            Reply::Error(error) if error.is_too_large() => Err(BackendError::value_too_large(
                size,
                self.inner.options.max_value_bytes(),
            )),
            other => Err(refused(server, other)),
        }
    }
}

#[async_trait]
impl CacheBackend for MemcachedBackend {
    fn name(&self) -> &'static str {
        "memcached"
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities.clone()
    }

    async fn get(&self, key: &str) -> BackendResult<Option<Bytes>> {
        wire_key::check(key)?;
        let server = self.server(key);
        match server.call(command(protocol::get([key]), Expect::Values)).await? {
            // The reader matched each hit to a key asked: a value for any other key never gets
            // here, it is a protocol error that closed the connection.
            Reply::Values(hits) => Ok(hits.into_iter().find(|hit| hit.index == 0).map(|hit| hit.value)),
            other => Err(refused(server, other)),
        }
    }

    async fn set(&self, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<()> {
        self.store(Store::Set, key, value, expiry).await.map(drop)
    }

    async fn add(&self, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<bool> {
        self.store(Store::Add, key, value, expiry).await
    }

    async fn touch(&self, key: &str, expiry: Expiry) -> BackendResult<bool> {
        wire_key::check(key)?;
        let exptime = exptime(expiry, unix_now())?;
        let server = self.server(key);
        match server
            .call(command(protocol::touch(key, exptime), Expect::Status))
            .await?
        {
            Reply::Status(Status::Touched) => Ok(true),
            Reply::Status(Status::NotFound) => Ok(false),
            other => Err(refused(server, other)),
        }
    }

    async fn delete(&self, key: &str) -> BackendResult<bool> {
        wire_key::check(key)?;
        let server = self.server(key);
        match server.call(command(protocol::delete(key), Expect::Status)).await? {
            Reply::Status(Status::Deleted) => Ok(true),
            Reply::Status(Status::NotFound) => Ok(false),
            other => Err(refused(server, other)),
        }
    }

    /// memcached's `incr` for a positive delta, `decr` for a negative one (it takes no negative
    /// amounts). A decrement stops at zero. A result past `i64::MAX` — memcached counts to 2^64 and
    /// then wraps — is undone and reported as `Overflow`.
    async fn incr(&self, key: &str, delta: i64) -> BackendResult<i64> {
        wire_key::check(key)?;
        let server = self.server(key);
        let increment = delta >= 0;
        let amount = delta.unsigned_abs();
        let value = match server
            .call(command(protocol::arithmetic(increment, key, amount), Expect::Number))
            .await?
        {
            Reply::Number(value) => value,
            Reply::Status(Status::NotFound) => return Err(BackendError::key_not_found()),
            Reply::Error(error) if error.is_non_numeric() => {
                return Err(BackendError::not_an_integer());
            }
            other => return Err(refused(server, other)),
        };
        let wrapped = increment && value < amount;
        if !wrapped && value <= i64::MAX as u64 {
            return Ok(value as i64);
        }
        // Undo, so the stored value is what it was. memcached's incr wraps modulo 2^64, so adding
        // 2^64 - amount restores an increment exactly; a decrement that lands above i64::MAX never
        // stopped at zero, so adding the amount back restores it.
        let undo = if increment { amount.wrapping_neg() } else { amount };
        if undo != 0 {
            let undone = server
                .call(command(protocol::arithmetic(true, key, undo), Expect::Number))
                .await;
            match undone {
                Ok(Reply::Number(_)) | Ok(Reply::Status(Status::NotFound)) => {}
                Ok(other) => return Err(refused(server, other)),
                Err(error) => {
                    return Err(BackendError::new(error.kind().clone())
                        .with_detail(format!(
                            "incrementing by {delta} overflowed a signed 64-bit integer, and undoing it failed \
                             ({error}), so the stored value may be left changed"
                        ))
                        .on_server(server.name())
                        .with_source(error));
                }
            }
        }
        Err(BackendError::overflow(delta))
    }

    /// One multi-get per server (several `get` commands pipelined in one round trip past 1024
    /// keys), the servers asked concurrently.
    async fn get_many(&self, keys: &[&str]) -> BackendResult<Vec<Option<Bytes>>> {
        for key in keys {
            wire_key::check(key)?;
        }
        let mut found = vec![None; keys.len()];
        let answers = self
            .fan_out(keys.iter().copied(), |group| {
                group
                    .chunks(KEYS_PER_GET)
                    .map(|chunk| command(protocol::get(chunk.iter().map(|&i| keys[i])), Expect::Values))
                    .collect()
            })
            .await?;
        for (server, group, replies) in answers {
            for (chunk, reply) in group.chunks(KEYS_PER_GET).zip(replies) {
                let Reply::Values(hits) = reply else {
                    return Err(refused(server, reply));
                };
                // The reader matched each hit to the key of the chunk it answers (a key asked twice
                // gets two hits); a value for a key not asked for is a protocol error there.
                for hit in hits {
                    found[chunk[hit.index]] = Some(hit.value);
                }
            }
        }
        Ok(found)
    }

    /// The sets for each server pipelined in one round trip, the servers written concurrently.
    /// A value over the size limit, or one the server refuses (`SERVER_ERROR object too large`,
    /// `out of memory`, `NOT_STORED`), is a failed key; the others are stored.
    async fn set_many(&self, items: &[(&str, Bytes)], expiry: Expiry) -> BackendResult<Vec<String>> {
        for (key, _) in items {
            wire_key::check(key)?;
        }
        let exptime = exptime(expiry, unix_now())?;
        let limit = self.inner.options.max_value_bytes();
        let mut failed = Vec::new();
        let fitting: Vec<&(&str, Bytes)> = items
            .iter()
            .filter(|(key, value)| {
                let fits = value.len() <= limit;
                if !fits {
                    failed.push((*key).to_owned());
                }
                fits
            })
            .collect();
        let answers = self
            .fan_out(fitting.iter().map(|(key, _)| *key), |group| {
                group
                    .iter()
                    .map(|&i| {
                        let (key, value) = fitting[i];
                        Command {
                            line: protocol::store(Store::Set, key, exptime, value.len()),
                            data: Some(value.clone()),
                            expect: Expect::Status,
                        }
                    })
                    .collect()
            })
            .await?;
        for (server, group, replies) in answers {
            for (&i, reply) in group.iter().zip(replies) {
                let key = fitting[i].0;
                match reply {
                    Reply::Status(Status::Stored) => {}
                    Reply::Status(Status::NotStored) | Reply::Error(_) => {
                        tracing::debug!(server = %server.address(), key, "set_many: not stored: {reply:?}");
                        failed.push(key.to_owned());
                    }
                    other => return Err(refused(server, other)),
                }
            }
        }
        Ok(failed)
    }

    /// The deletes for each server pipelined in one round trip, the servers concurrently.
    async fn delete_many(&self, keys: &[&str]) -> BackendResult<()> {
        for key in keys {
            wire_key::check(key)?;
        }
        let answers = self
            .fan_out(keys.iter().copied(), |group| {
                group
                    .iter()
                    .map(|&i| command(protocol::delete(keys[i]), Expect::Status))
                    .collect()
            })
            .await?;
        for (server, _, replies) in answers {
            for reply in replies {
                match reply {
                    Reply::Status(Status::Deleted | Status::NotFound) => {}
                    other => return Err(refused(server, other)),
                }
            }
        }
        Ok(())
    }

    /// `flush_all` on every server, concurrently: everything on them goes, whoever stored it
    /// (Django's behaviour).
    async fn clear(&self) -> BackendResult<()> {
        try_join_all(self.inner.servers.iter().map(|server| async move {
            match server.call(command(protocol::flush_all(), Expect::Status)).await? {
                Reply::Status(Status::Ok) => Ok(()),
                other => Err(refused(server, other)),
            }
        }))
        .await
        .map(drop)
    }

    /// Every server is asked for a key that doesn't exist, all at once, each within
    /// `response_timeout`: a server that doesn't answer is named, and the others still count.
    async fn probe(&self) -> Vec<ServerHealth> {
        let probes = self.inner.servers.iter().map(|server| {
            let asked = async move {
                match server
                    .call(command(protocol::get([HEALTH_CHECK_KEY]), Expect::Values))
                    .await?
                {
                    Reply::Values(_) => Ok(()),
                    other => Err(refused(server, other)),
                }
            };
            ServerHealth::measure(server.address().to_string(), ServerRole::Server, asked)
        });
        futures::future::join_all(probes).await
    }

    /// Drops every connection (Django's `disconnect_all`); the next operation opens new ones.
    async fn close(&self) -> BackendResult<()> {
        for server in &self.inner.servers {
            server.disconnect();
        }
        Ok(())
    }
}

fn command(line: Vec<u8>, expect: Expect) -> Command {
    Command {
        line,
        data: None,
        expect,
    }
}

/// A reply the operation can't use: the server refused the command, or answered out of turn.
fn refused(server: &Server, reply: Reply) -> BackendError {
    let error = match reply {
        // Out of memory may pass once the server evicts; other refusals will repeat.
        Reply::Error(error) if error.is_out_of_memory() => {
            BackendError::refused_by_server(error.to_string()).retryable(true)
        }
        Reply::Error(error) => BackendError::refused_by_server(format!("refused the command: {error}")),
        other => BackendError::protocol(format!("unexpected reply {other:?}")),
    };
    error.on_server(server.name())
}
