//! [`CullOptions`]: Django's `MAX_ENTRIES` and `CULL_FREQUENCY`, read by every backend that culls.
//!
//! Django reads both in `BaseCache.__init__`, for every backend; the ones that cull (locmem, files,
//! the database) each apply them their own way. Here they are read once, by the same rules, so the
//! backends differ only in what a cull removes.

use crate::config::option_values::OptionField;
use crate::{Options, Result};

/// How many entries a store holds before a write culls, and how much a cull removes.
///
/// Non-exhaustive so that options can be added: start from `CullOptions::default()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CullOptions {
    /// Django's `MAX_ENTRIES`: a write that finds this many entries (expired ones not yet removed
    /// included) culls first. `0` is allowed and culls on every write (Django's `-1` behaves the
    /// same).
    pub max_entries: u64,
    /// Django's `CULL_FREQUENCY`: a cull removes `entries / cull_frequency` of them (which ones is
    /// the backend's rule); `0` removes every entry.
    pub cull_frequency: u64,
}

impl Default for CullOptions {
    /// Django's defaults: 300 entries, a third culled.
    fn default() -> Self {
        CullOptions {
            max_entries: 300,
            cull_frequency: 3,
        }
    }
}

/// Every option, by the name an alias' `options` gives it. Each value is a whole number, 0 or
/// more, written as a number or as a string of digits (environment overrides arrive as strings;
/// Django's `int()` accepts both).
const FIELDS: &[OptionField<CullOptions>] = &[
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

impl CullOptions {
    /// Reads `max_entries` and `cull_frequency` from an alias' `options`.
    ///
    /// Unknown options are refused (Django ignores them; a misspelt option silently doing
    /// nothing is worse).
    pub fn from_options(alias: &str, options: &Options) -> Result<CullOptions> {
        options.read(alias, FIELDS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Options;
    use serde_json::{Value, json};

    fn options(value: Value) -> Options {
        match value {
            Value::Object(map) => Options::from_map(map),
            _ => unreachable!("options are an object"),
        }
    }

    fn parse(value: Value) -> Result<CullOptions> {
        CullOptions::from_options("a", &options(value))
    }

    #[test]
    fn defaults_are_djangos() {
        assert_eq!(parse(json!({})).unwrap(), CullOptions::default());
        assert_eq!(CullOptions::default().max_entries, 300);
        assert_eq!(CullOptions::default().cull_frequency, 3);
        assert_eq!(parse(json!({"max_entries": null})).unwrap(), CullOptions::default());
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

    #[test]
    fn unknown_options_are_refused() {
        assert_eq!(
            parse(json!({"cull": 3})).unwrap_err().to_string(),
            "cache alias `a`: options.cull: unknown option; the options this backend accepts are \
             `max_entries` or `cull_frequency`; every alias also accepts `ignore_exceptions`, `log_keys` and `latency_histogram`"
        );
    }
}
