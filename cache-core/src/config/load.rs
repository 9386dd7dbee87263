//! From text to [`CachesConfig`]: parse with the `config` crate, normalize the `caches` section
//! (lower-case keys, duplicates refused), apply the environment, then validate each alias.

use std::collections::BTreeMap;
use std::path::Path;

use config::{FileFormat, ValueKind};
use serde_json::{Map, Number, Value};

use super::env_blame::blamed;
use super::{AliasConfig, CachesConfig, ConfigFormat, Location, Options, duplicate_keys, env};
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
    /// For `options`: the variables that set single options (`CACHES__<ALIAS>__OPTIONS__<NAME>`),
    /// by option name.
    pub(super) options_set_by: BTreeMap<String, String>,
}

impl Field {
    /// A key as the file wrote it.
    pub(super) fn written(written: String, value: Value) -> Field {
        Field {
            written,
            value,
            variable: None,
            options_set_by: BTreeMap::new(),
        }
    }
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
    let caches = match take_caches(&mut top)? {
        Some(caches) => Some(caches),
        // What `json.dump(settings.CACHES)` writes: the aliases themselves at the top level.
        None => match top_level_aliases(&top) {
            Some(first) => {
                check_top_level_aliases(&top, &first)?;
                Some(Value::Object(std::mem::take(&mut top)))
            }
            None => None,
        },
    };
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
             required, e.g. `[caches.default]` with `backend = \"locmem\"` (a file holding only Django's \
             `CACHES` mapping, as `json.dump(settings.CACHES)` writes it, loads too)",
        ));
    }
    let mut aliases = BTreeMap::new();
    let mut set_by = BTreeMap::new();
    let mut problems = Vec::new();
    for (alias, entry) in entries {
        let variables = variables(&entry);
        match validate(&alias, entry) {
            Ok(config) => {
                if !variables.is_empty() {
                    set_by.insert(alias.clone(), variables);
                }
                aliases.insert(alias, config);
            }
            Err(error) => problems.push(error),
        }
    }
    if let Some(error) = CacheError::combine(problems) {
        return Err(error);
    }
    Ok(CachesConfig {
        aliases,
        other_sections: top,
        set_by,
    })
}

/// Which environment variable set which field of an entry, by the field errors name.
fn variables(entry: &Entry) -> BTreeMap<String, String> {
    let mut set_by = BTreeMap::new();
    for (key, field) in entry {
        if let Some(variable) = &field.variable {
            set_by.insert(key.clone(), variable.clone());
        }
        for (option, variable) in &field.options_set_by {
            set_by.insert(format!("options.{option}"), variable.clone());
        }
    }
    set_by
}

/// The first top-level key whose value is a table with a `backend` key (any letter case): the
/// sign of a file that is Django's `CACHES` mapping itself, with no `caches` section around it.
fn top_level_aliases(top: &Map<String, Value>) -> Option<String> {
    top.iter()
        .find(|(_, value)| {
            value
                .as_object()
                .is_some_and(|fields| fields.keys().any(|key| key.eq_ignore_ascii_case("backend")))
        })
        .map(|(key, _)| key.clone())
}

/// In a file read as the `CACHES` mapping every top-level key is an alias, so one that isn't
/// (an application's section beside the aliases) is an error saying how to keep both.
fn check_top_level_aliases(top: &Map<String, Value>, first: &str) -> Result<()> {
    let problems = top.iter().filter_map(|(key, value)| {
        let is_alias = value
            .as_object()
            .is_some_and(|fields| fields.keys().any(|key| key.eq_ignore_ascii_case("backend")));
        (!is_alias).then(|| {
            CacheError::config(
                None,
                key.clone(),
                format!(
                    "the file has no `caches` section, so its top level is read as Django's `CACHES` mapping \
                     (as `json.dump(settings.CACHES)` writes it), `{first}` being an alias with a `backend`; \
                     `{key}` has no `backend`: give it one, or put the aliases under a `caches` section to keep \
                     other sections beside them"
                ),
            )
        })
    });
    CacheError::combine(problems).map_or(Ok(()), Err)
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
    if format == ConfigFormat::Json {
        duplicate_keys::check(text)
            .map_err(|error| CacheError::config(None, label, format!("can't parse it as JSON: {error}")))?;
    }
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
    let mut problems = Vec::new();
    for (alias, entry) in aliases {
        let Value::Object(fields) = entry else {
            problems.push(CacheError::config(
                None,
                format!("caches.{alias}"),
                format!(
                    "expected a table of settings such as `backend = \"locmem\"`, found {}",
                    describe(&entry)
                ),
            ));
            continue;
        };
        match normalize_entry(&alias, fields) {
            Ok(entry) => {
                entries.insert(alias, entry);
            }
            Err(error) => problems.push(error),
        }
    }
    CacheError::combine(problems).map_or(Ok(entries), Err)
}

/// Lower-cases the keys of an entry and of its options, refusing two spellings of one key.
fn normalize_entry(alias: &str, fields: Map<String, Value>) -> Result<Entry> {
    let mut entry = Entry::new();
    let mut problems = Vec::new();
    let fields = by_lower_case(alias, fields, |lower| lower.to_owned(), "keys").unwrap_or_else(|(fields, error)| {
        problems.push(error);
        fields
    });
    for (lower, (written, mut value)) in fields {
        if lower == "options" {
            value = normalize_options(alias, value).unwrap_or_else(|error| {
                problems.push(error);
                Value::Null
            });
        }
        entry.insert(lower, Field::written(written, value));
    }
    CacheError::combine(problems).map_or(Ok(entry), Err)
}

