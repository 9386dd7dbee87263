//! [`RedisCluster`]: a private Redis Cluster of several masters, optionally with replicas, each
//! node a `redis-server` child process.

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::ports::free_port;
use super::probe::Probe;
use super::process::ServerProcess;
use super::redis::base_args;

/// How long the nodes may take to agree that the cluster is up once the slots are assigned.
const CLUSTER_READY_TIMEOUT: Duration = Duration::from_secs(20);

/// How often to ask the nodes while waiting for them to agree.
const CLUSTER_PROBE_INTERVAL: Duration = Duration::from_millis(20);

/// The shape of a [`RedisCluster`]: how many masters, how many replicas each, and the cluster
/// settings fault tests need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSpec {
    /// Masters, at least 3 (Redis' minimum).
    pub masters: usize,
    /// Replicas of each master.
    pub replicas_per_master: usize,
    /// `cluster-node-timeout`: how long a node may not answer before the others mark it failing
    /// (and, with replicas, promote one of its replicas).
    pub node_timeout: Duration,
    /// `cluster-require-full-coverage`: with `true` (Redis' default) every node refuses every
    /// command while any slot has no live master; with `false` the other slots keep answering.
    pub require_full_coverage: bool,
}

impl ClusterSpec {
    /// `masters` masters, no replicas, Redis' defaults otherwise except a 5 s node timeout.
    pub fn masters(masters: usize) -> Self {
        ClusterSpec {
            masters,
            replicas_per_master: 0,
            node_timeout: Duration::from_secs(5),
            require_full_coverage: true,
        }
    }

    /// With `replicas` replicas per master.
    pub fn replicas_per_master(mut self, replicas: usize) -> Self {
        self.replicas_per_master = replicas;
        self
    }

    /// With this `cluster-node-timeout`.
    pub fn node_timeout(mut self, timeout: Duration) -> Self {
        self.node_timeout = timeout;
        self
    }

    /// With this `cluster-require-full-coverage`.
    pub fn require_full_coverage(mut self, require: bool) -> Self {
        self.require_full_coverage = require;
        self
    }
}

/// What a node says it is (`INFO replication`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRole {
    /// Serves slots.
    Master,
    /// Replicates the master on this loopback port.
    Replica {
        /// The port of its master.
        master_port: u16,
    },
}

/// A Redis Cluster on free loopback ports, persistence off, every slot assigned by
/// `redis-cli --cluster create`; every node is killed on drop.
///
/// Nodes are numbered in start order: the first `masters` are the masters `redis-cli` made, the
/// rest their replicas. [`RedisCluster::stop_node`] and [`RedisCluster::restart_node`] kill one
/// node and start it again on its port with its `nodes.conf` (its identity and slots, no data), and
/// [`RedisCluster::wait_until_ok`] waits until every running node reports `cluster_state:ok`.
///
/// ```no_run
/// # async fn example() -> std::io::Result<()> {
/// use cache_core::testkit::servers::{ClusterSpec, RedisCluster};
///
/// let cluster = RedisCluster::start(3).await?;
/// let seeds = cluster.urls(); // ["redis://127.0.0.1:<port>", …], one per master
/// cluster.stop_node(1); // a master crashes
/// cluster.restart_node(1).await?; // back on its port, empty, with its slots
/// cluster.wait_until_ok().await?;
///
/// let replicated = RedisCluster::start_with(ClusterSpec::masters(3).replicas_per_master(1)).await?;
/// # Ok(()) }
/// ```
pub struct RedisCluster {
    spec: ClusterSpec,
    nodes: Vec<ServerProcess>,
}

impl RedisCluster {
    /// Starts `masters` cluster-enabled servers (at least 3, Redis' minimum), joins them with
    /// `redis-cli --cluster create … --cluster-replicas 0 --cluster-yes`, and waits until every
    /// node reports `cluster_state:ok`.
    pub async fn start(masters: usize) -> io::Result<Self> {
        Self::start_with(ClusterSpec::masters(masters)).await
    }

