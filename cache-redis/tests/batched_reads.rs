//! Batched reads: concurrent `get`s to one server go out as one `MGET` and each caller gets its own
//! reply; a lone caller sends a plain `GET`; `batch_reads = false` turns batching off.

mod common;

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

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
    // `has_key` is Django's `EXISTS`, whatever the key holds.
    assert!(cache.has_key("list").await.unwrap());

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

/// Callers dropped while they wait in a batch (request handlers that were cancelled) leave the
/// batch to the others, who still get their values; a batch whose callers all gave up is still
/// sent and closed, so later reads don't wait on it.
///
/// On a current-thread runtime nothing runs between this test's polls, so which read goes alone
/// and which join a batch is exact.
#[tokio::test]
async fn callers_that_give_up_leave_the_batch_to_the_others() {
    const ROUNDS: u64 = 10;
    let server = RedisServer::start().await.unwrap();
    let cache = common::cache("abandoned", Location::One(server.url()), "", json!({})).unwrap();
    fill(&server, &cache).await;
    let keys: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
    common::reset_stats(&server.url()).await;

    for round in 0..ROUNDS {
        // Every other round, every batched caller gives up.
        let everyone_gives_up = round % 2 == 1;
        // The first read goes out alone (or opens a batch, if the last round's is still in flight)
        // and stays in flight while its future is not polled again, so the next 39 join one batch.
        let mut kept = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let mut get = cache.get::<usize>(key).into_future();
            assert!(
                poll_once(&mut get).await.is_pending(),
                "round {round}: read {i} answered at once"
            );
            if i == 0 || (i % 2 == 0 && !everyone_gives_up) {
                kept.push((i, get));
            }
        }
        for (i, get) in kept {
            let value = tokio::time::timeout(Duration::from_secs(2), get)
                .await
                .expect("a kept read is answered");
            assert_eq!(value.unwrap(), Some(i), "round {round}");
        }
    }
    // A round starts with a plain GET unless the previous round's batch is still in flight.
    assert!(common::calls(&server.url(), "GET").await <= ROUNDS);
    assert_eq!(
        common::calls(&server.url(), "MGET").await,
        ROUNDS,
        "one batch per round, sent even when all its callers gave up"
    );
    server.stop();
}

/// A `Cache` that outlives the runtime it was used on (one per `#[tokio::test]`, or one per
/// thread): a batch whose sender never ran, a connection that died with the runtime and a
/// connection attempt that never ran leave nothing behind that fails the next runtime's reads.
#[test]
fn a_runtime_shut_down_mid_read_leaves_nothing_behind() {
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    let first = runtime();
    let server = first.block_on(RedisServer::start()).unwrap();
    let cache = common::cache("runtimes", Location::One(server.url()), "", json!({})).unwrap();
    let connecting = common::cache("connecting", Location::One(server.url()), "", json!({})).unwrap();
    first.block_on(async {
        fill(&server, &cache).await;
        // One read in flight, a second opening a batch whose sender task hasn't run yet.
        let mut alone = cache.get::<usize>("k1").into_future();
        let mut batched = cache.get::<usize>("k2").into_future();
        assert!(poll_once(&mut alone).await.is_pending());
        assert!(poll_once(&mut batched).await.is_pending());
        // And an alias whose first connection is being opened by a task that hasn't run yet.
        let mut first_read = connecting.get::<usize>("k1").into_future();
        assert!(poll_once(&mut first_read).await.is_pending());
    });
    drop(first); // drops the batch's sender and the connections' tasks, unfinished

    runtime().block_on(async {
        // The connections died with the first runtime: a read may fail once, retryably, while a
        // new one is opened; after that reads (and batches) work.
        assert_eq!(read_in_a_new_runtime(&cache, "k3").await, Some(3));
        assert_eq!(read_in_a_new_runtime(&connecting, "k4").await, Some(4));
        let keys: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
        let reads: Vec<_> = keys.iter().map(|key| cache.get::<usize>(key).into_future()).collect();
        let values = futures::future::join_all(reads).await;
        for (i, value) in values.into_iter().enumerate() {
            assert_eq!(value.unwrap(), Some(i));
        }
    });
    server.stop();
}

/// `key`, read with at most two retryable failures first.
async fn read_in_a_new_runtime(cache: &Cache, key: &str) -> Option<usize> {
    let mut failures = 0;
    loop {
        match cache.get::<usize>(key).await {
            Ok(value) => return value,
            Err(error) if error.is_retryable() && failures < 2 => failures += 1,
            Err(error) => panic!("after {failures} failures: {error}"),
        }
    }
}

/// A hung server: every read of a batch ends within the response timeout with a retryable error
/// saying it was batched, and the batch is gone once the server answers again.
#[tokio::test]
async fn a_batch_to_a_hung_server_times_out() {
    const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);
    const SLACK: Duration = Duration::from_millis(250);
    let server = RedisServer::start().await.unwrap();
    let options = json!({"response_timeout": RESPONSE_TIMEOUT.as_secs_f64()});
    let cache = common::cache("hung", Location::One(server.url()), "", options).unwrap();
    fill(&server, &cache).await;

    let hung = server.hang();
    let started = Instant::now();
    let reads: Vec<_> = (0..20)
        .map(|i| {
            let cache = &cache;
            async move {
                let result = cache.get::<usize>(&format!("k{i}")).await;
                (result, started.elapsed())
            }
        })
        .collect();
    let results = futures::future::join_all(reads).await;
    hung.resume();

    for (result, took) in &results {
        let error = result.as_ref().expect_err("a hung server answers nothing");
        assert!(error.is_retryable(), "{error}");
        assert!(took <= &(RESPONSE_TIMEOUT + SLACK), "a read took {took:?}");
        assert!(error.to_string().contains("no answer within 500ms"), "{error}");
    }
    let batched = results
        .iter()
        .filter(|(result, _)| {
            result
                .as_ref()
                .is_err_and(|error| error.to_string().contains("GET (batched in an MGET) got no answer"))
        })
        .count();
    assert_eq!(batched, 19, "the first read went alone, the others joined one batch");
    assert_eq!(cache.get::<usize>("k1").await.unwrap(), Some(1));
    server.stop();
}

/// Polls `future` once.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|context| Poll::Ready(Pin::new(&mut *future).poll(context))).await
}
