//! What observing costs on the hottest path: the locmem façade `get_raw` hit and `set_raw` with no
//! `metrics` recorder installed, then with a real exporter's recorder (Prometheus), then with the
//! latency histogram on too; the raw `Mutex<LruCache>` get is measured in the same run as the floor.
//!
//! The recorder is process-global and can't be removed, so the order of the benchmarks matters:
//! everything "without" runs before it is installed.
//!
//! Run: `cargo bench -p cache-benches --bench observability`. Figures in benches/README.md.

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use cache_benches::{now, profile_keys, small_value};
use cache_core::{Cache, CacheOptions};
use cache_locmem::LocMemBackend;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use parking_lot::Mutex;

const KEYS: usize = 10_000;
const CAPACITY: usize = 100_000;

fn filled_facade(options: CacheOptions) -> Cache {
    let backend = LocMemBackend::builder().max_entries(CAPACITY as u64).build();
    let cache = Cache::new("bench", Arc::new(backend), options);
    for key in profile_keys(KEYS) {
        now(cache.set_raw(&key, small_value())).unwrap();
    }
    cache
}

fn bench_facade(c: &mut Criterion, name: &str, options: CacheOptions) {
    let keys = profile_keys(KEYS);
    let cache = filled_facade(options);
    let mut group = c.benchmark_group("observed");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function(format!("get_raw_hit/{name}"), |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            black_box(now(cache.get_raw(&keys[i])).unwrap())
        })
    });
    group.bench_function(format!("set_raw/{name}"), |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            now(cache.set_raw(&keys[i], small_value())).unwrap()
        })
    });
    group.finish();
}

fn observability(c: &mut Criterion) {
    let keys = profile_keys(KEYS);
    let lru = Mutex::new(lru::LruCache::new(NonZeroUsize::new(CAPACITY).unwrap()));
    for key in &keys {
        lru.lock().put(key.clone(), small_value());
    }
    let mut i = 0;
    c.benchmark_group("observed").bench_function("raw_mutex_lru_get", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            black_box(lru.lock().get(keys[i].as_str()).cloned())
        })
    });

    bench_facade(c, "no_recorder", CacheOptions::default());
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).expect("the first recorder of this process");
    bench_facade(c, "prometheus_recorder", CacheOptions::default());
    bench_facade(
        c,
        "prometheus_recorder_and_latency_histogram",
        CacheOptions::default().with_latency_histogram(true),
    );
    // The exporter really saw the calls.
    assert!(handle.render().contains("cache_hits_total"));
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = observability
}
criterion_main!(benches);
