//! Two real OS processes sharing a real redis-server (the far tier) and a second one (the
//! backplane): a write in one is seen by the other, the latency of 1,000 such writes is printed,
//! and a lost or hung backplane never lets a process serve a near value older than the
//! documented bound (`backplane_max_staleness`).
//!
//! The test binary re-executes itself with `TIERED_PEER_FAR`/`TIERED_PEER_BACKPLANE` set; the
//! `peer_process` test then acts as the second process, answering commands on stdin with lines
//! starting `@@ ` on stdout. The child is killed on drop, so no process outlives the test; every
//! server is stopped when its fixture drops.

use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cache_core::testkit::servers::RedisServer;
use cache_core::{Backends, Caches, CachesConfig, ConfigFormat, Timeout};
use cache_tiered::TieredCache;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

const PEER_FAR: &str = "TIERED_PEER_FAR";
const PEER_BACKPLANE: &str = "TIERED_PEER_BACKPLANE";
const WRITES: i64 = 1_000;
/// `backplane_max_staleness` of these tests: the documented bound once the backplane misbehaves.
const MAX_STALENESS: Duration = Duration::from_millis(500);
/// A bound on any wait, so a broken peer fails the test instead of hanging it.
const DEADLINE: Duration = Duration::from_secs(20);

fn tiered(far: &str, backplane: &str) -> TieredCache {
    let mut backends = Backends::new();
    backends.register(cache_redis::registration());
    backends.register(cache_tiered::registration());
    let toml = format!(
        "[caches.default]\nbackend = \"tiered\"\n\
         options = {{ far = \"redis\", near_timeout = 60, backplane = \"{backplane}\", backplane_heartbeat = 0.1, \
         backplane_max_staleness = {} }}\n\
         [caches.redis]\nbackend = \"redis\"\nlocation = \"{far}\"\n",
        MAX_STALENESS.as_secs_f64()
    );
    let config = CachesConfig::from_str(&toml, ConfigFormat::Toml).unwrap();
    TieredCache::new(Caches::build(&config, &backends).unwrap().default_cache()).unwrap()
}

fn unix_nanos() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos()
}

/// The second process: answers one command per line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_process() {
    let (Ok(far), Ok(backplane)) = (std::env::var(PEER_FAR), std::env::var(PEER_BACKPLANE)) else {
        return; // Not the child: nothing to do.
    };
    let tiered = tiered(&far, &backplane);
    let cache = tiered.cache();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut out = tokio::io::stdout();
    while let Some(line) = lines.next_line().await.unwrap() {
        let words: Vec<&str> = line.split(' ').collect();
        let reply = match words[..] {
            ["get", key] => match cache.get::<i64>(key).await {
                Ok(Some(value)) => value.to_string(),
                Ok(None) => "-".to_owned(),
                Err(error) => format!("! {error}"),
            },
            ["expect", key, value] => {
                let wanted: i64 = value.parse().unwrap();
                out.write_all(b"@@ ready\n").await.unwrap();
                out.flush().await.unwrap();
                // Spins on near hits until the new value shows; anything but the previous value
                // or the new one is a violation.
                let (started, mut violations) = (Instant::now(), 0);
                loop {
                    match cache.get::<i64>(key).await {
                        Ok(Some(seen)) if seen == wanted => break format!("seen {} {violations}", unix_nanos()),
                        Ok(Some(seen)) if seen == wanted - 1 => {}
                        _ => violations += 1,
                    }
                    if started.elapsed() > DEADLINE {
                        break "timeout".to_owned();
                    }
                    tokio::task::yield_now().await;
                }
            }
            ["stats"] => {
                let stats = tiered.backend().stats();
                format!(
                    "{} {} {} {}",
                    stats.backplane_connects,
                    stats.backplane_losses,
                    stats.invalidations_received,
                    u8::from(tiered.backend().is_vouched())
                )
            }
            ["quit"] => return,
            _ => panic!("unknown command {line}"),
        };
        out.write_all(format!("@@ {reply}\n").as_bytes()).await.unwrap();
        out.flush().await.unwrap();
    }
}

/// The second process, seen from the first.
struct Peer {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Peer {
    fn spawn(far: &RedisServer, backplane: &RedisServer) -> Peer {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["peer_process", "--exact", "--nocapture", "--test-threads", "1"])
            .env(PEER_FAR, far.url())
            .env(PEER_BACKPLANE, backplane.url())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("the test binary starts again as the second process");
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Peer { child, stdin, lines }
    }

