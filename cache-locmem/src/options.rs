//! The alias' `options`: Django's `MAX_ENTRIES` and `CULL_FREQUENCY`.

use cache_core::option_values::whole_number;
use cache_core::{Options, Result};
use serde::Deserialize;
use serde_json::Value;

/// How large a locmem store grows and how much of it a cull removes.
///
/// Read from an alias' `options` with [`LocMemOptions::from_options`]; built directly for
/// [`LocMemBackend::new`](crate::LocMemBackend::new).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocMemOptions {
    /// Django's `MAX_ENTRIES`: a set that finds this many entries (expired ones included) culls
    /// first. `0` is allowed and keeps culling on every set (Django's `-1` behaves the same).
    pub max_entries: u64,
    /// Django's `CULL_FREQUENCY`: a cull removes `len / cull_frequency` least recently used
    /// entries; `0` removes every entry.
    pub cull_frequency: u64,
}

impl LocMemOptions {
    /// Django's default `MAX_ENTRIES`.
    pub const DEFAULT_MAX_ENTRIES: u64 = 300;
    /// Django's default `CULL_FREQUENCY`.
    pub const DEFAULT_CULL_FREQUENCY: u64 = 3;

    /// Reads `max_entries` and `cull_frequency` from an alias' `options`.
    ///
    /// Unknown options are refused (Django ignores them; a misspelt option silently doing
    /// nothing is worse). Each value is a whole number, 0 or more, written as a number or as a
    /// string of digits (environment overrides arrive as strings; Django's `int()` accepts both).
    pub fn from_options(alias: &str, options: &Options) -> Result<LocMemOptions> {
        // A raw pass first: serde rejects unknown fields with the names it expected, while the
        // range check below can name the one field that is wrong, which serde's message can't.
        let raw: RawOptions = options.parse(alias)?;
        Ok(LocMemOptions {
            max_entries: count(alias, "max_entries", raw.max_entries, Self::DEFAULT_MAX_ENTRIES)?,
            cull_frequency: count(
                alias,
                "cull_frequency",
                raw.cull_frequency,
                Self::DEFAULT_CULL_FREQUENCY,
            )?,
        })
    }
}

impl Default for LocMemOptions {
    fn default() -> Self {
        LocMemOptions {
            max_entries: Self::DEFAULT_MAX_ENTRIES,
            cull_frequency: Self::DEFAULT_CULL_FREQUENCY,
        }
    }
}

/// The options as written, before their values are checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOptions {
    #[serde(default)]
    max_entries: Option<Value>,
    #[serde(default)]
    cull_frequency: Option<Value>,
}

/// A non-negative whole number, or `default` when absent or null.
fn count(alias: &str, name: &str, value: Option<Value>, default: u64) -> Result<u64> {
    Ok(whole_number(alias, name, value, 0..=u64::MAX, "a whole number, 0 or more")?.unwrap_or(default))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn options(value: Value) -> Options {
        match value {
            Value::Object(map) => Options::from_map(map),
            _ => unreachable!("options are an object"),
        }
    }

    fn parse(value: Value) -> Result<LocMemOptions> {
        LocMemOptions::from_options("a", &options(value))
    }

    #[test]
    fn defaults_are_djangos() {
        assert_eq!(parse(json!({})).unwrap(), LocMemOptions::default());
        assert_eq!(LocMemOptions::default().max_entries, 300);
        assert_eq!(LocMemOptions::default().cull_frequency, 3);
        assert_eq!(parse(json!({"max_entries": null})).unwrap(), LocMemOptions::default());
    }

    #[test]
    fn numbers_and_digit_strings_are_accepted() {
        let parsed = parse(json!({"max_entries": 30, "cull_frequency": "2"})).unwrap();
        assert_eq!(
            parsed,
            LocMemOptions {
                max_entries: 30,
                cull_frequency: 2
            }
        );
        assert_eq!(parse(json!({"max_entries": 0})).unwrap().max_entries, 0);
        assert_eq!(parse(json!({"cull_frequency": 0})).unwrap().cull_frequency, 0);
    }

    #[test]
    fn anything_else_names_the_field() {
        for (value, shown) in [
            (json!({"max_entries": -1}), "-1"),
            (json!({"max_entries": 1.5}), "1.5"),
            (json!({"max_entries": "abc"}), "\"abc\""),
            (json!({"max_entries": true}), "true"),
        ] {
            let error = parse(value).unwrap_err().to_string();
            assert_eq!(
                error,
                format!("cache alias `a`: options.max_entries: expected a whole number, 0 or more; got {shown}")
            );
        }
        let error = parse(json!({"cull_frequency": "-3"})).unwrap_err().to_string();
        assert_eq!(
            error,
            "cache alias `a`: options.cull_frequency: expected a whole number, 0 or more; got \"-3\""
        );
    }
}
