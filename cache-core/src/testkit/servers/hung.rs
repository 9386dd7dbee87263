//! [`Hung`]: a server process paused with SIGSTOP — it keeps its sockets open and answers nothing,
//! as a hung server does — until the guard is dropped (SIGCONT), so a failing test never leaves it
//! paused.

use std::process::Command;

/// A paused server; dropping it (or [`Hung::resume`]) lets it run again.
#[derive(Debug)]
#[must_use = "the server resumes when this guard is dropped"]
pub struct Hung {
    pid: u32,
}

impl Hung {
    /// Pauses the process `pid`.
    pub(super) fn pause(pid: u32) -> Hung {
        signal("-STOP", pid);
        Hung { pid }
    }

    /// Lets the server run again now.
    pub fn resume(self) {
        drop(self);
    }
}

impl Drop for Hung {
    fn drop(&mut self) {
        signal("-CONT", self.pid);
    }
}

/// `kill -<signal> <pid>` (the workspace forbids `unsafe`, so no libc call).
fn signal(signal: &str, pid: u32) {
    let status = Command::new("kill").args([signal, &pid.to_string()]).status();
    assert!(
        status.as_ref().is_ok_and(|status| status.success()),
        "kill {signal} {pid}: {status:?}"
    );
}
