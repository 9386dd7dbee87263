//! What an operator sees, against real memcached servers: the counters and latency histogram in
//! the `metrics` facade (read through `metrics-util`'s debugging recorder), the debug span of
//! each call, and a health check that names the server that stopped answering.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use cache_core::testkit::servers::MemcachedServer;
use cache_core::{Backends, Cache, Caches, CachesConfig, ConfigFormat, HealthStatus, ServerRole};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

fn caches(toml: &str) -> Caches {
    let config = CachesConfig::from_str_with_env(toml, ConfigFormat::Toml, [] as [(&str, &str); 0]).unwrap();
    let mut backends = Backends::new();
    backends.register(cache_memcached::registration());
    Caches::build(&config, &backends).unwrap()
}

/// The process' recorder: installed once, read by every test of this binary (each its own alias).
fn snapshotter() -> &'static Snapshotter {
    static SNAPSHOTTER: OnceLock<Snapshotter> = OnceLock::new();
    SNAPSHOTTER.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder.install().expect("no other recorder in this test binary");
        snapshotter
    })
}

/// Every series of `alias`, as `(name, operation, kind, value)`.
fn series_of(alias: &str) -> Vec<(String, String, Option<String>, DebugValue)> {
    let mut found = Vec::new();
    for (key, _, _, value) in snapshotter().snapshot().into_vec() {
        let key = key.key();
        let label = |name: &str| {
            key.labels()
                .find(|label| label.key() == name)
                .map(|label| label.value().to_owned())
        };
        if label("alias").as_deref() != Some(alias) {
            continue;
        }
        assert_eq!(label("backend").as_deref(), Some("memcached"));
        found.push((key.name().to_owned(), label("operation").unwrap(), label("kind"), value));
    }
    found
}

fn counter(
    series: &[(String, String, Option<String>, DebugValue)],
    name: &str,
    operation: &str,
    kind: Option<&str>,
) -> u64 {
    series
        .iter()
        .filter(|(n, op, k, _)| n == name && op == operation && k.as_deref() == kind)
        .map(|(_, _, _, value)| match value {
            DebugValue::Counter(count) => *count,
            other => panic!("{name} is not a counter: {other:?}"),
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_facade_counts_hits_misses_coalesced_waits_timeouts_and_caller_errors() {
    snapshotter();
    let server = MemcachedServer::start().await.unwrap();
    let caches = caches(&format!(
        "[caches.default]\nbackend = \"memcached\"\nlocation = \"{}\"\n\
         options = {{ timeout = 0.3, latency_histogram = true, circuit_failures = 100 }}",
        server.location()
    ));
    let cache = caches.default_cache();
    let cache = Cache::new("observed", cache.backend().clone(), cache.options().clone());

    cache.set("k", &1).await.unwrap();
    assert_eq!(cache.get::<i64>("k").await.unwrap(), Some(1));
    assert_eq!(cache.get::<i64>("missing").await.unwrap(), None);
    assert!(
        cache
            .incr("missing", 1)
            .await
            .unwrap_err()
            .to_string()
            .contains("not found")
    );

    // 20 callers miss the same key at once: one produces, the others wait for its value.
    let produced = Arc::new(Mutex::new(0));
    let callers = (0..20).map(|_| {
        let (cache, produced) = (cache.clone(), produced.clone());
        tokio::spawn(async move {
            cache
                .get_or_set("flight", async move || {
                    *produced.lock().unwrap() += 1;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    7i64
                })
                .await
                .unwrap()
        })
    });
    for caller in futures::future::join_all(callers).await {
        assert_eq!(caller.unwrap(), 7);
    }
    assert_eq!(*produced.lock().unwrap(), 1);

    // A paused server: the read times out, and that is the server's error.
    let hung = server.hang();
    assert!(cache.get::<i64>("k").await.unwrap_err().is_timeout());
    hung.resume();

    let series = series_of("observed");
    let in_process = cache.metrics();
    println!("{in_process:?}");
    assert_eq!(counter(&series, "cache_hits_total", "get", None), 1);
    assert_eq!(counter(&series, "cache_misses_total", "get", None), 1);
    assert_eq!(counter(&series, "cache_sets_total", "set", None), 1);
    assert_eq!(
        counter(&series, "cache_misses_total", "get_or_set", None),
        1,
        "one leader missed"
    );
    let coalesced = counter(&series, "cache_coalesced_total", "get_or_set", None);
    let hits = counter(&series, "cache_hits_total", "get_or_set", None);
    assert_eq!(
        coalesced + hits,
        19,
        "the others waited for the leader or read its value"
    );
    assert!(coalesced >= 1, "no caller waited for the leader");
    assert_eq!(counter(&series, "cache_errors_total", "get", Some("timeout")), 1);
    assert_eq!(
        counter(&series, "cache_caller_errors_total", "incr", Some("key_not_found")),
        1
    );
    assert_eq!(counter(&series, "cache_errors_total", "incr", Some("key_not_found")), 0);
    // The in-process counters say the same.
    assert_eq!(
        (in_process.coalesced(), in_process.errors(), in_process.caller_errors()),
        (coalesced, 1, 1)
    );
    assert_eq!(in_process.misses(), 2, "a coalesced wait is not a miss");
    let durations = series
        .iter()
        .find(|(name, op, _, _)| name == "cache_operation_duration_seconds" && op == "get")
        .map(|(_, _, _, value)| value);
    match durations {
        Some(DebugValue::Histogram(samples)) => {
            assert_eq!(samples.len(), 3, "{samples:?}");
            assert!(
                samples.iter().all(|seconds| seconds.0 > 0.0 && seconds.0 < 5.0),
                "{samples:?}"
            );
        }
        other => panic!("no latency histogram for get: {other:?}"),
    }
    server.stop();
}

/// A `Write` the fmt subscriber formats spans into, shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logged_calls(log_keys: bool) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(async {
            let server = MemcachedServer::start().await.unwrap();
            let caches = caches(&format!(
                "[caches.default]\nbackend = \"memcached\"\nlocation = \"{}\"\noptions = {{ log_keys = {log_keys} }}",
                server.location()
            ));
            let cache = caches.default_cache();
            cache.set("user:alice@example.com", &1).await.unwrap();
            cache.get::<i64>("user:alice@example.com").await.unwrap();
            cache.get::<i64>("user:bob@example.com").await.unwrap();
            let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
            assert!(log.contains(&format!("server={}", server.location())), "{log}");
            server.stop();
        })
    });
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    println!("{log}");
    log
}

