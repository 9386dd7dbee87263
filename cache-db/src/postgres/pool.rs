//! A fixed set of PostgreSQL connections, each with every statement prepared, opened on first use
//! and opened again after it breaks.
//!
//! A tokio-postgres connection pipelines: any number of callers send statements on it at once and
//! get their answers in order, so a few connections serve many concurrent calls and no caller
//! waits for a connection to be free. Calls are spread over them in turn.

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

/// Every statement of [`Statements`], prepared on one connection.
pub(super) struct Prepared {
    pub(super) get: Statement,
    pub(super) get_many: Statement,
    pub(super) delete_expired_key: Statement,
    pub(super) has_key: Statement,
    pub(super) set: Statement,
    pub(super) set_many: Statement,
    pub(super) add: Statement,
    pub(super) touch: Statement,
    pub(super) delete: Statement,
    pub(super) delete_many: Statement,
    pub(super) incr: Statement,
    pub(super) count: Statement,
    pub(super) cull_expired: Statement,
    pub(super) cull_below: Statement,
    pub(super) clear: Statement,
}

struct Slot {
    current: Mutex<Option<Arc<PgConnection>>>,
    /// Held while (re)connecting, so callers arriving meanwhile wait for that one connection
    /// instead of each opening their own.
    connecting: tokio::sync::Mutex<()>,
}

pub(super) struct PgPool {
    config: tokio_postgres::Config,
    statements: Statements,
    connect_timeout: Duration,
    slots: Box<[Slot]>,
    next: AtomicUsize,
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
                    connecting: tokio::sync::Mutex::new(()),
                })
                .collect(),
            next: AtomicUsize::new(0),
            errors,
        }
    }

    /// A live connection, the next one in turn; opened (and its statements prepared) when missing.
    pub(super) async fn connection(&self) -> BackendResult<Arc<PgConnection>> {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
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
        let s = &self.statements;
        let all = [
            &s.get,
            &s.get_many,
            &s.delete_expired_key,
            &s.has_key,
            &s.set,
            &s.set_many,
            &s.add,
            &s.touch,
            &s.delete,
            &s.delete_many,
            &s.incr,
            &s.count,
            &s.cull_expired,
            &s.cull_below,
            &s.clear,
        ];
        // Sent together: the connection pipelines them, one round trip in all.
        let preparing = try_join_all(all.map(|sql| client.prepare(sql)));
        let prepared = match tokio::time::timeout(self.connect_timeout, preparing).await {
            Ok(result) => result.map_err(|error| self.errors.convert(error))?,
            Err(_) => return Err(self.connect_timed_out()),
        };
        let [
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
        ]: [Statement; 15] = prepared
            .try_into()
            .unwrap_or_else(|_| unreachable!("one statement prepared per statement sent"));
        Ok(PgConnection {
            client,
            prepared: Prepared {
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
            },
            slot,
        })
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

fn live(slot: &Slot) -> Option<Arc<PgConnection>> {
    slot.current
        .lock()
        .as_ref()
        .filter(|connection| !connection.client.is_closed())
        .cloned()
}
