//! The table in a SQLite file: pooled connections, every call on tokio's blocking pool.

mod connection;
mod error;
mod increment;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use cache_core::{BackendError, BackendResult, Expiry, Unavailability};
use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::cull::{self, Cull};
use crate::errors::unreadable_value;
use crate::options::DbOptions;
use crate::sql::Statements;
use crate::stored::{stored_key, value_bytes, value_text};
use crate::table::TableName;
use crate::timestamp::{Moment, WallTime};

pub(crate) use increment::INCREMENT_FUNCTION;

/// A cache table in a SQLite database file.
///
/// SQLite is called synchronously, so every operation runs on tokio's blocking pool with a
/// connection from the pool, never on a worker thread. The database is in WAL mode: readers don't
/// wait for the writer, and writers wait for each other up to `options.timeout`.
pub(crate) struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    server: String,
    table: TableName,
    statements: Statements,
    options: DbOptions,
    time: WallTime,
    idle: Mutex<Vec<Connection>>,
}

impl SqliteStore {
    pub(crate) fn new(path: PathBuf, server: String, table: TableName, options: DbOptions, time: WallTime) -> Self {
        let statements = Statements::new(&table, crate::database::Dialect::Sqlite);
        SqliteStore {
            inner: Arc::new(Inner {
                path,
                server,
                table,
                statements,
                options,
                time,
                idle: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Runs `operation` with a pooled connection on the blocking pool.
    async fn run<T: Send + 'static>(
        &self,
        operation: impl FnOnce(&Inner, &Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> BackendResult<T> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| BackendError::no_runtime("database"))?;
        let inner = Arc::clone(&self.inner);
        let task = runtime.spawn_blocking(move || {
            let connection = inner.checkout()?;
            let result = operation(&inner, &connection).map_err(|error| inner.error(error));
            inner.checkin(connection);
            result
        });
        match task.await {
            Ok(result) => result,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => Err(BackendError::unavailable(
                Unavailability::Closed,
                format!("the SQLite call was cancelled ({error}): the tokio runtime is shutting down"),
            )),
        }
    }

    pub(crate) async fn get(&self, key: &str) -> BackendResult<Option<Bytes>> {
        let key = stored_key(key).into_owned();
        self.run(move |inner, db| {
            let now = inner.time.now();
            let row = inner.get_row(db, &key, now)?;
            inner.value_of(db, &key, now, row)
        })
        .await?
    }

    pub(crate) async fn get_many(&self, keys: &[&str]) -> BackendResult<Vec<Option<Bytes>>> {
        let keys: Vec<String> = keys.iter().map(|key| stored_key(key).into_owned()).collect();
        self.run(move |inner, db| {
            let now = inner.time.now();
            // One read transaction: every value from the same snapshot of the table.
            let transaction = db.unchecked_transaction()?;
            let rows = keys
                .iter()
                .map(|key| inner.get_row(db, key, now))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            transaction.commit()?;
            // Expired rows are removed after the snapshot: a write inside a read transaction could
            // find another writer got there first, which SQLite reports as busy at once.
            let mut values = Vec::with_capacity(keys.len());
            for (key, row) in keys.iter().zip(rows) {
                values.push(inner.value_of(db, key, now, row)?);
            }
            Ok(values.into_iter().collect::<BackendResult<Vec<_>>>())
        })
        .await?
    }

    pub(crate) async fn has_key(&self, key: &str) -> BackendResult<bool> {
        let key = stored_key(key).into_owned();
        self.run(move |inner, db| {
            let now = inner.time.now().sqlite_text();
            let mut statement = db.prepare_cached(&inner.statements.has_key)?;
            statement.exists(params![key, now])
        })
        .await
    }

    pub(crate) async fn set(&self, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<()> {
        let key = stored_key(key).into_owned();
        self.run(move |inner, db| {
            let now = inner.time.now();
            inner.cull(db, now)?;
            let expires = inner.time.expires(expiry).sqlite_text();
            db.prepare_cached(&inner.statements.set)?
                .execute(params![key, value_text(&value), expires])?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn set_many(&self, items: &[(&str, Bytes)], expiry: Expiry) -> BackendResult<()> {
        let items: Vec<(String, String)> = items
            .iter()
            .map(|(key, value)| (stored_key(key).into_owned(), value_text(value)))
            .collect();
        self.run(move |inner, db| {
            let now = inner.time.now();
            inner.cull(db, now)?;
            let expires = inner.time.expires(expiry).sqlite_text();
            // One write transaction: all stored or none.
            let transaction = rusqlite::Transaction::new_unchecked(db, TransactionBehavior::Immediate)?;
            {
                let mut statement = db.prepare_cached(&inner.statements.set)?;
                for (key, value) in &items {
                    statement.execute(params![key, value, expires])?;
                }
            }
            transaction.commit()
        })
        .await
    }

    pub(crate) async fn add(&self, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<bool> {
        let key = stored_key(key).into_owned();
        self.run(move |inner, db| {
            let now = inner.time.now();
            inner.cull(db, now)?;
            let expires = inner.time.expires(expiry).sqlite_text();
            let changed = db.prepare_cached(&inner.statements.add)?.execute(params![
                key,
                value_text(&value),
                expires,
                now.sqlite_text()
            ])?;
            Ok(changed > 0)
        })
        .await
    }

    pub(crate) async fn touch(&self, key: &str, expiry: Expiry) -> BackendResult<bool> {
        let key = stored_key(key).into_owned();
        self.run(move |inner, db| {
            let now = inner.time.now();
            let expires = inner.time.expires(expiry).sqlite_text();
            let changed =
                db.prepare_cached(&inner.statements.touch)?
                    .execute(params![key, expires, now.sqlite_text()])?;
            Ok(changed > 0)
        })
        .await
    }

    pub(crate) async fn delete(&self, key: &str) -> BackendResult<bool> {
        let key = stored_key(key).into_owned();
        self.run(move |inner, db| {
            let now = inner.time.now().sqlite_text();
            let live: Option<bool> = db
                .prepare_cached(&inner.statements.delete)?
                .query_row(params![key, now], |row| row.get(0))
                .optional()?;
            Ok(live.unwrap_or(false))
        })
        .await
    }

    pub(crate) async fn delete_many(&self, keys: &[&str]) -> BackendResult<()> {
        let keys: Vec<String> = keys.iter().map(|key| stored_key(key).into_owned()).collect();
        self.run(move |inner, db| {
            let now = inner.time.now().sqlite_text();
            let transaction = rusqlite::Transaction::new_unchecked(db, TransactionBehavior::Immediate)?;
            {
                let mut statement = db.prepare_cached(&inner.statements.delete)?;
                for key in &keys {
                    statement.query_row(params![key, now], |_| Ok(())).optional()?;
                }
            }
            transaction.commit()
        })
        .await
    }

    pub(crate) async fn incr(&self, key: &str, delta: i64) -> BackendResult<i64> {
        let key = stored_key(key).into_owned();
        let result = self
            .run(move |inner, db| {
                let now = inner.time.now().sqlite_text();
                db.prepare_cached(&inner.statements.incr)?
                    .query_row(params![key, delta, now], |row| row.get::<_, String>(0))
                    .optional()
            })
            .await;
        let text = match result {
            Ok(Some(text)) => text,
            Ok(None) => return Err(BackendError::key_not_found()),
            Err(error) => return Err(increment::refine(error, delta)),
        };
        increment::read_back(&text).ok_or_else(|| unreadable_value(&self.inner.table, &self.inner.server))
    }

    pub(crate) async fn clear(&self) -> BackendResult<()> {
        self.run(|inner, db| db.prepare_cached(&inner.statements.clear)?.execute([]).map(drop))
            .await
    }

    /// Django's `createcachetable`: whether the table was created (false: it was there).
    pub(crate) async fn create_table(&self) -> BackendResult<bool> {
        let inner = Arc::clone(&self.inner);
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| BackendError::no_runtime("database"))?;
        let task = runtime.spawn_blocking(move || {
            let db =
                connection::open_without_statements(&inner.path, &inner.options).map_err(|error| inner.error(error))?;
            let create = || -> rusqlite::Result<bool> {
                let transaction = rusqlite::Transaction::new_unchecked(&db, TransactionBehavior::Immediate)?;
                let exists = db
                    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE")?
                    .exists([inner.table.as_str()])?;
                for statement in inner.table.create_statements(crate::database::Dialect::Sqlite) {
                    db.execute(&statement, [])?;
                }
                transaction.commit()?;
                Ok(!exists)
            };
            create().map_err(|error| inner.error(error))
        });
        task.await.map_err(|error| {
            BackendError::unavailable(
                Unavailability::Closed,
                format!("creating the table was cancelled: {error}"),
            )
        })?
    }
}

impl Inner {
    fn checkout(&self) -> BackendResult<Connection> {
        if let Some(connection) = self.idle.lock().pop() {
            return Ok(connection);
        }
        connection::open(&self.path, &self.options).map_err(|error| self.error(error))
    }

    fn checkin(&self, connection: Connection) {
        let mut idle = self.idle.lock();
        if idle.len() < self.options.pool_size {
            idle.push(connection);
        }
    }

    fn error(&self, error: rusqlite::Error) -> BackendError {
        error::backend_error(error, &self.table, &self.path, &self.server, &self.options)
    }

    /// The row of `key`: its value text and whether it is live.
    fn get_row(&self, db: &Connection, key: &str, now: Moment) -> rusqlite::Result<Option<(String, bool)>> {
        db.prepare_cached(&self.statements.get)?
            .query_row(params![key, now.sqlite_text()], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
    }

    /// The value of a row read; an expired row is removed (as Django's `get_many` does).
    fn value_of(
        &self,
        db: &Connection,
        key: &str,
        now: Moment,
        row: Option<(String, bool)>,
    ) -> rusqlite::Result<BackendResult<Option<Bytes>>> {
        Ok(match row {
            None => Ok(None),
            Some((text, true)) => value_bytes(&text)
                .map(Some)
                .ok_or_else(|| unreadable_value(&self.table, &self.server)),
            Some((_, false)) => {
                self.remove_expired(db, key, now)?;
                Ok(None)
            }
        })
    }

    /// Removes a row a read found expired, if no writer holds the database right now: a read
    /// doesn't wait for writers, and the row is a miss either way (a later read or a cull
    /// removes it).
    fn remove_expired(&self, db: &Connection, key: &str, now: Moment) -> rusqlite::Result<()> {
        db.busy_timeout(Duration::ZERO)?;
        let _ = db
            .prepare_cached(&self.statements.delete_expired_key)
            .and_then(|mut statement| statement.execute(params![key, now.sqlite_text()]));
        // Back to what `connection::open` set, for the writes this connection makes next.
        db.busy_timeout(self.options.timeout)
    }

    /// Django's cull, before a write that may add a row.
    fn cull(&self, db: &Connection, now: Moment) -> rusqlite::Result<()> {
        let rows: i64 = db
            .prepare_cached(&self.statements.count)?
            .query_row([], |row| row.get(0))?;
        let rows = u64::try_from(rows).unwrap_or(0);
        match cull::decide(rows, self.options.cull) {
            Cull::Nothing => Ok(()),
            Cull::Clear => db.prepare_cached(&self.statements.clear)?.execute([]).map(drop),
            Cull::Expired => {
                let removed = db
                    .prepare_cached(&self.statements.cull_expired)?
                    .execute([now.sqlite_text()])?;
                if let Some(offset) = cull::after_expired(rows.saturating_sub(removed as u64), self.options.cull) {
                    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
                    db.prepare_cached(&self.statements.cull_below)?.execute([offset])?;
                }
                Ok(())
            }
        }
    }
}
