//! A writer and a replica under load, the replica killed and restarted: reads (which go to the
//! replica) fail fast with an error naming the replica, writes to the writer never fail, and
//! once the replica is back (it resyncs from the writer) reads answer again with the same `Cache`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cache_core::Location;
use cache_core::testkit::servers::RedisServer;
use parking_lot::Mutex;
use serde_json::json;

const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);
/// Slack on top of the configured timeouts for a loaded two-core machine.
const SLACK: Duration = Duration::from_millis(700);
const TASKS: u64 = 20;

#[derive(Default)]
struct Tally {
    reads: AtomicU64,
    read_errors: AtomicU64,
    writes: AtomicU64,
    slowest_read: Mutex<Duration>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_replica_fails_reads_fast_and_writes_go_on() {
    let writer = RedisServer::start().await.unwrap();
    let replica = RedisServer::start_replica_of(&writer).await.unwrap();
    let options = json!({"response_timeout": RESPONSE_TIMEOUT.as_secs_f64(), "connect_timeout": 0.5});
    let location = Location::Many(vec![writer.url(), replica.url()]);
    let cache = common::cache("replicated", location, "", options).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let replica_down = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let replica_url = replica.url();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let (cache, stop, replica_down, tally) = (cache.clone(), stop.clone(), replica_down.clone(), tally.clone());
            let replica_url = replica_url.clone();
            tokio::spawn(async move {
                let key = format!("task:{task}");
                while !stop.load(Ordering::Relaxed) {
                    cache
                        .set(&key, task)
                        .await
                        .expect("writes go to the writer, which is up");
                    tally.writes.fetch_add(1, Ordering::Relaxed);
                    let started = Instant::now();
                    let read = cache.get::<u64>(&key).await;
                    let took = started.elapsed();
                    assert!(took <= RESPONSE_TIMEOUT + SLACK, "a read took {took:?}");
                    let mut slowest = tally.slowest_read.lock();
                    *slowest = (*slowest).max(took);
                    drop(slowest);
                    tally.reads.fetch_add(1, Ordering::Relaxed);
                    match read {
                        // Replication is asynchronous: a read may come before the write reaches it.
                        Ok(value) => assert!(value.is_none_or(|value| value == task), "{value:?}"),
                        Err(error) => {
                            assert!(
                                replica_down.load(Ordering::Relaxed),
                                "a read failed while the replica was up: {error}"
                            );
                            assert!(error.is_unavailable() || error.is_timeout(), "{error}");
                            assert!(error.to_string().contains(&replica_url), "names the replica: {error}");
                            tally.read_errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(300)).await;
    replica_down.store(true, Ordering::Relaxed);
    replica.stop();
    let writes_before = tally.writes.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let writes_while_down = tally.writes.load(Ordering::Relaxed) - writes_before;
    let errors_while_down = tally.read_errors.load(Ordering::Relaxed);
    assert!(errors_while_down > 0, "reads from the dead replica fail");
    assert!(writes_while_down > 0, "writes go on while the replica is down");

    replica.restart().await.unwrap();
    let restarted = Instant::now();
    // The restarted replica resyncs from the writer; reads answer again with the same `Cache`.
    let recovered = loop {
        if cache.get::<u64>("task:0").await.is_ok_and(|value| value == Some(0)) {
            break restarted.elapsed();
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(5),
            "reads didn't recover within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // Reads already in flight at the restart may still fail; after a grace period none may.
    tokio::time::sleep(Duration::from_millis(300)).await;
    replica_down.store(false, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    println!(
        "replica killed under {TASKS}-task load: {} reads, {} read errors (all while it was down), {} writes \
         ({writes_while_down} while it was down, none failed), slowest read {:?}, reads recovered {recovered:?} \
         after the restart",
        tally.reads.load(Ordering::Relaxed),
        tally.read_errors.load(Ordering::Relaxed),
        tally.writes.load(Ordering::Relaxed),
        *tally.slowest_read.lock(),
    );
    replica.stop();
    writer.stop();
}
