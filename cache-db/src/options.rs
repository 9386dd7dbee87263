//! The alias' `options`: the database, Django's `MAX_ENTRIES` and `CULL_FREQUENCY`, the pool and
//! the timeouts.

use std::time::Duration;

use cache_core::option_values::{HasCircuit, MAX_TIMEOUT, OptionField};
use cache_core::{CircuitSettings, CullOptions, Options, Result};

use crate::database::Database;

/// How the backend reaches its database and when it culls.
///
/// Read from an alias' `options` with [`DbOptions::from_options`]; set in code through
/// [`DbBackend::builder`](crate::DbBackend::builder). Non-exhaustive so that options can be added:
/// start from `DbOptions::default()`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DbOptions {
    /// The database holding the table (`options.database`); required.
    pub database: Option<Database>,
    /// Django's `MAX_ENTRIES` (300) and `CULL_FREQUENCY` (3): a `set` or `add` that counts more
    /// than `max_entries` rows first deletes the expired ones, then, if still over, the
    /// `rows / cull_frequency` rows whose keys sort first; `cull_frequency = 0` empties the table.
    pub cull: CullOptions,
    /// Connections kept open, 4 by default. PostgreSQL connections each carry any number of
    /// concurrent statements, pipelined; SQLite connections are used by one call at a time (more
    /// are opened while all are busy, and closed when returned to a full pool).
    pub pool_size: usize,
    /// How long opening a connection may take, one second by default.
    pub connect_timeout: Duration,
    /// How long one operation may take, statements and waiting for a SQLite write lock included;
    /// one second by default. Past it the call fails with a retryable timeout error.
    pub timeout: Duration,
    /// PostgreSQL's circuit breaker: after `circuit_failures` consecutive calls that time out or
    /// lose their connection, calls fail at once (`CircuitOpen`) for `circuit_cooldown`, then one
    /// call probes the server. 5 failures and one second by default; 0 failures turns it off. A
    /// hung server then costs a few timeouts, not one per call. SQLite, a local file, has none.
    pub circuit: CircuitSettings,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            database: None,
            cull: CullOptions::default(),
            pool_size: 4,
            connect_timeout: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            circuit: CircuitSettings::default(),
        }
    }
}

const COUNT: &str = "a whole number, 0 or more";
const MAX_POOL_SIZE: usize = 64;
const POOL_SIZE: &str = "a whole number from 1 to 64";

/// Every option, by the name an alias' `options` gives it.
const FIELDS: &[OptionField<DbOptions>] = &[
    OptionField::new(&["database"], |options, value| {
        let text = value.text("a SQLite file path or a postgres:// URL")?;
        let database = Database::parse(text)
            .map_err(|problem| value.invalid(&format!("a SQLite file path or a postgres:// URL ({problem})")))?;
        options.database = Some(database);
        Ok(())
    }),
    OptionField::new(&["max_entries"], |options, value| {
        options.cull.max_entries = value.whole_number(0..=u64::MAX, COUNT)?;
        Ok(())
    }),
    OptionField::new(&["cull_frequency"], |options, value| {
        options.cull.cull_frequency = value.whole_number(0..=u64::MAX, COUNT)?;
        Ok(())
    }),
    OptionField::new(&["pool_size"], |options, value| {
        // Within 1..=64, so it fits.
        options.pool_size = value.whole_number(1..=MAX_POOL_SIZE as u64, POOL_SIZE)? as usize;
        Ok(())
    }),
    OptionField::new(&["connect_timeout"], |options, value| {
        options.connect_timeout = value.seconds()?;
        Ok(())
    }),
    OptionField::new(&["timeout"], |options, value| {
        options.timeout = value.seconds()?;
        Ok(())
    }),
    OptionField::circuit_failures(&["circuit_failures"]),
    OptionField::circuit_cooldown(&["circuit_cooldown"]),
];

impl HasCircuit for DbOptions {
    fn circuit_settings(&mut self) -> &mut CircuitSettings {
        &mut self.circuit
    }
}

impl DbOptions {
    /// Reads the options of an alias. Unknown options are refused, naming the ones accepted.
    ///
    /// - `database`: a SQLite file path, or a `postgres://` / `postgresql://` URL.
    /// - `max_entries`, `cull_frequency`: whole numbers, 0 or more (numbers or strings of digits).
    /// - `pool_size`: a whole number from 1 to 64.
    /// - `connect_timeout`, `timeout`: seconds, above 0 and at most a day.
    /// - `circuit_failures`: a whole number from 0 (no circuit breaker) to 10000.
    /// - `circuit_cooldown`: seconds, above 0 and at most a day.
    pub fn from_options(alias: &str, options: &Options) -> Result<DbOptions> {
        options.read(alias, FIELDS)
    }

    /// The rules [`DbOptions::from_options`] enforces, for options set in code: the field at
    /// fault and what to give instead.
    pub(crate) fn check(&self) -> std::result::Result<(), (&'static str, String)> {
        for (field, duration) in [("connect_timeout", self.connect_timeout), ("timeout", self.timeout)] {
            if duration.is_zero() || duration > MAX_TIMEOUT {
                return Err((
                    field,
                    format!("expected a duration above 0 and at most a day; got {duration:?}"),
                ));
            }
        }
        if !(1..=MAX_POOL_SIZE).contains(&self.pool_size) {
            return Err(("pool_size", format!("expected {POOL_SIZE}; got {}", self.pool_size)));
        }
        if let Some((field, message)) = self.circuit.check() {
            return Err((field, message));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn parse(value: Value) -> Result<DbOptions> {
        match value {
            Value::Object(map) => DbOptions::from_options("a", &Options::from_map(map)),
            _ => unreachable!("options are an object"),
        }
    }

    #[test]
    fn defaults_and_every_option() {
        assert_eq!(parse(json!({})).unwrap(), DbOptions::default());
        let options = parse(json!({
            "database": "/tmp/c.sqlite3", "max_entries": "30", "cull_frequency": 0,
            "pool_size": 2, "connect_timeout": 0.5, "timeout": "2",
            "circuit_failures": 3, "circuit_cooldown": "0.5",
        }))
        .unwrap();
        assert_eq!(options.circuit, CircuitSettings::new(3, Duration::from_millis(500)));
        assert!(!parse(json!({"circuit_failures": 0})).unwrap().circuit.is_enabled());
        assert_eq!(options.database, Some(Database::Sqlite("/tmp/c.sqlite3".into())));
        assert_eq!((options.cull.max_entries, options.cull.cull_frequency), (30, 0));
        assert_eq!(options.pool_size, 2);
        assert_eq!(options.connect_timeout, Duration::from_millis(500));
        assert_eq!(options.timeout, Duration::from_secs(2));
    }

    #[test]
    fn errors_name_the_option() {
        let error = parse(json!({"database": "redis://h"})).unwrap_err().to_string();
        assert!(
            error.starts_with(
                "cache alias `a`: options.database: expected a SQLite file path or a postgres:// URL (`redis://` \
                 databases are not supported"
            ),
            "{error}"
        );
        let error = parse(json!({"pool_size": 0})).unwrap_err().to_string();
        assert_eq!(
            error,
            "cache alias `a`: options.pool_size: expected a whole number from 1 to 64; got 0"
        );
        let error = parse(json!({"cull": 1})).unwrap_err().to_string();
        assert!(error.contains("options.cull: unknown option"), "{error}");
    }
}
