//! [`TieredBackend`]: a near locmem tier in front of any far backend.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use cache_core::single_flight::SingleFlight;
use cache_core::{
    BackendError, BackendResult, CacheBackend, Capabilities, CircuitStats, ErrorKind, Expiry, Remaining, ServerHealth,
    ServerRole, Timestamp, async_trait,
};

use crate::abandoned::{Named, WriteUnderway};
use crate::backplane::Backplane;
use crate::backplane::message::Invalidation;
use crate::builder::TieredBuilder;
use crate::coherence::FillTicket;
use crate::fail_safe::FailSafe;
use crate::local_peers::LocalPeers;
use crate::near::{NearEntry, Stamp};
use crate::options::TieredOptions;
use crate::state::Shared;
use crate::stats::{TieredStats, bump};

/// Two tiers as one backend: reads try the near (in-process) tier, then the far one, and fill the
/// near tier; writes go to the far tier, then the near one, then tell other processes through the
/// backplane. See the crate docs for the guarantees.
#[derive(Clone)]
pub struct TieredBackend {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) shared: Arc<Shared>,
    pub(crate) far: Arc<dyn CacheBackend>,
    pub(crate) options: TieredOptions,
    pub(crate) fail_safe: FailSafe,
    pub(crate) backplane: Option<Backplane>,
    /// The other tiered aliases of this process that name the same channel.
    local_peers: Option<Arc<LocalPeers>>,
    /// Background refreshes in flight (`TieredCache::get_or_set`), one per key.
    pub(crate) refreshes: Arc<SingleFlight<String, Bytes>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(backplane) = &self.backplane {
            crate::backplane::stop_on_drop(backplane);
        }
    }
}

impl TieredBackend {
    /// Builds a tiered backend in code in front of `far` (any backend: Redis, memcached, a database).
    pub fn builder(far: Arc<dyn CacheBackend>) -> TieredBuilder {
        TieredBuilder::new(far)
    }

    pub(crate) fn assemble(
        alias: &str,
        far: Arc<dyn CacheBackend>,
        options: TieredOptions,
        clock: cache_core::Clock,
    ) -> Result<Self, String> {
        let retain = options.fail_safe_max;
        let channel = options
            .backplane_channel
            .clone()
            .unwrap_or_else(|| format!("cache-tiered:{alias}"));
        let backplane = match &options.backplane {
            Some(url) => Some(
                Backplane::new(
                    url,
                    channel.clone(),
                    options.backplane_heartbeat,
                    options.backplane_max_staleness,
                    options.backplane_circuit,
                )
                .map_err(|error| format!("the backplane URL can't be used: {error}"))?,
            ),
            None => None,
        };
        // Only a channel named on purpose is shared in process: the default one is the alias'
        // name, which another `Caches` in this process (over another store) may use too.
        let local_peers = options
            .backplane_channel
            .as_ref()
            .map(|channel| LocalPeers::of(channel, instance_id));
        let shared = Arc::new(Shared {
            alias: alias.to_owned(),
            near: crate::near::NearStore::new(options.max_entries, options.cull_frequency, clock, retain),
            coherence: crate::coherence::Coherence::new(backplane.is_some()),
            counters: Default::default(),
            instance: local_peers.as_ref().map_or_else(instance_id, |peers| peers.instance()),
            stale_metrics: Default::default(),
        });
        if let Some(peers) = &local_peers {
            peers.join(&shared);
        }
        Ok(TieredBackend {
            inner: Arc::new(Inner {
                shared,
                local_peers,
                far,
                fail_safe: FailSafe {
                    max: options.fail_safe_max,
                    throttle: options.fail_safe_throttle,
                },
                options,
                backplane,
                refreshes: Arc::default(),
            }),
        })
    }

    /// The options it was built with.
    pub fn options(&self) -> &TieredOptions {
        &self.inner.options
    }

    /// The far backend.
    pub fn far(&self) -> &Arc<dyn CacheBackend> {
        &self.inner.far
    }

    /// What it did so far: far reads, stale values served, invalidations sent and received,
    /// backplane connections made and lost.
    pub fn stats(&self) -> TieredStats {
        self.inner.shared.counters.snapshot()
    }

