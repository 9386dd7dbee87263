//! The embedded locmem backend through the `Cache` façade, next to what a user would pick instead:
//! a raw `Mutex<lru::LruCache>`, `moka::sync::Cache` and `quick_cache::sync::Cache`, on the same keys.
//!
//! Run: `cargo bench -p cache-benches --bench locmem`. Ratios are recorded in benches/README.md.

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use cache_benches::now;
use cache_core::{Cache, CacheOptions};
use cache_locmem::LocMemBackend;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use parking_lot::Mutex;

/// Keys in the working set; every cache is sized to hold them all, so gets of them hit.
const KEYS: usize = 10_000;
const CAPACITY: usize = 100_000;

fn keys() -> Vec<String> {
    cache_benches::profile_keys(KEYS)
}

fn value() -> Bytes {
    cache_benches::small_value()
}

/// The façade over a private locmem store sized like the peers.
fn facade() -> Cache {
    let backend = LocMemBackend::builder().max_entries(CAPACITY as u64).build();
    Cache::new("bench", Arc::new(backend), CacheOptions::default())
}

type RawLru = Mutex<lru::LruCache<String, Bytes>>;

fn raw_lru() -> RawLru {
    Mutex::new(lru::LruCache::new(NonZeroUsize::new(CAPACITY).unwrap()))
}

fn moka_cache() -> moka::sync::Cache<String, Bytes> {
    moka::sync::Cache::new(CAPACITY as u64)
}

fn quick() -> quick_cache::sync::Cache<String, Bytes> {
    quick_cache::sync::Cache::new(CAPACITY)
}

fn filled<T>(make: impl FnOnce() -> T, insert: impl Fn(&T, &str)) -> T {
    let cache = make();
    for key in keys() {
        insert(&cache, &key);
    }
    cache
}

fn get_hit(c: &mut Criterion) {
    let keys = keys();
    let mut group = c.benchmark_group("get_hit");
    group.throughput(Throughput::Elements(1));

    let cache = filled(facade, |c, k| now(c.set_raw(k, value())).unwrap());
    let mut i = 0;
    group.bench_function("facade_get_raw", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            black_box(now(cache.get_raw(&keys[i])).unwrap())
        })
    });
    group.bench_function("facade_get_typed_string", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            black_box(now(cache.get::<String>(&keys[i])).unwrap())
        })
    });

    let lru = filled(raw_lru, |c, k| drop(c.lock().put(k.to_owned(), value())));
    group.bench_function("raw_mutex_lru", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            black_box(lru.lock().get(keys[i].as_str()).cloned())
        })
    });

    let moka = filled(moka_cache, |c, k| c.insert(k.to_owned(), value()));
    group.bench_function("moka_sync", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            black_box(moka.get(keys[i].as_str()))
        })
    });

    let quick = filled(quick, |c, k| c.insert(k.to_owned(), value()));
    group.bench_function("quick_cache_sync", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            black_box(quick.get(keys[i].as_str()))
        })
    });
    group.finish();
}

fn get_miss(c: &mut Criterion) {
    let missing: Vec<String> = (0..KEYS).map(|i| format!("absent:{i}:profile")).collect();
    let mut group = c.benchmark_group("get_miss");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;

    let cache = filled(facade, |c, k| now(c.set_raw(k, value())).unwrap());
    group.bench_function("facade_get_raw", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            black_box(now(cache.get_raw(&missing[i])).unwrap())
        })
    });
    let lru = filled(raw_lru, |c, k| drop(c.lock().put(k.to_owned(), value())));
    group.bench_function("raw_mutex_lru", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            black_box(lru.lock().get(missing[i].as_str()).cloned())
        })
    });
    let moka = filled(moka_cache, |c, k| c.insert(k.to_owned(), value()));
    group.bench_function("moka_sync", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            black_box(moka.get(missing[i].as_str()))
        })
    });
    let quick = filled(quick, |c, k| c.insert(k.to_owned(), value()));
    group.bench_function("quick_cache_sync", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            black_box(quick.get(missing[i].as_str()))
        })
    });
    group.finish();
}

