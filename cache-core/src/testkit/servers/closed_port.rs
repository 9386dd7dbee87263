//! [`ClosedPort`]: a loopback port that refuses every connection for as long as the value lives.
//!
//! Finding a free port and dropping the listener is not enough for a "nothing listens here" test:
//! tests run in parallel, and the next server a fixture starts may be given that very port, so the
//! client meets a live (or dying) server instead of a refusal. A socket that is bound but never
//! listens keeps the port reserved, and the kernel answers each connection attempt with a reset,
//! which the client sees as "connection refused".

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use tokio::net::TcpSocket;

/// A port on 127.0.0.1 reserved by a bound, non-listening socket: connecting is refused.
///
/// ```no_run
/// # fn example() -> std::io::Result<()> {
/// use cache_core::testkit::servers::ClosedPort;
///
/// let closed = ClosedPort::reserve()?;
/// let url = format!("redis://127.0.0.1:{}", closed.port()); // refused until `closed` drops
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ClosedPort {
    // Held, never read: the reservation lasts while the socket is open.
    _socket: TcpSocket,
    port: u16,
}

impl ClosedPort {
    /// Binds a socket to a free loopback port without listening on it.
    pub fn reserve() -> io::Result<Self> {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
        let port = socket.local_addr()?.port();
        Ok(Self { _socket: socket, port })
    }

    /// The reserved port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connecting_to_a_closed_port_is_refused() {
        let closed = ClosedPort::reserve().unwrap();
        let error = std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, closed.port())).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused, "{error}");
    }
}
