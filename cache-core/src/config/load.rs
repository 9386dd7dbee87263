//! From text to [`CachesConfig`]: parse with the `config` crate, normalize the `caches` section
//! (lower-case keys, duplicates refused), apply the environment, then validate each alias.

use std::collections::BTreeMap;
use std::path::Path;

use config::{FileFormat, ValueKind};
use serde_json::{Map, Number, Value};

use super::{AliasConfig, CachesConfig, ConfigFormat, Location, Options, env};
use crate::cache::DEFAULT_TIMEOUT_SECONDS;
use crate::codec::Codec;
use crate::error::{CacheError, Result};
use crate::timeout::Timeout;

/// The field named by syntax errors in text given to `from_str`, which has no file name.
pub(super) const TEXT_LABEL: &str = "(config text)";

/// The fix for a file whose extension names no format.
pub(super) const EXTENSION_FIX: &str = "name the file *.toml, *.yaml, *.yml or *.json";

/// The per-alias keys, lower-case, in the order they are checked and listed.
pub(super) const KEYS: &[&str] = &[
    "backend",
    "location",
    "timeout",
    "key_prefix",
    "version",
    "key_function",
    "codec",
    "options",
];

/// One key of an alias entry after normalization.
#[derive(Debug)]
pub(super) struct Field {
    /// The key as written (`TIMEOUT`), for messages about keys we don't know.
    pub(super) written: String,
    pub(super) value: Value,
    /// The environment variable that set it, named in messages about its value.
    pub(super) variable: Option<String>,
}

/// An alias entry: its fields by lower-case key.
pub(super) type Entry = BTreeMap<String, Field>;

pub(super) fn read_file(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|error| {
        let message = if error.kind() == std::io::ErrorKind::InvalidData {
            "can't read the configuration file: it is not UTF-8 text; save it as UTF-8".to_owned()
        } else {
            format!(
                "can't read the configuration file: {error}; check the path \
                 (a relative path is resolved from the current directory)"
            )
        };
        CacheError::config(None, path.display().to_string(), message)
    })
}

pub(super) fn load(text: &str, format: ConfigFormat, label: &str, vars: Vec<(String, String)>) -> Result<CachesConfig> {
    let mut top = parse(text, format, label)?;
    let caches = take_caches(&mut top)?;
    let had_section = caches.is_some();
    let mut entries = match caches {
        Some(caches) => normalize_caches(caches)?,
        None => BTreeMap::new(),
    };
    env::apply(&mut entries, vars)?;
    // Environment variables alone may define every alias (a twelve-factor deployment with an
    // empty file); without them a file lacking the section is a mistake worth naming.
    if !had_section && entries.is_empty() {
        return Err(CacheError::config(
            None,
            "caches",
            "the `caches` section is missing; it holds one table per alias and the `default` alias is \
             required, e.g. `[caches.default]` with `backend = \"locmem\"`",
        ));
    }
    let mut aliases = BTreeMap::new();
    for (alias, entry) in entries {
        let config = validate(&alias, entry)?;
        aliases.insert(alias, config);
    }
    Ok(CachesConfig {
        aliases,
        other_sections: top,
    })
}

/// Parses with the `config` crate's format parsers. We call `Format::parse` rather than
/// `Config::builder()`: the builder reads each top-level key as a path expression, so a key such
/// as `a[99999999]` would allocate a huge array and `a.b` would silently become a nested table.
fn parse(text: &str, format: ConfigFormat, label: &str) -> Result<Map<String, Value>> {
    let file_format = match format {
        ConfigFormat::Toml => FileFormat::Toml,
        ConfigFormat::Yaml => FileFormat::Yaml,
        ConfigFormat::Json => FileFormat::Json,
    };
    let table = config::Format::parse(&file_format, None, text).map_err(|error| {
        CacheError::config(
            None,
            label,
            format!("can't parse it as {}: {}", format.name(), error.to_string().trim_end()),
        )
    })?;
    let mut path = Vec::new();
    let mut top = Map::new();
    for (key, value) in table {
        path.push(key.clone());
        top.insert(key, to_json(value, &mut path)?);
        path.pop();
    }
    Ok(top)
}

