//! The Redis backend through the `Cache` façade, next to raw redis-rs (a multiplexed connection,
//! what a user would pick instead) and `redis-benchmark`, all against one `redis-server` that the
//! bench starts itself (the testkit fixture, loopback, persistence off).
//!
//! Run: `cargo bench -p cache-benches --bench redis`. Before criterion's groups it prints a
//! comparison table measured in the same run — 50 tasks doing `Cache::get` hits (with the default
//! batched reads, and with `batch_reads = false`) vs raw redis-rs GETs vs
//! `redis-benchmark -c 50 -t get`; `get_many(100)` keys/s vs `redis-benchmark -P 16 -t get`
//! — with the ratios recorded in benches/README.md.

use std::future::{Future, IntoFuture};
use std::hint::black_box;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_benches::median;
use cache_core::testkit::servers::RedisServer;
use cache_core::{AliasConfig, Backends, Cache, Caches, CachesConfig, Location};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use redis::aio::MultiplexedConnection;
use tokio::runtime::Runtime;

/// Concurrent callers, as `redis-benchmark -c 50`.
const TASKS: u64 = 50;
/// The concurrent callers of the sweep.
const SWEEP_TASKS: [u64; 7] = [1, 4, 8, 16, 32, 100, 200];
/// Keys in the working set; every GET hits.
const KEYS: usize = 1000;
/// Keys per `get_many` / `set_many`.
const BATCH: usize = 100;
/// A 62-byte value once JSON-encoded (`redis-benchmark -d 62` stores the same size).
const VALUE: &str = "a small cached value of sixty bytes, like a rendered fragment";
/// Operations per contender and round of the comparison table.
const GETS_PER_ROUND: u64 = 200_000;
const ROUNDS: usize = 5;
/// GETs per criterion iteration of the 50-task group.
const GETS_PER_ITERATION: u64 = 5_000;

struct Bench {
    runtime: Runtime,
    server: RedisServer,
    cache: Cache,
    /// The same server with `options.batch_reads = false`: every `get` a `GET` of its own.
    unbatched: Cache,
    raw: MultiplexedConnection,
    /// The caller's keys, and the keys the façade makes of them (`:1:<key>`), for raw redis-rs.
    keys: Arc<Vec<String>>,
    made: Arc<Vec<String>>,
}

impl Bench {
    fn start() -> Bench {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let server = runtime.block_on(RedisServer::start()).expect("redis-server starts");
        let mut entry = AliasConfig::new("redis");
        entry.location = Location::One(server.url());
        let mut unbatched = entry.clone();
        let options = serde_json::json!({"batch_reads": false});
        unbatched.options = cache_core::Options::from_map(options.as_object().expect("an object").clone());
        let mut config = CachesConfig::default();
        config.aliases.insert("default".into(), entry);
        config.aliases.insert("unbatched".into(), unbatched);
        let mut backends = Backends::new();
        backends.register(cache_redis::registration());
        let caches = Caches::build(&config, &backends).expect("the aliases build");
        let (cache, unbatched) = (caches.default_cache(), caches.get("unbatched").expect("defined"));
        let keys: Vec<String> = (0..KEYS).map(|i| format!("user:{i}:profile")).collect();
        let made = keys.iter().map(|key| cache.make_key(key, None)).collect();
        let raw = runtime.block_on(async {
            cache
                .set_many(keys.iter().map(|key| (key.as_str(), VALUE)))
                .timeout(cache_core::Timeout::Never)
                .await
                .expect("the working set is stored");
            let raw = redis::Client::open(server.url()).unwrap();
            let mut raw = raw.get_multiplexed_async_connection().await.expect("redis-rs connects");
            // redis-benchmark's GET reads this one key; give it a value of the same size.
            let _: () = redis::cmd("SET")
                .arg("key:__rand_int__")
                .arg(serde_json_string(VALUE))
                .query_async(&mut raw)
                .await
                .unwrap();
            raw
        });
        Bench {
            runtime,
            server,
            cache,
            unbatched,
            raw,
            keys: Arc::new(keys),
            made: Arc::new(made),
        }
    }

    /// Runs `task(0..tasks)` as that many tokio tasks at once; the time until all have ended.
    fn timed<Fut>(&self, tasks: u64, task: impl Fn(u64) -> Fut) -> Duration
    where
        Fut: Future<Output = ()> + Send + 'static,
    {
        let started = Instant::now();
        self.runtime.block_on(async {
            let running: Vec<_> = (0..tasks).map(|n| tokio::spawn(task(n))).collect();
            for task in running {
                task.await.unwrap();
            }
        });
        started.elapsed()
    }

