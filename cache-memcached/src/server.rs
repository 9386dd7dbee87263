//! One server: a few multiplexed connections, opened lazily, replaced when they die, every
//! exchange bounded by the configured timeouts, and a circuit breaker in front of them all.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cache_core::{BackendError, BackendResult, CircuitBreaker, Unavailability, Wait};
use parking_lot::Mutex;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::connection::{Broken, Command, Connection};
use crate::location::ServerAddress;
use crate::options::MemcachedOptions;
use crate::protocol::Reply;

/// A server and its connections.
pub(crate) struct Server {
    address: ServerAddress,
    slots: Box<[Slot]>,
    next: AtomicUsize,
    connect_timeout: Duration,
    response_timeout: Duration,
    no_delay: bool,
    /// The longest value a reply may hold: the servers' item size limit. A value another client
    /// stored with a shorter key can be a little longer than this client's own write limit, but
    /// none is longer than memcached's `-I`.
    max_value: usize,
    /// Fails calls at once while the server keeps timing out.
    breaker: CircuitBreaker,
}

/// One connection's place: the live connection, if any, and the record of the last failed
/// attempt to open one, which callers that waited on that attempt share instead of each trying
/// again.
#[derive(Default)]
struct Slot {
    live: Mutex<Option<Arc<Connection>>>,
    opening: tokio::sync::Mutex<Option<FailedOpen>>,
}

struct FailedOpen {
    at: Instant,
    kind: io::ErrorKind,
    message: String,
}

type Receiver = oneshot::Receiver<Result<Reply, Broken>>;

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let live = self
            .slots
            .iter()
            .filter(|slot| slot.live.lock().as_ref().is_some_and(|c| c.is_alive()))
            .count();
        f.debug_struct("Server")
            .field("address", &self.address.to_string())
            .field("connections", &live)
            .finish()
    }
}

impl Server {
    /// A server with `options.pool_size` connection slots; nothing is opened yet.
    pub(crate) fn new(address: ServerAddress, options: &MemcachedOptions) -> Server {
        let breaker = CircuitBreaker::new(server_name(&address), options.circuit);
        Server {
            address,
            breaker,
            slots: (0..options.pool_size).map(|_| Slot::default()).collect(),
            next: AtomicUsize::new(0),
            connect_timeout: options.connect_timeout,
            response_timeout: options.response_timeout,
            no_delay: options.no_delay,
            max_value: options.item_size_max,
        }
    }

    /// Where it listens.
    pub(crate) fn address(&self) -> &ServerAddress {
        &self.address
    }

    /// This server's circuit breaker.
    pub(crate) fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    /// Sends one command and waits for its reply, at most `connect_timeout` to connect and
    /// `timeout` for the reply; at once `CircuitOpen` while the circuit is open.
    pub(crate) async fn call(&self, command: Command) -> BackendResult<Reply> {
        self.runtime_present()?;
        self.breaker.run(self.call_once(command)).await
    }

    async fn call_once(&self, command: Command) -> BackendResult<Reply> {
        let slot = self.slot();
        let (connection, receiver) = self.submit(slot, command).await?;
        match tokio::time::timeout(self.response_timeout, receiver).await {
            Ok(answer) => self.answer(answer),
            Err(_) => Err(self.timed_out(slot, &connection)),
        }
    }

    /// Sends every command on one connection, pipelined (one round trip), and waits for every
    /// reply, all within `timeout`; at once `CircuitOpen` while the circuit is open.
    pub(crate) async fn call_all(&self, commands: Vec<Command>) -> BackendResult<Vec<Reply>> {
        self.runtime_present()?;
        self.breaker.run(self.call_all_once(commands)).await
    }

    async fn call_all_once(&self, commands: Vec<Command>) -> BackendResult<Vec<Reply>> {
        let slot = self.slot();
        let mut commands = commands.into_iter();
        let Some(first) = commands.next() else {
            return Ok(Vec::new());
        };
        let (connection, receiver) = self.submit(slot, first).await?;
        let mut receivers = Vec::with_capacity(commands.len() + 1);
        receivers.push(receiver);
        for command in commands {
            match connection.submit(command) {
                Ok(receiver) => receivers.push(receiver),
                Err(_) => return Err(self.closed(None)),
            }
        }
        let replies = async {
            let mut replies = Vec::with_capacity(receivers.len());
            for receiver in receivers {
                replies.push(self.answer(receiver.await)?);
            }
            Ok(replies)
        };
        match tokio::time::timeout(self.response_timeout, replies).await {
            Ok(replies) => replies,
            Err(_) => Err(self.timed_out(slot, &connection)),
        }
    }

    /// Drops every connection; requests already written still get their replies, and the next
    /// request opens a new connection.
    pub(crate) fn disconnect(&self) {
        for slot in self.slots.iter() {
            slot.live.lock().take();
        }
    }

    fn slot(&self) -> &Slot {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        &self.slots[index]
    }

