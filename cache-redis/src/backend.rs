//! [`RedisBackend`]: the `CacheBackend` over one server, a writer with readers, or a Redis Cluster.

use std::cell::Cell;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use cache_core::{
    BackendConfig, BackendError, BackendResult, CacheBackend, CacheError, Capabilities, CircuitPermit, CircuitSettings,
    CircuitState, CircuitStats, Expiry, Location, Remaining, Result, ServerHealth, ServerRole, Unavailability,
    async_trait,
};
use futures::FutureExt;
use redis::aio::ConnectionLike;
use redis::cluster::ClusterClient;
use redis::cluster_routing::{MultipleNodeRoutingInfo, RoutingInfo, SingleNodeRoutingInfo};
use redis::{Cmd, FromRedisValue, Pipeline, RedisError, RedisResult, Value};

use crate::builder::RedisBuilder;
use crate::cluster_nodes;
use crate::cluster_watch::ClusterWatch;
use crate::coalesce::Read;
use crate::connection::{Conn, Connect, Node};
use crate::error::{ConnectTimedOut, Failure, breaks_connection, from_redis, server_failed, unexpected};
use crate::location::{self, ServerUrl};
use crate::options::{ClearMode, RedisOptions};
use crate::scripts::{INCR, LuaScript, PERSIST};

/// Django's `RedisCache` (`django.core.cache.backends.redis.RedisCache`) on redis-rs.
///
/// - One location: every command goes to that server.
/// - Several locations (Django's rule): the first is the writer and receives every write; each read
///   (`get`, `get_many`, `has_key`) goes to one of the others, chosen at random per read.
/// - `options.cluster = true`: the locations are seed nodes of a Redis Cluster; each command goes to
///   the master owning its key's slot, and multi-key commands are split by slot.
///
/// Each server has one multiplexed connection, opened on first use (building a `Caches` never
/// waits for a server) and opened again after it breaks. Concurrent `get`s to one server go out as
/// one `MGET` unless `options.batch_reads` is off (see the crate docs, "Batched reads"). Every call is bounded by
/// `options.response_timeout`; a server that is down, unreachable or too slow is a retryable
/// [`BackendError`] naming the server and the command.
#[derive(Clone)]
pub struct RedisBackend {
    inner: Arc<Inner>,
}

struct Inner {
    alias: String,
    /// Receives every write; with one location (or a cluster) every read too.
    writer: Node,
    /// The other locations; a read picks one at random. Empty for one location and for a cluster.
    readers: Vec<Node>,
    cluster: bool,
    /// Replaces a cluster connection that stopped answering altogether (`None` off a cluster).
    cluster_watch: Option<ClusterWatch>,
    /// Concurrent `get`s to one server go out as one `MGET` (`options.batch_reads`, never on a
    /// cluster).
    batch_reads: bool,
    response_timeout: Duration,
    clear: ClearPlan,
    /// `WAIT <readers> <ms>` after every write (`options.wait_for_replicas`).
    wait: Option<(usize, u64)>,
}

/// What `clear()` does, settled at build time.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ClearPlan {
    /// `SCAN MATCH` this pattern on every master, `UNLINK` what it finds.
    Scan(String),
    /// `FLUSHDB`.
    FlushDb,
    /// `options.clear = "prefix"` on an alias whose custom key function hides the prefix.
    Unknown,
}

/// The longest expiry sent, in milliseconds (about 146 million years): Redis refuses an expiry whose
/// absolute time overflows a signed 64-bit number of milliseconds; longer ones are an error.
const MAX_EXPIRY_MS: u128 = 1 << 62;

/// Keys per `SCAN` page when `clear()` looks for this alias' keys.
const SCAN_COUNT: usize = 1000;

impl RedisBackend {
    /// Builds a backend in code, with no configuration: its servers and options.
    pub fn builder() -> RedisBuilder {
        RedisBuilder::new()
    }

    /// The backend for one alias of a configuration: what the registered factory builds.
    ///
    /// Checks the options and every URL of the location now, so a typo fails `Caches::build`
    /// naming the alias; no connection is opened until the first call.
    pub fn from_config(config: &BackendConfig<'_>) -> Result<Self> {
        match RedisOptions::from_options(config.alias, config.options) {
            Ok(options) => Self::create(Some(config.alias), config.location, options, config.key_prefix),
            Err(error) => {
                // The location's own problems too, so one run reports every fix to make.
                let location = location::server_urls(Some(config.alias), config.location, &RedisOptions::default());
                Err(CacheError::together(error, location.err()))
            }
        }
    }