#[test]
fn each_call_is_a_debug_span_naming_alias_operation_backend_server_outcome_and_duration() {
    let log = logged_calls(false);
    let lines: Vec<&str> = log.lines().filter(|line| line.contains("cache{")).collect();
    assert_eq!(lines.len(), 3, "{log}");
    for (line, (operation, outcome)) in lines.iter().zip([("set", "ok"), ("get", "hit"), ("get", "miss")]) {
        assert!(line.contains("DEBUG"), "{line}");
        assert!(line.contains("alias=\"default\""), "{line}");
        assert!(line.contains(&format!("operation=\"{operation}\"")), "{line}");
        assert!(line.contains("backend=\"memcached\""), "{line}");
        assert!(line.contains(&format!("outcome=\"{outcome}\"")), "{line}");
        assert!(line.contains("elapsed_us="), "{line}");
    }
    // Keys are hashed: the same key gives the same digest, and the key itself is nowhere.
    assert!(!log.contains("alice"), "{log}");
    let digest = |line: &str| line.split("key=").nth(1).unwrap().split(' ').next().unwrap().to_owned();
    assert_eq!(digest(lines[0]), digest(lines[1]));
    assert_ne!(digest(lines[1]), digest(lines[2]));
    assert!(
        digest(lines[0]).starts_with('#') && digest(lines[0]).len() == 17,
        "{}",
        lines[0]
    );
}

#[test]
fn an_alias_that_opts_in_logs_keys_as_they_are() {
    let log = logged_calls(true);
    assert!(log.contains("key=user:alice@example.com"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_paused_server_of_two_makes_the_alias_degraded_and_is_named() {
    let (up, paused) = (
        MemcachedServer::start().await.unwrap(),
        MemcachedServer::start().await.unwrap(),
    );
    let caches = caches(&format!(
        "[caches.default]\nbackend = \"memcached\"\nlocation = [\"{}\", \"{}\"]\noptions = {{ timeout = 0.3 }}",
        up.location(),
        paused.location()
    ));
    let healthy = caches.check().await;
    assert_eq!(healthy[0].status, HealthStatus::Healthy);
    assert_eq!(healthy[0].servers.len(), 2);

    let hung = paused.hang();
    let report = caches.check().await;
    let alias = &report[0];
    assert_eq!(
        (alias.alias.as_str(), alias.backend, alias.status),
        ("default", "memcached", HealthStatus::Degraded)
    );
    let failing: Vec<_> = alias.failing().collect();
    assert_eq!(failing.len(), 1);
    assert_eq!(failing[0].server, paused.location());
    assert_eq!(failing[0].role, ServerRole::Server);
    assert!(failing[0].status.as_ref().unwrap_err().is_timeout());
    assert!(
        alias
            .servers
            .iter()
            .any(|server| server.server == up.location() && server.is_up())
    );
    hung.resume();
    up.stop();
    paused.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_aliases_on_one_paused_server_are_checked_at_once() {
    let server = MemcachedServer::start().await.unwrap();
    let alias = |name: &str| {
        format!(
            "[caches.{name}]\nbackend = \"memcached\"\nlocation = \"{}\"\noptions = {{ timeout = 0.5 }}\n",
            server.location()
        )
    };
    let caches = caches(&[alias("default"), alias("sessions"), alias("pages")].concat());
    let hung = server.hang();
    let started = Instant::now();
    let report = caches.check().await;
    let took = started.elapsed();
    println!("three aliases on a paused server checked in {took:?}");
    assert_eq!(report.len(), 3);
    assert!(report.iter().all(|alias| alias.status == HealthStatus::Down));
    // Checked one after another, the three timeouts would add up to 1.5 s at the least.
    assert!(
        took < Duration::from_millis(1500),
        "the aliases were not probed concurrently: {took:?}"
    );
    hung.resume();
    server.stop();
}
