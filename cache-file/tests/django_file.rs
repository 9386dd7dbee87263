//! Django's own FileBasedCache results (`tests/cache/tests.py`: `FileBasedCacheTests`, and the
//! cull tests of `BaseCacheTests`), driven through the `Cache` façade.

use std::fs;
use std::sync::Arc;

use cache_core::{Cache, CacheOptions, Clock, Result, Timeout};
use cache_file::FileBackend;

fn cache_in(directory: &std::path::Path, max_entries: u64, cull_frequency: u64) -> (Cache, FileBackend) {
    let backend = FileBackend::builder()
        .directory(directory)
        .max_entries(max_entries)
        .cull_frequency(cull_frequency)
        .clock(Clock::manual())
        .build()
        .expect("the directory is created");
    let cache = Cache::new("default", Arc::new(backend.clone()), CacheOptions::default());
    (cache, backend)
}

async fn present(cache: &Cache) -> Result<usize> {
    let mut count = 0;
    for i in 1..50 {
        count += usize::from(cache.has_key(&format!("cull{i}")).await?);
    }
    Ok(count)
}

async fn set_cull_keys(cache: &Cache) -> Result<()> {
    for i in 1..50 {
        cache
            .set(&format!("cull{i}"), "value")
            .timeout(Timeout::secs(1000))
            .await?;
    }
    Ok(())
}

fn cache_files(directory: &std::path::Path) -> usize {
    fs::read_dir(directory)
        .expect("the directory lists")
        .filter(|entry| {
            entry
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".djcache")
        })
        .count()
}

/// `test_cull`: 49 sets with `MAX_ENTRIES = 30`, `CULL_FREQUENCY = 3` leave 29 (random files
/// culled, but always the same number of them).
#[tokio::test]
async fn test_cull() -> Result<()> {
    let directory = tempfile::tempdir().unwrap();
    let (cache, _) = cache_in(directory.path(), 30, 3);
    set_cull_keys(&cache).await?;
    assert_eq!(present(&cache).await?, 29);
    assert_eq!(cache_files(directory.path()), 29);
    Ok(())
}

/// `test_zero_cull`: `CULL_FREQUENCY = 0` clears the directory when full: 19 left.
#[tokio::test]
async fn test_zero_cull() -> Result<()> {
    let directory = tempfile::tempdir().unwrap();
    let (cache, _) = cache_in(directory.path(), 30, 0);
    set_cull_keys(&cache).await?;
    assert_eq!(present(&cache).await?, 19);
    Ok(())
}

/// `test_cull_delete_when_store_empty`: Django sets `_max_entries = -1`; the nearest here is 0:
/// an empty directory culls `0 / 3 = 0` files and the write goes ahead.
#[tokio::test]
async fn test_cull_delete_when_store_empty() -> Result<()> {
    let directory = tempfile::tempdir().unwrap();
    let (cache, _) = cache_in(directory.path(), 0, 3);
    cache
        .set("force_cull_delete", "value")
        .timeout(Timeout::secs(1000))
        .await?;
    assert!(cache.has_key("force_cull_delete").await?);
    Ok(())
}

/// `test_ignores_non_cache_files` and `test_clear_does_not_remove_cache_dir`.
#[tokio::test]
async fn clear_removes_only_cache_files() -> Result<()> {
    let directory = tempfile::tempdir().unwrap();
    let (cache, _) = cache_in(directory.path(), 300, 3);
    let other = directory.path().join("not-a-cache-file");
    fs::write(&other, "").unwrap();
    cache.set("foo", "bar").await?;
    cache.clear().await?;
    assert!(other.exists(), "test_ignores_non_cache_files");
    assert!(directory.path().is_dir(), "test_clear_does_not_remove_cache_dir");
    assert_eq!(cache_files(directory.path()), 0);
    Ok(())
}

/// Non-cache files don't count towards `MAX_ENTRIES` either (Django globs `*.djcache`).
#[tokio::test]
async fn other_files_are_not_culled_or_counted() -> Result<()> {
    let directory = tempfile::tempdir().unwrap();
    let (cache, _) = cache_in(directory.path(), 2, 1);
    for i in 0..5 {
        fs::write(directory.path().join(format!("other{i}")), "").unwrap();
    }
    cache.set("a", 1).await?;
    assert!(
        cache.has_key("a").await?,
        "five other files don't make the directory full"
    );
    cache.set("b", 2).await?;
    cache.set("c", 3).await?; // finds 2 cache files: culls both
    assert_eq!(cache_files(directory.path()), 1);
    assert_eq!(fs::read_dir(directory.path()).unwrap().count(), 6);
    Ok(())
}

/// `test_creates_cache_dir_if_nonexistent`: the directory removed, the next `set` recreates it.
#[tokio::test]
async fn test_creates_cache_dir_if_nonexistent() -> Result<()> {
    let parent = tempfile::tempdir().unwrap();
    let directory = parent.path().join("cache");
    let (cache, _) = cache_in(&directory, 300, 3);
    fs::remove_dir(&directory).unwrap();
    assert_eq!(cache.get::<String>("foo").await?, None, "a missing directory is a miss");
    cache.set("foo", "bar").await?;
    assert!(directory.is_dir());
    assert_eq!(cache.get::<String>("foo").await?.as_deref(), Some("bar"));
    Ok(())
}

/// `test_get_ignores_enoent`: the file removed behind the cache's back is a miss.
#[tokio::test]
async fn test_get_ignores_enoent() -> Result<()> {
    let directory = tempfile::tempdir().unwrap();
    let (cache, backend) = cache_in(directory.path(), 300, 3);
    cache.set("foo", "bar").await?;
    fs::remove_file(backend.file_path(&cache.make_key("foo", None))).unwrap();
    assert_eq!(cache.get::<String>("foo").await?, None);
    assert!(!cache.has_key("foo").await?, "test_has_key_race_handling");
    Ok(())
}

/// `test_cache_dir_permissions`: a nested location; the directory and the parents created for
/// it get mode 0o700.
#[cfg(unix)]
#[tokio::test]
async fn test_cache_dir_permissions() {
    use std::os::unix::fs::PermissionsExt;

    let root = tempfile::tempdir().unwrap();
    let directory = root.path().join("nested").join("filebasedcache");
    cache_in(&directory, 300, 3);
    for path in [&directory, &root.path().join("nested")] {
        let mode = fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & !0o700, 0, "{} has mode {mode:o}", path.display());
        assert_eq!(mode & 0o700, 0o700, "{} has mode {mode:o}", path.display());
    }
}

/// `test_empty_cache_file_considered_expired`: a 0-byte file is a miss (and is removed).
#[tokio::test]
async fn test_empty_cache_file_considered_expired() -> Result<()> {
    let directory = tempfile::tempdir().unwrap();
    let (cache, backend) = cache_in(directory.path(), 300, 3);
    let path = backend.file_path(&cache.make_key("foo", None));
    fs::write(&path, b"").unwrap();
    assert!(!cache.has_key("foo").await?);
    assert!(!path.exists());
    Ok(())
}

/// Django's file name for a made key: the md5 hex digest plus `.djcache`, in the directory.
#[tokio::test]
async fn files_are_named_as_django_names_them() -> Result<()> {
    let directory = tempfile::tempdir().unwrap();
    let (cache, backend) = cache_in(directory.path(), 300, 3);
    cache.set("k", "v").await?;
    let expected = directory.path().join("86faa9ea774c6ce60e4513e14b3c0af9.djcache");
    assert_eq!(backend.file_path(":1:k"), expected);
    assert!(expected.is_file());
    Ok(())
}