fn set(c: &mut Criterion) {
    let keys = keys();
    let mut group = c.benchmark_group("set");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;

    let cache = facade();
    group.bench_function("facade_set_raw", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            now(cache.set_raw(&keys[i], value())).unwrap()
        })
    });
    let lru = raw_lru();
    group.bench_function("raw_mutex_lru", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            black_box(lru.lock().put(keys[i].clone(), value()))
        })
    });
    let moka = moka_cache();
    group.bench_function("moka_sync", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            moka.insert(keys[i].clone(), value())
        })
    });
    let quick = quick();
    group.bench_function("quick_cache_sync", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            quick.insert(keys[i].clone(), value())
        })
    });
    group.finish();
}

fn incr(c: &mut Criterion) {
    let keys = keys();
    let mut group = c.benchmark_group("incr");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;

    let cache = filled(facade, |c, k| now(c.set(k, &0i64)).unwrap());
    group.bench_function("facade_incr", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            black_box(now(cache.incr(&keys[i], 1)).unwrap())
        })
    });
    let lru = Mutex::new(lru::LruCache::<String, i64>::new(NonZeroUsize::new(CAPACITY).unwrap()));
    for key in &keys {
        lru.lock().put(key.clone(), 0);
    }
    group.bench_function("raw_mutex_lru", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            let mut lru = lru.lock();
            let value = lru.get_mut(keys[i].as_str()).expect("present");
            *value += 1;
            black_box(*value)
        })
    });
    let moka = moka::sync::Cache::<String, i64>::new(CAPACITY as u64);
    for key in &keys {
        moka.insert(key.clone(), 0);
    }
    group.bench_function("moka_sync", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            black_box(
                moka.entry_by_ref(keys[i].as_str())
                    .and_upsert_with(|entry| entry.map_or(0, |e| e.into_value() + 1)),
            )
        })
    });
    group.finish();
}

/// Two threads, each running `ops` operations: 9 gets for every set, over the shared key set.
fn mixed_two_threads(ops: u64, get: impl Fn(&str) + Sync, set: impl Fn(&str) + Sync) -> Duration {
    let keys = keys();
    let start = Instant::now();
    std::thread::scope(|scope| {
        for thread in 0..2u64 {
            let (keys, get, set) = (&keys, &get, &set);
            scope.spawn(move || {
                let mut i = thread as usize * 4999;
                for op in 0..ops {
                    i = (i + 7) % KEYS;
                    if op % 10 == 9 {
                        set(&keys[i]);
                    } else {
                        get(&keys[i]);
                    }
                }
            });
        }
    });
    start.elapsed()
}

fn mixed_90_10(c: &mut Criterion) {
    let mut group = c.benchmark_group("two_threads_90get_10set");
    // Both threads count: iters operations per thread, 2 threads.
    group.throughput(Throughput::Elements(2));

    let cache = filled(facade, |c, k| now(c.set_raw(k, value())).unwrap());
    group.bench_function("facade", |b| {
        b.iter_custom(|iters| {
            mixed_two_threads(
                iters,
                |k| drop(black_box(now(cache.get_raw(k)).unwrap())),
                |k| now(cache.set_raw(k, value())).unwrap(),
            )
        })
    });
    let lru = filled(raw_lru, |c, k| drop(c.lock().put(k.to_owned(), value())));
    group.bench_function("raw_mutex_lru", |b| {
        b.iter_custom(|iters| {
            mixed_two_threads(
                iters,
                |k| drop(black_box(lru.lock().get(k).cloned())),
                |k| drop(lru.lock().put(k.to_owned(), value())),
            )
        })
    });
    let moka = filled(moka_cache, |c, k| c.insert(k.to_owned(), value()));
    group.bench_function("moka_sync", |b| {
        b.iter_custom(|iters| {
            mixed_two_threads(
                iters,
                |k| drop(black_box(moka.get(k))),
                |k| moka.insert(k.to_owned(), value()),
            )
        })
    });
    let quick = filled(quick, |c, k| c.insert(k.to_owned(), value()));
    group.bench_function("quick_cache_sync", |b| {
        b.iter_custom(|iters| {
            mixed_two_threads(
                iters,
                |k| drop(black_box(quick.get(k))),
                |k| quick.insert(k.to_owned(), value()),
            )
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = get_hit, get_miss, set, incr, mixed_90_10
}
criterion_main!(benches);
