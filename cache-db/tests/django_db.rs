//! Django's own DatabaseCache results (`tests/cache/tests.py`: `DBCacheTests` and the cull tests
//! of `BaseCacheTests`), driven through the `Cache` façade on SQLite and on PostgreSQL, and a
//! table made by Django's `createcachetable`, holding rows in Django's forms, used in place.

use std::sync::Arc;
use std::time::Duration;

use cache_core::testkit::servers::PostgresServer;
use cache_core::{Cache, CacheOptions, Clock, Result, Timeout};
use cache_db::DbBackend;

async fn cache_on(database: &str, table: &str, max_entries: u64, cull_frequency: u64, clock: Clock) -> Cache {
    let backend = DbBackend::builder()
        .database(database)
        .table(table)
        .max_entries(max_entries)
        .cull_frequency(cull_frequency)
        .clock(clock)
        .build()
        .unwrap();
    backend.create_table().await.unwrap();
    Cache::new("default", Arc::new(backend), CacheOptions::default())
}

/// `BaseCacheTests._perform_cull_test`: 49 keys into a table culled past 30 rows.
async fn surviving(cache: &Cache) -> Result<Vec<usize>> {
    for i in 1..50 {
        cache.set(&format!("cull{i}"), i).await?;
    }
    let mut present = Vec::new();
    for i in 1..50 {
        if cache.has_key(&format!("cull{i}")).await? {
            present.push(i);
        }
    }
    Ok(present)
}

async fn djangos_cull_counts(database: &str) -> Result<()> {
    // `test_cull`: 29 left, and the keys culled are the ones sorting first.
    let culled = surviving(&cache_on(database, "cull", 30, 3, Clock::system()).await).await?;
    assert_eq!(culled.len(), 29, "{culled:?}");
    assert!(culled.contains(&49) && culled.contains(&9), "{culled:?}");
    // `DBCacheTests.test_zero_cull`: a full table is emptied, 18 left.
    let zero = surviving(&cache_on(database, "zero cull", 30, 0, Clock::system()).await).await?;
    assert_eq!(zero, (32..50).collect::<Vec<_>>());
    Ok(())
}

/// Expired rows go first: a full table of expired rows makes room without culling live ones.
async fn expired_rows_are_culled_first(database: &str) -> Result<()> {
    let clock = Clock::manual();
    let cache = cache_on(database, "expired first", 10, 3, clock.clone()).await;
    for i in 0..11 {
        cache.set(&format!("old{i}"), i).timeout(Timeout::secs(1)).await?;
    }
    clock.advance(Duration::from_secs(2));
    cache.set("new", 1).await?;
    let backend = cache.backend();
    for i in 0..11 {
        assert!(
            !backend
                .has_key(&cache.make_key(&format!("old{i}"), None))
                .await
                .unwrap()
        );
    }
    assert_eq!(cache.get::<i32>("new").await?, Some(1));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn djangos_cull_on_sqlite() -> Result<()> {
    let directory = tempfile::tempdir().unwrap();
    let database = directory.path().join("cache.sqlite3");
    let database = database.to_str().unwrap();
    djangos_cull_counts(database).await?;
    expired_rows_are_culled_first(database).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn djangos_cull_on_postgres() -> Result<()> {
    let postgres = PostgresServer::start().await.expect("PostgreSQL starts");
    djangos_cull_counts(&postgres.url()).await?;
    expired_rows_are_culled_first(&postgres.url()).await
}

/// The table exactly as Django's `createcachetable` makes it on SQLite (no `IF NOT EXISTS`), with
/// rows as Django writes them (whole-second `expires` text, `datetime.max` for "never").
#[tokio::test]
async fn a_table_django_created_works_on_sqlite() -> Result<()> {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("django.sqlite3");
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch(
        "CREATE TABLE \"django_cache\" (\n    \"cache_key\" varchar(255) NOT NULL PRIMARY KEY,\n    \
         \"value\" text NOT NULL,\n    \"expires\" datetime NOT NULL\n);\n\
         CREATE INDEX \"django_cache_expires\" ON \"django_cache\" (\"expires\");\n\
         INSERT INTO django_cache VALUES (':1:forever', 'MQ==', '9999-12-31 23:59:59');\n\
         INSERT INTO django_cache VALUES (':1:gone', 'MQ==', '2001-01-01 00:00:00');",
    )
    .unwrap();
    let backend = DbBackend::builder()
        .table("django_cache")
        .database(path.to_str().unwrap())
        .build()?;
    assert!(
        !backend.create_table().await.unwrap(),
        "Django's table is recognised as there"
    );
    let cache = Cache::new("default", Arc::new(backend), CacheOptions::default());
    assert_eq!(cache.get::<i64>("forever").await?, Some(1));
    assert_eq!(cache.incr("forever", 1).await?, 2);
    assert_eq!(cache.get::<i64>("gone").await?, None);
    let rows: i64 = db
        .query_row("SELECT COUNT(*) FROM django_cache", [], |row| row.get(0))
        .unwrap();
    assert_eq!(
        rows, 1,
        "the expired row was removed on read, as Django's get_many does"
    );
    cache.set("new", "v").timeout(Timeout::secs(60)).await?;
    let (value, expires): (String, String) = db
        .query_row(
            "SELECT value, expires FROM django_cache WHERE cache_key = ':1:new'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        value, "InYi",
        "base64 of the encoded value, as Django's column holds base64"
    );
    assert_eq!(expires.len(), "2026-01-01 00:00:00.000000".len(), "{expires}");
    Ok(())
}

/// The same on PostgreSQL: Django's DDL, `timestamp with time zone`, a row with Django's
/// `datetime.max`.
#[tokio::test]
async fn a_table_django_created_works_on_postgres() -> Result<()> {
    let postgres = PostgresServer::start().await.expect("PostgreSQL starts");
    let (client, connection) = tokio_postgres::connect(&postgres.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(
            "CREATE TABLE \"test cache table\" (\n    \"cache_key\" varchar(255) NOT NULL PRIMARY KEY,\n    \
             \"value\" text NOT NULL,\n    \"expires\" timestamp with time zone NOT NULL\n);\n\
             CREATE INDEX \"test cache table_expires\" ON \"test cache table\" (\"expires\");\n\
             INSERT INTO \"test cache table\" VALUES (':1:forever', 'MQ==', '9999-12-31 23:59:59+00');\n\
             INSERT INTO \"test cache table\" VALUES (':1:gone', 'MQ==', '2001-01-01 00:00:00+00');",
        )
        .await
        .unwrap();
    let backend = DbBackend::builder()
        .table("test cache table")
        .database(postgres.url())
        .build()?;
    assert!(!backend.create_table().await.unwrap());
    let cache = Cache::new("default", Arc::new(backend), CacheOptions::default());
    assert_eq!(cache.get::<i64>("forever").await?, Some(1));
    assert_eq!(cache.incr("forever", 41).await?, 42);
    assert!(!cache.has_key("gone").await?);
    assert_eq!(cache.get_many_raw(&["forever", "gone"]).await?.len(), 1);
    let rows: i64 = client
        .query_one("SELECT COUNT(*) FROM \"test cache table\"", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 1, "the expired row was removed by the read that found it");
    let value: String = client
        .query_one(
            "SELECT value FROM \"test cache table\" WHERE cache_key = ':1:forever'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(value, "NDI=", "incr wrote base64 of the decimal digits");
    Ok(())
}
