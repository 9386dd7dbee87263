//! Instance attributes on root elements, and the page's JS/CSS at its placeholders, set by a real
//! HTML rewriter (lol_html) rather than regular expressions over tags.

use std::cell::RefCell;
use std::rc::Rc;

use lol_html::html_content::ContentType;
use lol_html::{RewriteStrSettings, element, rewrite_str};

use crate::error::ComponentError;
use crate::rendering::output::RenderOutput;

/// Sets `data-djc-id-<id>` (and `data-djc-css-<hash>` with CSS variables) on every root element
/// of every instance, and replaces the placeholders with `css` and `js`. Returns the HTML and
/// whether a CSS and a JS placeholder were found.
pub(crate) fn rewrite(output: &RenderOutput, css: &str, js: &str) -> Result<(String, bool, bool), ComponentError> {
    struct State {
        /// Elements open now (those that can hold content and have an end tag).
        depth: usize,
        /// Instances whose span holds the current position, outermost first, with the depth of
        /// their root elements once seen.
        open: Vec<(usize, Option<usize>)>,
        /// The next instance (by span start) not yet opened.
        next: usize,
        css_found: bool,
        js_found: bool,
    }
    let state = Rc::new(RefCell::new(State {
        depth: 0,
        open: Vec::new(),
        next: 0,
        css_found: false,
        js_found: false,
    }));
    let spans = &output.spans;
    let dependencies = &output.dependencies;
    let handler_state = Rc::clone(&state);
    let html = rewrite_str(
        &output.html,
        RewriteStrSettings::new()
            .with_strict(false)
            .append_element_content_handler(element!("*", move |el| {
                let at = el.source_location().bytes().start;
                let tag = el.tag_name();
                let placeholder = match (tag.as_str(), el.get_attribute("name").as_deref()) {
                    ("link", Some("CSS_PLACEHOLDER")) => Some(false),
                    ("script", Some("JS_PLACEHOLDER")) => Some(true),
                    _ => None,
                };
                let mut state = handler_state.borrow_mut();
                if let Some(is_js) = placeholder {
                    if is_js {
                        state.js_found = true;
                        el.replace(js, ContentType::Html);
                    } else {
                        state.css_found = true;
                        el.replace(css, ContentType::Html);
                    }
                }
                while state.open.last().is_some_and(|&(i, _)| spans[i].1 <= at) {
                    state.open.pop();
                }
                while state.next < spans.len() && spans[state.next].0 <= at {
                    let i = state.next;
                    state.next += 1;
                    // Past an empty span, or an instance printed nothing but text before here.
                    if spans[i].1 > at {
                        while state.open.last().is_some_and(|&(j, _)| spans[j].1 <= spans[i].0) {
                            state.open.pop();
                        }
                        state.open.push((i, None));
                    }
                }
                let depth = state.depth;
                if placeholder.is_none() {
                    for (i, root_depth) in state.open.iter_mut() {
                        let root_depth = root_depth.get_or_insert(depth);
                        if depth <= *root_depth {
                            let dependency = &dependencies[*i];
                            el.set_attribute(&format!("data-djc-id-{}", dependency.id), "")?;
                            if let Some(hash) = &dependency.css_vars {
                                el.set_attribute(&format!("data-djc-css-{hash}"), "")?;
                            }
                        }
                    }
                }
                if let Some(handlers) = el.end_tag_handlers() {
                    state.depth += 1;
                    let end_state = Rc::clone(&handler_state);
                    let handler: lol_html::EndTagHandler<'static> = Box::new(move |_end| {
                        let mut state = end_state.borrow_mut();
                        state.depth = state.depth.saturating_sub(1);
                        Ok(())
                    });
                    handlers.push(handler);
                }
                Ok(())
            })),
    )
    .map_err(|error| ComponentError::Render {
        component: dependencies.first().map(|d| d.class_id.to_string()).unwrap_or_default(),
        source: format!("its HTML can't be rewritten: {error}").into(),
    })?;
    let state = state.borrow();
    Ok((html, state.css_found, state.js_found))
}
