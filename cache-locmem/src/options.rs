//! The alias' `options`: Django's `MAX_ENTRIES` and `CULL_FREQUENCY`.

use cache_core::option_values::OptionField;
use cache_core::{Options, Result};

/// How large a locmem store grows and how much of it a cull removes.
///
/// Read from an alias' `options` with [`LocMemOptions::from_options`]; set in code through
/// [`LocMemBackend::builder`](crate::LocMemBackend::builder). Non-exhaustive so that options can
/// be added: start from `LocMemOptions::default()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LocMemOptions {
    /// Django's `MAX_ENTRIES`: a set that finds this many entries (expired ones included) culls
    /// first. `0` is allowed and keeps culling on every set (Django's `-1` behaves the same).
    pub max_entries: u64,
    /// Django's `CULL_FREQUENCY`: a cull removes `len / cull_frequency` least recently used
    /// entries; `0` removes every entry.
    pub cull_frequency: u64,
}

impl Default for LocMemOptions {
    /// Django's defaults: 300 entries, a third culled.
    fn default() -> Self {
        LocMemOptions {
            max_entries: 300,
            cull_frequency: 3,
        }
    }
}

/// Every option, by the name an alias' `options` gives it. Each value is a whole number, 0 or
/// more, written as a number or as a string of digits (environment overrides arrive as strings;
/// Django's `int()` accepts both).
const FIELDS: &[OptionField<LocMemOptions>] = &[
    OptionField::new(&["max_entries"], |options, value| {
        options.max_entries = value.whole_number(0..=u64::MAX, COUNT)?;
        Ok(())
    }),
    OptionField::new(&["cull_frequency"], |options, value| {
        options.cull_frequency = value.whole_number(0..=u64::MAX, COUNT)?;
        Ok(())
    }),
];

const COUNT: &str = "a whole number, 0 or more";

impl LocMemOptions {
    /// Reads `max_entries` and `cull_frequency` from an alias' `options`.
    ///
    /// Unknown options are refused (Django ignores them; a misspelt option silently doing
    /// nothing is worse).
    pub fn from_options(alias: &str, options: &Options) -> Result<LocMemOptions> {
        options.read(alias, FIELDS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

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
        assert_eq!((parsed.max_entries, parsed.cull_frequency), (30, 2));
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
