//! Striped locks that make each key's read-modify-write (`add`, `incr`, `touch`, `delete`, and a
//! `set` racing them) atomic within the process, and the lock that serialises culls.
//!
//! Files are replaced by rename, so a reader never needs a lock to see a whole file; only
//! operations that decide what to write from what they read do. 256 stripes, picked by the first
//! byte of the file name's md5: two keys share a lock one time in 256, and only for as long as one
//! small file is read and written.
//!
//! The locks belong to the directory, not to one backend: every backend of this process on the
//! same directory (two aliases with the same location, a second builder) shares them, found by
//! the directory's canonical path.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Weak};

use parking_lot::{Mutex, MutexGuard};

use crate::file_name::FileName;

/// The locks of one cache directory.
pub(crate) struct DirectoryLocks {
    stripes: Box<[Mutex<()>]>,
    /// One cull at a time in this process: a second writer counts the files after the first
    /// culled, instead of culling the same full directory twice over.
    culling: Mutex<()>,
}

/// The locks of every directory a live backend of this process uses, by canonical path.
static DIRECTORIES: LazyLock<Mutex<HashMap<PathBuf, Weak<DirectoryLocks>>>> = LazyLock::new(Mutex::default);

impl DirectoryLocks {
    /// The locks of the directory at `path` (which exists): those of another backend on it when
    /// there is one, else new ones.
    pub(crate) fn of(path: &Path) -> Arc<DirectoryLocks> {
        // Through symbolic links, so two spellings of one directory share; as given when that
        // fails (the directory was removed meanwhile: its first write recreates it).
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        let mut directories = DIRECTORIES.lock();
        directories.retain(|_, locks| locks.strong_count() > 0);
        if let Some(locks) = directories.get(&canonical).and_then(Weak::upgrade) {
            return locks;
        }
        let locks = Arc::new(DirectoryLocks {
            stripes: (0..256).map(|_| Mutex::new(())).collect(),
            culling: Mutex::new(()),
        });
        directories.insert(canonical, Arc::downgrade(&locks));
        locks
    }

    /// Held on a blocking-pool thread, never on a tokio worker.
    pub(crate) fn key(&self, name: &FileName) -> MutexGuard<'_, ()> {
        self.stripes[usize::from(name.stripe())].lock()
    }

    /// Held while culling; the cull takes no key lock, so a key's holder may cull.
    pub(crate) fn culling(&self) -> MutexGuard<'_, ()> {
        self.culling.lock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_on_one_directory_share_its_locks_however_it_is_spelled() {
        let temporary = tempfile::tempdir().unwrap();
        let directory = temporary.path().join("cache");
        std::fs::create_dir(&directory).unwrap();
        let other = tempfile::tempdir().unwrap();
        let first = DirectoryLocks::of(&directory);
        let again = DirectoryLocks::of(&temporary.path().join("cache/../cache"));
        assert!(Arc::ptr_eq(&first, &again));
        assert!(!Arc::ptr_eq(&first, &DirectoryLocks::of(other.path())));
        // Forgotten once their last backend is gone.
        drop((first, again));
        let _unrelated = DirectoryLocks::of(other.path());
        let canonical = std::fs::canonicalize(&directory).unwrap();
        assert!(!DIRECTORIES.lock().contains_key(&canonical));
    }
}
