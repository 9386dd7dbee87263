//! Faults: PostgreSQL killed and restarted under load, a server that isn't there, a SQLite
//! database locked by another writer. Errors arrive within the timeouts, in the kinds callers act
//! on, naming the fix; service comes back by itself; no caller ever reads another key's value.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cache_core::testkit::Load;
use cache_core::testkit::servers::{ClosedPort, PostgresServer};
use cache_core::{Cache, CacheBackend, CacheOptions, Result};
use cache_db::DbBackend;

/// Eight callers setting and reading their own keys. Every value names its key, so a value handed
/// to the wrong caller fails the test.
fn load(cache: &Cache) -> Load {
    let cache = cache.clone();
    Load::start(8, move |task, i| {
        let cache = cache.clone();
        async move {
            let key = format!("k{}", (i * 7 + task) % 50);
            match i % 4 {
                0 => cache.set(&key, format!("{key}={i}")).await,
                1 => cache.get::<String>(&key).await.map(|value| {
                    if let Some(value) = value {
                        assert!(value.starts_with(&format!("{key}=")), "{key} read {value}");
                    }
                }),
                2 => cache.get_many::<_, String>(&[key.as_str(), "k0"]).await.map(|found| {
                    for (key, value) in found {
                        assert!(value.starts_with(&format!("{key}=")), "{key} read {value}");
                    }
                }),
                _ => cache.delete(&key).await.map(drop),
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_and_restarted_under_load() -> Result<()> {
    let postgres = PostgresServer::start().await.expect("PostgreSQL starts");
    let backend = DbBackend::builder()
        .table("django_cache")
        .database(postgres.url())
        .timeout(Duration::from_secs(1))
        .build()?;
    backend.create_table().await.expect("the table is created");
    let cache = Cache::new("default", Arc::new(backend), CacheOptions::default());
    let load = load(&cache);
    load.until("successes", Load::ok, 500).await;

    postgres.stop();
    let before = load.errors();
    load.until("errors", Load::errors, before + 100).await;

    postgres.restart().await.expect("PostgreSQL restarts");
    let recovered = load.ok();
    load.until("successes after the restart", Load::ok, recovered + 500)
        .await;
    let seen = load.stop().await;

    assert!(!seen.is_empty());
    let server = format!("127.0.0.1:{}", postgres.port());
    for error in &seen {
        assert!(error.is_unavailable() || error.is_timeout(), "{error:?}");
        assert!(error.is_retryable(), "{error:?}");
        assert!(error.to_string().contains(&server), "the server is named: {error}");
    }
    cache.set("after", 1).await?;
    assert_eq!(cache.get::<i32>("after").await?, Some(1));
    Ok(())
}

#[tokio::test]
async fn a_postgres_that_isnt_running_is_unavailable_naming_the_fix() {
    // Reserved, not just found free: a server another test starts could otherwise be given it.
    let closed = ClosedPort::reserve().unwrap();
    let port = closed.port();
    let backend = DbBackend::builder()
        .table("django_cache")
        .database(format!("postgres://postgres@127.0.0.1:{port}/postgres"))
        .build()
        .unwrap();
    let error = backend.get(":1:k").await.unwrap_err();
    assert!(error.is_unavailable() && error.is_retryable(), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("postgres://postgres@127.0.0.1:{port}/postgres: ")),
        "{message}"
    );
    assert!(message.contains("check that the server runs"), "{message}");
}

#[tokio::test]
async fn a_missing_postgres_table_names_the_createcachetable_step() {
    let postgres = PostgresServer::start().await.expect("PostgreSQL starts");
    let backend = DbBackend::builder()
        .table("not created")
        .database(postgres.url())
        .build()
        .unwrap();
    let error = backend
        .set(":1:k", "1".into(), cache_core::Expiry::Never)
        .await
        .unwrap_err();
    assert!(!error.is_retryable());
    assert!(
        error
            .to_string()
            .contains("the cache table `not created` does not exist"),
        "{error}"
    );
    assert!(error.to_string().contains("createcachetable"), "{error}");
    backend.create_table().await.unwrap();
    backend
        .set(":1:k", "1".into(), cache_core::Expiry::Never)
        .await
        .unwrap();
}

/// A statement this client gave up on is given up by the server too (`statement_timeout` is set
/// to `options.timeout` on every connection): an `incr` that timed out behind another
/// transaction's row lock is not applied when that lock goes, so a caller's retry can't count
/// it twice.
#[tokio::test]
async fn a_timed_out_postgres_statement_is_not_applied_later() {
    let postgres = PostgresServer::start().await.expect("PostgreSQL starts");
    let backend = DbBackend::builder()
        .table("django_cache")
        .database(postgres.url())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    backend.create_table().await.unwrap();
    backend
        .set(":1:n", "1".into(), cache_core::Expiry::Never)
        .await
        .unwrap();
    let (client, connection) = tokio_postgres::connect(&postgres.url(), tokio_postgres::NoTls)
        .await
        .expect("a plain connection");
    let connection = tokio::spawn(connection);
    client
        .batch_execute("BEGIN; SELECT 1 FROM django_cache WHERE cache_key = ':1:n' FOR UPDATE;")
        .await
        .unwrap();
    let error = backend.incr(":1:n", 1).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    client.batch_execute("COMMIT").await.unwrap();
    // Long enough for a statement the server kept to have run.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(backend.get(":1:n").await.unwrap().as_deref(), Some(&b"1"[..]));
    drop(client);
    let _ = connection.await;
}

/// A table made by hand with other column types than `createcachetable` makes (`value` as
/// `bytea`): every reply is untrusted, so reading it is an error naming the table and the fix,
/// never a panic. The same table made by `createcachetable` then works.
#[tokio::test]
async fn a_postgres_table_of_other_column_types_is_an_error_naming_the_fix() {
    let postgres = PostgresServer::start().await.expect("PostgreSQL starts");
    let (client, connection) = tokio_postgres::connect(&postgres.url(), tokio_postgres::NoTls)
        .await
        .expect("a plain connection");
    let connection = tokio::spawn(connection);
    client
        .batch_execute(
            "CREATE TABLE handmade (cache_key varchar(255) PRIMARY KEY, value bytea NOT NULL, expires timestamptz NOT NULL);
             INSERT INTO handmade VALUES (':1:k', '\\x00', now() + interval '1 day');",
        )
        .await
        .unwrap();
    let backend = DbBackend::builder()
        .table("handmade")
        .database(postgres.url())
        .build()
        .unwrap();
    for error in [
        backend.get(":1:k").await.unwrap_err(),
        backend.get_many(&[":1:k"]).await.unwrap_err(),
    ] {
        let message = error.to_string();
        assert!(
            message.contains("the cache table `handmade` has other columns"),
            "{message}"
        );
        assert!(message.contains("createcachetable"), "{message}");
    }
    client.batch_execute("DROP TABLE handmade").await.unwrap();
    assert!(backend.create_table().await.unwrap());
    backend
        .set(":1:k", "1".into(), cache_core::Expiry::Never)
        .await
        .unwrap();
    assert_eq!(backend.get(":1:k").await.unwrap().as_deref(), Some(&b"1"[..]));
    drop(client);
    let _ = connection.await;
}

/// Another writer holds the database past `options.timeout`: a retryable timeout naming the
/// option; meanwhile the tokio worker keeps running other tasks (SQLite waits on the blocking
/// pool, never on the worker).
#[tokio::test(flavor = "current_thread")]
async fn a_locked_sqlite_database_times_out_without_blocking_the_runtime() -> Result<()> {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("cache.sqlite3");
    let backend = DbBackend::builder()
        .table("django_cache")
        .database(path.to_str().unwrap())
        .timeout(Duration::from_millis(300))
        .build()?;
    backend.create_table().await.unwrap();
    let cache = Cache::new("default", Arc::new(backend), CacheOptions::default());
    cache.set("k", "before").await?;

    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let ticks = Arc::new(AtomicUsize::new(0));
    let ticker = {
        let ticks = ticks.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(1)).await;
                ticks.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let error = cache.set("k", "during").await.unwrap_err();
    ticker.abort();
    assert!(
        ticks.load(Ordering::Relaxed) > 0,
        "the runtime's only worker ran other tasks meanwhile"
    );
    assert!(error.is_timeout() && error.is_retryable(), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("locked by another writer for longer than options.timeout"),
        "{message}"
    );
    assert!(message.contains(&path.display().to_string()), "{message}");

    other.execute_batch("COMMIT").unwrap();
    cache.set("k", "after").await?;
    assert_eq!(cache.get::<String>("k").await?.as_deref(), Some("after"));
    Ok(())
}
