//! Checks for the option values backends have in common, so every backend words them alike.
//!
//! A backend reads its `options` table into a `#[serde(deny_unknown_fields)]` struct of raw
//! [`Value`]s (through [`Options::parse`](crate::Options::parse), which names unknown options),
//! then checks each value with these. Values may arrive as strings: environment overrides are
//! strings unless they are valid JSON.

use std::time::Duration;

use serde_json::Value;

use crate::error::{CacheError, Result};

/// The longest timeout accepted: a day. Anything longer is a typo (milliseconds written as seconds).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// The error for option `name` of `alias`: `cache alias `a`: options.<name>: expected …; got …`.
pub fn invalid(alias: &str, name: &str, expected: &str, got: &Value) -> CacheError {
    CacheError::config(
        Some(alias),
        format!("options.{name}"),
        format!("expected {expected}; got {got}"),
    )
}

/// A timeout: a number of seconds above 0 and at most [`MAX_TIMEOUT`], written as a number or a
/// string holding one. `None` when absent or null.
pub fn seconds(alias: &str, name: &str, value: Option<Value>) -> Result<Option<Duration>> {
    const EXPECTED: &str = "a number of seconds above 0 and at most a day (86400)";
    let number = match &value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(number)) => number.as_f64(),
        Some(Value::String(text)) => text.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    match number {
        Some(seconds) if seconds > 0.0 && seconds <= MAX_TIMEOUT.as_secs_f64() => {
            Ok(Some(Duration::from_secs_f64(seconds)))
        }
        _ => Err(invalid(alias, name, EXPECTED, value.as_ref().unwrap_or(&Value::Null))),
    }
}

/// A whole number within `range`, written as a number or a string of digits (`expected` says
/// which, for the error). `None` when absent or null.
pub fn whole_number(
    alias: &str,
    name: &str,
    value: Option<Value>,
    range: std::ops::RangeInclusive<u64>,
    expected: &str,
) -> Result<Option<u64>> {
    let number = match &value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(number)) => number.as_u64(),
        Some(Value::String(text)) => text.trim().parse::<u64>().ok(),
        Some(_) => None,
    };
    match number {
        Some(number) if range.contains(&number) => Ok(Some(number)),
        _ => Err(invalid(alias, name, expected, value.as_ref().unwrap_or(&Value::Null))),
    }
}

/// A switch: `true` or `false` (or those words in a string, as environment overrides give them).
/// `None` when absent or null.
pub fn flag(alias: &str, name: &str, value: Option<Value>) -> Result<Option<bool>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(flag)) => Ok(Some(flag)),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(invalid(alias, name, "true or false", &other)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn seconds_accept_numbers_and_numeric_strings_within_a_day() {
        assert_eq!(seconds("a", "t", None).unwrap(), None);
        assert_eq!(
            seconds("a", "t", Some(json!(0.5))).unwrap(),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            seconds("a", "t", Some(json!(" 2 "))).unwrap(),
            Some(Duration::from_secs(2))
        );
        for bad in [json!(0), json!(-1), json!(86_401), json!("abc"), json!(true)] {
            let error = seconds("a", "t", Some(bad.clone())).unwrap_err().to_string();
            assert_eq!(
                error,
                format!(
                    "cache alias `a`: options.t: expected a number of seconds above 0 and at most a day (86400); got {bad}"
                )
            );
        }
    }

    #[test]
    fn flags_accept_booleans_and_their_words() {
        assert_eq!(flag("a", "f", None).unwrap(), None);
        assert_eq!(flag("a", "f", Some(json!(true))).unwrap(), Some(true));
        assert_eq!(flag("a", "f", Some(json!("FALSE"))).unwrap(), Some(false));
        assert_eq!(
            flag("a", "f", Some(json!(1))).unwrap_err().to_string(),
            "cache alias `a`: options.f: expected true or false; got 1"
        );
    }
}
