//! Real servers for tests: `redis-server`, `memcached` and PostgreSQL as child processes.
//!
//! Each fixture starts its own server on a free loopback port (picked below the kernel's ephemeral
//! range, so no outgoing connection takes it while the server is stopped for a restart; retried if
//! another process takes it first), with persistence off and a throw-away
//! directory, and waits until the server answers (`PING`, `version`) before returning. The process
//! is killed when the fixture is dropped. [`RedisServer::stop`] and [`RedisServer::restart`] (same
//! port, empty data) inject faults. Tests never depend on a server someone started by hand.
//!
//! A missing binary is a clear error (`redis-server not found on PATH; run scripts/test.sh, which
//! installs it`), so a backend crate's tests fail with instructions rather than hang.
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! use cache_core::testkit::servers::RedisServer;
//!
//! let redis = RedisServer::start().await?;
//! let url = redis.url(); // redis://127.0.0.1:<port>
//! redis.stop(); // connections are now refused
//! redis.restart().await?; // same port, empty
//! # Ok(()) }
//! ```

mod closed_port;
mod cluster;
mod hung;
mod memcached;
mod ports;
mod postgres;
mod probe;
mod process;
mod redis;

pub use closed_port::ClosedPort;
pub use cluster::{ClusterSpec, NodeRole, RedisCluster};
pub use hung::Hung;
pub use memcached::MemcachedServer;
pub use postgres::PostgresServer;
pub use redis::RedisServer;
