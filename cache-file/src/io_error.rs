//! File-system failures as [`BackendError`]s that name the path and what to check.

use std::io;
use std::path::Path;

use cache_core::BackendError;

/// `doing` the file or directory at `path` failed.
pub(crate) fn io_error(directory: &Path, doing: &str, path: &Path, error: io::Error) -> BackendError {
    // A misconfigured directory fails the same way until someone fixes it: not worth retrying.
    let lasting = matches!(
        error.kind(),
        io::ErrorKind::PermissionDenied
            | io::ErrorKind::ReadOnlyFilesystem
            | io::ErrorKind::NotADirectory
            | io::ErrorKind::AlreadyExists
            | io::ErrorKind::IsADirectory
            | io::ErrorKind::StorageFull
            | io::ErrorKind::QuotaExceeded
    );
    let fix = match error.kind() {
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
            "check that this process may read and write the cache directory"
        }
        io::ErrorKind::NotADirectory | io::ErrorKind::AlreadyExists => {
            "the cache location must be a directory (something else is at that path, or on the way to it)"
        }
        io::ErrorKind::IsADirectory => "a directory sits where a cache file belongs; remove it",
        // A write finds the directory gone, makes it again and tries once more; gone twice, it
        // was removed (or replaced) while the write ran.
        io::ErrorKind::NotFound => "the cache directory was removed while this ran; the next write makes it again",
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
            "the file system is full: free space on it, or lower the alias' `max_entries`"
        }
        _ => "check the cache directory, the file system it is on, and this process' limits (open files)",
    };
    BackendError::io(format!("{doing} `{}` failed: {error}; {fix}", path.display()), error)
        .retryable(!lasting)
        .on_server(server_name(directory))
}

/// How errors name the backend's directory, as `BackendError::on_server` does servers.
pub(crate) fn server_name(directory: &Path) -> String {
    format!("file cache `{}`", directory.display())
}
