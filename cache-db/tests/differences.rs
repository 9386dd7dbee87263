//! Where this backend deliberately departs from Django's `DatabaseCache`, one test each (the crate
//! README lists them). Django 5.2's results are in each test's comment.

use std::sync::Arc;
use std::time::Duration;

use cache_core::testkit::servers::PostgresServer;
use cache_core::{Cache, CacheError, CacheOptions, Clock, Result, Timeout};
use cache_db::DbBackend;

struct Fixture {
    _directory: tempfile::TempDir,
    clock: Clock,
    cache: Cache,
}

async fn sqlite() -> Fixture {
    let directory = tempfile::tempdir().unwrap();
    let clock = Clock::manual();
    let cache = cache_on(directory.path().join("cache.sqlite3").to_str().unwrap(), clock.clone()).await;
    Fixture {
        _directory: directory,
        clock,
        cache,
    }
}

async fn cache_on(database: &str, clock: Clock) -> Cache {
    let backend = DbBackend::builder()
        .table("django_cache")
        .database(database)
        .clock(clock)
        .build()
        .unwrap();
    backend.create_table().await.unwrap();
    Cache::new("default", Arc::new(backend), CacheOptions::default())
}

/// Django's `incr` is a `get` then a `set` with the default timeout: an entry set for 1000 s has
/// 300 s left after an `incr`. Here the row keeps its `expires`.
#[tokio::test]
async fn incr_keeps_the_expiry() -> Result<()> {
    let f = sqlite().await;
    f.cache.set("n", 1).timeout(Timeout::secs(1000)).await?;
    assert_eq!(f.cache.incr("n", 1).await?, 2);
    f.clock.advance(Duration::from_secs(999));
    assert_eq!(f.cache.get::<i64>("n").await?, Some(2), "the 1000 s expiry, not 300 s");
    f.clock.advance(Duration::from_secs(1));
    assert_eq!(f.cache.get::<i64>("n").await?, None);
    Ok(())
}

/// Django's `touch` updates `expires` of any row it finds, so touching an expired entry brings
/// the stale value back. Here it returns false and the entry stays gone.
#[tokio::test]
async fn touch_on_an_expired_entry_is_false() -> Result<()> {
    let f = sqlite().await;
    f.cache.set("t", "v").timeout(Timeout::secs(1)).await?;
    f.clock.advance(Duration::from_secs(2));
    assert!(!f.cache.touch("t").timeout(Timeout::secs(100)).await?);
    assert_eq!(f.cache.get::<String>("t").await?, None);
    Ok(())
}

/// Django's `delete` returns whether a row was deleted, expired or not. Here: whether a live entry
/// was (the expired row is deleted all the same).
#[tokio::test]
async fn delete_of_an_expired_entry_is_false() -> Result<()> {
    let f = sqlite().await;
    f.cache.set("d", "v").timeout(Timeout::secs(1)).await?;
    f.clock.advance(Duration::from_secs(1));
    assert!(!f.cache.delete("d").await?);
    assert!(!f.cache.delete("d").await?, "and the row is gone");
    Ok(())
}

/// Django stores `expires` in whole seconds, so a 0.5 s timeout is already expired when written
/// and a 1.5 s one lasts 1 s. Here it lasts what was asked, to the microsecond.
#[tokio::test]
async fn fractional_timeouts_are_kept() -> Result<()> {
    let f = sqlite().await;
    f.cache.set("half", 1).timeout(Timeout::Seconds(0.5)).await?;
    assert_eq!(f.cache.get::<i32>("half").await?, Some(1));
    f.clock.advance(Duration::from_millis(499));
    assert_eq!(f.cache.get::<i32>("half").await?, Some(1));
    f.clock.advance(Duration::from_millis(1));
    assert_eq!(f.cache.get::<i32>("half").await?, None);
    Ok(())
}

/// Django adds to floats and booleans; here anything but a decimal integer is `NotAnInteger`,
/// and leaving the `i64` range is `Overflow` (computed by the database, in the `UPDATE`).
#[tokio::test]
async fn incr_of_a_non_integer_is_an_error() -> Result<()> {
    let f = sqlite().await;
    f.cache.set("f", 1.5).await?;
    assert!(matches!(
        f.cache.incr("f", 1).await,
        Err(CacheError::NotAnInteger { .. })
    ));
    f.cache.set("big", i64::MAX).await?;
    assert!(matches!(f.cache.incr("big", 1).await, Err(CacheError::Overflow { .. })));
    assert_eq!(f.cache.get::<i64>("big").await?, Some(i64::MAX), "unchanged");
    Ok(())
}

