//! The table in a PostgreSQL database: a few pipelined connections, every call bounded by
//! `options.timeout`.

mod error;
mod pool;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use cache_core::{BackendError, BackendResult, CircuitBreaker, CircuitState, CircuitStats, Expiry, Wait};
use tokio_postgres::error::SqlState;

use self::error::{PgErrors, breaks_the_connection};
use self::pool::{PgConnection, PgPool};
use crate::cull::{self, Cull};
use crate::database::Dialect;
use crate::errors::{unexpected_columns, unreadable_value};
use crate::options::DbOptions;
use crate::sql::Statements;
use crate::stored::{stored_key, value_bytes, value_text};
use crate::table::TableName;
use crate::timestamp::WallTime;

/// A cache table in a PostgreSQL database.
pub(crate) struct PostgresStore {
    pool: PgPool,
    /// In front of every call: a server that stops answering costs `options.circuit` failures'
    /// timeouts, then calls fail at once until a probe gets an answer.
    breaker: CircuitBreaker,
    errors: PgErrors,
    table: TableName,
    server: String,
    options: DbOptions,
    time: WallTime,
}

impl PostgresStore {
    /// `url` was checked when the options were read.
    pub(crate) fn new(
        url: &str,
        server: String,
        table: TableName,
        options: DbOptions,
        time: WallTime,
    ) -> Result<Self, String> {
        let mut config =
            tokio_postgres::Config::from_str(url).map_err(|error| format!("not a PostgreSQL URL: {error}"))?;
        // The server gives up on a statement when this client does: an `incr` that timed out here
        // (and may be retried) is not applied later behind a row lock, and a slow server's
        // abandoned statements don't keep its backends busy. Added to any `options` the URL gives.
        let statement_timeout = format!("-c statement_timeout={}", options.timeout.as_millis().max(1));
        let startup = match config.get_options() {
            Some(given) => format!("{given} {statement_timeout}"),
            None => statement_timeout,
        };
        config.options(&startup);
        let errors = PgErrors::new(server.clone(), table.clone());
        let statements = Statements::new(&table, Dialect::Postgres);
        Ok(PostgresStore {
            breaker: CircuitBreaker::new(server.clone(), options.circuit),
            pool: PgPool::new(
                config,
                statements,
                options.pool_size,
                options.connect_timeout,
                errors.clone(),
            ),
            errors,
            table,
            server,
            options,
            time,
        })
    }

    /// Runs `operation` on a pooled connection within `options.timeout`; errors are converted by
    /// `convert`, and a connection that failed or timed out is replaced.
    async fn run_converting<T, F, Fut>(
        &self,
        operation: F,
        convert: impl FnOnce(&PgErrors, tokio_postgres::Error) -> BackendError,
    ) -> BackendResult<T>
    where
        F: FnOnce(Arc<PgConnection>) -> Fut,
        Fut: Future<Output = Result<T, tokio_postgres::Error>>,
    {
        tokio::runtime::Handle::try_current().map_err(|_| BackendError::no_runtime("database"))?;
        let call = self.run_once(operation, convert);
        self.breaker.run(call).await
    }

