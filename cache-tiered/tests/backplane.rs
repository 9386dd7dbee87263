//! The backplane within one process: what it does with a message it can't read, how `close()`
//! stops it and the next call resumes it, and how a health check reports it.

use std::time::{Duration, Instant};

use cache_core::testkit::servers::RedisServer;
use cache_core::{Backends, Caches, CachesConfig, ConfigFormat, HealthStatus};
use cache_tiered::TieredCache;

/// A tiered `default` alias over locmem at `location`, on a channel of the same name (tests in one
/// binary naming one channel would evict each other's near copies).
fn caches(backplane: &RedisServer, location: &str) -> Caches {
    let mut backends = Backends::new();
    backends.register(cache_locmem::registration());
    backends.register(cache_tiered::registration());
    let toml = format!(
        "[caches.default]\nbackend = \"tiered\"\n\
         options = {{ far = \"shared\", backplane = \"{}\", backplane_channel = \"{location}\", backplane_heartbeat = 0.1, backplane_max_staleness = 0.5 }}\n\
         [caches.shared]\nbackend = \"locmem\"\nlocation = \"{location}\"\n",
        backplane.url()
    );
    Caches::build(&CachesConfig::from_str(&toml, ConfigFormat::Toml).unwrap(), &backends).unwrap()
}

