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
