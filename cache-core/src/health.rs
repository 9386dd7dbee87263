//! What `Caches::check` reports: each server of each alias probed, and the alias' status.

use std::fmt;
use std::time::{Duration, Instant};

use crate::backend::CacheBackend;
use crate::backend_error::BackendError;

/// The part a probed server plays for its alias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerRole {
    /// One of the alias' servers, each holding its share of the keys (memcached), or its only one.
    Server,
    /// The server every write goes to (Redis' first location).
    Writer,
    /// A server reads go to (Redis' later locations).
    Replica,
    /// A node of a Redis Cluster, as the cluster sees it.
    ClusterNode,
    /// Storage in this process or on this host (locmem, a directory, an embedded database).
    Local,
}

impl ServerRole {
    /// The role in words: `server`, `writer`, `replica`, `cluster node`, `local`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ServerRole::Server => "server",
            ServerRole::Writer => "writer",
            ServerRole::Replica => "replica",
            ServerRole::ClusterNode => "cluster node",
            ServerRole::Local => "local",
        }
    }
}

/// One probed server: who it is and how the probe went.
#[derive(Debug)]
#[non_exhaustive]
pub struct ServerHealth {
    /// The server as shown in messages (passwords hidden), or what the local store is.
    pub server: String,
    /// Its part in the alias.
    pub role: ServerRole,
    /// How long the probe's round trip took, or why it failed (each probe is bounded by the
    /// backend's own timeout).
    pub status: Result<Duration, BackendError>,
}

impl ServerHealth {
    /// A probe result.
    pub fn new(server: impl Into<String>, role: ServerRole, status: Result<Duration, BackendError>) -> Self {
        ServerHealth {
            server: server.into(),
            role,
            status,
        }
    }

    /// Times `probe` and reports it as the health of `server`.
    pub async fn measure<T>(
        server: impl Into<String>,
        role: ServerRole,
        probe: impl Future<Output = Result<T, BackendError>>,
    ) -> Self {
        let started = Instant::now();
        let status = probe.await.map(|_| started.elapsed());
        ServerHealth::new(server, role, status)
    }

    /// Whether the probe succeeded.
    pub fn is_up(&self) -> bool {
        self.status.is_ok()
    }
}

/// An alias' status, from its servers' probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HealthStatus {
    /// Every server answered.
    Healthy,
    /// Some servers answered and some didn't: part of the keys (memcached), or writes or reads
    /// (Redis with replicas), fail.
    Degraded,
    /// No server answered: every call fails (or, with `ignore_exceptions`, misses).
    Down,
}

impl HealthStatus {
    /// The status of an alias whose servers probed as `servers`: healthy when all are up, down
    /// when none is (or there are none), degraded in between.
    pub fn of(servers: &[ServerHealth]) -> HealthStatus {
        let up = servers.iter().filter(|server| server.is_up()).count();
        match up {
            0 => HealthStatus::Down,
            n if n == servers.len() => HealthStatus::Healthy,
            _ => HealthStatus::Degraded,
        }
    }

    /// `healthy`, `degraded` or `down`.
    pub const fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "healthy",
            HealthStatus::Degraded => "degraded",
            HealthStatus::Down => "down",
        }
    }
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The health of one alias, from [`Caches::check`](crate::Caches::check).
#[derive(Debug)]
#[non_exhaustive]
pub struct AliasHealth {
    /// The alias.
    pub alias: String,
    /// Its backend's short name.
    pub backend: &'static str,
    /// Healthy, degraded or down, from `servers`.
    pub status: HealthStatus,
    /// Every server probed, in the backend's order.
    pub servers: Vec<ServerHealth>,
}

impl AliasHealth {
    /// Probes every server of `backend` (concurrently, as the backend does it).
    pub(crate) async fn probe(alias: &str, backend: &dyn CacheBackend) -> AliasHealth {
        let servers = backend.probe().await;
        AliasHealth {
            alias: alias.to_owned(),
            backend: backend.name(),
            status: HealthStatus::of(&servers),
            servers,
        }
    }

    /// Whether every server answered.
    pub fn is_healthy(&self) -> bool {
        self.status == HealthStatus::Healthy
    }

    /// The servers that didn't answer.
    pub fn failing(&self) -> impl Iterator<Item = &ServerHealth> {
        self.servers.iter().filter(|server| !server.is_up())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend_error::Unavailability;

    fn server(up: bool) -> ServerHealth {
        let status = match up {
            true => Ok(Duration::from_millis(1)),
            false => Err(BackendError::unavailable(Unavailability::Refused, "refused")),
        };
        ServerHealth::new("s", ServerRole::Server, status)
    }

    #[test]
    fn all_up_is_healthy_some_is_degraded_none_is_down() {
        assert_eq!(HealthStatus::of(&[server(true), server(true)]), HealthStatus::Healthy);
        assert_eq!(HealthStatus::of(&[server(true), server(false)]), HealthStatus::Degraded);
        assert_eq!(HealthStatus::of(&[server(false), server(false)]), HealthStatus::Down);
        assert_eq!(HealthStatus::of(&[]), HealthStatus::Down);
    }
}
