//! The shared conformance suite (Django's `BaseCacheTests`) on the database backend, configured
//! through the registry like an application would: on SQLite and on a PostgreSQL server the
//! testkit starts, each once with a clock the suite moves and once in real time, each subject on
//! a table of its own. Each behaviour is a test of its own (`harness = false`: the testkit's
//! `Harness` is `main`).

use std::process::ExitCode;

use cache_core::testkit::servers::PostgresServer;
use cache_core::testkit::{Harness, Subject, Time};
use cache_core::{Backends, Clock, Location, Options};
use cache_db::DbBackend;

/// Creates `table` in `database` (the `createcachetable` step), then builds the subject over it.
fn subject(harness: &Harness, database: &str, table: &str, clock: Clock, time: Time) -> Subject {
    let backend = DbBackend::builder()
        .database(database)
        .table(table)
        .build()
        .expect("the backend builds");
    harness
        .block_on(backend.create_table())
        .expect("the cache table is created");
    let mut backends = Backends::new();
    backends.register(cache_db::registration_with_clock(clock));
    let mut options = serde_json::Map::new();
    options.insert("database".into(), database.into());
    Subject::build(
        backends,
        "db",
        Location::One(table.to_owned()),
        Options::from_map(options),
        time,
    )
    .expect("the conformance aliases build on a table")
}

fn main() -> ExitCode {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let sqlite = directory.path().join("cache.sqlite3");
    let sqlite = sqlite.to_str().expect("a UTF-8 temporary path");
    let mut harness = Harness::new();
    let postgres = harness
        .block_on(PostgresServer::start())
        .expect("PostgreSQL starts (scripts/test.sh installs it)");
    let url = postgres.url();

    let sqlite_clock = Clock::manual();
    let postgres_clock = Clock::manual();
    let subjects = [
        (
            "sqlite_manual_clock",
            subject(
                &harness,
                sqlite,
                "manual clock",
                sqlite_clock.clone(),
                Time::Manual(sqlite_clock),
            ),
        ),
        (
            "sqlite_real_time",
            subject(&harness, sqlite, "real_time", Clock::system(), Time::Real),
        ),
        (
            "postgres_manual_clock",
            subject(
                &harness,
                &url,
                "manual clock",
                postgres_clock.clone(),
                Time::Manual(postgres_clock),
            ),
        ),
        (
            "postgres_real_time",
            subject(&harness, &url, "real_time", Clock::system(), Time::Real),
        ),
    ];
    for (name, subject) in &subjects {
        harness.conformance(name, subject);
    }
    let conclusion = harness.run();
    drop(subjects);
    drop(postgres);
    conclusion.exit_code()
}
