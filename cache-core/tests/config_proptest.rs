//! Loading never panics: whatever the text and whatever the environment, the answer is `Ok` or
//! an `Err` with a message. Building the loaded configuration doesn't panic either.

use cache_core::{Backends, Caches, CachesConfig, ConfigFormat};
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

const NO_VARS: [(&str, &str); 0] = [];

fn format() -> impl Strategy<Value = ConfigFormat> {
    prop_oneof![
        Just(ConfigFormat::Toml),
        Just(ConfigFormat::Yaml),
        Just(ConfigFormat::Json)
    ]
}

/// Loads, and builds what loaded; any panic fails the property.
fn load_and_build(text: &str, format: ConfigFormat, vars: &[(String, String)]) {
    if let Ok(config) = CachesConfig::from_str_with_env(text, format, vars.iter().cloned()) {
        let _ = Caches::build(&config, &Backends::new());
        let _ = config.section::<Value>("components");
    }
}

/// Text made of the pieces config files are made of, so parsers get past the first byte.
fn config_like_text() -> impl Strategy<Value = String> {
    const PIECES: &[&str] = &[
        "[",
        "]",
        "[[",
        "]]",
        "{",
        "}",
        "=",
        ":",
        ",",
        ".",
        "\"",
        "'",
        "\n",
        "\n  ",
        " ",
        "-",
        "- ",
        "---",
        "#",
        "caches",
        "CACHES",
        "default",
        "component-media",
        "backend",
        "BACKEND",
        "dummy",
        "timeout",
        "TIMEOUT",
        "options",
        "OPTIONS",
        "max_entries",
        "location",
        "version",
        "key_prefix",
        "key_function",
        "codec",
        "never",
        "null",
        "~",
        "true",
        "60",
        "-1",
        "1.5",
        "1e400",
        "inf",
        "nan",
        ".inf",
        "0x10",
        "1_000",
        "1979-05-27T07:32:00Z",
        "&a",
        "*a",
        "!!str",
        "a[99999999999]",
        "\\u0000",
        "é",
    ];
    prop::collection::vec(prop::sample::select(PIECES), 0..60).prop_map(|pieces| pieces.concat())
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(&["never", "NEVER", "60", "0.5", "abc", "1.5x", "dummy", "json", "v", ""][..])
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(
            &[
                "backend",
                "BACKEND",
                "location",
                "LOCATION",
                "timeout",
                "TIMEOUT",
                "Timeout",
                "key_prefix",
                "KEY_PREFIX",
                "version",
                "VERSION",
                "key_function",
                "codec",
                "options",
                "OPTIONS",
                "max_entries",
                "MAX_ENTRIES",
                "default",
                "caches",
                "CACHES",
            ][..]
        )
        .prop_map(str::to_owned),
        "[a-zA-Z_.\\-]{0,8}",
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..5).prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A document shaped like a configuration: a `caches` table of entries with real and unknown
/// keys holding any values, next to another section.
fn config_tree() -> impl Strategy<Value = Value> {
    let entry = prop_oneof![
        4 => prop::collection::btree_map(key(), value(), 0..7)
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        1 => value(),
    ];
    let caches = prop_oneof![
        4 => prop::collection::btree_map(key(), entry, 0..4)
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        1 => value(),
    ];
    (key(), caches, value(), any::<bool>()).prop_map(|(caches_key, caches, other, top_level)| {
        // Half the documents are Django's `CACHES` mapping itself (`json.dump(settings.CACHES)`),
        // sometimes with a stray section beside it.
        if top_level && let Value::Object(aliases) = caches {
            let mut top = aliases;
            if other.is_object() {
                top.insert("components".to_owned(), other);
            }
            return Value::Object(top);
        }
        let mut top = Map::new();
        top.insert(caches_key, caches);
        top.insert("components".to_owned(), other);
        Value::Object(top)
    })
}

fn env_vars() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![
        3 => "(?i)caches(__(default|component[-_]media|sessions|options|timeout|backend|location|version|key_prefix|key_function|codec|max_entries|[a-z_-]{0,5})){0,4}_{0,2}",
        1 => ".{0,20}",
    ];
    let value = prop_oneof![
        3 => prop::sample::select(
            &[
                "60", "null", "never", "[\"a\",\"b\"]", "[1]", "true", "{\"max_entries\":5}", "{\"A\":1,\"a\":2}",
                "-1", "1e400", "dummy", "", "{", "\"quoted\"",
            ][..]
        )
        .prop_map(str::to_owned),
        1 => ".{0,16}",
    ];
    prop::collection::vec((name, value), 0..6)
}

