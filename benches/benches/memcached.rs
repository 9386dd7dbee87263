//! memcached: 50 concurrent tasks doing `Cache::get` hits through the façade and cache-memcached,
//! next to the clients a user would pick instead and `memcaslap`, all on one server started here,
//! in one run; then `get_many` of 100 keys.
//!
//! Run: `cargo bench -p cache-benches --bench memcached`. It needs `memcached`, and `memcaslap` (or
//! `memaslap`) from Debian's `libmemcached-tools` for the load generator's row; without it that row
//! is skipped. `MEMCACHED_BENCH_SECONDS` sets each throughput measurement (default 3) and
//! `MEMCACHED_BENCH_ROUNDS` how many times each is repeated (default 3; the median is reported).
//! Ratios are recorded in benches/README.md.

use std::future::Future;
use std::hint::black_box;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_memcached::AsciiProtocol;
use cache_benches::median;
use cache_core::testkit::servers::MemcachedServer;
use cache_core::{Cache, CacheBackend, CacheOptions, Timeout};
use cache_memcached::MemcachedBackend;
use criterion::{Criterion, Throughput};
use tokio::runtime::Runtime;

/// Concurrent callers.
const TASKS: usize = 50;
/// Keys in the working set, all present.
const KEYS: usize = 10_000;
/// Keys per `get_many`.
const BATCH: usize = 100;

/// 58 characters: 60 bytes once the façade has JSON-encoded it, like memcaslap's 60-byte values.
fn value() -> String {
    "a small cached value of fifty-eight bytes, like a fragment".to_owned()
}

fn keys() -> Arc<Vec<String>> {
    Arc::new((0..KEYS).map(|i| format!("user:{i}")).collect())
}

fn made(key: &str) -> String {
    format!(":1:{key}")
}

fn seconds_from_env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs `TASKS` copies of `task` (given its index, a stop flag and its own counter) for a warm-up
/// and then `measure`; returns operations per second over the measured part.
async fn throughput<F, Fut>(measure: Duration, task: F) -> f64
where
    F: Fn(usize, Arc<AtomicBool>, Arc<AtomicU64>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let counters: Vec<Arc<AtomicU64>> = (0..TASKS).map(|_| Arc::new(AtomicU64::new(0))).collect();
    let handles: Vec<_> = counters
        .iter()
        .enumerate()
        .map(|(t, counter)| tokio::spawn(task(t, Arc::clone(&stop), Arc::clone(counter))))
        .collect();
    let total = || counters.iter().map(|c| c.load(Ordering::Relaxed)).sum::<u64>();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (start_ops, started) = (total(), Instant::now());
    tokio::time::sleep(measure).await;
    let (end_ops, elapsed) = (total(), started.elapsed());
    stop.store(true, Ordering::Relaxed);
    for handle in handles {
        handle.await.expect("a bench task panicked");
    }
    (end_ops - start_ops) as f64 / elapsed.as_secs_f64()
}

/// The `get` loop every contender runs: keys spread over the working set, each task its own stride.
macro_rules! get_loop {
    ($stop:ident, $counter:ident, $t:ident, $keys:ident, |$key:ident| $get:expr) => {{
        let mut i = $t * 211;
        while !$stop.load(Ordering::Relaxed) {
            let $key = &$keys[i % KEYS];
            black_box($get);
            $counter.fetch_add(1, Ordering::Relaxed);
            i += 1;
        }
    }};
}

struct Contenders {
    location: String,
    cache: Cache,
    backend: MemcachedBackend,
    exp: memcache::exp::AsyncMetaClient,
    blocking: memcache::Client,
    keys: Arc<Vec<String>>,
    made_keys: Arc<Vec<String>>,
}

impl Contenders {
    async fn new(server: &MemcachedServer) -> Contenders {
        let location = server.location();
        let backend = MemcachedBackend::builder().server(location.as_str()).build().unwrap();
        let cache = Cache::new("bench", Arc::new(backend.clone()), CacheOptions::default());
        let keys = keys();
        for chunk in keys.chunks(500) {
            let failed = cache
                .set_many(chunk.iter().map(|k| (k.as_str(), value())))
                .timeout(Timeout::Never)
                .await
                .unwrap();
            assert!(failed.is_empty());
        }
        let exp = memcache::exp::AsyncMetaClient::builder()
            .max_idle(TASKS)
            .connect_async(location.clone())
            .await
            .unwrap();
        let blocking = memcache::Client::with_pool_size(format!("memcache://{location}"), TASKS as u32).unwrap();
        let made_keys = Arc::new(keys.iter().map(|k| made(k)).collect());
        Contenders {
            location,
            cache,
            backend,
            exp,
            blocking,
            keys,
            made_keys,
        }
    }