    /// The backend over `location` with checked `options`; `alias` names the alias in errors when
    /// there is one, `key_prefix` is the one `clear()` scans for (`None`: unknown).
    pub(crate) fn create(
        alias: Option<&str>,
        location: &Location,
        options: RedisOptions,
        key_prefix: Option<&str>,
    ) -> Result<Self> {
        let servers = location::server_urls(alias, location, &options)?;
        let certificates = location::tls_certificates(alias, &options)?;
        let (writer, readers) = if options.cluster {
            (
                cluster_node(alias, &servers, &options, certificates.as_ref())?,
                Vec::new(),
            )
        } else {
            let mut nodes = servers
                .iter()
                .map(|server| {
                    let client = location::client(alias, server, certificates.as_ref())?;
                    Ok(server_node(server, client, &options))
                })
                .collect::<Result<Vec<_>>>()?;
            let writer = nodes.remove(0);
            (writer, nodes)
        };
        let wait = if options.wait_for_replicas {
            if options.cluster {
                return Err(CacheError::config(
                    alias,
                    "options.wait_for_replicas",
                    "isn't available with `cluster = true`: a cluster's reads go to the masters, which have every write",
                ));
            }
            if readers.is_empty() {
                return Err(CacheError::config(
                    alias,
                    "options.wait_for_replicas",
                    "needs at least two locations (a writer, then its replicas); there is nothing to wait for",
                ));
            }
            Some((readers.len(), options.response_timeout.as_millis().max(1) as u64))
        } else {
            None
        };
        let clear = match options.clear {
            ClearMode::Prefix => {
                key_prefix.map_or(ClearPlan::Unknown, |prefix| ClearPlan::Scan(prefix_pattern(prefix)))
            }
            ClearMode::Pattern(pattern) => ClearPlan::Scan(pattern),
            ClearMode::FlushDb => ClearPlan::FlushDb,
        };
        Ok(RedisBackend {
            inner: Arc::new(Inner {
                // A backend built in code has no alias until a `Cache` names it; messages then show none.
                alias: alias.unwrap_or_default().to_owned(),
                writer,
                readers,
                cluster: options.cluster,
                cluster_watch: options.cluster.then(|| ClusterWatch::new(options.response_timeout)),
                batch_reads: options.batch_reads && !options.cluster,
                response_timeout: options.response_timeout,
                clear,
                wait,
            }),
        })
    }

    /// The servers, writer first, as shown in messages (passwords replaced by `***`); for a
    /// cluster, one entry naming its seed nodes.
    pub fn servers(&self) -> Vec<&str> {
        std::iter::once(&self.inner.writer)
            .chain(&self.inner.readers)
            .map(Node::shown)
            .collect()
    }

    /// Every server's circuit breaker counters, added up (the writer's and each reader's; a
    /// cluster connection has no breaker, so its counters stay at zero): how often a circuit opened, reopened after a failed probe, let a probe
    /// through, closed, and how many calls it refused at once.
    pub fn circuit_stats(&self) -> CircuitStats {
        std::iter::once(&self.inner.writer)
            .chain(&self.inner.readers)
            .map(|node| node.breaker().stats())
            .fold(CircuitStats::default(), CircuitStats::merge)
    }

    /// Where each server's circuit breaker stands, writer first, in the order of
    /// [`RedisBackend::servers`].
    pub fn circuit_states(&self) -> Vec<CircuitState> {
        std::iter::once(&self.inner.writer)
            .chain(&self.inner.readers)
            .map(|node| node.breaker().state())
            .collect()
    }

