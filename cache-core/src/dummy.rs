//! Django's DummyCache: implements the interface and stores nothing.
//!
//! Useful in development, or to switch caching off for one alias without touching code.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use serde::Deserialize;

use crate::backend::{CacheBackend, Capabilities, Expiry};
use crate::backend_error::{BackendError, BackendResult};
use crate::registry::BackendRegistration;

/// A backend that forgets everything at once: every read misses, `add` succeeds, `incr` fails.
#[derive(Debug, Default, Clone, Copy)]
pub struct DummyBackend;

/// The dummy backend takes no options.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoOptions {}

/// The registry entry: `dummy` and `django.core.cache.backends.dummy.DummyCache`.
pub(crate) fn registration() -> BackendRegistration {
    BackendRegistration::new(&["dummy", "django.core.cache.backends.dummy.DummyCache"], |config| {
        config.options.parse::<NoOptions>(config.alias)?;
        Ok(Arc::new(DummyBackend))
    })
}

#[async_trait]
impl CacheBackend for DummyBackend {
    fn name(&self) -> &'static str {
        "dummy"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::lenient().storing_nothing()
    }

    async fn get(&self, _key: &str) -> BackendResult<Option<Bytes>> {
        Ok(None)
    }

    async fn set(&self, _key: &str, _value: Bytes, _expiry: Expiry) -> BackendResult<()> {
        Ok(())
    }

    async fn add(&self, _key: &str, _value: Bytes, _expiry: Expiry) -> BackendResult<bool> {
        Ok(true)
    }

    async fn touch(&self, _key: &str, _expiry: Expiry) -> BackendResult<bool> {
        Ok(false)
    }

    async fn delete(&self, _key: &str) -> BackendResult<bool> {
        Ok(false)
    }

    async fn incr(&self, _key: &str, _delta: i64) -> BackendResult<i64> {
        Err(BackendError::key_not_found())
    }

    async fn has_key(&self, _key: &str) -> BackendResult<bool> {
        Ok(false)
    }

    async fn clear(&self) -> BackendResult<()> {
        Ok(())
    }

    fn get_now(&self, _key: &str) -> Option<BackendResult<Option<Bytes>>> {
        Some(Ok(None))
    }
}
