//! Loading the `CACHES` setting: the three formats, Django's spellings, defaults, environment
//! overrides and the application's own sections.

use std::collections::BTreeMap;

use cache_core::{AliasConfig, Backends, Caches, CachesConfig, Codec, ConfigFormat, Location, Options, Timeout};
use serde_json::json;

use ConfigFormat::{Json, Toml, Yaml};

const NO_VARS: [(&str, &str); 0] = [];

fn load(text: &str, format: ConfigFormat) -> CachesConfig {
    CachesConfig::from_str_with_env(text, format, NO_VARS).unwrap_or_else(|error| panic!("{error}"))
}

fn load_env(text: &str, format: ConfigFormat, vars: &[(&str, &str)]) -> CachesConfig {
    CachesConfig::from_str_with_env(text, format, vars.iter().copied()).unwrap_or_else(|error| panic!("{error}"))
}

fn options(value: serde_json::Value) -> Options {
    match value {
        serde_json::Value::Object(map) => Options::from_map(map),
        other => panic!("not a table: {other}"),
    }
}

const TOML: &str = r#"
[caches.default]
backend = "locmem"
location = "unique-snowflake"
timeout = 300
key_prefix = ""
version = 1
options = { max_entries = 300, cull_frequency = 3 }

[caches.component-media]
backend = "redis"
location = ["redis://127.0.0.1:6379/1", "redis://127.0.0.1:6380/1"]
timeout = "never"
key_function = "hashed"
codec = "json"

[components]
cache = "component-media"
"#;

const YAML: &str = r#"
caches:
  default:
    backend: locmem
    location: unique-snowflake
    timeout: 300
    key_prefix: ""
    version: 1
    options:
      max_entries: 300
      cull_frequency: 3
  component-media:
    backend: redis
    location:
      - redis://127.0.0.1:6379/1
      - redis://127.0.0.1:6380/1
    timeout: null
    key_function: hashed
    codec: json
components:
  cache: component-media
"#;

const JSON: &str = r#"{
  "caches": {
    "default": {
      "backend": "locmem",
      "location": "unique-snowflake",
      "timeout": 300,
      "key_prefix": "",
      "version": 1,
      "options": {"max_entries": 300, "cull_frequency": 3}
    },
    "component-media": {
      "backend": "redis",
      "location": ["redis://127.0.0.1:6379/1", "redis://127.0.0.1:6380/1"],
      "timeout": "never",
      "key_function": "hashed",
      "codec": "json"
    }
  },
  "components": {"cache": "component-media"}
}"#;

fn expected_design_example() -> BTreeMap<String, AliasConfig> {
    let default = AliasConfig {
        location: Location::One("unique-snowflake".into()),
        options: options(json!({"max_entries": 300, "cull_frequency": 3})),
        ..AliasConfig::new("locmem")
    };
    let media = AliasConfig {
        location: Location::Many(vec![
            "redis://127.0.0.1:6379/1".into(),
            "redis://127.0.0.1:6380/1".into(),
        ]),
        timeout: Timeout::Never,
        key_function: Some("hashed".into()),
        ..AliasConfig::new("redis")
    };
    BTreeMap::from([("default".to_owned(), default), ("component-media".to_owned(), media)])
}

#[test]
fn toml_yaml_and_json_of_one_config_are_equal() {
    let toml = load(TOML, Toml);
    assert_eq!(toml.aliases, expected_design_example());
    assert_eq!(load(YAML, Yaml), toml);
    assert_eq!(load(JSON, Json), toml);
}

#[test]
fn files_are_read_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let expected = load(TOML, Toml);
    for (name, text) in [
        ("caches.toml", TOML),
        ("caches.yaml", YAML),
        ("caches.yml", YAML),
        ("CACHES.YML", YAML),
        ("caches.json", JSON),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        assert_eq!(CachesConfig::load_with_env(&path, NO_VARS).unwrap(), expected, "{name}");
    }
}

