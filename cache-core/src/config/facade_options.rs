//! Options every alias takes whatever its backend: the façade reads them from `options` and hands
//! the backend the rest, so no backend has to list them in its own options table.

use serde_json::Map;

use super::Options;
use super::option_values::OptionValue;
use crate::error::{CacheError, Result};

/// `ignore_exceptions` and pymemcache's spelling of it.
const IGNORE_EXCEPTIONS: &[&str] = &["ignore_exceptions", "ignore_exc"];

/// Raw keys in the debug spans (`CacheOptions::with_log_keys`).
const LOG_KEYS: &str = "log_keys";
/// The latency histogram (`CacheOptions::with_latency_histogram`).
const LATENCY_HISTOGRAM: &str = "latency_histogram";

/// The façade's share of an alias' `options`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FacadeOptions {
    pub(crate) ignore_exceptions: bool,
    pub(crate) log_keys: bool,
    pub(crate) latency_histogram: bool,
}

/// Splits an alias' options into the façade's and the backend's.
pub(crate) fn split(alias: &str, options: &Options) -> Result<(FacadeOptions, Options)> {
    let mut facade = FacadeOptions::default();
    let mut rest = Map::new();
    let mut given: Option<&str> = None;
    for (name, value) in &options.values {
        let flag = || -> Result<bool> {
            match value.is_null() {
                true => Ok(false),
                false => OptionValue::new(alias, name, value).flag(),
            }
        };
        match name.as_str() {
            LOG_KEYS => {
                facade.log_keys = flag()?;
                continue;
            }
            LATENCY_HISTOGRAM => {
                facade.latency_histogram = flag()?;
                continue;
            }
            _ => {}
        }
        if !IGNORE_EXCEPTIONS.contains(&name.as_str()) {
            rest.insert(name.clone(), value.clone());
            continue;
        }
        if let Some(earlier) = given {
            return Err(CacheError::config(
                Some(alias),
                format!("options.{name}"),
                format!("`{earlier}` and `{name}` are two names of one option; give one of them"),
            ));
        }
        given = Some(name);
        if !value.is_null() {
            facade.ignore_exceptions = OptionValue::new(alias, IGNORE_EXCEPTIONS[0], value).flag()?;
        }
    }
    Ok((facade, Options::from_map(rest)))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn split_json(value: Value) -> Result<(FacadeOptions, Options)> {
        match value {
            Value::Object(map) => split("a", &Options::from_map(map)),
            _ => unreachable!("options are an object"),
        }
    }

    #[test]
    fn the_facade_takes_its_options_and_leaves_the_rest() {
        let (facade, rest) = split_json(json!({"ignore_exceptions": true, "timeout": 1})).unwrap();
        assert!(facade.ignore_exceptions);
        assert_eq!(rest.values.keys().collect::<Vec<_>>(), ["timeout"]);
        let (facade, rest) = split_json(json!({"ignore_exc": "true"})).unwrap();
        assert!(facade.ignore_exceptions && rest.is_empty());
        assert!(
            !split_json(json!({"ignore_exceptions": null}))
                .unwrap()
                .0
                .ignore_exceptions
        );
        assert!(!split_json(json!({})).unwrap().0.ignore_exceptions);
    }

    #[test]
    fn observability_flags_are_the_facades() {
        let (facade, rest) = split_json(json!({"log_keys": true, "latency_histogram": "true", "x": 1})).unwrap();
        assert!(facade.log_keys && facade.latency_histogram);
        assert_eq!(rest.values.keys().collect::<Vec<_>>(), ["x"]);
        assert_eq!(
            split_json(json!({"latency_histogram": 3})).unwrap_err().to_string(),
            "cache alias `a`: options.latency_histogram: expected true or false; got 3"
        );
    }

    #[test]
    fn bad_values_and_two_spellings_are_refused() {
        assert_eq!(
            split_json(json!({"ignore_exceptions": "yes"})).unwrap_err().to_string(),
            "cache alias `a`: options.ignore_exceptions: expected true or false; got \"yes\""
        );
        let error = split_json(json!({"ignore_exceptions": true, "ignore_exc": true}))
            .unwrap_err()
            .to_string();
        assert!(error.contains("two names of one option"), "{error}");
    }
}
