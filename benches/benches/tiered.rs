//! cache-tiered: a near hit next to the locmem façade hit and a Redis hit, a tiered write next to a
//! plain Redis write, and the backplane choice (Redis pub/sub against RESP3 client-side-caching
//! invalidations), all against one `redis-server` the bench starts itself (testkit fixture,
//! loopback, persistence off).
//!
//! Run: `cargo bench -p cache-benches --bench tiered`. Before criterion's groups it prints two
//! tables measured in the same run, contenders interleaved round by round (the machine is
//! shared and noisy): the hit and write costs with their ratios, and the invalidation latency of
//! both backplanes; benches/README.md records them.

use std::future::IntoFuture;
use std::hint::black_box;
use std::time::{Duration, Instant};

use cache_benches::{median, now, profile_keys, small_value};
use cache_core::testkit::servers::RedisServer;
use cache_core::{Backends, Cache, Caches, CachesConfig, ConfigFormat, Timeout};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use redis::AsyncCommands;
use tokio::runtime::Runtime;

const KEYS: usize = 1000;
/// Rounds of the interleaved tables, and operations per contender and round.
const ROUNDS: usize = 7;
const HITS_PER_ROUND: usize = 200_000;
const REDIS_PER_ROUND: usize = 2_000;
/// Invalidations timed per backplane.
const INVALIDATIONS: usize = 1_000;

struct Bench {
    runtime: Runtime,
    server: RedisServer,
    tiered: Cache,
    redis: Cache,
    locmem: Cache,
    keys: Vec<String>,
}

impl Bench {
    fn start() -> Bench {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let server = runtime.block_on(RedisServer::start()).expect("redis-server starts");
        let toml = format!(
            "[caches.default]\nbackend = \"tiered\"\n\
             options = {{ far = \"redis\", max_entries = 10000, near_timeout = 300, backplane = \"{url}\" }}\n\
             [caches.redis]\nbackend = \"redis\"\nlocation = \"{url}\"\n\
             [caches.locmem]\nbackend = \"locmem\"\nlocation = \"bench-tiered\"\noptions = {{ max_entries = 10000 }}\n",
            url = server.url()
        );
        let mut backends = Backends::new();
        backends.register(cache_locmem::registration());
        backends.register(cache_redis::registration());
        backends.register(cache_tiered::registration());
        let config = CachesConfig::from_str(&toml, ConfigFormat::Toml).expect("the configuration parses");
        let caches = Caches::build(&config, &backends).expect("the aliases build");
        let bench = Bench {
            tiered: caches.default_cache(),
            redis: caches.get("redis").unwrap(),
            locmem: caches.get("locmem").unwrap(),
            keys: profile_keys(KEYS),
            runtime,
            server,
        };
        bench.runtime.block_on(async {
            for key in &bench.keys {
                bench
                    .tiered
                    .set_raw(key, small_value())
                    .timeout(Timeout::Never)
                    .await
                    .unwrap();
                bench
                    .locmem
                    .set_raw(key, small_value())
                    .timeout(Timeout::Never)
                    .await
                    .unwrap();
            }
            // Near hits need the backplane's subscription up (the near tier vouched for).
            let backend: &dyn std::any::Any = &**bench.tiered.backend();
            let tiered = backend.downcast_ref::<cache_tiered::TieredBackend>().unwrap();
            while !tiered.is_vouched() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            for key in &bench.keys {
                bench.tiered.get_raw(key).await.unwrap();
            }
        });
        bench
    }

    fn near_hit(&self, i: usize) {
        black_box(
            now(self.tiered.get_raw(&self.keys[i % KEYS]))
                .unwrap()
                .expect("a near hit"),
        );
    }

    fn locmem_hit(&self, i: usize) {
        black_box(now(self.locmem.get_raw(&self.keys[i % KEYS])).unwrap().expect("a hit"));
    }

    fn redis_hit(&self, i: usize) {
        black_box(
            self.runtime
                .block_on(self.redis.get_raw(&self.keys[i % KEYS]).into_future())
                .unwrap()
                .expect("a hit"),
        );
    }

    fn tiered_write(&self, i: usize) {
        self.runtime
            .block_on(
                self.tiered
                    .set_raw(&self.keys[i % KEYS], small_value())
                    .timeout(Timeout::Never)
                    .into_future(),
            )
            .unwrap();
    }

    fn redis_write(&self, i: usize) {
        self.runtime
            .block_on(
                self.redis
                    .set_raw(&self.keys[i % KEYS], small_value())
                    .timeout(Timeout::Never)
                    .into_future(),
            )
            .unwrap();
    }
}

/// Nanoseconds per call of `f`, `n` calls.
fn per_call(n: usize, mut f: impl FnMut(usize)) -> f64 {
    let started = Instant::now();
    for i in 0..n {
        f(i);
    }
    started.elapsed().as_nanos() as f64 / n as f64
}

