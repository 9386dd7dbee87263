//! Malformed configurations, each with the exact message a user sees.
//!
//! The messages are part of the interface: each names the alias, the field and the fix, so a
//! change to one is a change users notice and this table is where it shows.

use std::path::Path;

use cache_core::{Backends, Caches, CachesConfig, ConfigFormat};

use ConfigFormat::{Json, Toml, Yaml};

/// How a case is run.
enum Step {
    /// `CachesConfig::from_str_with_env` with no variables.
    Load(ConfigFormat),
    /// Load, then `Caches::build` with `Backends::new()` (only `dummy` registered).
    Build(ConfigFormat),
    /// Load with these environment variables.
    Env(ConfigFormat, &'static [(&'static str, &'static str)]),
    /// Load with these environment variables, then build with `Backends::new()`.
    BuildEnv(ConfigFormat, &'static [(&'static str, &'static str)]),
    /// Write the text to a file of this name in a temporary directory and `load_with_env` it;
    /// `{dir}` in the expected message stands for that directory.
    File(&'static str),
    /// `load_with_env` a file of this name that doesn't exist.
    NoFile(&'static str),
}

struct Case {
    name: &'static str,
    step: Step,
    text: &'static str,
    expected: &'static str,
}

const NO_VARS: [(&str, &str); 0] = [];

fn run(case: &Case, dir: &Path) -> String {
    let result = match case.step {
        Step::Load(format) => CachesConfig::from_str_with_env(case.text, format, NO_VARS).map(drop),
        Step::Build(format) => CachesConfig::from_str_with_env(case.text, format, NO_VARS)
            .and_then(|config| Caches::build(&config, &Backends::new()))
            .map(drop),
        Step::Env(format, vars) => CachesConfig::from_str_with_env(case.text, format, vars.iter().copied()).map(drop),
        Step::BuildEnv(format, vars) => CachesConfig::from_str_with_env(case.text, format, vars.iter().copied())
            .and_then(|config| Caches::build(&config, &Backends::new()))
            .map(drop),
        Step::File(name) => {
            let path = dir.join(name);
            std::fs::write(&path, case.text).unwrap();
            CachesConfig::load_with_env(&path, NO_VARS).map(drop)
        }
        Step::NoFile(name) => CachesConfig::load_with_env(dir.join(name), NO_VARS).map(drop),
    };
    match result {
        Ok(()) => format!("<no error from case `{}`>", case.name),
        Err(error) => error.to_string(),
    }
}

const CASES: &[Case] = &[
    Case {
        name: "unknown backend",
        step: Step::Build(Toml),
        text: "[caches.default]\nbackend = \"redis\"\n",
        expected: "cache alias `default`: unknown backend `redis`; registered backends are: \
                   django.core.cache.backends.dummy.DummyCache, dummy. Register the backend crate's factory with \
                   `Backends::register` or fix the name",
    },
    Case {
        name: "unknown key in an entry",
        step: Step::Load(Yaml),
        text: "caches:\n  default:\n    backend: dummy\n    TIMOUT: 5\n",
        expected: "cache alias `default`: TIMOUT: unknown key; the keys of an alias are backend, location, timeout, \
                   key_prefix, version, key_function, codec and options (in any letter case)",
    },
    Case {
        name: "Django's legacy top-level max_entries is an unknown key",
        step: Step::Load(Json),
        text: r#"{"caches": {"default": {"BACKEND": "dummy", "max_entries": 5}}}"#,
        expected: "cache alias `default`: max_entries: unknown key; the keys of an alias are backend, location, \
                   timeout, key_prefix, version, key_function, codec and options (in any letter case)",
    },
    Case {
        name: "unknown option (the dummy backend takes none)",
        step: Step::Build(Json),
        text: r#"{"caches": {"default": {"BACKEND": "dummy", "OPTIONS": {"MAX_ENTRIES": 30}}}}"#,
        expected: "cache alias `default`: options.max_entries: unknown option; this backend takes no options (every alias accepts `ignore_exceptions`)",
    },
    Case {
        name: "timeout = true",
        step: Step::Load(Toml),
        text: "[caches.default]\nbackend = \"dummy\"\ntimeout = true\n",
        expected: "cache alias `default`: timeout: expected a number of seconds (such as 300 or 0.5), \"never\" or \
                   null, found true",
    },
    Case {
        name: "timeout = \"1.5x\"",
        step: Step::Load(Toml),
        text: "[caches.default]\nbackend = \"dummy\"\ntimeout = \"1.5x\"\n",
        expected: "cache alias `default`: timeout: expected a number of seconds (such as 300 or 0.5), \"never\" or \
                   null, found the string \"1.5x\"",
    },
    Case {
        name: "timeout = \"abc\" (Django falls back to 300)",
        step: Step::Load(Json),
        text: r#"{"caches": {"default": {"backend": "dummy", "TIMEOUT": "abc"}}}"#,
        expected: "cache alias `default`: timeout: expected a number of seconds (such as 300 or 0.5), \"never\" or \
                   null, found the string \"abc\"",
    },
    Case {
        name: "timeout = inf",
        step: Step::Load(Toml),
        text: "[caches.default]\nbackend = \"dummy\"\ntimeout = inf\n",
        expected: "caches.default.timeout: the number `inf` can't be used (infinities and NaN aren't supported); \
                   for a timeout that never expires write \"never\"",
    },
    Case {
        name: "version = \"v\"",
        step: Step::Load(Yaml),
        text: "caches:\n  default:\n    BACKEND: dummy\n    VERSION: v\n",
        expected: "cache alias `default`: version: expected an integer, found the string \"v\"; Django accepts a \
                   string VERSION but then fails to increment it, so write a number",
    },
    Case {
        name: "version = 1.5",
        step: Step::Load(Toml),
        text: "[caches.default]\nbackend = \"dummy\"\nversion = 1.5\n",
        expected: "cache alias `default`: version: expected an integer, found 1.5",
    },
    Case {
        name: "location = 5",
        step: Step::Load(Json),
        text: r#"{"caches": {"default": {"backend": "dummy", "location": 5}}}"#,
        expected: "cache alias `default`: location: expected a string or a list of strings, found 5",
    },
    Case {
        name: "a location list holding a number",
        step: Step::Load(Yaml),
        text: "caches:\n  default:\n    backend: dummy\n    location:\n      - redis://a\n      - 6379\n",
        expected: "cache alias `default`: location: expected a string or a list of strings, found a list whose item \
                   1 is 6379",
    },
    Case {
        name: "key_prefix = 3",
        step: Step::Load(Toml),
        text: "[caches.default]\nbackend = \"dummy\"\nkey_prefix = 3\n",
        expected: "cache alias `default`: key_prefix: expected a string, found 3",
    },
    Case {
        name: "backend = 5",
        step: Step::Load(Toml),
        text: "[caches.default]\nbackend = 5\n",
        expected: "cache alias `default`: backend: expected a string naming a registered backend, such as \
                   \"locmem\", found 5",
    },
    Case {
        name: "options = \"fast\"",
        step: Step::Load(Toml),
        text: "[caches.default]\nbackend = \"dummy\"\noptions = \"fast\"\n",
        expected: "cache alias `default`: options: expected a table of backend options, found the string \"fast\"",
    },
    Case {
        name: "missing default",
        step: Step::Build(Toml),
        text: "[caches.other]\nbackend = \"dummy\"\n",
        expected: "caches.default: you must define a 'default' cache in the `caches` section",
    },
    Case {
        name: "missing backend",
        step: Step::Load(Yaml),
        text: "caches:\n  default:\n    location: here\n",
        expected: "cache alias `default`: backend: `backend` is required; e.g. backend = \"locmem\"",
    },
    Case {
        name: "a null backend is a missing one",
        step: Step::Load(Json),
        text: r#"{"caches": {"default": {"backend": null}}}"#,
        expected: "cache alias `default`: backend: `backend` is required; e.g. backend = \"locmem\"",
    },
    Case {
        name: "unknown codec",
        step: Step::Load(Yaml),
        text: "caches:\n  default:\n    backend: dummy\n    codec: msgpack\n",
        expected: "cache alias `default`: codec: unknown codec `msgpack`; known codecs are: json",
    },
    Case {
        name: "unknown key_function",
        step: Step::Build(Toml),
        text: "[caches.default]\nbackend = \"dummy\"\nkey_function = \"myapp.keys.make_key\"\n",
        expected: "cache alias `default`: key_function: no key function named `myapp.keys.make_key` is registered \
                   (known: default); register it with `Backends::key_function`",
    },
    Case {
        name: "timeout and TIMEOUT",
        step: Step::Load(Json),
        text: r#"{"caches": {"default": {"backend": "dummy", "timeout": 20, "TIMEOUT": 10}}}"#,
        expected: "cache alias `default`: timeout: given more than once, as `TIMEOUT` and `timeout`; keys are \
                   case-insensitive, so keep one",
    },
    Case {
        name: "MAX_ENTRIES and max_entries in options",
        step: Step::Load(Toml),
        text: "[caches.default]\nbackend = \"dummy\"\noptions = { MAX_ENTRIES = 5, max_entries = 50 }\n",
        expected: "cache alias `default`: options.max_entries: given more than once, as `MAX_ENTRIES` and \
                   `max_entries`; option names are case-insensitive, so keep one",
    },
    Case {
        name: "missing caches section",
        step: Step::Load(Toml),
        text: "[components]\ncache = \"default\"\n",
        expected: "caches: the `caches` section is missing; it holds one table per alias and the `default` alias \
                   is required, e.g. `[caches.default]` with `backend = \"locmem\"` (a file holding only Django's `CACHES` \
                   mapping, as `json.dump(settings.CACHES)` writes it, loads too)",
    },
    Case {
        name: "caches given as a list",
        step: Step::Load(Json),
        text: r#"{"caches": [{"backend": "dummy"}]}"#,
        expected: "caches: expected a table with one entry per alias, such as `[caches.default]`, found a list",
    },
    Case {
        name: "caches and CACHES",
        step: Step::Load(Json),
        text: r#"{"caches": {}, "CACHES": {}}"#,
        expected: "caches: the section is given more than once, as `CACHES` and `caches`; section names are \
                   case-insensitive, so keep one",
    },
    Case {
        name: "an alias entry that is a string",
        step: Step::Load(Yaml),
        text: "caches:\n  default: locmem\n",
        expected: "caches.default: expected a table of settings such as `backend = \"locmem\"`, found the string \
                   \"locmem\"",
    },
    Case {
        name: "TOML syntax error",
        step: Step::Load(Toml),
        text: "[caches.default\nbackend = \"dummy\"\n",
        expected: "(config text): can't parse it as TOML: TOML parse error at line 1, column 16\n  |\n1 | \
                   [caches.default\n  |                ^\nunclosed table, expected `]`",
    },
    Case {
        name: "JSON syntax error",
        step: Step::Load(Json),
        text: r#"{"caches": {"default": {"backend": "dummy",}}}"#,
        expected: "(config text): can't parse it as JSON: trailing comma at line 1 column 44",
    },
    Case {
        name: "YAML whose top level is a list",
        step: Step::Load(Yaml),
        text: "- caches\n",
        expected: "(config text): can't parse it as YAML: invalid type: sequence, expected a map",
    },
    Case {
        name: "syntax error in a file names the file",
        step: Step::File("caches.yaml"),
        text: "caches: [default\n",
        expected: "{dir}/caches.yaml: can't parse it as YAML: while parsing a flow sequence, expected ',' or ']' \
                   at byte 17 line 2 column 1",
    },
    Case {
        name: "unknown file extension",
        step: Step::File("caches.ini"),
        text: "[caches.default]\nbackend = dummy\n",
        expected: "{dir}/caches.ini: unknown configuration file extension `.ini`; name the file *.toml, *.yaml, \
                   *.yml or *.json",
    },
    Case {
        name: "no file extension",
        step: Step::File("caches"),
        text: "[caches.default]\nbackend = \"dummy\"\n",
        expected: "{dir}/caches: the file name has no extension, so its format is unknown; name the file *.toml, \
                   *.yaml, *.yml or *.json",
    },
    Case {
        name: "missing file",
        step: Step::NoFile("missing.toml"),
        text: "",
        expected: "{dir}/missing.toml: can't read the configuration file: No such file or directory (os error 2); \
                   check the path (a relative path is resolved from the current directory)",
    },
    Case {
        name: "an environment variable of the wrong shape",
        step: Step::Env(Toml, &[("CACHES__DEFAULT", "dummy")]),
        text: "[caches.default]\nbackend = \"dummy\"\n",
        expected: "CACHES__DEFAULT: expected CACHES__<ALIAS>__<FIELD> or CACHES__<ALIAS>__OPTIONS__<NAME> (write a \
                   `-` in an alias name as `_`)",
    },
    Case {
        name: "a bad value from an environment variable names the variable",
        step: Step::Env(Toml, &[("CACHES__DEFAULT__TIMEOUT", "5 minutes")]),
        text: "[caches.default]\nbackend = \"dummy\"\n",
        expected: "cache alias `default`: timeout: expected a number of seconds (such as 300 or 0.5), \"never\" or \
                   null, found the string \"5 minutes\" (set by the environment variable `CACHES__DEFAULT__TIMEOUT`)",
    },
    Case {
        name: "an unknown field from an environment variable",
        step: Step::Env(Toml, &[("CACHES__DEFAULT__TIMOUT", "5")]),
        text: "[caches.default]\nbackend = \"dummy\"\n",
        expected: "cache alias `default`: timout: unknown key; the keys of an alias are backend, location, timeout, \
                   key_prefix, version, key_function, codec and options (in any letter case) (set by the environment \
                   variable `CACHES__DEFAULT__TIMOUT`)",
    },
    Case {
        name: "two variables for one field",
        step: Step::Env(
            Toml,
            &[("caches__default__timeout", "5"), ("CACHES__DEFAULT__TIMEOUT", "6")],
        ),
        text: "[caches.default]\nbackend = \"dummy\"\n",
        expected: "cache alias `default`: timeout: set by two environment variables, `CACHES__DEFAULT__TIMEOUT` and \
                   `caches__default__timeout`; keep one",
    },
    Case {
        name: "a variable matching two aliases",
        step: Step::Env(Toml, &[("CACHES__A_B__TIMEOUT", "5")]),
        text: "[caches.a-b]\nbackend = \"dummy\"\n[caches.a_b]\nbackend = \"dummy\"\n",
        expected: "CACHES__A_B__TIMEOUT: the variable matches the aliases `a-b` and `a_b`; variable names ignore case \
                   and treat `-` as `_`, so rename one of the aliases",
    },
    Case {
        name: "an alias created by a variable still needs a backend",
        step: Step::Env(Toml, &[("CACHES__SESSIONS__TIMEOUT", "60")]),
        text: "[caches.default]\nbackend = \"dummy\"\n",
        expected: "cache alias `sessions`: backend: `backend` is required; e.g. backend = \"locmem\"",
    },
    Case {
        name: "a top-level alias mapping beside another section",
        step: Step::Load(Json),
        text: r#"{"default": {"BACKEND": "dummy"}, "components": {"cache": "default"}}"#,
        expected: "components: the file has no `caches` section, so its top level is read as Django's `CACHES` \
                   mapping (as `json.dump(settings.CACHES)` writes it), `default` being an alias with a `backend`; \
                   `components` has no `backend`: give it one, or put the aliases under a `caches` section to keep \
                   other sections beside them",
    },
    Case {
        name: "a key repeated in a JSON file (serde_json would keep the last)",
        step: Step::Load(Json),
        text: r#"{"caches": {"default": {"backend": "dummy"}, "default": {"backend": "locmem"}}}"#,
        expected: "(config text): can't parse it as JSON: the key `default` is given twice in one table (keep one) \
                   at line 1 column 54",
    },
    Case {
        name: "a key repeated in a top-level JSON mapping",
        step: Step::Load(Json),
        text: r#"{"default": {"BACKEND": "dummy", "TIMEOUT": 1, "TIMEOUT": 2}}"#,
        expected: "(config text): can't parse it as JSON: the key `TIMEOUT` is given twice in one table (keep one) \
                   at line 1 column 56",
    },
    Case {
        name: "every problem of every alias at once",
        step: Step::Load(Yaml),
        text: "caches:\n  default:\n    backend: dummy\n    TIMOUT: 5\n    version: v\n  other:\n    timeout: x\n",
        expected: "4 problems in the cache configuration:\n\
                   - cache alias `default`: TIMOUT: unknown key; the keys of an alias are backend, location, timeout, \
                   key_prefix, version, key_function, codec and options (in any letter case)\n\
                   - cache alias `default`: version: expected an integer, found the string \"v\"; Django accepts a \
                   string VERSION but then fails to increment it, so write a number\n\
                   - cache alias `other`: backend: `backend` is required; e.g. backend = \"locmem\"\n\
                   - cache alias `other`: timeout: expected a number of seconds (such as 300 or 0.5), \"never\" or \
                   null, found the string \"x\"",
    },
    Case {
        name: "every option and alias problem at build",
        step: Step::Build(Json),
        text: r#"{"default": {"BACKEND": "dummy", "OPTIONS": {"SERIALIZER": "x", "ignore_exceptions": "yes"}},
                  "b": {"BACKEND": "nope"}}"#,
        expected: "3 problems in the cache configuration:\n\
                   - cache alias `b`: unknown backend `nope`; registered backends are: \
                   django.core.cache.backends.dummy.DummyCache, dummy. Register the backend crate's factory with \
                   `Backends::register` or fix the name\n\
                   - cache alias `default`: options.ignore_exceptions: expected true or false; got \"yes\"\n\
                   - cache alias `default`: options.serializer: unknown option; this backend takes no options (every \
                   alias accepts `ignore_exceptions`)",
    },
    Case {
        name: "an empty backend from a variable names the variable",
        step: Step::Env(Toml, &[("CACHES__DEFAULT__BACKEND", "")]),
        text: "[caches.default]\nbackend = \"dummy\"\n",
        expected: "cache alias `default`: backend: `backend` is empty; name a registered backend, e.g. backend = \
                   \"locmem\" (set by the environment variable `CACHES__DEFAULT__BACKEND`)",
    },
    Case {
        name: "an unknown backend from a variable names the variable",
        step: Step::BuildEnv(Toml, &[("CACHES__DEFAULT__BACKEND", "redis")]),
        text: "[caches.default]\nbackend = \"dummy\"\n",
        expected: "cache alias `default`: backend: unknown backend `redis`; registered backends are: \
                   django.core.cache.backends.dummy.DummyCache, dummy. Register the backend crate's factory with \
                   `Backends::register` or fix the name (set by the environment variable `CACHES__DEFAULT__BACKEND`)",
    },
    Case {
        name: "an option refused by the backend names its variable",
        step: Step::BuildEnv(Toml, &[("CACHES__DEFAULT__OPTIONS__MAX_ENTRIES", "abc")]),
        text: "[caches.default]\nbackend = \"dummy\"\n",
        expected: "cache alias `default`: options.max_entries: unknown option; this backend takes no options (every \
                   alias accepts `ignore_exceptions`) (set by the environment variable \
                   `CACHES__DEFAULT__OPTIONS__MAX_ENTRIES`)",
    },
    Case {
        name: "a façade option from a whole options variable names it",
        step: Step::BuildEnv(Toml, &[("CACHES__DEFAULT__OPTIONS", r#"{"IGNORE_EXC": -5}"#)]),
        text: "[caches.default]\nbackend = \"dummy\"\n",
        expected: "cache alias `default`: options.ignore_exceptions: expected true or false; got -5 (set by the \
                   environment variable `CACHES__DEFAULT__OPTIONS`)",
    },
    Case {
        name: "every malformed variable at once",
        step: Step::Env(Toml, &[("CACHES__DEFAULT", "dummy"), ("CACHES____TIMEOUT", "1")]),
        text: "[caches.default]\nbackend = \"dummy\"\n",
        expected: "2 problems in the cache configuration:\n\
                   - CACHES__DEFAULT: expected CACHES__<ALIAS>__<FIELD> or CACHES__<ALIAS>__OPTIONS__<NAME> (write a \
                   `-` in an alias name as `_`)\n\
                   - CACHES____TIMEOUT: expected CACHES__<ALIAS>__<FIELD> or CACHES__<ALIAS>__OPTIONS__<NAME> (write \
                   a `-` in an alias name as `_`)",
    },
];

#[test]
fn every_malformed_config_has_its_exact_message() {
    let dir = tempfile::tempdir().unwrap();
    let shown_dir = dir.path().display().to_string();
    let mut failures = Vec::new();
    for case in CASES {
        let expected = case.expected.replace("{dir}", &shown_dir);
        let actual = run(case, dir.path());
        if actual != expected {
            failures.push(format!(
                "{}:\n  expected: {expected:?}\n  actual:   {actual:?}",
                case.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_covers_every_format() {
    let uses = |wanted: ConfigFormat| {
        CASES
            .iter()
            .any(|case| matches!(case.step, Step::Load(f) | Step::Build(f) | Step::Env(f, _) | Step::BuildEnv(f, _) if f == wanted))
    };
    assert!(uses(Toml) && uses(Yaml) && uses(Json));
    assert!(CASES.len() >= 18);
}

#[test]
fn a_section_of_the_wrong_shape_names_the_section() {
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Components {
        cache: String,
    }
    let config = CachesConfig::from_str_with_env(
        "[caches.default]\nbackend = \"dummy\"\n[components]\ncache = 5\n",
        Toml,
        NO_VARS,
    )
    .unwrap();
    assert_eq!(
        config.section::<Components>("components").unwrap_err().to_string(),
        "components: the section doesn't fit: invalid type: integer `5`, expected a string"
    );
}
