//! PostgreSQL's errors as [`BackendError`]s: the server's SQLSTATE or the socket's failure, named
//! in the kinds callers act on, with the fix in words.

use std::io;

use cache_core::{BackendError, ErrorKind, Unavailability, Wait};
use tokio_postgres::error::SqlState;

use crate::errors::{missing_table, unexpected_columns};
use crate::table::TableName;

/// Converts errors for one database and table.
#[derive(Debug, Clone)]
pub(super) struct PgErrors {
    server: String,
    table: TableName,
}

impl PgErrors {
    pub(super) fn new(server: String, table: TableName) -> Self {
        PgErrors { server, table }
    }

    pub(super) fn with_server(&self, error: BackendError) -> BackendError {
        error.on_server(self.server.clone())
    }

    pub(super) fn convert(&self, error: tokio_postgres::Error) -> BackendError {
        if let Some(db) = error.as_db_error() {
            // tokio-postgres shows a server's refusal as just "db error": its message and
            // SQLSTATE are in the `DbError` under it.
            let (code, message) = (
                db.code().clone(),
                format!("{} (SQLSTATE {})", db.message(), db.code().code()),
            );
            return self.server_refusal(&code, message, error);
        }
        let message = error.to_string();
        let converted = if error.is_closed() {
            BackendError::unavailable(
                Unavailability::Closed,
                format!("the connection to PostgreSQL closed ({message}); the server may have restarted"),
            )
        } else if let Some(io) = io_source(&error) {
            match io.kind() {
                io::ErrorKind::ConnectionRefused => BackendError::unavailable(
                    Unavailability::Refused,
                    format!(
                        "PostgreSQL refused the connection ({message}); check that the server runs and the URL's host and port"
                    ),
                ),
                io::ErrorKind::TimedOut => {
                    BackendError::timeout(Wait::Connect, format!("connecting timed out: {message}"))
                }
                _ => BackendError::unavailable(
                    Unavailability::Closed,
                    format!("the connection to PostgreSQL failed ({message})"),
                ),
            }
        } else if message.contains("timeout") {
            BackendError::timeout(
                Wait::Connect,
                format!("connecting timed out ({message}); raise options.connect_timeout or check the server"),
            )
        } else {
            BackendError::protocol(format!("PostgreSQL: {message}"))
        };
        converted.with_source(error).on_server(self.server.clone())
    }

    fn server_refusal(&self, code: &SqlState, message: String, error: tokio_postgres::Error) -> BackendError {
        let refused = |fix: &str| BackendError::refused_by_server(format!("{message}; {fix}")).retryable(false);
        let converted = match code {
            c if *c == SqlState::UNDEFINED_TABLE => return missing_table(&self.table, &self.server),
            // The statements don't fit the table: it wasn't made by `createcachetable`.
            c if *c == SqlState::UNDEFINED_COLUMN
                || *c == SqlState::DATATYPE_MISMATCH
                || *c == SqlState::UNDEFINED_FUNCTION =>
            {
                return unexpected_columns(&self.table, &self.server, &message);
            }
            c if *c == SqlState::INVALID_PASSWORD || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION => {
                refused("check the user and password in options.database")
            }
            c if *c == SqlState::INVALID_CATALOG_NAME => {
                refused("create the database (createdb), or name an existing one in options.database")
            }
            c if *c == SqlState::INSUFFICIENT_PRIVILEGE => {
                refused("grant this user SELECT, INSERT, UPDATE and DELETE on the cache table")
            }
            c if *c == SqlState::STRING_DATA_RIGHT_TRUNCATION => refused(
                "the cache_key column is Django's varchar(255): use shorter keys, or widen the column \
                 (ALTER TABLE … ALTER COLUMN cache_key TYPE varchar(N))",
            ),
            c if *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CRASH_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW =>
            {
                BackendError::unavailable(
                    Unavailability::Closed,
                    format!("{message}; the server is shutting down or starting up, try again shortly"),
                )
            }
            c if *c == SqlState::TOO_MANY_CONNECTIONS => BackendError::refused_by_server(format!(
                "{message}; lower options.pool_size or raise the server's max_connections"
            ))
            .retryable(true),
            c if *c == SqlState::QUERY_CANCELED => {
                BackendError::new(ErrorKind::Timeout(Wait::Response)).with_detail(message)
            }
            _ => BackendError::refused_by_server(message),
        };
        converted.with_source(error).on_server(self.server.clone())
    }
}

/// The socket error under a tokio-postgres error, if that is what it is.
fn io_source(error: &tokio_postgres::Error) -> Option<&io::Error> {
    let mut source = std::error::Error::source(error);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<io::Error>() {
            return Some(io);
        }
        source = current.source();
    }
    None
}

/// Whether an error means the connection can't be trusted with the next statement.
pub(super) fn breaks_the_connection(error: &BackendError) -> bool {
    matches!(
        error.kind(),
        ErrorKind::Unavailable(_) | ErrorKind::Timeout(_) | ErrorKind::Protocol
    )
}
