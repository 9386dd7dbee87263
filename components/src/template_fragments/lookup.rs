//! Resolving a template fragment once its template is done: from the cache, or by resolving the
//! components in its body and storing the result — and never failing the page because the cache
//! failed.

use std::sync::Arc;

use futures::future::BoxFuture;

use crate::error::ComponentError;
use crate::output_cache::fragment::{Assembly, Fragment};
use crate::output_cache::lookup::{Stored, read_stored, store};
use crate::rendering::cache_warnings::CacheRole;
use crate::rendering::page::Page;
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
        let role = CacheRole::TemplateFragment;
        let answered = match read_stored(page, cache, &pending.key, role).await {
            Stored::Hit(fragment) => return Ok(Arc::new(fragment)),
            Stored::Miss => true,
            Stored::Unanswered => false,
        };
        let fragment = assemble(page, &pending.body, Assembly::rootless).await?;
        // A body printing the surrounding component's `component_id` holds that instance's id,
        // which another render can't reuse: shown, not stored.
        if answered && fragment.is_self_contained() {
            store(page, cache, &pending.key, pending.timeout, &fragment, role).await;
        }
        Ok(Arc::new(fragment))
    })
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