/// The `config` crate's value as JSON, which is what options, sections and environment values are.
fn to_json(value: config::Value, path: &mut Vec<String>) -> Result<Value> {
    Ok(match value.kind {
        ValueKind::Nil => Value::Null,
        ValueKind::Boolean(b) => Value::Bool(b),
        ValueKind::I64(i) => Value::from(i),
        ValueKind::U64(u) => Value::from(u),
        ValueKind::I128(i) => match (i64::try_from(i), u64::try_from(i)) {
            (Ok(i), _) => Value::from(i),
            (_, Ok(u)) => Value::from(u),
            _ => float(i as f64, path)?,
        },
        ValueKind::U128(u) => match u64::try_from(u) {
            Ok(u) => Value::from(u),
            Err(_) => float(u as f64, path)?,
        },
        ValueKind::Float(f) => float(f, path)?,
        ValueKind::String(s) => Value::String(s),
        ValueKind::Array(items) => {
            let mut list = Vec::with_capacity(items.len());
            for (index, item) in items.into_iter().enumerate() {
                path.push(index.to_string());
                list.push(to_json(item, path)?);
                path.pop();
            }
            Value::Array(list)
        }
        ValueKind::Table(table) => {
            let mut map = Map::new();
            for (key, item) in table {
                path.push(key.clone());
                map.insert(key, to_json(item, path)?);
                path.pop();
            }
            Value::Object(map)
        }
    })
}

/// JSON has no infinities or NaN (TOML's `inf`, YAML's `.inf`); rather than guess what they mean
/// we refuse them, pointing at the spelling that says "forever".
fn float(f: f64, path: &[String]) -> Result<Value> {
    Number::from_f64(f).map(Value::Number).ok_or_else(|| {
        CacheError::config(
            None,
            path.join("."),
            format!(
                "the number `{f}` can't be used (infinities and NaN aren't supported); \
                 for a timeout that never expires write \"never\""
            ),
        )
    })
}

/// Removes the `caches` section (any letter case) from the top-level table.
fn take_caches(top: &mut Map<String, Value>) -> Result<Option<Value>> {
    let spellings: Vec<String> = top
        .keys()
        .filter(|key| key.eq_ignore_ascii_case("caches"))
        .cloned()
        .collect();
    match spellings.as_slice() {
        [] => Ok(None),
        [one] => Ok(top.remove(one)),
        many => Err(CacheError::config(
            None,
            "caches",
            format!(
                "the section is given more than once, as {}; section names are case-insensitive, so keep one",
                join_ticked(many)
            ),
        )),
    }
}

fn normalize_caches(caches: Value) -> Result<BTreeMap<String, Entry>> {
    let Value::Object(aliases) = caches else {
        return Err(CacheError::config(
            None,
            "caches",
            format!(
                "expected a table with one entry per alias, such as `[caches.default]`, found {}",
                describe(&caches)
            ),
        ));
    };
    let mut entries = BTreeMap::new();
    for (alias, entry) in aliases {
        let Value::Object(fields) = entry else {
            return Err(CacheError::config(
                None,
                format!("caches.{alias}"),
                format!(
                    "expected a table of settings such as `backend = \"locmem\"`, found {}",
                    describe(&entry)
                ),
            ));
        };
        let entry = normalize_entry(&alias, fields)?;
        entries.insert(alias, entry);
    }
    Ok(entries)
}

/// Lower-cases the keys of an entry and of its options, refusing two spellings of one key.
fn normalize_entry(alias: &str, fields: Map<String, Value>) -> Result<Entry> {
    let mut entry = Entry::new();
    for (lower, (written, mut value)) in by_lower_case(alias, fields, |lower| lower.to_owned(), "keys")? {
        if lower == "options" {
            value = normalize_options(alias, value)?;
        }
        entry.insert(
            lower,
            Field {
                written,
                value,
                variable: None,
            },
        );
    }
    Ok(entry)
}

