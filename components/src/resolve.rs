//! Turning a component call into a [`Fragment`]: from this page, from the cache, from a concurrent
//! render, or by rendering it — and never failing the page because the cache failed.

use std::sync::Arc;

use cache_core::Cache;
use cache_core::single_flight::Role;
use futures::future::BoxFuture;

use crate::error::ComponentError;
use crate::fragment::{Assembly, Fragment, Instance};
use crate::html::Html;
use crate::join::join_all;
use crate::key::{Digest, output_key};
use crate::markers::{self, Token};
use crate::output::MediaKind;
use crate::page::{Page, PendingCall, Stats};
use crate::renderer::StoredOutput;
use crate::{MAX_DEPTH, template, vars};

/// The fragment of `call`.
pub(crate) fn resolve(
    page: &Arc<Page>,
    call: Arc<PendingCall>,
) -> BoxFuture<'_, Result<Arc<Fragment>, ComponentError>> {
    Box::pin(async move {
        let entry = &page.renderer.registry.entries[call.entry];
        if call.lineage.depth > MAX_DEPTH {
            return Err(ComponentError::TooDeep {
                component: entry.name.to_owned(),
                limit: MAX_DEPTH,
            });
        }
        match &page.renderer.outputs[call.entry] {
            None => render_boxed(page, &call, None).await.map(Arc::new),
            Some(output) => cached(page, &call, output).await,
        }
    })
}

/// A call whose output is cached.
async fn cached(page: &Arc<Page>, call: &PendingCall, output: &StoredOutput) -> Result<Arc<Fragment>, ComponentError> {
    let entry = &page.renderer.registry.entries[call.entry];
    let digest = page.digest(call, output.settings.include_slots)?;
    if call.lineage.is_inside(&digest) {
        return Err(ComponentError::Recursive {
            component: entry.name.to_owned(),
        });
    }
    if let Some(fragment) = page.seen(&digest) {
        Stats::count(&page.stats.coalesced);
        return Ok(fragment);
    }
    let key = output_key(&entry.class_id, &digest);
    let fragment = lookup_or_render(page, call, output, &key, &digest).await?;
    // The top level has no siblings to share with.
    if call.lineage.depth > 0 && fragment.is_self_contained() {
        page.remember(digest, &fragment);
    }
    Ok(fragment)
}

async fn lookup_or_render(
    page: &Arc<Page>,
    call: &PendingCall,
    output: &StoredOutput,
    key: &str,
    digest: &Digest,
) -> Result<Arc<Fragment>, ComponentError> {
    let cache = &output.cache;
    // Whether the cache answered; when it didn't, the render is neither stored nor tried again.
    let answered = match cache.get_raw(key).await {
        Ok(Some(bytes)) => match Fragment::decode(&bytes, &page.renderer.registry) {
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
        match page.renderer.flights.join((cache.alias().to_owned(), key.to_owned())) {
            Role::Leader(leader) => {
                let fragment = Arc::new(render_boxed(page, call, Some(*digest)).await?);
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

async fn store(page: &Page, output: &StoredOutput, key: &str, fragment: &Fragment) {
    let cache = &output.cache;
    match cache.set_raw(key, fragment.encode()).timeout(output.timeout).await {
        Ok(()) => Stats::count(&page.stats.stores),
        Err(error) => warn_cache_error(page, cache, key, "write", &error),
    }
}

fn warn_cache_error(page: &Page, cache: &Cache, key: &str, action: &str, error: &cache_core::CacheError) {
    Stats::count(&page.stats.cache_errors);
    tracing::warn!(
        alias = cache.alias(),
        key,
        %error,
        "components: the output cache failed to {action}; the component is rendered uncached"
    );
}

/// [`render`] in a box of its own: it holds a template render and its children's futures, and a
/// hit — the path that matters most — shouldn't carry (and move) that state in its own future.
fn render_boxed<'a>(
    page: &'a Arc<Page>,
    call: &'a PendingCall,
    digest: Option<Digest>,
) -> BoxFuture<'a, Result<Fragment, ComponentError>> {
    Box::pin(render(page, call, digest))
}

/// Renders `call` itself: its data hook, its template or function, then its children. `digest`
/// is the call's when its output is cached.
async fn render(page: &Arc<Page>, call: &PendingCall, digest: Option<Digest>) -> Result<Fragment, ComponentError> {
    Stats::count(&page.stats.renders);
    let entry = &page.renderer.registry.entries[call.entry];
    let own = page.start_render();
    let render_error = |source| ComponentError::Render {
        component: entry.name.to_owned(),
        source,
    };
    let data = entry.component.template_data(&call.props).await.map_err(render_error)?;
    let js = vars::payload(entry, MediaKind::Js, entry.component.js_data(&call.props))?;
    let css = vars::payload(entry, MediaKind::Css, entry.component.css_data(&call.props))?;
    let raw = if entry.has_template {
        template::render(page, call, entry, own, data, call.lineage.children(digest))?
    } else {
        let mut html = Html::new(page, call, own, &data, call.lineage.children(digest));
        if let Some(Err(source)) = entry.component.render_function(&call.props, &mut html) {
            // `Html::child` errors (an unregistered child) come back through the function's `?`.
            return Err(match source.downcast::<ComponentError>() {
                Ok(error) => *error,
                Err(source) => render_error(source),
            });
        }
        html.out
    };

    // Children render concurrently: on a networked cache their lookups overlap. Sorted by call
    // number, which is the order the calls were made in.
    let tokens: Vec<Token<'_>> = markers::tokens(&raw).collect();
    let mut wanted: Vec<u32> = tokens
        .iter()
        .filter_map(|token| match token {
            Token::Call(n) => Some(*n),
            _ => None,
        })
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let calls: Vec<(u32, Arc<PendingCall>)> = wanted
        .into_iter()
        .filter_map(|n| page.call(n).map(|call| (n, call)))
        .collect();
    let children = join_all(calls.iter().map(|(_, child)| resolve(page, Arc::clone(child)))).await?;

    let root = Instance {
        class_id: Arc::clone(&entry.class_id),
        js_vars: js.as_ref().map(|v| Arc::clone(&v.hash)),
        css_vars: css.as_ref().map(|v| Arc::clone(&v.hash)),
        span: (0, 0),
    };
    // Sized up front: a page of a hundred children would otherwise regrow (and recopy) its HTML
    // a dozen times.
    let capacity = raw.len() + children.iter().map(|child| child.html.len()).sum::<usize>();
    let mut fragment = Assembly::new(root, js.into_iter().chain(css).collect(), own, capacity);
    for token in tokens {
        match token {
            Token::Text(text) => fragment.text(text),
            Token::Id(render) => fragment.id(render),
            Token::Call(n) => match calls.binary_search_by_key(&n, |(wanted, _)| *wanted) {
                Ok(index) => fragment.append_child(&children[index]),
                Err(_) => fragment.text("\u{FFFD}"),
            },
        }
    }
    Ok(fragment.finish())
}
