//! The `CACHES` setting: aliases read from TOML, YAML or JSON, with environment overrides.
//!
//! # The file
//!
//! [`CachesConfig::load`] picks the format by the file's extension: `.toml`, `.yaml`/`.yml` or
//! `.json` (any letter case). The file is parsed with the `config` crate. Its top-level `caches`
//! table holds one entry per alias, Django's `CACHES` dict:
//!
//! ```toml
//! [caches.default]
//! backend = "locmem"              # a registered name, or Django's "django.core.cache.backends.locmem.LocMemCache"
//! location = "unique-snowflake"
//! timeout = 300                   # seconds; "never" (or null in YAML/JSON) = never expire
//! key_prefix = ""
//! version = 1
//! options = { max_entries = 300, cull_frequency = 3 }
//!
//! [caches.component-media]
//! backend = "redis"
//! location = ["redis://127.0.0.1:6379/1", "redis://127.0.0.1:6380/1"]
//! timeout = "never"
//!
//! [components]                    # not ours: read it with `CachesConfig::section`
//! cache = "component-media"
//! ```
//!
//! Every other top-level section belongs to the application (or to `components`); it is kept
//! untouched and read with [`CachesConfig::section`]. The section name `caches` is matched
//! case-insensitively, so a file holding Django's `CACHES` dict under `"CACHES"` loads too. A file
//! with no `caches` section whose top level holds a table with a `backend` is Django's `CACHES`
//! mapping itself (what `json.dump(settings.CACHES, f)` writes): its top level is the aliases.
//!
//! Every problem found by one load (or one `Caches::build`) is reported at once, as
//! [`CacheError::ConfigErrors`] when there are several.
//!
//! # Per-alias keys
//!
//! | key | type | when absent | notes |
//! |---|---|---|---|
//! | `backend` | string | **required** | a name given to `Backends::register` |
//! | `location` | string or list of strings | [`Location::Unset`] | meaning is the backend's |
//! | `timeout` | number of seconds, `"never"` or null | 300 | fractions kept; zero or negative expires at once |
//! | `key_prefix` | string | `""` | |
//! | `version` | integer | 1 | |
//! | `key_function` | string | the default `prefix:version:key` | a name given to `Backends::key_function` |
//! | `codec` | string | `"json"` | one of [`Codec::NAMES`] |
//! | `options` | table | empty | handed to the backend, which rejects what it doesn't know; `ignore_exceptions` is the façade's (below) |
//!
//! - `options.ignore_exceptions` (or pymemcache's `ignore_exc`), `true` or `false`, is taken by
//!   every backend: the façade reads it and removes it before the backend reads the rest. When
//!   true the alias fails silently (django-redis' `IGNORE_EXCEPTIONS`): see
//!   [`CacheOptions::with_ignore_exceptions`]. It lives in `options` because that is where Django
//!   users write it (pymemcache's `ignore_exc`, django-redis' per-alias setting).
//! - Keys are case-insensitive: every key of an entry and of its `options` is lower-cased, so
//!   Django's `BACKEND`, `LOCATION`, `TIMEOUT`, `KEY_PREFIX`, `VERSION`, `KEY_FUNCTION`, `OPTIONS`
//!   and `OPTIONS = { MAX_ENTRIES = … }` load as they are. Two spellings of one key in the same
//!   entry (`timeout` and `TIMEOUT`) are an error naming both; Django silently prefers the
//!   lower-case one, which hides a typo.
//! - An unknown key in an entry is an error naming the alias and the key (Django ignores it).
//!   Unknown `options` are rejected by the backend when `Caches::build` runs, through
//!   [`Options::parse`], again naming the alias and the option.
//! - A null value (YAML `~`, JSON `null`) is the same as leaving the key out, except for
//!   `timeout`, where null means "never expire" (Django's `None`). TOML has no null; write
//!   `timeout = "never"`.
//! - Alias names are kept exactly as written. The `default` alias is required by `Caches::build`,
//!   as in Django.
//!
//! # Deliberate differences from Django's coercion
//!
//! - `timeout` keeps fractions: `1.9` is 1.9 seconds (Django's `int()` makes it 1). A string holding
//!   a JSON number such as `"60"` or `"0.5"` is accepted, as is `"never"` in any letter case, but
//!   anything else — `"abc"`, `"1.5x"`, `" 60"`, `"nan"`, `true`, a list — is an error. Django
//!   silently falls back to 300 seconds there, which turns a typo into a five-minute cache.
//! - `TIMEOUT` and `timeout` in one entry are an error, not "lower-case wins"; the same goes for
//!   options (Django's legacy top-level `max_entries`/`cull_frequency` are unknown keys: write them
//!   in `options`).
//! - `version` must be an integer. Django stores a string `VERSION` as given and then fails in
//!   `incr_version` (`"v" + 1`); we refuse it when loading.
//! - A missing `backend` is an error saying what to write (Django raises a bare `KeyError`).
//!
//! # Environment overrides
//!
//! After the file is read, variables of the form
//!
//! - `CACHES__<ALIAS>__<FIELD>` (for example `CACHES__DEFAULT__TIMEOUT=60`) and
//! - `CACHES__<ALIAS>__OPTIONS__<NAME>` (for example `CACHES__DEFAULT__OPTIONS__MAX_ENTRIES=1000`)
//!
//! replace single values. [`CachesConfig::load`] and [`CachesConfig::from_str`] read the process
//! environment; [`CachesConfig::load_with_env`] and [`CachesConfig::from_str_with_env`] take the
//! variables as an argument (give an empty list for none).
//!
//! - Variable names are matched case-insensitively (`caches__default__timeout` works too).
//!   Variables not starting with `CACHES__` are ignored; one that does but has another shape
//!   (`CACHES__DEFAULT`, an empty segment, a fifth segment) is an error.
//! - The alias segment is matched against the aliases of the file ignoring case, with `-` and `_`
//!   treated alike, because `-` can't appear in a shell variable name: `CACHES__COMPONENT_MEDIA__TIMEOUT`
//!   overrides the alias `component-media`. When it matches two aliases (`a-b` and `a_b`) that is
//!   an error. When it matches none, a new alias is created under the lower-cased segment
//!   (`CACHES__SESSIONS__BACKEND=locmem` adds `sessions`); it then needs a `backend` like any other.
//!   An alias whose name contains `__` can't be addressed.
//! - `FIELD` is one of the per-alias keys above; `CACHES__<ALIAS>__OPTIONS` replaces the whole
//!   options table and takes a JSON object.
//! - Values are parsed as JSON when they are valid JSON (`60`, `0.5`, `null`, `true`, `["a","b"]`,
//!   `{"max_entries":5}`) and taken as the string otherwise (`never`, `redis://host:6379/0`).
//!   The fields that only take a string (`backend`, `key_prefix`, `key_function`, `codec`) use the
//!   value exactly as written, so `CACHES__DEFAULT__KEY_PREFIX=123` is the prefix `"123"`;
//!   `location` is a list when the value is a JSON list and the string as written otherwise.
//! - The same value set by two variables (`CACHES__DEFAULT__TIMEOUT` and `caches__default__timeout`)
//!   is an error naming both. An error in a value that came from a variable names the variable.