/// Lower-cases the option names of an `options` table; anything else is left for `validate` to refuse.
pub(super) fn normalize_options(alias: &str, options: Value) -> Result<Value> {
    let Value::Object(table) = options else {
        return Ok(options);
    };
    let names = by_lower_case(alias, table, |lower| format!("options.{lower}"), "option names")?;
    Ok(Value::Object(
        names.into_iter().map(|(lower, (_, value))| (lower, value)).collect(),
    ))
}

/// The entries of a table by lower-cased key, each with its key as written; two spellings of one
/// key are an error naming the field (`field(lower)`) and what is case-insensitive (`what`).
fn by_lower_case(
    alias: &str,
    table: Map<String, Value>,
    field: impl Fn(&str) -> String,
    what: &str,
) -> Result<BTreeMap<String, (String, Value)>> {
    let mut groups: BTreeMap<String, Vec<(String, Value)>> = BTreeMap::new();
    for (key, value) in table {
        groups.entry(key.to_lowercase()).or_default().push((key, value));
    }
    groups
        .into_iter()
        .map(|(lower, mut spellings)| {
            if spellings.len() > 1 {
                // Sorted, so messages are stable.
                let mut written: Vec<String> = spellings.into_iter().map(|(written, _)| written).collect();
                written.sort();
                return Err(CacheError::config(
                    Some(alias),
                    field(&lower),
                    format!(
                        "given more than once, as {}; {what} are case-insensitive, so keep one",
                        join_ticked(&written)
                    ),
                ));
            }
            Ok((lower, spellings.remove(0)))
        })
        .collect()
}

/// Turns one normalized entry into an [`AliasConfig`], refusing unknown keys and wrong types.
fn validate(alias: &str, mut entry: Entry) -> Result<AliasConfig> {
    if let Some((_, field)) = entry.iter().find(|(key, _)| !KEYS.contains(&key.as_str())) {
        return Err(error(
            alias,
            field,
            &field.written,
            format!(
                "unknown key; the keys of an alias are {} (in any letter case)",
                join_plain(KEYS)
            ),
        ));
    }
    let mut take = |key: &str| {
        entry
            .remove(key)
            .filter(|field| !field.value.is_null() || key == "timeout")
    };

    let backend = match take("backend") {
        None => {
            return Err(CacheError::config(
                Some(alias),
                "backend",
                "`backend` is required; e.g. backend = \"locmem\"",
            ));
        }
        Some(field) => string(
            alias,
            "backend",
            field,
            "a string naming a registered backend, such as \"locmem\"",
        )?,
    };
    let location = match take("location") {
        None => Location::Unset,
        Some(field) => location(alias, field)?,
    };
    let timeout = match take("timeout") {
        None => Timeout::Seconds(DEFAULT_TIMEOUT_SECONDS),
        Some(field) => timeout(alias, field)?,
    };
    let key_prefix = match take("key_prefix") {
        None => String::new(),
        Some(field) => string(alias, "key_prefix", field, "a string")?,
    };
    let version = match take("version") {
        None => 1,
        Some(field) => version(alias, field)?,
    };
    let key_function = match take("key_function") {
        None => None,
        Some(field) => Some(string(
            alias,
            "key_function",
            field,
            "the name of a registered key function",
        )?),
    };
    let codec = match take("codec") {
        None => Codec::Json,
        Some(field) => codec(alias, field)?,
    };
    let options = match take("options") {
        None => Options::default(),
        Some(field) => options(alias, field)?,
    };
    Ok(AliasConfig {
        backend,
        location,
        timeout,
        key_prefix,
        version,
        key_function,
        codec,
        options,
    })
}

/// A configuration error about one field, naming the environment variable that set it, if any.
fn error(alias: &str, field: &Field, name: &str, message: String) -> CacheError {
    let message = match &field.variable {
        Some(variable) => format!("{message} (set by the environment variable `{variable}`)"),
        None => message,
    };
    CacheError::config(Some(alias), name, message)
}

