//! A broken or hostile Redis, played by a fake server on a loopback port: commands on its first
//! connection get a reply whose header claims a huge length (`$1099511627776`, `*4294967295`, past
//! `i64::MAX`, …) and nothing more — the data commands only, or the connection set-up's too.
//!
//! redis-rs doesn't size anything from such a header: a bulk string is taken once that many bytes
//! have arrived (its read buffer grows with what the socket delivers), and an array's vector is
//! pre-sized to at most 4096 elements whatever the header says (combine's `count_min_max` caps the
//! hint). So the call neither aborts nor panics: it fails with an error naming the server — a parse
//! error, or no answer within `response_timeout` — the connection is dropped, and the next call
//! opens a new one.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_core::{Cache, Location};
use parking_lot::Mutex;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::net::tcp::OwnedReadHalf;
use tokio::task::AbortHandle;

/// A RESP server on a loopback port. Connection-setup commands (`CLIENT`, `HELLO`, `SELECT`,
/// `PING`, `AUTH`) get `+OK` unless `setup_too`; any other command gets `hostile` on the first
/// connection, and a miss on later ones. Every task it starts is stopped when it is dropped.
struct HostileRedis {
    port: u16,
    accepted: Arc<AtomicUsize>,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Drop for HostileRedis {
    fn drop(&mut self) {
        for task in self.tasks.lock().drain(..) {
            task.abort();
        }
    }
}

impl HostileRedis {
    async fn start(hostile: &'static [u8], setup_too: bool) -> HostileRedis {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let tasks: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let listening = tokio::spawn({
            let (accepted, tasks) = (Arc::clone(&accepted), Arc::clone(&tasks));
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let first = accepted.fetch_add(1, Ordering::SeqCst) == 0;
                    let task = tokio::spawn(async move {
                        let (read, mut write) = stream.into_split();
                        let mut read = BufReader::new(read);
                        while let Some(command) = read_command(&mut read).await {
                            let name = String::from_utf8_lossy(&command[0]).to_ascii_uppercase();
                            let reply: Vec<u8> = match name.as_str() {
                                "CLIENT" | "HELLO" | "SELECT" | "PING" | "AUTH" if !(setup_too && first) => {
                                    b"+OK\r\n".to_vec()
                                }
                                _ if first => hostile.to_vec(),
                                "MGET" => {
                                    let misses = "$-1\r\n".repeat(command.len() - 1);
                                    format!("*{}\r\n{misses}", command.len() - 1).into_bytes()
                                }
                                _ => b"$-1\r\n".to_vec(),
                            };
                            if write.write_all(&reply).await.is_err() {
                                break;
                            }
                        }
                    });
                    tasks.lock().push(task.abort_handle());
                }
            }
        });
        tasks.lock().push(listening.abort_handle());
        HostileRedis { port, accepted, tasks }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

/// One command as redis-rs sends it: an array of bulk strings. `None` at the end of the stream or
/// on anything else.
async fn read_command(read: &mut BufReader<OwnedReadHalf>) -> Option<Vec<Vec<u8>>> {
    let mut line = String::new();
    if read.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let count: usize = line.trim_end().strip_prefix('*')?.parse().ok()?;
    let mut arguments = Vec::with_capacity(count);
    for _ in 0..count {
        line.clear();
        read.read_line(&mut line).await.ok()?;
        let length: usize = line.trim_end().strip_prefix('$')?.parse().ok()?;
        let mut argument = vec![0; length + 2];
        read.read_exact(&mut argument).await.ok()?;
        argument.truncate(length);
        arguments.push(argument);
    }
    Some(arguments)
}

