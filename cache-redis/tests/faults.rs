//! Faults: a server that dies under load and comes back, one that hangs, and the configuration and
//! credential mistakes a user makes, each reported naming the alias.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cache_core::testkit::servers::{ClosedPort, RedisServer};
use cache_core::{CacheError, Location};
use serde_json::json;

const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);
/// Scheduling noise on a loaded two-core machine, on top of the configured timeout.
const SLACK: Duration = Duration::from_millis(250);

/// Stop the server while 50 tasks run get/set: every call returns `Ok` or a retryable error within
/// the response timeout, and no read returns a value its task didn't write. Restarted on the same
/// port (empty), calls succeed again within 2 s, with the same `Cache`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_dies_under_load_and_comes_back() {
    let server = RedisServer::start().await.unwrap();
    let options = json!({"response_timeout": RESPONSE_TIMEOUT.as_secs_f64(), "connect_timeout": 0.5});
    let cache = common::cache("faulty", Location::One(server.url()), "", options).unwrap();
    cache.set("warm", &1).await.unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let restarted_at = Arc::new(parking_lot::Mutex::new(None::<Instant>));
    let (oks, errors) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let tasks: Vec<_> = (0..50u64)
        .map(|task| {
            let (cache, stop, restarted_at) = (cache.clone(), stop.clone(), restarted_at.clone());
            let (oks, errors) = (oks.clone(), errors.clone());
            tokio::spawn(async move {
                let key = format!("task:{task}");
                let mut written = 0u64;
                let mut ok_after_restart = None;
                while !stop.load(Ordering::Relaxed) {
                    written += 1;
                    let value = task * 1_000_000 + written;
                    let started = Instant::now();
                    let set = cache.set(&key, &value).await;
                    let set_took = started.elapsed();
                    let got = cache.get::<u64>(&key).await;
                    let get_took = started.elapsed() - set_took;
                    assert!(set_took <= RESPONSE_TIMEOUT + SLACK, "a set took {set_took:?}");
                    assert!(get_took <= RESPONSE_TIMEOUT + SLACK, "a get took {get_took:?}");
                    tally(set.as_ref().map(drop), &oks, &errors);
                    tally(got.as_ref().map(drop), &oks, &errors);
                    match got {
                        Ok(Some(read)) => {
                            assert_eq!(read / 1_000_000, task, "another task's value");
                            assert!(read % 1_000_000 <= written, "a value not written yet");
                            if let Some(restart) = *restarted_at.lock() {
                                ok_after_restart.get_or_insert(restart.elapsed());
                            }
                        }
                        Ok(None) => {}
                        Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                    }
                }
                ok_after_restart
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(300)).await;
    server.stop();
    let errors_before = errors.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        errors.load(Ordering::Relaxed) > errors_before,
        "calls fail while the server is down"
    );
    server.restart().await.unwrap();
    *restarted_at.lock() = Some(Instant::now());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut slowest = Duration::ZERO;
    for task in tasks {
        let recovered = task
            .await
            .expect("no task panicked")
            .expect("every task read its value after the restart");
        slowest = slowest.max(recovered);
    }
    println!(
        "{} calls succeeded, {} failed retryably; every task read its own value again {slowest:?} after the restart",
        oks.load(Ordering::Relaxed),
        errors.load(Ordering::Relaxed)
    );
    assert!(
        slowest < Duration::from_secs(2),
        "the first good read after the restart took {slowest:?}"
    );
    assert!(oks.load(Ordering::Relaxed) > 0);
    assert_eq!(
        cache.get::<u64>("task:0").await.unwrap().map(|value| value / 1_000_000),
        Some(0)
    );
    server.stop();
}

/// Counts one call's outcome; an error must be retryable and name the alias and the server.
fn tally(result: Result<(), &CacheError>, oks: &AtomicU64, errors: &AtomicU64) {
    match result {
        Ok(()) => oks.fetch_add(1, Ordering::Relaxed),
        Err(error) => {
            assert!(error.is_retryable(), "not retryable: {error}");
            let message = error.to_string();
            assert!(
                message.starts_with("cache alias `faulty`, key 'task:") && message.contains("': redis "),
                "{message}"
            );
            errors.fetch_add(1, Ordering::Relaxed)
        }
    };
}

/// A server that stops answering (SIGSTOP): the call fails, retryably, when the response timeout
/// passes, and works again once the server resumes.
#[tokio::test]
async fn a_hung_server_times_out() {
    let server = RedisServer::start().await.unwrap();
    let options = json!({"response_timeout": RESPONSE_TIMEOUT.as_secs_f64()});
    let cache = common::cache("hung", Location::One(server.url()), "", options).unwrap();
    cache.set("k", &1).await.unwrap();
    let hung = server.hang();
    let started = Instant::now();
    let error = cache.get::<i64>("k").await.unwrap_err();
    let elapsed = started.elapsed();
    hung.resume();
    assert!(
        elapsed >= RESPONSE_TIMEOUT && elapsed <= RESPONSE_TIMEOUT + SLACK,
        "{elapsed:?}"
    );
    assert!(error.is_retryable(), "{error}");
    let message = error.to_string();
    assert!(
        error.is_timeout()
            && message.starts_with("cache alias `hung`, key 'k': redis redis://127.0.0.1:")
            && message.contains("GET got no answer within 500ms (options.response_timeout)"),
        "{message}"
    );
    assert_eq!(cache.get::<i64>("k").await.unwrap(), Some(1));
    server.stop();
}

#[tokio::test]
async fn a_wrong_password_is_a_clear_permanent_error() {
    let server = RedisServer::start().await.unwrap();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("requirepass")
        .arg("s3cret")
        .query_async(&mut common::raw(&server.url()).await)
        .await
        .unwrap();
    let address = server.address();
    let wrong = common::cache(
        "secured",
        Location::One(format!("redis://:wrong@{address}")),
        "",
        json!({}),
    )
    .unwrap();
    let error = wrong.get::<i64>("k").await.unwrap_err();
    assert!(!error.is_retryable(), "{error}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "cache alias `secured`, key 'k': redis redis://:***@{address}: GET failed: authentication failed"
        )),
        "{message}"
    );
    assert!(message.contains("check the user name and password"), "{message}");
    assert!(!message.contains("wrong"), "the password is not shown: {message}");

    let missing = common::cache("anonymous", Location::One(server.url()), "", json!({})).unwrap();
    let message = missing.set("k", &1).await.unwrap_err().to_string();
    assert!(
        message.starts_with("cache alias `anonymous`, key 'k': redis "),
        "{message}"
    );
    assert!(message.contains("authentication"), "{message}");

    let right = common::cache(
        "secured",
        Location::One(format!("redis://:s3cret@{address}/1")),
        "",
        json!({}),
    )
    .unwrap();
    right.set("k", &1).await.unwrap();
    assert_eq!(right.get::<i64>("k").await.unwrap(), Some(1));
    assert!(
        !format!("{:?}", right.backend()).contains("s3cret"),
        "Debug hides the password"
    );
    server.stop();
}

