//! [`ReadCoalescer`]: concurrent `get`s to one server, sent as one `MGET`.
//!
//! redis-rs' multiplexed connection already pipelines concurrent commands over one socket, yet each
//! command still costs the client a packed buffer, a channel message, a reply channel and a boxed
//! future, and costs the server one command dispatch. Where client and server share a few cores,
//! that is most of what a cache hit costs. So a `get` that arrives while other `get`s to the same
//! server are in flight joins a batch instead. The batch's sender yields once (tokio's
//! `yield_now`), so the batch takes the keys of the tasks its worker runs until that worker next
//! polls for I/O — when it runs out of ready tasks, or after about 61 task polls; then it goes out
//! as one `MGET`, and each caller takes its own reply. A `get` with nothing else in flight is sent
//! at once as a `GET`, so a lone caller waits no longer than it would without batching.
//!
//! The batch is sent by a task of its own: a caller that gives up (or is dropped) never strands the
//! others waiting on the same batch.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use parking_lot::Mutex;
use redis::{Cmd, RedisError, Value};

use crate::error::Failure;

/// Keys in one `MGET` at most; a `get` that finds the open batch full is sent on its own.
const MAX_BATCH: usize = 256;

/// Batches `get`s to one server; see the module docs.
#[derive(Default)]
pub(crate) struct ReadCoalescer {
    /// Reads sent to this server and not answered yet: `GET`s sent alone, and batches.
    in_flight: Arc<AtomicUsize>,
    /// The batch still taking keys, if there is one.
    open: Arc<Mutex<Option<OpenBatch>>>,
}

/// A batch whose sender hasn't taken it yet.
struct OpenBatch {
    mget: Cmd,
    keys: usize,
    replies: BatchReplies,
}

/// The replies of one batch, awaited by each of its callers.
pub(crate) type BatchReplies = Shared<BoxFuture<'static, Result<Arc<Replies>, Failure>>>;

/// One reply per key of a batch, each taken by the caller that asked for it.
pub(crate) struct Replies(Mutex<Vec<Value>>);

impl Replies {
    /// Reply `index`, moved out (each caller takes its own once).
    pub(crate) fn take(&self, index: usize) -> Value {
        self.0.lock().get_mut(index).map_or(Value::Nil, std::mem::take)
    }
}

/// How one `get` is sent.
pub(crate) enum Read {
    /// Nothing else is in flight (or the batch is full): send a `GET` now. It counts as in flight
    /// while the guard lives.
    Alone(InFlight),
    /// Joined a batch: await its replies and take reply `index`.
    Batched { replies: BatchReplies, index: usize },
}

/// Counts one read in flight until dropped.
pub(crate) struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn new(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        InFlight(counter.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl ReadCoalescer {
    /// How to send a `get` of `key`. When it opens a batch, `sender()` gives what sends the
    /// finished `MGET` (with the call's response timeout, connection handling and so on).
    pub(crate) fn read<S, F>(&self, key: &str, sender: impl FnOnce() -> S) -> Read
    where
        S: FnOnce(Cmd) -> F + Send + 'static,
        F: Future<Output = Result<Value, Failure>> + Send + 'static,
    {
        let mut open = self.open.lock();
        if let Some(batch) = open.as_mut() {
            if batch.keys < MAX_BATCH {
                batch.mget.arg(key);
                batch.keys += 1;
                return Read::Batched {
                    replies: batch.replies.clone(),
                    index: batch.keys - 1,
                };
            }
            return Read::Alone(InFlight::new(&self.in_flight));
        }
        if self.in_flight.load(Ordering::Relaxed) == 0 {
            return Read::Alone(InFlight::new(&self.in_flight));
        }
        let mut mget = redis::cmd("MGET");
        mget.arg(key);
        let replies = self.start_sender(sender());
        *open = Some(OpenBatch {
            mget,
            keys: 1,
            replies: replies.clone(),
        });
        Read::Batched { replies, index: 0 }
    }

    /// The task that closes the open batch once the ready tasks have joined it, and sends it.
    fn start_sender<S, F>(&self, send: S) -> BatchReplies
    where
        S: FnOnce(Cmd) -> F + Send + 'static,
        F: Future<Output = Result<Value, Failure>> + Send + 'static,
    {
        let in_flight = InFlight::new(&self.in_flight);
        // If this task never takes its batch (its runtime shut down first), the batch must not stay
        // open, or every later `get` would join a batch nobody sends.
        let unsent = Unsent(Some(self.open.clone()));
        let task = tokio::spawn(async move {
            // Let the tasks this worker runs before it next polls for I/O add their keys first.
            tokio::task::yield_now().await;
            let Some(batch) = unsent.take() else {
                return Err(Failure::Redis(lost("the batch was taken by another sender")));
            };
            let reply = send(batch.mget).await;
            drop(in_flight);
            match reply? {
                Value::Array(values) if values.len() == batch.keys => Ok(Arc::new(Replies(Mutex::new(values)))),
                other => Err(Failure::Unexpected(other)),
            }
        });
        async move {
            task.await
                .unwrap_or_else(|error| Err(Failure::Redis(lost(&format!("the task sending it failed: {error}")))))
        }
        .boxed()
        .shared()
    }
}

/// The open batch, until its sender takes it; dropped untaken, it closes the batch (whose callers
/// then get the sender task's failure).
struct Unsent(Option<Arc<Mutex<Option<OpenBatch>>>>);

impl Unsent {
    fn take(mut self) -> Option<OpenBatch> {
        self.0.take().and_then(|open| open.lock().take())
    }
}

impl Drop for Unsent {
    fn drop(&mut self) {
        if let Some(open) = self.0.take() {
            // Only one batch is open at a time, and until its sender takes it, it is this one.
            open.lock().take();
        }
    }
}

fn lost(why: &str) -> RedisError {
    RedisError::from(std::io::Error::other(format!("a batched MGET was lost: {why}")))
}
