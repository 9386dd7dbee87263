//! Each server's circuit breaker against real servers: a hung (SIGSTOP) server costs a few response
//! timeouts, then its calls fail at once with `CircuitOpen`; after SIGCONT it answers again within
//! one cool-down. With a writer and a replica, a hung replica fails reads fast while writes go on.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_core::testkit::servers::RedisServer;
use cache_core::{Cache, CacheError, CacheOptions, CircuitState};
use cache_redis::RedisBackend;

const RESPONSE_TIMEOUT: Duration = Duration::from_millis(200);
const FAILURES: u32 = 5;
const COOL_DOWN: Duration = Duration::from_secs(1);
/// Slack for a loaded two-core machine, on top of what the settings allow.
const SLACK: Duration = Duration::from_millis(700);

fn backend(builder: cache_redis::RedisBuilder) -> RedisBackend {
    builder
        .response_timeout(RESPONSE_TIMEOUT)
        .connect_timeout(RESPONSE_TIMEOUT)
        .circuit_failures(FAILURES)
        .circuit_cooldown(COOL_DOWN)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_server_fails_fast_once_its_circuit_opens_and_recovers_after_one_cool_down() {
    let server = RedisServer::start().await.unwrap();
    let backend = backend(RedisBackend::builder().location(server.url()));
    let cache = Cache::new("breaker", Arc::new(backend.clone()), CacheOptions::default());
    cache.set("k", &1).await.unwrap();

    let paused = server.hang();
    let started = Instant::now();
    let mut errors = Vec::new();
    for _ in 0..100 {
        errors.push(cache.get::<i64>("k").await.unwrap_err());
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
    assert!(
        elapsed < RESPONSE_TIMEOUT * FAILURES + Duration::from_millis(100) + SLACK,
        "100 gets took {elapsed:?}; the bound is {FAILURES} timeouts of {RESPONSE_TIMEOUT:?} + 100 ms (+ slack)"
    );
    let message = errors.last().unwrap().to_string();
    assert!(
        message.starts_with("cache alias `breaker`, key 'k': redis redis://127.0.0.1:")
            && message.contains("circuit open: 5 consecutive calls"),
        "{message}"
    );
    // Writes go to the same (only) server: they fail at once too.
    let started = Instant::now();
    assert!(cache.set("k", &2).await.unwrap_err().is_circuit_open());
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(backend.circuit_states(), [CircuitState::Open]);

    drop(paused);
    let resumed = Instant::now();
    let recovered = loop {
        match cache.get::<i64>("k").await {
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
    assert_eq!(backend.circuit_states(), [CircuitState::Closed]);
    let stats = backend.circuit_stats();
    assert_eq!((stats.opened(), stats.closed()), (1, 1), "{stats:?}");
    assert!(stats.rejected() >= 100 - u64::from(FAILURES), "{stats:?}");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_replica_fails_reads_fast_while_the_writer_keeps_working() {
    let writer = RedisServer::start().await.unwrap();
    let replica = RedisServer::start_replica_of(&writer).await.unwrap();
    let backend = backend(RedisBackend::builder().location(writer.url()).replica(replica.url()));
    let cache = Cache::new("replicated", Arc::new(backend.clone()), CacheOptions::default());

    let paused = replica.hang();
    let started = Instant::now();
    let mut opened_after = None;
    for i in 0..50 {
        cache.set("k", &i).await.unwrap();
        let error = cache.get::<i64>("k").await.unwrap_err();
        if opened_after.is_none() && error.is_circuit_open() {
            opened_after = Some(i);
        }
    }
    let elapsed = started.elapsed();
    println!("50 sets and gets with a hung replica: {elapsed:?}, circuit open after {opened_after:?} reads");
    assert_eq!(opened_after, Some(FAILURES as usize));
    assert!(
        elapsed < RESPONSE_TIMEOUT * FAILURES + Duration::from_millis(100) + SLACK,
        "{elapsed:?}"
    );
    assert_eq!(backend.circuit_states(), [CircuitState::Closed, CircuitState::Open]);
    drop(paused);
    tokio::time::sleep(COOL_DOWN).await;
    let deadline = Instant::now() + SLACK;
    while cache.get::<i64>("k").await.is_err() {
        assert!(Instant::now() < deadline, "the replica still fails after its cool-down");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(backend.circuit_states(), [CircuitState::Closed; 2]);
    replica.stop();
    writer.stop();
}
