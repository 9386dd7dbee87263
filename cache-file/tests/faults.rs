//! The cache directory taken away under load: errors that name the path, no panic, and service
//! again once the directory can be used.
//!
//! The tests run as root, and a read-only directory doesn't stop root from writing, so write
//! failures are provoked another way: the directory is replaced by a regular file (every path
//! inside it then fails with "not a directory"), or removed outright.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cache_core::testkit::Load;
use cache_core::{Cache, CacheError, CacheOptions, Result};
use cache_file::FileBackend;

/// Four callers hammering the cache; the errors they saw, as messages.
fn load(cache: &Cache) -> Load {
    let cache = cache.clone();
    Load::start(4, move |task, i| {
        let cache = cache.clone();
        async move {
            let key = format!("k{}", (i + task) % 20);
            match i % 4 {
                0 => cache.set(&key, i).await,
                1 => cache.get::<usize>(&key).await.map(drop),
                2 => cache.incr(&key, 1).await.map(drop).or_else(|error| match error {
                    CacheError::KeyNotFound { .. } => Ok(()),
                    error => Err(error),
                }),
                _ => cache.delete(&key).await.map(drop),
            }
        }
    })
}

/// Stops `load`; the messages of the errors its callers saw.
async fn messages(load: Load) -> Vec<String> {
    load.stop().await.iter().map(ToString::to_string).collect()
}

fn cache_in(directory: &Path) -> Cache {
    let backend = FileBackend::builder().directory(directory).build().unwrap();
    Cache::new("default", Arc::new(backend), CacheOptions::default())
}

/// Puts a regular file where `directory` is. A write under load may recreate the directory
/// between its removal and the file's arrival; then the swap is tried again.
fn replace_with_a_file(directory: &Path) {
    let blocker = directory.with_extension("blocker");
    std::fs::write(&blocker, b"not a directory").unwrap();
    for _ in 0..100 {
        match std::fs::remove_dir_all(directory) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(_) => continue,
        }
        if std::fs::rename(&blocker, directory).is_ok() {
            return;
        }
    }
    panic!("could not put a file in place of {}", directory.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_replaced_by_a_file_fails_naming_the_path_then_recovers() -> Result<()> {
    let root = tempfile::tempdir().unwrap();
    let directory: PathBuf = root.path().join("cache");
    let cache = cache_in(&directory);
    let load = load(&cache);
    load.until("successes", Load::ok, 200).await;

    // Take the directory away and put a file where it was.
    replace_with_a_file(&directory);
    let before = load.errors();
    load.until("errors", Load::errors, before + 200).await;

    // Put it right: the next write recreates the directory.
    std::fs::remove_file(&directory).unwrap();
    let recovered = load.ok();
    load.until("successes after the repair", Load::ok, recovered + 200)
        .await;
    let messages = messages(load).await;

    assert!(!messages.is_empty());
    let shown = directory.display().to_string();
    for message in &messages {
        assert!(
            message.contains(&shown),
            "an error that doesn't name {shown}: {message}"
        );
        // Mostly the file in its place; a write caught while the directory was swapped for it
        // finds it gone instead.
        assert!(
            message.contains("the cache location must be a directory")
                || message.contains("the cache directory was removed while this ran"),
            "{message}"
        );
    }
    assert!(directory.is_dir(), "recreated");
    cache.set("after", 1).await?;
    assert_eq!(cache.get::<i32>("after").await?, Some(1));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_removed_under_load_is_recreated() -> Result<()> {
    let root = tempfile::tempdir().unwrap();
    let directory: PathBuf = root.path().join("cache");
    let cache = cache_in(&directory);
    let load = load(&cache);
    for round in 1..=20 {
        load.until("successes", Load::ok, round * 50).await;
        // Django: "Cache dir can be deleted at any time."
        match std::fs::remove_dir_all(&directory) {
            Ok(()) => {}
            // A write recreated part of it while it was being removed: try again next round.
            Err(error) if error.kind() == std::io::ErrorKind::DirectoryNotEmpty => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => panic!("removing {}: {error}", directory.display()),
        }
    }
    let messages = messages(load).await;
    // A write whose directory vanished between its temporary file and its rename fails (and
    // says where); the directory never stays gone.
    let shown = directory.display().to_string();
    for message in &messages {
        assert!(
            message.contains(&shown),
            "an error that doesn't name {shown}: {message}"
        );
    }
    cache.set("after", 1).await?;
    assert!(directory.is_dir());
    assert_eq!(cache.get::<i32>("after").await?, Some(1));
    Ok(())
}

/// A directory where a cache file belongs is an error naming that path, for reads and writes
/// alike; removing it repairs the key.
#[tokio::test]
async fn a_directory_in_place_of_a_cache_file_is_an_error_naming_it() -> Result<()> {
    let root = tempfile::tempdir().unwrap();
    let backend = FileBackend::builder().directory(root.path()).build().unwrap();
    let cache = Cache::new("default", Arc::new(backend.clone()), CacheOptions::default());
    let path = backend.file_path(&cache.make_key("k", None));
    std::fs::create_dir(&path).unwrap();
    let read = cache.get::<String>("k").await.unwrap_err().to_string();
    assert!(
        read.contains(&path.display().to_string()) && read.contains("Is a directory"),
        "{read}"
    );
    let write = cache.set("k", "v").await.unwrap_err().to_string();
    assert!(write.contains(&path.display().to_string()), "{write}");
    std::fs::remove_dir(&path).unwrap();
    cache.set("k", "v").await?;
    assert_eq!(cache.get::<String>("k").await?.as_deref(), Some("v"));
    Ok(())
}
