//! The media store: component JS/CSS and JS/CSS variables, where the media endpoint serves them from.
//!
//! Keys (before the alias' key function adds its prefix and version):
//!
//! | key | value |
//! |---|---|
//! | `__components:<class id>:js` | the class' JS, `$onComponent(` calls bound to the class |
//! | `__components:<class id>:css` | the class' CSS, verbatim |
//! | `__components:<class id>:js:<hash>` | a script registering one JS variables payload |
//! | `__components:<class id>:css:<hash>` | a style sheet setting one CSS variables payload |
//!
//! The values are the bytes served, UTF-8. Class entries are rebuilt from the registry whenever
//! they are missing (the endpoint writes them back), so a cache that evicts them or a new replica
//! never breaks a page; variable entries are written (if absent) by every render that uses them.

use crate::counters::{MediaWrite, count_media_write};
use cache_core::{Bytes, Cache, CacheError, Caches};

use crate::embedded::embedded_media_cache;
use crate::error::ComponentError;
use crate::media::kind::MediaKind;
use crate::media::variables::Variables;
use crate::registry::RegisteredComponent;

/// Every media key starts with this.
pub const MEDIA_KEY_PREFIX: &str = "__components:";

/// The media key of a class' JS or CSS (`hash` `None`) or of one variables payload.
pub fn media_key(class_id: &str, kind: MediaKind, hash: Option<&str>) -> String {
    match hash {
        None => format!("{MEDIA_KEY_PREFIX}{class_id}:{}", kind.as_str()),
        Some(hash) => format!("{MEDIA_KEY_PREFIX}{class_id}:{}:{hash}", kind.as_str()),
    }
}

/// Where a renderer keeps its media: the alias `[components] cache` names, else a store of its own.
#[derive(Clone)]
pub(crate) struct MediaStore {
    pub(crate) cache: Cache,
}

impl MediaStore {
    /// The store in `alias` of `caches`, or the embedded one.
    pub(crate) fn new(caches: &Caches, alias: Option<&str>) -> Result<MediaStore, ComponentError> {
        let cache = match alias {
            Some(alias) => caches
                .get(alias)
                .map_err(|error| ComponentError::config("components.cache", error.to_string()))?,
            None => embedded_media_cache(),
        };
        Ok(MediaStore { cache })
    }

    /// Writes the class entries of `entry` (overwriting).
    pub(crate) async fn store_class(&self, entry: &RegisteredComponent) -> Result<(), CacheError> {
        if let Some(content) = entry.class_media(MediaKind::Js) {
            let key = media_key(&entry.class_id, MediaKind::Js, None);
            self.cache.set_raw(&key, content).await?;
            count_media_write(MediaWrite::Class);
        }
        if let Some(content) = entry.class_media(MediaKind::Css) {
            let key = media_key(&entry.class_id, MediaKind::Css, None);
            self.cache.set_raw(&key, content).await?;
            count_media_write(MediaWrite::Class);
        }
        Ok(())
    }

    /// Writes the entry of `variables`, overwriting it so that its lifetime starts again: a page
    /// that refers to it must find it when its fetch comes.
    pub(crate) async fn store_variables(&self, variables: &Variables) -> Result<(), CacheError> {
        let key = media_key(&variables.class_id, variables.kind, Some(&variables.hash));
        self.cache.set_raw(&key, variables.content()).await?;
        count_media_write(MediaWrite::Variables);
        Ok(())
    }

    /// The stored bytes under a media key, if any.
    pub(crate) async fn get(&self, key: &str) -> Result<Option<Bytes>, CacheError> {
        debug_assert!(key.starts_with(MEDIA_KEY_PREFIX));
        self.cache.get_raw(key).await
    }
}
