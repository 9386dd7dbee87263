//! A broken or hostile memcached, played by a fake server on a loopback port, against the real
//! backend and façade: a value length past the item size limit (up to `u64::MAX`), a value for a
//! key that wasn't asked for, a reply cut short, numbers out of range, a line with no end. Each is
//! an error naming the server and saying what happened, never an abort, a panic, another key's
//! value or a wait for the timeout; the connection is closed and the next call opens a new one.

mod support;

use std::sync::Arc;
use std::time::Duration;

use cache_core::{Cache, CacheBackend, CacheError, CacheOptions};
use cache_memcached::{MemcachedBackend, MemcachedOptions};
use support::{Act, HostileServer, healthy};

/// A backend with one connection, so a call after a failure shows whether the broken connection
/// was replaced. The timeout is long: a test that waited for it would fail on the message, since
/// none of these replies should be waited out.
fn backend(server: &HostileServer) -> MemcachedBackend {
    MemcachedBackend::builder()
        .server(server.location())
        .pool_size(1)
        .response_timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

fn cache(backend: &MemcachedBackend) -> Cache {
    Cache::new("hostile", Arc::new(backend.clone()), CacheOptions::default())
}

/// The error names the alias and the server and says what happened.
fn assert_explained(error: &CacheError, server: &HostileServer, what: &str) {
    let message = error.to_string();
    assert!(message.contains("cache alias `hostile`"), "{message}");
    assert!(
        message.contains(&format!("memcached server {}", server.location())),
        "{message}"
    );
    assert!(message.contains(what), "{message}");
}

/// Answers every command on the first connection with `hostile`, and healthily afterwards.
async fn hostile_first(hostile: &'static [u8]) -> HostileServer {
    HostileServer::start(move |line, connection| {
        if connection == 0 {
            Act::Send(hostile.to_vec())
        } else {
            Act::Send(healthy(line))
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_value_length_is_an_error_and_the_next_call_works() {
    let limit = MemcachedOptions::default().item_size_max;
    let over_limit: &'static str = format!("VALUE :1:k 0 {}\r\n", limit + 1).leak();
    for (header, length) in [
        ("VALUE :1:k 0 1099511627776\r\n", "1099511627776".to_owned()),
        ("VALUE :1:k 0 18446744073709551615\r\n", u64::MAX.to_string()),
        (over_limit, (limit + 1).to_string()),
    ] {
        // The header only, then silence: the client must not wait for (or make room for) the rest.
        let server = hostile_first(header.as_bytes()).await;
        let backend = backend(&server);
        let cache = cache(&backend);
        let error = cache.get::<String>("k").await.unwrap_err();
        assert_explained(
            &error,
            &server,
            &format!(
                "a value of {length} bytes, over the item size limit of {limit} bytes (the item_size_max \
                 option); the connection was closed"
            ),
        );
        server.a_connection_ended().await;
        assert_eq!(cache.get::<String>("k").await.unwrap().as_deref(), Some("v"));
        assert_eq!(server.connections(), 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_value_length_in_a_multi_get_is_an_error_too() {
    let server = hostile_first(b"VALUE :1:a 0 3\r\n\"a\"\r\nVALUE :1:b 0 18446744073709551615\r\n").await;
    let backend = backend(&server);
    let cache = cache(&backend);
    let error = cache.get_many::<_, String>(&["a", "b"]).await.unwrap_err();
    assert_explained(&error, &server, "a value of 18446744073709551615 bytes");
    let found = cache.get_many::<_, String>(&["a", "b"]).await.unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_for_another_key_is_an_error_not_that_value() {
    let server = HostileServer::start(|line, connection| match connection {
        // `get :1:a` answered with `:1:b`'s value, then a multi-get answered out of order.
        0 => Act::Send(b"VALUE :1:b 0 3\r\n\"b\"\r\nEND\r\n".to_vec()),
        1 => Act::Send(b"VALUE :1:b 0 3\r\n\"b\"\r\nVALUE :1:a 0 3\r\n\"a\"\r\nEND\r\n".to_vec()),
        _ => Act::Send(healthy(line)),
    })
    .await;
    let cache = cache(&backend(&server));

    let error = cache.get::<String>("a").await.unwrap_err();
    assert_explained(
        &error,
        &server,
        "a value for the key `:1:b`, which the get didn't ask for (or not in the order asked); the \
         connection was closed",
    );
    let error = cache.get_many::<_, String>(&["a", "b"]).await.unwrap_err();
    assert_explained(
        &error,
        &server,
        "a value for the key `:1:a`, which the get didn't ask for",
    );
    assert_eq!(cache.get::<String>("a").await.unwrap().as_deref(), Some("v"));
    assert_eq!(server.connections(), 3);

    // The backend itself, without the façade, refuses it the same way.
    let server = hostile_first(b"VALUE :1:b 0 3\r\n\"b\"\r\nEND\r\n").await;
    let error = backend(&server).get(":1:a").await.unwrap_err();
    assert!(error.to_string().contains("didn't ask for"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_cut_short_is_an_error_not_a_wait_for_the_timeout() {
    for truncated in [
        &b"VALUE :1:k 0 10\r\nabc"[..],
        b"VALUE :1:k 0 3\r\n\"v\"\r\n",
        b"VALUE :1:k",
        b"",
    ] {
        let server = HostileServer::start(move |line, connection| {
            if connection == 0 {
                Act::SendAndClose(truncated.to_vec())
            } else {
                Act::Send(healthy(line))
            }
        })
        .await;
        let backend = backend(&server);
        let cache = cache(&backend);
        let error = cache.get::<String>("k").await.unwrap_err();
        assert_explained(&error, &server, "the connection closed before the reply arrived");
        assert!(error.is_retryable(), "{error}");
        assert_eq!(cache.get::<String>("k").await.unwrap().as_deref(), Some("v"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_out_of_range_in_incr_replies_are_errors() {
    for reply in [
        &b"-1\r\n"[..],
        b"18446744073709551616\r\n",
        b"99999999999999999999999\r\n",
        b"1 2\r\n",
        b"0x10\r\n",
    ] {
        let server = hostile_first(reply).await;
        let backend = backend(&server);
        let cache = cache(&backend);
        let error = cache.incr("n", 1).await.unwrap_err();
        assert_explained(&error, &server, "unexpected reply from memcached");
        assert_eq!(cache.incr("n", 1).await.unwrap(), 1);
    }
    // In range but past `i64::MAX`: the backend's overflow check, not a panic.
    let server = hostile_first(b"18446744073709551615\r\n").await;
    let error = cache(&backend(&server)).incr("n", 1).await.unwrap_err();
    assert!(matches!(error, CacheError::Overflow { .. }), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_out_of_range_and_garbage_are_errors() {
    for reply in [
        &b"VALUE :1:k 4294967296 3\r\n\"v\"\r\nEND\r\n"[..],
        b"VALUE :1:k -1 3\r\n\"v\"\r\nEND\r\n",
        b"VALUE :1:k 0 3 -1\r\n\"v\"\r\nEND\r\n",
        b"VALUE :1:k 0 3\r\n\"v\"xxEND\r\n",
        b"HELLO\r\n",
    ] {
        let server = hostile_first(reply).await;
        let backend = backend(&server);
        let cache = cache(&backend);
        let error = cache.get::<String>("k").await.unwrap_err();
        assert_explained(&error, &server, "unexpected reply from memcached");
        assert_explained(&error, &server, "the connection was closed");
        assert_eq!(cache.get::<String>("k").await.unwrap().as_deref(), Some("v"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_with_no_end_is_an_error() {
    // A megabyte with no newline: the reader gives up after one line's worth.
    let endless: &'static [u8] = vec![b'x'; 1 << 20].leak();
    let server = hostile_first(endless).await;
    let backend = backend(&server);
    let cache = cache(&backend);
    let error = cache.get::<String>("k").await.unwrap_err();
    assert_explained(&error, &server, "a line of over 2048 bytes; the connection was closed");
    assert_eq!(cache.get::<String>("k").await.unwrap().as_deref(), Some("v"));
}
