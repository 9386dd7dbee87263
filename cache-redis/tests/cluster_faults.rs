//! Redis Cluster faults under load: a master killed and restarted again and again, and a master
//! killed and replaced by its replica. The alias must keep answering for the live masters' slots,
//! and answer again for the victim's slots soon after it is back (or its replica took over): a
//! cluster connection that stops answering altogether (a wedge) fails the test.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cache_core::testkit::servers::{ClusterSpec, NodeRole, RedisCluster};
use cache_core::{Cache, Location};
use parking_lot::Mutex;
use serde_json::json;

const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);
/// Scheduling noise on a loaded two-core machine, on top of the configured timeout.
const SLACK: Duration = Duration::from_millis(400);
/// How soon after its restart (or its replica's promotion) a victim's keys must answer again.
const RECOVERY_BOUND: Duration = Duration::from_secs(5);
const TASKS: usize = 50;
/// Keys each task cycles through, on every master.
const KEYS_PER_MASTER: usize = 2;
/// No master is down.
const NONE: usize = usize::MAX;

/// A master killed and restarted (same port, empty, same slots) 30 times while 50 tasks run
/// `set`/`get` on keys of every master: the live masters' keys answer throughout (but for
/// timeouts while a deadlocked redis-rs connection is being replaced), every call
/// returns within the response timeout, and after each restart the victim's keys answer again
/// within [`RECOVERY_BOUND`].
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_killed_and_restarted_30_times_under_load_never_wedges_the_alias() {
    const CYCLES: usize = 30;
    let cluster = RedisCluster::start_with(ClusterSpec::masters(3).require_full_coverage(false))
        .await
        .expect("the cluster starts");
    let ports: Vec<u16> = cluster.addresses().iter().map(|address| address.port()).collect();
    let cache = cluster_cache(&cluster);
    let load = Load::start(&cache, &cluster, &ports).await;
    let started = Instant::now();

    let mut recoveries = Vec::with_capacity(CYCLES);
    for cycle in 0..CYCLES {
        let victim = cycle % ports.len();
        load.wait_until_all_answer(&ports, Duration::from_secs(5)).await;
        load.down.store(victim, Ordering::SeqCst);
        cluster.stop_node(victim);
        // Down long enough for calls to reach the dead node: from a few ms to half a second.
        tokio::time::sleep(Duration::from_millis(20 + (cycle as u64 * 37) % 480)).await;
        cluster.restart_node(victim).await.expect("the master restarts");
        let restarted = Instant::now();
        cluster
            .wait_until_ok()
            .await
            .expect("the cluster takes the master back");
        let ok_after = restarted.elapsed();
        let recovered = load.wait_for_answer(victim, restarted, RECOVERY_BOUND).await;
        load.down.store(NONE, Ordering::SeqCst);
        match recovered {
            Some(after) => recoveries.push((after, after.saturating_sub(ok_after))),
            None => {
                load.stop().await;
                cluster.stop();
                panic!(
                    "cycle {cycle}: the keys of master {victim} got no answer within {RECOVERY_BOUND:?} of its \
                     restart (the cluster reports cluster_state:ok); {}",
                    load.summary()
                );
            }
        }
    }
    load.stop().await;
    let elapsed = started.elapsed();
    let slowest_recovery = recoveries.iter().map(|(after, _)| *after).max().unwrap_or_default();
    let mean_recovery = recoveries.iter().map(|(after, _)| *after).sum::<Duration>() / CYCLES as u32;
    let slowest_after_ok = recoveries
        .iter()
        .map(|(_, after_ok)| *after_ok)
        .max()
        .unwrap_or_default();
    println!(
        "cluster kill/restart: {CYCLES} cycles in {elapsed:.1?}, 0 wedges; {}; the victim's keys answered after \
         its restart: mean {mean_recovery:?}, slowest {slowest_recovery:?} (Redis keeps a restarted master out \
         for about 2 s), at most {slowest_after_ok:?} after cluster_state:ok; per cycle (ms after restart / after \
         ok) {:?}",
        load.summary(),
        recoveries
            .iter()
            .map(|(after, after_ok)| (after.as_millis(), after_ok.as_millis()))
            .collect::<Vec<_>>()
    );
    let result = load.check();
    cluster.stop();
    result.unwrap();
}

