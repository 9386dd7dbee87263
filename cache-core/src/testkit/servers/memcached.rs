//! [`MemcachedServer`]: a private `memcached`.

use super::hung::Hung;
use std::ffi::OsString;
use std::fmt;
use std::io;
use std::net::SocketAddr;

use super::probe::Probe;
use super::process::ServerProcess;

/// A `memcached` child process on a free loopback port (TCP only); killed on drop.
pub struct MemcachedServer {
    process: ServerProcess,
}

impl MemcachedServer {
    /// Starts a server (64 MB, default 1 MB item limit) and waits until it answers `version`.
    pub async fn start() -> io::Result<Self> {
        Self::start_with(&[]).await
    }

    /// Starts a server with extra command-line options (`["-I", "2m"]` for a 2 MB item limit, say).
    pub async fn start_with(extra_args: &[&str]) -> io::Result<Self> {
        let extra: Vec<OsString> = extra_args.iter().map(OsString::from).collect();
        let process = ServerProcess::start(
            "memcached",
            |port, _dir| {
                let mut args: Vec<OsString> = [
                    "-l",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    // No UDP listener: it would need a second free port.
                    "-U",
                    "0",
                    "-m",
                    "64",
                    "-t",
                    "2",
                    // memcached refuses to start as root without `-u`; as anyone else it ignores it.
                    "-u",
                    "root",
                ]
                .map(OsString::from)
                .to_vec();
                args.extend(extra.iter().cloned());
                args
            },
            Probe::MemcachedVersion,
        )
        .await?;
        Ok(MemcachedServer { process })
    }

    /// `127.0.0.1:<port>`: Django's `LOCATION` form.
    pub fn location(&self) -> String {
        self.address().to_string()
    }

    /// `memcache://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("memcache://{}", self.address())
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

    /// Kills the server; connections are refused until [`MemcachedServer::restart`].
    pub fn stop(&self) {
        self.process.stop();
    }

    /// Pauses the server (SIGSTOP): it keeps its connections and answers nothing, as a hung
    /// server does, until the returned guard is dropped.
    pub fn hang(&self) -> Hung {
        self.process.hang()
    }

    /// Starts the server again on the same port, empty, and waits until ready.
    pub async fn restart(&self) -> io::Result<()> {
        self.process.restart().await
    }
}

impl fmt::Debug for MemcachedServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemcachedServer")
            .field("address", &self.address())
            .field("pid", &self.pid())
            .finish()
    }
}
