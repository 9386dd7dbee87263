//! `Caches::check` against real Redis servers: the writer and each replica probed, a Redis
//! Cluster's every node reported as the cluster sees it.

mod common;

use std::time::{Duration, Instant};

use cache_core::testkit::servers::{ClusterSpec, RedisCluster, RedisServer};
use cache_core::{Caches, CachesConfig, ConfigFormat, HealthStatus, ServerRole};
use serde_json::json;

fn caches(toml: &str) -> Caches {
    let config = CachesConfig::from_str_with_env(toml, ConfigFormat::Toml, [] as [(&str, &str); 0]).unwrap();
    Caches::build(&config, &common::backends()).unwrap()
}

/// With the writer gone, reads still reach the replica: the alias is degraded (writes fail), and
/// the writer is the server named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_writer_with_a_live_replica_is_degraded_and_named() {
    let writer = RedisServer::start().await.unwrap();
    let replica = RedisServer::start_replica_of(&writer).await.unwrap();
    let caches = caches(&format!(
        "[caches.default]\nbackend = \"redis\"\nlocation = [\"{}\", \"{}\"]\n\
         options = {{ response_timeout = 0.5, connect_timeout = 0.5 }}",
        writer.url(),
        replica.url()
    ));
    let report = caches.check().await;
    assert_eq!(report[0].status, HealthStatus::Healthy);
    let roles: Vec<_> = report[0].servers.iter().map(|server| server.role).collect();
    assert_eq!(roles, [ServerRole::Writer, ServerRole::Replica]);

    writer.stop();
    let report = caches.check().await;
    let alias = &report[0];
    assert_eq!((alias.backend, alias.status), ("redis", HealthStatus::Degraded));
    let failing: Vec<_> = alias.failing().collect();
    assert_eq!(failing.len(), 1);
    assert_eq!(failing[0].role, ServerRole::Writer);
    assert!(
        failing[0].server.contains(&writer.port().to_string()),
        "{}",
        failing[0].server
    );
    let error = failing[0].status.as_ref().unwrap_err();
    assert!(error.is_unavailable() || error.is_timeout(), "{error}");
    // The replica still serves reads.
    assert!(caches.default_cache().get::<i64>("k").await.is_ok());

    replica.stop();
    assert_eq!(caches.check().await[0].status, HealthStatus::Down);
}

/// Every node of a cluster is listed; a stopped master, once the cluster flags it, is the one
/// failing node and the alias is degraded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cluster_node_is_reported_and_a_failed_master_is_named() {
    let cluster = RedisCluster::start_with(
        ClusterSpec::masters(3)
            .require_full_coverage(false)
            .node_timeout(Duration::from_millis(500)),
    )
    .await
    .expect("the cluster starts");
    let options = json!({"cluster": true, "response_timeout": 1.0, "connect_timeout": 0.5});
    let cache = common::cache("default", cache_core::Location::Many(cluster.urls()), "", options).unwrap();
    let caches = Caches::builder().cache(cache).build().unwrap();

    let report = caches.check().await;
    let alias = &report[0];
    assert_eq!(alias.status, HealthStatus::Healthy, "{alias:?}");
    let mut listed: Vec<String> = alias.servers.iter().map(|server| server.server.clone()).collect();
    listed.sort();
    let mut masters: Vec<String> = cluster.addresses().iter().map(ToString::to_string).collect();
    masters.sort();
    assert_eq!(listed, masters);
    assert!(
        alias
            .servers
            .iter()
            .all(|server| server.role == ServerRole::ClusterNode)
    );

    cluster.stop_node(1);
    let victim = cluster.addresses()[1].to_string();
    // The cluster flags a node `fail` once its peers agree, a few node timeouts after it stops.
    let deadline = Instant::now() + Duration::from_secs(20);
    let report = loop {
        let report = caches.check().await;
        if report[0].failing().any(|server| server.server == victim) || Instant::now() > deadline {
            break report;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let alias = &report[0];
    let failing: Vec<_> = alias.failing().map(|server| server.server.as_str()).collect();
    assert_eq!(failing, [victim.as_str()], "{alias:?}");
    assert_eq!(alias.status, HealthStatus::Degraded);
    let error = alias.failing().next().unwrap().status.as_ref().unwrap_err().to_string();
    assert!(error.contains("the cluster flags this master"), "{error}");
    cluster.stop();
}