    /// `total` `get` hits on `cache` from `tasks` tasks; the time they took.
    fn cache_gets(&self, cache: &Cache, tasks: u64, total: u64) -> Duration {
        self.timed(tasks, |task| {
            let (cache, keys) = (cache.clone(), self.keys.clone());
            async move {
                for i in share(total, task, tasks) {
                    let value = cache.get::<String>(&keys[i as usize % KEYS]).await.unwrap();
                    assert!(black_box(value).is_some());
                }
            }
        })
    }

    /// The same GETs with redis-rs: each task a clone of one multiplexed connection.
    fn raw_gets(&self, tasks: u64, total: u64) -> Duration {
        self.timed(tasks, |task| {
            let (mut raw, made) = (self.raw.clone(), self.made.clone());
            async move {
                for i in share(total, task, tasks) {
                    let value: Option<Vec<u8>> = redis::cmd("GET")
                        .arg(&made[i as usize % KEYS])
                        .query_async(&mut raw)
                        .await
                        .unwrap();
                    assert!(black_box(value).is_some());
                }
            }
        })
    }

    /// `calls` `get_many(100)` from `tasks` tasks; the time they took.
    fn cache_get_manys(&self, tasks: u64, calls: u64) -> Duration {
        self.timed(tasks, |task| {
            let (cache, keys) = (self.cache.clone(), self.keys.clone());
            async move {
                for i in share(calls, task, tasks) {
                    let start = (i as usize * BATCH) % (KEYS - BATCH);
                    let found = cache.get_many::<_, String>(&keys[start..start + BATCH]).await.unwrap();
                    assert_eq!(black_box(found).len(), BATCH);
                }
            }
        })
    }

    /// `redis-benchmark -c 50 -t get` (plus `extra`) on the bench's server: requests per second.
    fn redis_benchmark(&self, requests: u64, extra: &[&str]) -> f64 {
        let output = Command::new("redis-benchmark")
            .args(["-h", "127.0.0.1", "-p", &self.server.port().to_string()])
            .args(["-c", "50", "-n", &requests.to_string(), "-t", "get", "-d", "62", "-q"])
            .args(extra)
            .output()
            .expect("redis-benchmark runs (apt: redis-tools)");
        let text = String::from_utf8_lossy(&output.stdout);
        // `GET: 123456.79 requests per second, p50=0.191 msec` (the last of its progress lines).
        text.rsplit("GET: ")
            .next()
            .and_then(|line| line.split_whitespace().next())
            .and_then(|number| number.parse().ok())
            .unwrap_or_else(|| panic!("can't read redis-benchmark's output: {text}"))
    }
}

/// The indexes task `task` of `tasks` handles out of `total`.
fn share(total: u64, task: u64, tasks: u64) -> impl Iterator<Item = u64> {
    (task..total).step_by(tasks as usize)
}

fn serde_json_string(text: &str) -> String {
    format!("\"{text}\"")
}

fn per_second(operations: u64, elapsed: Duration) -> f64 {
    operations as f64 / elapsed.as_secs_f64()
}

/// The comparison table: each contender in turn, `ROUNDS` times, medians and ratios.
fn comparison(bench: &Bench) {
    let (mut cache, mut unbatched, mut raw, mut peer) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut many, mut many_one_task, mut peer_pipelined) = (Vec::new(), Vec::new(), Vec::new());
    let calls = GETS_PER_ROUND / BATCH as u64 * 5;
    // Warm up connections, scripts and the allocator.
    bench.cache_gets(&bench.cache, TASKS, 20_000);
    bench.cache_gets(&bench.unbatched, TASKS, 20_000);
    bench.raw_gets(TASKS, 20_000);
    for _ in 0..ROUNDS {
        let gets = |cache| per_second(GETS_PER_ROUND, bench.cache_gets(cache, TASKS, GETS_PER_ROUND));
        cache.push(gets(&bench.cache));
        unbatched.push(gets(&bench.unbatched));
        raw.push(per_second(GETS_PER_ROUND, bench.raw_gets(TASKS, GETS_PER_ROUND)));
        peer.push(bench.redis_benchmark(GETS_PER_ROUND, &[]));
        many.push(per_second(calls * BATCH as u64, bench.cache_get_manys(TASKS, calls)));
        many_one_task.push(per_second(
            calls / 5 * BATCH as u64,
            bench.cache_get_manys(1, calls / 5),
        ));
        peer_pipelined.push(bench.redis_benchmark(GETS_PER_ROUND * 5, &["-P", "16"]));
    }
    let (cache, unbatched, raw, peer) = (median(cache), median(unbatched), median(raw), median(peer));
    let (many, many_one_task, peer_pipelined) = (median(many), median(many_one_task), median(peer_pipelined));
    println!("\nredis comparison (medians of {ROUNDS} rounds, one redis-server on loopback, 2 tokio workers):");
    println!("  50 tasks Cache::get hits           {cache:>12.0} gets/s");
    println!("  same, batch_reads = false          {unbatched:>12.0} gets/s");
    println!("  50 tasks raw redis-rs GET          {raw:>12.0} gets/s");
    println!("  redis-benchmark -c 50 -t get       {peer:>12.0} gets/s");
    println!("  50 tasks Cache::get_many(100)      {many:>12.0} keys/s");
    println!("  1 task Cache::get_many(100)        {many_one_task:>12.0} keys/s");
    println!("  redis-benchmark -c 50 -P 16 -t get {peer_pipelined:>12.0} keys/s");
    println!("  ratio Cache::get / redis-benchmark       {:.2}", cache / peer);
    println!("  ratio Cache::get / raw redis-rs          {:.2}", cache / raw);
    println!("  ratio unbatched Cache::get / raw          {:.2}", unbatched / raw);
    println!(
        "  ratio get_many(100) 50 tasks / -P 16     {:.2}",
        many / peer_pipelined
    );
    println!(
        "  ratio get_many(100) 1 task / -P 16       {:.2}\n",
        many_one_task / peer_pipelined
    );
}