use std::collections::BTreeMap;
use std::path::Path;

use serde::de::DeserializeOwned;

use crate::cache::{CacheOptions, DEFAULT_TIMEOUT_SECONDS};
use crate::codec::Codec;
use crate::error::{CacheError, Result};
use crate::timeout::Timeout;

mod duplicate_keys;
mod env;
mod env_blame;
pub(crate) mod facade_options;
mod load;
pub mod option_values;
mod options;

/// Every alias of the `[caches]` section, validated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CachesConfig {
    /// The aliases by name.
    pub aliases: BTreeMap<String, AliasConfig>,
    /// The other top-level sections of the file (`[components]`, the application's own), untouched.
    pub(crate) other_sections: serde_json::Map<String, serde_json::Value>,
    /// The environment variables that set fields of each alias, by the field their errors name
    /// (`location`, `options`, `options.max_entries`): errors found when the backend reads them
    /// name the variable.
    pub(crate) set_by: BTreeMap<String, BTreeMap<String, String>>,
}

impl CachesConfig {
    /// Reads a configuration file, choosing the format by its extension (see [`ConfigFormat::from_path`]),
    /// then applies the `CACHES__…` variables of the process environment.
    ///
    /// An unknown extension, a file that can't be read and a syntax error are
    /// [`CacheError::Config`] errors whose field is the file's path.
    pub fn load(path: impl AsRef<Path>) -> Result<CachesConfig> {
        let path = path.as_ref();
        let format = ConfigFormat::from_path(path)?;
        let text = load::read_file(path)?;
        load::load(&text, format, &path.display().to_string(), env::process_vars()?)
    }