    /// The circuit breaker invalidations are published through (`None` without a backplane):
    /// how often it opened, and how many publishes it failed at once while open (each also
    /// counted in [`TieredStats::publish_failures`]).
    pub fn backplane_circuit_stats(&self) -> Option<CircuitStats> {
        self.inner
            .backplane
            .as_ref()
            .map(|backplane| backplane.circuit().stats())
    }

    /// Entries in the near tier (expired ones not yet removed included).
    pub fn near_len(&self) -> usize {
        self.inner.shared.near.len()
    }

    /// Whether the near tier may serve values now: always without a backplane; with one, while
    /// its subscription is up and its heartbeat answered within `backplane_max_staleness`.
    pub fn is_vouched(&self) -> bool {
        let shared = &self.inner.shared;
        shared.coherence.is_vouching(shared.near.now())
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    fn ensure_listening(&self) {
        if let Some(backplane) = &self.inner.backplane {
            backplane.ensure_listening(&self.inner.shared);
        }
    }

    /// The near entry if it may be served without the far tier.
    #[inline]
    pub(crate) fn near_fresh(&self, key: &str) -> Option<NearEntry> {
        let shared = self.shared();
        let entry = shared.near.get(key)?;
        let now = shared.near.now();
        let usable =
            now < entry.stamp.fresh_until && (entry.stamp.stale || shared.coherence.vouches(entry.stamp.epoch, now));
        usable.then_some(entry)
    }

    #[inline]
    fn serve_near(&self, key: &str) -> Option<Bytes> {
        let entry = self.near_fresh(key)?;
        if entry.stamp.stale {
            self.shared().served_stale("get");
        }
        Some(entry.value)
    }

    pub(crate) fn ticket(&self, key: &str) -> FillTicket {
        self.shared().coherence.ticket(key)
    }

    /// Puts a value just read from or written to the far tier into the near tier, unless an
    /// invalidation of its key arrived meanwhile; `lifetime` is what the far entry has left (the
    /// expiry it was just written with, or what the far backend reported).
    pub(crate) fn fill(&self, key: &str, value: &[u8], ticket: FillTicket, lifetime: Remaining) {
        let shared = self.shared();
        if !shared.coherence.still_valid(ticket) {
            return;
        }
        let now = shared.near.now();
        let far_expires_at = match lifetime {
            Remaining::For(left) => Some(now + left),
            _ => None,
        };
        let near_until = now + self.inner.options.near_timeout;
        let stamp = Stamp {
            good_at: now,
            fresh_until: far_expires_at.map_or(near_until, |expires| expires.min(near_until)),
            far_expires_at,
            epoch: ticket.epoch,
            stale: false,
        };
        shared.near.put(key, value, stamp);
        // An invalidation that bumped the stripe after the first check evicts after it; one that
        // bumped it between the check and the put is caught here.
        if !shared.coherence.still_valid(ticket) {
            shared.near.remove(key);
        }
    }

    /// Puts a value this process just wrote to the far tier into the near tier: the write first
    /// invalidates its key for reads already under way (see `Coherence::written`), then fills with
    /// `ticket`, taken before the write, unless another write or invalidation came in between.
    fn fill_written(&self, key: &str, value: &[u8], ticket: FillTicket, lifetime: Remaining) {
        match self.shared().coherence.written(ticket) {
            Some(ticket) => self.fill(key, value, ticket, lifetime),
            None => self.shared().near.remove(key),
        }
    }

    /// Reads the far tier (fail-safe on failure) and fills the near tier.
    pub(crate) async fn read_through(&self, key: &str, operation: &'static str) -> BackendResult<Option<Bytes>> {
        let ticket = self.ticket(key);
        bump(&self.shared().counters.far_reads);
        match self.inner.far.get_with_remaining(key).await {
            Ok(Some((value, lifetime))) => {
                self.fill(key, &value, ticket, lifetime);
                Ok(Some(value))
            }
            Ok(None) => {
                self.shared().near.remove(key);
                Ok(None)
            }
            Err(error) => self.rescue(key, error, operation).map(Some),
        }
    }

    fn rescue(&self, key: &str, error: BackendError, operation: &'static str) -> BackendResult<Bytes> {
        self.inner
            .fail_safe
            .rescue(self.shared(), key, &error, operation)
            .ok_or(error)
    }

    pub(crate) async fn publish(&self, invalidation: Invalidation) {
        if let Some(peers) = &self.inner.local_peers {
            peers.tell(self.shared(), &invalidation);
        }
        if let Some(backplane) = &self.inner.backplane {
            backplane.publish(self.shared(), &invalidation).await;
        }
    }

    /// What a write whose caller stopped waiting still owes the other tiers (see `abandoned.rs`):
    /// its keys, evicted near already, go to this process' other aliases on the channel at once
    /// and are owed to the backplane; a task of their own publishes them, then evicts and
    /// publishes them again once the far server has taken the write. Without a runtime, or when
    /// the task never runs (the runtime is shutting down), the alias' next publish carries them.
    /// The task holds the backend (and so its backplane listener) until it ends: at most
    /// `near_timeout` while the far tier keeps failing.
    pub(crate) fn abandoned(&self, invalidation: Invalidation) {
        if let Some(peers) = &self.inner.local_peers {
            peers.tell(self.shared(), &invalidation);
        }
        if let Some(backplane) = &self.inner.backplane {
            backplane.owe(&invalidation);
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let backend = self.clone();
            runtime.spawn(async move { backend.settle_abandoned(invalidation).await });
        }
    }

    async fn settle_abandoned(&self, invalidation: Invalidation) {
        let Invalidation::Keys(keys) = &invalidation else {
            // A `clear()`: there is no key to read behind it, so one publish.
            self.publish_far(&invalidation).await;
            return;
        };
        // The write may still be on its way to a slow far server, and a read in this process or
        // another may fill the old value meanwhile. A read of the keys sent now, behind the write,
        // answers once the server has taken it: a connection's commands run in order, and
        // cache-redis reads lifetimes from the server it writes to, not a replica. The first
        // publish goes out meanwhile; what was filled before the read answered is evicted and
        // published again after it.
        let names: Vec<&str> = keys.iter().map(String::as_str).collect();
        let (_, mut read) = tokio::join!(
            self.publish_far(&invalidation),
            self.inner.far.get_many_with_remaining(&names)
        );
        // A failed read proves nothing (the write may land later): read again, backing off,
        // until one answers or `near_timeout` has passed, by when anything filled before the
        // write has expired near anyway.
        let deadline = tokio::time::Instant::now() + self.inner.options.near_timeout;
        let mut pause = Duration::from_millis(100);
        while read.is_err() && tokio::time::Instant::now() + pause < deadline {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_SETTLE_PAUSE);
            read = self.inner.far.get_many_with_remaining(&names).await;
        }
        if read.is_err() {
            return;
        }
        self.shared().forget(&invalidation);
        self.publish(invalidation).await;
    }

