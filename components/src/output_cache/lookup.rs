//! Reading and writing one component's output through its alias: from this page, from the cache,
//! from a concurrent render, or by rendering it — and never failing the page because the cache
//! failed.

use std::sync::Arc;

use cache_core::single_flight::Role;
use cache_core::{Cache, CacheError};
use futures::future::BoxFuture;

use crate::error::ComponentError;
use crate::output_cache::fragment::Fragment;
use crate::output_cache::key::{Digest, output_key};
use crate::output_cache::target::OutputStore;
use crate::rendering::cache_warnings::{CACHE_WARNING_INTERVAL, CacheRole};
use crate::rendering::call::PendingCall;
use crate::rendering::page::{Page, Stats};

/// A call whose output is cached.
///
/// `render` renders the call itself (given its digest) when neither the page, the cache nor a
/// concurrent render has it.
pub(crate) async fn cached<'a>(
    page: &'a Arc<Page>,
    call: &'a PendingCall<'a>,
    output: &'a OutputStore,
    render: impl Fn(Digest) -> BoxFuture<'a, Result<Fragment, ComponentError>>,
) -> Result<Arc<Fragment>, ComponentError> {
    let entry = &page.state.component(call.component).entry;
    let digest = page.digest(call, output.settings.include_slots)?;
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
    let fragment = lookup_or_render(page, output, &key, &digest, render).await?;
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
) -> Result<Arc<Fragment>, ComponentError> {
    let cache = &output.cache;
    // Whether the cache answered; when it didn't, the render is neither stored nor tried again.
    let answered = match cache.get_raw(key).await {
        Ok(Some(bytes)) => match Fragment::decode(&bytes, &page.state.registry) {
            Ok(fragment) => {
                Stats::count(&page.stats.hits);
                return Ok(Arc::new(fragment));
            }
            // Written by another version, or not by us: render and overwrite it.
            Err(problem) => {
                tracing::warn!(
                    alias = cache.alias(),
                    key,
                    %problem,
                    "components: a cached render can't be read; rendering it again"
                );
                true
            }
        },
        Ok(None) => true,
        Err(error) => {
            // Fail-open: the façade has counted the error in the alias' metrics; the page is served.
            warn_cache_error(page, cache, key, "read", &error);
            false
        }
    };
    if answered {
        Stats::count(&page.stats.misses);
    }
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
                        store(page, output, key, &fragment).await;
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

async fn store(page: &Page, output: &OutputStore, key: &str, fragment: &Fragment) {
    let cache = &output.cache;
    match cache.set_raw(key, fragment.encode()).timeout(output.timeout).await {
        Ok(()) => Stats::count(&page.stats.stores),
        Err(error) => warn_cache_error(page, cache, key, "write", &error),
    }
}

fn warn_cache_error(page: &Page, cache: &Cache, key: &str, action: &str, error: &CacheError) {
    Stats::count(&page.stats.cache_errors);
    page.state
        .cache_warnings
        .warn(cache.alias(), CacheRole::Output, |held_back| {
            tracing::warn!(
                alias = cache.alias(),
                key,
                %error,
                held_back,
                "components: the output cache failed to {action}; the component is rendered uncached \
                 (one such warning per alias every {}s; `held_back` counts the others)",
                CACHE_WARNING_INTERVAL.as_secs()
            );
        });
}
