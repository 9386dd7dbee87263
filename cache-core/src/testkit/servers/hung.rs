//! [`Hung`]: a server process paused with SIGSTOP — it keeps its sockets open and answers nothing,
//! as a hung server does — until the guard is dropped (SIGCONT), so a failing test never leaves it
//! paused.

use std::process::Command;

/// A paused server; dropping it (or [`Hung::resume`]) lets it run again.
#[derive(Debug)]
#[must_use = "the server resumes when this guard is dropped"]
pub struct Hung {
    pids: Vec<u32>,
}

impl Hung {
    /// Pauses the process `pid`.
    pub(super) fn pause(pid: u32) -> Hung {
        signal("-STOP", &[pid]);
        Hung { pids: vec![pid] }
    }

    /// Pauses `pid` and every process descended from it: a server that forks a process per
    /// connection (PostgreSQL) keeps answering on its open connections while only its parent is
    /// paused. The parent is paused first, so it forks nothing new meanwhile.
    pub(super) fn pause_tree(pid: u32) -> Hung {
        signal("-STOP", &[pid]);
        let mut pids = vec![pid];
        let mut next = 0;
        while next < pids.len() {
            let children = children_of(pids[next]);
            if !children.is_empty() {
                signal("-STOP", &children);
            }
            pids.extend(children);
            next += 1;
        }
        Hung { pids }
    }

    /// Lets the server run again now.
    pub fn resume(self) {
        drop(self);
    }
}

impl Drop for Hung {
    fn drop(&mut self) {
        signal("-CONT", &self.pids);
    }
}

/// `kill -<signal> <pid>…` (the workspace forbids `unsafe`, so no libc call). A process may have
/// exited since it was listed; only a failure to run `kill` at all is an error.
fn signal(signal: &str, pids: &[u32]) {
    let status = Command::new("kill")
        .arg(signal)
        .args(pids.iter().map(u32::to_string))
        .status();
    assert!(status.is_ok(), "kill {signal} {pids:?}: {status:?}");
}

/// The processes whose parent is `pid`, from `/proc/<pid>/stat` (its fourth field).
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&candidate| {
            std::fs::read_to_string(format!("/proc/{candidate}/stat")).is_ok_and(|stat| {
                // The command name (second field) is in parentheses and may hold spaces.
                let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
                after_name.split_whitespace().nth(1).and_then(|ppid| ppid.parse().ok()) == Some(pid)
            })
        })
        .collect()
}
