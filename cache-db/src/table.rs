//! The cache table: its name (Django's LOCATION), quoted for SQL, and Django's `createcachetable`
//! schema for it.

use crate::database::Dialect;

/// PostgreSQL truncates identifiers silently to 63 bytes, and the table's index is named
/// `<table>_expires`: a longer name would make two tables (or two indexes) one.
const MAX_NAME_BYTES: usize = 63 - INDEX_SUFFIX.len();

/// What the index on `expires` adds to the table's name, as Django names it.
const INDEX_SUFFIX: &str = "_expires";

/// A table name that can be quoted safely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableName {
    name: String,
}

impl TableName {
    /// The name, or what is wrong with it (for the caller to attribute to `location`).
    pub(crate) fn new(name: &str) -> Result<TableName, String> {
        if name.is_empty() {
            return Err(
                "the table name is empty; give the cache table's name, e.g. location = \"django_cache\"".into(),
            );
        }
        if name.contains('\0') {
            return Err("a table name can't contain a NUL character".into());
        }
        if name.len() > MAX_NAME_BYTES {
            return Err(format!(
                "the table name `{name}` is {} bytes long; give one of at most {MAX_NAME_BYTES}: PostgreSQL keeps \
                 63 bytes of a name, and the table's index is named `<table>{INDEX_SUFFIX}`",
                name.len()
            ));
        }
        Ok(TableName { name: name.to_owned() })
    }

    /// The name as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.name
    }

    /// The name as an SQL identifier (Django's `quote_name`): in double quotes, inner quotes doubled.
    pub(crate) fn quoted(&self) -> String {
        quote(&self.name)
    }

    /// Django's `createcachetable` statements: the table, then the index on `expires` (named
    /// `<table>_expires`, as Django names it). `IF NOT EXISTS`, so a second run changes nothing.
    pub(crate) fn create_statements(&self, dialect: Dialect) -> [String; 2] {
        let table = self.quoted();
        // Django's DateTimeField: `timestamp with time zone` on PostgreSQL, `datetime` on SQLite.
        let timestamp = match dialect {
            Dialect::Postgres => "timestamp with time zone",
            Dialect::Sqlite => "datetime",
        };
        [
            format!(
                "CREATE TABLE IF NOT EXISTS {table} (\n    \"cache_key\" varchar(255) NOT NULL PRIMARY KEY,\n    \
                 \"value\" text NOT NULL,\n    \"expires\" {timestamp} NOT NULL\n)"
            ),
            format!(
                "CREATE INDEX IF NOT EXISTS {} ON {table} (\"expires\")",
                quote(&format!("{}{INDEX_SUFFIX}", self.name))
            ),
        ]
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_as_django_quotes_them() {
        assert_eq!(
            TableName::new("test cache table").unwrap().quoted(),
            "\"test cache table\""
        );
        assert_eq!(TableName::new("a\"b").unwrap().quoted(), "\"a\"\"b\"");
    }

    #[test]
    fn unusable_names_are_refused() {
        assert!(TableName::new("").unwrap_err().contains("location = \"django_cache\""));
        assert!(TableName::new("a\0b").is_err());
        let error = TableName::new(&"t".repeat(56)).unwrap_err();
        assert!(error.contains("at most 55") && error.contains("_expires"), "{error}");
        assert!(TableName::new(&"t".repeat(55)).is_ok());
    }

    #[test]
    fn the_schema_is_djangos() {
        let [table, index] = TableName::new("my_cache").unwrap().create_statements(Dialect::Postgres);
        assert_eq!(
            table,
            "CREATE TABLE IF NOT EXISTS \"my_cache\" (\n    \"cache_key\" varchar(255) NOT NULL PRIMARY KEY,\n    \
             \"value\" text NOT NULL,\n    \"expires\" timestamp with time zone NOT NULL\n)"
        );
        assert_eq!(
            index,
            "CREATE INDEX IF NOT EXISTS \"my_cache_expires\" ON \"my_cache\" (\"expires\")"
        );
        let [table, _] = TableName::new("my_cache").unwrap().create_statements(Dialect::Sqlite);
        assert!(table.contains("\"expires\" datetime NOT NULL"));
    }
}
