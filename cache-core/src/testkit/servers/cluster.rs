//! [`RedisCluster`]: a private Redis Cluster of several masters, each a `redis-server` child process.

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::probe::Probe;
use super::process::{ServerProcess, free_port};
use super::redis::base_args;

/// How long the masters may take to agree that the cluster is up once the slots are assigned.
const CLUSTER_READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A Redis Cluster of `masters` nodes (no replicas) on free loopback ports, persistence off, every
/// slot assigned by `redis-cli --cluster create`; every node is killed on drop.
///
/// ```no_run
/// # async fn example() -> std::io::Result<()> {
/// use cache_core::testkit::servers::RedisCluster;
///
/// let cluster = RedisCluster::start(3).await?;
/// let seeds = cluster.urls(); // ["redis://127.0.0.1:<port>", …], one per master
/// # Ok(()) }
/// ```
pub struct RedisCluster {
    nodes: Vec<ServerProcess>,
}

impl RedisCluster {
    /// Starts `masters` cluster-enabled servers (at least 3, Redis' minimum), joins them with
    /// `redis-cli --cluster create … --cluster-replicas 0 --cluster-yes`, and waits until every
    /// node reports `cluster_state:ok`.
    pub async fn start(masters: usize) -> io::Result<Self> {
        if masters < 3 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a Redis Cluster needs at least 3 masters, not {masters}"),
            ));
        }
        let mut nodes = Vec::with_capacity(masters);
        for _ in 0..masters {
            nodes.push(ServerProcess::start("redis-server", node_args, Probe::RedisPing).await?);
        }
        let cluster = RedisCluster { nodes };
        cluster.create().await?;
        cluster.wait_until_ok().await?;
        Ok(cluster)
    }

    /// `redis://127.0.0.1:<port>` for every master, in start order: seed nodes for a `location`.
    pub fn urls(&self) -> Vec<String> {
        self.addresses()
            .iter()
            .map(|address| format!("redis://{address}"))
            .collect()
    }

    /// The loopback address of every master.
    pub fn addresses(&self) -> Vec<SocketAddr> {
        self.nodes.iter().map(ServerProcess::address).collect()
    }

    /// Kills every node.
    pub fn stop(&self) {
        for node in &self.nodes {
            node.stop();
        }
    }

    async fn create(&self) -> io::Result<()> {
        let mut command = Command::new("redis-cli");
        command.arg("--cluster").arg("create");
        for address in self.addresses() {
            command.arg(address.to_string());
        }
        command.args(["--cluster-replicas", "0", "--cluster-yes"]);
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
        if output.status.success() {
            return Ok(());
        }
        Err(io::Error::other(format!(
            "redis-cli --cluster create exited with {}:\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )))
    }

    async fn wait_until_ok(&self) -> io::Result<()> {
        let deadline = Instant::now() + CLUSTER_READY_TIMEOUT;
        for address in self.addresses() {
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
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(())
    }
}

/// The base settings of every fixture server (loopback, no persistence, files in the node's own
/// directory), plus cluster mode with the cluster bus on a free port of its own: Redis' default,
/// the client port + 10000, may be taken or past 65535.
fn node_args(port: u16, dir: &Path) -> Vec<OsString> {
    let bus_port = free_port().unwrap_or_else(|_| port.wrapping_add(10_000));
    let cluster = [
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-node-timeout",
        "5000",
        "--cluster-port",
        &bus_port.to_string(),
    ]
    .map(OsString::from);
    [base_args(port, dir), cluster.to_vec()].concat()
}

impl fmt::Debug for RedisCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCluster")
            .field("masters", &self.addresses())
            .finish()
    }
}
