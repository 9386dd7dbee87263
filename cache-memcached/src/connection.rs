//! One multiplexed connection: any number of concurrent requests, pipelined.
//!
//! memcached answers the commands of a connection in the order it reads them, so requests don't
//! need a connection each. A writer task takes queued requests and writes as many as are waiting in
//! one system call; a reader task parses the replies in the same order and hands each to the task
//! that asked. Callers only ever await channels: no tokio worker thread blocks on a socket, and a
//! caller that gives up (a timeout, a dropped future) leaves the connection in step, because its
//! reply is still read, then discarded.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

use crate::location::ServerAddress;
use crate::protocol::{self, Expect, Parsed, ProtocolError, Reply};

/// One command to send: its line, an optional data block, and the kind of reply it gets.
#[derive(Debug)]
pub(crate) struct Command {
    /// The command line, `\r\n` included.
    pub line: Vec<u8>,
    /// The data block of a storage command; `\r\n` is added after it.
    pub data: Option<Bytes>,
    /// How its reply is read.
    pub expect: Expect,
}

/// Why a request got no reply.
#[derive(Debug)]
pub(crate) enum Broken {
    /// The connection closed or failed before the reply was read.
    Closed(Option<io::Error>),
    /// The server sent something that is no reply; the connection was dropped.
    Protocol(ProtocolError),
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::Closed(Some(error)) => write!(f, "the connection failed: {error}"),
            Broken::Closed(None) => f.write_str("the connection closed before the reply arrived"),
            Broken::Protocol(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for Broken {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Broken::Closed(Some(error)) => Some(error),
            Broken::Closed(None) => None,
            Broken::Protocol(error) => Some(error),
        }
    }
}

/// Where a reply goes.
pub(crate) type ReplySender = oneshot::Sender<Result<Reply, Broken>>;

struct Request {
    command: Command,
    reply: ReplySender,
}

/// A request written (or about to be), waiting for its reply: the reader needs its command line to
/// know which keys a `get` asked for.
struct Pending {
    expect: Expect,
    line: Vec<u8>,
    reply: ReplySender,
}

/// The handle callers share; dropping the last one closes the connection once the requests
/// already written are answered.
pub(crate) struct Connection {
    requests: mpsc::UnboundedSender<Request>,
    dead: Arc<AtomicBool>,
    reader: AbortHandle,
    writer: AbortHandle,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").field("alive", &self.is_alive()).finish()
    }
}

/// Writes are gathered up to this many bytes before they go out in one system call.
const WRITE_BATCH: usize = 64 * 1024;
/// Data blocks at least this long are written from their own buffer instead of being copied.
const LARGE_DATA: usize = 16 * 1024;
/// Room reserved in the read buffer before each read, at least.
const READ_CHUNK: usize = 16 * 1024;

impl Connection {
    /// Opens a connection to `address` and starts its reader and writer tasks on the current tokio
    /// runtime. TCP host names are resolved by tokio off the worker threads. A reply holding a
    /// value longer than `max_value` bytes is a protocol error.
    pub(crate) async fn open(address: &ServerAddress, no_delay: bool, max_value: usize) -> io::Result<Connection> {
        match address {
            ServerAddress::Tcp { host, port } => {
                let stream = TcpStream::connect((host.as_str(), *port)).await?;
                stream.set_nodelay(no_delay)?;
                let (read, write) = stream.into_split();
                Ok(Connection::start(read, write, max_value))
            }
            ServerAddress::Unix(path) => open_unix(path, max_value).await,
        }
    }

    fn start<R, W>(read: R, write: W, max_value: usize) -> Connection
    where
        R: tokio::io::AsyncRead + Unpin + Send + 'static,
        W: tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (requests, queued) = mpsc::unbounded_channel();
        let (pending_sender, pending) = mpsc::unbounded_channel();
        let dead = Arc::new(AtomicBool::new(false));
        let writer = tokio::spawn(write_loop(write, queued, pending_sender, Arc::clone(&dead))).abort_handle();
        let reader =
            tokio::spawn(read_loop(read, pending, max_value, Arc::clone(&dead), writer.clone())).abort_handle();
        Connection {
            requests,
            dead,
            reader,
            writer,
        }
    }

    /// Whether requests can still be sent.
    pub(crate) fn is_alive(&self) -> bool {
        !self.dead.load(Ordering::Acquire) && !self.requests.is_closed()
    }

    /// Queues a command; its reply arrives on the returned receiver. When the connection is
    /// closed, the command comes back untouched (nothing was sent).
    pub(crate) fn submit(&self, command: Command) -> Result<oneshot::Receiver<Result<Reply, Broken>>, Command> {
        if self.dead.load(Ordering::Acquire) {
            return Err(command);
        }
        let (reply, receiver) = oneshot::channel();
        match self.requests.send(Request { command, reply }) {
            Ok(()) => Ok(receiver),
            Err(mpsc::error::SendError(request)) => Err(request.command),
        }
    }

    /// Closes the connection at once: requests waiting for a reply fail as `Broken::Closed`.
    pub(crate) fn kill(&self) {
        self.dead.store(true, Ordering::Release);
        self.writer.abort();
        self.reader.abort();
    }
}

