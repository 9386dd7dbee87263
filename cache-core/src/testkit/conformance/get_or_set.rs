//! get_or_set and get_or_try_set: Django's algorithm (`BaseCache.get_or_set`), plus coalescing of concurrent misses.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::testkit::Subject;
use crate::{CacheError, Timeout};

/// `BaseCacheTests.test_get_or_set`: a miss stores and yields the produced value; a produced `None` is
/// stored as a value.
pub async fn get_or_set(s: &Subject) {
    let cache = s.cache();
    assert_eq!(cache.get::<i64>("projector").await.unwrap(), None);
    assert_eq!(cache.get_or_set("projector", || async { 42i64 }).await.unwrap(), 42);
    assert_eq!(cache.get::<i64>("projector").await.unwrap(), Some(42));

    let null = cache.get_or_set("null", || async { None::<i64> }).await.unwrap();
    assert_eq!(null, None);
    assert_eq!(
        cache.get::<Option<i64>>("null").await.unwrap(),
        Some(None),
        "the produced None must be stored"
    );
}

/// `BaseCacheTests.test_get_or_set_callable`: the producer runs only on a miss; on a hit the
/// stored value is returned — a stored `None` included.
pub async fn get_or_set_callable(s: &Subject) {
    let cache = s.cache();
    let calls = &AtomicUsize::new(0);
    let produce = move || async move {
        calls.fetch_add(1, Ordering::SeqCst);
        "value".to_owned()
    };
    assert_eq!(cache.get_or_set("mykey", produce).await.unwrap(), "value");
    assert_eq!(cache.get_or_set("mykey", produce).await.unwrap(), "value");
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the producer ran on a hit");

    let null_calls = &AtomicUsize::new(0);
    let produce_none = move || async move {
        null_calls.fetch_add(1, Ordering::SeqCst);
        None::<String>
    };
    assert_eq!(cache.get_or_set("null", produce_none).await.unwrap(), None);
    assert_eq!(cache.get_or_set("null", produce_none).await.unwrap(), None);
    assert_eq!(null_calls.load(Ordering::SeqCst), 1, "a stored None is a hit");
    assert_eq!(cache.get::<Option<String>>("null").await.unwrap(), Some(None));
}

/// `BaseCacheTests.test_get_or_set_version`: get_or_set works per version. (Django's `TypeError` for a
/// missing default can't happen here: the producer is a required argument, checked by the compiler.)
pub async fn get_or_set_version(s: &Subject) {
    let cache = s.cache();
    let value = cache
        .get_or_set("brian", || async { 1979i64 })
        .version(2)
        .await
        .unwrap();
    assert_eq!(value, 1979);
    assert_eq!(cache.get::<i64>("brian").version(1).await.unwrap(), None);
    let value = cache.get_or_set("brian", || async { 42i64 }).version(1).await.unwrap();
    assert_eq!(value, 42);
    let value = cache.get_or_set("brian", || async { 1i64 }).version(2).await.unwrap();
    assert_eq!(value, 1979, "version 2 already holds 1979");
    assert_eq!(cache.get::<i64>("brian").version(3).await.unwrap(), None);
}

/// `BaseCacheTests.test_get_or_set_racing`: when another writer stores the key while the value is
/// being produced, `add` loses and the stored value wins — for this caller too.
pub async fn get_or_set_racing(s: &Subject) {
    let cache = &s.cache();
    let value = cache
        .get_or_set("key", move || async move {
            // A concurrent writer gets there first.
            cache.set("key", "winner").await.unwrap();
            "default".to_owned()
        })
        .await
        .unwrap();
    assert_eq!(value, "winner");
    assert_eq!(cache.get::<String>("key").await.unwrap().as_deref(), Some("winner"));
}

/// No Django test (it follows from `BaseCache.get_or_set`): with a zero timeout the produced value is
/// returned, nothing is cached, and the next call produces again.
pub async fn get_or_set_zero_timeout(s: &Subject) {
    let cache = s.cache();
    let calls = &AtomicUsize::new(0);
    let produce = move || async move {
        calls.fetch_add(1, Ordering::SeqCst);
        5i64
    };
    let zero = Timeout::Seconds(0.0);
    assert_eq!(cache.get_or_set("uncached", produce).timeout(zero).await.unwrap(), 5);
    assert_eq!(cache.get::<i64>("uncached").await.unwrap(), None);
    assert_eq!(cache.get_or_set("uncached", produce).timeout(zero).await.unwrap(), 5);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// Why the producer of [`get_or_try_set_passes_producer_errors_through`] failed.
#[derive(Debug)]
enum ProduceError {
    Unavailable,
    Cache(CacheError),
}

impl From<CacheError> for ProduceError {
    fn from(error: CacheError) -> Self {
        ProduceError::Cache(error)
    }
}

/// get_or_try_set: a producer's error comes back as it is and nothing is stored; a later
/// successful producer stores its value.
pub async fn get_or_try_set_passes_producer_errors_through(s: &Subject) {
    let cache = s.cache();
    let failed = cache
        .get_or_try_set("fallible", || async { Err::<i64, _>(ProduceError::Unavailable) })
        .await;
    assert!(matches!(failed, Err(ProduceError::Unavailable)), "{failed:?}");
    assert!(!cache.has_key("fallible").await.unwrap());

    let stored = cache
        .get_or_try_set("fallible", || async { Ok::<i64, ProduceError>(3) })
        .await;
    match stored {
        Ok(value) => assert_eq!(value, 3),
        Err(ProduceError::Cache(error)) => panic!("the cache failed: {error}"),
        Err(ProduceError::Unavailable) => panic!("the producer's error came from nowhere"),
    }
    assert_eq!(cache.get::<i64>("fallible").await.unwrap(), Some(3));
}

/// No Django test (Django has no single-flight): 100 concurrent callers missing the same key run the producer
/// once (single-flight) and all get its value. Callers are spawned tasks, so on a multi-thread runtime they
/// really run in parallel.
pub async fn get_or_set_single_flight(s: &Subject) {
    const CALLERS: usize = 100;
    let calls = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(CALLERS);
    for _ in 0..CALLERS {
        let cache = s.cache();
        let calls = Arc::clone(&calls);
        tasks.push(tokio::spawn(async move {
            cache
                .get_or_set("flight", || async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    // Long enough for every other caller to miss and wait.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    1234i64
                })
                .await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("a caller panicked").unwrap(), 1234);
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the producer must run once for concurrent misses"
    );
    assert_eq!(s.cache().get::<i64>("flight").await.unwrap(), Some(1234));
}
