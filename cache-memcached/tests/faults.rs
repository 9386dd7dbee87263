//! Faults with two servers under load: one stops (or hangs); its keys fail fast with retryable
//! errors while the other server's keys keep working; after a restart the same `Cache` works
//! again, without being rebuilt.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cache_core::testkit::servers::MemcachedServer;
use cache_core::{Cache, CacheOptions, Timeout};
use cache_memcached::{MemcachedBackend, MemcachedBuilder, ServerAddress};

const TIMEOUT: Duration = Duration::from_millis(500);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// Slack on top of the configured timeouts for a loaded two-core machine.
const SLACK: Duration = Duration::from_millis(700);

struct Setup {
    servers: [MemcachedServer; 2],
    backend: MemcachedBackend,
    cache: Cache,
    /// Keys held by the first server and by the second.
    keys: [Vec<String>; 2],
}

fn builder(locations: impl Iterator<Item = String>) -> MemcachedBuilder {
    locations.fold(
        MemcachedBackend::builder()
            .response_timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT),
        MemcachedBuilder::server,
    )
}

async fn setup() -> Setup {
    let servers = [
        MemcachedServer::start().await.unwrap(),
        MemcachedServer::start().await.unwrap(),
    ];
    let backend = builder(servers.iter().map(MemcachedServer::location)).build().unwrap();
    let cache = Cache::new("faults", Arc::new(backend.clone()), CacheOptions::default());
    let mut keys = [Vec::new(), Vec::new()];
    for i in 0..200 {
        let key = format!("k{i}");
        let side = usize::from(backend.server_for(&cache.make_key(&key, None)).to_string() != servers[0].location());
        keys[side].push(key);
    }
    assert!(keys[0].len() > 50 && keys[1].len() > 50);
    for key in keys.iter().flatten() {
        cache.set(key, &1).timeout(Timeout::Never).await.unwrap();
    }
    Setup {
        servers,
        backend,
        cache,
        keys,
    }
}

/// Tasks hammering both servers until `stop`; counts successes and failures, and panics on an
/// operation slower than the timeouts allow.
fn load(
    cache: &Cache,
    keys: &[Vec<String>; 2],
    stop: &Arc<AtomicBool>,
) -> (Vec<tokio::task::JoinHandle<()>>, Arc<AtomicU64>) {
    let done = Arc::new(AtomicU64::new(0));
    let tasks = (0..16)
        .map(|t| {
            let cache = cache.clone();
            let keys: Vec<String> = keys.iter().flatten().cloned().collect();
            let stop = Arc::clone(stop);
            let done = Arc::clone(&done);
            tokio::spawn(async move {
                let mut i = t;
                while !stop.load(Ordering::Relaxed) {
                    let key = &keys[i % keys.len()];
                    let started = Instant::now();
                    let _ = if i % 4 == 0 {
                        cache.set(key, &1).timeout(Timeout::Never).await.map(drop)
                    } else {
                        cache.get::<i64>(key).await.map(drop)
                    };
                    assert!(
                        started.elapsed() < TIMEOUT + CONNECT_TIMEOUT + SLACK,
                        "an operation hung"
                    );
                    done.fetch_add(1, Ordering::Relaxed);
                    i += 7;
                }
            })
        })
        .collect();
    (tasks, done)
}

async fn check_live_side(cache: &Cache, keys: &[String]) {
    for key in keys.iter().take(20) {
        assert_eq!(
            cache.get::<i64>(key).await.unwrap(),
            Some(1),
            "{key} on the live server"
        );
    }
    let many = cache.get_many::<_, i64>(&keys[..20]).await.unwrap();
    assert_eq!(many.len(), 20);
}

async fn check_dead_side(cache: &Cache, keys: &[String]) {
    for key in keys.iter().take(10) {
        let started = Instant::now();
        let error = cache.get::<i64>(key).await.unwrap_err();
        assert!(error.is_retryable(), "{error}");
        assert!(
            started.elapsed() < TIMEOUT + CONNECT_TIMEOUT + SLACK,
            "took {:?}",
            started.elapsed()
        );
        let error = cache.set(key, &2).await.unwrap_err();
        assert!(error.is_retryable(), "{error}");
    }
    // A batch touching the dead server fails as a whole, retryably.
    assert!(cache.get_many::<_, i64>(&keys[..5]).await.unwrap_err().is_retryable());
}