fn cache(server: &HostileRedis) -> Cache {
    let options = json!({"response_timeout": 0.5, "connect_timeout": 1});
    common::cache("hostile", Location::One(server.url()), "", options).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_length_in_a_reply_is_an_error_naming_the_server() {
    for hostile in [
        &b"$1099511627776\r\n"[..],
        b"*4294967295\r\n",
        b"$9223372036854775807\r\n",
        b"*9223372036854775807\r\n",
        b"%4611686018427387904\r\n",
        b"~4294967295\r\n",
        b">4294967295\r\n",
        b"$18446744073709551615\r\n",
        b"*-9223372036854775809\r\n",
        b"$1099511627776\r\nabc",
    ] {
        let server = HostileRedis::start(hostile, false).await;
        let cache = cache(&server);
        let error = cache
            .get::<String>("k")
            .await
            .expect_err(&String::from_utf8_lossy(hostile));
        let message = error.to_string();
        assert!(
            message.contains(&format!("cache alias `hostile`, key 'k': redis {}: GET ", server.url())),
            "{message}"
        );
        // A length redis-rs can read waits for data that never comes; one it can't (past
        // `i64`) is a parse error at once.
        assert!(
            message.contains("GET got no answer within 500ms (options.response_timeout)")
                || message.contains("GET failed: Incompatible type - Parse error"),
            "{message}"
        );
        // The connection that carried it is gone: the next call opens another and works.
        assert_eq!(cache.get::<String>("k").await.unwrap(), None, "{message}");
        assert_eq!(server.accepted.load(Ordering::SeqCst), 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_length_in_the_connection_setup_is_an_error_naming_the_server() {
    // Every command gets it, `CLIENT SETINFO` at connection set-up included.
    for hostile in [&b"$1099511627776\r\n"[..], b"*4294967295\r\n"] {
        let server = HostileRedis::start(hostile, true).await;
        let cache = cache(&server);
        let message = cache.get::<String>("k").await.unwrap_err().to_string();
        assert!(
            message.contains(&format!("cache alias `hostile`, key 'k': redis {}: GET ", server.url())),
            "{message}"
        );
        // The attempt to connect outlives the call that started it (later calls share it) and
        // fails in its own time; after that a new connection is opened and works.
        let mut calls = 0;
        while let Err(error) = cache.get::<String>("k").await {
            let message = error.to_string();
            assert!(message.contains(&format!("redis {}: GET ", server.url())), "{message}");
            calls += 1;
            assert!(calls < 20, "still failing: {message}");
        }
    }
}

/// The reads a near tier fills from (`GET` + `PTTL`, `MGET` + a `PTTL` per key, pipelined) given
/// well-formed replies of the wrong shape: an error naming the server and the pipeline, never a
/// value made up from them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_shaped_replies_to_the_lifetime_reads_are_errors_naming_the_server() {
    for hostile in [
        &b"+OK\r\n"[..],
        b":5\r\n",
        b"*1\r\n$1\r\nx\r\n",
        b"*3\r\n$1\r\nx\r\n$-1\r\n$1\r\ny\r\n",
        b"-ERR no\r\n",
    ] {
        let shown = String::from_utf8_lossy(hostile);
        let server = HostileRedis::start(hostile, false).await;
        let cache = cache(&server);
        let backend = cache.backend();
        let error = backend.get_many_with_remaining(&["a", "b"]).await.expect_err(&shown);
        let message = error.to_string();
        assert!(
            message.contains(&format!("redis {}", server.url())) && message.contains("MGET + PTTL"),
            "{shown}: {message}"
        );
    }
    for hostile in [&b"+OK\r\n"[..], b":5\r\n", b"*1\r\n$1\r\nx\r\n"] {
        let shown = String::from_utf8_lossy(hostile);
        let server = HostileRedis::start(hostile, false).await;
        let cache = cache(&server);
        let message = cache
            .backend()
            .get_with_remaining("a")
            .await
            .expect_err(&shown)
            .to_string();
        assert!(
            message.contains(&format!("redis {}", server.url())) && message.contains("GET + PTTL"),
            "{shown}: {message}"
        );
    }
}
