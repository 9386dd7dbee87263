//! Shared by the integration tests: an alias over a real locmem store that remembers the keys
//! written to it, handlers that count their runs, and Django's key shapes spelled out.

#![allow(dead_code, missing_docs, unreachable_pub)]

use std::collections::BTreeSet;
use std::sync::Arc;

use cache_core::{BackendResult, Bytes, Cache, CacheBackend, CacheOptions, Capabilities, Expiry, async_trait};
use cache_locmem::LocMemBackend;
use md5::{Digest, Md5};
use parking_lot::Mutex;

/// A locmem store that records every key written (`set`/`add`), as made by the façade.
#[derive(Debug)]
pub struct RecordingBackend {
    store: LocMemBackend,
    written: Mutex<BTreeSet<String>>,
    max_value_bytes: Option<usize>,
}

impl RecordingBackend {
    pub fn new(max_value_bytes: Option<usize>) -> Arc<Self> {
        Arc::new(RecordingBackend {
            store: LocMemBackend::builder().build(),
            written: Mutex::new(BTreeSet::new()),
            max_value_bytes,
        })
    }

    pub fn written(&self) -> Vec<String> {
        self.written.lock().iter().cloned().collect()
    }
}

#[async_trait]
impl CacheBackend for RecordingBackend {
    fn capabilities(&self) -> Capabilities {
        let capabilities = self.store.capabilities();
        match self.max_value_bytes {
            Some(limit) => capabilities.with_max_value_bytes(limit),
            None => capabilities,
        }
    }
    async fn get(&self, key: &str) -> BackendResult<Option<Bytes>> {
        self.store.get(key).await
    }
    async fn set(&self, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<()> {
        self.written.lock().insert(key.to_owned());
        self.store.set(key, value, expiry).await
    }
    async fn add(&self, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<bool> {
        self.written.lock().insert(key.to_owned());
        self.store.add(key, value, expiry).await
    }
    async fn touch(&self, key: &str, expiry: Expiry) -> BackendResult<bool> {
        self.store.touch(key, expiry).await
    }
    async fn delete(&self, key: &str) -> BackendResult<bool> {
        self.store.delete(key).await
    }
    async fn incr(&self, key: &str, delta: i64) -> BackendResult<i64> {
        self.store.incr(key, delta).await
    }
    async fn clear(&self) -> BackendResult<()> {
        self.store.clear().await
    }
}

/// An alias named `pages` over a recording store (no key prefix, version 1).
pub fn recording_cache(max_value_bytes: Option<usize>) -> (Cache, Arc<RecordingBackend>) {
    let backend = RecordingBackend::new(max_value_bytes);
    let cache = Cache::new("pages", backend.clone(), CacheOptions::default());
    (cache, backend)
}

pub fn md5_hex(bytes: &[u8]) -> String {
    format!("{:x}", Md5::digest(bytes))
}

/// The md5 of varying values as this crate encodes them: `<len>:<value>,`, or `-,` when absent.
pub fn values_md5(values: &[Option<&str>]) -> String {
    let mut encoded = Vec::new();
    for value in values {
        match value {
            Some(value) => encoded.extend(format!("{}:{value},", value.len()).into_bytes()),
            None => encoded.extend(b"-,"),
        }
    }
    md5_hex(&encoded)
}

/// Django's header-list key for `url`, as the default key function makes it (`:1:` in front).
pub fn header_key(prefix: &str, url: &str, suffix: &str) -> String {
    format!(
        ":1:views.decorators.cache.cache_header.{prefix}.{}{suffix}",
        md5_hex(url.as_bytes())
    )
}

/// Django's page key for `method` and `url` with these varying values.
pub fn page_key(prefix: &str, method: &str, url: &str, values: &[Option<&str>], suffix: &str) -> String {
    format!(
        ":1:views.decorators.cache.cache_page.{prefix}.{method}.{}.{}{suffix}",
        md5_hex(url.as_bytes()),
        values_md5(values)
    )
}