/// Retries until the server answers again, for at most a few seconds.
async fn eventually_works(cache: &Cache, key: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match cache.set(key, &3).await {
            Ok(()) => break,
            Err(error) if Instant::now() < deadline => {
                assert!(error.is_retryable(), "{error}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("still failing after a restart: {error}"),
        }
    }
    assert_eq!(cache.get::<i64>(key).await.unwrap(), Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_fails_fast_and_comes_back_after_a_restart() {
    let Setup {
        servers, cache, keys, ..
    } = setup().await;
    let stop = Arc::new(AtomicBool::new(false));
    let (tasks, done) = load(&cache, &keys, &stop);
    tokio::time::sleep(Duration::from_millis(200)).await;

    servers[1].stop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    check_live_side(&cache, &keys[0]).await;
    check_dead_side(&cache, &keys[1]).await;
    let before = done.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(done.load(Ordering::Relaxed) > before, "the load keeps going");

    servers[1].restart().await.unwrap();
    eventually_works(&cache, &keys[1][0]).await;
    // The restarted server is empty; everything on it works again.
    for key in keys[1].iter().take(20) {
        cache.set(key, &1).await.unwrap();
        assert_eq!(cache.get::<i64>(key).await.unwrap(), Some(1));
    }
    check_live_side(&cache, &keys[0]).await;

    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.expect("no load task panicked");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_server_times_out_and_recovers() {
    let Setup {
        servers, cache, keys, ..
    } = setup().await;
    let stop = Arc::new(AtomicBool::new(false));
    let (tasks, _) = load(&cache, &keys, &stop);
    tokio::time::sleep(Duration::from_millis(200)).await;

    let hung = servers[1].hang();
    check_live_side(&cache, &keys[0]).await;
    for key in keys[1].iter().take(3) {
        // Its own timeout ("no reply within"), or a load task's, which closed the shared connection.
        let started = Instant::now();
        let error = cache.get::<i64>(key).await.unwrap_err();
        assert!(error.is_retryable(), "{error}");
        assert!(
            started.elapsed() < TIMEOUT + CONNECT_TIMEOUT + SLACK,
            "took {:?}",
            started.elapsed()
        );
    }
    hung.resume();

    eventually_works(&cache, &keys[1][1]).await;
    assert_eq!(
        cache.get::<i64>(&keys[1][2]).await.unwrap(),
        Some(1),
        "a pause loses nothing"
    );
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.expect("no load task panicked");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_down_from_the_start() {
    let Setup {
        servers,
        backend,
        cache,
        keys,
    } = setup().await;
    servers[1].stop();
    // A fresh backend that never reached the stopped server: building it didn't need it.
    let fresh = builder(backend.servers().map(ServerAddress::to_string))
        .build()
        .unwrap();
    let fresh = Cache::new("fresh", Arc::new(fresh), CacheOptions::default());
    check_live_side(&fresh, &keys[0]).await;
    check_dead_side(&fresh, &keys[1]).await;
    // Many callers at once on the dead server: each fails within the timeouts.
    let started = Instant::now();
    let attempts = futures::future::join_all(
        keys[1]
            .iter()
            .map(|key| std::future::IntoFuture::into_future(fresh.get::<i64>(key))),
    )
    .await;
    assert!(attempts.iter().all(|a| a.as_ref().is_err_and(|e| e.is_retryable())));
    assert!(
        started.elapsed() < TIMEOUT + CONNECT_TIMEOUT + SLACK,
        "took {:?}",
        started.elapsed()
    );
    servers[1].restart().await.unwrap();
    eventually_works(&fresh, &keys[1][0]).await;
    eventually_works(&cache, &keys[1][1]).await;
}