#[cfg(unix)]
async fn open_unix(path: &Path, max_value: usize) -> io::Result<Connection> {
    let stream = tokio::net::UnixStream::connect(path).await?;
    let (read, write) = stream.into_split();
    Ok(Connection::start(read, write, max_value))
}

#[cfg(not(unix))]
async fn open_unix(path: &Path, _max_value: usize) -> io::Result<Connection> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        format!("unix sockets ({}) are not available on this platform", path.display()),
    ))
}

async fn write_loop<W: tokio::io::AsyncWrite + Unpin>(
    mut socket: W,
    mut queued: mpsc::UnboundedReceiver<Request>,
    pending: mpsc::UnboundedSender<Pending>,
    dead: Arc<AtomicBool>,
) {
    let mut out: Vec<u8> = Vec::with_capacity(WRITE_BATCH);
    while let Some(mut request) = queued.recv().await {
        out.clear();
        let written = async {
            loop {
                let Request { command, reply } = request;
                out.extend_from_slice(&command.line);
                // The reader learns what to expect before the bytes that cause the reply leave.
                let waiting = Pending {
                    expect: command.expect,
                    line: command.line,
                    reply,
                };
                if pending.send(waiting).is_err() {
                    return Err(io::Error::from(io::ErrorKind::BrokenPipe));
                }
                if let Some(data) = command.data {
                    if data.len() >= LARGE_DATA {
                        socket.write_all(&out).await?;
                        out.clear();
                        socket.write_all(&data).await?;
                    } else {
                        out.extend_from_slice(&data);
                    }
                    out.extend_from_slice(b"\r\n");
                }
                if out.len() >= WRITE_BATCH {
                    break;
                }
                match queued.try_recv() {
                    Ok(next) => request = next,
                    Err(_) => break,
                }
            }
            socket.write_all(&out).await
        }
        .await;
        if written.is_err() {
            dead.store(true, Ordering::Release);
            return;
        }
    }
    // Every handle is gone: let the server see the end, and the reader finish what is pending.
    let _ = socket.shutdown().await;
}

async fn read_loop<R: tokio::io::AsyncRead + Unpin>(
    mut socket: R,
    mut pending: mpsc::UnboundedReceiver<Pending>,
    max_value: usize,
    dead: Arc<AtomicBool>,
    writer: AbortHandle,
) {
    let mut buffer = BytesMut::with_capacity(READ_CHUNK);
    // `Ok`: every handle is gone. `Err`: the connection failed, while idle or while reading the
    // reply of the request given.
    let ended: Result<(), Option<(ReplySender, Broken)>> = 'connection: loop {
        // Idle: wait for the next expected reply, and notice at once when the server goes away
        // (a restart, a crash) so the next request opens a new connection instead of failing.
        let Pending { expect, line, reply } = loop {
            tokio::select! {
                biased;
                next = pending.recv() => match next {
                    Some(next) => break next,
                    None => break 'connection Ok(()),
                },
                read = read_more(&mut socket, &mut buffer, 0) => match read {
                    Ok(0) | Err(_) => break 'connection Err(None),
                    // More than a line that no request explains: a server talking out of turn,
                    // which would otherwise fill the buffer while nothing reads it.
                    Ok(_) if buffer.len() > protocol::MAX_LINE => match pending.try_recv() {
                        Ok(next) => break next,
                        Err(_) => break 'connection Err(None),
                    },
                    Ok(_) => {} // a reply whose request is about to be announced
                },
            }
        };
        let mut progress = protocol::Progress::new(&line, max_value);
        loop {
            match protocol::parse(&buffer, expect, &mut progress) {
                Ok(Some((end, parsed))) => {
                    let frame = buffer.split_to(end).freeze();
                    let answer = match parsed {
                        Parsed::Values => Reply::Values(progress.values(&frame)),
                        Parsed::Other(answer) => answer,
                    };
                    // The asker may have given up; its reply is dropped.
                    let _ = reply.send(Ok(answer));
                    break;
                }
                Ok(None) => match read_more(&mut socket, &mut buffer, progress.wanted).await {
                    Ok(0) => break 'connection Err(Some((reply, Broken::Closed(None)))),
                    Ok(_) => {}
                    Err(error) => break 'connection Err(Some((reply, Broken::Closed(Some(error))))),
                },
                Err(error) => break 'connection Err(Some((reply, Broken::Protocol(error)))),
            }
        }
    };
    if let Err(failure) = ended {
        // Dead before the asker hears of it, so its next call opens a new connection rather than
        // queueing on this one.
        dead.store(true, Ordering::Release);
        writer.abort();
        if let Some((reply, why)) = failure {
            let _ = reply.send(Err(why));
        }
        // Requests already written get no reply: their senders are dropped with `pending`, which
        // their askers see as a closed connection.
        pending.close();
    }
}

