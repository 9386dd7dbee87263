//! Naming the environment variable behind a value in the errors about it, whoever finds them: the
//! loader (a bad `timeout`) or, later, the backend reading its options and location.

use std::collections::BTreeMap;

use super::CachesConfig;
use crate::error::CacheError;

/// `message` with the variable that set the value named.
pub(super) fn blamed(message: impl std::fmt::Display, variable: &str) -> String {
    format!("{message} (set by the environment variable `{variable}`)")
}

impl CachesConfig {
    /// `error`, found while building `alias`, with the environment variable that set the field at
    /// fault named in each of its problems (the most specific one: `options.max_entries` before
    /// `options`).
    pub(crate) fn name_variables(&self, alias: &str, error: CacheError) -> CacheError {
        let Some(set_by) = self.set_by.get(alias) else {
            return error;
        };
        let problems: Vec<CacheError> = match error {
            CacheError::ConfigErrors { errors } => errors,
            single => vec![single],
        };
        let mut named = problems.into_iter().map(|problem| match problem {
            CacheError::Config { alias, field, message } => match variable_for(set_by, &field) {
                Some(variable) => CacheError::Config {
                    message: blamed(message, variable),
                    alias,
                    field,
                },
                None => CacheError::Config { alias, field, message },
            },
            // Reworded as a problem of the field, the only way to name the variable in it.
            CacheError::UnknownBackend { alias, backend, known } => match variable_for(set_by, "backend") {
                Some(variable) => CacheError::Config {
                    message: blamed(
                        format!(
                            "unknown backend `{backend}`; registered backends are: {}. Register the backend \
                             crate's factory with `Backends::register` or fix the name",
                            known.join(", ")
                        ),
                        variable,
                    ),
                    alias: Some(alias),
                    field: "backend".to_owned(),
                },
                None => CacheError::UnknownBackend { alias, backend, known },
            },
            other => other,
        });
        match named.next() {
            Some(first) => CacheError::together(first, named),
            None => CacheError::ConfigErrors { errors: Vec::new() },
        }
    }
}

/// The variable that set `field` or the field it belongs to (`location` for `location[1]`,
/// `options` for `options.x` when the whole table came from one variable).
fn variable_for<'a>(set_by: &'a BTreeMap<String, String>, field: &str) -> Option<&'a str> {
    set_by
        .iter()
        .filter(|(set, _)| {
            field == set.as_str()
                || field
                    .strip_prefix(set.as_str())
                    .is_some_and(|rest| rest.starts_with(['.', '[']))
        })
        .max_by_key(|(set, _)| set.len())
        .map(|(_, variable)| variable.as_str())
}
