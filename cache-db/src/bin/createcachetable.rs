//! Django's `manage.py createcachetable`: creates the table of every database alias in a
//! configuration file (TOML, YAML or JSON, with `CACHES__…` environment overrides).
//!
//! ```text
//! cargo run -p cache-db --bin createcachetable -- caches.toml            # every `db` alias
//! cargo run -p cache-db --bin createcachetable -- caches.toml sessions   # only these aliases
//! cargo run -p cache-db --bin createcachetable -- --dry-run caches.toml  # print the SQL
//! ```
//!
//! It prints Django's lines: `Cache table 'django_cache' created.`, or `… already exists.` when it
//! was there (nothing is changed then).

use std::process::ExitCode;

use cache_core::{BackendConfig, CachesConfig, Clock};
use cache_db::{DbBackend, NAMES};

const USAGE: &str = "usage: createcachetable [--dry-run] <caches.toml|.yaml|.json> [alias …]";

fn main() -> ExitCode {
    let mut dry_run = false;
    let mut positional = Vec::new();
    for argument in std::env::args().skip(1) {
        match argument.as_str() {
            "--dry-run" => dry_run = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => positional.push(argument),
        }
    }
    let Some((path, only)) = positional.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match run(path, only, dry_run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("createcachetable: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(path: &str, only: &[String], dry_run: bool) -> Result<(), String> {
    let config = CachesConfig::load(path).map_err(|error| error.to_string())?;
    for alias in only {
        match config.aliases.get(alias) {
            Some(entry) if NAMES.contains(&entry.backend.as_str()) => {}
            Some(entry) => {
                return Err(format!(
                    "alias `{alias}` uses the `{}` backend, not `db`",
                    entry.backend
                ));
            }
            None => return Err(format!("{path} has no alias `{alias}`")),
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("can't start a tokio runtime: {error}"))?;
    let mut found = false;
    for (alias, entry) in &config.aliases {
        if !NAMES.contains(&entry.backend.as_str()) || !(only.is_empty() || only.contains(alias)) {
            continue;
        }
        found = true;
        let backend = DbBackend::from_config(
            &BackendConfig::new(alias, &entry.location, &entry.options),
            Clock::system(),
        )
        .map_err(|error| error.to_string())?;
        if dry_run {
            for statement in backend.create_table_sql() {
                println!("{statement};");
            }
            continue;
        }
        let created = runtime
            .block_on(backend.create_table())
            .map_err(|error| format!("cache alias `{alias}`: {error}"))?;
        let table = backend.table();
        if created {
            println!("Cache table '{table}' created.");
        } else {
            println!("Cache table '{table}' already exists.");
        }
    }
    if !found {
        return Err(format!("{path} has no alias with backend = \"db\"; nothing to create"));
    }
    Ok(())
}
