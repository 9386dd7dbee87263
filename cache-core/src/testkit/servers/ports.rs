//! Ports for the servers tests start: free when picked, and not given to anything else while a
//! server is stopped for a restart.
//!
//! `bind(0)` takes ports from the kernel's ephemeral range, which is also where the local port of
//! every outgoing connection comes from. A server stopped to be restarted on its port could then
//! find it taken by a client connecting anywhere (another test's, say), and its restart fail. So
//! ports are picked below that range, where only an explicit bind goes, and one process never
//! hands the same port out twice.

use std::collections::BTreeSet;
use std::hash::{BuildHasher, RandomState};
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::{Mutex, PoisonError};

/// The lowest port picked: above the well-known ports and the ones most services register.
const LOWEST: u16 = 10_000;

/// Random ports tried before falling back to the kernel's choice.
const TRIES: u64 = 200;

/// Where the kernel's ephemeral range starts when it can't be read: Linux's default.
const EPHEMERAL_DEFAULT: u16 = 32_768;

/// Ports this process has handed out; each is its server's for the rest of the process.
static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// A loopback port nothing listens on now, below the ephemeral range and new to this process; the
/// kernel's choice (`bind(0)`) when that range starts too low to leave room below it.
pub(super) fn free_port() -> io::Result<u16> {
    let ephemeral = ephemeral_start().unwrap_or(EPHEMERAL_DEFAULT);
    if let Some(span) = ephemeral.checked_sub(LOWEST).filter(|&span| span >= 1_000) {
        // Randomly, not from the bottom up: test binaries run one after another, and a port the
        // last one's server left in TIME_WAIT is better avoided.
        let random = RandomState::new();
        let mut handed_out = HANDED_OUT.lock().unwrap_or_else(PoisonError::into_inner);
        for attempt in 0..TRIES {
            let port = LOWEST + (random.hash_one(attempt) % u64::from(span)) as u16;
            if !handed_out.contains(&port) && TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
                handed_out.insert(port);
                return Ok(port);
            }
        }
    }
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port())
}

/// The first port of the kernel's ephemeral range (Linux: `ip_local_port_range`).
fn ephemeral_start() -> Option<u16> {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    range.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_come_from_below_the_ephemeral_range_and_never_twice() {
        let ephemeral = ephemeral_start().unwrap_or(EPHEMERAL_DEFAULT);
        let ports: Vec<u16> = (0..50).map(|_| free_port().unwrap()).collect();
        if ephemeral >= LOWEST + 1_000 {
            assert!(ports.iter().all(|port| (LOWEST..ephemeral).contains(port)), "{ports:?}");
        }
        assert_eq!(ports.iter().collect::<BTreeSet<_>>().len(), ports.len(), "{ports:?}");
        // Free when handed out: a server can bind it.
        TcpListener::bind((Ipv4Addr::LOCALHOST, ports[0])).unwrap();
    }
}
