//! Stamping a render into the page the caller gets: a fresh id for every instance, printed where
//! its template printed `component_id`, and the instance attributes on each root element. One pass
//! over the HTML, from a [`Fragment`](crate::output_cache::fragment::Fragment) or straight from a
//! stored render (a top-level hit).

use crate::media::variables::Variables;
use crate::output_cache::fragment::{IdRef, Instance};
use crate::rendering::ids::IdSequence;
use crate::rendering::output::{Dependency, RenderOutput, RenderStats};

/// The page's record of `instance`, under the next id.
pub(crate) fn dependency(instance: Instance, ids: &mut IdSequence) -> Dependency {
    Dependency {
        class_id: instance.class_id,
        id: ids.next_id(),
        js_vars: instance.js_vars,
        css_vars: instance.css_vars,
    }
}

/// Where ids and root elements are in a render's HTML, both by byte offset, ascending (checked
/// when a stored render is read; built so by an assembly).
pub(crate) struct Places<I, R> {
    /// `(offset, whose id)`.
    pub(crate) ids: I,
    /// `(offset, instance)`.
    pub(crate) roots: R,
    /// How many of each, to size the page up front.
    pub(crate) counts: (usize, usize),
}

/// `html` with `dependencies`' ids and root attributes stamped in at `places`. An instance number
/// is an index into `dependencies`, one per instance of the render.
pub(crate) fn page_html<I, R>(html: &str, places: Places<I, R>, dependencies: &[Dependency]) -> String
where
    I: Iterator<Item = (u32, IdRef)>,
    R: Iterator<Item = (u32, u32)>,
{
    let (id_count, root_count) = places.counts;
    let mut page = String::with_capacity(html.len() + 7 * id_count + root_count * ATTRIBUTE.len());
    let mut copied = 0;
    let (mut ids, mut roots) = (places.ids.peekable(), places.roots.peekable());
    loop {
        // At one offset an id goes first: it ends an attribute value the root's attributes follow.
        let id_next = match (ids.peek(), roots.peek()) {
            (Some(&(id_at, _)), Some(&(root_at, _))) => id_at <= root_at,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let offset = if id_next {
            let (offset, id) = ids.next().expect("peeked");
            page.push_str(&html[copied..offset as usize]);
            // Only a forged marker can point outside the page; it prints nothing.
            if let IdRef::Local(n) = id {
                page.push_str(dependencies[n as usize].id.as_str());
            }
            offset
        } else {
            let (offset, n) = roots.next().expect("peeked");
            page.push_str(&html[copied..offset as usize]);
            let dependency = &dependencies[n as usize];
            // Lowercased, as an HTML parser (and so the client script's query) has it.
            page.push_str(" data-djc-id-");
            page.push_str(&dependency.id.lowercase());
            page.push_str("=\"\"");
            if let Some(hash) = &dependency.css_vars {
                page.push_str(" data-djc-css-");
                page.push_str(hash);
                page.push_str("=\"\"");
            }
            offset
        };
        copied = offset as usize;
    }
    page.push_str(&html[copied..]);
    page
}

/// The render handed to the caller, counted in the metrics (once per render, from its stats).
pub(crate) fn output(
    html: String,
    dependencies: Vec<Dependency>,
    variables: Vec<Variables>,
    stats: RenderStats,
) -> RenderOutput {
    crate::counters::count_render(&stats);
    RenderOutput {
        html,
        dependencies,
        variables,
        stats,
    }
}

/// The length of a root's `data-djc-id-…` attribute, to size the page up front.
const ATTRIBUTE: &str = " data-djc-id-c000000=\"\"";
