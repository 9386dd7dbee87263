//! The server fixtures: they start real servers that answer over a raw socket, stop (connections
//! refused), restart on the same port, and die with the fixture.
#![cfg(feature = "testkit")]

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use cache_core::testkit::servers::{MemcachedServer, RedisServer};

/// Sends `request` over a plain `TcpStream` and returns the first reply line(s) read.
fn exchange(address: SocketAddr, request: &[u8]) -> std::io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(request)?;
    let mut reply = Vec::new();
    let mut buffer = [0u8; 1024];
    while !reply.ends_with(b"\r\n") {
        let read = stream.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        reply.extend_from_slice(&buffer[..read]);
    }
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

fn assert_refused(address: SocketAddr) {
    let error = TcpStream::connect_timeout(&address, Duration::from_secs(2)).expect_err("the server is stopped");
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
}

fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[tokio::test]
async fn redis_server_starts_stops_restarts_and_dies_with_the_fixture() {
    let redis = RedisServer::start().await.unwrap();
    let address = redis.address();
    assert!(address.ip().is_loopback());
    assert_eq!(redis.url(), format!("redis://127.0.0.1:{}", redis.port()));
    assert_eq!(exchange(address, b"PING\r\n").unwrap(), "+PONG\r\n");
    assert_eq!(exchange(address, b"SET k v\r\n").unwrap(), "+OK\r\n");
    // Persistence is off.
    let save = exchange(address, b"CONFIG GET save\r\n").unwrap();
    assert!(save.ends_with("$0\r\n\r\n"), "snapshots must be off: {save:?}");

    redis.stop();
    assert_eq!(redis.pid(), None);
    assert_refused(address);

    redis.restart().await.unwrap();
    assert_eq!(redis.address(), address, "restart keeps the port");
    assert_eq!(exchange(address, b"PING\r\n").unwrap(), "+PONG\r\n");
    assert_eq!(
        exchange(address, b"EXISTS k\r\n").unwrap(),
        ":0\r\n",
        "a restart starts empty"
    );

    let pid = redis.pid().unwrap();
    assert!(process_exists(pid));
    drop(redis);
    assert!(!process_exists(pid), "dropping the fixture kills and reaps the server");
    assert_refused(address);
}

#[tokio::test]
async fn redis_replica_serves_the_leaders_writes() {
    let leader = RedisServer::start().await.unwrap();
    let replica = RedisServer::start_replica_of(&leader).await.unwrap();
    assert_ne!(leader.port(), replica.port());
    assert_eq!(exchange(leader.address(), b"SET shared 1\r\n").unwrap(), "+OK\r\n");
    // Replication is asynchronous: give it a moment.
    let mut seen = String::new();
    for _ in 0..100 {
        seen = exchange(replica.address(), b"GET shared\r\n").unwrap();
        if seen.starts_with("$1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen.starts_with("$1"), "the replica never saw the write: {seen:?}");
    let refused = exchange(replica.address(), b"SET mine 1\r\n").unwrap();
    assert!(refused.starts_with("-READONLY"), "{refused}");
}

#[tokio::test]
async fn memcached_starts_stops_restarts_and_dies_with_the_fixture() {
    let memcached = MemcachedServer::start().await.unwrap();
    let address = memcached.address();
    assert_eq!(memcached.location(), format!("127.0.0.1:{}", memcached.port()));
    assert!(exchange(address, b"version\r\n").unwrap().starts_with("VERSION "));
    assert_eq!(exchange(address, b"set k 0 0 1\r\nv\r\n").unwrap(), "STORED\r\n");

    memcached.stop();
    assert_refused(address);

    memcached.restart().await.unwrap();
    assert!(exchange(address, b"version\r\n").unwrap().starts_with("VERSION "));
    assert_eq!(
        exchange(address, b"get k\r\n").unwrap(),
        "END\r\n",
        "a restart starts empty"
    );

    let pid = memcached.pid().unwrap();
    drop(memcached);
    assert!(!process_exists(pid));
    assert_refused(address);
}

#[tokio::test]
async fn extra_arguments_reach_the_server() {
    let memcached = MemcachedServer::start_with(&["-I", "2m"]).await.unwrap();
    let settings = {
        let mut stream = TcpStream::connect(memcached.address()).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        stream.write_all(b"stats settings\r\n").unwrap();
        let mut reply = Vec::new();
        let mut buffer = [0u8; 4096];
        while !reply.ends_with(b"END\r\n") {
            let read = stream.read(&mut buffer).unwrap();
            assert!(read > 0);
            reply.extend_from_slice(&buffer[..read]);
        }
        String::from_utf8(reply).unwrap()
    };
    assert!(settings.contains("STAT item_size_max 2097152"), "{settings}");

    let redis = RedisServer::start_with(&["--maxmemory", "10mb"]).await.unwrap();
    let maxmemory = exchange(redis.address(), b"CONFIG GET maxmemory\r\n").unwrap();
    assert!(maxmemory.contains("10485760"), "{maxmemory:?}");
}

#[tokio::test]
async fn many_servers_start_at_once_on_distinct_ports() {
    let servers = futures::future::join_all((0..6).map(|_| RedisServer::start())).await;
    let mut ports: Vec<u16> = servers.iter().map(|server| server.as_ref().unwrap().port()).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 6);
}
