//! Batched reads: concurrent `get`s to one server go out as one `MGET` and each caller gets its own
//! reply; a lone caller sends a plain `GET`; `batch_reads = false` turns batching off.

mod common;

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use cache_core::testkit::servers::RedisServer;
use cache_core::{Cache, Location};
use redis::AsyncCommands;
use serde_json::json;

/// Keys stored with distinct values; `gap:<i>` keys are never stored.
const STORED: usize = 200;
const TASKS: usize = 50;
const GETS_PER_TASK: usize = 100;

/// `STORED` keys `k<i>` holding `i`, and `:1:list`, a Redis list where a cache entry would be.
async fn fill(server: &RedisServer, cache: &Cache) {
    cache.set_many((0..STORED).map(|i| (format!("k{i}"), i))).await.unwrap();
    let _: () = common::raw(&server.url()).await.rpush(":1:list", "x").await.unwrap();
}

/// `TASKS` tasks each reading `GETS_PER_TASK` keys (stored ones, missing ones and the list) at
/// once, every read checked against what its key holds; the number of reads made.
async fn read_concurrently(cache: &Cache) -> u64 {
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let cache = cache.clone();
            tokio::spawn(async move {
                for n in 0..GETS_PER_TASK {
                    let i = (task * 7 + n * 13) % STORED;
                    match n % 10 {
                        0 => assert_eq!(cache.get::<usize>(&format!("gap:{i}")).await.unwrap(), None),
                        1 => assert_eq!(cache.get::<usize>("list").await.unwrap(), None, "a list isn't an entry"),
                        _ => assert_eq!(cache.get::<usize>(&format!("k{i}")).await.unwrap(), Some(i)),
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("every read got its own key's value");
    }
    (TASKS * GETS_PER_TASK) as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_gets_go_out_as_mgets_each_caller_getting_its_own_reply() {
    let server = RedisServer::start().await.unwrap();
    let cache = common::cache("batched", Location::One(server.url()), "", json!({})).unwrap();
    fill(&server, &cache).await;
    common::reset_stats(&server.url()).await;

    let reads = read_concurrently(&cache).await;

    let (gets, mgets) = (
        common::calls(&server.url(), "GET").await,
        common::calls(&server.url(), "MGET").await,
    );
    assert!(mgets > 0, "no read was batched ({gets} GETs)");
    assert!(
        gets + mgets < reads / 2,
        "{reads} reads took {gets} GETs and {mgets} MGETs: batches should hold several keys"
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_caller_sends_plain_gets() {
    let server = RedisServer::start().await.unwrap();
    let cache = common::cache("lone", Location::One(server.url()), "", json!({})).unwrap();
    fill(&server, &cache).await;
    common::reset_stats(&server.url()).await;

    for i in 0..20 {
        assert_eq!(cache.get::<usize>(&format!("k{i}")).await.unwrap(), Some(i));
    }
    assert_eq!(cache.get::<usize>("gap").await.unwrap(), None);
    assert_eq!(
        cache.get::<usize>("list").await.unwrap(),
        None,
        "a key holding a list reads as missing, as in an MGET"
    );

    assert_eq!(common::calls(&server.url(), "GET").await, 22);
    assert_eq!(common::calls(&server.url(), "MGET").await, 0);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_reads_off_sends_every_get_alone() {
    let server = RedisServer::start().await.unwrap();
    let options = json!({"batch_reads": false});
    let cache = common::cache("unbatched", Location::One(server.url()), "", options).unwrap();
    fill(&server, &cache).await;
    common::reset_stats(&server.url()).await;

    let reads = read_concurrently(&cache).await;

    assert_eq!(common::calls(&server.url(), "GET").await, reads);
    assert_eq!(common::calls(&server.url(), "MGET").await, 0);
    server.stop();
}

/// Callers dropped while they wait in a batch (a request handler that was cancelled) leave the
/// batch to the others, who still get their values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_that_give_up_leave_the_batch_to_the_others() {
    const ROUNDS: u64 = 20;
    let server = RedisServer::start().await.unwrap();
    let cache = common::cache("abandoned", Location::One(server.url()), "", json!({})).unwrap();
    fill(&server, &cache).await;
    let keys: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
    common::reset_stats(&server.url()).await;

    for round in 0..ROUNDS {
        // The first read goes out alone and stays in flight while its future is not polled
        // again, so the next reads open a batch and join it.
        let mut kept = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let mut get = cache.get::<usize>(key).into_future();
            match poll_once(&mut get).await {
                // Answered in its first poll: this thread was descheduled long enough for the
                // round trip (a busy two-core machine), nothing to give up on.
                Poll::Ready(value) => assert_eq!(value.unwrap(), Some(i), "round {round}"),
                Poll::Pending if i % 2 == 1 => drop(get), // gives up while waiting
                Poll::Pending => kept.push((i, get)),
            }
        }
        for (i, get) in kept {
            let value = tokio::time::timeout(Duration::from_secs(2), get)
                .await
                .expect("a kept read is answered");
            assert_eq!(value.unwrap(), Some(i), "round {round}");
        }
    }
    assert!(
        common::calls(&server.url(), "MGET").await >= ROUNDS,
        "every round opened a batch"
    );
    server.stop();
}

/// Polls `future` once; whether it is still pending.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|context| Poll::Ready(Pin::new(&mut *future).poll(context))).await
}
