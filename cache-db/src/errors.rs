//! The errors both databases report alike, worded to name the fix.

use cache_core::BackendError;

use crate::table::TableName;

/// The table isn't there: Django's `createcachetable` step was skipped.
pub(crate) fn missing_table(table: &TableName, server: &str) -> BackendError {
    BackendError::refused_by_server(format!(
        "the cache table `{}` does not exist; create it first, as Django's `createcachetable` does: \
         `cargo run -p cache-db --bin createcachetable -- <caches.toml>`, or `DbBackend::create_table()` \
         in code (Django's own `manage.py createcachetable` makes the same table)",
        table.as_str()
    ))
    // It stays missing until someone creates it.
    .retryable(false)
    .on_server(server)
}

/// A row whose `value` is not base64 text: written by something else (Django's are base64, but of
/// pickles, which still decode; this is for text that doesn't).
pub(crate) fn unreadable_value(table: &TableName, server: &str) -> BackendError {
    BackendError::protocol(format!(
        "a row of the cache table `{}` holds a value that is not base64 text; the table is shared \
         with another program that writes it differently — give this cache a table of its own",
        table.as_str()
    ))
    .on_server(server)
}

/// A table whose columns aren't the ones `createcachetable` makes (made by hand: `value` as
/// `bytea`, `expires` nullable, a column missing), found when the statements are prepared or a
/// row is read: an error naming the table and the fix, never a panic.
pub(crate) fn unexpected_columns(table: &TableName, server: &str, error: &dyn std::fmt::Display) -> BackendError {
    BackendError::protocol(format!(
        "the cache table `{}` has other columns than `createcachetable` makes ({error}); \
         drop it and create it again with `createcachetable`, or give this cache a table of its own",
        table.as_str()
    ))
    .on_server(server)
}
