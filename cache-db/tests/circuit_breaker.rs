//! PostgreSQL's circuit breaker against a real server: a hung (SIGSTOP, postmaster and backends)
//! server costs a few timeouts, then calls fail at once with `CircuitOpen`; after SIGCONT the alias
//! answers again within a cool-down, having lost nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_core::testkit::servers::PostgresServer;
use cache_core::{Cache, CacheError, CacheOptions, CircuitState};
use cache_db::DbBackend;

const TIMEOUT: Duration = Duration::from_millis(300);
/// Half the timeout: a call waits at most twice this for a connection, so no call waits longer
/// than `TIMEOUT` either way.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(150);
const FAILURES: u32 = 3;
const COOL_DOWN: Duration = Duration::from_secs(1);
/// Slack for a loaded two-core machine, on top of what the settings allow.
const SLACK: Duration = Duration::from_millis(700);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_postgres_fails_fast_once_its_circuit_opens_and_recovers_after_a_cool_down() {
    let postgres = PostgresServer::start().await.expect("PostgreSQL starts");
    let backend = DbBackend::builder()
        .table("django_cache")
        .database(postgres.url())
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .circuit_failures(FAILURES)
        .circuit_cooldown(COOL_DOWN)
        .build()
        .unwrap();
    backend.create_table().await.expect("the table is created");
    let cache = Cache::new("breaker", Arc::new(backend.clone()), CacheOptions::default());
    cache.set("k", &1).await.unwrap();
    assert_eq!(backend.circuit_state(), Some(CircuitState::Closed));

    let paused = postgres.hang();
    let started = Instant::now();
    let mut errors = Vec::new();
    for _ in 0..100 {
        errors.push(cache.get::<i64>("k").await.unwrap_err());
    }
    let elapsed = started.elapsed();
    let slow = errors.iter().take_while(|error| !error.is_circuit_open()).count();
    let fast = errors.iter().filter(|error| error.is_circuit_open()).count();
    println!(
        "100 gets on a hung PostgreSQL: {slow} timed out, {fast} failed at once (CircuitOpen), {elapsed:?} in all"
    );
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
    let server = format!("127.0.0.1:{}", postgres.port());
    assert!(
        message.contains(&server) && message.contains("circuit open") && message.contains("options.circuit_cooldown"),
        "the error names the server and the option: {message}"
    );
    assert_eq!(backend.circuit_state(), Some(CircuitState::Open));

    drop(paused);
    let resumed = Instant::now();
    let recovered = loop {
        match cache.get::<i64>("k").await {
            Ok(value) => break value,
            Err(error) => {
                assert!(error.is_retryable(), "{error}");
                // The cool-down may have begun just before SIGCONT, and its probe reconnects.
                assert!(
                    resumed.elapsed() < COOL_DOWN + TIMEOUT + SLACK,
                    "still failing {:?} after SIGCONT: {error}",
                    resumed.elapsed()
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    println!("recovered {:?} after SIGCONT", resumed.elapsed());
    assert_eq!(recovered, Some(1), "a pause loses nothing");
    assert_eq!(backend.circuit_state(), Some(CircuitState::Closed));
    let stats = backend.circuit_stats();
    assert_eq!((stats.opened(), stats.closed()), (1, 1), "{stats:?}");
    assert!(stats.rejected() >= 100 - u64::from(FAILURES), "{stats:?}");
}

#[test]
fn sqlite_has_no_circuit_breaker() {
    let dir = tempfile::tempdir().unwrap();
    let backend = DbBackend::builder()
        .table("django_cache")
        .database(dir.path().join("cache.sqlite3").to_str().unwrap())
        .build()
        .unwrap();
    assert_eq!(backend.circuit_state(), None);
    assert_eq!(backend.circuit_stats().opened(), 0);
}

#[test]
fn circuit_options_out_of_range_are_errors_naming_the_option() {
    let error = DbBackend::builder()
        .table("django_cache")
        .database("postgres://127.0.0.1:1/db")
        .circuit_failures(10_001)
        .build()
        .unwrap_err()
        .to_string();
    assert!(error.contains("circuit_failures"), "{error}");
    let error = DbBackend::builder()
        .table("django_cache")
        .database("postgres://127.0.0.1:1/db")
        .circuit_cooldown(Duration::ZERO)
        .build()
        .unwrap_err()
        .to_string();
    assert!(error.contains("circuit_cooldown"), "{error}");
}
