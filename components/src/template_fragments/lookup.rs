//! Resolving a template fragment once its template is done: from the cache, or by resolving the
//! components in its body and storing the result — and never failing the page because the cache
//! failed.

use std::sync::Arc;

use cache_core::{CacheError, Timeout};
use futures::future::BoxFuture;

use crate::error::ComponentError;
use crate::output_cache::fragment::{Assembly, Fragment};
use crate::rendering::cache_warnings::{CACHE_WARNING_INTERVAL, CacheRole};
use crate::rendering::page::{Page, Stats};
use crate::rendering::resolve::assemble;
use crate::template_fragments::PendingTemplateFragment;

/// The fragment `pending` stands for: the stored one on a hit (the components in its body don't
/// render), else its body with those components resolved, then stored.
///
/// Unlike a component's output, concurrent misses of one fragment are not coalesced: each renders
/// and stores, as with Django's tag — so a fragment nested in one with the same key (a recursive
/// macro that forgot a `vary_on`) works as it does in Django instead of waiting for itself.
pub(crate) fn resolve<'a>(
    page: &'a Arc<Page>,
    pending: Arc<PendingTemplateFragment>,
) -> BoxFuture<'a, Result<Arc<Fragment>, ComponentError>> {
    Box::pin(async move {
        let cache = &pending.cache;
        // Whether the cache answered; when it didn't, the render is not stored.
        let answered = match cache.get_raw(&pending.key).await {
            Ok(Some(bytes)) => match Fragment::decode_any(&bytes, &page.state.registry) {
                Ok(mut fragment) => {
                    Stats::count(&page.stats.hits);
                    fragment.rootless = true;
                    return Ok(Arc::new(fragment));
                }
                // Written by another version, or by something else (Django's pickled string under
                // the same key): render it and overwrite it.
                Err(problem) => {
                    tracing::warn!(
                        alias = cache.alias(),
                        key = pending.key,
                        %problem,
                        "components: a cached template fragment can't be read; rendering it again"
                    );
                    true
                }
            },
            Ok(None) => true,
            Err(error) => {
                warn_cache_error(page, &pending, "read", &error);
                false
            }
        };
        if answered {
            Stats::count(&page.stats.misses);
        }
        let fragment = assemble(page, &pending.body, Assembly::rootless).await?;
        // A body printing the surrounding component's `component_id` holds that instance's id,
        // which another render can't reuse: shown, not stored.
        if answered && fragment.is_self_contained() {
            // Django's `set` with a timeout of 0 or less: the old entry goes, nothing is stored.
            let stores = !matches!(pending.timeout, Timeout::Seconds(seconds) if seconds <= 0.0);
            let stored = cache.set_raw(&pending.key, fragment.encode()).timeout(pending.timeout);
            match stored.await {
                Ok(()) if stores => Stats::count(&page.stats.stores),
                Ok(()) => {}
                Err(error) => warn_cache_error(page, &pending, "write", &error),
            }
        }
        Ok(Arc::new(fragment))
    })
}

/// Fail-open: the façade has counted the error in the alias' metrics; the body is served.
fn warn_cache_error(page: &Page, pending: &PendingTemplateFragment, action: &str, error: &CacheError) {
    Stats::count(&page.stats.cache_errors);
    let alias = pending.cache.alias();
    page.state
        .cache_warnings
        .warn(alias, CacheRole::TemplateFragment, |held_back| {
            tracing::warn!(
                alias,
                key = pending.key,
                fragment = pending.name,
                %error,
                held_back,
                "components: the template fragment cache failed to {action}; the fragment is rendered uncached \
                 (one such warning per alias every {}s; `held_back` counts the others)",
                CACHE_WARNING_INTERVAL.as_secs()
            );
        });
}

impl Page {
    /// The canonical form of template fragment `n` in slot content (see `Page::canonical_slot`):
    /// its alias, key and body, length-prefixed.
    pub(crate) fn canonical_template_fragment(&self, n: u32, out: &mut Vec<u8>) -> Result<(), ComponentError> {
        let Some(pending) = self.template_fragment(n) else {
            out.extend_from_slice("\u{FFFD}".as_bytes());
            return Ok(());
        };
        let mut body = Vec::new();
        self.canonical_slot(&pending.body, &mut body)?;
        out.extend_from_slice(b"\0f");
        for part in [pending.cache.alias().as_bytes(), pending.key.as_bytes(), &body] {
            out.extend_from_slice(&(part.len() as u64).to_le_bytes());
            out.extend_from_slice(part);
        }
        Ok(())
    }
}
