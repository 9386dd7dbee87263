//! [`DbBackend`]: the `CacheBackend` over a cache table in SQLite or PostgreSQL.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use cache_core::{
    BackendConfig, BackendResult, CacheBackend, CacheError, Capabilities, CircuitState, CircuitStats, Clock, Expiry,
    HEALTH_CHECK_KEY, Location, Result, ServerHealth, ServerRole, async_trait,
};

use crate::builder::DbBuilder;
use crate::database::Database;
use crate::options::DbOptions;
use crate::postgres::PostgresStore;
use crate::sqlite::SqliteStore;
use crate::table::TableName;
use crate::timestamp::WallTime;

/// Django's `DatabaseCache`: one row per made key in a table (Django's `cache_key`, `value`,
/// `expires` schema), in a SQLite file or a PostgreSQL database.
///
/// Clones share the connections. The table must exist: create it once with
/// [`DbBackend::create_table`] or the `createcachetable` command (Django's step of the same name);
/// until then every call fails with an error that says so.
#[derive(Clone)]
pub struct DbBackend {
    shared: Arc<Shared>,
}

struct Shared {
    table: TableName,
    database: Database,
    options: DbOptions,
    clock: Clock,
    store: Store,
}

enum Store {
    Sqlite(SqliteStore),
    // Boxed: its pool is large, and the SQLite store is one pointer.
    Postgres(Box<PostgresStore>),
}

impl DbBackend {
    /// Builds a backend in code: `DbBackend::builder().table("django_cache").database(…).build()?`.
    pub fn builder() -> DbBuilder {
        DbBuilder::new()
    }

    /// The backend for one alias of a configuration: what the registered factory builds.
    ///
    /// `location` is the table's name and `options.database` the database; nothing is opened
    /// until the first call.
    pub fn from_config(config: &BackendConfig<'_>, clock: Clock) -> Result<Self> {
        let options = DbOptions::from_options(config.alias, config.options)?;
        let table = table_of(config.alias, config.location)?;
        DbBackend::open(&table, options, clock)
            .map_err(|(field, message)| CacheError::config(Some(config.alias), field, message))
    }

    /// The backend, or the field at fault and what to fix.
    pub(crate) fn open(table: &str, options: DbOptions, clock: Clock) -> std::result::Result<Self, (String, String)> {
        let table = TableName::new(table).map_err(|message| ("location".to_owned(), message))?;
        options
            .check()
            .map_err(|(field, message)| (format!("options.{field}"), message))?;
        let Some(database) = options.database.clone() else {
            return Err(("options.database".to_owned(), crate::database::EXPECTED.to_owned()));
        };
        let server = database.to_string();
        let time = WallTime::new(clock.clone());
        let store = match &database {
            Database::Sqlite(path) => Store::Sqlite(SqliteStore::new(
                std::path::absolute(path).unwrap_or_else(|_| path.clone()),
                server,
                table.clone(),
                options.clone(),
                time,
            )),
            Database::Postgres(url) => Store::Postgres(Box::new(
                PostgresStore::new(url, server, table.clone(), options.clone(), time)
                    .map_err(|message| ("options.database".to_owned(), message))?,
            )),
        };
        Ok(DbBackend {
            shared: Arc::new(Shared {
                table,
                database,
                options,
                clock,
                store,
            }),
        })
    }

    /// Creates the table and its index on `expires` if they are missing, exactly as Django's
    /// `createcachetable` does; returns whether it created the table (false: it was there, and
    /// nothing changed). Safe to run at every start, and from several processes at once.
    pub async fn create_table(&self) -> BackendResult<bool> {
        match &self.shared.store {
            Store::Sqlite(store) => store.create_table().await,
            Store::Postgres(store) => store.create_table().await,
        }
    }

    /// The statements [`DbBackend::create_table`] runs (Django's `createcachetable --dry-run`).
    pub fn create_table_sql(&self) -> Vec<String> {
        self.shared
            .table
            .create_statements(self.shared.database.dialect())
            .into_iter()
            .collect()
    }

    /// The table's name (the alias' `location`).
    pub fn table(&self) -> &str {
        self.shared.table.as_str()
    }

    /// The database holding the table.
    pub fn database(&self) -> &Database {
        &self.shared.database
    }

    /// The options it was built with.
    pub fn options(&self) -> &DbOptions {
        &self.shared.options
    }

    /// PostgreSQL's circuit breaker counters: how often the circuit opened, reopened after a
    /// failed probe, let a probe through, closed, and how many calls it refused at once. All zero
    /// for SQLite, which has no breaker.
    pub fn circuit_stats(&self) -> CircuitStats {
        match &self.shared.store {
            Store::Sqlite(_) => CircuitStats::default(),
            Store::Postgres(store) => store.circuit_stats(),
        }
    }

    /// Where PostgreSQL's circuit breaker stands; `None` for SQLite.
    pub fn circuit_state(&self) -> Option<CircuitState> {
        match &self.shared.store {
            Store::Sqlite(_) => None,
            Store::Postgres(store) => Some(store.circuit_state()),
        }
    }
}