    /// Publishes through the backplane only (this process' other aliases were told already).
    async fn publish_far(&self, invalidation: &Invalidation) {
        if let Some(backplane) = &self.inner.backplane {
            backplane.publish(self.shared(), invalidation).await;
        }
    }

    async fn publish_key(&self, key: &str) {
        self.publish(Named::Key(key).invalidation()).await;
    }

    /// After a failed write the far value is unknown: the near copy goes, and when the write may
    /// have landed all the same (a timeout, a lost connection, a garbled reply), the other
    /// processes' copies go too — else they could serve the old value for up to `near_timeout`.
    async fn forget_on_error<T>(&self, key: &str, result: BackendResult<T>) -> BackendResult<T> {
        if let Err(error) = &result {
            self.shared().evict(key);
            if may_have_landed(error) {
                self.publish_key(key).await;
            }
        }
        result
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.shared().near.now()
    }

    pub(crate) async fn write(&self, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<()> {
        self.ensure_listening();
        let ticket = self.ticket(key);
        let underway = WriteUnderway::new(self, Named::Key(key));
        let written = self.inner.far.set(key, value.clone(), expiry).await;
        underway.returned();
        self.forget_on_error(key, written).await?;
        self.fill_written(key, &value, ticket, left_after(expiry));
        self.publish_key(key).await;
        Ok(())
    }
}

/// The longest pause between reads of the far tier behind an abandoned write that failed: many
/// writes abandoned during an outage each keep reading, but rarely.
const MAX_SETTLE_PAUSE: Duration = Duration::from_secs(5);

/// Whether a write that failed with `error` may have changed the far tier all the same: a timeout
/// or a lost connection (retryable), or a garbled reply (`Protocol`: not retryable, but it came
/// after the server had the command, which it may well have applied).
fn may_have_landed(error: &BackendError) -> bool {
    error.is_retryable() || matches!(error.kind(), ErrorKind::Protocol)
}

/// What a far entry just written with `expiry` has left.
fn left_after(expiry: Expiry) -> Remaining {
    match expiry {
        Expiry::After(lifetime) => Remaining::For(lifetime),
        Expiry::Never => Remaining::Never,
    }
}

/// A process-unique id for backplane messages: two backends in one process are two instances.
fn instance_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u64(NEXT.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos()),
    );
    hasher.finish()
}