    /// Whether the location is a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        self.inner.cluster
    }

    /// The `SCAN MATCH` pattern `clear()` uses, or `None` when it runs `FLUSHDB` or can't know the
    /// alias' keys.
    pub fn clear_pattern(&self) -> Option<&str> {
        match &self.inner.clear {
            ClearPlan::Scan(pattern) => Some(pattern),
            ClearPlan::FlushDb | ClearPlan::Unknown => None,
        }
    }

    /// The node a read goes to: a reader at random, or the writer when there are none.
    #[inline]
    fn reader(&self) -> &Node {
        match self.inner.readers.len() {
            0 => &self.inner.writer,
            1 => &self.inner.readers[0],
            n => &self.inner.readers[random_below(n)],
        }
    }

    /// One round trip to `node`, bounded by `response_timeout`: connects first if needed, runs
    /// `request` on the connection, and hands the connection back for the next call unless the
    /// failure broke it.
    async fn round_trip<T>(
        &self,
        node: &Node,
        request: impl AsyncFnOnce(&mut Conn) -> RedisResult<T>,
    ) -> std::result::Result<T, Failure> {
        // redis-rs' sockets and our timeouts need tokio's reactor and timer: without them they panic.
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Failure::NoRuntime);
        }
        cache_core::observe::record_server(&node.shown());
        let Ok(permit) = node.breaker().admit() else {
            return Err(Failure::CircuitOpen(*node.breaker().settings()));
        };
        // The generation of the connection used, once there is one (generations start at 1).
        let used = AtomicU64::new(0);
        let work = async {
            let (mut connection, generation) = node.connection().await?;
            used.store(generation, Ordering::Relaxed);
            let reply = request(&mut connection).await;
            if reply.as_ref().err().is_none_or(|error| !breaks_connection(error)) {
                node.give_back(connection, generation);
            }
            reply
        };
        let outcome = tokio::time::timeout(self.inner.response_timeout, work).await;
        let result = self.settle(node, &used, outcome);
        record(permit, &result);
        result
    }

    /// The result of a round trip to `node`: a failure that a new connection may fix (or no
    /// answer in time) drops the connection it used. A cluster connection reconnects to its nodes
    /// by itself, so it is only dropped once it stops answering altogether (see [`ClusterWatch`]).
    fn settle<T>(
        &self,
        node: &Node,
        used: &AtomicU64,
        outcome: std::result::Result<RedisResult<T>, tokio::time::error::Elapsed>,
    ) -> std::result::Result<T, Failure> {
        if let Some(watch) = &self.inner.cluster_watch {
            let generation = used.load(Ordering::Relaxed);
            match &outcome {
                Ok(Ok(_)) => watch.answered(generation),
                Ok(Err(error)) if !server_failed(error) => watch.answered(generation),
                Ok(Err(_)) | Err(_) => watch.unanswered(node, generation),
            }
        }
        match outcome {
            Ok(Ok(replies)) => Ok(replies),
            Ok(Err(error)) => {
                let generation = used.load(Ordering::Relaxed);
                if generation != 0 && !self.inner.cluster && breaks_connection(&error) {
                    node.discard(generation);
                }
                Err(Failure::Redis(error))
            }
            Err(_elapsed) => {
                // A reply may still arrive on that socket, for a caller that is gone: start afresh.
                let generation = used.load(Ordering::Relaxed);
                if generation != 0 && !self.inner.cluster {
                    node.discard(generation);
                }
                Err(Failure::TimedOut(self.inner.response_timeout))
            }
        }
    }

    /// One command, one reply.
    async fn query(&self, node: &Node, operation: &'static str, cmd: &Cmd) -> BackendResult<Value> {
        self.send(node, cmd)
            .await
            .map_err(|failure| failure.into_error(node.shown(), operation))
    }

    /// Every node of the cluster from `CLUSTER NODES`, or the cluster connection's failure.
    async fn probe_cluster(&self) -> Vec<ServerHealth> {
        let cluster = &self.inner.writer;
        let started = std::time::Instant::now();
        let reply = self
            .query(cluster, "CLUSTER NODES", &redis::cmd("CLUSTER").arg("NODES").clone())
            .await
            .and_then(|reply| {
                String::from_redis_value(reply.clone())
                    .map_err(|_| unexpected(cluster.shown(), "CLUSTER NODES", &reply))
            });
        let elapsed = started.elapsed();
        let nodes = match reply {
            Ok(text) => cluster_nodes::parse(&text),
            Err(error) => return vec![ServerHealth::new(cluster.shown(), ServerRole::ClusterNode, Err(error))],
        };
        if nodes.is_empty() {
            let error =
                BackendError::protocol("CLUSTER NODES listed no node").on_server(format!("redis {}", cluster.shown()));
            return vec![ServerHealth::new(cluster.shown(), ServerRole::ClusterNode, Err(error))];
        }
        nodes
            .into_iter()
            .map(|node| {
                let status = match node.failing {
                    None => Ok(elapsed),
                    Some(flag) => Err(BackendError::unavailable(
                        Unavailability::Refused,
                        format!(
                            "the cluster flags this {} `{flag}`: it is unreachable from the other nodes; check the                              server process and its network",
                            node.role
                        ),
                    )
                    .on_server(format!("redis {}", node.address))),
                };
                ServerHealth::new(node.address, ServerRole::ClusterNode, status)
            })
            .collect()
    }

    /// One command, one reply, the failure not yet told as a `BackendError`.
    async fn send(&self, node: &Node, cmd: &Cmd) -> std::result::Result<Value, Failure> {
        self.round_trip(node, async |connection: &mut Conn| {
            connection.req_packed_command(cmd).await?.extract_error()
        })
        .await
    }

    /// The reply to a `get` of `key` on a server (not a cluster): a `GET` of its own, or a place
    /// in a batched `MGET` when other reads to the same server are in flight (see
    /// [`ReadCoalescer`](crate::coalesce::ReadCoalescer)).
    async fn read(&self, node: &Node, key: &str) -> BackendResult<Value> {
        // Batching spawns the MGET's sender: without a runtime that would panic.
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Failure::NoRuntime.into_error(node.shown(), "GET"));
        }
        // Named here too: a batched read's round trip runs in the batch's own task.
        cache_core::observe::record_server(&node.shown());
        let read = node.reads().read(key, || {
            let (backend, node) = (self.clone(), node.clone());
            move |mget: Cmd| async move { backend.send(&node, &mget).await }
        });
        match read {
            Read::Alone(_in_flight) => self.read_alone(node, key).await,
            // The batch's sender bounds its round trip by `response_timeout` too, but it may start
            // late (its worker busy with a long poll): each caller keeps its own deadline.
            Read::Batched { replies, index } => tokio::time::timeout(self.inner.response_timeout, replies)
                .await
                .unwrap_or(Err(Failure::TimedOut(self.inner.response_timeout)))
                .map(|replies| replies.take(index))
                .map_err(|failure| failure.into_error(node.shown(), "GET (batched in an MGET)")),
        }
    }

    /// The reply to a `GET` of `key`. A key holding a list, a set… reads as missing, as it does in
    /// an `MGET`.
    async fn read_alone(&self, node: &Node, key: &str) -> BackendResult<Value> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(key);
        match self.send(node, &cmd).await {
            Err(failure) if failure.is_wrong_type() => Ok(Value::Nil),
            reply => reply.map_err(|failure| failure.into_error(node.shown(), "GET")),
        }
    }

    /// A pipeline: one write, one read of every reply.
    async fn query_pipeline(
        &self,
        node: &Node,
        operation: &'static str,
        pipeline: &Pipeline,
    ) -> BackendResult<Vec<Value>> {
        self.round_trip(node, async |connection: &mut Conn| {
            pipeline.query_async(connection).await
        })
        .await
        .map_err(|failure| failure.into_error(node.shown(), operation))
    }

    /// Commands sent at once on a cluster connection, which routes each to its node (and pipelines
    /// those for the same node): one reply per command.
    async fn query_concurrent(&self, node: &Node, operation: &'static str, cmds: &[Cmd]) -> BackendResult<Vec<Value>> {
        self.round_trip(node, async |connection: &mut Conn| {
            let sent = cmds.iter().map(|cmd| {
                let mut connection = connection.clone();
                async move { connection.req_packed_command(cmd).await?.extract_error() }
            });
            futures::future::try_join_all(sent).await
        })
        .await
        .map_err(|failure| failure.into_error(node.shown(), operation))
    }

    /// `SCAN` sent to the cluster nodes `routing` names.
    async fn query_routed(&self, node: &Node, cmd: Cmd, routing: RoutingInfo) -> BackendResult<Value> {
        self.round_trip(node, async move |connection: &mut Conn| match connection {
            Conn::Cluster(cluster) => cluster.route_command(cmd, routing).await,
            Conn::Server(server) => server.req_packed_command(&cmd).await?.extract_error(),
        })
        .await
        .map_err(|failure| failure.into_error(node.shown(), "SCAN"))
    }

    /// A write: one command to the writer, followed in the same round trip by `WAIT` when
    /// `options.wait_for_replicas` asks for it.
    async fn write(&self, operation: &'static str, cmd: Cmd) -> BackendResult<Value> {
        let Some((replicas, wait_ms)) = self.inner.wait else {
            return self.query(&self.inner.writer, operation, &cmd).await;
        };
        let mut pipeline = redis::pipe();
        pipeline.add_command(cmd);
        let replies = self.write_pipeline(operation, pipeline, replicas, wait_ms).await?;
        Ok(replies.into_iter().next().unwrap_or(Value::Nil))
    }

    /// Sends `pipeline` (errors kept in place) with `WAIT` appended, checks the `WAIT` and returns
    /// the other replies.
    async fn write_pipeline(
        &self,
        operation: &'static str,
        mut pipeline: Pipeline,
        replicas: usize,
        wait_ms: u64,
    ) -> BackendResult<Vec<Value>> {
        // A refused write mustn't stop the WAIT; its error is told once the WAIT is checked.
        pipeline.ignore_errors().cmd("WAIT").arg(replicas).arg(wait_ms);
        let mut replies = self.query_pipeline(&self.inner.writer, operation, &pipeline).await?;
        match replies.pop() {
            Some(Value::Int(acknowledged)) if acknowledged as usize >= replicas => {}
            Some(Value::Int(acknowledged)) => tracing::warn!(
                alias = %self.inner.alias,
                "redis {}: {operation}: {acknowledged} of {replicas} replicas acknowledged the write within {wait_ms} ms",
                self.inner.writer.shown()
            ),
            other => {
                return Err(unexpected(
                    self.inner.writer.shown(),
                    "WAIT",
                    &other.unwrap_or(Value::Nil),
                ));
            }
        }
        replies
            .into_iter()
            .map(|reply| {
                reply
                    .extract_error()
                    .map_err(|error| from_redis(self.inner.writer.shown(), operation, error))
            })
            .collect()
    }

    /// Runs a script on the writer: `EVALSHA`, then `EVAL` if the server doesn't know it yet.
    async fn run_script(
        &self,
        script: &LuaScript,
        operation: &'static str,
        key: &str,
        args: &[&[u8]],
    ) -> BackendResult<Value> {
        match self.write(operation, script.evalsha(key, args)).await {
            Err(error) if is_no_script(&error) => self.write(operation, script.eval(key, args)).await,
            result => result,
        }
    }

    async fn clear_by_pattern(&self, pattern: &str) -> BackendResult<()> {
        let writer = &self.inner.writer;
        if !self.inner.cluster {
            let mut cursor = 0u64;
            loop {
                let reply = self.query(writer, "SCAN", &scan(cursor, pattern)).await?;
                let (next, keys) = scan_page(writer.shown(), reply)?;
                self.unlink(keys).await?;
                if next == 0 {
                    return Ok(());
                }
                cursor = next;
            }
        }
        // A cluster: every master has its own keyspace and cursor. The first page comes from all
        // masters at once, keyed by address; each is then followed on its own node.
        let all_masters = RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, None));
        let first = self.query_routed(writer, scan(0, pattern), all_masters).await?;
        let Value::Map(pages) = first else {
            return Err(BackendError::protocol("SCAN on every master gave no per-node replies")
                .on_server(format!("redis {}", writer.shown())));
        };
        for (address, mut reply) in pages {
            let address =
                String::from_redis_value(address.clone()).map_err(|_| unexpected(writer.shown(), "SCAN", &address))?;
            let (host, port) = address
                .rsplit_once(':')
                .and_then(|(host, port)| Some((host.to_owned(), port.parse::<u16>().ok()?)))
                .ok_or_else(|| unexpected(writer.shown(), "SCAN", &Value::SimpleString(address.clone())))?;
            loop {
                let (next, keys) = scan_page(writer.shown(), reply)?;
                self.unlink(keys).await?;
                if next == 0 {
                    break;
                }
                let node = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                    host: host.clone(),
                    port,
                });
                reply = self.query_routed(writer, scan(next, pattern), node).await?;
            }
        }
        Ok(())
    }

    async fn unlink(&self, keys: Vec<Value>) -> BackendResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("UNLINK");
        for key in keys {
            if let Value::BulkString(key) = key {
                cmd.arg(key);
            }
        }
        self.write("UNLINK", cmd).await.map(drop)
    }
}

