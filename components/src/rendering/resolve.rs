//! Turning a component call into a [`Fragment`]: through its output cache when it has one, else by
//! rendering it — its data hook, its template or function, then its children, concurrently.
//! Its children are the component calls and template fragments (`{% call cache(…) %}`) whose
//! markers its output holds.

use std::sync::Arc;

use futures::future::BoxFuture;

use crate::MAX_DEPTH;
use crate::error::ComponentError;
use crate::media::kind::MediaKind;
use crate::media::variables;
use crate::output_cache::fragment::{Assembly, Fragment, Instance};
use crate::output_cache::key::Digest;
use crate::output_cache::lookup::{self, FirstRead};
use crate::rendering::call::PendingCall;
use crate::rendering::html::Html;
use crate::rendering::join::join_all;
use crate::rendering::markers::{self, Token};
use crate::rendering::page::{Page, Stats};
use crate::rendering::template;
use crate::template_fragments::{self, PendingTemplateFragment};

/// The fragment of `call`, in a box of its own: a child's render resolves its own children, and
/// the render's own future, allocated on every call, needn't carry this state when the top-level
/// call is a hit (see `top_level.rs`). `first_read` is what the top-level call's own read found,
/// when it made one.
pub(crate) fn resolve<'a>(
    page: &'a Arc<Page>,
    call: &'a PendingCall<'a>,
    first_read: Option<FirstRead>,
) -> BoxFuture<'a, Result<Arc<Fragment>, ComponentError>> {
    Box::pin(resolve_unboxed(page, call, first_read))
}

async fn resolve_unboxed<'a>(
    page: &'a Arc<Page>,
    call: &'a PendingCall<'a>,
    first_read: Option<FirstRead>,
) -> Result<Arc<Fragment>, ComponentError> {
    let component = page.state.component(call.component);
    let entry = &component.entry;
    if call.lineage.depth > MAX_DEPTH {
        return Err(ComponentError::TooDeep {
            component: entry.name.to_owned(),
            limit: MAX_DEPTH,
        });
    }
    match &component.output {
        None => render_boxed(page, call, None).await.map(Arc::new),
        Some(output) => {
            let render = |digest| render_boxed(page, call, Some(digest));
            lookup::cached(page, call, output, render, first_read).await
        }
    }
}

/// [`render`] in a box of its own: it holds a template render and its children's futures, and a
/// hit — the path that matters most — shouldn't carry (and move) that state in its own future.
fn render_boxed<'a>(
    page: &'a Arc<Page>,
    call: &'a PendingCall<'a>,
    digest: Option<Digest>,
) -> BoxFuture<'a, Result<Fragment, ComponentError>> {
    Box::pin(render(page, call, digest))
}

/// Renders `call` itself: its data hook, its template or function, then its children. `digest`
/// is the call's when its output is cached.
async fn render(page: &Arc<Page>, call: &PendingCall<'_>, digest: Option<Digest>) -> Result<Fragment, ComponentError> {
    Stats::count(&page.stats.renders);
    let entry = &page.state.component(call.component).entry;
    let own = page.start_render();
    let render_error = |source| ComponentError::Render {
        component: entry.name.to_owned(),
        source,
    };
    let props = call.props(entry)?;
    let data = entry.component.template_data(props).await.map_err(render_error)?;
    let js = variables::payload(entry, MediaKind::Js, entry.component.js_data(props))?;
    let css = variables::payload(entry, MediaKind::Css, entry.component.css_data(props))?;
    let raw = if entry.has_template {
        template::render(page, call, props, entry, own, data, call.lineage.children(digest))?
    } else {
        let mut html = Html::new(&**page, call, own, &data, call.lineage.children(digest));
        if let Some(Err(source)) = entry.component.render_function(props, &mut html) {
            // `Html::child` errors (an unregistered child) come back through the function's `?`.
            return Err(match source.downcast::<ComponentError>() {
                Ok(error) => *error,
                Err(source) => render_error(source),
            });
        }
        html.out
    };

    let root = Instance {
        class_id: Arc::clone(&entry.class_id),
        js_vars: js.as_ref().map(|v| Arc::clone(&v.hash)),
        css_vars: css.as_ref().map(|v| Arc::clone(&v.hash)),
    };
    let variables = js.into_iter().chain(css).collect();
    assemble(page, &raw, |capacity| Assembly::new(root, variables, own, capacity)).await
}

/// The order children are resolved and found in: calls by number, then template fragments by
/// number. `None` for text and ids.
fn child_key(token: &Token<'_>) -> Option<u64> {
    match *token {
        Token::Call(n) => Some(u64::from(n)),
        Token::TemplateFragment(n) => Some(1 << 32 | u64::from(n)),
        Token::Text(_) | Token::Id(_) => None,
    }
}

/// A child whose marker is in raw output: a component call or a template fragment.
enum Child {
    Call(Arc<PendingCall<'static>>),
    TemplateFragment(Arc<PendingTemplateFragment>),
}

/// Resolves what the markers in `raw` stand for — component calls and template fragments —
/// concurrently, then puts their fragments and the text together in the [`Assembly`] `start`
/// makes (given the capacity the result needs).
pub(crate) async fn assemble(
    page: &Arc<Page>,
    raw: &str,
    start: impl FnOnce(usize) -> Assembly,
) -> Result<Fragment, ComponentError> {
    // Children render concurrently: on a networked cache their lookups overlap. Sorted by
    // `child_key`: calls by number, which is the order the calls were made in.
    let tokens: Vec<Token<'_>> = markers::tokens(raw).collect();
    let mut wanted: Vec<u64> = tokens.iter().filter_map(child_key).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let calls: Vec<(u64, Child)> = wanted
        .into_iter()
        .filter_map(|key| {
            let n = key as u32;
            let child = if key >> 32 == 0 {
                Child::Call(page.call(n)?)
            } else {
                Child::TemplateFragment(page.template_fragment(n)?)
            };
            Some((key, child))
        })
        .collect();
    let children = join_all(calls.iter().map(|(_, child)| match child {
        Child::Call(call) => resolve(page, call, None),
        Child::TemplateFragment(fragment) => template_fragments::resolve(page, Arc::clone(fragment)),
    }))
    .await?;

    // Sized up front: a page of a hundred children would otherwise regrow (and recopy) its HTML
    // a dozen times.
    let capacity = raw.len() + children.iter().map(|child| child.html.len()).sum::<usize>();
    let mut fragment = start(capacity);
    for token in tokens {
        match token {
            Token::Text(text) => fragment.text(text),
            Token::Id(render) => fragment.id(render),
            child => match child_key(&child).map(|key| calls.binary_search_by_key(&key, |(wanted, _)| *wanted)) {
                Some(Ok(index)) => fragment.append_child(&children[index]),
                _ => fragment.text("\u{FFFD}"),
            },
        }
    }
    Ok(fragment.finish())
}
