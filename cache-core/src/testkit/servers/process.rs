//! A server binary run as a child process on a loopback port: started, probed, stopped, restarted
//! and killed on drop.

use super::hung::Hung;
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::ports::free_port;
use super::probe::Probe;

/// How many free ports to try before giving up; another process can take a port between our
/// finding it free and the server binding it.
const PORT_ATTEMPTS: usize = 5;

/// How long a server may take to answer after it is spawned.
const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// How often to probe while waiting.
const PROBE_INTERVAL: Duration = Duration::from_millis(20);

/// How much of the server's log an error message quotes.
const LOG_TAIL_BYTES: u64 = 2000;

/// One server process and everything needed to start it again on the same port.
pub(super) struct ServerProcess {
    program: &'static str,
    /// The executable: `program` found on PATH, or a full path (PostgreSQL's live outside PATH).
    command: PathBuf,
    port: u16,
    args: Vec<OsString>,
    probe: Probe,
    child: Mutex<Option<Child>>,
    log: PathBuf,
    dir: TempDir,
}

impl ServerProcess {
    /// Starts `program` with the arguments `args(port, dir)` builds, on a free port, and waits until
    /// `probe` says it is ready.
    pub(super) async fn start(
        program: &'static str,
        args: impl Fn(u16, &Path) -> Vec<OsString>,
        probe: Probe,
    ) -> io::Result<Self> {
        let dir = tempfile::Builder::new().prefix(&format!("{program}-")).tempdir()?;
        Self::start_in(program, PathBuf::from(program), dir, args, probe).await
    }

    /// [`ServerProcess::start`] with the executable at `command` (`program` names it in
    /// messages), in a directory the caller prepared.
    pub(super) async fn start_in(
        program: &'static str,
        command: PathBuf,
        dir: TempDir,
        args: impl Fn(u16, &Path) -> Vec<OsString>,
        probe: Probe,
    ) -> io::Result<Self> {
        let log = dir.path().join(format!("{program}.log"));
        let mut failures = Vec::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port()?;
            let args = args(port, dir.path());
            let child = spawn(program, &command, &args, dir.path(), &log)?;
            match wait_until_ready(program, child, port, probe, &log).await {
                Ok(child) => {
                    return Ok(ServerProcess {
                        program,
                        command,
                        port,
                        args,
                        probe,
                        child: Mutex::new(Some(child)),
                        log,
                        dir,
                    });
                }
                // Most likely someone took the port first: try another.
                Err(Failure::Exited(message)) => failures.push(message),
                Err(Failure::Fatal(error)) => return Err(error),
            }
        }
        Err(io::Error::other(format!(
            "{program} exited at start on {PORT_ATTEMPTS} ports in a row; last attempt: {}",
            failures.pop().unwrap_or_default()
        )))
    }

    pub(super) fn port(&self) -> u16 {
        self.port
    }

    pub(super) fn address(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    pub(super) fn pid(&self) -> Option<u32> {
        self.child().as_ref().map(Child::id)
    }

    /// Pauses the running process (SIGSTOP) until the guard is dropped.
    pub(super) fn hang(&self) -> Hung {
        Hung::pause(self.pid().expect("the server runs"))
    }

    /// Kills the process (SIGKILL: a crash, not a shutdown) and reaps it. Does nothing when stopped.
    pub(super) fn stop(&self) {
        if let Some(mut child) = self.child().take() {
            // It may already have exited; either way `wait` reaps it.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Asks the process to shut down with `signal` (`-INT`, say) and waits until it has exited.
    pub(super) fn shut_down(&self, signal: &str) {
        if let Some(mut child) = self.child().take() {
            let _ = Command::new("kill").args([signal, &child.id().to_string()]).status();
            let _ = child.wait();
        }
    }

    /// Stops the process if it runs, then starts it again on the same port and waits until ready.
    pub(super) async fn restart(&self) -> io::Result<()> {
        self.stop();
        let child = spawn(self.program, &self.command, &self.args, self.dir.path(), &self.log)?;
        match wait_until_ready(self.program, child, self.port, self.probe, &self.log).await {
            Ok(child) => {
                *self.child() = Some(child);
                Ok(())
            }
            Err(Failure::Exited(message)) => Err(io::Error::other(format!(
                "{} did not restart on port {}: {message}",
                self.program, self.port
            ))),
            Err(Failure::Fatal(error)) => Err(error),
        }
    }

    fn child(&self) -> MutexGuard<'_, Option<Child>> {
        self.child.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Why a started process is not ready.
enum Failure {
    /// It exited (a taken port, usually); the message quotes its log.
    Exited(String),
    /// Waiting itself failed, or the server never answered; it has been killed.
    Fatal(io::Error),
}

fn spawn(program: &str, command: &Path, args: &[OsString], dir: &Path, log: &Path) -> io::Result<Child> {
    let log_file = OpenOptions::new().create(true).append(true).open(log)?;
    let result = Command::new(command)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .spawn();
    result.map_err(|error| match error.kind() {
        io::ErrorKind::NotFound => io::Error::new(
            io::ErrorKind::NotFound,
            format!("{program} not found on PATH; run scripts/test.sh, which installs it"),
        ),
        _ => io::Error::new(error.kind(), format!("can't start {program}: {error}")),
    })
}

/// Probes until the server answers, it exits, or [`READY_TIMEOUT`] passes (then it is killed).
async fn wait_until_ready(
    program: &str,
    mut child: Child,
    port: u16,
    probe: Probe,
    log: &Path,
) -> Result<Child, Failure> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return Err(Failure::Exited(format!(
                    "{program} exited with {status} on port {port}; its log ends with:\n{}",
                    log_tail(log)
                )));
            }
            Ok(None) => {}
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Failure::Fatal(error));
            }
        }
        if probe.is_ready(address).await {
            return Ok(child);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Failure::Fatal(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "{program} on port {port} was not ready ({probe:?}) within {READY_TIMEOUT:?}; \
                     its log ends with:\n{}",
                    log_tail(log)
                ),
            )));
        }
        tokio::time::sleep(PROBE_INTERVAL).await;
    }
}

/// The end of the server's log, for error messages.
fn log_tail(log: &Path) -> String {
    let read = || -> io::Result<String> {
        let mut file = File::open(log)?;
        let length = file.metadata()?.len();
        file.seek(SeekFrom::Start(length.saturating_sub(LOG_TAIL_BYTES)))?;
        let mut tail = Vec::new();
        file.read_to_end(&mut tail)?;
        Ok(String::from_utf8_lossy(&tail).into_owned())
    };
    read().unwrap_or_else(|error| format!("(log unreadable: {error})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_binary_says_how_to_install_it() {
        let error = ServerProcess::start("no-such-server-binary", |_, _| Vec::new(), Probe::RedisPing)
            .await
            .err()
            .expect("the binary does not exist");
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        assert_eq!(
            error.to_string(),
            "no-such-server-binary not found on PATH; run scripts/test.sh, which installs it"
        );
    }

    #[tokio::test]
    async fn a_server_that_exits_at_once_is_retried_then_reported_with_its_log() {
        // `sh -c` stands in for a server that can't bind its port: it logs, then exits.
        let error = ServerProcess::start(
            "sh",
            |port, _| vec!["-c".into(), format!("echo port {port} is taken; exit 3").into()],
            Probe::RedisPing,
        )
        .await
        .err()
        .expect("the server never answers");
        let message = error.to_string();
        assert!(
            message.contains(&format!("exited at start on {PORT_ATTEMPTS} ports")),
            "{message}"
        );
        assert!(message.contains("is taken"), "the log is quoted: {message}");
    }
}