    /// Like [`CachesConfig::load`], with the environment overrides taken from `vars` instead of the
    /// process environment, so tests and embedders control them.
    pub fn load_with_env<I, K, V>(path: impl AsRef<Path>, vars: I) -> Result<CachesConfig>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let path = path.as_ref();
        let format = ConfigFormat::from_path(path)?;
        let text = load::read_file(path)?;
        load::load(&text, format, &path.display().to_string(), env::collect(vars))
    }

    /// Parses configuration text in `format`, then applies the `CACHES__…` variables of the process
    /// environment, exactly as [`CachesConfig::load`] does for a file. Syntax errors are reported
    /// with the field `(config text)`.
    pub fn from_str(text: &str, format: ConfigFormat) -> Result<CachesConfig> {
        load::load(text, format, load::TEXT_LABEL, env::process_vars()?)
    }

    /// Like [`CachesConfig::from_str`], with the environment overrides taken from `vars`
    /// (pass `[] as [(&str, &str); 0]`, or any empty iterator, for none).
    pub fn from_str_with_env<I, K, V>(text: &str, format: ConfigFormat, vars: I) -> Result<CachesConfig>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        load::load(text, format, load::TEXT_LABEL, env::collect(vars))
    }

    /// Reads another top-level section of the file (`components`, or the application's own) into
    /// `T`; `Ok(None)` when the file has no such section.
    ///
    /// The name is matched exactly first, then ignoring case (so `section("components")` finds
    /// Django's `COMPONENTS`). The `caches` section itself is not available here: it is
    /// [`CachesConfig::aliases`].
    pub fn section<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        let value = match self.other_sections.get(name) {
            Some(value) => value,
            None => {
                let mut matches = self
                    .other_sections
                    .iter()
                    .filter(|(key, _)| key.eq_ignore_ascii_case(name));
                match (matches.next(), matches.next()) {
                    (None, _) => return Ok(None),
                    (Some((_, value)), None) => value,
                    (Some((first, _)), Some((second, _))) => {
                        return Err(CacheError::config(
                            None,
                            name,
                            format!(
                                "the file has both `{first}` and `{second}`; section names are matched \
                                 ignoring case, so keep one"
                            ),
                        ));
                    }
                }
            }
        };
        T::deserialize(value)
            .map(Some)
            .map_err(|error| CacheError::config(None, name, format!("the section doesn't fit: {error}")))
    }
}

/// The text formats a configuration can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigFormat {
    /// TOML (`.toml`).
    Toml,
    /// YAML (`.yaml`, `.yml`).
    Yaml,
    /// JSON (`.json`).
    Json,
}

impl ConfigFormat {
    /// The format for a file extension without the dot (`"toml"`, `"yaml"`, `"yml"`, `"json"`),
    /// ignoring case.
    pub fn from_extension(extension: &str) -> Option<ConfigFormat> {
        match extension.to_ascii_lowercase().as_str() {
            "toml" => Some(ConfigFormat::Toml),
            "yaml" | "yml" => Some(ConfigFormat::Yaml),
            "json" => Some(ConfigFormat::Json),
            _ => None,
        }
    }

    /// The format of a file, by its extension. A missing or unknown extension is a
    /// [`CacheError::Config`] whose field is the path, saying which extensions work.
    pub fn from_path(path: &Path) -> Result<ConfigFormat> {
        let shown = path.display().to_string();
        match path.extension() {
            None => Err(CacheError::config(
                None,
                shown,
                format!(
                    "the file name has no extension, so its format is unknown; {}",
                    load::EXTENSION_FIX
                ),
            )),
            Some(extension) => {
                let extension = extension.to_string_lossy();
                ConfigFormat::from_extension(&extension).ok_or_else(|| {
                    CacheError::config(
                        None,
                        shown,
                        format!(
                            "unknown configuration file extension `.{extension}`; {}",
                            load::EXTENSION_FIX
                        ),
                    )
                })
            }
        }
    }

