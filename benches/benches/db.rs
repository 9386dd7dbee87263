//! The database backend through the `Cache` façade, next to the same `SELECT` run through the
//! driver directly, in the same run: on SQLite (rusqlite on the calling thread, and moved off the
//! tokio worker with `spawn_blocking` as the backend does) and on PostgreSQL (one tokio-postgres
//! connection, the statement prepared), against a server the testkit starts.
//!
//! Run: `cargo bench -p cache-benches --bench db`. Figures are recorded in benches/README.md.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use cache_core::testkit::servers::PostgresServer;
use cache_core::{Cache, CacheOptions, Timeout};
use cache_db::DbBackend;
use criterion::{Criterion, criterion_group, criterion_main};

/// Keys in the working set: under Django's default `max_entries` (300), so nothing is culled.
const KEYS: usize = 200;

/// The backend's own `get` statement, as a user would write it against Django's table.
const SELECT: &str = "SELECT \"value\", \"expires\" > $2 FROM \"bench_cache\" WHERE \"cache_key\" = $1";

fn keys() -> Vec<String> {
    cache_benches::profile_keys(KEYS)
}

fn value() -> Bytes {
    cache_benches::small_value()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A cache over `database`'s table `bench_cache` with `pool_size` connections, filled with the
/// working set.
fn filled(runtime: &tokio::runtime::Runtime, database: &str, pool_size: usize) -> Cache {
    let backend = DbBackend::builder()
        .table("bench_cache")
        .database(database)
        .pool_size(pool_size)
        .build()
        .expect("the backend");
    let cache = Cache::new("bench", Arc::new(backend.clone()), CacheOptions::default());
    runtime.block_on(async {
        backend.create_table().await.expect("the table");
        for key in keys() {
            cache.set_raw(&key, value()).timeout(Timeout::Never).await.expect("set");
        }
    });
    cache
}

fn sqlite(c: &mut Criterion) {
    let runtime = runtime();
    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = directory.path().join("bench.sqlite3");
    let cache = filled(&runtime, path.to_str().expect("UTF-8"), 4);
    let made: Vec<String> = keys().iter().map(|key| cache.make_key(key, None)).collect();
    let keys = keys();
    let sql = SELECT.replace('$', "?");
    let direct = rusqlite::Connection::open(&path).expect("the database");
    let shared = Arc::new(parking_lot::Mutex::new(
        rusqlite::Connection::open(&path).expect("the database"),
    ));
    let now = "2000-01-01 00:00:00.000000";

    let mut group = c.benchmark_group("db_sqlite_get_hit");
    let mut i = 0;
    group.bench_function("facade get_raw (spawn_blocking, pooled connection)", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            runtime.block_on(async { black_box(cache.get_raw(&keys[i]).await.expect("get").expect("a hit")) })
        })
    });
    group.bench_function("rusqlite SELECT on the calling thread", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            let mut statement = direct.prepare_cached(&sql).expect("prepared");
            black_box(
                statement
                    .query_row((&made[i], now), |row| {
                        Ok((row.get::<_, String>(0)?, row.get::<_, bool>(1)?))
                    })
                    .expect("a row"),
            )
        })
    });
    group.bench_function("spawn_blocking(rusqlite SELECT)", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            let (shared, key, sql) = (shared.clone(), made[i].clone(), sql.clone());
            runtime.block_on(async {
                black_box(
                    tokio::task::spawn_blocking(move || {
                        let connection = shared.lock();
                        let mut statement = connection.prepare_cached(&sql).expect("prepared");
                        statement
                            .query_row((&key, now), |row| {
                                Ok((row.get::<_, String>(0)?, row.get::<_, bool>(1)?))
                            })
                            .expect("a row")
                    })
                    .await
                    .expect("joined"),
                )
            })
        })
    });
    group.finish();
}

fn postgres(c: &mut Criterion) {
    let runtime = runtime();
    let server = runtime.block_on(PostgresServer::start()).expect("PostgreSQL starts");
    let cache = filled(&runtime, &server.url(), 4);
    let one_connection = filled(&runtime, &server.url(), 1);
    let made: Vec<String> = keys().iter().map(|key| cache.make_key(key, None)).collect();
    let keys = keys();
    let (client, statement) = runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls)
            .await
            .expect("a connection");
        tokio::spawn(connection);
        let statement = client.prepare(SELECT).await.expect("prepared");
        (client, statement)
    });
    let now = SystemTime::now() - Duration::from_secs(1);

    let mut group = c.benchmark_group("db_postgres_get_hit");
    let mut i = 0;
    group.bench_function("facade get_raw (pooled, prepared)", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            runtime.block_on(async { black_box(cache.get_raw(&keys[i]).await.expect("get").expect("a hit")) })
        })
    });
    group.bench_function("facade get_raw (one pooled connection)", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            runtime.block_on(async { black_box(one_connection.get_raw(&keys[i]).await.expect("get").expect("a hit")) })
        })
    });
    group.bench_function("tokio-postgres prepared SELECT", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            runtime.block_on(async {
                let row = client
                    .query_opt(&statement, &[&made[i], &now])
                    .await
                    .expect("select")
                    .expect("a row");
                black_box((row.get::<_, String>(0), row.get::<_, bool>(1)))
            })
        })
    });
    group.finish();
    drop((cache, one_connection));
    drop(server);
}

criterion_group!(benches, sqlite, postgres);
criterion_main!(benches);
