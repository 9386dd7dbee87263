//! Which database holds the table: `options.database`, a SQLite file or a PostgreSQL URL.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The SQL flavour a statement is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// The database a backend's table lives in.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite database file, created if missing (its directory must exist).
    Sqlite(PathBuf),
    /// A PostgreSQL server: a `postgres://` or `postgresql://` URL (user, password, host, port,
    /// database and libpq's parameters such as `connect_timeout`).
    Postgres(String),
}

impl Database {
    /// Reads `options.database`: a URL starting `postgres://` or `postgresql://` is PostgreSQL,
    /// anything else without a `scheme://` is a SQLite file path. The error says what to give.
    pub fn parse(text: &str) -> Result<Database, String> {
        let text = text.trim();
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            tokio_postgres::Config::from_str(text).map_err(|error| {
                format!("`{}` is not a PostgreSQL URL this driver reads ({error}); write it as postgres://user:password@host:port/database", redacted(text))
            })?;
            return Ok(Database::Postgres(text.to_owned()));
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(format!(
                "`{scheme}://` databases are not supported; give a SQLite file path or a postgres:// URL"
            ));
        }
        if text.is_empty() {
            return Err(EXPECTED.to_owned());
        }
        // libpq's keyword form (`host=db user=app password=…`): a PostgreSQL connection string,
        // which would otherwise be taken for a file name (and its password shown in messages).
        let keywords = ["host=", "hostaddr=", "dbname=", "user=", "password=", "port="];
        if text
            .split_whitespace()
            .any(|word| keywords.iter().any(|keyword| word.starts_with(keyword)))
        {
            return Err(
                "a libpq `key=value` connection string isn't read here; write it as a URL: \
                 postgres://user:password@host:port/database"
                    .to_owned(),
            );
        }
        if text == ":memory:" || text.starts_with("file:") {
            return Err(format!(
                "`{text}`: give a SQLite file path; an in-memory database would be a different one on each \
                 pooled connection (use the locmem backend for an in-process cache)"
            ));
        }
        Ok(Database::Sqlite(PathBuf::from(text)))
    }

    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Database::Sqlite(_) => Dialect::Sqlite,
            Database::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The SQLite file, for a SQLite database.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Database::Sqlite(path) => Some(path),
            Database::Postgres(_) => None,
        }
    }
}

/// What `options.database` must be, for errors.
pub(crate) const EXPECTED: &str = "the database backend needs `options.database`: a SQLite file path \
     (database = \"/var/lib/app/cache.sqlite3\") or a PostgreSQL URL (database = \"postgres://user@host/dbname\")";

/// The database as errors and `Debug` show it: the password of a URL replaced by `***`.
impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "sqlite `{}`", path.display()),
            Database::Postgres(url) => f.write_str(&redacted(url)),
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A URL with its password hidden: between `user:` and the first `@` (where tokio-postgres ends
/// the credentials, a `/` in the password included), and a `password=` query parameter.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let rest = match rest.split_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => rest.to_owned(),
        },
        None => rest.to_owned(),
    };
    let rest = match rest.split_once('?') {
        Some((path, query)) => {
            let hidden: Vec<String> = (query.split('&'))
                .map(|parameter| match parameter.split_once('=') {
                    Some((name, _)) if name.eq_ignore_ascii_case("password") => format!("{name}=***"),
                    _ => parameter.to_owned(),
                })
                .collect();
            format!("{path}?{}", hidden.join("&"))
        }
        None => rest,
    };
    format!("{scheme}://{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_postgres_and_paths_are_sqlite() {
        assert_eq!(
            Database::parse("postgres://u@127.0.0.1:5432/db").unwrap().dialect(),
            Dialect::Postgres
        );
        assert_eq!(
            Database::parse("postgresql://u@localhost/db").unwrap().dialect(),
            Dialect::Postgres
        );
        assert_eq!(
            Database::parse("/tmp/cache.sqlite3").unwrap(),
            Database::Sqlite("/tmp/cache.sqlite3".into())
        );
        assert_eq!(
            Database::parse("cache.db").unwrap().sqlite_path(),
            Some(Path::new("cache.db"))
        );
    }

    #[test]
    fn other_forms_say_what_to_give() {
        assert!(
            Database::parse("mysql://h/db")
                .unwrap_err()
                .contains("`mysql://` databases are not supported")
        );
        assert!(Database::parse(":memory:").unwrap_err().contains("locmem"));
        assert!(Database::parse("  ").unwrap_err().contains("options.database"));
        assert!(
            Database::parse("postgres://u@h:notaport/db")
                .unwrap_err()
                .contains("postgres://user:password@host")
        );
    }

    #[test]
    fn a_libpq_keyword_string_is_refused_without_echoing_it() {
        let error = Database::parse("host=db user=app password=s3cret dbname=cache").unwrap_err();
        assert!(error.contains("postgres://user:password@host:port/database"), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
        assert!(
            Database::parse("/var/lib/app/cache=v2.sqlite3").is_ok(),
            "an `=` in a path is fine"
        );
    }

    #[test]
    fn passwords_are_hidden() {
        let database = Database::parse("postgres://app:s3cret@db.internal:5432/cache").unwrap();
        assert_eq!(database.to_string(), "postgres://app:***@db.internal:5432/cache");
        assert!(!format!("{database:?}").contains("s3cret"));
        assert_eq!(redacted("postgres://app@h/db"), "postgres://app@h/db");
        // tokio-postgres ends the credentials at the first `@`, a `/` in the password included.
        assert_eq!(redacted("postgres://app:pa/ss@db/app"), "postgres://app:***@db/app");
        assert_eq!(
            redacted("postgres://app@db/app?sslmode=disable&password=s3cret&x=1"),
            "postgres://app@db/app?sslmode=disable&password=***&x=1"
        );
        let database = Database::parse("postgres://app@db/app?password=s3cret").unwrap();
        assert!(!database.to_string().contains("s3cret") && !format!("{database:?}").contains("s3cret"));
    }
}