#[test]
fn load_and_from_str_read_the_process_environment() {
    // Tests never set process variables; with none of ours present, the process environment
    // must change nothing.
    let ours_present = std::env::vars_os().any(|(name, _)| {
        name.to_str()
            .is_some_and(|name| name.to_ascii_uppercase().starts_with("CACHES__"))
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("caches.toml");
    std::fs::write(&path, TOML).unwrap();
    let from_file = CachesConfig::load(&path).unwrap();
    let from_text = CachesConfig::from_str(TOML, Toml).unwrap();
    if !ours_present {
        assert_eq!(from_file, load(TOML, Toml));
        assert_eq!(from_text, load(TOML, Toml));
    }
}

/// `settings.CACHES` of a Django project, dumped with `json.dumps`.
const DJANGO_CACHES: &str = r#"{
  "CACHES": {
    "default": {
      "BACKEND": "django.core.cache.backends.dummy.DummyCache",
      "LOCATION": "unique-snowflake",
      "TIMEOUT": 60,
      "KEY_PREFIX": "site",
      "VERSION": 2,
      "KEY_FUNCTION": null,
      "OPTIONS": {}
    },
    "sessions": {
      "BACKEND": "django.core.cache.backends.dummy.DummyCache",
      "LOCATION": "a;b,c",
      "TIMEOUT": null
    }
  }
}"#;

#[test]
fn a_django_caches_dict_dumped_to_json_loads_and_builds() {
    let config = load(DJANGO_CACHES, Json);
    assert_eq!(
        config.aliases["default"],
        AliasConfig {
            location: Location::One("unique-snowflake".into()),
            timeout: Timeout::Seconds(60.0),
            key_prefix: "site".into(),
            version: 2,
            ..AliasConfig::new("django.core.cache.backends.dummy.DummyCache")
        }
    );
    let sessions = &config.aliases["sessions"];
    assert_eq!(sessions.timeout, Timeout::Never);
    assert_eq!(sessions.location.servers(), ["a", "b", "c"]);

    let caches = Caches::build(&config, &Backends::new()).unwrap();
    let default = caches.default_cache();
    assert_eq!(default.make_key("k", None), "site:2:k");
    assert_eq!(default.options().timeout(), Timeout::Seconds(60.0));
    assert_eq!(caches.get("sessions").unwrap().options().timeout(), Timeout::Never);
}

#[test]
fn only_backend_is_required_and_the_rest_takes_django_defaults() {
    let config = load("[caches.default]\nbackend = \"dummy\"\n", Toml);
    assert_eq!(config.aliases["default"], AliasConfig::new("dummy"));
    assert_eq!(AliasConfig::new("dummy").timeout, Timeout::Seconds(300.0));
    assert_eq!(AliasConfig::new("dummy").version, 1);
    assert_eq!(AliasConfig::new("dummy").codec, Codec::Json);
}

#[test]
fn null_means_not_given_except_for_timeout() {
    let config = load(
        r#"{"caches": {"default": {"backend": "dummy", "location": null, "key_prefix": null,
            "version": null, "key_function": null, "codec": null, "options": null, "timeout": null}}}"#,
        Json,
    );
    assert_eq!(
        config.aliases["default"],
        AliasConfig {
            timeout: Timeout::Never,
            ..AliasConfig::new("dummy")
        }
    );
}

#[test]
fn timeouts_keep_fractions_and_accept_numeric_strings() {
    // Django's int() would make 1.9 into 1 and "0.5" into 300; we keep what was written.
    for (written, expected) in [
        ("1.9", Timeout::Seconds(1.9)),
        ("0", Timeout::Seconds(0.0)),
        ("-1", Timeout::Seconds(-1.0)),
        ("\"60\"", Timeout::Seconds(60.0)),
        ("\"0.5\"", Timeout::Seconds(0.5)),
        ("\"never\"", Timeout::Never),
        ("\"NEVER\"", Timeout::Never),
        ("31536000", Timeout::Seconds(31_536_000.0)),
    ] {
        let config = load(
            &format!("[caches.default]\nbackend = \"dummy\"\ntimeout = {written}\n"),
            Toml,
        );
        assert_eq!(config.aliases["default"].timeout, expected, "timeout = {written}");
    }
}

#[test]
fn keys_and_option_names_are_case_insensitive() {
    let config = load(
        "caches:\n  default:\n    Backend: locmem\n    Timeout: 5\n    OPTIONS:\n      MAX_ENTRIES: 30\n      Cull_Frequency: 0\n",
        Yaml,
    );
    let default = &config.aliases["default"];
    assert_eq!(default.backend, "locmem");
    assert_eq!(default.timeout, Timeout::Seconds(5.0));
    assert_eq!(
        default.options,
        options(json!({"max_entries": 30, "cull_frequency": 0}))
    );
}

#[test]
fn alias_names_are_kept_as_written() {
    let config = load(
        "[caches.Default]\nbackend = \"dummy\"\n[caches.\"my.alias\"]\nbackend = \"dummy\"\n",
        Toml,
    );
    assert_eq!(config.aliases.keys().collect::<Vec<_>>(), ["Default", "my.alias"]);
}

#[test]
fn an_option_table_keeps_nested_values_as_written() {
    let config = load(
        "[caches.default]\nbackend = \"memcached\"\n[caches.default.OPTIONS]\nbinary = true\nbehaviors = { TCP_NODELAY = true }\n",
        Toml,
    );
    assert_eq!(
        config.aliases["default"].options,
        options(json!({"binary": true, "behaviors": {"TCP_NODELAY": true}}))
    );
}

