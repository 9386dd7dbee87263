//! The file backend through the `Cache` façade, next to reading the same file with
//! `std::fs::read` (what any file cache must do at least) and with `spawn_blocking(fs::read)`
//! (the same read moved off the tokio worker, as the backend does), in the same run.
//!
//! Run: `cargo bench -p cache-benches --bench file`. Figures are recorded in benches/README.md.

use std::hint::black_box;
use std::sync::Arc;

use bytes::Bytes;
use cache_core::{Cache, CacheOptions, Timeout};
use cache_file::FileBackend;
use criterion::{Criterion, criterion_group, criterion_main};

/// Keys in the working set: under Django's default `max_entries` (300), so nothing is culled.
const KEYS: usize = 200;

fn keys() -> Vec<String> {
    cache_benches::profile_keys(KEYS)
}

fn value() -> Bytes {
    cache_benches::small_value()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn get_hit(c: &mut Criterion) {
    let runtime = runtime();
    let directory = tempfile::tempdir().expect("a temporary directory");
    let backend = FileBackend::builder()
        .directory(directory.path())
        .build()
        .expect("the directory");
    let cache = Cache::new("bench", Arc::new(backend.clone()), CacheOptions::default());
    let keys = keys();
    runtime.block_on(async {
        for key in &keys {
            cache.set_raw(key, value()).timeout(Timeout::Never).await.expect("set");
        }
    });
    let paths: Vec<_> = keys
        .iter()
        .map(|key| backend.file_path(&cache.make_key(key, None)))
        .collect();

    let mut group = c.benchmark_group("file_get_hit");
    let mut i = 0;
    group.bench_function("facade get_raw (spawn_blocking)", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            runtime.block_on(async { black_box(cache.get_raw(&keys[i]).await.expect("get").expect("a hit")) })
        })
    });
    group.bench_function("std::fs::read of the same file", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            black_box(std::fs::read(&paths[i]).expect("read"))
        })
    });
    group.bench_function("spawn_blocking(std::fs::read)", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            let path = paths[i].clone();
            runtime.block_on(async {
                black_box(
                    tokio::task::spawn_blocking(move || std::fs::read(path))
                        .await
                        .expect("joined")
                        .expect("read"),
                )
            })
        })
    });
    group.bench_function("tokio::fs::read", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            runtime.block_on(async { black_box(tokio::fs::read(&paths[i]).await.expect("read")) })
        })
    });
    group.finish();

    let mut group = c.benchmark_group("file_set");
    group.bench_function("facade set_raw (200 files, cull check lists the directory)", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            runtime.block_on(async {
                cache
                    .set_raw(&keys[i], value())
                    .timeout(Timeout::Never)
                    .await
                    .expect("set")
            })
        })
    });
    group.finish();
}

criterion_group!(benches, get_hit);
criterion_main!(benches);