    async fn facade_get(&self, measure: Duration) -> f64 {
        throughput(measure, |t, stop, counter| {
            let (cache, keys) = (self.cache.clone(), Arc::clone(&self.keys));
            async move {
                get_loop!(stop, counter, t, keys, |key| cache
                    .get::<String>(key)
                    .await
                    .unwrap()
                    .unwrap())
            }
        })
        .await
    }

    async fn backend_get(&self, measure: Duration) -> f64 {
        throughput(measure, |t, stop, counter| {
            let (backend, keys) = (self.backend.clone(), Arc::clone(&self.made_keys));
            async move { get_loop!(stop, counter, t, keys, |key| backend.get(key).await.unwrap().unwrap()) }
        })
        .await
    }

    async fn exp_get(&self, measure: Duration) -> f64 {
        throughput(measure, |t, stop, counter| {
            let (client, keys) = (self.exp.clone(), Arc::clone(&self.made_keys));
            async move {
                get_loop!(stop, counter, t, keys, |key| client
                    .get(key)
                    .send()
                    .await
                    .unwrap()
                    .value
                    .unwrap())
            }
        })
        .await
    }

    async fn async_memcached_get(&self, measure: Duration) -> f64 {
        // One client (one connection) per task: the crate's client is `&mut self`, unpooled.
        let mut clients = Vec::with_capacity(TASKS);
        for _ in 0..TASKS {
            clients.push(
                async_memcached::Client::new(format!("tcp://{}", self.location))
                    .await
                    .unwrap(),
            );
        }
        let clients = Arc::new(parking_lot::Mutex::new(clients));
        throughput(measure, |t, stop, counter| {
            let (clients, keys) = (Arc::clone(&clients), Arc::clone(&self.made_keys));
            async move {
                let mut client = clients.lock().pop().unwrap();
                get_loop!(stop, counter, t, keys, |key| client.get(key).await.unwrap().unwrap())
            }
        })
        .await
    }

    async fn blocking_get(&self, measure: Duration) -> f64 {
        throughput(measure, |t, stop, counter| {
            let (client, keys) = (self.blocking.clone(), Arc::clone(&self.made_keys));
            async move {
                get_loop!(stop, counter, t, keys, |key| {
                    let (client, key) = (client.clone(), key.clone());
                    tokio::task::spawn_blocking(move || client.get::<Vec<u8>>(&key).unwrap().unwrap())
                        .await
                        .unwrap()
                })
            }
        })
        .await
    }
}

/// `memcaslap` (Debian's name) or `memaslap`, whichever is installed.
fn load_generator() -> Option<&'static str> {
    ["memcaslap", "memaslap"].into_iter().find(|name| {
        Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success() || !out.stdout.is_empty())
    })
}

