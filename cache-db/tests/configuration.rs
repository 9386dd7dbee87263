//! The database backend built from configuration and in code: names, the table, the database,
//! options, the `createcachetable` step (library call and command), and the errors that say what
//! to fix.

use std::process::Command;

use cache_core::{Backends, CacheBackend, CacheError, Caches, CachesConfig, ConfigFormat, ErrorKind};
use cache_db::DbBackend;

fn build(text: &str) -> cache_core::Result<Caches> {
    let mut backends = Backends::new();
    backends.register(cache_db::registration());
    let config = CachesConfig::from_str(text, ConfigFormat::Toml)?;
    Caches::build(&config, &backends)
}

fn sqlite_file(directory: &tempfile::TempDir) -> String {
    directory.path().join("cache.sqlite3").to_str().unwrap().to_owned()
}

#[tokio::test]
async fn djangos_class_path_and_options_load() -> cache_core::Result<()> {
    let directory = tempfile::tempdir().unwrap();
    let database = sqlite_file(&directory);
    let caches = build(&format!(
        r#"
        [caches.default]
        backend = "django.core.cache.backends.db.DatabaseCache"
        location = "my_cache_table"
        options = {{ database = "{database}", MAX_ENTRIES = 30, cull_frequency = "2", pool_size = 2, timeout = 0.5 }}
        "#
    ))?;
    let cache = caches.default_cache();
    let shown = format!("{:?}", cache.backend());
    assert!(
        shown.contains("max_entries: 30, cull_frequency: 2, pool_size: 2"),
        "{shown}"
    );
    let backend = DbBackend::builder()
        .table("my_cache_table")
        .database(&database)
        .build()?;
    assert!(backend.create_table().await.unwrap(), "created");
    assert!(!backend.create_table().await.unwrap(), "already there: nothing changes");
    // SQLite's table names ignore case: the same table, not a new one.
    let shouted = DbBackend::builder()
        .table("MY_CACHE_TABLE")
        .database(&database)
        .build()?;
    assert!(
        !shouted.create_table().await.unwrap(),
        "the same table under another case"
    );
    cache.set("k", "v").await?;
    assert_eq!(cache.get::<String>("k").await?.as_deref(), Some("v"));
    for report in caches.check().await {
        assert!(report.is_healthy(), "{report:?}");
        assert_eq!(
            (report.backend, report.servers[0].role),
            ("db", cache_core::ServerRole::Local)
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_missing_table_names_the_createcachetable_step() {
    let directory = tempfile::tempdir().unwrap();
    let caches = build(&format!(
        "[caches.default]\nbackend = \"db\"\nlocation = \"never_created\"\noptions = {{ database = \"{}\" }}\n",
        sqlite_file(&directory)
    ))
    .unwrap();
    let cache = caches.default_cache();
    let error = cache.set("k", "v").await.unwrap_err();
    assert!(!error.is_retryable(), "it stays missing until created: {error:?}");
    let message = error.to_string();
    assert!(
        message.contains("the cache table `never_created` does not exist"),
        "{message}"
    );
    assert!(message.contains("createcachetable"), "{message}");
    assert!(message.contains("DbBackend::create_table()"), "{message}");
    let health = caches.check().await;
    assert_eq!(health[0].status, cache_core::HealthStatus::Down);
    let failing = health[0].failing().next().unwrap();
    assert!(failing.server.starts_with("sqlite `"), "{}", failing.server);
    assert!(
        failing
            .status
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("createcachetable"),
        "{failing:?}"
    );
}

#[test]
fn the_table_and_the_database_are_required() {
    let error = build("[caches.default]\nbackend = \"db\"\noptions = { database = \"/tmp/x.sqlite3\" }\n")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("location: the database backend keeps its entries in one table, but no location was given"),
        "{error}"
    );
    let error = build("[caches.default]\nbackend = \"db\"\nlocation = [\"a\", \"b\"]\n")
        .unwrap_err()
        .to_string();
    assert!(error.contains("a list of 2 locations was given"), "{error}");
    let error = build("[caches.default]\nbackend = \"db\"\nlocation = \"t\"\n").unwrap_err();
    assert!(matches!(error, CacheError::Config { .. }));
    let error = error.to_string();
    assert!(
        error.starts_with("cache alias `default`: options.database: the database backend needs `options.database`"),
        "{error}"
    );
    assert!(error.contains("postgres://"), "{error}");
    let error = DbBackend::builder()
        .database("/tmp/x.sqlite3")
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("table: the database backend needs a table name"),
        "{error}"
    );
}

#[test]
fn bad_options_name_the_option() {
    let error =
        build("[caches.default]\nbackend = \"db\"\nlocation = \"t\"\noptions = { database = \"mysql://h/db\" }\n")
            .unwrap_err()
            .to_string();
    assert!(
        error.contains("options.database: expected a SQLite file path or a postgres:// URL"),
        "{error}"
    );
    let error = build(
        "[caches.default]\nbackend = \"db\"\nlocation = \"t\"\noptions = { database = \"/tmp/x\", cull_frequency = -1 }\n",
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        error,
        "cache alias `default`: options.cull_frequency: expected a whole number, 0 or more; got -1"
    );
    let error = build(&format!(
        "[caches.default]\nbackend = \"db\"\nlocation = \"{}\"\noptions = {{ database = \"/tmp/x\" }}\n",
        "t".repeat(64)
    ))
    .unwrap_err()
    .to_string();
    assert!(error.contains("location: the table name"), "{error}");
    let error = DbBackend::builder()
        .table("t")
        .database("/tmp/x")
        .pool_size(0)
        .build()
        .unwrap_err()
        .to_string();
    assert_eq!(error, "options.pool_size: expected a whole number from 1 to 64; got 0");
}

#[tokio::test]
async fn a_sqlite_file_that_cant_be_opened_says_where_and_why() {
    let backend = DbBackend::builder()
        .table("t")
        .database("/nonexistent-directory/cache.sqlite3")
        .build()
        .unwrap();
    let error = backend.get(":1:k").await.unwrap_err();
    assert_eq!(*error.kind(), ErrorKind::Io);
    assert!(!error.is_retryable());
    let message = error.to_string();
    assert!(message.contains("/nonexistent-directory/cache.sqlite3"), "{message}");
    assert!(message.contains("check that its directory exists"), "{message}");
}

#[test]
fn a_call_outside_a_runtime_says_so() {
    let directory = tempfile::tempdir().unwrap();
    let backend = DbBackend::builder()
        .table("t")
        .database(sqlite_file(&directory))
        .build()
        .unwrap();
    let error = block_on_without_runtime(backend.get(":1:k")).unwrap_err();
    assert!(error.to_string().contains("outside a tokio runtime"), "{error}");
}

/// Polls a future to completion without a runtime (the backend must refuse, not hang).
fn block_on_without_runtime<F: std::future::Future>(future: F) -> F::Output {
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

/// The command: Django's messages, `--dry-run`, and a clear error for a config without `db`.
#[test]
fn the_createcachetable_command_creates_each_table_once() {
    let directory = tempfile::tempdir().unwrap();
    let config = directory.path().join("caches.toml");
    std::fs::write(
        &config,
        format!(
            "[caches.default]\nbackend = \"locmem\"\n\n[caches.shared]\nbackend = \"db\"\nlocation = \"test cache table\"\n\
             options = {{ database = \"{}\" }}\n",
            sqlite_file(&directory)
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_createcachetable"))
            .args(args)
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let config = config.to_str().unwrap();
    let (ok, out, _) = run(&["--dry-run", config]);
    assert!(ok);
    assert!(
        out.starts_with("CREATE TABLE IF NOT EXISTS \"test cache table\""),
        "{out}"
    );
    // Django's `test_createcachetable_with_table_argument` and `test_second_call_doesnt_crash`.
    assert_eq!(
        run(&[config]),
        (true, "Cache table 'test cache table' created.\n".into(), String::new())
    );
    assert_eq!(
        run(&[config, "shared"]),
        (
            true,
            "Cache table 'test cache table' already exists.\n".into(),
            String::new()
        )
    );
    let (ok, _, err) = run(&[config, "default"]);
    assert!(!ok);
    assert_eq!(
        err,
        "createcachetable: alias `default` uses the `locmem` backend, not `db`\n"
    );
    let (ok, _, err) = run(&[]);
    assert!(!ok && err.starts_with("usage: createcachetable"), "{err}");
}