/// Batched and unbatched `Cache::get` next to raw redis-rs from 1 to 200 concurrent tasks:
/// batching must not cost the few-caller case what it gains with many.
fn concurrency_sweep(bench: &Bench) {
    println!("gets/s by concurrent tasks (medians of {ROUNDS} rounds):");
    println!("  tasks   Cache::get  batch_reads=false  raw redis-rs  Cache÷raw  unbatched÷raw");
    for tasks in SWEEP_TASKS {
        let total = (tasks * 2_000).min(GETS_PER_ROUND);
        let (mut cache, mut unbatched, mut raw) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            cache.push(per_second(total, bench.cache_gets(&bench.cache, tasks, total)));
            unbatched.push(per_second(total, bench.cache_gets(&bench.unbatched, tasks, total)));
            raw.push(per_second(total, bench.raw_gets(tasks, total)));
        }
        let (cache, unbatched, raw) = (median(cache), median(unbatched), median(raw));
        println!(
            "  {tasks:>5} {cache:>12.0} {unbatched:>18.0} {raw:>13.0} {:>10.2} {:>14.2}",
            cache / raw,
            unbatched / raw
        );
    }
    println!();
}

fn redis(c: &mut Criterion) {
    let bench = Bench::start();
    comparison(&bench);
    concurrency_sweep(&bench);

    // One iteration: 5,000 GETs spread over 50 tasks, so every sample keeps 50 callers busy.
    let mut group = c.benchmark_group("redis/get_50_tasks");
    group.throughput(Throughput::Elements(GETS_PER_ITERATION));
    group.sample_size(30);
    group.bench_function("cache_get", |b| {
        b.iter(|| bench.cache_gets(&bench.cache, TASKS, GETS_PER_ITERATION))
    });
    group.bench_function("cache_get_unbatched", |b| {
        b.iter(|| bench.cache_gets(&bench.unbatched, TASKS, GETS_PER_ITERATION))
    });
    group.bench_function("redis_rs_get", |b| b.iter(|| bench.raw_gets(TASKS, GETS_PER_ITERATION)));
    group.finish();

    let batch = &bench.keys[..BATCH];
    let made_batch = &bench.made[..BATCH];
    let mut group = c.benchmark_group("redis/get_many_100");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("cache_get_many", |b| {
        b.iter(|| {
            let found = bench
                .runtime
                .block_on(bench.cache.get_many::<_, String>(batch).into_future())
                .unwrap();
            assert_eq!(black_box(found).len(), BATCH);
        })
    });
    group.bench_function("redis_rs_mget", |b| {
        b.iter(|| {
            let mut raw = bench.raw.clone();
            let found: Vec<Option<Vec<u8>>> = bench
                .runtime
                .block_on(redis::cmd("MGET").arg(made_batch).query_async(&mut raw))
                .unwrap();
            assert_eq!(black_box(found).len(), BATCH);
        })
    });
    group.finish();

    let mut group = c.benchmark_group("redis/set_many_100");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("cache_set_many", |b| {
        b.iter(|| {
            let failed = bench
                .runtime
                .block_on(
                    bench
                        .cache
                        .set_many(batch.iter().map(|key| (key.as_str(), VALUE)))
                        .into_future(),
                )
                .unwrap();
            assert!(black_box(failed).is_empty());
        })
    });
    let encoded = serde_json_string(VALUE);
    group.bench_function("redis_rs_pipeline_set_px", |b| {
        b.iter(|| {
            let mut pipeline = redis::pipe();
            for key in made_batch {
                pipeline
                    .cmd("SET")
                    .arg(key)
                    .arg(&encoded)
                    .arg("PX")
                    .arg(300_000)
                    .ignore();
            }
            let mut raw = bench.raw.clone();
            let () = bench.runtime.block_on(pipeline.query_async(&mut raw)).unwrap();
        })
    });
    group.finish();
    bench.server.stop();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = redis
}
criterion_main!(benches);