/// Masters with one replica each and a 1 s node timeout: a master killed under load, its replica
/// promoted by the cluster, and the alias answers for that slot range again within
/// [`RECOVERY_BOUND`] of the promotion, while the other masters' keys answer throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_replaced_by_its_replica_keeps_its_slots_answering() {
    let spec = ClusterSpec::masters(3)
        .replicas_per_master(1)
        .require_full_coverage(false)
        .node_timeout(Duration::from_millis(1000));
    let cluster = RedisCluster::start_with(spec).await.expect("the cluster starts");
    let ports: Vec<u16> = cluster.addresses().iter().map(|address| address.port()).collect();
    let cache = cluster_cache(&cluster);
    let load = Load::start(&cache, &cluster, &ports).await;
    load.wait_until_all_answer(&ports, Duration::from_secs(5)).await;

    let victim = 0;
    let mut replica = None;
    for index in ports.len()..cluster.node_addresses().len() {
        if cluster.role(index).await
            == Some(NodeRole::Replica {
                master_port: ports[victim],
            })
        {
            replica = Some(index);
        }
    }
    let replica = replica.expect("the victim has a replica");
    load.down.store(victim, Ordering::SeqCst);
    let killed = Instant::now();
    cluster.stop_node(victim);
    let promoted = cluster
        .wait_for_role(replica, NodeRole::Master, Duration::from_secs(15))
        .await;
    let promoted_after = killed.elapsed();
    let promoted_at = Instant::now();
    let recovered = match promoted {
        Ok(()) => load.wait_for_answer(victim, promoted_at, RECOVERY_BOUND).await,
        Err(error) => {
            load.stop().await;
            cluster.stop();
            panic!("the replica was not promoted: {error}");
        }
    };
    // The victim's slots stay in transition while the old master comes back as a replica of the
    // new one (a request routed before the change may get `MOVED`), so errors on its keys stay
    // allowed; the other masters' keys must answer throughout, and every key must answer at the end.
    // The old master comes back as a replica of the new one.
    cluster.restart_node(victim).await.expect("the old master restarts");
    let rejoined = cluster
        .wait_for_role(
            victim,
            NodeRole::Replica {
                master_port: cluster.node_addresses()[replica].port(),
            },
            Duration::from_secs(15),
        )
        .await;
    load.wait_until_all_answer(&ports, Duration::from_secs(5)).await;
    load.stop().await;
    println!(
        "cluster failover: replica promoted {promoted_after:?} after the kill; its slots answered {recovered:?} \
         after the promotion; {}",
        load.summary()
    );
    let result = load.check();
    cluster.stop();
    result.unwrap();
    rejoined.expect("the old master rejoins as a replica");
    assert!(
        recovered.is_some(),
        "the victim's keys got no answer within {RECOVERY_BOUND:?} of the promotion"
    );
}

fn cluster_cache(cluster: &RedisCluster) -> Cache {
    let options = json!({
        "cluster": true,
        "response_timeout": RESPONSE_TIMEOUT.as_secs_f64(),
        "connect_timeout": 0.5,
    });
    common::cache("clustered", Location::Many(cluster.urls()), "", options).expect("the alias builds")
}

/// 50 tasks running `set` then `get` on keys of every master, recording every call.
struct Load {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    stats: Arc<Stats>,
    /// The master (index into the start-order masters) that is down, or [`NONE`].
    down: Arc<AtomicUsize>,
    epoch: Instant,
}