/// Lower-cases the option names of an `options` table; anything else is left for `validate` to refuse.
pub(super) fn normalize_options(alias: &str, options: Value) -> Result<Value> {
    let Value::Object(table) = options else {
        return Ok(options);
    };
    let names =
        by_lower_case(alias, table, |lower| format!("options.{lower}"), "option names").map_err(|(_, error)| error)?;
    Ok(Value::Object(
        names.into_iter().map(|(lower, (_, value))| (lower, value)).collect(),
    ))
}

/// A table's entries by lower-cased key, each with its key as written.
type Spellings = BTreeMap<String, (String, Value)>;

/// The entries of a table by lower-cased key, each with its key as written. Two spellings of one
/// key are an error naming the field (`field(lower)`) and what is case-insensitive (`what`); every
/// such error is reported, with the entries that are fine.
fn by_lower_case(
    alias: &str,
    table: Map<String, Value>,
    field: impl Fn(&str) -> String,
    what: &str,
) -> std::result::Result<Spellings, (Spellings, CacheError)> {
    let mut groups: BTreeMap<String, Vec<(String, Value)>> = BTreeMap::new();
    for (key, value) in table {
        groups.entry(key.to_lowercase()).or_default().push((key, value));
    }
    let mut unique = BTreeMap::new();
    let mut problems = Vec::new();
    for (lower, mut spellings) in groups {
        if spellings.len() > 1 {
            // Sorted, so messages are stable.
            let mut written: Vec<String> = spellings.into_iter().map(|(written, _)| written).collect();
            written.sort();
            problems.push(CacheError::config(
                Some(alias),
                field(&lower),
                format!(
                    "given more than once, as {}; {what} are case-insensitive, so keep one",
                    join_ticked(&written)
                ),
            ));
            continue;
        }
        unique.insert(lower, spellings.remove(0));
    }
    match CacheError::combine(problems) {
        None => Ok(unique),
        Some(error) => Err((unique, error)),
    }
}

/// Turns one normalized entry into an [`AliasConfig`], refusing unknown keys and wrong types;
/// every problem of the entry is reported at once.
fn validate(alias: &str, mut entry: Entry) -> Result<AliasConfig> {
    let mut problems: Vec<CacheError> = entry
        .iter()
        .filter(|(key, _)| !KEYS.contains(&key.as_str()))
        .map(|(_, field)| {
            error(
                alias,
                field,
                &field.written,
                format!(
                    "unknown key; the keys of an alias are {} (in any letter case)",
                    join_plain(KEYS)
                ),
            )
        })
        .collect();
    let mut take = |key: &str| {
        entry
            .remove(key)
            .filter(|field| !field.value.is_null() || key == "timeout")
    };
    let mut check = |result: Result<()>| {
        if let Err(error) = result {
            problems.push(error);
        }
    };

    let mut config = AliasConfig::new("");
    match take("backend") {
        None => check(Err(CacheError::config(
            Some(alias),
            "backend",
            "`backend` is required; e.g. backend = \"locmem\"",
        ))),
        Some(field) => check(backend(alias, field).map(|name| config.backend = name)),
    }
    if let Some(field) = take("location") {
        check(location(alias, field).map(|location| config.location = location));
    }
    if let Some(field) = take("timeout") {
        check(timeout(alias, field).map(|timeout| config.timeout = timeout));
    }
    if let Some(field) = take("key_prefix") {
        check(string(alias, "key_prefix", field, "a string").map(|prefix| config.key_prefix = prefix));
    }
    if let Some(field) = take("version") {
        check(version(alias, field).map(|version| config.version = version));
    }
    if let Some(field) = take("key_function") {
        let name = string(alias, "key_function", field, "the name of a registered key function");
        check(name.map(|name| config.key_function = Some(name)));
    }
    if let Some(field) = take("codec") {
        check(codec(alias, field).map(|codec| config.codec = codec));
    }
    if let Some(field) = take("options") {
        check(options(alias, field).map(|options| config.options = options));
    }
    CacheError::combine(problems).map_or(Ok(config), Err)
}

/// The backend's name: a string that isn't empty (an empty `CACHES__<ALIAS>__BACKEND` would
/// otherwise be reported as an unknown backend with no name, the variable unmentioned).
fn backend(alias: &str, field: Field) -> Result<String> {
    if let Value::String(name) = &field.value
        && name.trim().is_empty()
    {
        let message = "`backend` is empty; name a registered backend, e.g. backend = \"locmem\"".to_owned();
        return Err(error(alias, &field, "backend", message));
    }
    string(
        alias,
        "backend",
        field,
        "a string naming a registered backend, such as \"locmem\"",
    )
}

/// A configuration error about one field, naming the environment variable that set it, if any.
fn error(alias: &str, field: &Field, name: &str, message: String) -> CacheError {
    let message = match &field.variable {
        Some(variable) => blamed(message, variable),
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
