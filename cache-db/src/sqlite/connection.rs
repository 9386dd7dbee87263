//! Opening a SQLite connection the way every pooled one is set up.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::options::DbOptions;

/// Enough for every statement of [`Statements`](crate::sql::Statements) to stay prepared.
const STATEMENT_CACHE: usize = 32;

/// A connection ready for the cache's statements: WAL mode, a busy timeout, the increment function.
pub(super) fn open(path: &Path, options: &DbOptions) -> rusqlite::Result<Connection> {
    let connection = open_without_statements(path, options)?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    super::increment::register(&connection)?;
    Ok(connection)
}

/// A connection with the database's settings applied; the file is created if missing.
pub(super) fn open_without_statements(path: &Path, options: &DbOptions) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // A writer waits this long for another (in this process or another) to finish.
    connection.busy_timeout(options.timeout)?;
    // WAL: readers never wait for the writer, and a commit needs no fsync of the main file (the
    // setting stays with the database file). NORMAL sync: a power cut may lose the last commits,
    // never corrupt the file — a fair trade for a cache.
    connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get::<_, String>(0))?;
    connection.execute_batch("PRAGMA synchronous = NORMAL")?;
    Ok(connection)
}