    /// Queues `command` on the slot's connection, opening one if needed. A connection found
    /// closed when the command is queued is replaced once: nothing was sent on it.
    async fn submit(&self, slot: &Slot, command: Command) -> BackendResult<(Arc<Connection>, Receiver)> {
        let connection = self.connection(slot).await?;
        let command = match connection.submit(command) {
            Ok(receiver) => return Ok((connection, receiver)),
            Err(command) => command,
        };
        forget(slot, &connection);
        let connection = self.connection(slot).await?;
        match connection.submit(command) {
            Ok(receiver) => Ok((connection, receiver)),
            Err(_) => Err(self.closed(None)),
        }
    }

    async fn connection(&self, slot: &Slot) -> BackendResult<Arc<Connection>> {
        if let Some(connection) = live(slot) {
            return Ok(connection);
        }
        let asked = Instant::now();
        let mut opening = slot.opening.lock().await;
        // Someone else may have opened it, or failed to, while this caller waited.
        if let Some(connection) = live(slot) {
            return Ok(connection);
        }
        if let Some(failed) = opening.as_ref().filter(|failed| failed.at >= asked) {
            return Err(self.connect_failed(failed.kind, &failed.message));
        }
        let opened = tokio::time::timeout(
            self.connect_timeout,
            Connection::open(&self.address, self.no_delay, self.max_value),
        )
        .await;
        let error = match opened {
            Ok(Ok(connection)) => {
                let connection = Arc::new(connection);
                *slot.live.lock() = Some(Arc::clone(&connection));
                *opening = None;
                return Ok(connection);
            }
            Ok(Err(error)) => error,
            Err(_) => io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "no connection within {:?} (options.connect_timeout)",
                    self.connect_timeout
                ),
            ),
        };
        let message = format!("can't connect: {error}");
        tracing::debug!("memcached server {}: {message}", self.address);
        *opening = Some(FailedOpen {
            at: Instant::now(),
            kind: error.kind(),
            message: message.clone(),
        });
        Err(self.connect_failed(error.kind(), &message))
    }

    fn answer(&self, answer: Result<Result<Reply, Broken>, oneshot::error::RecvError>) -> BackendResult<Reply> {
        match answer {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(Broken::Protocol(error))) => {
                Err(BackendError::protocol(format!("{error}; the connection was closed"))
                    .on_server(self.name())
                    .with_source(error))
            }
            Ok(Err(Broken::Closed(error))) => Err(self.closed(error)),
            Err(_) => Err(self.closed(None)),
        }
    }

    /// The connection's reader task, sockets and timeouts need tokio's reactor and timer: without
    /// them they panic, so a call from outside a runtime is an error instead.
    fn runtime_present(&self) -> BackendResult<()> {
        match tokio::runtime::Handle::try_current() {
            Ok(_) => Ok(()),
            Err(_) => Err(BackendError::no_runtime("memcached").on_server(self.name())),
        }
    }

    /// How users see this server in errors.
    pub(crate) fn name(&self) -> String {
        server_name(&self.address)
    }

    /// Opening a connection failed with an error of `kind`; `message` says how.
    fn connect_failed(&self, kind: io::ErrorKind, message: &str) -> BackendError {
        let error = match kind {
            io::ErrorKind::TimedOut => BackendError::timeout(Wait::Connect, message),
            io::ErrorKind::ConnectionRefused => BackendError::unavailable(
                Unavailability::Refused,
                format!("{message}; is memcached running at this address?"),
            ),
            _ => BackendError::unavailable(Unavailability::Closed, message),
        };
        error.on_server(self.name())
    }

    fn closed(&self, error: Option<io::Error>) -> BackendError {
        let error = error.unwrap_or_else(|| {
            io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the connection closed before the reply arrived",
            )
        });
        BackendError::unavailable(Unavailability::Closed, error.to_string())
            .on_server(self.name())
            .with_source(error)
    }

    fn timed_out(&self, slot: &Slot, connection: &Arc<Connection>) -> BackendError {
        // A server that doesn't answer in time gets a fresh connection for the next request,
        // rather than a queue of requests behind the one it is stuck on.
        connection.kill();
        forget(slot, connection);
        BackendError::timeout(
            Wait::Response,
            format!(
                "no reply within {:?} (options.timeout); the connection was closed",
                self.response_timeout
            ),
        )
        .on_server(self.name())
    }
}

fn server_name(address: &ServerAddress) -> String {
    format!("memcached server {address}")
}

fn live(slot: &Slot) -> Option<Arc<Connection>> {
    slot.live
        .lock()
        .as_ref()
        .filter(|connection| connection.is_alive())
        .cloned()
}

/// Empties the slot if it still holds `connection`.
fn forget(slot: &Slot, connection: &Arc<Connection>) {
    let mut live = slot.live.lock();
    if live.as_ref().is_some_and(|current| Arc::ptr_eq(current, connection)) {
        *live = None;
    }
}
