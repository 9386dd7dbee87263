//! [`RedisServer`]: a private `redis-server`, optionally a replica of another.

use super::hung::Hung;
use std::ffi::OsString;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::Path;

use super::probe::Probe;
use super::process::ServerProcess;

/// A `redis-server` child process on a free loopback port, with persistence off; killed on drop.
pub struct RedisServer {
    process: ServerProcess,
}

impl RedisServer {
    /// Starts a server and waits until it answers `PING`.
    pub async fn start() -> io::Result<Self> {
        Self::start_with(&[]).await
    }

    /// Starts a server with extra command-line settings (`["--maxmemory", "10mb"]`, say).
    pub async fn start_with(extra_args: &[&str]) -> io::Result<Self> {
        let extra: Vec<OsString> = extra_args.iter().map(OsString::from).collect();
        let process = ServerProcess::start(
            "redis-server",
            |port, dir| [base_args(port, dir), extra.clone()].concat(),
            Probe::RedisPing,
        )
        .await?;
        Ok(RedisServer { process })
    }

    /// Starts a read-only replica of `leader` and waits until its replication link is up, so it
    /// serves what the leader holds.
    pub async fn start_replica_of(leader: &RedisServer) -> io::Result<Self> {
        let leader_port = leader.port().to_string();
        let process = ServerProcess::start(
            "redis-server",
            |port, dir| {
                let mut args = base_args(port, dir);
                args.extend(["--replicaof", "127.0.0.1", &leader_port].map(OsString::from));
                args
            },
            Probe::RedisReplicaLinked,
        )
        .await?;
        Ok(RedisServer { process })
    }

    /// `redis://127.0.0.1:<port>`, for a `location`.
    pub fn url(&self) -> String {
        format!("redis://{}", self.address())
    }

    /// `redis://127.0.0.1:<port>/<db>`.
    pub fn url_with_db(&self, db: u32) -> String {
        format!("{}/{db}", self.url())
    }

    /// The loopback address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.process.address()
    }

    /// The port it listens on (kept across restarts).
    pub fn port(&self) -> u16 {
        self.process.port()
    }

    /// The process id, or `None` while stopped.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// Kills the server (as a crash would); connections are refused until [`RedisServer::restart`].
    pub fn stop(&self) {
        self.process.stop();
    }

    /// Pauses the server (SIGSTOP): it keeps its connections and answers nothing, as a hung
    /// server does, until the returned guard is dropped.
    pub fn hang(&self) -> Hung {
        self.process.hang()
    }

    /// Starts the server again on the same port, empty (nothing is persisted), and waits until ready.
    pub async fn restart(&self) -> io::Result<()> {
        self.process.restart().await
    }
}

/// Loopback only, no RDB snapshots, no AOF, working files in the fixture's own directory, log on
/// stdout (which the fixture sends to a file), replicas synced at once.
pub(super) fn base_args(port: u16, dir: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--logfile",
        "",
        // A leader otherwise waits 5 s for more replicas before the first sync.
        "--repl-diskless-sync-delay",
        "0",
    ]
    .map(OsString::from)
    .to_vec();
    args.push("--dir".into());
    args.push(dir.as_os_str().to_owned());
    args
}

impl fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisServer")
            .field("address", &self.address())
            .field("pid", &self.pid())
            .finish()
    }
}
