//! Where this backend deliberately departs from Django's `FileBasedCache`, one test each (the
//! crate README lists them), plus corrupt files, which Django's pickle loader would raise on.

use std::fs;
use std::sync::Arc;
use std::time::Duration;

use cache_core::{Cache, CacheError, CacheOptions, Clock, Result, Timeout};
use cache_file::FileBackend;

struct Fixture {
    _directory: tempfile::TempDir,
    clock: Clock,
    backend: FileBackend,
    cache: Cache,
}

fn fixture() -> Fixture {
    let directory = tempfile::tempdir().unwrap();
    let clock = Clock::manual();
    let backend = FileBackend::builder()
        .directory(directory.path())
        .clock(clock.clone())
        .build()
        .unwrap();
    let cache = Cache::new("default", Arc::new(backend.clone()), CacheOptions::default());
    Fixture {
        _directory: directory,
        clock,
        backend,
        cache,
    }
}

impl Fixture {
    fn path_of(&self, key: &str) -> std::path::PathBuf {
        self.backend.file_path(&self.cache.make_key(key, None))
    }
}

/// Django's backends have no such call; a tier kept in front (`cache-tiered`) asks what an entry
/// has left so its near copy never outlives the file's expiry. It comes from the file's header.
#[tokio::test]
async fn a_read_reports_what_the_entry_has_left() -> Result<()> {
    use cache_core::{CacheBackend, Remaining};
    let f = fixture();
    f.cache.set("short", 1).timeout(Timeout::Seconds(30.0)).await?;
    f.cache.set("forever", 2).timeout(Timeout::Never).await?;
    f.clock.advance(Duration::from_secs(10));
    let keys = ["short", "forever", "missing"].map(|key| f.cache.make_key(key, None));
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let expected = [
        Some((bytes::Bytes::from_static(b"1"), Remaining::For(Duration::from_secs(20)))),
        Some((bytes::Bytes::from_static(b"2"), Remaining::Never)),
        None,
    ];
    for (key, expected) in keys.iter().zip(&expected) {
        assert_eq!(&f.backend.get_with_remaining(key).await.unwrap(), expected, "{key}");
    }
    assert_eq!(f.backend.get_many_with_remaining(&keys).await.unwrap(), expected);
    // Expired: gone, as for `get`.
    f.clock.advance(Duration::from_secs(20));
    assert_eq!(f.backend.get_with_remaining(keys[0]).await.unwrap(), None);
    Ok(())
}

/// Django's `incr` is a `get` then a `set` with the default timeout: an entry set for 1000 s has
/// 300 s left after an `incr`. Here the entry keeps its expiry.
#[tokio::test]
async fn incr_keeps_the_expiry() -> Result<()> {
    let f = fixture();
    f.cache.set("n", 1).timeout(Timeout::secs(1000)).await?;
    assert_eq!(f.cache.incr("n", 1).await?, 2);
    f.clock.advance(Duration::from_secs(999));
    assert_eq!(f.cache.get::<i64>("n").await?, Some(2), "the 1000 s expiry, not 300 s");
    f.clock.advance(Duration::from_secs(1));
    assert_eq!(f.cache.get::<i64>("n").await?, None);
    Ok(())
}

/// And a `never` entry stays `never`, where Django's would get the default 300 s.
#[tokio::test]
async fn incr_keeps_never() -> Result<()> {
    let f = fixture();
    f.cache.set("n", 1).timeout(Timeout::Never).await?;
    f.cache.decr("n", 5).await?;
    f.clock.advance(Duration::from_secs(10_000));
    assert_eq!(f.cache.get::<i64>("n").await?, Some(-4));
    Ok(())
}

/// Django's `touch` on an expired file deletes it and then writes to the closed file, raising
/// `ValueError`. Here it returns false, and the file is gone.
#[tokio::test]
async fn touch_on_an_expired_entry_is_false() -> Result<()> {
    let f = fixture();
    f.cache.set("t", "v").timeout(Timeout::secs(1)).await?;
    f.clock.advance(Duration::from_secs(2));
    assert!(!f.cache.touch("t").timeout(Timeout::secs(100)).await?);
    assert!(!f.path_of("t").exists());
    assert_eq!(f.cache.get::<String>("t").await?, None);
    Ok(())
}

/// Django's `delete` removes an expired file and returns true. Here: false, removed all the same.
#[tokio::test]
async fn delete_of_an_expired_entry_is_false() -> Result<()> {
    let f = fixture();
    f.cache.set("d", "v").timeout(Timeout::secs(1)).await?;
    f.clock.advance(Duration::from_secs(1));
    assert!(f.path_of("d").exists(), "expired, not yet removed");
    assert!(!f.cache.delete("d").await?);
    assert!(!f.path_of("d").exists());
    Ok(())
}