/// Two backends (two pools, as two processes would have) on one table: concurrent `add`s store
/// once and concurrent `incr`s lose nothing, each being one statement. Django's `add` and `incr`
/// read then write, racing.
async fn add_and_incr_are_atomic(first: &Cache, second: &Cache) -> Result<()> {
    for round in 0..10 {
        let key = format!("race{round}");
        let attempts: Vec<_> = (0..8)
            .map(|i| {
                let cache = if i % 2 == 0 { first.clone() } else { second.clone() };
                let key = key.clone();
                tokio::spawn(async move { cache.add(&key, i).await })
            })
            .collect();
        let mut won = 0;
        for attempt in attempts {
            won += usize::from(attempt.await.unwrap()?);
        }
        assert_eq!(won, 1, "round {round}");
    }
    first.set("hits", 0).await?;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let cache = if i % 2 == 0 { first.clone() } else { second.clone() };
            tokio::spawn(async move {
                for _ in 0..25 {
                    cache.incr("hits", 1).await?;
                }
                Ok::<_, CacheError>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap()?;
    }
    assert_eq!(first.get::<i64>("hits").await?, Some(200));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_and_incr_are_atomic_on_sqlite() -> Result<()> {
    let directory = tempfile::tempdir().unwrap();
    let database = directory.path().join("cache.sqlite3");
    let database = database.to_str().unwrap();
    let (first, second) = (
        cache_on(database, Clock::system()).await,
        cache_on(database, Clock::system()).await,
    );
    add_and_incr_are_atomic(&first, &second).await
}

/// On PostgreSQL as well; and there a NUL in a key, which PostgreSQL's text can't hold (Django's
/// driver drops it or fails), is stored under an escaped key, distinct from the key without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_atomic_add_and_incr_and_keys_with_nul() -> Result<()> {
    let postgres = PostgresServer::start().await.expect("PostgreSQL starts");
    let (first, second) = (
        cache_on(&postgres.url(), Clock::system()).await,
        cache_on(&postgres.url(), Clock::system()).await,
    );
    add_and_incr_are_atomic(&first, &second).await?;

    first.set("a\0b", "with nul").await?;
    first.set("ab", "without").await?;
    assert_eq!(first.get::<String>("a\0b").await?.as_deref(), Some("with nul"));
    assert_eq!(second.get::<String>("ab").await?.as_deref(), Some("without"));
    assert!(matches!(
        first.incr("n\0", 1).await,
        Err(CacheError::KeyNotFound { .. })
    ));
    first.set("n\0", 1).await?;
    assert_eq!(second.incr("n\0", 1).await?, 2);
    assert!(first.delete("a\0b").await?);
    assert_eq!(second.get::<String>("ab").await?.as_deref(), Some("without"));
    Ok(())
}

/// Django's `set_many` writes its rows in the order given, in one transaction, and its
/// `createcachetable` checks for the table and then creates it: two processes writing the same
/// keys in opposite orders can deadlock, and two starting at once can both try to create the
/// table. Here rows are written in key order, and creating the table takes a lock first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_concurrent_set_many_and_table_creation_never_collide() -> Result<()> {
    let postgres = PostgresServer::start().await.expect("PostgreSQL starts");
    let backends: Vec<DbBackend> = (0..4)
        .map(|_| {
            DbBackend::builder()
                .table("raced_cache")
                .database(&postgres.url())
                .build()
                .unwrap()
        })
        .collect();
    let created = futures::future::join_all(backends.iter().map(DbBackend::create_table)).await;
    let created: Vec<bool> = created
        .into_iter()
        .map(|made| made.expect("the table is created or found"))
        .collect();
    assert_eq!(created.iter().filter(|&&made| made).count(), 1, "{created:?}");

    let caches: Vec<Cache> = (backends.into_iter().take(2))
        .map(|backend| Cache::new("default", Arc::new(backend), CacheOptions::default()))
        .collect();
    let keys: Vec<String> = (0..64).map(|i| format!("k{i:02}")).collect();
    for round in 0..30 {
        let forward: Vec<(&str, i64)> = keys.iter().map(|key| (key.as_str(), round)).collect();
        let backward: Vec<(&str, i64)> = forward.iter().rev().copied().collect();
        let (first, second) = tokio::join!(
            caches[0].set_many(forward).timeout(Timeout::Never),
            caches[1].set_many(backward).timeout(Timeout::Never)
        );
        first?;
        second?;
    }
    assert_eq!(caches[0].get::<i64>("k00").await?, Some(29));
    Ok(())
}
