//! Reading and writing one component's output through its alias: from this page, from the cache,
//! from a concurrent render, or by rendering it — and never failing the page because the cache
//! failed.

use std::convert::Infallible;
use std::sync::Arc;

use cache_core::single_flight::Role;
use cache_core::{Cache, CacheError, Timeout};
use futures::future::BoxFuture;

use crate::error::ComponentError;
use crate::output_cache::fragment::Fragment;
use crate::output_cache::key::{Digest, output_key};
use crate::output_cache::stored_form::DecodeError;
use crate::output_cache::target::OutputStore;
use crate::rendering::cache_warnings::{CACHE_WARNING_INTERVAL, CacheRole, Trouble};
use crate::rendering::call::PendingCall;
use crate::rendering::page::{Page, Stats};
use crate::rendering::state::RendererState;

/// A call whose output is cached.
///
/// `render` renders the call itself (given its digest) when neither the page, the cache nor a
/// concurrent render has it.
pub(crate) async fn cached<'a>(
    page: &'a Arc<Page>,
    call: &'a PendingCall<'a>,
    output: &'a OutputStore,
    render: impl Fn(Digest) -> BoxFuture<'a, Result<Fragment, ComponentError>>,
    first_read: Option<FirstRead>,
) -> Result<Arc<Fragment>, ComponentError> {
    let entry = &page.state.component(call.component).entry;
    let digest = match &first_read {
        Some(read) => read.digest,
        None => page.digest(call, output.settings.include_slots)?,
    };
    if call.lineage.is_inside(&digest) {
        return Err(ComponentError::Recursive {
            component: entry.name.to_owned(),
        });
    }
    // Only nested calls are remembered (below), so the top level needn't look.
    if call.lineage.depth > 0
        && let Some(fragment) = page.seen(&digest)
    {
        Stats::count(&page.stats.coalesced);
        return Ok(fragment);
    }
    let key = output_key(&entry.class_id, &digest);
    let found_before = first_read.map(|read| read.found);
    let fragment = lookup_or_render(page, output, &key, &digest, render, found_before).await?;
    // The top level has no siblings to share with.
    if call.lineage.depth > 0 && fragment.is_self_contained() {
        page.remember(digest, &fragment);
    }
    Ok(fragment)
}

async fn lookup_or_render<'a>(
    page: &'a Arc<Page>,
    output: &OutputStore,
    key: &str,
    digest: &Digest,
    render: impl Fn(Digest) -> BoxFuture<'a, Result<Fragment, ComponentError>>,
    found_before: Option<Stored<Infallible>>,
) -> Result<Arc<Fragment>, ComponentError> {
    let cache = &output.cache;
    let answered = match found_before {
        // Read before this page existed (a top-level call's miss or failed read); counted now.
        Some(found) => {
            found.count(&page.stats);
            matches!(found, Stored::Miss)
        }
        None => match read_stored(page, cache, key, CacheRole::Output).await {
            Stored::Hit(fragment) => return Ok(Arc::new(fragment)),
            Stored::Miss => true,
            Stored::Unanswered => false,
        },
    };
    loop {
        // An identical sibling may have finished while this lookup was on the network.
        if let Some(fragment) = page.seen(digest) {
            Stats::count(&page.stats.coalesced);
            return Ok(fragment);
        }
        match page.state.flights.join((cache.alias().to_owned(), key.to_owned())) {
            Role::Leader(leader) => {
                let fragment = Arc::new(render(*digest).await?);
                // A render holding its parent's id can't be used anywhere else: not shared, not stored.
                if fragment.is_self_contained() {
                    leader.publish(Arc::clone(&fragment));
                    if answered {
                        store(page, cache, key, output.timeout, &fragment, CacheRole::Output).await;
                    }
                }
                return Ok(fragment);
            }
            Role::Follower(follower) => {
                if let Some(fragment) = follower.outcome().await {
                    Stats::count(&page.stats.coalesced);
                    return Ok(fragment);
                }
                // The leader failed, was cancelled or couldn't share: try to lead.
            }
        }
    }
}

/// What the top-level call's own read found when it wasn't a hit (see `top_level.rs`); the
/// page takes over from there without reading again.
pub(crate) struct FirstRead {
    /// The call's digest, computed for that read.
    pub(crate) digest: Digest,
    /// A miss (render and store) or a cache that failed (render, don't store); never a hit.
    pub(crate) found: Stored<Infallible>,
}

