//! [`FileBackend`]: the `CacheBackend` over a cache directory, each operation run on tokio's
//! blocking pool.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use cache_core::{
    BackendConfig, BackendError, BackendResult, CacheBackend, CacheError, Capabilities, Clock, Expiry, Location,
    Remaining, Result, async_trait,
};

use crate::builder::FileBuilder;
use crate::directory::{Directory, create_directory};
use crate::file_name::FileName;
use crate::options::FileOptions;
use crate::wall_clock::WallClock;

/// Django's `FileBasedCache`: one file per made key in a directory, named by the md5 of the key.
///
/// Every operation runs its file-system calls on tokio's blocking pool (`spawn_blocking`), never
/// on a worker thread, so a slow disk stalls only the calls waiting for it. Clones share the
/// directory and its locks.
#[derive(Clone)]
pub struct FileBackend {
    directory: Arc<Directory>,
}

impl FileBackend {
    /// Builds a backend in code: `FileBackend::builder().directory(path).build()?`.
    pub fn builder() -> FileBuilder {
        FileBuilder::new()
    }

    /// The backend for one alias of a configuration: what the registered factory builds.
    ///
    /// `location` is the directory (made absolute against the current directory, as Django's
    /// `os.path.abspath`), created with its parents if missing; `clock` decides expiry (a manual
    /// one in tests).
    pub fn from_config(config: &BackendConfig<'_>, clock: Clock) -> Result<Self> {
        let options = FileOptions::from_options(config.alias, config.options)?;
        let directory = directory_of(config.alias, config.location)?;
        FileBackend::open(directory, options, clock)
            .map_err(|message| CacheError::config(Some(config.alias), "location", message))
    }

    /// Creates the directory if needed; the error says what to fix, for the caller to attribute.
    pub(crate) fn open(directory: PathBuf, options: FileOptions, clock: Clock) -> std::result::Result<Self, String> {
        let directory = std::path::absolute(&directory).map_err(|error| {
            format!(
                "`{}` can't be made absolute ({error}); give an absolute path",
                directory.display()
            )
        })?;
        // Something other than a directory already there: said as such, not as a failed create.
        if directory.exists() && !directory.is_dir() {
            return Err(format!(
                "`{}` is not a directory; the file backend needs a directory to keep its files in: \
                 remove what is there, or point the location elsewhere",
                directory.display()
            ));
        }
        if let Err(error) = create_directory(&directory) {
            return Err(format!(
                "the cache directory `{}` does not exist and could not be created ({error}); create it, \
                 or point the location at a directory this process can write",
                directory.display()
            ));
        }
        Ok(FileBackend {
            directory: Arc::new(Directory::new(directory, options, WallClock::new(clock))),
        })
    }

    /// The cache directory (absolute).
    pub fn directory(&self) -> &Path {
        self.directory.path()
    }

    /// The options it was built with.
    pub fn options(&self) -> FileOptions {
        self.directory.options()
    }

    /// The file a made key is stored in: Django's `_key_to_file`, the md5 hex digest of the made
    /// key plus `.djcache` (`:1:k` is `86faa9ea774c6ce60e4513e14b3c0af9.djcache`).
    pub fn file_path(&self, made_key: &str) -> PathBuf {
        self.directory.file_path(&FileName::of(made_key))
    }

    /// Runs `operation` on the blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        operation: impl FnOnce(&Directory) -> BackendResult<T> + Send + 'static,
    ) -> BackendResult<T> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| BackendError::no_runtime("file"))?;
        let directory = Arc::clone(&self.directory);
        match runtime.spawn_blocking(move || operation(&directory)).await {
            Ok(result) => result,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => Err(BackendError::unavailable(
                cache_core::Unavailability::Closed,
                format!("the blocking file operation was cancelled ({error}): the tokio runtime is shutting down"),
            )),
        }
    }
}