/// Runs the load generator with `TASKS` connections doing gets of 60-byte values only, and returns
/// the gets per second the server counted (`cmd_get`) once its warm-up sets are done, over the same
/// `measure` as the other rows.
async fn memcaslap(tool: &str, contenders: &Contenders, threads: usize, measure: Duration) -> Option<f64> {
    let config = std::env::temp_dir().join(format!("cache-benches-memcaslap-{}.cfg", std::process::id()));
    std::fs::write(&config, "key\n16 16 1\nvalue\n60 60 1\ncmd\n0 0.0\n1 1.0\n").ok()?;
    let run_for = measure + Duration::from_secs(3);
    let child = Command::new(tool)
        .args(["-s", &contenders.location, "-F"])
        .arg(&config)
        .args(["-t", &format!("{}s", run_for.as_secs())])
        .args(["-T", &threads.to_string(), "-c", &TASKS.to_string(), "-w", "1k"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    let gets = || async {
        let stats = contenders.backend.stats().await.unwrap();
        stats[0].number("cmd_get").unwrap()
    };
    // Its 51 200 warm-up sets take well under a second.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (before, started) = (gets().await, Instant::now());
    tokio::time::sleep(measure).await;
    let (after, elapsed) = (gets().await, started.elapsed());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .ok()?
        .ok()?;
    let _ = std::fs::remove_file(&config);
    let text = String::from_utf8_lossy(&output.stdout);
    if !text.contains("TPS:") {
        eprintln!("{tool} did not finish a run:\n{text}");
        return None;
    }
    Some((after - before) as f64 / elapsed.as_secs_f64())
}

fn get_throughput(runtime: &Runtime, contenders: &Contenders) {
    let seconds = seconds_from_env("MEMCACHED_BENCH_SECONDS", 3).max(1);
    let rounds = seconds_from_env("MEMCACHED_BENCH_ROUNDS", 3).max(1) as usize;
    let measure = Duration::from_secs(seconds);
    let tool = load_generator();
    let names = [
        "Cache::get::<String> (façade + cache-memcached)",
        "MemcachedBackend::get (cache-memcached, no façade)",
        "memcache 0.21 exp::AsyncMetaClient",
        "async-memcached 0.9 (one connection per task)",
        "memcache 0.21 Client (sync) via spawn_blocking",
        "memcaslap -T 1 -c 50 (gets/s the server counted)",
        "memcaslap -T 2 -c 50 (gets/s the server counted)",
    ];
    let mut results: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for round in 0..rounds {
        eprintln!("memcached get throughput: round {} of {rounds}", round + 1);
        results[0].push(runtime.block_on(contenders.facade_get(measure)));
        results[1].push(runtime.block_on(contenders.backend_get(measure)));
        results[2].push(runtime.block_on(contenders.exp_get(measure)));
        results[3].push(runtime.block_on(contenders.async_memcached_get(measure)));
        results[4].push(runtime.block_on(contenders.blocking_get(measure)));
        if let Some(tool) = tool {
            for (row, threads) in [(5, 1), (6, 2)] {
                if let Some(tps) = runtime.block_on(memcaslap(tool, contenders, threads, measure)) {
                    results[row].push(tps);
                }
            }
        }
    }
    let medians: Vec<Option<f64>> = results
        .into_iter()
        .map(|r| (!r.is_empty()).then(|| median(r)))
        .collect();
    let reference = medians[5]
        .into_iter()
        .chain(medians[6])
        .fold(None, |best: Option<f64>, v| Some(best.map_or(v, |b| b.max(v))));
    println!(
        "\nget hits, {TASKS} concurrent callers, 60-byte values, one memcached (-t 2), median of {rounds} x {seconds} s:"
    );
    println!("{:<52} {:>12} {:>16}", "", "ops/s", "× best memcaslap");
    for (name, ops) in names.iter().zip(&medians) {
        match (ops, reference) {
            (Some(ops), Some(reference)) => println!("{name:<52} {ops:>12.0} {:>16.2}", ops / reference),
            (Some(ops), None) => println!("{name:<52} {ops:>12.0} {:>16}", "-"),
            (None, _) => println!("{name:<52} {:>12} (install libmemcached-tools)", "skipped"),
        }
    }
    println!();
}

fn get_many(c: &mut Criterion, runtime: &Runtime, contenders: &Contenders) {
    let mut group = c.benchmark_group("memcached_get_many_100");
    group.throughput(Throughput::Elements(BATCH as u64));
    let batch: Vec<String> = contenders.keys.iter().step_by(KEYS / BATCH).cloned().collect();
    let made_batch: Vec<String> = batch.iter().map(|k| made(k)).collect();
    let made_refs: Vec<&str> = made_batch.iter().map(String::as_str).collect();

    group.bench_function("facade_get_many_raw", |b| {
        b.iter(|| {
            let found = runtime
                .block_on(async { contenders.cache.get_many_raw(&batch).await })
                .unwrap();
            assert_eq!(found.len(), BATCH);
            black_box(found)
        })
    });
    group.bench_function("backend_get_many", |b| {
        b.iter(|| black_box(runtime.block_on(contenders.backend.get_many(&made_refs)).unwrap()))
    });
    group.bench_function("facade_100_sequential_gets", |b| {
        b.iter(|| {
            runtime.block_on(async {
                for key in &batch {
                    black_box(contenders.cache.get_raw(key).await.unwrap());
                }
            })
        })
    });
    group.bench_function("exp_async_meta_client_run_many", |b| {
        b.iter(|| {
            let gets = made_batch.iter().map(memcache::exp::Get::new);
            black_box(runtime.block_on(contenders.exp.run_many(gets)).unwrap())
        })
    });
    let mut client = runtime
        .block_on(async_memcached::Client::new(format!("tcp://{}", contenders.location)))
        .unwrap();
    group.bench_function("async_memcached_get_multi", |b| {
        b.iter(|| black_box(runtime.block_on(client.get_multi(&made_batch)).unwrap()))
    });
    group.finish();
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(MemcachedServer::start()).expect("memcached starts");
    let contenders = runtime.block_on(Contenders::new(&server));
    let mut criterion = Criterion::default()
        .configure_from_args()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    // `cargo bench -- <filter>` that names only the criterion group skips the throughput table.
    let filtered = std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"memcached_get_throughput".contains(&a));
    if !filtered {
        get_throughput(&runtime, &contenders);
    }
    get_many(&mut criterion, &runtime, &contenders);
    criterion.final_summary();
}
