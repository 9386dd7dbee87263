//! The cache directory and every operation on it, as blocking file-system calls: the backend runs
//! each one on tokio's blocking pool.

use cache_core::stored_integer::increment;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use cache_core::{BackendError, BackendResult, Expiry, Remaining};

use crate::cull;
use crate::file_format::{self, HEADER_LEN, Header};
use crate::file_name::{FileName, is_cache_file};
use crate::io_error::io_error;
use crate::key_locks::DirectoryLocks;
use crate::options::FileOptions;
use crate::wall_clock::WallClock;

/// What a key's file holds right now.
enum Found<T> {
    /// No file.
    Missing,
    /// A file that reads as a miss and should go: expired, or not a whole file of our format
    /// (empty, truncated, written by something else).
    Stale,
    /// A live entry.
    Live(Header, T),
}

/// A cache directory: Django's `FileBasedCache` minus key making, which the façade owns.
pub(crate) struct Directory {
    path: PathBuf,
    options: FileOptions,
    clock: WallClock,
    /// Shared with every other backend of this process on the same directory.
    locks: Arc<DirectoryLocks>,
}

/// Temporary files are `.<pid>-<n>.djcache-tmp`: hidden, never matching `*.djcache` (so neither a
/// cull nor `clear()` counts them), unique within the process through this counter and across
/// processes through the pid.
static TEMP_FILES: AtomicU64 = AtomicU64::new(0);

