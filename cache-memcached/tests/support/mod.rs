//! Test helpers: a recording fake memcached that checks every command it receives, a raw text
//! client for looking at a real server behind the backend's back, and a unix-socket memcached.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Whether a key token is one memcached accepts as is: 1 to 250 bytes, none of them a control
/// character, a space or DEL.
pub(crate) fn valid_key(key: &[u8]) -> bool {
    !key.is_empty() && key.len() <= 250 && key.iter().all(|&b| b > b' ' && b != 0x7f)
}

/// What the fake server saw.
#[derive(Debug, Default)]
pub(crate) struct Log {
    /// Every command line, as received (without `\r\n`).
    pub lines: Vec<Vec<u8>>,
    /// Lines that are not a well-formed command with valid keys, and why.
    pub violations: Vec<String>,
}

/// A memcached stand-in on a loopback port: an in-memory store answering `get`, `set`, `add`,
/// `touch`, `delete`, `incr`, `decr` and `flush_all`, which records every command line and
/// flags any that a real server would misread.
pub(crate) struct FakeServer {
    pub port: u16,
    pub log: Arc<Mutex<Log>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeServer {
    pub(crate) async fn start() -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Log::default()));
        let store: Arc<Mutex<HashMap<Vec<u8>, Vec<u8>>>> = Arc::default();
        let task = tokio::spawn({
            let log = Arc::clone(&log);
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(stream, Arc::clone(&log), Arc::clone(&store)));
                }
            }
        });
        FakeServer { port, log, task }
    }

    pub(crate) fn location(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The lines received that start with `verb `.
    pub(crate) fn count(&self, verb: &str) -> usize {
        let prefix = format!("{verb} ");
        self.log
            .lock()
            .lines
            .iter()
            .filter(|line| line.starts_with(prefix.as_bytes()))
            .count()
    }

    pub(crate) fn violations(&self) -> Vec<String> {
        self.log.lock().violations.clone()
    }

    pub(crate) fn clear_log(&self) {
        let mut log = self.log.lock();
        log.lines.clear();
        log.violations.clear();
    }
}

async fn serve(stream: TcpStream, log: Arc<Mutex<Log>>, store: Arc<Mutex<HashMap<Vec<u8>, Vec<u8>>>>) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        let mut line = Vec::new();
        match read.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let violation = |why: &str, line: &[u8]| format!("{why}: {:?}", String::from_utf8_lossy(line));
        if !line.ends_with(b"\r\n") {
            log.lock()
                .violations
                .push(violation("a line not ended by \\r\\n", &line));
            return;
        }
        line.truncate(line.len() - 2);
        log.lock().lines.push(line.clone());
        let tokens: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
        let verb = tokens[0];
        let keys_ok = |keys: &[&[u8]]| keys.iter().all(|key| valid_key(key));
        let answer: Vec<u8> = match (verb, tokens.len()) {
            (b"get", n) if n >= 2 && keys_ok(&tokens[1..]) => {
                let store = store.lock();
                let mut out = Vec::new();
                for key in &tokens[1..] {
                    if let Some(value) = store.get(*key) {
                        out.extend_from_slice(
                            format!("VALUE {} 0 {}\r\n", String::from_utf8_lossy(key), value.len()).as_bytes(),
                        );
                        out.extend_from_slice(value);
                        out.extend_from_slice(b"\r\n");
                    }
                }
                out.extend_from_slice(b"END\r\n");
                out
            }
            (b"set" | b"add", 5) if keys_ok(&tokens[1..2]) => {
                let Some(length) = std::str::from_utf8(tokens[4])
                    .ok()
                    .and_then(|t| t.parse::<usize>().ok())
                else {
                    log.lock().violations.push(violation("a bad length", &line));
                    return;
                };
                let mut data = vec![0; length + 2];
                if read.read_exact(&mut data).await.is_err() {
                    return;
                }
                if !data.ends_with(b"\r\n") {
                    log.lock()
                        .violations
                        .push(violation("a data block not ended by \\r\\n", &line));
                    return;
                }
                data.truncate(length);
                let mut store = store.lock();
                if verb == b"add" && store.contains_key(tokens[1]) {
                    b"NOT_STORED\r\n".to_vec()
                } else {
                    store.insert(tokens[1].to_vec(), data);
                    b"STORED\r\n".to_vec()
                }
            }
            (b"touch", 3) if keys_ok(&tokens[1..2]) => {
                if store.lock().contains_key(tokens[1]) {
                    b"TOUCHED\r\n".to_vec()
                } else {
                    b"NOT_FOUND\r\n".to_vec()
                }
            }
            (b"delete", 2) if keys_ok(&tokens[1..2]) => {
                if store.lock().remove(tokens[1]).is_some() {
                    b"DELETED\r\n".to_vec()
                } else {
                    b"NOT_FOUND\r\n".to_vec()
                }
            }
            (b"incr" | b"decr", 3) if keys_ok(&tokens[1..2]) => {
                let mut store = store.lock();
                let delta: u64 = std::str::from_utf8(tokens[2]).unwrap().parse().unwrap();
                match store.get_mut(tokens[1]) {
                    None => b"NOT_FOUND\r\n".to_vec(),
                    Some(value) => match std::str::from_utf8(value)
                        .ok()
                        .and_then(|v| v.trim_end().parse::<u64>().ok())
                    {
                        None => b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n".to_vec(),
                        Some(old) => {
                            let new = if verb == b"incr" {
                                old.wrapping_add(delta)
                            } else {
                                old.saturating_sub(delta)
                            };
                            *value = new.to_string().into_bytes();
                            format!("{new}\r\n").into_bytes()
                        }
                    },
                }
            }
            (b"flush_all", 1) => {
                store.lock().clear();
                b"OK\r\n".to_vec()
            }
            _ => {
                log.lock()
                    .violations
                    .push(violation("not a well-formed command", &line));
                b"ERROR\r\n".to_vec()
            }
        };
        if write.write_all(&answer).await.is_err() {
            return;
        }
    }
}

