//! Reading a backend's `options` table through one table of [`OptionField`]s per backend, and the
//! checks for the values backends have in common, so every backend words them alike.
//!
//! A backend's options type implements `Default` (each option's default) and lists its options
//! once, as `OptionField`s (each option's names and how its value is read); [`Options::read`]
//! does the rest: unknown options are refused naming the accepted ones, a null value is the same
//! as leaving the option out, and an option written under two of its names is refused. Values may
//! arrive as strings: environment overrides are strings unless they are valid JSON.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use super::Options;
use crate::circuit_breaker::CircuitSettings;
use crate::error::{CacheError, Result};

/// The longest timeout accepted: a day. Anything longer is a typo (milliseconds written as seconds).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// The most consecutive failures a circuit breaker can be set to wait for (`circuit_failures`).
pub const MAX_CIRCUIT_FAILURES: u32 = 10_000;

/// What `circuit_failures` takes, as its errors word it.
pub const CIRCUIT_FAILURES: &str = "a whole number of consecutive failures from 0 (never open the circuit) to 10000";

/// A backend's options that hold a circuit breaker's settings, for
/// [`OptionField::circuit_failures`] and [`OptionField::circuit_cooldown`].
pub trait HasCircuit {
    /// The settings those options write.
    fn circuit_settings(&mut self) -> &mut CircuitSettings;
}

/// One option a backend accepts: the names it is written under and how its value is read.
#[non_exhaustive]
pub struct OptionField<T> {
    /// Its own name first, then other clients' spellings of it (redis-py's `socket_timeout`).
    pub names: &'static [&'static str],
    /// Checks the written value and stores it in the backend's options.
    pub read: fn(&mut T, &OptionValue<'_>) -> Result<()>,
    /// Set for an option of another client (django-redis' `SERIALIZER`) that means nothing here:
    /// what to write instead. Such an option is refused with this fix whatever its value, and
    /// isn't listed among the options the backend accepts.
    pub refusal: Option<&'static str>,
}

impl<T> OptionField<T> {
    /// The option written as any of `names` (the first is the one error messages use), read by `read`.
    pub const fn new(names: &'static [&'static str], read: fn(&mut T, &OptionValue<'_>) -> Result<()>) -> Self {
        OptionField {
            names,
            read,
            refusal: None,
        }
    }

    /// A circuit breaker's `circuit_failures` (written as `names`): how many consecutive failures
    /// open it, 0 for never, stored in the options' [`CircuitSettings`].
    pub const fn circuit_failures(names: &'static [&'static str]) -> Self
    where
        T: HasCircuit,
    {
        OptionField::new(names, |options, value| {
            let circuit = options.circuit_settings();
            *circuit = circuit.with_failures(value.circuit_failures()?);
            Ok(())
        })
    }

    /// A circuit breaker's `circuit_cooldown` (written as `names`): how long it stays open, in
    /// seconds, stored in the options' [`CircuitSettings`].
    pub const fn circuit_cooldown(names: &'static [&'static str]) -> Self
    where
        T: HasCircuit,
    {
        OptionField::new(names, |options, value| {
            let circuit = options.circuit_settings();
            *circuit = circuit.with_cool_down(value.seconds()?);
            Ok(())
        })
    }

    /// An option other clients take (`names`, as they spell it) that has no meaning here: giving it
    /// is an error whose message is `fix`, which says what to write instead (or to remove it).
    pub const fn refused(names: &'static [&'static str], fix: &'static str) -> Self {
        OptionField {
            names,
            read: |_, _| Ok(()),
            refusal: Some(fix),
        }
    }
}

impl<T> fmt::Debug for OptionField<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OptionField")
            .field("names", &self.names)
            .field("refusal", &self.refusal)
            .finish_non_exhaustive()
    }
}

/// One written option value, with what its errors must name: the alias and the option.
#[derive(Debug, Clone, Copy)]
pub struct OptionValue<'a> {
    alias: &'a str,
    name: &'a str,
    value: &'a Value,
}

impl<'a> OptionValue<'a> {
    /// The value of option `name` of `alias`.
    pub(crate) fn new(alias: &'a str, name: &'a str, value: &'a Value) -> Self {
        OptionValue { alias, name, value }
    }