fn string(alias: &str, name: &str, field: Field, expected: &str) -> Result<String> {
    match field.value {
        Value::String(s) => Ok(s),
        ref other => Err(error(
            alias,
            &field,
            name,
            format!("expected {expected}, found {}", describe(other)),
        )),
    }
}

fn location(alias: &str, field: Field) -> Result<Location> {
    let expected = "expected a string or a list of strings";
    match field.value {
        Value::String(s) => Ok(Location::One(s)),
        Value::Array(ref items) => {
            let mut list = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => list.push(s.clone()),
                    other => {
                        let message = format!("{expected}, found a list whose item {index} is {}", describe(other));
                        return Err(error(alias, &field, "location", message));
                    }
                }
            }
            Ok(Location::Many(list))
        }
        ref other => Err(error(
            alias,
            &field,
            "location",
            format!("{expected}, found {}", describe(other)),
        )),
    }
}

/// Seconds (fractions kept), `"never"`/null, or a string holding a JSON number. Django would
/// truncate with `int()` and fall back to 300 on anything unparsable; see the module docs.
fn timeout(alias: &str, field: Field) -> Result<Timeout> {
    let seconds = match &field.value {
        Value::Null => return Ok(Timeout::Never),
        Value::Number(n) => n.as_f64(),
        Value::String(s) if s.eq_ignore_ascii_case("never") => return Ok(Timeout::Never),
        // JSON's number grammar: "60" and "0.5" but not "nan", "inf", " 60" or "1.5x".
        Value::String(s) => s.parse::<Number>().ok().and_then(|n| n.as_f64()),
        _ => None,
    };
    match seconds {
        Some(seconds) if seconds.is_finite() => Ok(Timeout::Seconds(seconds)),
        _ => Err(error(
            alias,
            &field,
            "timeout",
            format!(
                "expected a number of seconds (such as 300 or 0.5), \"never\" or null, found {}",
                describe(&field.value)
            ),
        )),
    }
}

fn version(alias: &str, field: Field) -> Result<i64> {
    if let Some(version) = field.value.as_i64() {
        return Ok(version);
    }
    let mut message = format!("expected an integer, found {}", describe(&field.value));
    if field.value.is_string() {
        message.push_str("; Django accepts a string VERSION but then fails to increment it, so write a number");
    } else if field.value.is_u64() {
        message.push_str(", which is larger than a signed 64-bit integer");
    }
    Err(error(alias, &field, "version", message))
}

fn codec(alias: &str, field: Field) -> Result<Codec> {
    let message = match &field.value {
        Value::String(name) => match Codec::from_name(name) {
            Some(codec) => return Ok(codec),
            None => format!("unknown codec `{name}`; known codecs are: {}", Codec::NAMES.join(", ")),
        },
        other => format!(
            "expected the name of a codec ({}), found {}",
            Codec::NAMES.join(", "),
            describe(other)
        ),
    };
    Err(error(alias, &field, "codec", message))
}

/// The options table, its names already lower-cased (by `normalize_entry` for a file, by the
/// environment overrides for a variable).
fn options(alias: &str, field: Field) -> Result<Options> {
    match field.value {
        Value::Object(values) => Ok(Options::from_map(values)),
        ref other => Err(error(
            alias,
            &field,
            "options",
            format!("expected a table of backend options, found {}", describe(other)),
        )),
    }
}

/// A value as messages show it: `5`, `true`, `null`, `the string "abc"`, `a list`, `a table`.
pub(super) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "a table".to_owned(),
    }
}

/// `` `a` and `b` `` / `` `a`, `b` and `c` ``.
pub(super) fn join_ticked(items: &[String]) -> String {
    let ticked: Vec<String> = items.iter().map(|item| format!("`{item}`")).collect();
    match ticked.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

fn join_plain(items: &[&str]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}