    /// The format's name as used in messages: `TOML`, `YAML` or `JSON`.
    pub fn name(self) -> &'static str {
        match self {
            ConfigFormat::Toml => "TOML",
            ConfigFormat::Yaml => "YAML",
            ConfigFormat::Json => "JSON",
        }
    }
}

/// One alias: Django's `CACHES["name"]` entry.
#[derive(Debug, Clone, PartialEq)]
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
    /// An entry for `backend` with every other key at its default, as if the file gave only
    /// `backend`: no location, 300 seconds, no prefix, version 1, the default key function, JSON,
    /// no options.
    pub fn new(backend: impl Into<String>) -> Self {
        AliasConfig {
            backend: backend.into(),
            location: Location::Unset,
            timeout: Timeout::Seconds(DEFAULT_TIMEOUT_SECONDS),
            key_prefix: String::new(),
            version: 1,
            key_function: None,
            codec: Codec::Json,
            options: Options::default(),
        }
    }

    /// The façade settings this entry describes (the key function is resolved by the registry).
    pub fn cache_options(&self) -> CacheOptions {
        CacheOptions::default()
            .with_key_prefix(self.key_prefix.clone())
            .with_version(self.version)
            .with_timeout(self.timeout)
            .with_codec(self.codec)
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

    /// Every entry by Django's rule (`re.split("[;,]", location)`): a string is split on `;` and
    /// `,` (whitespace kept, as in Django), a list is used as is. Empty entries are kept, so a
    /// backend for which an entry's position matters (Redis: the first is the writer) can refuse
    /// them.
    pub fn entries(&self) -> Vec<String> {
        match self {
            Location::Unset => Vec::new(),
            Location::One(text) => text.split([';', ',']).map(str::to_owned).collect(),
            Location::Many(list) => list.clone(),
        }
    }

    /// [`Location::entries`] without the empty ones: server addresses where an empty entry (a
    /// trailing `;`) can only be a slip (memcached's servers, whose order doesn't matter).
    pub fn servers(&self) -> Vec<String> {
        let mut entries = self.entries();
        entries.retain(|entry| !entry.is_empty());
        entries
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

    /// The value given for the option `name` (lower-case), as written; for checks that span
    /// two options.
    pub fn get(&self, name: &str) -> Option<&serde_json::Value> {
        self.values.get(name)
    }

    /// The options a backend's factory is given: these without the ones the façade takes from
    /// every alias (`ignore_exceptions`, pymemcache's `ignore_exc`). For reading an alias'
    /// options with a backend's own parser outside `Caches::build`, as tests do.
    pub fn without_facade_options(&self) -> Options {
        facade_options::split("", self).1
    }

    /// Parses the options into a backend's own type. Give the type `#[serde(deny_unknown_fields)]`
    /// so a misspelt option is an error naming the alias and the option.
    ///
    /// Errors are [`CacheError::Config`] with the field `options.<name>` whenever the option at
    /// fault is known:
    /// - an unknown option: ``unknown option; this backend takes no options (every alias accepts
    ///   `ignore_exceptions`)`` or ``unknown option; the options this backend accepts are `a`, `b`,
    ///   `c`; every alias also accepts `ignore_exceptions`, `log_keys` and `latency_histogram` ``;
    /// - a missing required option: `required by this backend but not given`;
    /// - a value of the wrong type or refused by the type's own checks: the `serde` message, such
    ///   as ``invalid type: string "abc", expected u64``.
    pub fn parse<T: DeserializeOwned>(&self, alias: &str) -> Result<T> {
        options::parse(&self.values, alias)
    }

    /// Reads the options into a backend's options type, starting from its `Default`, with one
    /// [`OptionField`](option_values::OptionField) per option: the way this workspace's backends
    /// keep each option's name, default and parsing in one place.
    ///
    /// Errors are [`CacheError::Config`] with the field `options.<name>`: an unknown option (worded
    /// as for [`Options::parse`]), an option of another client refused with its fix
    /// ([`OptionField::refused`](option_values::OptionField::refused)), one option written under
    /// two of its names, or the field's own check of the value; every one of them is reported, as
    /// [`CacheError::ConfigErrors`] when there are several. A null value is the same as leaving the
    /// option out.
    pub fn read<T: Default>(&self, alias: &str, fields: &[option_values::OptionField<T>]) -> Result<T> {
        option_values::read(self, alias, fields)
    }
}