/// What reading a stored render gave.
pub(crate) enum Stored<T = Fragment> {
    Hit(T),
    /// Not there, or not readable (written by another version, or not by us): render and store.
    Miss,
    /// The cache failed (warned): render, and don't try to store.
    Unanswered,
}

impl<T> Stored<T> {
    /// The hit's value, or what was found instead.
    pub(crate) fn hit(self) -> Result<T, Stored<Infallible>> {
        match self {
            Stored::Hit(value) => Ok(value),
            Stored::Miss => Err(Stored::Miss),
            Stored::Unanswered => Err(Stored::Unanswered),
        }
    }

    /// Counts what was found in a page's stats.
    pub(crate) fn count(&self, stats: &Stats) {
        Stats::count(match self {
            Stored::Hit(_) => &stats.hits,
            Stored::Miss => &stats.misses,
            Stored::Unanswered => &stats.cache_errors,
        });
    }
}

/// Reads `key`'s stored render for `role` (a component's output, or a template fragment's body,
/// which may hold no component) into a [`Fragment`], counting what it found; a failure is warned
/// about and counted, never returned — the page is served.
pub(crate) async fn read_stored(page: &Page, cache: &Cache, key: &str, role: CacheRole) -> Stored {
    let rooted = role != CacheRole::TemplateFragment;
    let registry = &page.state.registry;
    let stored = read(&page.state, cache, key, role, |bytes| {
        Fragment::decode(bytes, registry, rooted)
    })
    .await;
    stored.count(&page.stats);
    stored
}

/// Reads `key`'s stored render for `role` and makes a `T` of it with `decode`. A value `decode`
/// refuses is warned about and is a miss; a cache that fails is warned about and is
/// `Unanswered`. Nothing is counted: the caller counts in its page, when it has one.
pub(crate) async fn read<T>(
    state: &RendererState,
    cache: &Cache,
    key: &str,
    role: CacheRole,
    decode: impl FnOnce(&[u8]) -> Result<T, DecodeError>,
) -> Stored<T> {
    match cache.get_raw(key).await {
        Ok(Some(bytes)) => match decode(&bytes) {
            Ok(value) => Stored::Hit(value),
            Err(problem) => {
                state
                    .cache_warnings
                    .warn(cache.alias(), role, Trouble::Unreadable, |held_back| {
                        tracing::warn!(
                            alias = cache.alias(),
                            key,
                            %problem,
                            held_back,
                            "components: a cached {} can't be read; rendering it again \
                             (one such warning per alias every {}s; `held_back` counts the others)",
                            role.stored_thing(),
                            CACHE_WARNING_INTERVAL.as_secs()
                        );
                    });
                Stored::Miss
            }
        },
        Ok(None) => Stored::Miss,
        Err(error) => {
            warn_cache_error(state, cache, key, role, "read", &error);
            Stored::Unanswered
        }
    }
}

/// Stores `fragment` under `key` for `role`; a failure is warned about and counted. A timeout that
/// expires at once (zero or less, given or the alias' own) deletes the old entry and stores
/// nothing (Django's `set`), so it isn't counted.
pub(crate) async fn store(
    page: &Page,
    cache: &Cache,
    key: &str,
    timeout: Timeout,
    fragment: &Fragment,
    role: CacheRole,
) {
    let stores = cache.expiry_for(timeout).is_some();
    match cache.set_raw(key, fragment.encode()).timeout(timeout).await {
        Ok(()) if stores => Stats::count(&page.stats.stores),
        Ok(()) => {}
        Err(error) => {
            Stats::count(&page.stats.cache_errors);
            warn_cache_error(&page.state, cache, key, role, "write", &error);
        }
    }
}

/// Fail-open: the façade has counted the error in the alias' metrics; the page is served.
fn warn_cache_error(
    state: &RendererState,
    cache: &Cache,
    key: &str,
    role: CacheRole,
    action: &str,
    error: &CacheError,
) {
    state
        .cache_warnings
        .warn(cache.alias(), role, Trouble::Failed, |held_back| {
            tracing::warn!(
                alias = cache.alias(),
                key,
                %error,
                held_back,
                "components: the {} failed to {action}; {} is rendered uncached \
                 (one such warning per alias every {}s; `held_back` counts the others)",
                role.cache_name(),
                role.subject(),
                CACHE_WARNING_INTERVAL.as_secs()
            );
        });
}