#[derive(Default)]
struct Stats {
    calls: AtomicU64,
    errors: AtomicU64,
    /// Errors on the victim's keys while it was down or recovering: allowed.
    victim_errors: AtomicU64,
    /// Errors on keys of a master that was up. Only timeouts are allowed: the calls in flight
    /// when redis-rs' connection deadlocks get no answer until it is replaced.
    live_errors: Mutex<Vec<String>>,
    /// Errors on keys of a master that was up, other than timeouts: not allowed.
    live_failures: Mutex<Vec<String>>,
    /// Calls longer than the response timeout allows.
    slow_calls: Mutex<Vec<String>>,
    slowest_nanos: AtomicU64,
    /// Per master, when a call on one of its keys last succeeded (nanoseconds since the epoch).
    last_ok: Vec<AtomicU64>,
}

impl Load {
    async fn start(cache: &Cache, cluster: &RedisCluster, ports: &[u16]) -> Load {
        let keys = keys_by_master(cache, cluster, ports).await;
        let epoch = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let down = Arc::new(AtomicUsize::new(NONE));
        let stats = Arc::new(Stats {
            last_ok: ports.iter().map(|_| AtomicU64::new(0)).collect(),
            ..Stats::default()
        });
        let tasks = (0..TASKS)
            .map(|task| {
                let (cache, stop, down, stats) = (cache.clone(), stop.clone(), down.clone(), stats.clone());
                let mine: Vec<(usize, String)> = keys
                    .iter()
                    .flat_map(|(master, keys)| {
                        keys[task * KEYS_PER_MASTER..(task + 1) * KEYS_PER_MASTER]
                            .iter()
                            .map(move |key| (*master, key.clone()))
                    })
                    .collect();
                tokio::spawn(async move {
                    let mut round = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        round += 1;
                        let (master, key) = &mine[round as usize % mine.len()];
                        let value = task as u64 * 1_000_000 + round;
                        let started = Instant::now();
                        let set = cache.set(key, &value).await.map(drop);
                        stats.record(epoch, *master, &down, started, "set", key, set.as_ref());
                        let started = Instant::now();
                        let got = cache.get::<u64>(key).await;
                        if let Ok(Some(read)) = &got {
                            assert_eq!(read / 1_000_000, task as u64, "{key}: another task's value");
                        }
                        let got = got.map(drop);
                        stats.record(epoch, *master, &down, started, "get", key, got.as_ref());
                        if set.is_err() || got.is_err() {
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                    }
                })
            })
            .collect();
        Load {
            tasks,
            stop,
            stats,
            down,
            epoch,
        }
    }