    /// The value as written (never null: a null option is left out).
    pub fn value(&self) -> &'a Value {
        self.value
    }

    /// The error for this value: `cache alias `a`: options.<name>: expected …; got …`.
    pub fn invalid(&self, expected: &str) -> CacheError {
        CacheError::config(
            Some(self.alias),
            format!("options.{}", self.name),
            format!("expected {expected}; got {}", self.value),
        )
    }

    /// The error for a value that means nothing here, whose message is `fix`: what to write
    /// instead (django-redis' `CLIENT_CLASS = "…ShardClient"`).
    pub fn refuse(&self, fix: &str) -> CacheError {
        CacheError::config(Some(self.alias), format!("options.{}", self.name), fix)
    }

    /// A timeout: a number of seconds above 0 and at most [`MAX_TIMEOUT`], written as a number or
    /// a string holding one.
    pub fn seconds(&self) -> Result<Duration> {
        let number = match self.value {
            Value::Number(number) => number.as_f64(),
            Value::String(text) => text.trim().parse::<f64>().ok(),
            _ => None,
        };
        match number {
            Some(seconds) if seconds > 0.0 && seconds <= MAX_TIMEOUT.as_secs_f64() => {
                Ok(Duration::from_secs_f64(seconds))
            }
            _ => Err(self.invalid("a number of seconds above 0 and at most a day (86400)")),
        }
    }

    /// A whole number within `range`, written as a number or a string of digits (`expected` says
    /// which, for the error).
    pub fn whole_number(&self, range: std::ops::RangeInclusive<u64>, expected: &str) -> Result<u64> {
        let number = match self.value {
            Value::Number(number) => number.as_u64(),
            Value::String(text) => text.trim().parse::<u64>().ok(),
            _ => None,
        };
        number
            .filter(|number| range.contains(number))
            .ok_or_else(|| self.invalid(expected))
    }

    /// A switch: `true` or `false` (or those words in a string, as environment overrides give them).
    pub fn flag(&self) -> Result<bool> {
        match self.value {
            Value::Bool(flag) => Ok(*flag),
            Value::String(text) if text.eq_ignore_ascii_case("true") => Ok(true),
            Value::String(text) if text.eq_ignore_ascii_case("false") => Ok(false),
            _ => Err(self.invalid("true or false")),
        }
    }

    /// A circuit breaker's `circuit_failures`: a whole number from 0 (never open) to
    /// [`MAX_CIRCUIT_FAILURES`].
    pub fn circuit_failures(&self) -> Result<u32> {
        let failures = self.whole_number(0..=u64::from(MAX_CIRCUIT_FAILURES), CIRCUIT_FAILURES)?;
        // Within 0..=MAX_CIRCUIT_FAILURES, so it fits.
        Ok(failures as u32)
    }

    /// A table of sub-options (pylibmc's `behaviors`, django-redis' `CONNECTION_POOL_KWARGS`),
    /// each read into `target` by the field that names it, exactly as [`Options::read`] reads the
    /// options themselves; errors name `options.<name>.<sub-option>`. Sub-option names are matched
    /// ignoring case.
    pub fn read_table<T>(&self, target: &mut T, fields: &[OptionField<T>]) -> Result<()> {
        let Value::Object(table) = self.value else {
            return Err(self.invalid("a table of options"));
        };
        let lowered: Vec<(String, &Value)> = table.iter().map(|(key, value)| (key.to_lowercase(), value)).collect();
        let entries = lowered.iter().map(|(key, value)| (key.as_str(), *value));
        let prefix = format!("{}.", self.name);
        read_into(target, self.alias, &prefix, entries, fields)
    }

    /// A string that isn't empty (`expected` describes it, for the error).
    pub fn text(&self, expected: &str) -> Result<&'a str> {
        match self.value {
            Value::String(text) if !text.is_empty() => Ok(text),
            _ => Err(self.invalid(expected)),
        }
    }
}

/// [`Options::read`]: every given option read into `T::default()` by the field that names it.
pub(super) fn read<T: Default>(options: &Options, alias: &str, fields: &[OptionField<T>]) -> Result<T> {
    let mut target = T::default();
    let entries = options.values.iter().map(|(key, value)| (key.as_str(), value));
    read_into(&mut target, alias, "", entries, fields)?;
    Ok(target)
}

/// Reads every entry into `target`, collecting every problem (unknown and refused options, two
/// names of one option, bad values) so that one run reports them all. `prefix` is what error
/// fields put before the entry's name after `options.` (`behaviors.` for a table of sub-options).
fn read_into<'v, T>(
    target: &mut T,
    alias: &str,
    prefix: &str,
    entries: impl Iterator<Item = (&'v str, &'v Value)>,
    fields: &[OptionField<T>],
) -> Result<()> {
    let mut problems = Vec::new();
    let mut given: Vec<(&str, &str)> = Vec::new();
    for (written, value) in entries {
        let field_name = || format!("options.{prefix}{written}");
        let Some(field) = fields.iter().find(|field| field.names.contains(&written)) else {
            problems.push(CacheError::config(
                Some(alias),
                field_name(),
                unknown_option(fields, prefix.is_empty()),
            ));
            continue;
        };
        if let Some(fix) = field.refusal {
            problems.push(CacheError::config(Some(alias), field_name(), fix));
            continue;
        }
        let name = field.names[0];
        if let Some((earlier, _)) = given.iter().find(|(_, known)| *known == name) {
            problems.push(CacheError::config(
                Some(alias),
                field_name(),
                format!("`{earlier}` and `{written}` are two names of one option; give one of them"),
            ));
            continue;
        }
        given.push((written, name));
        if !value.is_null() {
            let name = format!("{prefix}{name}");
            if let Err(error) = (field.read)(target, &OptionValue::new(alias, &name, value)) {
                problems.push(error);
            }
        }
    }
    CacheError::combine(problems).map_or(Ok(()), Err)
}