    /// Starts the cluster `spec` describes and waits until every node reports `cluster_state:ok`
    /// and every replica's link to its master is up.
    pub async fn start_with(spec: ClusterSpec) -> io::Result<Self> {
        if spec.masters < 3 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a Redis Cluster needs at least 3 masters, not {}", spec.masters),
            ));
        }
        let count = spec.masters * (1 + spec.replicas_per_master);
        let mut nodes = Vec::with_capacity(count);
        for _ in 0..count {
            let settings = spec.clone();
            let args = move |port: u16, dir: &Path| node_args(port, dir, &settings);
            nodes.push(ServerProcess::start("redis-server", args, Probe::RedisPing).await?);
        }
        let cluster = RedisCluster { spec, nodes };
        cluster.create().await?;
        cluster.wait_until_ok().await?;
        cluster.wait_for_replicas().await?;
        Ok(cluster)
    }

    /// `redis://127.0.0.1:<port>` for every master, in start order: seed nodes for a `location`.
    pub fn urls(&self) -> Vec<String> {
        self.addresses()
            .iter()
            .map(|address| format!("redis://{address}"))
            .collect()
    }

    /// The loopback address of every node that started as a master, in start order.
    pub fn addresses(&self) -> Vec<SocketAddr> {
        self.nodes[..self.spec.masters]
            .iter()
            .map(ServerProcess::address)
            .collect()
    }

    /// The loopback address of every node, masters first (see the type's docs for the numbering).
    pub fn node_addresses(&self) -> Vec<SocketAddr> {
        self.nodes.iter().map(ServerProcess::address).collect()
    }

    /// What node `index` is now (a replica promoted by a failover is a master), or `None` while it
    /// is stopped or doesn't answer.
    pub async fn role(&self, index: usize) -> Option<NodeRole> {
        let node = &self.nodes[index];
        node.pid()?;
        let info = Probe::RedisReplicaLinked.reply(node.address()).await?;
        let info = String::from_utf8_lossy(&info);
        let field = |name: &str| {
            info.lines()
                .find_map(|line| line.strip_prefix(name))
                .map(|value| value.trim().to_owned())
        };
        match field("role:")?.as_str() {
            "master" => Some(NodeRole::Master),
            "slave" => Some(NodeRole::Replica {
                master_port: field("master_port:")?.parse().ok()?,
            }),
            _ => None,
        }
    }

    /// Kills node `index` (SIGKILL, as a crash would). Does nothing if it is stopped.
    pub fn stop_node(&self, index: usize) {
        self.nodes[index].stop();
    }

    /// Starts node `index` again on its port with its `nodes.conf` (same node id and slots, no
    /// data) and waits until it answers `PING`; [`RedisCluster::wait_until_ok`] then waits until
    /// the cluster has taken it back.
    pub async fn restart_node(&self, index: usize) -> io::Result<()> {
        self.nodes[index].restart().await
    }

    /// Kills every node.
    pub fn stop(&self) {
        for node in &self.nodes {
            node.stop();
        }
    }

    /// Waits until every running node reports `cluster_state:ok` (stopped nodes are skipped).
    pub async fn wait_until_ok(&self) -> io::Result<()> {
        let deadline = Instant::now() + CLUSTER_READY_TIMEOUT;
        for node in &self.nodes {
            if node.pid().is_none() {
                continue;
            }
            let address = node.address();
            loop {
                let info = Probe::RedisClusterOk.reply(address).await.unwrap_or_default();
                if Probe::RedisClusterOk.accepts(&info) {
                    break;
                }
                if Instant::now() >= deadline {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "the cluster node {address} did not report cluster_state:ok within \
                             {CLUSTER_READY_TIMEOUT:?}; CLUSTER INFO says:\n{}",
                            String::from_utf8_lossy(&info)
                        ),
                    ));
                }
                tokio::time::sleep(CLUSTER_PROBE_INTERVAL).await;
            }
        }
        Ok(())
    }

    /// Waits until node `index` reports `role`, or `timeout` passes (then an error says what it
    /// reports).
    pub async fn wait_for_role(&self, index: usize, role: NodeRole, timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let now = self.role(index).await;
            if now == Some(role) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("cluster node {index} is {now:?}, not {role:?}, after {timeout:?}"),
                ));
            }
            tokio::time::sleep(CLUSTER_PROBE_INTERVAL).await;
        }
    }

    /// Waits until every replica's link to its master is up, so it holds what its master does.
    async fn wait_for_replicas(&self) -> io::Result<()> {
        let deadline = Instant::now() + CLUSTER_READY_TIMEOUT;
        for node in &self.nodes[self.spec.masters..] {
            while !Probe::RedisReplicaLinked.is_ready(node.address()).await {
                if Instant::now() >= deadline {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "the cluster replica {} did not link to its master within {CLUSTER_READY_TIMEOUT:?}",
                            node.address()
                        ),
                    ));
                }
                tokio::time::sleep(CLUSTER_PROBE_INTERVAL).await;
            }
        }
        Ok(())
    }

    async fn create(&self) -> io::Result<()> {
        let mut command = Command::new("redis-cli");
        command.arg("--cluster").arg("create");
        for address in self.node_addresses() {
            command.arg(address.to_string());
        }
        command.args([
            "--cluster-replicas",
            &self.spec.replicas_per_master.to_string(),
            "--cluster-yes",
        ]);
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .map_err(io::Error::other)?
            .map_err(|error| match error.kind() {
                io::ErrorKind::NotFound => io::Error::new(
                    io::ErrorKind::NotFound,
                    "redis-cli not found on PATH; run scripts/test.sh, which installs it (redis-tools)",
                ),
                _ => io::Error::new(error.kind(), format!("can't run redis-cli --cluster create: {error}")),
            })?;
        if !output.status.success() {
            return Err(io::Error::other(format!(
                "redis-cli --cluster create exited with {}:\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        // redis-cli makes the first `masters` nodes it is given masters; check, since the numbering
        // of the nodes depends on it.
        for index in 0..self.nodes.len() {
            let expected_master = index < self.spec.masters;
            let role = self.role(index).await;
            if matches!(role, Some(NodeRole::Master)) != expected_master {
                return Err(io::Error::other(format!(
                    "redis-cli --cluster create made node {index} ({}) {role:?}; expected the first {} \
                     nodes to be the masters",
                    self.nodes[index].address(),
                    self.spec.masters
                )));
            }
        }
        Ok(())
    }
}

/// The base settings of every fixture server (loopback, no persistence, files in the node's own
/// directory), plus cluster mode with the cluster bus on a free port of its own: Redis' default,
/// the client port + 10000, may be taken or past 65535.
fn node_args(port: u16, dir: &Path, spec: &ClusterSpec) -> Vec<OsString> {
    let bus_port = free_port().unwrap_or_else(|_| port.wrapping_add(10_000));
    let cluster = [
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-node-timeout",
        &spec.node_timeout.as_millis().max(1).to_string(),
        "--cluster-require-full-coverage",
        if spec.require_full_coverage { "yes" } else { "no" },
        "--cluster-port",
        &bus_port.to_string(),
    ]
    .map(OsString::from);
    [base_args(port, dir), cluster.to_vec()].concat()
}

impl fmt::Debug for RedisCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCluster")
            .field("spec", &self.spec)
            .field("nodes", &self.node_addresses())
            .finish()
    }
}