    async fn send(&mut self, command: &str) {
        self.stdin.write_all(format!("{command}\n").as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    async fn reply(&mut self) -> String {
        let read = async {
            loop {
                let line = self
                    .lines
                    .next_line()
                    .await
                    .unwrap()
                    .expect("the peer is still running");
                // The harness prints `test peer_process ... ` ahead of the first reply, on its line.
                if let Some(at) = line.find("@@ ") {
                    return line[at + 3..].to_owned();
                }
            }
        };
        tokio::time::timeout(DEADLINE, read).await.expect("the peer answers")
    }

    async fn ask(&mut self, command: &str) -> String {
        self.send(command).await;
        self.reply().await
    }

    /// (connects, losses, invalidations received, vouched)
    async fn stats(&mut self) -> (u64, u64, u64, bool) {
        let reply = self.ask("stats").await;
        let words: Vec<u64> = reply.split(' ').map(|word| word.parse().unwrap()).collect();
        (words[0], words[1], words[2], words[3] == 1)
    }

    /// Until the peer's backplane has connected `connects` times and vouches for its near tier.
    async fn wait_vouched(&mut self, connects: u64) {
        let started = Instant::now();
        // Any call starts the listener.
        self.ask("get warm-up").await;
        loop {
            let (made, _, _, vouched) = self.stats().await;
            if made >= connects && vouched {
                return;
            }
            assert!(started.elapsed() < DEADLINE, "the peer's backplane never came up");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn quit(mut self) {
        self.send("quit").await;
        let status = tokio::time::timeout(DEADLINE, self.child.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(status.success(), "the peer failed: {status}");
    }
}

async fn wait_vouched(tiered: &TieredCache) {
    let started = Instant::now();
    // Any call starts the listener.
    let _ = tiered.cache().get::<i64>("warm-up").await;
    while !tiered.backend().is_vouched() {
        assert!(started.elapsed() < DEADLINE, "the backplane never came up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn percentile(sorted: &[Duration], share: f64) -> Duration {
    sorted[((sorted.len() as f64 * share).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// The far tier's and the backplane's servers, this process' cache and the second process, both
/// subscribed.
async fn two_processes() -> (RedisServer, RedisServer, TieredCache, Peer) {
    let far = RedisServer::start().await.unwrap();
    let backplane = RedisServer::start().await.unwrap();
    let writer = tiered(&far.url(), &backplane.url());
    let mut peer = Peer::spawn(&far, &backplane);
    wait_vouched(&writer).await;
    peer.wait_vouched(1).await;
    (far, backplane, writer, peer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_in_one_process_is_seen_by_the_other() {
    if std::env::var(PEER_FAR).is_ok() {
        return;
    }
    let (_far, _backplane, writer, mut peer) = two_processes().await;

    writer.cache().set("k", 0).timeout(Timeout::Never).await.unwrap();
    assert_eq!(peer.ask("get k").await, "0");
    let mut latencies = Vec::with_capacity(WRITES as usize);
    for value in 1..=WRITES {
        assert_eq!(peer.ask(&format!("expect k {value}")).await, "ready");
        let written = unix_nanos();
        writer.cache().set("k", value).timeout(Timeout::Never).await.unwrap();
        let reply = peer.reply().await;
        let words: Vec<&str> = reply.split(' ').collect();
        assert_eq!(words[0], "seen", "write {value} was never seen by the other process");
        assert_eq!(
            words[2], "0",
            "the other process read a value older than the previous one"
        );
        let seen: u128 = words[1].parse().unwrap();
        latencies.push(Duration::from_nanos(seen.saturating_sub(written) as u64));
    }
    latencies.sort();
    println!(
        "invalidation seen by the other process, over {WRITES} writes: p50 {:?}, p99 {:?}, max {:?} \
         (from the start of `set` to the other process' first read of the new value)",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        latencies[latencies.len() - 1]
    );
    let (connects, losses, received, _) = peer.stats().await;
    assert_eq!((connects, losses), (1, 0), "the peer's backplane stayed up");
    assert!(received >= WRITES as u64, "the peer applied {received} invalidations");
    // The writer skips its own messages, which came back on its own subscription.
    assert_eq!(writer.backend().stats().invalidations_received, 0);
    assert!(writer.backend().stats().invalidations_sent > WRITES as u64);
    peer.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_backplane_never_lets_a_process_serve_past_the_bound() {
    if std::env::var(PEER_FAR).is_ok() {
        return;
    }
    let (_far, backplane, writer, mut peer) = two_processes().await;
    let set = |value: i64| {
        let cache = writer.cache().clone();
        async move { cache.set("k", value).timeout(Timeout::Never).await.unwrap() }
    };
    set(1).await;
    assert_eq!(peer.ask("get k").await, "1", "read into the peer's near tier");

    // Killed: the writer's invalidation can't be published.
    backplane.stop();
    set(2).await;
    tokio::time::sleep(MAX_STALENESS + Duration::from_millis(100)).await;
    assert_eq!(
        peer.ask("get k").await,
        "2",
        "past the bound the peer reads the far tier"
    );
    set(3).await;
    assert_eq!(
        peer.ask("get k").await,
        "3",
        "unvouched, every read goes to the far tier"
    );
    let (_, losses, _, vouched) = peer.stats().await;
    assert!(losses >= 1 && !vouched);

    // Back: the near tier serves again, and invalidations arrive again.
    backplane.restart().await.unwrap();
    peer.wait_vouched(2).await;
    wait_vouched(&writer).await;
    assert_eq!(peer.ask("get k").await, "3");
    assert_eq!(peer.ask("expect k 4").await, "ready");
    set(4).await;
    assert!(
        peer.reply().await.starts_with("seen "),
        "the write after the restart reaches the peer"
    );

    // Hung (SIGSTOP): no connection error, only unanswered heartbeats.
    {
        let _hung = backplane.hang();
        assert_eq!(peer.ask("get k").await, "4");
        set(5).await; // its publish times out after `backplane_max_staleness`
        tokio::time::sleep(MAX_STALENESS + Duration::from_millis(100)).await;
        assert_eq!(
            peer.ask("get k").await,
            "5",
            "past the bound the peer reads the far tier"
        );
    }
    peer.wait_vouched(3).await;
    assert_eq!(peer.ask("expect k 6").await, "ready");
    set(6).await;
    assert!(peer.reply().await.starts_with("seen "));
    peer.quit().await;
}
