//! [`PostgresServer`]: a private PostgreSQL cluster, made by `initdb` in a throw-away directory.

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::hung::Hung;
use super::probe::Probe;
use super::process::ServerProcess;

/// How long a restart may keep failing while the killed server's backends are still exiting
/// (they hold its shared memory until they notice their postmaster is gone).
const RESTART_TIMEOUT: Duration = Duration::from_secs(15);

/// A `postgres` child process on a free loopback port, over its own cluster (`initdb` in a
/// temporary directory, superuser `postgres`, trust authentication, no fsync). Shut down and
/// removed on drop.
///
/// The server binaries are Debian's (`/usr/lib/postgresql/<version>/bin`, the newest version
/// installed), else found on PATH. PostgreSQL refuses to run as root, so when the tests run as
/// root, `initdb` and `postgres` run as the `postgres` user (or `nobody`) through `setpriv`, with
/// the directory handed to that user.
///
/// ```no_run
/// # async fn example() -> std::io::Result<()> {
/// use cache_core::testkit::servers::PostgresServer;
///
/// let postgres = PostgresServer::start().await?;
/// let url = postgres.url(); // postgres://postgres@127.0.0.1:<port>/postgres
/// postgres.stop(); // killed (SIGKILL): connections are refused
/// postgres.restart().await?; // same port, same data
/// # Ok(()) }
/// ```
pub struct PostgresServer {
    process: ServerProcess,
}

impl PostgresServer {
    /// Makes a cluster, starts the server and waits until it accepts a connection.
    pub async fn start() -> io::Result<Self> {
        let binaries = binaries()?;
        let dir = tempfile::Builder::new().prefix("postgres-").tempdir()?;
        let user = unprivileged_user()?;
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))?;
        }
        let data = dir.path().join("data");
        let initdb = binaries.join("initdb");
        let mut args: Vec<OsString> = vec![
            "-D".into(),
            data.clone().into(),
            "-U".into(),
            "postgres".into(),
            "--auth=trust".into(),
            "--no-sync".into(),
            "--encoding=UTF8".into(),
            "--locale=C".into(),
        ];
        let (command, mut prefix) = as_user(user, &initdb);
        prefix.append(&mut args);
        let cwd = dir.path().to_owned();
        let output = tokio::task::spawn_blocking(move || Command::new(command).args(prefix).current_dir(cwd).output())
            .await
            .map_err(io::Error::other)?
            .map_err(|error| io::Error::new(error.kind(), format!("can't run {}: {error}", initdb.display())))?;
        if !output.status.success() {
            return Err(io::Error::other(format!(
                "initdb exited with {}:\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        let postgres = binaries.join("postgres");
        let (command, prefix) = as_user(user, &postgres);
        let process = ServerProcess::start_in(
            "postgres",
            command,
            dir,
            move |port, dir| {
                let mut args = prefix.clone();
                args.extend(server_args(port, dir, &data));
                args
            },
            Probe::PostgresStartup,
        )
        .await?;
        Ok(PostgresServer { process })
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`, for `options.database`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@{}/postgres", self.address())
    }

    /// The loopback address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.process.address()
    }

    /// The port it listens on (kept across restarts).
    pub fn port(&self) -> u16 {
        self.process.port()
    }

    /// The postmaster's process id, or `None` while stopped.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// Pauses the postmaster and its backends (SIGSTOP): they keep their connections and answer
    /// nothing, as a hung server does, until the guard is dropped.
    pub fn hang(&self) -> Hung {
        Hung::pause_tree(self.pid().expect("the server runs"))
    }

    /// Kills the postmaster (SIGKILL, as a crash would); connections are refused until
    /// [`PostgresServer::restart`]. Its backends exit on their own once they notice.
    pub fn stop(&self) {
        self.process.stop();
    }

    /// Starts the server again on the same port over the same data (PostgreSQL recovers from its
    /// log, as after a crash) and waits until it accepts connections.
    pub async fn restart(&self) -> io::Result<()> {
        let deadline = Instant::now() + RESTART_TIMEOUT;
        loop {
            match self.process.restart().await {
                Ok(()) => return Ok(()),
                // "pre-existing shared memory block is still in use": the old backends are still
                // exiting.
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => return Err(error),
            }
        }
    }
}

impl Drop for PostgresServer {
    /// A fast shutdown (SIGINT): the postmaster ends every backend before it exits, so nothing
    /// outlives the fixture or holds its directory.
    fn drop(&mut self) {
        self.process.shut_down("-INT");
    }
}

/// Loopback TCP only, the socket file in the fixture's directory, no durability (a test cluster),
/// log to stderr (which the fixture sends to a file).
fn server_args(port: u16, dir: &Path, data: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["-D".into(), data.into(), "-k".into(), dir.into()];
    for setting in [
        format!("port={port}"),
        "listen_addresses=127.0.0.1".to_owned(),
        "fsync=off".to_owned(),
        "synchronous_commit=off".to_owned(),
        "full_page_writes=off".to_owned(),
        "max_connections=200".to_owned(),
        "logging_collector=off".to_owned(),
    ] {
        args.push("-c".into());
        args.push(setting.into());
    }
    args
}

/// The directory holding `initdb` and `postgres`: Debian's newest
/// `/usr/lib/postgresql/<version>/bin`, else the one on PATH.
fn binaries() -> io::Result<PathBuf> {
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").is_file().then_some((version, bin))
        })
        .max();
    if let Some((_, bin)) = newest {
        return Ok(bin);
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .find(|dir| dir.join("postgres").is_file() && dir.join("initdb").is_file());
    on_path.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            "PostgreSQL's server (initdb, postgres) not found in /usr/lib/postgresql/*/bin or on PATH; \
             run scripts/test.sh, which installs it (apt-get install postgresql)",
        )
    })
}

/// The user and group to run the server as when the tests run as root (PostgreSQL refuses root):
/// `postgres` (the package creates it), else `nobody`. `None` when not root.
fn unprivileged_user() -> io::Result<Option<(u32, u32)>> {
    if id(&["-u"], None)? != 0 {
        return Ok(None);
    }
    for user in ["postgres", "nobody"] {
        if let (Ok(uid), Ok(gid)) = (id(&["-u"], Some(user)), id(&["-g"], Some(user))) {
            return Ok(Some((uid, gid)));
        }
    }
    Err(io::Error::other(
        "the tests run as root, which PostgreSQL refuses, and there is no `postgres` or `nobody` user to run it as",
    ))
}

/// `id <flag> [user]` as a number (the workspace forbids `unsafe`, so no libc call).
fn id(flag: &[&str], user: Option<&str>) -> io::Result<u32> {
    let output = Command::new("id").args(flag).args(user).output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!("id {flag:?} {user:?} failed")));
    }
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(io::Error::other)
}

/// The command and leading arguments that run `program` as `user` (`setpriv`), or as this process.
fn as_user(user: Option<(u32, u32)>, program: &Path) -> (PathBuf, Vec<OsString>) {
    match user {
        None => (program.to_owned(), Vec::new()),
        Some((uid, gid)) => (
            PathBuf::from("setpriv"),
            vec![
                format!("--reuid={uid}").into(),
                format!("--regid={gid}").into(),
                "--clear-groups".into(),
                "--".into(),
                program.into(),
            ],
        ),
    }
}

impl fmt::Debug for PostgresServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresServer")
            .field("address", &self.address())
            .field("pid", &self.pid())
            .finish()
    }
}