impl fmt::Debug for TieredBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TieredBackend")
            .field("alias", &self.inner.shared.alias)
            .field("far", &self.inner.far)
            .field("options", &self.inner.options)
            .field("listening", &self.inner.backplane.as_ref().map(Backplane::is_listening))
            .finish()
    }
}

#[async_trait]
impl CacheBackend for TieredBackend {
    fn name(&self) -> &'static str {
        "tiered"
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.far.capabilities()
    }

    #[inline]
    fn get_now(&self, key: &str) -> Option<BackendResult<Option<Bytes>>> {
        self.serve_near(key).map(|value| Ok(Some(value)))
    }

    async fn get(&self, key: &str) -> BackendResult<Option<Bytes>> {
        if let Some(value) = self.serve_near(key) {
            return Ok(Some(value));
        }
        self.ensure_listening();
        self.read_through(key, "get").await
    }

    async fn set(&self, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<()> {
        self.write(key, value, expiry).await
    }

    async fn add(&self, key: &str, value: Bytes, expiry: Expiry) -> BackendResult<bool> {
        self.ensure_listening();
        let ticket = self.ticket(key);
        let underway = WriteUnderway::new(self, Named::Key(key));
        let added = self.inner.far.add(key, value.clone(), expiry).await;
        underway.returned();
        let added = self.forget_on_error(key, added).await?;
        if added {
            self.fill_written(key, &value, ticket, left_after(expiry));
            self.publish_key(key).await;
        }
        Ok(added)
    }

    async fn touch(&self, key: &str, expiry: Expiry) -> BackendResult<bool> {
        self.ensure_listening();
        let underway = WriteUnderway::new(self, Named::Key(key));
        let touched = self.inner.far.touch(key, expiry).await;
        underway.returned();
        let touched = self.forget_on_error(key, touched).await?;
        // The far lifetime changed: near copies, here and elsewhere, are read again.
        self.shared().evict(key);
        self.publish_key(key).await;
        Ok(touched)
    }

    async fn delete(&self, key: &str) -> BackendResult<bool> {
        self.ensure_listening();
        let underway = WriteUnderway::new(self, Named::Key(key));
        let deleted = self.inner.far.delete(key).await;
        underway.returned();
        let deleted = self.forget_on_error(key, deleted).await?;
        self.shared().evict(key);
        self.publish_key(key).await;
        Ok(deleted)
    }

    async fn incr(&self, key: &str, delta: i64) -> BackendResult<i64> {
        self.ensure_listening();
        let underway = WriteUnderway::new(self, Named::Key(key));
        let value = self.inner.far.incr(key, delta).await;
        underway.returned();
        let value = self.forget_on_error(key, value).await?;
        self.shared().evict(key);
        self.publish_key(key).await;
        Ok(value)
    }

    async fn get_many(&self, keys: &[&str]) -> BackendResult<Vec<Option<Bytes>>> {
        let mut found: Vec<Option<Bytes>> = keys.iter().map(|key| self.serve_near(key)).collect();
        let missing: Vec<usize> = (0..keys.len()).filter(|&at| found[at].is_none()).collect();
        if missing.is_empty() {
            return Ok(found);
        }
        self.ensure_listening();
        let missing_keys: Vec<&str> = missing.iter().map(|&at| keys[at]).collect();
        let tickets: Vec<FillTicket> = missing_keys.iter().map(|key| self.ticket(key)).collect();
        bump(&self.shared().counters.far_reads);
        // With the lifetimes, from the writer: as `get`, a near copy never outlives its far entry
        // nor keeps a value a replica hadn't yet replaced.
        match self.inner.far.get_many_with_remaining(&missing_keys).await {
            Ok(values) => {
                for ((&at, ticket), value) in missing.iter().zip(tickets).zip(values) {
                    found[at] = match value {
                        Some((bytes, lifetime)) => {
                            self.fill(keys[at], &bytes, ticket, lifetime);
                            Some(bytes)
                        }
                        None => {
                            self.shared().near.remove(keys[at]);
                            None
                        }
                    };
                }
                Ok(found)
            }
            Err(error) => {
                // Every missing key needs its last good value, or the call fails as the far tier did.
                for &at in &missing {
                    match self.inner.fail_safe.rescue(self.shared(), keys[at], &error, "get_many") {
                        Some(value) => found[at] = Some(value),
                        None => return Err(error),
                    }
                }
                Ok(found)
            }
        }
    }

    async fn set_many(&self, items: &[(&str, Bytes)], expiry: Expiry) -> BackendResult<Vec<String>> {
        self.ensure_listening();
        let tickets: Vec<FillTicket> = items.iter().map(|(key, _)| self.ticket(key)).collect();
        let underway = WriteUnderway::new(self, Named::Items(items));
        let failed = self.inner.far.set_many(items, expiry).await;
        underway.returned();
        let failed = match failed {
            Ok(failed) => failed,
            Err(error) => {
                for (key, _) in items {
                    self.shared().evict(key);
                }
                // As `forget_on_error`: the writes may have landed all the same.
                if may_have_landed(&error) {
                    self.publish(Named::Items(items).invalidation()).await;
                }
                return Err(error);
            }
        };
        let mut written = Vec::with_capacity(items.len());
        for ((key, value), ticket) in items.iter().zip(tickets) {
            if failed.iter().any(|failed| failed == key) {
                self.shared().evict(key);
            } else {
                self.fill_written(key, value, ticket, left_after(expiry));
                written.push((*key).to_owned());
            }
        }
        if !written.is_empty() {
            self.publish(Invalidation::Keys(written)).await;
        }
        Ok(failed)
    }

    async fn delete_many(&self, keys: &[&str]) -> BackendResult<()> {
        self.ensure_listening();
        let underway = WriteUnderway::new(self, Named::Keys(keys));
        let deleted = self.inner.far.delete_many(keys).await;
        underway.returned();
        for key in keys {
            self.shared().evict(key);
        }
        // A failed delete may have landed all the same (as `forget_on_error`).
        if deleted.as_ref().is_ok() || deleted.as_ref().is_err_and(may_have_landed) {
            self.publish(Named::Keys(keys).invalidation()).await;
        }
        deleted
    }

    async fn has_key(&self, key: &str) -> BackendResult<bool> {
        if self.serve_near(key).is_some() {
            return Ok(true);
        }
        self.ensure_listening();
        match self.inner.far.has_key(key).await {
            // Gone far: a copy kept near for fail-safe must not bring it back (as `read_through`).
            Ok(false) => {
                self.shared().near.remove(key);
                Ok(false)
            }
            Ok(true) => Ok(true),
            Err(error) => self.rescue(key, error, "has_key").map(|_| true),
        }
    }

    async fn clear(&self) -> BackendResult<()> {
        self.ensure_listening();
        let underway = WriteUnderway::new(self, Named::All);
        let cleared = self.inner.far.clear().await;
        underway.returned();
        self.shared().evict_all();
        // A failed clear may have landed all the same (as `forget_on_error`).
        if cleared.as_ref().is_ok() || cleared.as_ref().is_err_and(may_have_landed) {
            self.publish(Invalidation::All).await;
        }
        cleared
    }

    /// Stops the backplane listener (the near tier then serves nothing as fresh); the next call
    /// starts it again. The far backend belongs to its own alias, which closes it.
    async fn close(&self) -> BackendResult<()> {
        if let Some(backplane) = &self.inner.backplane {
            backplane.stop(self.shared());
        }
        Ok(())
    }

    async fn probe(&self) -> Vec<ServerHealth> {
        let mut servers = self.inner.far.probe().await;
        if let Some(backplane) = &self.inner.backplane {
            let health = ServerHealth::measure(backplane.server(), ServerRole::Server, async {
                backplane.ping().await.map_err(|error| {
                    BackendError::unavailable(cache_core::Unavailability::Refused, error.to_string())
                        .on_server(backplane.server())
                })
            })
            .await;
            servers.push(health);
        }
        servers
    }
}
