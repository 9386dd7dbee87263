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
        signal("-STOP", &[pid], true);
        Hung { pids: vec![pid] }
    }

    /// Pauses `pid` and every process descended from it: a server that forks a process per
    /// connection (PostgreSQL) keeps answering on its open connections while only its parent is
    /// paused. The parent is paused first, so it forks nothing new meanwhile.
    pub(super) fn pause_tree(pid: u32) -> Hung {
        signal("-STOP", &[pid], true);
        let parents = parent_pids();
        let mut pids = vec![pid];
        let mut next = 0;
        while next < pids.len() {
            let parent = pids[next];
            pids.extend(parents.iter().filter(|&&(_, of)| of == parent).map(|&(child, _)| child));
            next += 1;
        }
        // A descendant may have exited since it was listed.
        signal("-STOP", &pids[1..], false);
        Hung { pids }
    }

    /// Lets the server run again now.
    pub fn resume(self) {
        drop(self);
    }
}

impl Drop for Hung {
    fn drop(&mut self) {
        signal("-CONT", &self.pids, false);
    }
}

/// `kill -<signal> <pid>…` (the workspace forbids `unsafe`, so no libc call); `must_succeed` for a
/// process that has to be there, so a wrong pid fails here rather than as a server that answers.
fn signal(signal: &str, pids: &[u32], must_succeed: bool) {
    if pids.is_empty() {
        return;
    }
    let status = Command::new("kill")
        .arg(signal)
        .args(pids.iter().map(u32::to_string))
        .status();
    assert!(status.is_ok(), "kill {signal} {pids:?}: {status:?}");
    if must_succeed {
        assert!(
            status.is_ok_and(|status| status.success()),
            "kill {signal} {pids:?} failed"
        );
    }
}

/// Every process as (pid, parent pid), from `/proc/<pid>/stat` (its fourth field), read once.
fn parent_pids() -> Vec<(u32, u32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The command name (second field) is in parentheses and may hold spaces.
            let (_, after_name) = stat.rsplit_once(')')?;
            let parent = after_name.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, parent))
        })
        .collect()
}
