//! Every statement the backend runs, written once per dialect for one table.
//!
//! Each operation is one statement, so `add` and `incr` are atomic in the database itself, across
//! connections and processes: `add` is an upsert whose update only happens over an expired row,
//! `incr` an `UPDATE … RETURNING` that computes the new value in place.

use crate::database::Dialect;
use crate::table::TableName;

/// The statements for one table, in one dialect. Parameters are numbered as each comment says.
#[derive(Debug)]
pub(crate) struct Statements {
    /// (key, now) → value, live. The row even when expired, so the caller can remove it.
    pub(crate) get: String,
    /// (keys, now) → key, value, live. PostgreSQL only (SQLite loops `get` in a transaction).
    pub(crate) get_many: String,
    /// (key, now): removes the row if it has expired (and not if a writer just replaced it).
    pub(crate) delete_expired_key: String,
    /// (key, now) → a row when live.
    pub(crate) has_key: String,
    /// (key, value, expires): an upsert.
    pub(crate) set: String,
    /// (keys, values, expires): one upsert of every row. PostgreSQL only.
    pub(crate) set_many: String,
    /// (key, value, expires, now): inserts, or replaces an expired row; 0 rows changed when live.
    pub(crate) add: String,
    /// (key, expires, now): a new expiry for a live row.
    pub(crate) touch: String,
    /// (key, now) → whether the removed row was live.
    pub(crate) delete: String,
    /// (keys). PostgreSQL only.
    pub(crate) delete_many: String,
    /// (key, delta, now) → the new value text of a live row.
    pub(crate) incr: String,
    /// () → rows.
    pub(crate) count: String,
    /// (now): Django's cull, first step: the expired rows.
    pub(crate) cull_expired: String,
    /// (offset): Django's cull, second step: every key sorting before the one at `offset`.
    pub(crate) cull_below: String,
    /// (): every row.
    pub(crate) clear: String,
}

impl Statements {
    pub(crate) fn new(table: &TableName, dialect: Dialect) -> Statements {
        let t = table.quoted();
        let p = |n: u8| match dialect {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        };
        let upsert = format!(
            "INSERT INTO {t} (\"cache_key\", \"value\", \"expires\") VALUES ({}, {}, {}) \
             ON CONFLICT (\"cache_key\") DO UPDATE SET \"value\" = excluded.\"value\", \"expires\" = excluded.\"expires\"",
            p(1),
            p(2),
            p(3)
        );
        let incr = match dialect {
            Dialect::Sqlite => format!(
                "UPDATE {t} SET \"value\" = {}(\"value\", ?2) WHERE \"cache_key\" = ?1 AND \"expires\" > ?3 RETURNING \"value\"",
                crate::sqlite::INCREMENT_FUNCTION
            ),
            // The stored text must be an optional `-` and digits (trailing spaces allowed), the
            // form cache-core's `stored_integer` reads; anything else is cast from a word that
            // isn't a number (SQLSTATE 22P02: not an integer). Past the i64 range, the cast to
            // bigint fails (22003: overflow).
            Dialect::Postgres => format!(
                "UPDATE {t} SET \"value\" = encode(convert_to((( \
                   CASE WHEN encode(decode(\"value\", 'base64'), 'escape') ~ '^-?[0-9]+ *$' \
                        THEN rtrim(encode(decode(\"value\", 'base64'), 'escape'), ' ') \
                        ELSE 'not an integer' END)::numeric + $2::bigint)::bigint::text, 'UTF8'), 'base64') \
                 WHERE \"cache_key\" = $1 AND \"expires\" > $3 RETURNING \"value\""
            ),
        };
        Statements {
            get: format!(
                "SELECT \"value\", \"expires\" > {} FROM {t} WHERE \"cache_key\" = {}",
                p(2),
                p(1)
            ),
            get_many: format!(
                "SELECT \"cache_key\", \"value\", \"expires\" > $2 FROM {t} WHERE \"cache_key\" = ANY($1)"
            ),
            delete_expired_key: format!(
                "DELETE FROM {t} WHERE \"cache_key\" = {} AND \"expires\" <= {}",
                p(1),
                p(2)
            ),
            has_key: format!(
                "SELECT 1 FROM {t} WHERE \"cache_key\" = {} AND \"expires\" > {}",
                p(1),
                p(2)
            ),
            // Rows in key order, whatever order the caller gave: two concurrent `set_many`s lock
            // their rows in the same order, so they can't deadlock.
            set_many: format!(
                "INSERT INTO {t} (\"cache_key\", \"value\", \"expires\") \
                 SELECT k, v, $3::timestamptz FROM unnest($1::varchar[], $2::text[]) AS u(k, v) ORDER BY k \
                 ON CONFLICT (\"cache_key\") DO UPDATE SET \"value\" = excluded.\"value\", \"expires\" = excluded.\"expires\""
            ),
            add: format!("{upsert} WHERE {t}.\"expires\" <= {}", p(4)),
            set: upsert,
            touch: format!(
                "UPDATE {t} SET \"expires\" = {} WHERE \"cache_key\" = {} AND \"expires\" > {}",
                p(2),
                p(1),
                p(3)
            ),
            delete: format!(
                "DELETE FROM {t} WHERE \"cache_key\" = {} RETURNING \"expires\" > {}",
                p(1),
                p(2)
            ),
            delete_many: format!("DELETE FROM {t} WHERE \"cache_key\" = ANY($1)"),
            incr,
            count: format!("SELECT COUNT(*) FROM {t}"),
            cull_expired: format!("DELETE FROM {t} WHERE \"expires\" <= {}", p(1)),
            cull_below: format!(
                "DELETE FROM {t} WHERE \"cache_key\" < (SELECT \"cache_key\" FROM {t} ORDER BY \"cache_key\" LIMIT 1 OFFSET {})",
                p(1)
            ),
            clear: format!("DELETE FROM {t}"),
        }
    }
}