impl Directory {
    /// The cache directory at `path`, which exists.
    pub(crate) fn new(path: PathBuf, options: FileOptions, clock: WallClock) -> Self {
        Directory {
            locks: DirectoryLocks::of(&path),
            path,
            options,
            clock,
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn options(&self) -> FileOptions {
        self.options
    }

    pub(crate) fn clock(&self) -> &WallClock {
        &self.clock
    }

    pub(crate) fn file_path(&self, name: &FileName) -> PathBuf {
        self.path.join(name.as_str())
    }

    // ---- operations ----

    pub(crate) fn get(&self, name: &FileName) -> BackendResult<Option<Bytes>> {
        let found = self.read_whole(name)?;
        Ok(self.live(name, found)?.map(|(_, value)| value))
    }

    /// `get` with what the entry has left, from the expiry in its header.
    pub(crate) fn get_with_remaining(&self, name: &FileName) -> BackendResult<Option<(Bytes, Remaining)>> {
        let found = self.read_whole(name)?;
        let live = self.live(name, found)?;
        Ok(live.map(|(header, value)| (value, self.clock.remaining(header.expires_at))))
    }

    pub(crate) fn has_key(&self, name: &FileName) -> BackendResult<bool> {
        let found = self.read_header(name)?;
        Ok(self.live(name, found)?.is_some())
    }

    /// What a read found, as a reader sees it: a live entry, or nothing (a stale file is removed
    /// on the way, unless it was replaced meanwhile).
    fn live<T>(&self, name: &FileName, found: Found<T>) -> BackendResult<Option<(Header, T)>> {
        match found {
            Found::Live(header, value) => Ok(Some((header, value))),
            Found::Missing => Ok(None),
            Found::Stale => {
                self.remove_if_stale(name)?;
                Ok(None)
            }
        }
    }

    pub(crate) fn set(&self, name: &FileName, value: &[u8], expiry: Expiry) -> BackendResult<()> {
        self.cull()?;
        let _key = self.locks.key(name);
        self.write(name, self.clock.expires_at(expiry), value)
    }

    pub(crate) fn add(&self, name: &FileName, value: &[u8], expiry: Expiry) -> BackendResult<bool> {
        let _key = self.locks.key(name);
        if let Found::Live(..) = self.read_header(name)? {
            return Ok(false);
        }
        // Culling under the key's lock is safe: the cull takes no key lock.
        self.cull()?;
        self.write(name, self.clock.expires_at(expiry), value)?;
        Ok(true)
    }

    /// Rewrites the expiry in the file it finds, in place, as Django's `touch` writes into the file
    /// it opened: if another process replaced or deleted the file meanwhile, the write lands in
    /// the file it replaced and is lost with it. Writing the value back under a new file instead
    /// would bring back what that process deleted or overwrote.
    pub(crate) fn touch(&self, name: &FileName, expiry: Expiry) -> BackendResult<bool> {
        let _key = self.locks.key(name);
        let Some((path, mut file)) = self.open(name, OpenOptions::new().read(true).write(true))? else {
            return Ok(false);
        };
        let failed = |doing, error| io_error(&self.path, doing, &path, error);
        if self
            .live_header(&mut file)
            .map_err(|error| failed("reading", error))?
            .is_none()
        {
            self.remove(name)?;
            return Ok(false);
        }
        let expires_at = self.clock.expires_at(expiry).to_le_bytes();
        file.seek(SeekFrom::Start(file_format::EXPIRY_AT as u64))
            .and_then(|_| file.write_all(&expires_at))
            .map_err(|error| failed("writing", error))?;
        Ok(true)
    }

    pub(crate) fn delete(&self, name: &FileName) -> BackendResult<bool> {
        let _key = self.locks.key(name);
        let live = match self.read_header(name)? {
            Found::Missing => return Ok(false),
            Found::Stale => false,
            Found::Live(..) => true,
        };
        Ok(self.remove(name)? && live)
    }

    pub(crate) fn incr(&self, name: &FileName, delta: i64) -> BackendResult<i64> {
        let _key = self.locks.key(name);
        let (header, value) = match self.read_whole(name)? {
            Found::Live(header, value) => (header, value),
            Found::Missing => return Err(BackendError::key_not_found()),
            Found::Stale => {
                self.remove(name)?;
                return Err(BackendError::key_not_found());
            }
        };
        let (new, stored) = increment(&value, delta)?;
        // The entry keeps its expiry (Django's file backend rewrites it with the default timeout).
        self.write(name, header.expires_at, &stored)?;
        Ok(new)
    }

    /// Removes every cache file and nothing else: other files and the directory itself stay.
    pub(crate) fn clear(&self) -> BackendResult<()> {
        for file in self.cache_files()? {
            let path = self.path.join(&file);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => return Err(io_error(&self.path, "removing", &path, error)),
            }
        }
        Ok(())
    }

    // ---- reading ----

    /// The whole file, checked: the header against the file's size first, so a stray file of any
    /// size costs a 24-byte read, not its size in memory.
    fn read_whole(&self, name: &FileName) -> BackendResult<Found<Bytes>> {
        let Some((path, mut file)) = self.open(name, OpenOptions::new().read(true))? else {
            return Ok(Found::Missing);
        };
        let failed = |error| io_error(&self.path, "reading", &path, error);
        let Some(header) = self.live_header(&mut file).map_err(failed)? else {
            return Ok(Found::Stale);
        };
        // The size was checked against the header: exactly this much is left to read.
        let mut value = vec![0; header.value_len as usize];
        match file.read_exact(&mut value) {
            Ok(()) => Ok(Found::Live(header, Bytes::from(value))),
            // Files are replaced, not cut short in place: one that shrank is someone else's.
            Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => Ok(Found::Stale),
            Err(error) => Err(failed(error)),
        }
    }

    /// The header only, checked against the file's size: what `has_key`, `add` and `delete` need.
    fn read_header(&self, name: &FileName) -> BackendResult<Found<()>> {
        let Some((path, mut file)) = self.open(name, OpenOptions::new().read(true))? else {
            return Ok(Found::Missing);
        };
        match self.live_header(&mut file) {
            Ok(Some(header)) => Ok(Found::Live(header, ())),
            Ok(None) => Ok(Found::Stale),
            Err(error) => Err(io_error(&self.path, "reading", &path, error)),
        }
    }

    /// The key's file, opened with `options`, and its path; `None` when there is no file.
    fn open(&self, name: &FileName, options: &OpenOptions) -> BackendResult<Option<(PathBuf, File)>> {
        let path = self.file_path(name);
        match options.open(&path) {
            Ok(file) => Ok(Some((path, file))),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(io_error(&self.path, "opening", &path, error)),
        }
    }

    /// Reads `file`'s header, leaving the file at the value: the header when it is this format's,
    /// matches the file's size and hasn't expired; `None` for a file that reads as a miss.
    fn live_header(&self, file: &mut File) -> io::Result<Option<Header>> {
        let mut bytes = [0; HEADER_LEN];
        let read = read_up_to(file, &mut bytes)?;
        let size = file.metadata()?.len();
        let header = file_format::whole_file_header(&bytes[..read], size);
        Ok(header.filter(|header| !self.clock.has_expired(header.expires_at)))
    }

    // ---- writing and removing ----

    /// Removes a file found stale without the key's lock, unless a writer replaced it meanwhile.
    fn remove_if_stale(&self, name: &FileName) -> BackendResult<()> {
        let _key = self.locks.key(name);
        if let Found::Stale = self.read_header(name)? {
            self.remove(name)?;
        }
        Ok(())
    }

    /// Removes the key's file; whether there was one.
    fn remove(&self, name: &FileName) -> BackendResult<bool> {
        let path = self.file_path(name);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(error) => Err(io_error(&self.path, "removing", &path, error)),
        }
    }