#[async_trait]
impl CacheBackend for RedisBackend {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::lenient()
    }

    async fn get(&self, key: &str) -> BackendResult<Option<Bytes>> {
        let node = self.reader();
        let reply = if self.inner.batch_reads {
            self.read(node, key).await?
        } else {
            self.read_alone(node, key).await?
        };
        match reply {
            Value::BulkString(bytes) => Ok(Some(Bytes::from(bytes))),
            Value::Nil => Ok(None),
            other => Err(unexpected(node.shown(), "GET", &other)),
        }
    }

    async fn set(&self, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<()> {
        self.write("SET", set(key, &value, expiry)?).await.map(drop)
    }

    async fn add(&self, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<bool> {
        let mut cmd = set(key, &value, expiry)?;
        cmd.arg("NX");
        match self.write("SET NX", cmd).await? {
            Value::Okay => Ok(true),
            Value::Nil => Ok(false),
            other => Err(unexpected(self.inner.writer.shown(), "SET NX", &other)),
        }
    }

    async fn touch(&self, key: &str, expiry: Expiry) -> BackendResult<bool> {
        let reply = match expiry {
            Expiry::After(duration) => {
                let mut cmd = redis::cmd("PEXPIRE");
                cmd.arg(key).arg(milliseconds(duration)?);
                self.write("PEXPIRE", cmd).await?
            }
            Expiry::Never => self.run_script(&PERSIST, "PERSIST script", key, &[]).await?,
        };
        match reply {
            Value::Int(existed) => Ok(existed == 1),
            other => Err(unexpected(self.inner.writer.shown(), "touch", &other)),
        }
    }

    async fn delete(&self, key: &str) -> BackendResult<bool> {
        let mut cmd = redis::cmd("UNLINK");
        cmd.arg(key);
        match self.write("UNLINK", cmd).await? {
            Value::Int(removed) => Ok(removed > 0),
            other => Err(unexpected(self.inner.writer.shown(), "UNLINK", &other)),
        }
    }

    async fn incr(&self, key: &str, delta: i64) -> BackendResult<i64> {
        let mut digits = itoa::Buffer::new();
        let delta_text = digits.format(delta).as_bytes();
        let reply = self.run_script(&INCR, "incr script", key, &[delta_text]).await?;
        let shown = self.inner.writer.shown();
        let Value::Array(parts) = &reply else {
            return Err(unexpected(shown, "incr script", &reply));
        };
        match parts.as_slice() {
            [Value::Int(0)] => Err(BackendError::key_not_found()),
            [Value::Int(1), Value::BulkString(value)] => std::str::from_utf8(value)
                .ok()
                .and_then(|text| text.parse::<i64>().ok())
                .ok_or_else(|| unexpected(shown, "incr script", &reply)),
            [Value::Int(2)] => Err(BackendError::not_an_integer()),
            [Value::Int(3)] => Err(BackendError::overflow(delta)),
            _ => Err(unexpected(shown, "incr script", &reply)),
        }
    }

    async fn get_many(&self, keys: &[&str]) -> BackendResult<Vec<Option<Bytes>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut cmd = redis::cmd("MGET");
        for key in keys {
            cmd.arg(*key);
        }
        let node = self.reader();
        match self.query(node, "MGET", &cmd).await? {
            Value::Array(values) if values.len() == keys.len() => values
                .into_iter()
                .map(|value| match value {
                    Value::BulkString(bytes) => Ok(Some(Bytes::from(bytes))),
                    Value::Nil => Ok(None),
                    other => Err(unexpected(node.shown(), "MGET", &other)),
                })
                .collect(),
            other => Err(unexpected(node.shown(), "MGET", &other)),
        }
    }

    async fn set_many(&self, items: &[(&str, Bytes)], expiry: Expiry) -> BackendResult<Vec<String>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let writer = &self.inner.writer;
        match (expiry, self.inner.cluster) {
            // MSET replaces the values and removes any expiry, in one command (split by slot on a cluster).
            (Expiry::Never, _) => {
                let mut cmd = redis::cmd("MSET");
                for (key, value) in items {
                    cmd.arg(*key).arg(value.as_ref());
                }
                self.write("MSET", cmd).await?;
            }
            (Expiry::After(_), true) => {
                let cmds = items
                    .iter()
                    .map(|(key, value)| set(key, value, expiry))
                    .collect::<BackendResult<Vec<Cmd>>>()?;
                self.query_concurrent(writer, "SET (set_many)", &cmds).await?;
            }
            (Expiry::After(_), false) => {
                let mut pipeline = redis::pipe();
                for (key, value) in items {
                    pipeline.add_command(set(key, value, expiry)?);
                }
                match self.inner.wait {
                    Some((replicas, wait_ms)) => {
                        self.write_pipeline("SET (set_many)", pipeline, replicas, wait_ms)
                            .await?;
                    }
                    None => {
                        self.query_pipeline(writer, "SET (set_many)", &pipeline).await?;
                    }
                }
            }
        }
        Ok(Vec::new())
    }

    async fn delete_many(&self, keys: &[&str]) -> BackendResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("UNLINK");
        for key in keys {
            cmd.arg(*key);
        }
        self.write("UNLINK", cmd).await.map(drop)
    }

    async fn has_key(&self, key: &str) -> BackendResult<bool> {
        let mut cmd = redis::cmd("EXISTS");
        cmd.arg(key);
        let node = self.reader();
        match self.query(node, "EXISTS", &cmd).await? {
            Value::Int(found) => Ok(found > 0),
            other => Err(unexpected(node.shown(), "EXISTS", &other)),
        }
    }

    async fn clear(&self) -> BackendResult<()> {
        match &self.inner.clear {
            ClearPlan::Scan(pattern) => self.clear_by_pattern(pattern).await,
            ClearPlan::FlushDb => self.write("FLUSHDB", redis::cmd("FLUSHDB")).await.map(drop),
            ClearPlan::Unknown => Err(BackendError::unsupported(
                "this alias makes its keys with a custom key function, so clear() can't tell them from other \
                 keys; set options.clear_pattern to a Redis glob matching them (\"myapp:*\", say), or \
                 options.clear = \"flushdb\" to empty the whole database",
            )),
        }
    }

    /// The writer and each replica answer a `PING`, all at once. A cluster is asked for
    /// `CLUSTER NODES` and each node is reported as the cluster sees it (failing when flagged
    /// `fail`, `fail?` or `noaddr`), with the round trip's time.
    async fn probe(&self) -> Vec<ServerHealth> {
        if self.inner.cluster {
            return self.probe_cluster().await;
        }
        let nodes = std::iter::once((&self.inner.writer, ServerRole::Writer))
            .chain(self.inner.readers.iter().map(|reader| (reader, ServerRole::Replica)));
        let ping = redis::cmd("PING");
        let probes =
            nodes.map(|(node, role)| ServerHealth::measure(node.shown(), role, self.query(node, "PING", &ping)));
        futures::future::join_all(probes).await
    }

    /// `GET` and `PTTL` in one pipeline (one round trip, outside the batched `MGET`s), so a
    /// near tier in front of this alias never keeps a copy past the entry's expiry. On a
    /// cluster, or for a key holding another type, the lifetime is unknown.
    ///
    /// Read from the writer, not a replica: a near tier fills from this read right after another
    /// process's invalidation, and a replica that hasn't applied the write yet would hand back the
    /// old value, kept near for up to `near_timeout`.
    async fn get_with_remaining(&self, key: &str) -> BackendResult<Option<(Bytes, Remaining)>> {
        if self.inner.cluster {
            return Ok(self.get(key).await?.map(|value| (value, Remaining::Unknown)));
        }
        let node = &self.inner.writer;
        let mut pipeline = redis::pipe();
        pipeline.cmd("GET").arg(key).cmd("PTTL").arg(key);
        let replies = match self.query_pipeline(node, "GET + PTTL", &pipeline).await {
            Ok(replies) => replies,
            // WRONGTYPE: the plain `GET`'s answer (a miss) is the answer.
            Err(error) if matches!(error.kind(), cache_core::ErrorKind::RefusedByServer) => {
                return Ok(self.get(key).await?.map(|value| (value, Remaining::Unknown)));
            }
            Err(error) => return Err(error),
        };
        let mut replies = replies.into_iter();
        match (replies.next(), replies.next(), replies.next()) {
            (Some(Value::Nil), Some(_), None) => Ok(None),
            (Some(Value::BulkString(bytes)), Some(ttl), None) => Ok(Some((Bytes::from(bytes), remaining(&ttl)))),
            (first, ..) => Err(unexpected(node.shown(), "GET + PTTL", &first.unwrap_or(Value::Nil))),
        }
    }

    /// `MGET` and a `PTTL` per key in one pipeline on the writer, for the same reasons as
    /// [`RedisBackend::get_with_remaining`]. On a cluster the lifetimes are unknown.
    async fn get_many_with_remaining(&self, keys: &[&str]) -> BackendResult<Vec<Option<(Bytes, Remaining)>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        if self.inner.cluster {
            let values = self.get_many(keys).await?;
            return Ok(values
                .into_iter()
                .map(|value| value.map(|value| (value, Remaining::Unknown)))
                .collect());
        }
        let node = &self.inner.writer;
        let mut pipeline = redis::pipe();
        let mget = pipeline.cmd("MGET");
        for key in keys {
            mget.arg(*key);
        }
        for key in keys {
            pipeline.cmd("PTTL").arg(*key);
        }
        const WHAT: &str = "MGET + PTTL";
        let mut replies = self.query_pipeline(node, WHAT, &pipeline).await?.into_iter();
        let values = match replies.next() {
            Some(Value::Array(values)) if values.len() == keys.len() => values,
            other => return Err(unexpected(node.shown(), WHAT, &other.unwrap_or(Value::Nil))),
        };
        let lifetimes: Vec<Value> = replies.collect();
        if lifetimes.len() != keys.len() {
            return Err(unexpected(node.shown(), WHAT, &Value::Array(lifetimes)));
        }
        values
            .into_iter()
            .zip(lifetimes)
            .map(|(value, ttl)| match value {
                Value::Nil => Ok(None),
                Value::BulkString(bytes) => Ok(Some((Bytes::from(bytes), remaining(&ttl)))),
                other => Err(unexpected(node.shown(), WHAT, &other)),
            })
            .collect()
    }

    async fn close(&self) -> BackendResult<()> {
        self.inner.writer.close();
        for reader in &self.inner.readers {
            reader.close();
        }
        Ok(())
    }
}