    /// One call of [`PostgresStore::run_converting`], past the circuit breaker.
    async fn run_once<T, F, Fut>(
        &self,
        operation: F,
        convert: impl FnOnce(&PgErrors, tokio_postgres::Error) -> BackendError,
    ) -> BackendResult<T>
    where
        F: FnOnce(Arc<PgConnection>) -> Fut,
        Fut: Future<Output = Result<T, tokio_postgres::Error>>,
    {
        // The pool's own connect timeout bounds each attempt; this bounds the wait for another
        // caller's attempt on the same connection too.
        let lease = self.pool.lease();
        let connection =
            match tokio::time::timeout(self.options.connect_timeout * 2, self.pool.connection(&lease)).await {
                Ok(connection) => connection?,
                Err(_) => return Err(self.timed_out(Wait::Connect, self.options.connect_timeout, "connect_timeout")),
            };
        match tokio::time::timeout(self.options.timeout, operation(Arc::clone(&connection))).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                let error = convert(&self.errors, error);
                if breaks_the_connection(&error) {
                    self.pool.discard(&connection);
                }
                Err(error)
            }
            Err(_) => {
                // The answer may still come; the connection isn't trusted with the next statement.
                self.pool.discard(&connection);
                Err(self.timed_out(Wait::Response, self.options.timeout, "timeout"))
            }
        }
    }

    async fn run<T, F, Fut>(&self, operation: F) -> BackendResult<T>
    where
        F: FnOnce(Arc<PgConnection>) -> Fut,
        Fut: Future<Output = Result<T, tokio_postgres::Error>>,
    {
        self.run_converting(operation, PgErrors::convert).await
    }

    /// The circuit breaker's counters.
    pub(crate) fn circuit_stats(&self) -> CircuitStats {
        self.breaker.stats()
    }

    /// Where the circuit breaker stands.
    pub(crate) fn circuit_state(&self) -> CircuitState {
        self.breaker.state()
    }

    fn timed_out(&self, wait: Wait, after: Duration, option: &str) -> BackendError {
        self.errors.with_server(BackendError::timeout(
            wait,
            format!("PostgreSQL did not answer within options.{option} ({after:?}); check the server's load, or raise the timeout"),
        ))
    }

    pub(crate) async fn get(&self, key: &str) -> BackendResult<Option<Bytes>> {
        let key = stored_key(key);
        let k: &str = &key;
        let now = self.time.now().system_time();
        let row = self
            .run(|c| async move { c.client.query_opt(&c.prepared.get, &[&k, &now]).await })
            .await?;
        let Some(row) = row else { return Ok(None) };
        if self.column::<bool>(&row, 1)? {
            return self.value(self.column(&row, 0)?).map(Some);
        }
        self.delete_expired(&[k]).await;
        Ok(None)
    }

    pub(crate) async fn get_many(&self, keys: &[&str]) -> BackendResult<Vec<Option<Bytes>>> {
        let stored: Vec<_> = keys.iter().map(|key| stored_key(key)).collect();
        let wanted: Vec<&str> = stored.iter().map(|key| key.as_ref()).collect();
        let now = self.time.now().system_time();
        let rows = self
            .run(|c| {
                let wanted = &wanted;
                async move { c.client.query(&c.prepared.get_many, &[wanted, &now]).await }
            })
            .await?;
        let mut found: HashMap<String, Bytes> = HashMap::with_capacity(rows.len());
        let mut expired = Vec::new();
        for row in rows {
            let key: String = self.column(&row, 0)?;
            if self.column::<bool>(&row, 2)? {
                found.insert(key, self.value(self.column(&row, 1)?)?);
            } else {
                expired.push(key);
            }
        }
        if !expired.is_empty() {
            let expired: Vec<&str> = expired.iter().map(String::as_str).collect();
            self.delete_expired(&expired).await;
        }
        Ok(wanted.iter().map(|key| found.get(*key).cloned()).collect())
    }

    pub(crate) async fn has_key(&self, key: &str) -> BackendResult<bool> {
        let key = stored_key(key);
        let k: &str = &key;
        let now = self.time.now().system_time();
        let row = self
            .run(|c| async move { c.client.query_opt(&c.prepared.has_key, &[&k, &now]).await })
            .await?;
        Ok(row.is_some())
    }

    pub(crate) async fn set(&self, key: &str, value: &[u8], expiry: Expiry) -> BackendResult<()> {
        self.cull().await?;
        let key = stored_key(key);
        let k: &str = &key;
        let value = value_text(value);
        let expires = self.time.expires(expiry).system_time();
        self.run(|c| async move { c.client.execute(&c.prepared.set, &[&k, &value, &expires]).await })
            .await
            .map(drop)
    }

    pub(crate) async fn set_many(&self, items: &[(&str, Bytes)], expiry: Expiry) -> BackendResult<()> {
        self.cull().await?;
        // One statement can't write a row twice: the last value given for a key wins, as it
        // would with one `set` after another.
        let mut seen = HashSet::new();
        let mut keys = Vec::with_capacity(items.len());
        let mut values = Vec::with_capacity(items.len());
        for (key, value) in items.iter().rev() {
            let key = stored_key(key);
            if seen.insert(key.clone()) {
                keys.push(key);
                values.push(value_text(value));
            }
        }
        let keys: Vec<&str> = keys.iter().map(|key| key.as_ref()).collect();
        let expires = self.time.expires(expiry).system_time();
        self.run(|c| {
            let (keys, values) = (&keys, &values);
            async move { c.client.execute(&c.prepared.set_many, &[keys, values, &expires]).await }
        })
        .await
        .map(drop)
    }

    pub(crate) async fn add(&self, key: &str, value: &[u8], expiry: Expiry) -> BackendResult<bool> {
        self.cull().await?;
        let key = stored_key(key);
        let k: &str = &key;
        let value = value_text(value);
        let now = self.time.now();
        let expires = self.time.expires(expiry).system_time();
        let now = now.system_time();
        let changed = self
            .run(|c| async move { c.client.execute(&c.prepared.add, &[&k, &value, &expires, &now]).await })
            .await?;
        Ok(changed > 0)
    }

    pub(crate) async fn touch(&self, key: &str, expiry: Expiry) -> BackendResult<bool> {
        let key = stored_key(key);
        let k: &str = &key;
        let now = self.time.now();
        let expires = self.time.expires(expiry).system_time();
        let now = now.system_time();
        let changed = self
            .run(|c| async move { c.client.execute(&c.prepared.touch, &[&k, &expires, &now]).await })
            .await?;
        Ok(changed > 0)
    }

    pub(crate) async fn delete(&self, key: &str) -> BackendResult<bool> {
        let key = stored_key(key);
        let k: &str = &key;
        let now = self.time.now().system_time();
        let row = self
            .run(|c| async move { c.client.query_opt(&c.prepared.delete, &[&k, &now]).await })
            .await?;
        match row {
            Some(row) => self.column(&row, 0),
            None => Ok(false),
        }
    }

    pub(crate) async fn delete_many(&self, keys: &[&str]) -> BackendResult<()> {
        let stored: Vec<_> = keys.iter().map(|key| stored_key(key)).collect();
        let keys: Vec<&str> = stored.iter().map(|key| key.as_ref()).collect();
        self.run(|c| {
            let keys = &keys;
            async move { c.client.execute(&c.prepared.delete_many, &[keys]).await }
        })
        .await
        .map(drop)
    }

    pub(crate) async fn incr(&self, key: &str, delta: i64) -> BackendResult<i64> {
        let key = stored_key(key);
        let k: &str = &key;
        let now = self.time.now().system_time();
        let row = self
            .run_converting(
                |c| async move { c.client.query_opt(&c.prepared.incr, &[&k, &delta, &now]).await },
                |errors, error| match error.code() {
                    // The statement's own refusals (see `Statements::incr`).
                    Some(code)
                        if *code == SqlState::INVALID_TEXT_REPRESENTATION
                            || *code == SqlState::INVALID_PARAMETER_VALUE =>
                    {
                        BackendError::not_an_integer()
                    }
                    Some(code) if *code == SqlState::NUMERIC_VALUE_OUT_OF_RANGE => BackendError::overflow(delta),
                    _ => errors.convert(error),
                },
            )
            .await?;
        let Some(row) = row else {
            return Err(BackendError::key_not_found());
        };
        let text: String = self.column(&row, 0)?;
        value_bytes(&text)
            .and_then(|bytes| std::str::from_utf8(&bytes).ok()?.parse().ok())
            .ok_or_else(|| unreadable_value(&self.table, &self.server))
    }

    pub(crate) async fn clear(&self) -> BackendResult<()> {
        self.run(|c| async move { c.client.execute(&c.prepared.clear, &[]).await })
            .await
            .map(drop)
    }

    pub(crate) fn close(&self) {
        self.pool.close();
    }

    /// Django's `createcachetable`: whether the table was created (false: it was there).
    pub(crate) async fn create_table(&self) -> BackendResult<bool> {
        let mut client = self.pool.connect_plain().await?;
        let convert = |error| self.errors.convert(error);
        let transaction = client.transaction().await.map_err(convert)?;
        // Several processes starting at once may all create the table: one at a time, so the
        // others find it (two concurrent `CREATE TABLE IF NOT EXISTS` can fail on a duplicate
        // type). The lock is the transaction's, keyed by the table's name.
        transaction
            .execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&self.table.as_str()])
            .await
            .map_err(convert)?;
        let row = transaction
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = $1)",
                &[&self.table.as_str()],
            )
            .await
            .map_err(convert)?;
        let exists: bool = self.column(&row, 0)?;
        for statement in self.table.create_statements(Dialect::Postgres) {
            transaction.batch_execute(&statement).await.map_err(convert)?;
        }
        transaction.commit().await.map_err(convert)?;
        Ok(!exists)
    }

    fn value(&self, text: String) -> BackendResult<Bytes> {
        value_bytes(&text).ok_or_else(|| unreadable_value(&self.table, &self.server))
    }

    /// Removes rows a read found expired, unless a writer replaced them meanwhile. Best effort: the
    /// read is a miss either way, and a later read or a cull removes what stays.
    async fn delete_expired(&self, keys: &[&str]) {
        let now = self.time.now().system_time();
        for key in keys {
            let deleted = self
                .run(|c| async move { c.client.execute(&c.prepared.delete_expired_key, &[key, &now]).await })
                .await;
            if deleted.is_err() {
                return;
            }
        }
    }

    /// Column `index` of a row this backend's statements returned, as `T`; a table whose columns
    /// aren't the ones `createcachetable` makes is an error naming it, not a panic.
    fn column<'r, T: tokio_postgres::types::FromSql<'r>>(
        &self,
        row: &'r tokio_postgres::Row,
        index: usize,
    ) -> BackendResult<T> {
        row.try_get(index)
            .map_err(|error| unexpected_columns(&self.table, &self.server, &error))
    }

    /// Django's cull, before a write that may add a row.
    async fn cull(&self) -> BackendResult<()> {
        let row = self
            .run(|c| async move { c.client.query_one(&c.prepared.count, &[]).await })
            .await?;
        let rows: i64 = self.column(&row, 0)?;
        let rows = u64::try_from(rows).unwrap_or(0);
        match cull::decide(rows, self.options.cull) {
            Cull::Nothing => Ok(()),
            Cull::Clear => self.clear().await,
            Cull::Expired => {
                let now = self.time.now().system_time();
                let removed = self
                    .run(|c| async move { c.client.execute(&c.prepared.cull_expired, &[&now]).await })
                    .await?;
                if let Some(offset) = cull::after_expired(rows.saturating_sub(removed), self.options.cull) {
                    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
                    self.run(|c| async move { c.client.execute(&c.prepared.cull_below, &[&offset]).await })
                        .await?;
                }
                Ok(())
            }
        }
    }
}
