//! [`DbBuilder`]: a database backend built in code, with no configuration.

use std::time::Duration;

use cache_core::{CacheError, Clock, Result};

use crate::backend::DbBackend;
use crate::database::Database;
use crate::options::DbOptions;

/// Builds a [`DbBackend`] over a table, each option defaulting to Django's (or the crate's).
///
/// ```
/// use cache_db::DbBackend;
///
/// # let temporary = tempfile::tempdir().unwrap();
/// let backend = DbBackend::builder()
///     .table("django_cache")
///     .database(temporary.path().join("cache.sqlite3").to_str().unwrap())
///     .max_entries(1000)
///     .build()?;
/// assert_eq!(backend.table(), "django_cache");
/// # Ok::<(), cache_core::CacheError>(())
/// ```
///
/// `build` opens nothing; it fails with a [`CacheError::Config`] naming the field when the table
/// or the database is missing or unusable.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct DbBuilder {
    table: Option<String>,
    database: Option<String>,
    options: DbOptions,
    clock: Clock,
}

impl DbBuilder {
    pub(crate) fn new() -> Self {
        DbBuilder {
            table: None,
            database: None,
            options: DbOptions::default(),
            clock: Clock::system(),
        }
    }

    /// The table's name (Django's LOCATION); required.
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = Some(table.into());
        self
    }

    /// The database: a SQLite file path or a `postgres://` URL; required.
    pub fn database(mut self, database: impl Into<String>) -> Self {
        self.database = Some(database.into());
        self
    }

    /// Django's `MAX_ENTRIES` (300 unless set).
    pub fn max_entries(mut self, max_entries: u64) -> Self {
        self.options.cull.max_entries = max_entries;
        self
    }

    /// Django's `CULL_FREQUENCY` (3 unless set).
    pub fn cull_frequency(mut self, cull_frequency: u64) -> Self {
        self.options.cull.cull_frequency = cull_frequency;
        self
    }

    /// Connections kept open (4 unless set); see [`DbOptions::pool_size`].
    pub fn pool_size(mut self, pool_size: usize) -> Self {
        self.options.pool_size = pool_size;
        self
    }

    /// How long opening a connection may take (one second unless set).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.options.connect_timeout = timeout;
        self
    }

    /// How long one operation may take (one second unless set).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = timeout;
        self
    }

    /// See [`DbOptions::circuit`]: consecutive timeouts or lost connections that open
    /// PostgreSQL's circuit; 0 turns the breaker off. At most 10000.
    pub fn circuit_failures(mut self, failures: u32) -> Self {
        self.options.circuit = self.options.circuit.with_failures(failures);
        self
    }

    /// See [`DbOptions::circuit`]: how long an open circuit fails calls at once before one probes
    /// the server; above zero and at most a day.
    pub fn circuit_cooldown(mut self, cool_down: Duration) -> Self {
        self.options.circuit = self.options.circuit.with_cool_down(cool_down);
        self
    }

    /// Every option at once (a database given with [`DbBuilder::database`] wins over theirs).
    pub fn options(mut self, options: DbOptions) -> Self {
        self.options = options;
        self
    }

    /// The clock entries expire by (the system's wall clock unless set): tests give a
    /// [`Clock::manual`] and move it instead of sleeping.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The backend. Nothing is opened yet: the first call connects.
    pub fn build(self) -> Result<DbBackend> {
        let Some(table) = self.table else {
            return Err(CacheError::config(
                None,
                "table",
                "the database backend needs a table name; give it with `DbBackend::builder().table(\"django_cache\")`",
            ));
        };
        let mut options = self.options;
        if let Some(database) = self.database {
            options.database =
                Some(Database::parse(&database).map_err(|message| CacheError::config(None, "database", message))?);
        }
        DbBackend::open(&table, options, self.clock)
            .map_err(|(field, message)| CacheError::config(None, field, message))
    }
}