/// What a `PTTL` reply says an entry has left: -1 is no expiry; -2 means it expired (or was
/// deleted) between the read and the `PTTL`, so nothing is left; anything else is unknown, which a
/// near tier bounds by its own timeout.
fn remaining(ttl: &Value) -> Remaining {
    match ttl {
        Value::Int(-1) => Remaining::Never,
        Value::Int(-2) => Remaining::For(Duration::ZERO),
        Value::Int(millis) if *millis >= 0 => Remaining::For(Duration::from_millis(millis.unsigned_abs())),
        _ => Remaining::Unknown,
    }
}

impl fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBackend")
            .field("alias", &self.inner.alias)
            .field("writer", &self.inner.writer)
            .field("readers", &self.inner.readers)
            .field("cluster", &self.inner.cluster)
            .field(
                "cluster_connections_replaced",
                &self.inner.cluster_watch.as_ref().map(ClusterWatch::replaced),
            )
            .field("response_timeout", &self.inner.response_timeout)
            .field("clear", &self.inner.clear)
            .finish()
    }
}

/// Tells `node`'s circuit breaker how a round trip went: an answer (a refusal included) closes the
/// count, no answer (a timeout, a lost connection, a broken reply) counts towards opening.
fn record<T>(permit: CircuitPermit<'_>, result: &std::result::Result<T, Failure>) {
    match result {
        Ok(_) => permit.succeeded(),
        Err(Failure::TimedOut(_) | Failure::Unexpected(_)) => permit.failed(),
        Err(Failure::Redis(error)) if server_failed(error) => permit.failed(),
        Err(Failure::Redis(_)) => permit.succeeded(),
        Err(Failure::NoRuntime | Failure::CircuitOpen(_)) => drop(permit),
    }
}

