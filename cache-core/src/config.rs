//! The `CACHES` setting: aliases read from TOML, YAML or JSON, with environment overrides.
//!
//! LOADING IS BEING WRITTEN: see `CachesConfig::load` / `CachesConfig::from_str`.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use crate::cache::CacheOptions;
use crate::codec::Codec;
use crate::error::{CacheError, Result};
use crate::timeout::Timeout;

/// Every alias of the `[caches]` section, validated.
#[derive(Debug, Clone, Default)]
pub struct CachesConfig {
    /// The aliases by name.
    pub aliases: BTreeMap<String, AliasConfig>,
    /// The other top-level sections of the file (`[components]`, the application's own), untouched.
    pub(crate) other_sections: serde_json::Map<String, serde_json::Value>,
}

/// One alias: Django's `CACHES["name"]` entry.
#[derive(Debug, Clone)]
pub struct AliasConfig {
    /// The backend's registered name, or Django's dotted class path.
    pub backend: String,
    /// Where the data lives; its meaning is the backend's.
    pub location: Location,
    /// The default timeout: `Timeout::Seconds` or `Timeout::Never` (never `Timeout::Default`).
    pub timeout: Timeout,
    /// `KEY_PREFIX`.
    pub key_prefix: String,
    /// `VERSION`.
    pub version: i64,
    /// `KEY_FUNCTION`: the name of a registered key function.
    pub key_function: Option<String>,
    /// The value codec.
    pub codec: Codec,
    /// `OPTIONS`, handed to the backend.
    pub options: Options,
}

impl AliasConfig {
    /// The façade settings this entry describes (the key function is resolved by the registry).
    pub fn cache_options(&self) -> CacheOptions {
        CacheOptions {
            key_prefix: self.key_prefix.clone(),
            version: self.version,
            timeout: self.timeout,
            codec: self.codec,
            ..CacheOptions::default()
        }
    }
}

/// An alias' `location`: absent, one string, or a list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Location {
    /// Not given (Django's `""`).
    #[default]
    Unset,
    /// One string, as written.
    One(String),
    /// A list, as written.
    Many(Vec<String>),
}

impl Location {
    /// The location as one name (locmem's store name); `""` when unset, the first entry of a list.
    pub fn name(&self) -> &str {
        match self {
            Location::Unset => "",
            Location::One(name) => name,
            Location::Many(names) => names.first().map_or("", String::as_str),
        }
    }

    /// Server addresses by Django's rule: a string is split on `;` and `,` (whitespace kept, as in
    /// Django), a list is used as is, empty entries are dropped.
    pub fn servers(&self) -> Vec<String> {
        match self {
            Location::Unset => Vec::new(),
            Location::One(text) => text
                .split([';', ','])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            Location::Many(list) => list.iter().filter(|s| !s.is_empty()).cloned().collect(),
        }
    }
}

/// An alias' `options` table. Option names are case-insensitive (`MAX_ENTRIES` is `max_entries`),
/// so Django's spellings load as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    pub(crate) values: serde_json::Map<String, serde_json::Value>,
}

impl Options {
    /// Options from a JSON object whose keys are already lower-case.
    pub fn from_map(values: serde_json::Map<String, serde_json::Value>) -> Self {
        Options { values }
    }

    /// Whether no option was given.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Parses the options into a backend's own type. Give the type `#[serde(deny_unknown_fields)]`
    /// so a misspelt option is an error naming the alias and the option.
    pub fn parse<T: DeserializeOwned>(&self, alias: &str) -> Result<T> {
        serde_json::from_value(serde_json::Value::Object(self.values.clone()))
            .map_err(|error| CacheError::config(Some(alias), "options", error.to_string()))
    }
}