/// Django's LOCATION for this backend: the table name.
fn table_of(alias: &str, location: &Location) -> Result<String> {
    let expected = |got: String| {
        CacheError::config(
            Some(alias),
            "location",
            format!(
                "the database backend keeps its entries in one table, but {got}; give its name, e.g. location = \"django_cache\""
            ),
        )
    };
    match location {
        Location::One(name) if !name.is_empty() => Ok(name.clone()),
        Location::Many(names) if names.len() == 1 && !names[0].is_empty() => Ok(names[0].clone()),
        Location::Many(names) if names.len() > 1 => {
            Err(expected(format!("a list of {} locations was given", names.len())))
        }
        _ => Err(expected("no location was given".to_owned())),
    }
}

impl fmt::Debug for DbBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let options = &self.shared.options;
        f.debug_struct("DbBackend")
            .field("table", &self.shared.table.as_str())
            .field("database", &self.shared.database)
            .field("max_entries", &options.cull.max_entries)
            .field("cull_frequency", &options.cull.cull_frequency)
            .field("pool_size", &options.pool_size)
            .field("timeout", &options.timeout)
            .field("clock", &self.shared.clock)
            .finish()
    }
}

#[async_trait]
impl CacheBackend for DbBackend {
    /// Lenient keys (any made key up to the `cache_key` column's 255 characters), no value limit.
    fn capabilities(&self) -> Capabilities {
        Capabilities::lenient()
    }

    fn name(&self) -> &'static str {
        "db"
    }

    /// One `has_key` round trip through the pool, reported under the database's name (password
    /// hidden): a PostgreSQL server is a server, a SQLite file a local store.
    async fn probe(&self) -> Vec<ServerHealth> {
        let role = match &self.shared.database {
            Database::Sqlite(_) => ServerRole::Local,
            Database::Postgres(_) => ServerRole::Server,
        };
        let probe = self.has_key(HEALTH_CHECK_KEY);
        vec![ServerHealth::measure(self.shared.database.to_string(), role, probe).await]
    }

    async fn get(&self, key: &str) -> BackendResult<Option<Bytes>> {
        match &self.shared.store {
            Store::Sqlite(store) => store.get(key).await,
            Store::Postgres(store) => store.get(key).await,
        }
    }

    async fn set(&self, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<()> {
        match &self.shared.store {
            Store::Sqlite(store) => store.set(key, value, expiry).await,
            Store::Postgres(store) => store.set(key, &value, expiry).await,
        }
    }

    async fn add(&self, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<bool> {
        match &self.shared.store {
            Store::Sqlite(store) => store.add(key, value, expiry).await,
            Store::Postgres(store) => store.add(key, &value, expiry).await,
        }
    }

    async fn touch(&self, key: &str, expiry: Expiry) -> BackendResult<bool> {
        match &self.shared.store {
            Store::Sqlite(store) => store.touch(key, expiry).await,
            Store::Postgres(store) => store.touch(key, expiry).await,
        }
    }

    async fn delete(&self, key: &str) -> BackendResult<bool> {
        match &self.shared.store {
            Store::Sqlite(store) => store.delete(key).await,
            Store::Postgres(store) => store.delete(key).await,
        }
    }

    async fn incr(&self, key: &str, delta: i64) -> BackendResult<i64> {
        match &self.shared.store {
            Store::Sqlite(store) => store.incr(key, delta).await,
            Store::Postgres(store) => store.incr(key, delta).await,
        }
    }

    /// One `SELECT … = ANY(…)` on PostgreSQL; one read transaction on SQLite.
    async fn get_many(&self, keys: &[&str]) -> BackendResult<Vec<Option<Bytes>>> {
        match &self.shared.store {
            Store::Sqlite(store) => store.get_many(keys).await,
            Store::Postgres(store) => store.get_many(keys).await,
        }
    }

    /// One upsert of every row on PostgreSQL; one write transaction on SQLite. All or nothing.
    async fn set_many(&self, items: &[(&str, Bytes)], expiry: Expiry) -> BackendResult<Vec<String>> {
        match &self.shared.store {
            Store::Sqlite(store) => store.set_many(items, expiry).await?,
            Store::Postgres(store) => store.set_many(items, expiry).await?,
        }
        Ok(Vec::new())
    }

    /// One `DELETE … = ANY(…)` on PostgreSQL; one write transaction on SQLite.
    async fn delete_many(&self, keys: &[&str]) -> BackendResult<()> {
        match &self.shared.store {
            Store::Sqlite(store) => store.delete_many(keys).await,
            Store::Postgres(store) => store.delete_many(keys).await,
        }
    }

    async fn has_key(&self, key: &str) -> BackendResult<bool> {
        match &self.shared.store {
            Store::Sqlite(store) => store.has_key(key).await,
            Store::Postgres(store) => store.has_key(key).await,
        }
    }

    /// Every row of the table, as Django's `DELETE FROM <table>`.
    async fn clear(&self) -> BackendResult<()> {
        match &self.shared.store {
            Store::Sqlite(store) => store.clear().await,
            Store::Postgres(store) => store.clear().await,
        }
    }

    async fn close(&self) -> BackendResult<()> {
        if let Store::Postgres(store) = &self.shared.store {
            store.close();
        }
        Ok(())
    }
}