// ---- environment overrides ----

const BASE: &str = r#"
[caches.default]
backend = "locmem"
options = { max_entries = 300 }

[caches.component-media]
backend = "redis"
location = "redis://127.0.0.1:6379/1"
"#;

#[test]
fn a_variable_addresses_a_dashed_alias_with_underscores() {
    let config = load_env(BASE, Toml, &[("CACHES__COMPONENT_MEDIA__TIMEOUT", "60")]);
    assert_eq!(config.aliases["component-media"].timeout, Timeout::Seconds(60.0));
    assert_eq!(config.aliases.len(), 2, "no alias `component_media` was created");
}

#[test]
fn variable_names_ignore_case() {
    let config = load_env(BASE, Toml, &[("caches__Default__timeout", "never")]);
    assert_eq!(config.aliases["default"].timeout, Timeout::Never);
}

#[test]
fn options_are_overridden_one_by_one() {
    let config = load_env(
        BASE,
        Toml,
        &[
            ("CACHES__DEFAULT__OPTIONS__MAX_ENTRIES", "1000"),
            ("CACHES__DEFAULT__OPTIONS__CULL_FREQUENCY", "0"),
            ("CACHES__COMPONENT_MEDIA__OPTIONS__RETRY_ON_TIMEOUT", "true"),
            ("CACHES__COMPONENT_MEDIA__OPTIONS__PASSWORD", "s3cret"),
        ],
    );
    assert_eq!(
        config.aliases["default"].options,
        options(json!({"max_entries": 1000, "cull_frequency": 0}))
    );
    assert_eq!(
        config.aliases["component-media"].options,
        options(json!({"retry_on_timeout": true, "password": "s3cret"}))
    );
}