/// The message for an option no field names, listing the accepted ones (refused ones aside).
/// At the top level it also names `ignore_exceptions`, which every alias takes; worded as
/// `Options::parse` words serde's unknown-field error, so every backend reads alike.
fn unknown_option<T>(fields: &[OptionField<T>], top_level: bool) -> String {
    let names: Vec<String> = fields
        .iter()
        .filter(|field| field.refusal.is_none())
        .flat_map(|field| field.names)
        .map(|name| format!("`{name}`"))
        .collect();
    unknown_option_message(&names, top_level)
}

/// "unknown option; the options this backend accepts are …", for a list of ticked names (or one
/// name standing for a list already worded). A top-level option's message also names
/// `ignore_exceptions`, which every alias takes; a sub-option's names only its table's.
pub(super) fn unknown_option_message(names: &[String], top_level: bool) -> String {
    let list = match names {
        [a, b] => format!("{a} or {b}"),
        all => all.join(", "),
    };
    match (names.is_empty(), top_level) {
        (true, true) => {
            "unknown option; this backend takes no options (every alias accepts `ignore_exceptions`)".to_owned()
        }
        (true, false) => "unknown option; nothing is accepted here".to_owned(),
        (false, true) => format!(
            "unknown option; the options this backend accepts are {list}; every alias also accepts `ignore_exceptions`, `log_keys` and `latency_histogram`"
        ),
        (false, false) => format!("unknown option; the options accepted here are {list}"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Debug, Default, PartialEq)]
    struct Sample {
        wait: Option<Duration>,
        count: u64,
        on: bool,
    }

    const FIELDS: &[OptionField<Sample>] = &[
        OptionField::new(&["wait", "socket_wait"], |sample, value| {
            sample.wait = Some(value.seconds()?);
            Ok(())
        }),
        OptionField::new(&["count"], |sample, value| {
            sample.count = value.whole_number(1..=9, "a whole number from 1 to 9")?;
            Ok(())
        }),
        OptionField::new(&["on"], |sample, value| {
            sample.on = value.flag()?;
            Ok(())
        }),
    ];

    fn read_json(value: Value) -> Result<Sample> {
        match value {
            Value::Object(map) => Options::from_map(map).read("a", FIELDS),
            _ => unreachable!("options are an object"),
        }
    }

    fn error(value: Value) -> String {
        read_json(value).unwrap_err().to_string()
    }

    #[test]
    fn every_option_by_any_of_its_names() {
        assert_eq!(read_json(json!({})).unwrap(), Sample::default());
        assert_eq!(read_json(json!({"count": null})).unwrap(), Sample::default());
        assert_eq!(
            read_json(json!({"socket_wait": "0.5", "count": "3", "on": "TRUE"})).unwrap(),
            Sample {
                wait: Some(Duration::from_millis(500)),
                count: 3,
                on: true
            }
        );
    }

    #[test]
    fn unknown_and_doubled_options_are_refused() {
        assert_eq!(
            error(json!({"cont": 1})),
            "cache alias `a`: options.cont: unknown option; the options this backend accepts are `wait`, \
             `socket_wait`, `count`, `on`; every alias also accepts `ignore_exceptions`, `log_keys` and `latency_histogram`"
        );
        assert_eq!(
            error(json!({"socket_wait": 1, "wait": 2})),
            "cache alias `a`: options.wait: `socket_wait` and `wait` are two names of one option; give one of them"
        );
        let none: &[OptionField<Sample>] = &[];
        let refused = Options::from_map(json!({"x": 1}).as_object().unwrap().clone()).read("a", none);
        assert_eq!(
            refused.unwrap_err().to_string(),
            "cache alias `a`: options.x: unknown option; this backend takes no options (every alias accepts `ignore_exceptions`)"
        );
    }

    #[test]
    fn seconds_accept_numbers_and_numeric_strings_within_a_day() {
        assert_eq!(
            read_json(json!({"wait": 0.5})).unwrap().wait,
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            read_json(json!({"wait": " 2 "})).unwrap().wait,
            Some(Duration::from_secs(2))
        );
        for bad in [json!(0), json!(-1), json!(86_401), json!("abc"), json!(true)] {
            assert_eq!(
                error(json!({ "wait": bad.clone() })),
                format!(
                    "cache alias `a`: options.wait: expected a number of seconds above 0 and at most a day (86400); got {bad}"
                )
            );
        }
    }

    #[test]
    fn whole_numbers_stay_in_their_range() {
        for bad in [json!(0), json!(10), json!(1.5), json!("x")] {
            assert_eq!(
                error(json!({ "count": bad.clone() })),
                format!("cache alias `a`: options.count: expected a whole number from 1 to 9; got {bad}")
            );
        }
    }

    #[test]
    fn flags_accept_booleans_and_their_words() {
        assert!(!read_json(json!({"on": "FALSE"})).unwrap().on);
        assert_eq!(
            error(json!({"on": 1})),
            "cache alias `a`: options.on: expected true or false; got 1"
        );
    }
}