const BASE: &str = "[caches.default]\nbackend = \"dummy\"\n\n[caches.component-media]\nbackend = \"dummy\"\n";

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}", format in format()) {
        load_and_build(&text, format, &[]);
    }

    #[test]
    fn config_like_text_never_panics(text in config_like_text(), format in format()) {
        load_and_build(&text, format, &[]);
    }

    #[test]
    fn config_shaped_documents_never_panic(tree in config_tree()) {
        let json = serde_json::to_string(&tree).unwrap();
        // JSON is also YAML, so one document exercises two parsers.
        load_and_build(&json, ConfigFormat::Json, &[]);
        load_and_build(&json, ConfigFormat::Yaml, &[]);
    }

    #[test]
    fn arbitrary_environments_never_panic(vars in env_vars(), tree in config_tree()) {
        load_and_build(BASE, ConfigFormat::Toml, &vars);
        load_and_build("", ConfigFormat::Toml, &vars);
        load_and_build(&serde_json::to_string(&tree).unwrap(), ConfigFormat::Json, &vars);
    }

    #[test]
    fn a_top_level_mapping_loads_as_its_caches_section(aliases in prop::collection::btree_map(key(), prop::collection::btree_map(key(), value(), 0..7), 0..4)) {
        // Whatever the entries, the mapping alone and the mapping under `caches` give the same
        // answer, as long as the mapping is read as one (an entry with a `backend`).
        let aliases: Map<String, Value> = aliases
            .into_iter()
            .map(|(alias, fields)| (alias, Value::Object(fields.into_iter().collect())))
            .collect();
        let is_mapping = aliases
            .values()
            .any(|entry| entry.as_object().is_some_and(|fields| fields.keys().any(|k| k.eq_ignore_ascii_case("backend"))));
        // An alias named `caches` would be read as the section itself.
        let has_caches_key = aliases.keys().any(|alias| alias.eq_ignore_ascii_case("caches"));
        let alone_text = serde_json::to_string(&Value::Object(aliases.clone())).unwrap();
        let wrapped = serde_json::to_string(&serde_json::json!({ "caches": aliases })).unwrap();
        let alone = CachesConfig::from_str_with_env(&alone_text, ConfigFormat::Json, NO_VARS);
        let wrapped = CachesConfig::from_str_with_env(&wrapped, ConfigFormat::Json, NO_VARS);
        if is_mapping && !has_caches_key {
            match (alone, wrapped) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                (Err(_), Err(_)) => {}
                (a, b) => prop_assert!(false, "{:?} vs {:?}", a.map(drop), b.map(drop)),
            }
        }
    }

    #[test]
    fn loading_is_deterministic(vars in env_vars()) {
        // The process environment has no order; the result must not depend on it.
        let forward = CachesConfig::from_str_with_env(BASE, ConfigFormat::Toml, vars.iter().cloned());
        let backward = CachesConfig::from_str_with_env(BASE, ConfigFormat::Toml, vars.iter().rev().cloned());
        match (forward, backward) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
            (a, b) => prop_assert!(false, "{:?} vs {:?}", a.map(drop), b.map(drop)),
        }
    }
}

#[test]
fn a_path_like_top_level_key_is_just_a_key() {
    // The config crate's builder would expand this into a 10^11-element array.
    let config = CachesConfig::from_str_with_env(
        r#"{"caches": {"default": {"backend": "dummy"}}, "a[99999999999]": 1, "b.c": 2}"#,
        ConfigFormat::Json,
        NO_VARS,
    )
    .unwrap();
    assert_eq!(config.section::<i64>("a[99999999999]").unwrap(), Some(1));
    assert_eq!(config.section::<i64>("b.c").unwrap(), Some(2));
}

#[test]
fn the_first_malformed_variable_reported_does_not_depend_on_order() {
    // Found by `loading_is_deterministic`: shape errors were reported in the order given.
    let vars = [("cAcheS__dEfAULt__tImeouT__deFaulT", "60"), ("caches__DEfAulT", "60")];
    let forward = CachesConfig::from_str_with_env(BASE, ConfigFormat::Toml, vars);
    let backward = CachesConfig::from_str_with_env(BASE, ConfigFormat::Toml, vars.into_iter().rev());
    assert_eq!(forward.unwrap_err().to_string(), backward.unwrap_err().to_string());
}