async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < Duration::from_secs(20), "never: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_it_cannot_read_clears_the_near_tier() {
    let server = RedisServer::start().await.unwrap();
    let tiered = TieredCache::new(caches(&server, "backplane-garbage").default_cache()).unwrap();
    let cache = tiered.cache();
    cache.set("k", 1).await.unwrap();
    until("vouched", || tiered.backend().is_vouched()).await;
    assert_eq!(cache.get::<i64>("k").await.unwrap(), Some(1));
    assert!(tiered.backend().near_len() > 0);
    let client = redis::Client::open(server.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let _: i64 = redis::cmd("PUBLISH")
        .arg("backplane-garbage")
        .arg("not a cache-tiered message")
        .query_async(&mut connection)
        .await
        .unwrap();
    until("the near tier is cleared", || tiered.backend().near_len() == 0).await;
    // Still correct: the next read goes to the far tier.
    assert_eq!(cache.get::<i64>("k").await.unwrap(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_stops_vouching_and_the_next_call_resumes() {
    let server = RedisServer::start().await.unwrap();
    let tiered = TieredCache::new(caches(&server, "backplane-close").default_cache()).unwrap();
    let cache = tiered.cache();
    cache.set("k", 1).await.unwrap();
    until("vouched", || tiered.backend().is_vouched()).await;
    cache.close().await.unwrap();
    assert!(!tiered.backend().is_vouched());
    let far_reads = tiered.backend().stats().far_reads;
    assert_eq!(cache.get::<i64>("k").await.unwrap(), Some(1));
    assert_eq!(
        tiered.backend().stats().far_reads,
        far_reads + 1,
        "unvouched: read from the far tier"
    );
    until("vouched again", || tiered.backend().is_vouched()).await;
    assert_eq!(tiered.backend().stats().backplane_connects, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_health_check_probes_the_far_alias_and_the_backplane() {
    let server = RedisServer::start().await.unwrap();
    let caches = caches(&server, "backplane-health");
    let report = caches.check().await;
    let tiered = report.iter().find(|alias| alias.alias == "default").unwrap();
    assert_eq!((tiered.backend, tiered.status), ("tiered", HealthStatus::Healthy));
    assert_eq!(tiered.servers.len(), 2, "{tiered:?}");
    assert!(tiered.servers[1].server.ends_with("(backplane)"), "{tiered:?}");
    server.stop();
    let report = caches.check().await;
    let tiered = report.iter().find(|alias| alias.alias == "default").unwrap();
    assert_eq!(tiered.status, HealthStatus::Degraded, "{tiered:?}");
    assert!(!tiered.servers[1].is_up());
}

/// A writer and a reader in one process that don't share an instance (as two processes): the
/// writer names the channel the reader's alias uses by default, and its publisher's cool-down is
/// ten seconds, so the test can act while the circuit is open.
fn writer_and_reader(backplane: &RedisServer, far: &str) -> (Caches, Caches) {
    let mut backends = Backends::new();
    backends.register(cache_locmem::registration());
    backends.register(cache_tiered::registration());
    let url = backplane.url();
    let shared = format!("[caches.shared]\nbackend = \"locmem\"\nlocation = \"{far}\"\n");
    let writer = format!(
        "[caches.default]\nbackend = \"tiered\"\n\
         options = {{ far = \"shared\", backplane = \"{url}\", backplane_channel = \"cache-tiered:reader\", backplane_heartbeat = 0.1, backplane_max_staleness = 0.5, backplane_circuit_cooldown = 10 }}\n{shared}"
    );
    let reader = format!(
        "[caches.default]\nbackend = \"locmem\"\n\
         [caches.reader]\nbackend = \"tiered\"\n\
         options = {{ far = \"shared\", backplane = \"{url}\", backplane_heartbeat = 0.1, backplane_max_staleness = 2 }}\n{shared}"
    );
    let build =
        |toml: &str| Caches::build(&CachesConfig::from_str(toml, ConfigFormat::Toml).unwrap(), &backends).unwrap();
    (build(&writer), build(&reader))
}

/// Writes await their publish, so a hung backplane would cost each one the publish's whole wait
/// (`backplane_max_staleness`, 0.5 s here). Five unanswered publishes open the publisher's
/// circuit, and the writes after them skip the publish at once, counted. A reader that was
/// vouching again meanwhile would keep what the skipped publishes named, so the first publish
/// that gets through after the cool-down carries those keys too; the reader's other near copies
/// stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_backplane_opens_the_publish_circuit_and_what_it_skipped_is_carried_later() {
    let server = RedisServer::start().await.unwrap();
    let (writer_caches, reader_caches) = writer_and_reader(&server, "backplane-hung");
    let writer = TieredCache::new(writer_caches.default_cache()).unwrap();
    let reader = TieredCache::new(reader_caches.get("reader").unwrap()).unwrap();
    let (cache, backend) = (writer.cache(), writer.backend());
    cache.set("k", 0).await.unwrap();
    cache.set("kept", 7).await.unwrap();
    assert_eq!(backend.stats().invalidations_sent, 2);

    let hung = server.hang();
    for n in 1..=20 {
        cache.set("k", n).await.unwrap();
    }
    // The far tier (locmem) took every write; no publish got through.
    assert_eq!(cache.get::<i64>("k").await.unwrap(), Some(20));
    assert_eq!(backend.stats().invalidations_sent, 2);
    assert_eq!(backend.stats().publish_failures, 20);
    let circuit = backend.backplane_circuit_stats().unwrap();
    assert_eq!(circuit.opened(), 1, "{circuit:?}");
    // Five waited for their answer; the other fifteen failed at once.
    assert_eq!(circuit.rejected(), 15, "{circuit:?}");

    // The backplane is back; the reader's first reads start its subscription, and once it vouches
    // it keeps `k` and `kept` near. The writer's circuit is still open (a ten-second cool-down),
    // so its next write isn't published.
    hung.resume();
    let resumed = Instant::now();
    while !reader.backend().is_vouched() {
        assert!(
            resumed.elapsed() < Duration::from_secs(8),
            "the reader didn't vouch again within the writer's cool-down"
        );
        assert_eq!(reader.cache().get::<i64>("k").await.unwrap(), Some(20));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for (key, value) in [("k", 20), ("kept", 7)] {
        assert_eq!(reader.cache().get::<i64>(key).await.unwrap(), Some(value));
    }
    let far_reads = reader.backend().stats().far_reads;
    assert_eq!(reader.cache().get::<i64>("k").await.unwrap(), Some(20));
    assert_eq!(reader.backend().stats().far_reads, far_reads, "served near");
    cache.set("k", 21).await.unwrap();
    assert_eq!(backend.backplane_circuit_stats().unwrap().rejected(), 16);
    assert_eq!(reader.cache().get::<i64>("k").await.unwrap(), Some(20), "not told yet");

    // After the cool-down a write to another key probes and gets through, carrying `k`: the
    // reader evicts it, and only it.
    let received = reader.backend().stats().invalidations_received;
    let waiting = Instant::now();
    while backend.stats().invalidations_sent == 2 {
        assert!(waiting.elapsed() < Duration::from_secs(30), "never published again");
        tokio::time::sleep(Duration::from_millis(100)).await;
        cache.set("other", 1).await.unwrap();
    }
    assert_eq!(backend.backplane_circuit_stats().unwrap().closed(), 1);
    until("the reader is told", || {
        reader.backend().stats().invalidations_received > received
    })
    .await;
    let far_reads = reader.backend().stats().far_reads;
    assert_eq!(reader.cache().get::<i64>("kept").await.unwrap(), Some(7));
    assert_eq!(reader.backend().stats().far_reads, far_reads, "`kept` is still near");
    assert_eq!(reader.cache().get::<i64>("k").await.unwrap(), Some(21));
    assert_eq!(reader.backend().stats().far_reads, far_reads + 1, "`k` was evicted");
    drop((writer_caches, reader_caches));
    server.stop();
}

/// Two aliases of one process on one named channel tell each other at once, and skip each other's
/// backplane messages, which would evict the copy again: each write is received once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliases_on_one_channel_receive_each_write_once() {
    let server = RedisServer::start().await.unwrap();
    let mut backends = Backends::new();
    backends.register(cache_locmem::registration());
    backends.register(cache_tiered::registration());
    let options = format!(
        "options = {{ far = \"shared\", backplane = \"{}\", backplane_channel = \"backplane-pair\", backplane_heartbeat = 0.1, backplane_max_staleness = 0.5 }}",
        server.url()
    );
    let toml = format!(
        "[caches.default]\nbackend = \"tiered\"\n{options}\n[caches.two]\nbackend = \"tiered\"\n{options}\n\
         [caches.shared]\nbackend = \"locmem\"\nlocation = \"backplane-pair\"\n"
    );
    let caches = Caches::build(&CachesConfig::from_str(&toml, ConfigFormat::Toml).unwrap(), &backends).unwrap();
    let one = TieredCache::new(caches.default_cache()).unwrap();
    let two = TieredCache::new(caches.get("two").unwrap()).unwrap();
    one.cache().set("k", 1).await.unwrap();
    // The first call starts each alias' subscription.
    assert_eq!(two.cache().get::<i64>("k").await.unwrap(), Some(1));
    until("both vouched", || {
        one.backend().is_vouched() && two.backend().is_vouched()
    })
    .await;
    assert_eq!(two.cache().get::<i64>("k").await.unwrap(), Some(1));
    let before = two.backend().stats().invalidations_received;
    one.cache().set("k", 2).await.unwrap();
    assert_eq!(two.cache().get::<i64>("k").await.unwrap(), Some(2), "told at once");
    let far_reads = two.backend().stats().far_reads;
    // Long enough for the backplane message to arrive, had it not been skipped.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(two.backend().stats().invalidations_received - before, 1);
    assert_eq!(two.cache().get::<i64>("k").await.unwrap(), Some(2));
    assert_eq!(
        two.backend().stats().far_reads,
        far_reads,
        "the new copy was not evicted again"
    );
    drop(caches);
    server.stop();
}

/// Two instances of a tiered alias over one far Redis, as two processes: a writer and a reader,
/// each on the alias' default channel. Far calls wait up to 30 s, so only a caller gives up, and
/// near copies are kept for 60 s, so only an invalidation removes one within a test.
struct Abandoning {
    backplane: RedisServer,
    far: RedisServer,
    caches: (Caches, Caches),
    writer: TieredCache,
    reader: TieredCache,
}

impl Abandoning {
    async fn start() -> Abandoning {
        let (backplane, far) = (RedisServer::start().await.unwrap(), RedisServer::start().await.unwrap());
        let mut backends = Backends::new();
        backends.register(cache_locmem::registration());
        backends.register(cache_redis::registration());
        backends.register(cache_tiered::registration());
        let toml = format!(
            "[caches.default]\nbackend = \"locmem\"\n\
             [caches.shared]\nbackend = \"redis\"\nlocation = \"{}\"\noptions = {{ response_timeout = 30 }}\n\
             [caches.abandoning]\nbackend = \"tiered\"\n\
             options = {{ far = \"shared\", backplane = \"{}\", backplane_heartbeat = 0.1, backplane_max_staleness = 2, near_timeout = 60 }}\n",
            far.url(),
            backplane.url()
        );
        let build = || Caches::build(&CachesConfig::from_str(&toml, ConfigFormat::Toml).unwrap(), &backends).unwrap();
        let caches = (build(), build());
        let writer = TieredCache::new(caches.0.get("abandoning").unwrap()).unwrap();
        let reader = TieredCache::new(caches.1.get("abandoning").unwrap()).unwrap();
        writer.cache().set("k", 1).await.unwrap();
        assert_eq!(reader.cache().get::<i64>("k").await.unwrap(), Some(1));
        until("both vouched", || {
            writer.backend().is_vouched() && reader.backend().is_vouched()
        })
        .await;
        // Filled again now that the backplane vouches for it.
        assert_eq!(reader.cache().get::<i64>("k").await.unwrap(), Some(1));
        let setup = Abandoning {
            backplane,
            far,
            caches,
            writer,
            reader,
        };
        assert_eq!(setup.reader_reads_near().await, Some(1));
        setup
    }

    /// `k` as the reader reads it, checking that no far read was needed.
    async fn reader_reads_near(&self) -> Option<i64> {
        let far_reads = self.reader.backend().stats().far_reads;
        let value = self.reader.cache().get::<i64>("k").await.unwrap();
        assert_eq!(self.reader.backend().stats().far_reads, far_reads, "served near");
        value
    }

    /// The writer sets `k` to 2 and gives up after 300 ms, before the far server answers.
    async fn give_up_on_a_write(&self) {
        let gave_up = tokio::time::timeout(Duration::from_millis(300), self.writer.cache().set("k", 2)).await;
        assert!(gave_up.is_err(), "the far server can't have answered: {gave_up:?}");
        assert_eq!(self.writer.backend().stats().abandoned_writes, 1);
    }

    /// Waits for the abandoned write to reach the far server.
    async fn until_landed(&self) {
        let direct = self.caches.0.get("shared").unwrap();
        let started = Instant::now();
        while direct.get::<i64>("k").await.unwrap() != Some(2) {
            assert!(started.elapsed() < Duration::from_secs(10), "the SET never landed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn stop(self) {
        drop((self.writer, self.reader, self.caches));
        self.far.stop();
        self.backplane.stop();
    }
}

/// A write whose caller stops waiting while the far server hangs (a request timeout dropping the
/// handler, say) lands when the server resumes, though no code of the write runs after the far
/// call. Its keys are evicted near and published from a task of their own, so the reader doesn't
/// keep its old near copy until `near_timeout`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_whose_caller_gave_up_still_tells_the_other_processes() {
    let setup = Abandoning::start().await;
    let received = setup.reader.backend().stats().invalidations_received;
    let hung = setup.far.hang();
    setup.give_up_on_a_write().await;
    until("the reader is told", || {
        setup.reader.backend().stats().invalidations_received > received
    })
    .await;
    hung.resume();
    setup.until_landed().await;
    assert_eq!(setup.reader.cache().get::<i64>("k").await.unwrap(), Some(2));
    assert_eq!(setup.writer.cache().get::<i64>("k").await.unwrap(), Some(2));

    // A `clear()` given up on the same way empties the reader's near tier.
    assert_eq!(setup.reader.cache().get::<i64>("k").await.unwrap(), Some(2));
    assert!(setup.reader.backend().near_len() > 0);
    let received = setup.reader.backend().stats().invalidations_received;
    let hung = setup.far.hang();
    let gave_up = tokio::time::timeout(Duration::from_millis(300), setup.writer.cache().clear()).await;
    assert!(gave_up.is_err(), "the far server can't have answered: {gave_up:?}");
    assert_eq!(setup.writer.backend().stats().abandoned_writes, 2);
    until("the reader is told", || {
        setup.reader.backend().stats().invalidations_received > received
    })
    .await;
    assert_eq!(setup.reader.backend().near_len(), 0);
    hung.resume();
    setup.stop();
}

/// The far server holds the abandoned write back (`CLIENT PAUSE … WRITE`) but still answers reads:
/// the reader, told at once, reads the old value again and keeps it near. Once the write lands,
/// the writer's second publish (sent when a read behind the write answers) evicts that copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_read_before_an_abandoned_write_landed_is_evicted_once_it_lands() {
    let setup = Abandoning::start().await;
    let received = setup.reader.backend().stats().invalidations_received;
    let admin = redis::Client::open(setup.far.url()).unwrap();
    let mut admin = admin.get_multiplexed_async_connection().await.unwrap();
    let () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(20000)
        .arg("WRITE")
        .query_async(&mut admin)
        .await
        .unwrap();
    setup.give_up_on_a_write().await;
    until("the reader is told", || {
        setup.reader.backend().stats().invalidations_received > received
    })
    .await;
    assert_eq!(
        setup.reader.cache().get::<i64>("k").await.unwrap(),
        Some(1),
        "not landed yet"
    );
    assert_eq!(setup.reader_reads_near().await, Some(1));
    let () = redis::cmd("CLIENT")
        .arg("UNPAUSE")
        .query_async(&mut admin)
        .await
        .unwrap();
    setup.until_landed().await;
    let started = Instant::now();
    while setup.reader.cache().get::<i64>("k").await.unwrap() != Some(2) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the reader kept the copy it read before the write landed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(setup.writer.cache().get::<i64>("k").await.unwrap(), Some(2));
    setup.stop();
}
