//! Asking a server over a raw socket whether it is ready.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long one probe may take; a server that is up answers in microseconds.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// What "ready" means for a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Probe {
    /// Redis answers `PING` with `+PONG`.
    RedisPing,
    /// A Redis replica reports its link to the leader up, so reads see the leader's writes.
    RedisReplicaLinked,
    /// memcached answers `version` with `VERSION …`.
    MemcachedVersion,
    /// A Redis Cluster node reports the cluster up (`CLUSTER INFO`: `cluster_state:ok`).
    RedisClusterOk,
    /// PostgreSQL answers a startup message for user `postgres` with an authentication request
    /// (`R`), not an error (`E`: "the database system is starting up").
    PostgresStartup,
}

/// A protocol 3.0 startup message: length 41, version 196608, `user`=`postgres`,
/// `database`=`postgres`.
const POSTGRES_STARTUP: &[u8] = b"\0\0\0\x29\0\x03\0\0user\0postgres\0database\0postgres\0\0";

impl Probe {
    /// Whether the server at `address` is ready; any failure (refused, timeout, odd reply) is "not yet".
    pub(super) async fn is_ready(self, address: SocketAddr) -> bool {
        self.reply(address).await.is_some_and(|reply| self.accepts(&reply))
    }

    /// The server's reply to the probe's request, when it gave one in time.
    pub(super) async fn reply(self, address: SocketAddr) -> Option<Vec<u8>> {
        tokio::time::timeout(PROBE_TIMEOUT, exchange(address, self.request(), self))
            .await
            .ok()?
            .ok()
    }

    fn request(self) -> &'static [u8] {
        match self {
            Probe::RedisPing => b"PING\r\n",
            Probe::RedisReplicaLinked => b"INFO replication\r\n",
            Probe::MemcachedVersion => b"version\r\n",
            Probe::RedisClusterOk => b"CLUSTER INFO\r\n",
            Probe::PostgresStartup => POSTGRES_STARTUP,
        }
    }

    pub(super) fn accepts(self, reply: &[u8]) -> bool {
        let holds = |text: &[u8]| reply.windows(text.len()).any(|window| window == text);
        match self {
            Probe::RedisPing => reply.starts_with(b"+PONG"),
            Probe::RedisReplicaLinked => holds(b"master_link_status:up"),
            Probe::MemcachedVersion => reply.starts_with(b"VERSION "),
            Probe::RedisClusterOk => holds(b"cluster_state:ok"),
            Probe::PostgresStartup => reply.first() == Some(&b'R'),
        }
    }
}

/// Sends `request` on a new connection and reads one reply: a line, or a Redis bulk string whole.
async fn exchange(address: SocketAddr, request: &[u8], probe: Probe) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(address).await?;
    stream.write_all(request).await?;
    let mut reply = Vec::new();
    let mut buffer = [0u8; 4096];
    // PostgreSQL's replies are binary messages: their first byte says enough.
    while !(is_complete(&reply) || (probe == Probe::PostgresStartup && !reply.is_empty())) {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        reply.extend_from_slice(&buffer[..read]);
    }
    Ok(reply)
}

/// A reply is complete at its first line end, or, for a bulk string (`$<len>\r\n<data>\r\n`), once
/// all of its data is in.
fn is_complete(reply: &[u8]) -> bool {
    let Some(line_end) = reply.windows(2).position(|pair| pair == b"\r\n") else {
        return false;
    };
    if reply.first() != Some(&b'$') {
        return true;
    }
    let length = std::str::from_utf8(&reply[1..line_end])
        .ok()
        .and_then(|text| text.parse::<i64>().ok());
    match length {
        Some(length) if length >= 0 => reply.len() >= line_end + 2 + length as usize + 2,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_complete_at_line_end_or_after_the_bulk_data() {
        assert!(!is_complete(b"+PON"));
        assert!(is_complete(b"+PONG\r\n"));
        assert!(is_complete(b"VERSION 1.6.18\r\n"));
        assert!(!is_complete(b"$11\r\nrole:ma"));
        assert!(!is_complete(b"$11\r\nrole:master"));
        assert!(is_complete(b"$11\r\nrole:master\r\n"));
        assert!(is_complete(b"$-1\r\n"));
    }
}
