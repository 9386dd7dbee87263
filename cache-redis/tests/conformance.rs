//! The shared conformance suite (Django's `BaseCacheTests`) on Redis: one server, a writer with a
//! replica, and a Redis Cluster of three masters, each started by the testkit fixtures. Each
//! behaviour is a test of its own (`harness = false`: the testkit's `Harness` is `main`), and every
//! server started here is stopped before the binary exits.

mod common;

use std::process::ExitCode;

use cache_core::Location;
use cache_core::testkit::servers::{RedisCluster, RedisServer};
use cache_core::testkit::{Harness, Subject};
use serde_json::json;

/// Reads go to the replica: the only `MGET` that may have reached the writer is the conformance
/// trial's one `get_many_with_remaining`, which asks the writer on purpose (a near tier fills from
/// it; the trial may still be running, or filtered out), and one does reach the replica. (MGET is only ever a read; GET and EXISTS also run inside the
/// writer's scripts, which count in its statistics.) Added after the replica's conformance
/// trials, so the writer's count covers them.
async fn reads_go_to_the_replica(subject: Subject, leader: String, replica: String) {
    let cache = subject.cache();
    cache.set("replica-read", &1).await.unwrap();
    let read = cache.get_many::<_, i64>(&["replica-read"]).await.unwrap();
    assert_eq!(read.get("replica-read"), Some(&1));
    assert!(common::calls(&leader, "MGET").await <= 1);
    assert!(common::calls(&replica, "MGET").await > 0);
}

fn main() -> ExitCode {
    let mut harness = Harness::new();
    let server = harness.block_on(RedisServer::start()).expect("redis-server starts");
    let leader = harness.block_on(RedisServer::start()).expect("redis-server starts");
    let replica = harness
        .block_on(RedisServer::start_replica_of(&leader))
        .expect("the replica links up");
    let cluster = harness.block_on(RedisCluster::start(3)).expect("the cluster starts");

    let one_server = harness.block_on(async { common::subject(Location::One(server.url_with_db(0)), json!({})) });
    // Reads go to the replica, so every read that follows a write must see it: the aliases wait for
    // the replica after each write (`wait_for_replicas`, one `WAIT` in the write's round trip).
    let with_replica = harness.block_on(async {
        common::subject(
            Location::Many(vec![leader.url(), replica.url()]),
            json!({"wait_for_replicas": true}),
        )
    });
    let on_cluster =
        harness.block_on(async { common::subject(Location::Many(cluster.urls()), json!({"cluster": true})) });

    let (leader_url, replica_url) = (leader.url(), replica.url());
    let replica_subject = with_replica.clone();
    harness
        .conformance("redis_one_server", &one_server)
        .conformance("redis_replica", &with_replica)
        .conformance("redis_cluster", &on_cluster)
        .check("redis_replica::reads_go_to_the_replica", move || {
            reads_go_to_the_replica(replica_subject, leader_url, replica_url)
        });
    let conclusion = harness.run();
    cluster.stop();
    replica.stop();
    leader.stop();
    server.stop();
    conclusion.exit_code()
}