/// Django's LOCATION for this backend: one directory.
fn directory_of(alias: &str, location: &Location) -> Result<PathBuf> {
    let expected = |got: String| {
        CacheError::config(
            Some(alias),
            "location",
            format!(
                "the file backend keeps its files in one directory, but {got}; give its path, e.g. \
                 location = \"/var/tmp/django_cache\""
            ),
        )
    };
    match location {
        Location::One(path) if !path.is_empty() => Ok(PathBuf::from(path)),
        Location::Many(paths) if paths.len() == 1 && !paths[0].is_empty() => Ok(PathBuf::from(&paths[0])),
        Location::Many(paths) if paths.len() > 1 => {
            Err(expected(format!("a list of {} locations was given", paths.len())))
        }
        _ => Err(expected("no location was given".to_owned())),
    }
}

impl fmt::Debug for FileBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let options = self.directory.options();
        f.debug_struct("FileBackend")
            .field("directory", &self.directory.path())
            .field("max_entries", &options.max_entries)
            .field("cull_frequency", &options.cull_frequency)
            .field("clock", self.directory.clock().clock())
            .finish()
    }
}

#[async_trait]
impl CacheBackend for FileBackend {
    /// Lenient keys (a key only names a file through its md5, so any key fits), no value limit.
    fn name(&self) -> &'static str {
        "file"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::lenient()
    }

    async fn get(&self, key: &str) -> BackendResult<Option<Bytes>> {
        let name = FileName::of(key);
        self.blocking(move |directory| directory.get(&name)).await
    }

    async fn set(&self, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<()> {
        let name = FileName::of(key);
        self.blocking(move |directory| directory.set(&name, &value, expiry))
            .await
    }

    async fn add(&self, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<bool> {
        let name = FileName::of(key);
        self.blocking(move |directory| directory.add(&name, &value, expiry))
            .await
    }

    async fn touch(&self, key: &str, expiry: Expiry) -> BackendResult<bool> {
        let name = FileName::of(key);
        self.blocking(move |directory| directory.touch(&name, expiry)).await
    }

    async fn delete(&self, key: &str) -> BackendResult<bool> {
        let name = FileName::of(key);
        self.blocking(move |directory| directory.delete(&name)).await
    }

    async fn incr(&self, key: &str, delta: i64) -> BackendResult<i64> {
        let name = FileName::of(key);
        self.blocking(move |directory| directory.incr(&name, delta)).await
    }

    // The batch forms make one trip to the blocking pool for all their keys.

    // The header holds the expiry, so a tier kept in front (`cache-tiered`) can learn what an
    // entry has left in the same read.
    async fn get_with_remaining(&self, key: &str) -> BackendResult<Option<(Bytes, Remaining)>> {
        let name = FileName::of(key);
        self.blocking(move |directory| directory.get_with_remaining(&name))
            .await
    }

    async fn get_many_with_remaining(&self, keys: &[&str]) -> BackendResult<Vec<Option<(Bytes, Remaining)>>> {
        let names: Vec<FileName> = keys.iter().map(|key| FileName::of(key)).collect();
        self.blocking(move |directory| names.iter().map(|name| directory.get_with_remaining(name)).collect())
            .await
    }

    async fn get_many(&self, keys: &[&str]) -> BackendResult<Vec<Option<Bytes>>> {
        let names: Vec<FileName> = keys.iter().map(|key| FileName::of(key)).collect();
        self.blocking(move |directory| names.iter().map(|name| directory.get(name)).collect())
            .await
    }

    async fn set_many(&self, items: &[(&str, Bytes)], expiry: Expiry) -> BackendResult<Vec<String>> {
        let items: Vec<(FileName, Bytes)> = items
            .iter()
            .map(|(key, value)| (FileName::of(key), value.clone()))
            .collect();
        self.blocking(move |directory| {
            for (name, value) in &items {
                directory.set(name, value, expiry)?;
            }
            Ok(Vec::new())
        })
        .await
    }

    async fn delete_many(&self, keys: &[&str]) -> BackendResult<()> {
        let names: Vec<FileName> = keys.iter().map(|key| FileName::of(key)).collect();
        self.blocking(move |directory| {
            for name in &names {
                directory.delete(name)?;
            }
            Ok(())
        })
        .await
    }

    async fn has_key(&self, key: &str) -> BackendResult<bool> {
        let name = FileName::of(key);
        self.blocking(move |directory| directory.has_key(&name)).await
    }

    async fn clear(&self) -> BackendResult<()> {
        self.blocking(Directory::clear).await
    }
}
