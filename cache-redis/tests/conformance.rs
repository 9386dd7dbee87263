//! The shared conformance suite (Django's BaseCacheTests catalogue) on Redis: one server, a writer
//! with a replica, and a Redis Cluster of three masters, each started by the testkit fixtures.

mod common;

use cache_core::Location;
use cache_core::testkit::run_all;
use cache_core::testkit::servers::{RedisCluster, RedisServer};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_on_one_server() {
    let server = RedisServer::start().await.expect("redis-server starts");
    let subject = common::subject(Location::One(server.url_with_db(0)), json!({}));
    let report = run_all(&subject).await;
    assert!(report.passed().len() > 60 && report.failed().is_empty(), "{report}");
    server.stop();
}

/// Reads go to the replica, so every read that follows a write must see it: the aliases wait for
/// the replica after each write (`wait_for_replicas`, one `WAIT` in the write's round trip).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_on_a_writer_and_a_replica() {
    let leader = RedisServer::start().await.expect("redis-server starts");
    let replica = RedisServer::start_replica_of(&leader)
        .await
        .expect("the replica links up");
    let location = Location::Many(vec![leader.url(), replica.url()]);
    let subject = common::subject(location, json!({"wait_for_replicas": true}));
    let report = run_all(&subject).await;
    assert!(report.passed().len() > 60 && report.failed().is_empty(), "{report}");
    // Reads went to the replica (MGET is only ever a read; GET and EXISTS also run inside the
    // writer's scripts, which count in its statistics).
    assert_eq!(common::calls(&leader.url(), "MGET").await, 0);
    assert!(common::calls(&replica.url(), "MGET").await > 0);
    replica.stop();
    leader.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_on_a_cluster_of_three_masters() {
    let cluster = RedisCluster::start(3).await.expect("the cluster starts");
    let subject = common::subject(Location::Many(cluster.urls()), json!({"cluster": true}));
    let report = run_all(&subject).await;
    assert!(report.passed().len() > 60 && report.failed().is_empty(), "{report}");
    cluster.stop();
}