/// Django's `add` is `has_key` then `set`: two concurrent adds can both return true. Here one
/// wins (atomic within the process).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_adds_store_once() -> Result<()> {
    let f = fixture();
    for round in 0..20 {
        let key = format!("race{round}");
        let attempts = (0..8).map(|i| {
            let cache = f.cache.clone();
            let key = key.clone();
            tokio::spawn(async move { cache.add(&key, i).await })
        });
        let mut won = 0;
        for attempt in attempts {
            won += usize::from(attempt.await.unwrap()?);
        }
        assert_eq!(won, 1, "round {round}");
    }
    Ok(())
}

/// Django's `incr` is a get and a set: concurrent increments lose updates. Here none are lost
/// within the process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_increments_are_all_counted() -> Result<()> {
    let f = fixture();
    f.cache.set("hits", 0).await?;
    increment_from_eight_tasks(std::slice::from_ref(&f.cache)).await?;
    assert_eq!(f.cache.get::<i64>("hits").await?, Some(200));
    Ok(())
}

/// Eight tasks, taking `caches` in turn, each incrementing `hits` 25 times.
async fn increment_from_eight_tasks(caches: &[Cache]) -> Result<()> {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let cache = caches[i % caches.len()].clone();
            tokio::spawn(async move {
                for _ in 0..25 {
                    cache.incr("hits", 1).await?;
                }
                Ok::<_, CacheError>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap()?;
    }
    Ok(())
}

/// Django adds to floats and booleans; here anything but a decimal integer is `NotAnInteger`.
#[tokio::test]
async fn incr_of_a_non_integer_is_an_error() -> Result<()> {
    let f = fixture();
    f.cache.set("f", 1.5).await?;
    let error = f.cache.incr("f", 1).await.unwrap_err();
    assert!(matches!(error, CacheError::NotAnInteger { .. }), "{error}");
    Ok(())
}

/// A truncated file (a crash mid-write on a file system that reordered the rename, a disk that
/// filled) reads as a miss and is removed; the next `set` replaces it. Django's unpickling would
/// raise instead.
#[tokio::test]
async fn a_truncated_file_is_a_miss_and_is_replaced() -> Result<()> {
    let f = fixture();
    f.cache.set("t", "a value long enough to cut").await?;
    let path = f.path_of("t");
    let whole = fs::read(&path).unwrap();
    for cut in [whole.len() - 1, 30, 24, 10, 0] {
        fs::write(&path, &whole[..cut]).unwrap();
        assert_eq!(f.cache.get::<String>("t").await?, None, "cut at {cut}");
        assert!(!path.exists(), "cut at {cut}: removed on read");
    }
    f.cache.set("t", "again").await?;
    assert_eq!(f.cache.get::<String>("t").await?.as_deref(), Some("again"));
    Ok(())
}

/// A file that isn't ours (garbage, a Django pickle, bytes appended) is a miss for every
/// operation, never an error, and never read twice.
#[tokio::test]
async fn a_corrupt_file_is_a_miss_for_every_operation() -> Result<()> {
    let f = fixture();
    let path = f.path_of("c");
    let garbage: &[&[u8]] = &[
        b"\x80\x05\x95\x0b\x00\x00\x00\x00\x00\x00\x00G\x41\xd9\x00\x00\x00\x00\x00\x00.",
        b"djcache\x01 but the rest is missing",
        &[0xff; 100],
    ];
    for bytes in garbage {
        fs::write(&path, bytes).unwrap();
        assert_eq!(f.cache.get_raw("c").await?, None);
        assert!(!path.exists());

        fs::write(&path, bytes).unwrap();
        assert!(!f.cache.has_key("c").await?);
        fs::write(&path, bytes).unwrap();
        assert!(!f.cache.delete("c").await?);
        fs::write(&path, bytes).unwrap();
        assert!(!f.cache.touch("c").await?);
        fs::write(&path, bytes).unwrap();
        assert!(matches!(
            f.cache.incr("c", 1).await,
            Err(CacheError::KeyNotFound { .. })
        ));
        fs::write(&path, bytes).unwrap();
        assert!(f.cache.add("c", "fresh").await?, "add replaces a corrupt file");
        assert_eq!(f.cache.get::<String>("c").await?.as_deref(), Some("fresh"));
        f.cache.delete("c").await?;
    }
    // A whole file with a byte appended.
    f.cache.set("c", "v").await?;
    let mut longer = fs::read(&path).unwrap();
    longer.push(b'!');
    fs::write(&path, longer).unwrap();
    assert_eq!(f.cache.get_raw("c").await?, None);
    Ok(())
}

/// Expired files are removed by the read that finds them (Django's `_is_expired`).
#[tokio::test]
async fn expired_files_are_removed_on_read() -> Result<()> {
    let f = fixture();
    f.cache.set("e", "v").timeout(Timeout::secs(5)).await?;
    f.clock.advance(Duration::from_secs(5));
    assert!(f.path_of("e").exists());
    assert_eq!(f.cache.get::<String>("e").await?, None);
    assert!(!f.path_of("e").exists());
    Ok(())
}

/// The on-disk format the README documents: header, then the value exactly as the façade encoded
/// it (JSON here).
#[tokio::test]
async fn the_file_is_a_header_then_the_value() -> Result<()> {
    let f = fixture();
    f.cache.set("k", "hello").timeout(Timeout::Never).await?;
    let bytes = fs::read(f.path_of("k")).unwrap();
    assert_eq!(&bytes[..8], b"djcache\x01");
    assert_eq!(&bytes[8..16], &u64::MAX.to_le_bytes(), "never");
    assert_eq!(&bytes[16..24], &7u64.to_le_bytes());
    assert_eq!(&bytes[24..], b"\"hello\"");
    Ok(())
}

/// Two backends of one process on one directory (two aliases with the same location) share its
/// locks: their increments are all counted too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn increments_through_two_backends_on_one_directory_are_all_counted() -> Result<()> {
    let f = fixture();
    let second = FileBackend::builder()
        .directory(f.backend.directory())
        .clock(f.clock.clone())
        .build()
        .unwrap();
    let second = Cache::new("other", Arc::new(second), CacheOptions::default());
    f.cache.set("hits", 0).await?;
    increment_from_eight_tasks(&[f.cache.clone(), second]).await?;
    assert_eq!(f.cache.get::<i64>("hits").await?, Some(200));
    Ok(())
}

