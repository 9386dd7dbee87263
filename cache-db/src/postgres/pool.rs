//! A fixed set of PostgreSQL connections, each with every statement prepared, opened on first use
//! and opened again after it breaks.
//!
//! A tokio-postgres connection pipelines: any number of callers send statements on it at once and
//! get their answers in order, so a few connections serve many concurrent calls and no caller
//! waits for a connection to be free. A call takes the first connection with nothing in flight,
//! else the least busy: one caller at a time keeps using one connection, whose server process
//! stays warm (round-robin over idle connections measured 1.4–1.7× slower per `get`, each call waking
//! another server process), while concurrent callers spread over all of them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cache_core::{BackendError, BackendResult, Wait};
use futures::future::try_join_all;
use parking_lot::Mutex;
use tokio_postgres::{Client, NoTls, Statement};

use super::error::PgErrors;
use crate::sql::Statements;

/// One open connection and its prepared statements.
pub(super) struct PgConnection {
    pub(super) client: Client,
    pub(super) prepared: Prepared,
    slot: usize,
}

/// Declares [`Prepared`] with one field per statement of [`Statements`], and prepares them all
/// at once: the one list of names keeps the two in step.
macro_rules! prepared {
    ($($name:ident),* $(,)?) => {
        /// Every statement of [`Statements`], prepared on one connection.
        pub(super) struct Prepared {
            $(pub(super) $name: Statement,)*
        }

        impl Prepared {
            /// Sent together: the connection pipelines them, one round trip in all.
            async fn prepare(client: &Client, statements: &Statements) -> Result<Prepared, tokio_postgres::Error> {
                let mut prepared = try_join_all([$(client.prepare(&statements.$name)),*]).await?.into_iter();
                Ok(Prepared {
                    $($name: prepared.next().expect("one statement prepared per statement sent"),)*
                })
            }
        }
    };
}

prepared!(
    get,
    get_many,
    delete_expired_key,
    has_key,
    set,
    set_many,
    add,
    touch,
    delete,
    delete_many,
    incr,
    count,
    cull_expired,
    cull_below,
    clear,
);

struct Slot {
    current: Mutex<Option<Arc<PgConnection>>>,
    /// Calls using this slot right now.
    in_flight: AtomicUsize,
    /// Held while (re)connecting, so callers arriving meanwhile wait for that one connection
    /// instead of each opening their own.
    connecting: tokio::sync::Mutex<()>,
}

pub(super) struct PgPool {
    config: tokio_postgres::Config,
    statements: Statements,
    connect_timeout: Duration,
    slots: Box<[Slot]>,
    errors: PgErrors,
}

impl PgPool {
    pub(super) fn new(
        mut config: tokio_postgres::Config,
        statements: Statements,
        size: usize,
        connect_timeout: Duration,
        errors: PgErrors,
    ) -> Self {
        config.connect_timeout(connect_timeout);
        PgPool {
            config,
            statements,
            connect_timeout,
            slots: (0..size)
                .map(|_| Slot {
                    current: Mutex::new(None),
                    in_flight: AtomicUsize::new(0),
                    connecting: tokio::sync::Mutex::new(()),
                })
                .collect(),
            errors,
        }
    }

    /// Marks the least busy slot (the first idle one) in use until the lease is dropped.
    pub(super) fn lease(&self) -> Lease<'_> {
        let (index, slot) = self
            .slots
            .iter()
            .enumerate()
            .min_by_key(|(_, slot)| slot.in_flight.load(Ordering::Relaxed))
            .unwrap_or_else(|| unreachable!("a pool has at least one slot"));
        slot.in_flight.fetch_add(1, Ordering::Relaxed);
        Lease { pool: self, index }
    }

    /// The leased slot's connection; opened (and its statements prepared) when missing or closed.
    pub(super) async fn connection(&self, lease: &Lease<'_>) -> BackendResult<Arc<PgConnection>> {
        let index = lease.index;
        let slot = &self.slots[index];
        if let Some(connection) = live(slot) {
            return Ok(connection);
        }
        let _connecting = slot.connecting.lock().await;
        if let Some(connection) = live(slot) {
            return Ok(connection);
        }
        let connection = Arc::new(self.connect(index).await?);
        *slot.current.lock() = Some(Arc::clone(&connection));
        Ok(connection)
    }

    /// Forgets a connection that failed, so the next call on its slot opens a new one.
    pub(super) fn discard(&self, connection: &Arc<PgConnection>) {
        let mut current = self.slots[connection.slot].current.lock();
        if current.as_ref().is_some_and(|held| Arc::ptr_eq(held, connection)) {
            *current = None;
        }
    }

    /// Closes every connection (they reopen on the next call).
    pub(super) fn close(&self) {
        for slot in &self.slots {
            slot.current.lock().take();
        }
    }

    /// A plain connection, no statements prepared: for creating the table.
    pub(super) async fn connect_plain(&self) -> BackendResult<Client> {
        let connecting = async {
            let (client, connection) = self.config.connect(NoTls).await?;
            tokio::spawn(connection);
            Ok::<_, tokio_postgres::Error>(client)
        };
        match tokio::time::timeout(self.connect_timeout, connecting).await {
            Ok(result) => result.map_err(|error| self.errors.convert(error)),
            Err(_) => Err(self.connect_timed_out()),
        }
    }

    async fn connect(&self, slot: usize) -> BackendResult<PgConnection> {
        let client = self.connect_plain().await?;
        let prepared =
            match tokio::time::timeout(self.connect_timeout, Prepared::prepare(&client, &self.statements)).await {
                Ok(result) => result.map_err(|error| self.errors.convert(error))?,
                Err(_) => return Err(self.connect_timed_out()),
            };
        Ok(PgConnection { client, prepared, slot })
    }

    fn connect_timed_out(&self) -> BackendError {
        self.errors.with_server(BackendError::timeout(
            Wait::Connect,
            format!(
                "connecting took longer than options.connect_timeout ({:?}); check that the server is up and \
                 reachable, or raise the timeout",
                self.connect_timeout
            ),
        ))
    }
}

/// A slot in use by one call; released on drop.
pub(super) struct Lease<'a> {
    pool: &'a PgPool,
    index: usize,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        self.pool.slots[self.index].in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

fn live(slot: &Slot) -> Option<Arc<PgConnection>> {
    slot.current
        .lock()
        .as_ref()
        .filter(|connection| !connection.client.is_closed())
        .cloned()
}
