//! Two real OS processes writing and reading one cache directory under load: neither ever reads
//! a torn file or another key's value, while culls remove files under both of them.
//!
//! The test binary re-executes itself with `CACHE_FILE_PEER_DIRECTORY` set; the child runs the
//! same test function, which then acts as the second process. The parent kills the child if the
//! parent fails first (`KillOnDrop`), so no process outlives the test.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_core::{Bytes, Cache, CacheOptions, Timeout};
use cache_file::FileBackend;

const PEER_DIRECTORY: &str = "CACHE_FILE_PEER_DIRECTORY";
const KEYS: usize = 16;
/// Fewer than `KEYS`, so writes keep culling files the other process is reading.
const MAX_ENTRIES: u64 = 12;
const OPERATIONS: usize = 3_000;
/// Each process must read at least this many values the other one wrote: proof they overlapped.
const SEEN_FROM_PEER: usize = 50;
/// A bound on the whole run, so a broken peer fails the test instead of hanging it.
const DEADLINE: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_a_directory_under_load() {
    if let Some(directory) = std::env::var_os(PEER_DIRECTORY) {
        // The child: writer 1.
        load(Path::new(&directory), 1).await;
        return;
    }
    let directory = tempfile::tempdir().expect("a temporary directory");
    let mut child = KillOnDrop(Some(
        Command::new(std::env::current_exe().expect("the test binary's path"))
            .args(["two_processes_share_a_directory_under_load", "--exact", "--nocapture"])
            .env(PEER_DIRECTORY, directory.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the test binary starts again as the second process"),
    ));
    load(directory.path(), 0).await;
    let peer = child.0.take().expect("the child is still ours");
    let output = tokio::task::spawn_blocking(move || peer.wait_with_output())
        .await
        .unwrap()
        .expect("the child's output");
    assert!(
        output.status.success(),
        "the second process failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// One process' share of the load: sets, gets, batch gets and deletes over the same keys as the
/// other process, checking every value read.
async fn load(directory: &Path, writer: u8) {
    let backend = FileBackend::builder()
        .directory(directory)
        .max_entries(MAX_ENTRIES)
        .cull_frequency(3)
        .build()
        .expect("the shared directory opens");
    let cache = Cache::new("shared", Arc::new(backend.clone()), CacheOptions::default());
    rendezvous(directory, writer);

    let deadline = Instant::now() + DEADLINE;
    let (mut done, mut seen_from_peer, mut misses) = (0usize, 0usize, 0usize);
    let mut seq = u64::from(writer) << 32;
    while done < OPERATIONS || seen_from_peer < SEEN_FROM_PEER {
        assert!(
            Instant::now() < deadline,
            "writer {writer}: {done} operations, {seen_from_peer} values from the other process by the deadline"
        );
        let key = format!("k{}", (done * 7 + usize::from(writer)) % KEYS);
        match done % 10 {
            0..=2 => {
                seq += 1;
                cache
                    .set_raw(&key, value(&key, writer, seq))
                    .timeout(Timeout::Never)
                    .await
                    .expect("set");
            }
            3..=5 => match cache.get_raw(&key).await.expect("get") {
                Some(bytes) => seen_from_peer += usize::from(check(&key, &bytes) != writer),
                None => misses += 1,
            },
            6 => {
                let keys: Vec<String> = (0..4).map(|i| format!("k{}", (done + i) % KEYS)).collect();
                let found = cache.get_many_raw(&keys).await.expect("get_many");
                for (key, bytes) in found {
                    seen_from_peer += usize::from(check(&key, &bytes) != writer);
                }
            }
            7 => {
                // What another program reading the directory sees: never a part of a file.
                let path = backend.file_path(&cache.make_key(&key, None));
                match std::fs::read(&path) {
                    Ok(file) => seen_from_peer += usize::from(check(&key, whole_file(&key, &file)) != writer),
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => misses += 1,
                    Err(error) => panic!("reading {}: {error}", path.display()),
                }
            }
            8 => {
                cache.delete(&key).await.expect("delete");
            }
            _ => {
                cache.has_key(&key).await.expect("has_key");
            }
        }
        done += 1;
    }
    println!("writer {writer}: {done} operations, {seen_from_peer} values from the other process, {misses} misses");
}

/// A value that says whose it is and checks itself: `key|writer|seq|len|` then `len` copies of
/// one byte derived from `seq`. Lengths run up to 48 KiB, so a torn file would show.
fn value(key: &str, writer: u8, seq: u64) -> Bytes {
    let len = (seq.wrapping_mul(2_654_435_761) % (48 * 1024)) as usize;
    let fill = b'a' + (seq % 26) as u8;
    let mut bytes = format!("{key}|{writer}|{seq}|{len}|").into_bytes();
    bytes.resize(bytes.len() + len, fill);
    bytes.into()
}

/// Panics unless `bytes` is a whole value written for `key`; returns its writer.
fn check(key: &str, bytes: &[u8]) -> u8 {
    let text = String::from_utf8_lossy(bytes);
    let mut parts = text.splitn(5, '|');
    let mut field = || {
        parts
            .next()
            .unwrap_or_else(|| panic!("{key}: a malformed value: {text:.80}"))
    };
    let (stored_key, writer, seq, len, rest) = (field(), field(), field(), field(), field());
    assert_eq!(stored_key, key, "another key's value");
    let writer: u8 = writer.parse().expect("a writer id");
    let seq: u64 = seq.parse().expect("a sequence number");
    let len: usize = len.parse().expect("a length");
    assert_eq!(rest.len(), len, "{key}: a torn value (writer {writer}, seq {seq})");
    let fill = b'a' + (seq % 26) as u8;
    assert!(
        rest.bytes().all(|b| b == fill),
        "{key}: mixed contents (writer {writer}, seq {seq})"
    );
    writer
}

/// The value of a whole cache file in the documented format (24-byte header: magic, version,
/// expiry, value length), or a panic naming what is wrong with it.
fn whole_file<'a>(key: &str, file: &'a [u8]) -> &'a [u8] {
    assert!(file.len() >= 24, "{key}: a torn file of {} bytes", file.len());
    assert_eq!(&file[..8], b"djcache\x01", "{key}: not a cache file");
    let len = u64::from_le_bytes(file[16..24].try_into().unwrap());
    assert_eq!(file.len() as u64 - 24, len, "{key}: a torn file");
    &file[24..]
}

/// Each process leaves a marker (not a `.djcache` file, so culls and `clear()` leave it) and
/// waits for the other's, so the load runs while both are up.
fn rendezvous(directory: &Path, writer: u8) {
    let marker = |id: u8| -> PathBuf { directory.join(format!("ready-{id}")) };
    std::fs::write(marker(writer), b"").expect("the marker is written");
    let deadline = Instant::now() + DEADLINE;
    while !marker(1 - writer).exists() {
        assert!(
            Instant::now() < deadline,
            "writer {writer}: the other process never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Kills and reaps the child unless the test took it back to wait for it.
struct KillOnDrop(Option<Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