#[tokio::test]
async fn a_closed_port_is_a_retryable_error_and_check_reports_it() {
    // Reserved, not just found free: a server another test starts could otherwise be given it.
    let closed = ClosedPort::reserve().unwrap();
    let port = closed.port();
    let url = format!("redis://127.0.0.1:{port}");
    // Building doesn't connect: a server may come up after the application.
    let cache = common::cache("offline", Location::One(url.clone()), "", json!({})).unwrap();
    let started = Instant::now();
    let error = cache.get::<i64>("k").await.unwrap_err();
    assert!(started.elapsed() < RedisOptionsDefaults::RESPONSE + SLACK);
    assert!(error.is_retryable(), "{error}");
    let message = error.to_string();
    assert!(
        error.is_unavailable()
            && message.starts_with(&format!("cache alias `offline`, key 'k': redis {url}: GET failed: ")),
        "{message}"
    );
    assert!(message.to_ascii_lowercase().contains("refused"), "{message}");

    let mut entry = cache_core::AliasConfig::new("redis");
    entry.location = Location::One(url);
    let mut config = cache_core::CachesConfig::default();
    config.aliases.insert("default".into(), entry);
    let caches = cache_core::Caches::build(&config, &common::backends()).unwrap();
    let health = caches.check().await;
    assert_eq!(health.len(), 1);
    assert_eq!(health[0].status, cache_core::HealthStatus::Down);
    assert_eq!(health[0].servers.len(), 1);
    let probe = health[0].servers[0].status.as_ref().unwrap_err();
    assert!(probe.is_retryable() && probe.is_unavailable(), "{probe}");
}

struct RedisOptionsDefaults;

impl RedisOptionsDefaults {
    const RESPONSE: Duration = cache_redis::RedisOptions::DEFAULT_RESPONSE_TIMEOUT;
}

#[test]
fn malformed_locations_and_options_fail_the_build_naming_the_alias() {
    let cases = [
        (
            json!("redis//127.0.0.1:6379"),
            json!({}),
            "cache alias `broken`: location: `redis//127.0.0.1:6379` is not a Redis URL",
        ),
        (
            json!("redis://127.0.0.1:notaport"),
            json!({}),
            "cache alias `broken`: location: `redis://127.0.0.1:notaport` is not a Redis URL",
        ),
        (
            json!(["redis://127.0.0.1", "memcached://:pw@127.0.0.1"]),
            json!({}),
            "cache alias `broken`: location[1]: `memcached://:***@127.0.0.1` is not a Redis URL",
        ),
        (
            json!(null),
            json!({}),
            "cache alias `broken`: location: a Redis alias needs at least one server URL",
        ),
        (
            json!("redis://127.0.0.1"),
            json!({"max_entries": 30}),
            "cache alias `broken`: options.max_entries: unknown option",
        ),
        (
            json!("redis://127.0.0.1"),
            json!({"wait_for_replicas": true}),
            "cache alias `broken`: options.wait_for_replicas: needs at least two locations",
        ),
    ];
    for (location, options, expected) in cases {
        let location = match location {
            serde_json::Value::String(one) => Location::One(one),
            serde_json::Value::Array(many) => {
                Location::Many(many.iter().map(|url| url.as_str().unwrap().to_owned()).collect())
            }
            _ => Location::Unset,
        };
        let error = common::cache("broken", location, "", options).unwrap_err();
        // The helper's `default` alias shares the location, so its problems are reported too.
        let broken = error
            .problems()
            .iter()
            .find(|problem| matches!(problem, CacheError::Config { alias: Some(alias), .. } if alias == "broken"))
            .unwrap_or_else(|| panic!("no problem of `broken` in {error:?}"));
        let message = broken.to_string();
        assert!(
            message.starts_with(expected),
            "{message}\n  expected it to start with: {expected}"
        );
    }
}

#[cfg(not(feature = "tls"))]
#[test]
fn tls_locations_need_the_feature() {
    let error = common::cache("secure", Location::One("rediss://127.0.0.1".into()), "", json!({})).unwrap_err();
    assert!(
        error.to_string().contains("enable the `tls` feature of cache-redis"),
        "{error}"
    );
}