    /// Writes the whole file under a temporary name in the same directory, then renames it over
    /// the key's file: a reader, in this process or another, sees the old file or the new one,
    /// never a part of either.
    ///
    /// The directory may have been removed (Django recreates it before every write, and so do
    /// we): a write that finds it missing creates it and tries once more.
    fn write(&self, name: &FileName, expires_at: u64, value: &[u8]) -> BackendResult<()> {
        let header = Header {
            expires_at,
            value_len: value.len() as u64,
        };
        let target = self.file_path(name);
        match self.write_once(&header, value, &target) {
            Err(Failure::DirectoryMissing(_)) => {
                self.create_directory()?;
                self.write_once(&header, value, &target)
                    .map_err(|failure| failure.into_error(&self.path))
            }
            result => result.map_err(|failure| failure.into_error(&self.path)),
        }
    }

    fn write_once(&self, header: &Header, value: &[u8], target: &Path) -> Result<(), Failure> {
        let (temp, mut file) = self.create_temp()?;
        let written = file.write_all(&header.encode()).and_then(|()| file.write_all(value));
        drop(file);
        let failure = match written {
            Ok(()) => match fs::rename(&temp, target) {
                Ok(()) => return Ok(()),
                Err(error) => Failure::new("renaming a temporary file to", target, error),
            },
            Err(error) => Failure::new("writing", &temp, error),
        };
        // Best effort: the directory itself may be gone.
        let _ = fs::remove_file(&temp);
        Err(failure)
    }

    fn create_temp(&self) -> Result<(PathBuf, File), Failure> {
        let pid = std::process::id();
        loop {
            let n = TEMP_FILES.fetch_add(1, Ordering::Relaxed);
            let temp = self.path.join(format!(".{pid}-{n}.djcache-tmp"));
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            // Readable by this user only, as Django's `mkstemp` makes them: cached values are
            // often sessions, and the directory may be more open than 0o700.
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(&temp) {
                Ok(file) => return Ok((temp, file)),
                // Left behind by an earlier process with this pid: take the next name.
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(error) => return Err(Failure::new("creating a temporary file", &temp, error)),
            }
        }
    }

    /// Creates the directory (and its parents) with mode 0o700, as Django's `safe_makedirs`.
    pub(crate) fn create_directory(&self) -> BackendResult<()> {
        create_directory(&self.path).map_err(|error| io_error(&self.path, "creating the directory", &self.path, error))
    }

    // ---- culling ----

    fn cull(&self) -> BackendResult<()> {
        let _culling = self.locks.culling();
        let Some(doomed) = cull::choose(
            self.cache_files()?,
            self.options.max_entries,
            self.options.cull_frequency,
        ) else {
            return Ok(());
        };
        for file in doomed {
            let path = self.path.join(&file);
            match fs::remove_file(&path) {
                Ok(()) => {}
                // Removed meanwhile, by a reader that found it expired or by another process.
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => return Err(io_error(&self.path, "removing (culling)", &path, error)),
            }
        }
        Ok(())
    }

    /// The names of every `*.djcache` file; none when the directory is missing.
    fn cache_files(&self) -> BackendResult<Vec<OsString>> {
        let listing_failed = |error| io_error(&self.path, "listing the directory", &self.path, error);
        let entries = match fs::read_dir(&self.path) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(listing_failed(error)),
        };
        let mut files = Vec::new();
        for entry in entries {
            let name = entry.map_err(listing_failed)?.file_name();
            if is_cache_file(&name) {
                files.push(name);
            }
        }
        Ok(files)
    }
}

/// A failed write step, told apart from the rest when it means the directory is gone.
enum Failure {
    DirectoryMissing(BackendErrorParts),
    Other(BackendErrorParts),
}

struct BackendErrorParts {
    doing: &'static str,
    path: PathBuf,
    error: io::Error,
}

impl Failure {
    fn new(doing: &'static str, path: &Path, error: io::Error) -> Self {
        let missing = error.kind() == io::ErrorKind::NotFound;
        let parts = BackendErrorParts {
            doing,
            path: path.to_owned(),
            error,
        };
        if missing {
            Failure::DirectoryMissing(parts)
        } else {
            Failure::Other(parts)
        }
    }

    fn into_error(self, directory: &Path) -> BackendError {
        let (Failure::DirectoryMissing(parts) | Failure::Other(parts)) = self;
        io_error(directory, parts.doing, &parts.path, parts.error)
    }
}

/// Creates `path` and its missing parents, each with mode 0o700 (before the umask).
pub(crate) fn create_directory(path: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// Reads until `buffer` is full or the file ends; how many bytes were read.
fn read_up_to(file: &mut File, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}