fn interleaved_table(bench: &Bench) {
    let (mut near, mut locmem, mut redis, mut tiered_write, mut redis_write) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        locmem.push(per_call(HITS_PER_ROUND, |i| bench.locmem_hit(i)));
        near.push(per_call(HITS_PER_ROUND, |i| bench.near_hit(i)));
        redis.push(per_call(REDIS_PER_ROUND, |i| bench.redis_hit(i)));
        redis_write.push(per_call(REDIS_PER_ROUND, |i| bench.redis_write(i)));
        tiered_write.push(per_call(REDIS_PER_ROUND, |i| bench.tiered_write(i)));
        // Writes evicted nothing near (own writes fill it); read once more so every key is near.
        for i in 0..KEYS {
            bench.near_hit(i);
        }
    }
    let (near, locmem, redis) = (median(near), median(locmem), median(redis));
    let (tiered_write, redis_write) = (median(tiered_write), median(redis_write));
    println!("\ntiered vs locmem vs redis, medians of {ROUNDS} interleaved rounds (one caller):");
    println!("| call | ns | ratio |");
    println!("|---|---|---|");
    println!("| locmem façade `get_raw` hit | {locmem:.1} | 1 |");
    println!(
        "| tiered near `get_raw` hit | {near:.1} | {:.2}× the locmem hit |",
        near / locmem
    );
    println!(
        "| Redis `get_raw` hit | {redis:.1} | {:.0}× the near hit |",
        redis / near
    );
    println!("| Redis `set_raw` | {redis_write:.1} | 1 |");
    println!(
        "| tiered `set_raw` (Redis SET, near fill, PUBLISH) | {tiered_write:.1} | {:.2}× the Redis write |",
        tiered_write / redis_write
    );
}

fn percentiles(mut latencies: Vec<Duration>) -> (Duration, Duration) {
    latencies.sort();
    let at = |share: f64| latencies[((latencies.len() as f64 * share).ceil() as usize).clamp(1, latencies.len()) - 1];
    (at(0.5), at(0.99))
}

/// From the writer's `SET` to the reader learning of it: a pub/sub message (the writer's `SET`,
/// then its `PUBLISH`, as cache-tiered does) against a RESP3 tracking invalidation pushed on the
/// reader's connection (`CLIENT TRACKING ON`, the mechanism under redis-rs' `cache-aio`), rounds
/// alternating.
fn backplane_choice(bench: &Bench) {
    let url = bench.server.url();
    let (pubsub, tracking) = bench.runtime.block_on(async {
        let client = redis::Client::open(url.as_str()).unwrap();
        let mut writer = client.get_multiplexed_async_connection().await.unwrap();
        let (mut sink, mut messages) = client.get_async_pubsub().await.unwrap().split();
        sink.subscribe("bench-backplane").await.unwrap();
        let resp3 = redis::Client::open(format!("{url}?protocol=resp3")).unwrap();
        let (pushes, mut invalidations) = tokio::sync::mpsc::unbounded_channel();
        let config = redis::AsyncConnectionConfig::new().set_push_sender(pushes);
        let mut reader = resp3
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .unwrap();
        let _: () = redis::cmd("CLIENT")
            .arg("TRACKING")
            .arg("ON")
            .query_async(&mut reader)
            .await
            .unwrap();
        let (mut pubsub, mut tracking) = (Vec::new(), Vec::new());
        for round in 0..INVALIDATIONS {
            let started = Instant::now();
            let _: () = writer.set("bench-backplane-key", round).await.unwrap();
            let _: i64 = writer.publish("bench-backplane", "bench-backplane-key").await.unwrap();
            messages.next().await.expect("the message");
            pubsub.push(started.elapsed());

            // The reader reads the key, so the server tracks it for this connection.
            let _: Option<i64> = reader.get("bench-backplane-key").await.unwrap();
            let started = Instant::now();
            let _: () = writer.set("bench-backplane-key", round).await.unwrap();
            loop {
                let push = invalidations.recv().await.expect("a push");
                if push.kind == redis::PushKind::Invalidate {
                    break;
                }
            }
            tracking.push(started.elapsed());
        }
        (percentiles(pubsub), percentiles(tracking))
    });
    println!("\nbackplane: writer's SET to the reader knowing, {INVALIDATIONS} each, interleaved:");
    println!("| mechanism | p50 | p99 |");
    println!("|---|---|---|");
    println!(
        "| pub/sub (SET, then PUBLISH; subscriber's message) | {:?} | {:?} |",
        pubsub.0, pubsub.1
    );
    println!(
        "| RESP3 client tracking (SET; reader's invalidation push) | {:?} | {:?} |",
        tracking.0, tracking.1
    );
}

fn tiered(c: &mut Criterion) {
    let bench = Bench::start();
    backplane_choice(&bench);
    interleaved_table(&bench);

    let mut group = c.benchmark_group("tiered_get_hit");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("locmem_facade_get_raw", |b| {
        b.iter(|| {
            i += 1;
            bench.locmem_hit(i)
        })
    });
    group.bench_function("tiered_near_get_raw", |b| {
        b.iter(|| {
            i += 1;
            bench.near_hit(i)
        })
    });
    group.bench_function("redis_get_raw", |b| {
        b.iter(|| {
            i += 1;
            bench.redis_hit(i)
        })
    });
    group.finish();

    let mut group = c.benchmark_group("tiered_write");
    group.throughput(Throughput::Elements(1));
    group.bench_function("redis_set_raw", |b| {
        b.iter(|| {
            i += 1;
            bench.redis_write(i)
        })
    });
    group.bench_function("tiered_set_raw", |b| {
        b.iter(|| {
            i += 1;
            bench.tiered_write(i)
        })
    });
    group.finish();
}

criterion_group!(benches, tiered);
criterion_main!(benches);
