//! SQLite's errors as [`BackendError`]s that say what to do.

use std::path::Path;

use cache_core::{BackendError, ErrorKind, Wait};
use rusqlite::ErrorCode;

use crate::errors::missing_table;
use crate::options::DbOptions;
use crate::table::TableName;

pub(super) fn backend_error(
    error: rusqlite::Error,
    table: &TableName,
    path: &Path,
    server: &str,
    options: &DbOptions,
) -> BackendError {
    let message = error.to_string();
    let code = error.sqlite_error_code();
    if message.contains("no such table") {
        return missing_table(table, server);
    }
    let lasting = |detail: String| BackendError::new(ErrorKind::Io).with_detail(detail).retryable(false);
    let converted = match code {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => BackendError::timeout(
            Wait::Response,
            format!(
                "the database stayed locked by another writer for longer than options.timeout ({:?}): {message}",
                options.timeout
            ),
        ),
        Some(ErrorCode::CannotOpen) => lasting(format!(
            "can't open the SQLite database `{}` ({message}); check that its directory exists and this process \
             may create files in it",
            path.display()
        )),
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::AuthorizationForStatementDenied) => {
            lasting(format!(
                "the SQLite database `{}` can't be written ({message}); check that this process may write the \
                 file and its directory",
                path.display()
            ))
        }
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => lasting(format!(
            "`{}` is not a usable SQLite database ({message}); point options.database at a SQLite file, or \
             remove the damaged one",
            path.display()
        )),
        Some(ErrorCode::DiskFull) => BackendError::new(ErrorKind::Io)
            .with_detail(format!("the disk holding `{}` is full ({message})", path.display())),
        Some(ErrorCode::SystemIoFailure) => BackendError::new(ErrorKind::Io)
            .with_detail(format!("reading or writing `{}` failed: {message}", path.display())),
        _ => BackendError::refused_by_server(format!("SQLite refused the statement: {message}")),
    };
    converted.with_source(error).on_server(server)
}
