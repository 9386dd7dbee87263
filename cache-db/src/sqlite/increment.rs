//! `incr` in one statement: an SQL function the `UPDATE … RETURNING` calls, adding to the stored
//! integer inside the write, so no other writer comes between the read and the write.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cache_core::stored_integer::increment;
use cache_core::{BackendError, ErrorKind};
use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};

/// The function's name in SQL.
pub(crate) const INCREMENT_FUNCTION: &str = "django_cache_incr";

/// How the function's failures read in SQLite's error message, to be told apart afterwards.
const NOT_AN_INTEGER: &str = "django_cache_incr: not an integer";
const OVERFLOW: &str = "django_cache_incr: overflow";

#[derive(Debug)]
struct Refused(&'static str);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Refused {}

pub(super) fn register(connection: &Connection) -> rusqlite::Result<()> {
    connection.create_scalar_function(
        INCREMENT_FUNCTION,
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        add,
    )
}

/// (value text, delta) → the new value text: cache-core's `stored_integer::increment`, the rule
/// every backend increments by, between base64 decoding and encoding.
fn add(context: &Context<'_>) -> rusqlite::Result<String> {
    let text: String = context.get(0)?;
    let delta: i64 = context.get(1)?;
    let refuse = |why| rusqlite::Error::UserFunctionError(Box::new(Refused(why)));
    let stored = STANDARD.decode(text.as_bytes()).map_err(|_| refuse(NOT_AN_INTEGER))?;
    let (_, new) = increment(&stored, delta).map_err(|error| match error.kind() {
        ErrorKind::Overflow { .. } => refuse(OVERFLOW),
        _ => refuse(NOT_AN_INTEGER),
    })?;
    Ok(STANDARD.encode(new))
}

/// The function's own refusals become `NotAnInteger` and `Overflow`; other errors pass.
pub(super) fn refine(error: BackendError, delta: i64) -> BackendError {
    let text = error.to_string();
    if text.contains(OVERFLOW) {
        BackendError::overflow(delta)
    } else if text.contains(NOT_AN_INTEGER) {
        BackendError::not_an_integer()
    } else {
        error
    }
}

/// The integer a successful increment stored.
pub(super) fn read_back(text: &str) -> Option<i64> {
    let bytes = STANDARD.decode(text.as_bytes()).ok()?;
    std::str::from_utf8(&bytes).ok()?.parse().ok()
}