/// `SET key value [PX ms]`: a value that never expires is stored without a TTL, removing any old one.
fn set(key: &str, value: &[u8], expiry: Expiry) -> BackendResult<Cmd> {
    let mut cmd = redis::cmd("SET");
    cmd.arg(key).arg(value);
    if let Expiry::After(duration) = expiry {
        cmd.arg("PX").arg(milliseconds(duration)?);
    }
    Ok(cmd)
}

/// A positive expiry in whole milliseconds, rounded up so that it never becomes 0 (which Redis
/// refuses) and never ends early. One Redis can't hold is an error before anything is sent, as
/// Django's Redis backend gets from the server ("invalid expire time"): nothing is stored and the
/// old value stays.
fn milliseconds(duration: Duration) -> BackendResult<u64> {
    let milliseconds = duration.as_nanos().div_ceil(1_000_000).max(1);
    if milliseconds > MAX_EXPIRY_MS {
        return Err(BackendError::unsupported(format!(
            "Redis can't store a timeout of {} seconds: expiries past 2^62 milliseconds (about 146 million \
             years) overflow its clock; use a shorter timeout or `never`",
            duration.as_secs()
        )));
    }
    // At most 2^62, so it fits.
    Ok(milliseconds as u64)
}

fn scan(cursor: u64, pattern: &str) -> Cmd {
    let mut cmd = redis::cmd("SCAN");
    cmd.arg(cursor).arg("MATCH").arg(pattern).arg("COUNT").arg(SCAN_COUNT);
    cmd
}

