//! The alias' `options`: Django's `MAX_ENTRIES` and `CULL_FREQUENCY`.

use cache_core::option_values::OptionField;
use cache_core::{Options, Result};

/// How many files a cache directory holds before a write culls, and how many a cull removes.
///
/// Read from an alias' `options` with [`FileOptions::from_options`]; set in code through
/// [`FileBackend::builder`](crate::FileBackend::builder). Non-exhaustive so that options can be
/// added: start from `FileOptions::default()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileOptions {
    /// Django's `MAX_ENTRIES`: a write that finds this many `.djcache` files in the directory
    /// (expired ones not yet removed included) culls first. `0` culls on every write.
    pub max_entries: u64,
    /// Django's `CULL_FREQUENCY`: a cull removes `files / cull_frequency` files chosen at random;
    /// `0` removes every cache file.
    pub cull_frequency: u64,
}

impl Default for FileOptions {
    /// Django's defaults: 300 files, a third culled.
    fn default() -> Self {
        FileOptions {
            max_entries: 300,
            cull_frequency: 3,
        }
    }
}

/// Every option, by the name an alias' `options` gives it. Each value is a whole number, 0 or
/// more, written as a number or as a string of digits (environment overrides arrive as strings;
/// Django's `int()` accepts both).
const FIELDS: &[OptionField<FileOptions>] = &[
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

impl FileOptions {
    /// Reads `max_entries` and `cull_frequency` from an alias' `options`.
    ///
    /// Unknown options are refused (Django ignores them; a misspelt option silently doing
    /// nothing is worse).
    pub fn from_options(alias: &str, options: &Options) -> Result<FileOptions> {
        options.read(alias, FIELDS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn parse(value: Value) -> Result<FileOptions> {
        match value {
            Value::Object(map) => FileOptions::from_options("a", &Options::from_map(map)),
            _ => unreachable!("options are an object"),
        }
    }

    #[test]
    fn defaults_are_djangos() {
        assert_eq!(parse(json!({})).unwrap(), FileOptions::default());
        assert_eq!(FileOptions::default().max_entries, 300);
        assert_eq!(FileOptions::default().cull_frequency, 3);
    }

    #[test]
    fn numbers_and_digit_strings_are_accepted() {
        let parsed = parse(json!({"max_entries": "30", "cull_frequency": 0})).unwrap();
        assert_eq!((parsed.max_entries, parsed.cull_frequency), (30, 0));
    }

    #[test]
    fn anything_else_names_the_option() {
        assert_eq!(
            parse(json!({"max_entries": -1})).unwrap_err().to_string(),
            "cache alias `a`: options.max_entries: expected a whole number, 0 or more; got -1"
        );
        assert_eq!(
            parse(json!({"cull": 3})).unwrap_err().to_string(),
            "cache alias `a`: options.cull: unknown option; the options this backend accepts are \
             `max_entries` or `cull_frequency`"
        );
    }
}