/// Reads what the socket has into `buffer`, `wanted` being how much more the reply needs at least
/// (0 when unknown). The room reserved grows with what has arrived — at most doubling the buffer
/// per read — rather than with what the server claims, so a header announcing a large value costs
/// memory only as the value actually comes.
async fn read_more<R: tokio::io::AsyncRead + Unpin>(
    socket: &mut R,
    buffer: &mut BytesMut,
    wanted: usize,
) -> io::Result<usize> {
    buffer.reserve(wanted.min(buffer.len()).max(READ_CHUNK));
    socket.read_buf(buffer).await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncBufReadExt, BufReader};
    use tokio::net::TcpListener;

    use super::*;
    use crate::protocol::Status;

    fn command(line: &str, expect: Expect) -> Command {
        Command {
            line: line.as_bytes().to_vec(),
            data: None,
            expect,
        }
    }

    /// A server that answers each line it reads with the replies `answer` gives, after `delay`.
    async fn fake_server(answer: fn(&str) -> String) -> (ServerAddress, tokio::task::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if write.write_all(answer(&line).as_bytes()).await.is_err() {
                    break;
                }
            }
        });
        let address = ServerAddress::Tcp {
            host: "127.0.0.1".into(),
            port,
        };
        (address, task)
    }

    #[tokio::test]
    async fn replies_reach_their_askers_in_order() {
        let (address, _server) = fake_server(|line| match line.split_once(' ') {
            Some(("incr", rest)) => format!("{}\r\n", rest.rsplit(' ').next().unwrap()),
            _ => "ERROR\r\n".into(),
        })
        .await;
        let connection = Connection::open(&address, true, 1024 * 1024).await.unwrap();
        let receivers: Vec<_> = (0..200)
            .map(|i| {
                connection
                    .submit(command(&format!("incr k {i}\r\n"), Expect::Number))
                    .unwrap()
            })
            .collect();
        for (i, receiver) in receivers.into_iter().enumerate() {
            assert_eq!(receiver.await.unwrap().unwrap(), Reply::Number(i as u64));
        }
    }

    #[tokio::test]
    async fn an_abandoned_request_keeps_the_connection_in_step() {
        let (address, _server) = fake_server(|line| format!("{}\r\n", line.len())).await;
        let connection = Connection::open(&address, true, 1024 * 1024).await.unwrap();
        drop(connection.submit(command("x\r\n", Expect::Number)).unwrap());
        let reply = connection.submit(command("xyz\r\n", Expect::Number)).unwrap().await;
        assert_eq!(reply.unwrap().unwrap(), Reply::Number(3));
    }

    #[tokio::test]
    async fn a_closed_server_fails_waiting_requests_and_marks_the_connection_dead() {
        let (address, server) = fake_server(|_| String::new()).await;
        let connection = Connection::open(&address, true, 1024 * 1024).await.unwrap();
        let waiting = connection.submit(command("get k\r\n", Expect::Values)).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        server.abort();
        let reply = tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap();
        assert!(!matches!(reply, Ok(Ok(_))), "{reply:?}");
        for _ in 0..100 {
            if !connection.is_alive() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(!connection.is_alive());
        assert!(connection.submit(command("get k\r\n", Expect::Values)).is_err());
    }

    #[tokio::test]
    async fn a_server_talking_out_of_turn_is_cut_off() {
        // Bytes nobody asked for, more than a line's worth: the reader must not keep buffering
        // them while it waits for a request.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let chunk = vec![b'x'; 64 * 1024];
            while stream.write_all(&chunk).await.is_ok() {}
        });
        let address = ServerAddress::Tcp {
            host: "127.0.0.1".into(),
            port,
        };
        let connection = Connection::open(&address, true, 1024 * 1024).await.unwrap();
        for _ in 0..500 {
            if !connection.is_alive() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(!connection.is_alive());
        server.abort();
    }

    #[tokio::test]
    async fn garbage_is_a_protocol_error() {
        let (address, _server) = fake_server(|_| "HELLO\r\n".into()).await;
        let connection = Connection::open(&address, true, 1024 * 1024).await.unwrap();
        let reply = connection
            .submit(command("delete k\r\n", Expect::Status))
            .unwrap()
            .await
            .unwrap();
        assert!(matches!(reply, Err(Broken::Protocol(_))), "{reply:?}");
    }

    #[tokio::test]
    async fn status_round_trip() {
        let (address, _server) = fake_server(|_| "DELETED\r\n".into()).await;
        let connection = Connection::open(&address, true, 1024 * 1024).await.unwrap();
        let reply = connection
            .submit(command("delete k\r\n", Expect::Status))
            .unwrap()
            .await;
        assert_eq!(reply.unwrap().unwrap(), Reply::Status(Status::Deleted));
        connection.kill();
        assert!(!connection.is_alive());
    }
}