/// A `SCAN` reply: the next cursor and the keys of this page.
fn scan_page(server: &str, reply: Value) -> BackendResult<(u64, Vec<Value>)> {
    match reply {
        Value::Array(parts) => match <[Value; 2]>::try_from(parts) {
            Ok([Value::BulkString(cursor), Value::Array(keys)]) => {
                match std::str::from_utf8(&cursor).ok().and_then(|text| text.parse().ok()) {
                    Some(cursor) => Ok((cursor, keys)),
                    None => Err(unexpected(server, "SCAN", &Value::BulkString(cursor))),
                }
            }
            Ok(parts) => Err(unexpected(server, "SCAN", &Value::Array(parts.into()))),
            Err(parts) => Err(unexpected(server, "SCAN", &Value::Array(parts))),
        },
        other => Err(unexpected(server, "SCAN", &other)),
    }
}

/// The pattern matching every key the default key function makes for `prefix`:
/// `<prefix>:<version>:<key>`, where the version is an integer. Redis glob characters in the prefix
/// are escaped.
pub(crate) fn prefix_pattern(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 10);
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push_str(":[-0-9]*");
    pattern
}

/// The server doesn't have the script cached yet: the redis-rs error this backend attached as
/// the source of its own `BackendError`.
fn is_no_script(error: &BackendError) -> bool {
    use std::error::Error as _;
    error
        .source()
        .and_then(|source| source.downcast_ref::<RedisError>())
        .is_some_and(|error| error.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript))
}

