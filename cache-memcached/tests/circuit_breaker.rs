//! Each server's circuit breaker against real servers: a hung (SIGSTOP) server costs a few timeouts,
//! then its keys fail at once with `CircuitOpen` while the other server's keys keep working; after
//! SIGCONT its keys work again within one cool-down.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_core::testkit::servers::MemcachedServer;
use cache_core::{Cache, CacheError, CacheOptions, CircuitState, Timeout};
use cache_memcached::{MemcachedBackend, ServerAddress};

const TIMEOUT: Duration = Duration::from_millis(200);
const FAILURES: u32 = 5;
const COOL_DOWN: Duration = Duration::from_secs(1);
/// Slack for a loaded two-core machine, on top of what the settings allow.
const SLACK: Duration = Duration::from_millis(700);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_server_fails_fast_once_its_circuit_opens_and_recovers_after_one_cool_down() {
    let servers = [
        MemcachedServer::start().await.unwrap(),
        MemcachedServer::start().await.unwrap(),
    ];
    let backend = MemcachedBackend::builder()
        .server(servers[0].location())
        .server(servers[1].location())
        .response_timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .circuit_failures(FAILURES)
        .circuit_cooldown(COOL_DOWN)
        .build()
        .unwrap();
    let cache = Cache::new("breaker", Arc::new(backend.clone()), CacheOptions::default());
    let hung_address = ServerAddress::parse(&servers[1].location()).unwrap();
    let (mut live_keys, mut hung_keys) = (Vec::new(), Vec::new());
    for i in 0..100 {
        let key = format!("k{i}");
        if backend.server_for(&cache.make_key(&key, None)) == &hung_address {
            hung_keys.push(key);
        } else {
            live_keys.push(key);
        }
    }
    assert!(live_keys.len() > 20 && hung_keys.len() > 20);
    for key in live_keys.iter().chain(&hung_keys) {
        cache.set(key, &1).timeout(Timeout::Never).await.unwrap();
    }

    let paused = servers[1].hang();
    let started = Instant::now();
    let mut errors = Vec::new();
    for i in 0..100 {
        errors.push(cache.get::<i64>(&hung_keys[i % hung_keys.len()]).await.unwrap_err());
    }
    let elapsed = started.elapsed();
    let slow = errors.iter().take_while(|error| !error.is_circuit_open()).count();
    let fast = errors.iter().filter(|error| error.is_circuit_open()).count();
    println!("100 gets on a hung server: {slow} timed out, {fast} failed at once (CircuitOpen), {elapsed:?} in all");
    assert_eq!(slow, FAILURES as usize, "the circuit opens after {FAILURES} failures");
    assert!(
        errors[..slow].iter().all(CacheError::is_timeout),
        "{:?}",
        &errors[..slow]
    );
    assert_eq!(fast, 100 - slow, "every error after opening is CircuitOpen");
    assert!(errors.iter().all(CacheError::is_retryable));
    assert!(
        elapsed < TIMEOUT * FAILURES + Duration::from_millis(100) + SLACK,
        "100 gets took {elapsed:?}; the bound is {FAILURES} timeouts of {TIMEOUT:?} + 100 ms (+ slack)"
    );
    let message = errors.last().unwrap().to_string();
    assert!(
        message.contains(&format!("memcached server {hung_address}")) && message.contains("circuit open"),
        "{message}"
    );
    assert_eq!(backend.circuit_state(&hung_address), Some(CircuitState::Open));

    // The other server's keys are not affected.
    let started = Instant::now();
    for key in &live_keys {
        assert_eq!(cache.get::<i64>(key).await.unwrap(), Some(1), "{key}");
    }
    assert!(started.elapsed() < TIMEOUT, "took {:?}", started.elapsed());
    let live_address = ServerAddress::parse(&servers[0].location()).unwrap();
    assert_eq!(backend.circuit_state(&live_address), Some(CircuitState::Closed));

    drop(paused);
    let resumed = Instant::now();
    let recovered = loop {
        match cache.get::<i64>(&hung_keys[0]).await {
            Ok(value) => break value,
            Err(error) => {
                assert!(error.is_retryable(), "{error}");
                assert!(
                    resumed.elapsed() < COOL_DOWN + SLACK,
                    "still failing {:?} after SIGCONT: {error}",
                    resumed.elapsed()
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    let recovery = resumed.elapsed();
    println!("recovered {recovery:?} after SIGCONT");
    assert_eq!(recovered, Some(1), "a pause loses nothing");
    assert_eq!(backend.circuit_state(&hung_address), Some(CircuitState::Closed));
    let stats = backend.circuit_stats();
    assert_eq!((stats.opened(), stats.closed()), (1, 1), "{stats:?}");
    assert!(stats.rejected() >= 100 - u64::from(FAILURES), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_probe_keeps_the_circuit_open_for_another_cool_down() {
    let server = MemcachedServer::start().await.unwrap();
    let cool_down = Duration::from_millis(300);
    let backend = MemcachedBackend::builder()
        .server(server.location())
        .response_timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .circuit_failures(2)
        .circuit_cooldown(cool_down)
        .build()
        .unwrap();
    let cache = Cache::new("probe", Arc::new(backend.clone()), CacheOptions::default());
    cache.set("k", &1).await.unwrap();
    let paused = server.hang();
    for _ in 0..2 {
        assert!(cache.get::<i64>("k").await.unwrap_err().is_timeout());
    }
    assert!(cache.get::<i64>("k").await.unwrap_err().is_circuit_open());
    // After a cool-down one call probes the server. Under load a timed-out call's connection may
    // be torn down late, counting as one more failure while the circuit is open and starting the
    // cool-down again, so wait out cool-downs (bounded) until the probe goes through.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let probe = loop {
        tokio::time::sleep(cool_down).await;
        let error = cache.get::<i64>("k").await.unwrap_err();
        if !(error.is_circuit_open() && std::time::Instant::now() < deadline) {
            break error;
        }
    };
    // The probe waits for its timeout, and fails; the circuit opens again.
    assert!(probe.is_timeout(), "{probe}");
    assert!(cache.get::<i64>("k").await.unwrap_err().is_circuit_open());
    let stats = backend.circuit_stats();
    assert_eq!((stats.opened(), stats.half_opened(), stats.reopened()), (1, 1, 1));
    drop(paused);
    // The resumed server may still answer the timed-out calls' late replies on the old connection
    // and reopen the circuit once more: wait out cool-downs (bounded) until a probe succeeds.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let recovered = loop {
        tokio::time::sleep(cool_down).await;
        match cache.get::<i64>("k").await {
            Ok(found) => break found,
            Err(error) if std::time::Instant::now() < deadline && error.is_circuit_open() => continue,
            Err(error) => panic!("the resumed server never answered: {error}"),
        }
    };
    assert_eq!(recovered, Some(1));
    assert_eq!(backend.circuit_stats().closed(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_failures_turns_the_breaker_off() {
    let server = MemcachedServer::start().await.unwrap();
    let backend = MemcachedBackend::builder()
        .server(server.location())
        .response_timeout(Duration::from_millis(100))
        .connect_timeout(Duration::from_millis(100))
        .circuit_failures(0)
        .build()
        .unwrap();
    let cache = Cache::new("off", Arc::new(backend.clone()), CacheOptions::default());
    cache.set("k", &1).await.unwrap();
    let paused = server.hang();
    for _ in 0..8 {
        let error = cache.get::<i64>("k").await.unwrap_err();
        assert!(!error.is_circuit_open(), "{error}");
    }
    drop(paused);
    assert_eq!(backend.circuit_stats().opened(), 0);
}