    /// Waits until a call on each master's keys succeeded in the last 100 ms.
    async fn wait_until_all_answer(&self, ports: &[u16], bound: Duration) {
        let deadline = Instant::now() + bound;
        loop {
            let now = self.epoch.elapsed().as_nanos() as u64;
            let fresh = (0..ports.len()).all(|master| {
                let last = self.stats.last_ok[master].load(Ordering::SeqCst);
                last > 0 && now.saturating_sub(last) < 100_000_000
            });
            if fresh {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "not every master answered: {}",
                self.summary()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// How long after `since` a call on `master`'s keys first succeeded, waiting up to `bound`.
    async fn wait_for_answer(&self, master: usize, since: Instant, bound: Duration) -> Option<Duration> {
        let since_nanos = since.duration_since(self.epoch).as_nanos() as u64;
        loop {
            let last = self.stats.last_ok[master].load(Ordering::SeqCst);
            if last > since_nanos {
                return Some(Duration::from_nanos(last - since_nanos));
            }
            if since.elapsed() >= bound {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    async fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        for task in &self.tasks {
            while !task.is_finished() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }

    fn summary(&self) -> String {
        let stats = &self.stats;
        let live = stats.live_errors.lock();
        format!(
            "{} calls, {} errors ({} on the victim's keys while it was down, {} on live masters' keys, the \
             first: {:?}), slowest call {:?}",
            stats.calls.load(Ordering::Relaxed),
            stats.errors.load(Ordering::Relaxed),
            stats.victim_errors.load(Ordering::Relaxed),
            live.len(),
            live.first(),
            Duration::from_nanos(stats.slowest_nanos.load(Ordering::Relaxed)),
        )
    }

    /// No error on a live master's keys, no call past the response timeout, and calls succeeded.
    fn check(&self) -> Result<(), String> {
        for task in &self.tasks {
            assert!(task.is_finished());
        }
        let summary = self.summary();
        let live = self.stats.live_failures.lock();
        let slow = self.stats.slow_calls.lock();
        if !live.is_empty() || !slow.is_empty() {
            return Err(format!(
                "{summary}\nerrors other than timeouts on live masters' keys (first 5): {:#?}\ncalls past {:?} (first 5): {:#?}",
                &live[..live.len().min(5)],
                RESPONSE_TIMEOUT + SLACK,
                &slow[..slow.len().min(5)],
            ));
        }
        Ok(())
    }
}

impl Stats {
    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        epoch: Instant,
        master: usize,
        down: &AtomicUsize,
        started: Instant,
        operation: &str,
        key: &str,
        outcome: Result<&(), &cache_core::CacheError>,
    ) {
        let took = started.elapsed();
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.slowest_nanos.fetch_max(took.as_nanos() as u64, Ordering::Relaxed);
        if took > RESPONSE_TIMEOUT + SLACK {
            self.slow_calls.lock().push(format!("{operation} {key} took {took:?}"));
        }
        match outcome {
            Ok(()) => {
                let now = epoch.elapsed().as_nanos() as u64;
                self.last_ok[master].fetch_max(now, Ordering::SeqCst);
            }
            Err(error) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                assert!(error.is_retryable(), "not retryable: {error}");
                if down.load(Ordering::SeqCst) == master {
                    self.victim_errors.fetch_add(1, Ordering::Relaxed);
                } else {
                    let shown = format!("{operation} {key} (master {master}) after {took:?}: {error}");
                    if !error.is_timeout() {
                        self.live_failures.lock().push(shown.clone());
                    }
                    self.live_errors.lock().push(shown);
                }
            }
        }
    }
}

/// For each master (by start order), the keys `TASKS * KEYS_PER_MASTER` tasks use: plain keys
/// whose made keys (`:1:<key>`) hash to that master's slots.
async fn keys_by_master(cache: &Cache, cluster: &RedisCluster, ports: &[u16]) -> Vec<(usize, Vec<String>)> {
    let mut connection = common::raw(&cluster.urls()[0]).await;
    let slots: redis::Value = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query_async(&mut connection)
        .await
        .unwrap();
    let mut ranges = Vec::new();
    let redis::Value::Array(entries) = slots else {
        panic!("CLUSTER SLOTS: {slots:?}")
    };
    for entry in entries {
        let redis::Value::Array(parts) = entry else { continue };
        let (redis::Value::Int(first), redis::Value::Int(last), redis::Value::Array(master)) =
            (&parts[0], &parts[1], &parts[2])
        else {
            panic!("CLUSTER SLOTS entry: {parts:?}")
        };
        let redis::Value::Int(port) = &master[1] else {
            panic!("CLUSTER SLOTS master: {master:?}")
        };
        let index = ports
            .iter()
            .position(|p| i64::from(*p) == *port)
            .expect("a start-order master");
        ranges.push((*first, *last, index));
    }
    let wanted = TASKS * KEYS_PER_MASTER;
    let mut keys: Vec<(usize, Vec<String>)> = (0..ports.len()).map(|master| (master, Vec::new())).collect();
    let mut candidate = 0u64;
    while keys.iter().any(|(_, found)| found.len() < wanted) {
        let key = format!("load:{candidate}");
        candidate += 1;
        let slot: i64 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(cache.make_key(&key, None))
            .query_async(&mut connection)
            .await
            .unwrap();
        let (_, _, master) = ranges
            .iter()
            .find(|(first, last, _)| (*first..=*last).contains(&slot))
            .expect("every slot is assigned");
        if keys[*master].1.len() < wanted {
            keys[*master].1.push(key);
        }
    }
    keys
}
