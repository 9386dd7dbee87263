//! `CACHES__<ALIAS>__<FIELD>` and `CACHES__<ALIAS>__OPTIONS__<NAME>` overrides, applied to the
//! normalized `caches` tree (the rules are in the module docs of `config`).
//!
//! We do this ourselves rather than with `config::Environment`: that source keeps the variable's
//! letter case in keys and can't map `_` in a variable name to `-` in an alias name.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry as Slot;

use serde_json::{Map, Value};

use super::env_blame::blamed;
use super::load::{Entry, Field, join_ticked, normalize_options};
use crate::error::{CacheError, Result};

/// Every override variable starts with this, in any letter case.
const PREFIX: &str = "CACHES__";

/// The shape every `CACHES__…` variable must have, told when one doesn't.
const SHAPES: &str = "expected CACHES__<ALIAS>__<FIELD> or CACHES__<ALIAS>__OPTIONS__<NAME> \
                      (write a `-` in an alias name as `_`)";

fn is_override(name: &str) -> bool {
    name.get(..PREFIX.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(PREFIX))
}

/// The process's override variables. Other variables are skipped without being copied; one of
/// ours whose value isn't UTF-8 is an error rather than silently ignored.
pub(super) fn process_vars() -> Result<Vec<(String, String)>> {
    let mut vars = Vec::new();
    for (name, value) in std::env::vars_os() {
        let Some(name) = name.to_str().filter(|name| is_override(name)) else {
            continue;
        };
        match value.into_string() {
            Ok(value) => vars.push((name.to_owned(), value)),
            Err(_) => {
                return Err(CacheError::config(
                    None,
                    name,
                    "the environment variable's value is not valid UTF-8",
                ));
            }
        }
    }
    Ok(vars)
}

/// The override variables among `vars`, owned.
pub(super) fn collect<I, K, V>(vars: I) -> Vec<(String, String)>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    vars.into_iter()
        .filter(|(name, _)| is_override(name.as_ref()))
        .map(|(name, value)| (name.as_ref().to_owned(), value.as_ref().to_owned()))
        .collect()
}

/// One parsed override variable.
struct Override {
    name: String,
    alias: String,
    /// Lower-case.
    field: String,
    /// Lower-case; set for `CACHES__<ALIAS>__OPTIONS__<NAME>`.
    option: Option<String>,
    raw: String,
}

impl Override {
    fn parse(name: String, raw: String) -> Result<Override> {
        let segments: Vec<&str> = name[PREFIX.len()..].split("__").collect();
        let (alias, field, option) = match segments.as_slice() {
            [alias, field] if !alias.is_empty() && !field.is_empty() => (*alias, field.to_lowercase(), None),
            [alias, options, option]
                if !alias.is_empty() && !option.is_empty() && options.eq_ignore_ascii_case("options") =>
            {
                (*alias, "options".to_owned(), Some(option.to_lowercase()))
            }
            _ => return Err(CacheError::config(None, name, SHAPES)),
        };
        Ok(Override {
            alias: alias.to_owned(),
            field,
            option,
            raw,
            name,
        })
    }

    /// The value the variable stands for: JSON when it is valid JSON, else the string; the fields
    /// that only take a string get the text as written, and `location` is a list only when the
    /// text is a JSON list.
    fn value(&self) -> Value {
        let raw = self.raw.as_str();
        match (self.field.as_str(), &self.option) {
            ("backend" | "key_prefix" | "key_function" | "codec", None) => Value::String(raw.to_owned()),
            ("location", None) => match serde_json::from_str(raw) {
                Ok(list @ Value::Array(_)) => list,
                _ => Value::String(raw.to_owned()),
            },
            _ => serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned())),
        }
    }

    /// The field as messages name it.
    fn target(&self) -> String {
        match &self.option {
            Some(option) => format!("options.{option}"),
            None => self.field.clone(),
        }
    }
}

/// `COMPONENT_MEDIA`, `component-media` and `Component_Media` are the same alias to a variable.
fn fold(alias: &str) -> String {
    alias.to_lowercase().replace('-', "_")
}

pub(super) fn apply(entries: &mut BTreeMap<String, Entry>, mut vars: Vec<(String, String)>) -> Result<()> {
    // The process environment has no order. Sorting makes every result and message repeatable,
    // and applying whole fields before single options lets `CACHES__X__OPTIONS` replace the table
    // and `CACHES__X__OPTIONS__NAME` then adjust it, whatever the variables' letter case.
    vars.sort();
    let mut overrides = Vec::with_capacity(vars.len());
    let mut malformed = Vec::new();
    for (name, raw) in vars {
        match Override::parse(name, raw) {
            Ok(var) => overrides.push(var),
            Err(error) => malformed.push(error),
        }
    }
    if let Some(error) = CacheError::combine(malformed) {
        return Err(error);
    }
    overrides.sort_by(|a, b| (a.option.is_some(), &a.name).cmp(&(b.option.is_some(), &b.name)));

    let mut set_by: BTreeMap<(String, String), String> = BTreeMap::new();
    for var in overrides {
        let alias = resolve_alias(entries, &var)?;
        match set_by.entry((alias.clone(), var.target())) {
            Slot::Occupied(first) => {
                return Err(CacheError::config(
                    Some(&alias),
                    var.target(),
                    format!(
                        "set by two environment variables, {}; keep one",
                        join_ticked(&[first.get().clone(), var.name])
                    ),
                ));
            }
            Slot::Vacant(slot) => {
                slot.insert(var.name.clone());
            }
        }

        let mut value = var.value();
        let entry = entries.entry(alias.clone()).or_default();
        match &var.option {
            None => {
                if var.field == "options" {
                    value = normalize_options(&alias, value).map_err(|error| named(error, &var.name))?;
                }
                let mut field = Field::written(var.field.clone(), value);
                field.variable = Some(var.name);
                entry.insert(var.field, field);
            }
            Some(option) => {
                let options = entry
                    .entry("options".to_owned())
                    .or_insert_with(|| Field::written("options".to_owned(), Value::Null));
                if options.value.is_null() {
                    options.value = Value::Object(Map::new());
                }
                // A file whose `options` is not a table keeps it; validation reports that.
                if let Value::Object(table) = &mut options.value {
                    table.insert(option.clone(), value);
                    options.options_set_by.insert(option.clone(), var.name);
                }
            }
        }
    }
    Ok(())
}

/// The alias a variable addresses: the one existing alias it matches, or a new lower-cased one.
fn resolve_alias(entries: &mut BTreeMap<String, Entry>, var: &Override) -> Result<String> {
    let wanted = fold(&var.alias);
    let matching: Vec<String> = entries.keys().filter(|alias| fold(alias) == wanted).cloned().collect();
    match matching.as_slice() {
        [] => Ok(var.alias.to_lowercase()),
        [alias] => Ok(alias.clone()),
        several => Err(CacheError::config(
            None,
            var.name.clone(),
            format!(
                "the variable matches the aliases {}; variable names ignore case and treat `-` as `_`, \
                 so rename one of the aliases",
                join_ticked(several)
            ),
        )),
    }
}

/// Names the variable in an error about the value it set.
fn named(error: CacheError, variable: &str) -> CacheError {
    match error {
        CacheError::Config { alias, field, message } => CacheError::Config {
            alias,
            field,
            message: blamed(message, variable),
        },
        other => other,
    }
}
