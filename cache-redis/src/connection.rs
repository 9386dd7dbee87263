//! [`Node`]: one server's (or one cluster's) connection, opened on first use and opened again after
//! it breaks.
//!
//! redis-rs' multiplexed connection pipelines every concurrent command over one socket, which is
//! what makes 50 tasks fast, but it does not reconnect. Its `ConnectionManager` does, yet while it
//! retries with back-off every caller waits on the retries. Here a broken connection is dropped at
//! once, the caller gets a retryable error, and the next call opens a new one; callers that arrive
//! while a connection is being opened share that attempt. The attempt runs in its own task, so a
//! caller that gives up (its `response_timeout` passed) doesn't abandon it.

use std::fmt;
use std::sync::Arc;
use std::sync::Weak;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use cache_core::{CircuitBreaker, CircuitSettings};
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use parking_lot::{Mutex, RwLock};
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisError, RedisFuture, RedisResult, Value};

use crate::coalesce::ReadCoalescer;

/// A connection to one server or to a cluster; cheap to clone (every clone shares the socket).
#[derive(Clone)]
pub(crate) enum Conn {
    /// One server: commands pipelined over one socket.
    Server(MultiplexedConnection),
    /// A Redis Cluster: redis-rs routes each command to the node owning its slot.
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Server(connection) => connection.req_packed_command(cmd),
            Conn::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Server(connection) => connection.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Server(connection) => connection.get_db(),
            Conn::Cluster(connection) => connection.get_db(),
        }
    }
}

/// Opens a connection.
pub(crate) type Connect = Box<dyn Fn() -> BoxFuture<'static, RedisResult<Conn>> + Send + Sync>;

/// A connection attempt that several callers may await.
type Attempt = Shared<BoxFuture<'static, RedisResult<(Conn, u64)>>>;

enum State {
    /// No connection: the next caller opens one.
    Idle,
    /// Being opened.
    Connecting(Attempt),
    /// Open; `generation` tells this connection from the ones before and after it.
    Ready { connection: Conn, generation: u64 },
}

/// One server's connection, kept open across calls and reopened after it breaks.
#[derive(Clone)]
pub(crate) struct Node {
    inner: Arc<NodeInner>,
}

struct NodeInner {
    /// The server as shown in messages: its URL without the password.
    shown: String,
    connect: Connect,
    state: RwLock<State>,
    generations: AtomicU64,
    /// The generation of the open connection, 0 when there is none: lets a call check a spare
    /// clone without taking `state`'s lock.
    current: AtomicU64,
    /// Spare clones of the open connection, one list per shard of threads (see [`Node::spare`]).
    spares: Box<[Spares]>,
    /// Batches concurrent `get`s to this server.
    reads: ReadCoalescer,
    /// Fails calls at once while the server keeps timing out.
    breaker: CircuitBreaker,
}

/// Spare clones of one connection generation, for the threads of one shard.
type Spares = Mutex<Vec<(u64, Conn)>>;

/// Shards of spare clones; a thread uses one, so its lock and list stay in that thread's cache.
const SPARE_SHARDS: usize = 16;
/// Spare clones kept per shard: about the calls a thread has in flight at once.
const SPARES_PER_SHARD: usize = 64;

impl Node {
    pub(crate) fn new(shown: String, connect: Connect, circuit: CircuitSettings) -> Self {
        Node {
            inner: Arc::new(NodeInner {
                breaker: CircuitBreaker::new(format!("redis {shown}"), circuit),
                shown,
                connect,
                state: RwLock::new(State::Idle),
                generations: AtomicU64::new(0),
                current: AtomicU64::new(0),
                spares: (0..SPARE_SHARDS).map(|_| Mutex::new(Vec::new())).collect(),
                reads: ReadCoalescer::default(),
            }),
        }
    }

    /// The server, for messages.
    pub(crate) fn shown(&self) -> &str {
        &self.inner.shown
    }

    /// This server's circuit breaker.
    pub(crate) fn breaker(&self) -> &CircuitBreaker {
        &self.inner.breaker
    }

    /// What batches this server's concurrent `get`s.
    pub(crate) fn reads(&self) -> &ReadCoalescer {
        &self.inner.reads
    }

    /// The open connection and its generation, opening one first when there is none. Give it back
    /// with [`Node::give_back`] once the call is done with it.
    ///
    /// A call needs a connection of its own (redis-rs sends through `&mut`), and cloning the shared
    /// one touches reference counts every thread shares; a spare clone that an earlier call on
    /// this thread gave back touches nothing shared.
    #[inline]
    pub(crate) async fn connection(&self) -> RedisResult<(Conn, u64)> {
        if let Some(spare) = self.spare() {
            return Ok(spare);
        }
        let attempt = {
            let state = self.inner.state.read();
            match &*state {
                State::Ready { connection, generation } => return Ok((connection.clone(), *generation)),
                State::Connecting(attempt) => attempt.clone(),
                State::Idle => {
                    drop(state);
                    self.start_connecting()
                }
            }
        };
        attempt.await
    }