/// Django's `touch` writes into the file it opened. So does this one: only the expiry's 8 bytes,
/// in place. A process that replaced or deleted the file meanwhile keeps what it did (writing the
/// value back under a new file would bring the old value back).
#[cfg(unix)]
#[tokio::test]
async fn touch_rewrites_the_expiry_in_the_file_it_found() -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let f = fixture();
    f.cache.set("k", "hello").timeout(Timeout::Never).await?;
    let before = fs::read(f.path_of("k")).unwrap();
    let inode = fs::metadata(f.path_of("k")).unwrap().ino();
    assert!(f.cache.touch("k").timeout(Timeout::Seconds(10.0)).await?);
    let after = fs::read(f.path_of("k")).unwrap();
    assert_eq!(fs::metadata(f.path_of("k")).unwrap().ino(), inode, "the same file");
    assert_ne!(after[8..16], before[8..16], "a new expiry");
    assert_eq!((&after[..8], &after[16..]), (&before[..8], &before[16..]));
    f.clock.advance(Duration::from_secs(11));
    assert_eq!(f.cache.get::<String>("k").await?, None);
    Ok(())
}

/// Cache files are often sessions: readable by their owner only, as Django's `mkstemp` makes
/// them, whatever the directory's own mode.
#[cfg(unix)]
#[tokio::test]
async fn cache_files_are_readable_by_their_owner_only() -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture();
    fs::set_permissions(f.backend.directory(), fs::Permissions::from_mode(0o755)).unwrap();
    f.cache.set("session", "secret").await?;
    let mode = fs::metadata(f.path_of("session")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    Ok(())
}

/// A stray file under a key's name is checked by its 24-byte header before anything else is
/// read: a 1 TiB one (sparse, so it takes no disk; 4 GiB where the file system won't) is a miss,
/// found without reading it, where reading it whole would ask for its size in memory.
#[tokio::test]
async fn a_stray_file_of_any_size_is_a_miss_without_being_read() -> Result<()> {
    let f = fixture();
    f.cache.set("k", "v").await?;
    let stray = fs::File::create(f.path_of("k")).unwrap();
    stray.set_len(1 << 40).or_else(|_| stray.set_len(4 << 30)).unwrap();
    drop(stray);
    assert_eq!(f.cache.get::<String>("k").await?, None);
    assert!(!f.path_of("k").exists(), "removed, as any file that isn't ours");
    Ok(())
}
