//! [`FileBuilder`]: a file backend built in code, with no configuration.

use std::path::PathBuf;

use cache_core::{CacheError, Clock, Result};

use crate::backend::FileBackend;
use crate::options::FileOptions;

/// Builds a [`FileBackend`] over a directory, each option defaulting to Django's.
///
/// ```
/// use cache_file::FileBackend;
///
/// # let temporary = tempfile::tempdir().unwrap();
/// let directory = temporary.path().join("cache");
/// let backend = FileBackend::builder().directory(&directory).max_entries(1000).cull_frequency(4).build()?;
/// assert_eq!(backend.options().max_entries, 1000);
/// assert!(directory.is_dir());
/// # Ok::<(), cache_core::CacheError>(())
/// ```
///
/// `build` creates the directory (and its parents) when missing, and fails with a
/// [`CacheError::Config`] naming the directory when it can't, or when no directory was given.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct FileBuilder {
    directory: Option<PathBuf>,
    options: FileOptions,
    clock: Clock,
}

impl FileBuilder {
    pub(crate) fn new() -> Self {
        FileBuilder {
            directory: None,
            options: FileOptions::default(),
            clock: Clock::system(),
        }
    }

    /// The directory the files go in (Django's LOCATION); required. A relative path is made
    /// absolute against the current directory.
    pub fn directory(mut self, directory: impl Into<PathBuf>) -> Self {
        self.directory = Some(directory.into());
        self
    }

    /// Django's `MAX_ENTRIES` (300 unless set); see [`FileOptions::max_entries`].
    pub fn max_entries(mut self, max_entries: u64) -> Self {
        self.options.max_entries = max_entries;
        self
    }

    /// Django's `CULL_FREQUENCY` (3 unless set); see [`FileOptions::cull_frequency`].
    pub fn cull_frequency(mut self, cull_frequency: u64) -> Self {
        self.options.cull_frequency = cull_frequency;
        self
    }

    /// Every option at once.
    pub fn options(mut self, options: FileOptions) -> Self {
        self.options = options;
        self
    }

    /// The clock entries expire by (the system's wall clock unless set): tests give a
    /// [`Clock::manual`] and move it instead of sleeping.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The backend, with its directory created if it was missing.
    pub fn build(self) -> Result<FileBackend> {
        let Some(directory) = self.directory else {
            return Err(CacheError::config(
                None,
                "directory",
                "the file backend needs a directory to keep its files in; give it with \
                 `FileBackend::builder().directory(path)`",
            ));
        };
        FileBackend::open(directory, self.options, self.clock)
            .map_err(|message| CacheError::config(None, "directory", message))
    }
}