    /// A spare clone of the open connection, if this thread's shard has one.
    #[inline]
    fn spare(&self) -> Option<(Conn, u64)> {
        let current = self.inner.current.load(Ordering::Acquire);
        if current == 0 {
            return None;
        }
        let mut spares = self.inner.spares[shard()].lock();
        match spares.pop() {
            Some((generation, connection)) if generation == current => Some((connection, generation)),
            Some(_) => {
                // Clones of a connection since replaced: drop them all.
                spares.clear();
                None
            }
            None => None,
        }
    }

    /// Returns a connection from [`Node::connection`] after a call that left it usable.
    #[inline]
    pub(crate) fn give_back(&self, connection: Conn, generation: u64) {
        if self.inner.current.load(Ordering::Acquire) != generation {
            return;
        }
        let mut spares = self.inner.spares[shard()].lock();
        if spares.len() < SPARES_PER_SHARD {
            spares.push((generation, connection));
        }
    }

    /// Forgets the connection of `generation` after it failed in a way that a new one may fix;
    /// the next call opens another. A newer connection is left alone. Whether it was forgotten
    /// (by this call: of several callers discarding one generation, one gets `true`).
    pub(crate) fn discard(&self, generation: u64) -> bool {
        let mut state = self.inner.state.write();
        if matches!(&*state, State::Ready { generation: current, .. } if *current == generation) {
            *state = State::Idle;
            self.drop_spares();
            return true;
        }
        false
    }

    /// The generation of the open connection, 0 when there is none.
    #[inline]
    pub(crate) fn generation(&self) -> u64 {
        self.inner.current.load(Ordering::Acquire)
    }

    /// Drops the connection (its socket closes once the calls using it finish).
    pub(crate) fn close(&self) {
        let mut state = self.inner.state.write();
        if matches!(&*state, State::Ready { .. }) {
            *state = State::Idle;
        }
        self.drop_spares();
    }

    /// With `state` locked for writing: no connection is current, and no spare clone is kept.
    fn drop_spares(&self) {
        self.inner.current.store(0, Ordering::Release);
        for spares in &self.inner.spares {
            spares.lock().clear();
        }
    }

    fn start_connecting(&self) -> Attempt {
        let mut state = self.inner.state.write();
        match &*state {
            State::Ready { connection, generation } => {
                let ready = Ok((connection.clone(), *generation));
                return futures::future::ready(ready).boxed().shared();
            }
            State::Connecting(attempt) => return attempt.clone(),
            State::Idle => {}
        }
        let generation = self.inner.generations.fetch_add(1, Ordering::Relaxed) + 1;
        let opening = (self.inner.connect)();
        let node: Weak<NodeInner> = Arc::downgrade(&self.inner);
        let task = tokio::spawn({
            let node = node.clone();
            async move {
                let result = opening.await;
                settle_attempt(&node, generation, result.as_ref().ok());
                result.map(|connection| (connection, generation))
            }
        });
        let attempt = async move {
            task.await.unwrap_or_else(|error| {
                // The task was dropped unfinished (its runtime shut down): the next call tries again.
                settle_attempt(&node, generation, None);
                Err(RedisError::from(std::io::Error::other(format!(
                    "the task opening the connection failed: {error}"
                ))))
            })
        }
        .boxed()
        .shared();
        *state = State::Connecting(attempt.clone());
        attempt
    }
}

/// Ends connection attempt `generation`: the node is ready with `opened`, or idle without it. A
/// newer attempt, or a node already settled, is left alone.
fn settle_attempt(node: &Weak<NodeInner>, generation: u64, opened: Option<&Conn>) {
    let Some(node) = node.upgrade() else { return };
    let mut state = node.state.write();
    if !matches!(&*state, State::Connecting(_)) || node.generations.load(Ordering::Relaxed) != generation {
        return;
    }
    *state = match opened {
        Some(connection) => {
            node.current.store(generation, Ordering::Release);
            State::Ready {
                connection: connection.clone(),
                generation,
            }
        }
        None => State::Idle,
    };
}

/// This thread's shard of spare clones: threads are numbered as they first ask, round robin.
#[inline]
fn shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SPARE_SHARDS;
    }
    SHARD.with(|shard| *shard)
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &*self.inner.state.read() {
            State::Idle => "idle",
            State::Connecting(_) => "connecting",
            State::Ready { .. } => "connected",
        };
        f.debug_struct("Node")
            .field("server", &self.inner.shown)
            .field("state", &state)
            .finish()
    }
}
