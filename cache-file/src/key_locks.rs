//! Striped locks that make each key's read-modify-write (`add`, `incr`, `touch`, `delete`, and a
//! `set` racing them) atomic within the process.
//!
//! Files are replaced by rename, so a reader never needs a lock to see a whole file; only
//! operations that decide what to write from what they read do. 256 stripes, picked by the first
//! byte of the file name's md5: two keys share a lock one time in 256, and only for as long as one
//! small file is read and written.

use parking_lot::{Mutex, MutexGuard};

use crate::file_name::FileName;

pub(crate) struct KeyLocks {
    stripes: Box<[Mutex<()>]>,
}

impl KeyLocks {
    pub(crate) fn new() -> Self {
        KeyLocks {
            stripes: (0..256).map(|_| Mutex::new(())).collect(),
        }
    }

    /// Held on a blocking-pool thread, never on a tokio worker.
    pub(crate) fn lock(&self, name: &FileName) -> MutexGuard<'_, ()> {
        self.stripes[usize::from(name.stripe())].lock()
    }
}