/// A plain text-protocol exchange with a real server: sends `request`, returns what arrives
/// until `until` ends the reply.
pub(crate) async fn raw(address: &str, request: &[u8], until: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut reply = Vec::new();
    let mut chunk = [0u8; 4096];
    while !reply.ends_with(until) {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .expect("the server answers")
            .unwrap();
        assert!(n > 0, "the server closed the connection");
        reply.extend_from_slice(&chunk[..n]);
    }
    reply
}

/// The remaining time to live memcached reports for `key` (`mg <key> t`): -1 for never, `None`
/// when the key is missing.
pub(crate) async fn ttl(address: &str, key: &str) -> Option<i64> {
    let reply = raw(address, format!("mg {key} t\r\n").as_bytes(), b"\r\n").await;
    let text = String::from_utf8(reply).unwrap();
    if text.starts_with("EN") {
        return None;
    }
    let flag = text.split_whitespace().find_map(|token| token.strip_prefix('t'))?;
    Some(flag.parse().unwrap())
}

/// A memcached listening on a unix socket only, in a directory of its own; killed on drop.
pub(crate) struct UnixMemcached {
    child: Child,
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

impl UnixMemcached {
    pub(crate) async fn start() -> UnixMemcached {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("memcached.sock");
        let child = Command::new("memcached")
            .args([
                "-s",
                path.to_str().unwrap(),
                "-U",
                "0",
                "-m",
                "16",
                "-t",
                "1",
                "-u",
                "root",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("memcached is installed");
        let server = UnixMemcached { child, path, _dir: dir };
        for _ in 0..200 {
            if Path::new(&server.path).exists() && tokio::net::UnixStream::connect(&server.path).await.is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("memcached did not open {}", server.path.display());
    }
}

impl Drop for UnixMemcached {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a [`HostileServer`] does with a command line.
pub(crate) enum Act {
    /// Writes these bytes and reads the next command.
    Send(Vec<u8>),
    /// Writes these bytes and closes the connection.
    SendAndClose(Vec<u8>),
}

/// A server on a loopback port that answers each command line with whatever `answer` says — a
/// broken or hostile memcached. `answer` is given the line (without `\r\n`) and the number of the
/// connection it came on, from 0. Every task it starts is stopped when it is dropped.
pub(crate) struct HostileServer {
    pub port: u16,
    accepted: Arc<std::sync::atomic::AtomicUsize>,
    ended: Arc<tokio::sync::Notify>,
    tasks: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        for task in self.tasks.lock().drain(..) {
            task.abort();
        }
    }
}

impl HostileServer {
    pub(crate) async fn start(answer: impl Fn(&[u8], usize) -> Act + Send + Sync + 'static) -> HostileServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let answer = Arc::new(answer);
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let ended = Arc::new(tokio::sync::Notify::new());
        let tasks: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let listening = tokio::spawn({
            let (accepted, ended, tasks) = (Arc::clone(&accepted), Arc::clone(&ended), Arc::clone(&tasks));
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let number = accepted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let (answer, ended) = (Arc::clone(&answer), Arc::clone(&ended));
                    let task = tokio::spawn(async move {
                        let (read, mut write) = stream.into_split();
                        let mut read = BufReader::new(read);
                        loop {
                            let mut line = Vec::new();
                            match read.read_until(b'\n', &mut line).await {
                                Ok(0) | Err(_) => break,
                                Ok(_) => {}
                            }
                            let line = line.strip_suffix(b"\r\n").unwrap_or(&line);
                            let (bytes, close) = match answer(line, number) {
                                Act::Send(bytes) => (bytes, false),
                                Act::SendAndClose(bytes) => (bytes, true),
                            };
                            if write.write_all(&bytes).await.is_err() || close {
                                break;
                            }
                        }
                        ended.notify_one();
                    });
                    tasks.lock().push(task.abort_handle());
                }
            }
        });
        tasks.lock().push(listening.abort_handle());
        HostileServer {
            port,
            accepted,
            ended,
            tasks,
        }
    }

    pub(crate) fn location(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Connections accepted so far.
    pub(crate) fn connections(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Waits until a connection has ended: the client closed it, or the server did.
    pub(crate) async fn a_connection_ended(&self) {
        self.ended.notified().await;
    }
}

/// What a healthy memcached answers: each key of a `get` found, holding the JSON string `"v"`;
/// `1` for `incr`/`decr`; `DELETED` for `delete`.
pub(crate) fn healthy(line: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(line);
    let mut tokens = text.split(' ');
    match tokens.next() {
        Some("get") => {
            let mut reply: String = tokens.map(|key| format!("VALUE {key} 0 3\r\n\"v\"\r\n")).collect();
            reply.push_str("END\r\n");
            reply.into_bytes()
        }
        Some("incr" | "decr") => b"1\r\n".to_vec(),
        Some("delete") => b"DELETED\r\n".to_vec(),
        _ => b"ERROR\r\n".to_vec(),
    }
}