/// The node for one server: a multiplexed connection, opened within `connect_timeout`.
fn server_node(server: &ServerUrl, client: redis::Client, options: &RedisOptions) -> Node {
    let connect_timeout = options.connect_timeout;
    // The response timeout is applied per call by `round_trip`, around the whole call.
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(connect_timeout))
        .set_response_timeout(None);
    let connect: Connect = Box::new(move || {
        let client = client.clone();
        let config = config.clone();
        async move {
            let opening = client.get_multiplexed_async_connection_with_config(&config);
            match tokio::time::timeout(connect_timeout, opening).await {
                Ok(connection) => connection.map(Conn::Server),
                Err(_) => Err(connect_timed_out(connect_timeout)),
            }
        }
        .boxed()
    });
    Node::new(server.shown.clone(), connect, options.circuit)
}

/// The node for a cluster: redis-rs' cluster connection, which keeps the slot map and one
/// connection per master, and reconnects to a node by itself.
fn cluster_node(
    alias: Option<&str>,
    servers: &[ServerUrl],
    options: &RedisOptions,
    certificates: Option<&TlsCertificatesOrUnit>,
) -> Result<Node> {
    #[cfg_attr(not(feature = "tls"), allow(unused_mut))]
    let mut builder = ClusterClient::builder(servers.iter().map(|server| server.info.clone()))
        .connection_timeout(options.connect_timeout)
        .response_timeout(options.response_timeout)
        .retries(2)
        .min_retry_wait(10)
        .max_retry_wait(100);
    #[cfg(feature = "tls")]
    if let Some(certificates) = certificates {
        builder = builder.certs(certificates.clone());
    }
    #[cfg(not(feature = "tls"))]
    let _ = certificates;
    let client = builder
        .build()
        .map_err(|error| location::client_error(alias, &servers[0], &error))?;
    let shown = format!(
        "cluster [{}]",
        servers
            .iter()
            .map(|server| server.shown.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    // Opening a cluster connection is a seed connection, `CLUSTER SLOTS`, then a connection per master.
    let connect_timeout = options.connect_timeout * 3;
    let connect: Connect = Box::new(move || {
        let client = client.clone();
        async move {
            match tokio::time::timeout(connect_timeout, client.get_async_connection()).await {
                Ok(connection) => connection.map(Conn::Cluster),
                Err(_) => Err(connect_timed_out(connect_timeout)),
            }
        }
        .boxed()
    });
    // No breaker on a cluster connection: it serves every master, and one master's failures
    // would fail the live masters' keys along with it. redis-rs reconnects to each node itself,
    // and `ClusterWatch` replaces a connection that stops answering altogether.
    Ok(Node::new(shown, connect, CircuitSettings::disabled()))
}

#[cfg(feature = "tls")]
type TlsCertificatesOrUnit = redis::TlsCertificates;
#[cfg(not(feature = "tls"))]
type TlsCertificatesOrUnit = ();

fn connect_timed_out(timeout: Duration) -> RedisError {
    RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        ConnectTimedOut(timeout),
    ))
}

/// A random index below `n`, from a per-thread xorshift generator (Django picks replicas with
/// `random.randint`; nothing here needs more than an even spread).
fn random_below(n: usize) -> usize {
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u64(0x9e37_79b9_7f4a_7c15);
            hasher.finish() | 1
        });
    }
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.set(x);
        (((x >> 32) * n as u64) >> 32) as usize
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries_are_whole_milliseconds_rounded_up() {
        assert_eq!(milliseconds(Duration::from_millis(1500)).unwrap(), 1500);
        assert_eq!(milliseconds(Duration::from_micros(1)).unwrap(), 1);
        assert_eq!(milliseconds(Duration::from_micros(1001)).unwrap(), 2);
        assert_eq!(milliseconds(Duration::from_millis(1 << 62)).unwrap(), 1 << 62);
        let error = milliseconds(Duration::from_millis((1 << 62) + 1)).unwrap_err();
        assert!(!error.is_retryable());
        assert!(
            error.to_string().contains("use a shorter timeout or `never`"),
            "{error}"
        );
        assert!(milliseconds(Duration::MAX).is_err());
    }

    #[test]
    fn prefix_patterns_escape_glob_characters() {
        assert_eq!(prefix_pattern(""), ":[-0-9]*");
        assert_eq!(prefix_pattern("cacheprefix"), "cacheprefix:[-0-9]*");
        assert_eq!(prefix_pattern("a*b?[c]\\d^"), "a\\*b\\?\\[c\\]\\\\d\\^:[-0-9]*");
    }

    #[test]
    fn random_indexes_cover_the_range() {
        let mut seen = [0usize; 3];
        for _ in 0..3000 {
            seen[random_below(3)] += 1;
        }
        assert!(seen.iter().all(|&count| count > 800), "{seen:?}");
    }
}