#[test]
fn a_whole_options_table_is_replaced_before_single_options_apply() {
    // Lower-case sorts after upper-case, so the single option comes first in name order; it is
    // still applied after the table it adjusts.
    let config = load_env(
        BASE,
        Toml,
        &[
            ("CACHES__DEFAULT__OPTIONS__cull_frequency", "2"),
            ("CACHES__DEFAULT__OPTIONS", r#"{"MAX_ENTRIES": 5}"#),
        ],
    );
    assert_eq!(
        config.aliases["default"].options,
        options(json!({"max_entries": 5, "cull_frequency": 2}))
    );
}

#[test]
fn values_are_json_when_they_are_json() {
    let config = load_env(
        BASE,
        Toml,
        &[
            ("CACHES__DEFAULT__TIMEOUT", "null"),
            ("CACHES__DEFAULT__VERSION", "3"),
            (
                "CACHES__COMPONENT_MEDIA__LOCATION",
                r#"["redis://a:6379/0", "redis://b:6379/0"]"#,
            ),
            ("CACHES__COMPONENT_MEDIA__TIMEOUT", "0.5"),
        ],
    );
    let default = &config.aliases["default"];
    assert_eq!(default.timeout, Timeout::Never);
    assert_eq!(default.version, 3);
    let media = &config.aliases["component-media"];
    assert_eq!(
        media.location,
        Location::Many(vec!["redis://a:6379/0".into(), "redis://b:6379/0".into()])
    );
    assert_eq!(media.timeout, Timeout::Seconds(0.5));
}

#[test]
fn string_fields_take_the_text_as_written() {
    let config = load_env(
        BASE,
        Toml,
        &[
            ("CACHES__DEFAULT__KEY_PREFIX", "123"),
            ("CACHES__DEFAULT__KEY_FUNCTION", "true"),
            ("CACHES__DEFAULT__LOCATION", "42"),
            ("CACHES__COMPONENT_MEDIA__LOCATION", "redis://127.0.0.1:6380/2"),
            ("CACHES__COMPONENT_MEDIA__BACKEND", "dummy"),
        ],
    );
    let default = &config.aliases["default"];
    assert_eq!(default.key_prefix, "123");
    assert_eq!(default.key_function.as_deref(), Some("true"));
    assert_eq!(default.location, Location::One("42".into()));
    let media = &config.aliases["component-media"];
    assert_eq!(media.location, Location::One("redis://127.0.0.1:6380/2".into()));
    assert_eq!(media.backend, "dummy");
}

#[test]
fn a_variable_for_an_unknown_alias_creates_it() {
    let config = load_env(
        BASE,
        Toml,
        &[
            ("CACHES__SESSIONS__BACKEND", "dummy"),
            ("caches__sessions__timeout", "3600"),
            ("CACHES__SESSIONS__OPTIONS__X", "1"),
        ],
    );
    assert_eq!(
        config.aliases["sessions"],
        AliasConfig {
            timeout: Timeout::Seconds(3600.0),
            options: options(json!({"x": 1})),
            ..AliasConfig::new("dummy")
        }
    );
}

#[test]
fn variables_alone_can_define_every_alias() {
    let config = load_env("", Toml, &[("CACHES__DEFAULT__BACKEND", "dummy")]);
    assert_eq!(config.aliases["default"], AliasConfig::new("dummy"));
    Caches::build(&config, &Backends::new()).unwrap();
}

#[test]
fn other_variables_are_ignored() {
    let config = load_env(
        BASE,
        Toml,
        &[
            ("CACHES_DEFAULT_TIMEOUT", "1"),
            ("CACHES", "x"),
            ("COMPONENTS__CACHE", "default"),
            ("PATH", "/usr/bin"),
        ],
    );
    assert_eq!(config, load(BASE, Toml));
}

#[test]
fn an_override_replaces_a_value_written_in_upper_case() {
    let config = load_env(
        "[caches.default]\nBACKEND = \"locmem\"\nTIMEOUT = 10\nOPTIONS = { MAX_ENTRIES = 1 }\n",
        Toml,
        &[
            ("CACHES__DEFAULT__TIMEOUT", "20"),
            ("CACHES__DEFAULT__OPTIONS__MAX_ENTRIES", "2"),
        ],
    );
    let default = &config.aliases["default"];
    assert_eq!(default.timeout, Timeout::Seconds(20.0));
    assert_eq!(default.options, options(json!({"max_entries": 2})));
}

// ---- other sections ----

#[derive(Debug, PartialEq, serde::Deserialize)]
struct Components {
    cache: String,
}

#[test]
fn other_sections_are_kept_for_the_application() {
    let config = load(TOML, Toml);
    assert_eq!(
        config.section::<Components>("components").unwrap(),
        Some(Components {
            cache: "component-media".into()
        })
    );
    assert_eq!(config.section::<Components>("absent").unwrap(), None);
    assert_eq!(config.section::<serde_json::Value>("caches").unwrap(), None);
    for text in [YAML, JSON] {
        let format = if text == YAML { Yaml } else { Json };
        assert_eq!(
            load(text, format).section::<Components>("components").unwrap(),
            Some(Components {
                cache: "component-media".into()
            })
        );
    }
}

#[test]
fn a_section_is_found_in_any_letter_case() {
    let config = load(
        r#"{"CACHES": {"default": {"BACKEND": "dummy"}}, "COMPONENTS": {"cache": "default"}}"#,
        Json,
    );
    assert_eq!(
        config.section::<Components>("components").unwrap(),
        Some(Components {
            cache: "default".into()
        })
    );
}

/// What `json.dump(settings.CACHES)` writes: the alias mapping itself, no `caches` around it.
const DUMPED_CACHES: &str = r#"{
  "default": {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "unique-snowflake",
    "OPTIONS": {"MAX_ENTRIES": 1000}
  },
  "sessions": {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": ["redis://127.0.0.1:6379/1", "redis://127.0.0.1:6380/1"],
    "TIMEOUT": null
  }
}"#;

#[test]
fn a_file_holding_only_the_alias_mapping_loads_like_the_caches_section() {
    let dumped = load(DUMPED_CACHES, Json);
    let wrapped = load(&format!("{{\"CACHES\": {DUMPED_CACHES}}}"), Json);
    assert_eq!(dumped, wrapped);
    assert_eq!(
        dumped.aliases["default"],
        AliasConfig {
            location: Location::One("unique-snowflake".into()),
            options: options(json!({"max_entries": 1000})),
            ..AliasConfig::new("django.core.cache.backends.locmem.LocMemCache")
        }
    );
    assert_eq!(dumped.aliases["sessions"].timeout, Timeout::Never);
    // The same mapping in YAML and TOML.
    let yaml = load(
        "default:\n  BACKEND: dummy\nsessions:\n  BACKEND: dummy\n  TIMEOUT: 60\n",
        Yaml,
    );
    let toml = load(
        "[default]\nBACKEND = \"dummy\"\n[sessions]\nBACKEND = \"dummy\"\nTIMEOUT = 60\n",
        Toml,
    );
    assert_eq!(yaml, toml);
    assert_eq!(toml.aliases["sessions"].timeout, Timeout::Seconds(60.0));
    // Environment overrides address its aliases as they do a `caches` section's.
    let overridden = load_env(DUMPED_CACHES, Json, &[("CACHES__SESSIONS__TIMEOUT", "5")]);
    assert_eq!(overridden.aliases["sessions"].timeout, Timeout::Seconds(5.0));
    // Nothing of the file is left over as an application section.
    assert_eq!(dumped.section::<serde_json::Value>("default").unwrap(), None);
}
