//! Render strategies: putting a render's JS/CSS into its HTML, with the placement rules of
//! django-components' `deps_strategy` (see its docs on rendering JS and CSS).

use std::fmt;
use std::str::FromStr;

use crate::media::content::{js_string, script_safe};
use crate::media::kind::MediaKind;
use crate::media::urls::{MANAGER_URL, media_url};
use crate::media::variables::Variables;
use crate::registry::Registry;
use crate::rendering::output::RenderOutput;

/// The CSS placeholder: every occurrence gets the page's CSS (document and simple strategies).
pub const CSS_PLACEHOLDER: &str = r#"<link name="CSS_PLACEHOLDER">"#;

/// The JS placeholder: every occurrence gets the page's JS (document and simple strategies).
pub const JS_PLACEHOLDER: &str = r#"<script name="JS_PLACEHOLDER"></script>"#;

/// How a render's JS and CSS are put into its HTML; see [`crate::Renderer::with_dependencies`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    /// A whole page: CSS inlined in placeholders or before `</head>`, JS (the client script, a
    /// JSON script telling it what is loaded and which component JS to call, the component JS
    /// inlined) in placeholders or before the last `</body>`; nowhere when neither exists.
    #[default]
    Document,
    /// A piece of HTML for a page that already has the client script (or gets it): the content,
    /// then a loader for the client script and a JSON script listing the JS/CSS URLs to fetch and
    /// the calls to make. Nothing is inlined.
    Fragment,
    /// Like `Document` without the client script and JSON: JS/CSS inlined only.
    Simple,
    /// JS, then CSS, then the content; placeholders removed.
    Prepend,
    /// The content, then JS, then CSS; placeholders removed.
    Append,
    /// The HTML as rendered (root elements carry their `data-djc-id-…` attributes, as in
    /// django-components): no JS, no CSS.
    Ignore,
}

impl Strategy {
    /// The strategy's name, as [`FromStr`] reads it.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Document => "document",
            Strategy::Fragment => "fragment",
            Strategy::Simple => "simple",
            Strategy::Prepend => "prepend",
            Strategy::Append => "append",
            Strategy::Ignore => "ignore",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A strategy name that isn't one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid strategy `{0}` (expected document, fragment, simple, prepend, append or ignore)")]
pub struct InvalidStrategy(pub String);

impl FromStr for Strategy {
    type Err = InvalidStrategy;

    fn from_str(s: &str) -> Result<Strategy, InvalidStrategy> {
        Ok(match s {
            "document" => Strategy::Document,
            "fragment" => Strategy::Fragment,
            "simple" => Strategy::Simple,
            "prepend" => Strategy::Prepend,
            "append" => Strategy::Append,
            "ignore" => Strategy::Ignore,
            other => return Err(InvalidStrategy(other.to_owned())),
        })
    }
}

/// One JS or CSS item of a page, deduplicated by URL.
struct Item {
    url: String,
    /// Inline form: content (empty when the strategy doesn't inline), and whether it is a class'
    /// JS (wrapped in a function).
    content: String,
    wrap: bool,
}

/// The page's JS and CSS, in the order of first use (per instance: class entry, then variables).
struct Media {
    css: Vec<Item>,
    js: Vec<Item>,
    /// `[class id, instance id, JS variables hash or null]` per instance whose class has JS.
    calls: Vec<serde_json::Value>,
}

/// The page's media; with `inline`, the content of each item too.
fn collect(output: &RenderOutput, registry: &Registry, inline: bool) -> Media {
    let mut media = Media {
        css: Vec::new(),
        js: Vec::new(),
        calls: Vec::new(),
    };
    let push = |items: &mut Vec<Item>, url: String, content: &dyn Fn() -> String, wrap: bool| {
        if !items.iter().any(|item| item.url == url) {
            items.push(Item {
                url,
                content: if inline { content() } else { String::new() },
                wrap,
            });
        }
    };
    let variables = |kind: MediaKind, class_id: &str, hash: &str| {
        output
            .variables
            .iter()
            .find(|v| v.kind == kind && &*v.class_id == class_id && &*v.hash == hash)
            .map(Variables::content)
            .unwrap_or_default()
    };
    for dependency in &output.dependencies {
        let Some(entry) = registry.entry_by_class_id(&dependency.class_id) else {
            continue;
        };
        let class_id = &*dependency.class_id;
        if entry.css.is_some() {
            let url = media_url(class_id, MediaKind::Css, None);
            push(
                &mut media.css,
                url,
                &|| entry.class_media(MediaKind::Css).unwrap_or_default(),
                false,
            );
            if let Some(hash) = &dependency.css_vars {
                let url = media_url(class_id, MediaKind::Css, Some(hash));
                push(
                    &mut media.css,
                    url,
                    &|| variables(MediaKind::Css, class_id, hash),
                    false,
                );
            }
        }
        if entry.js.is_some() {
            let url = media_url(class_id, MediaKind::Js, None);
            push(
                &mut media.js,
                url,
                &|| entry.class_media(MediaKind::Js).unwrap_or_default(),
                true,
            );
            if let Some(hash) = &dependency.js_vars {
                let url = media_url(class_id, MediaKind::Js, Some(hash));
                push(&mut media.js, url, &|| variables(MediaKind::Js, class_id, hash), false);
            }
            media.calls.push(serde_json::json!([
                class_id,
                dependency.id.as_str(),
                dependency.js_vars.as_deref()
            ]));
        }
    }
    media
}

fn inline_css(items: &[Item]) -> String {
    items
        .iter()
        .map(|item| format!("<style>{}</style>", item.content))
        .collect()
}

fn inline_js(items: &[Item]) -> String {
    items
        .iter()
        .map(|item| {
            if item.wrap {
                format!("<script>(function() {{\n{}\n}})();</script>", item.content)
            } else {
                format!("<script>{}</script>", item.content)
            }
        })
        .collect()
}

/// The JSON script the client script reads: what is loaded (document), what to fetch
/// (fragment), and the component JS calls, in order.
fn exec_script(loaded: bool, media: &Media) -> String {
    fn urls(items: &[Item], sorted: bool) -> Vec<&str> {
        let mut urls: Vec<&str> = items.iter().map(|item| item.url.as_str()).collect();
        if sorted {
            urls.sort_unstable();
        }
        urls
    }
    let (css, js) = (urls(&media.css, loaded), urls(&media.js, loaded));
    let payload = if loaded {
        serde_json::json!({ "loadedCss": css, "loadedJs": js, "fetchCss": [], "fetchJs": [], "calls": media.calls })
    } else {
        serde_json::json!({ "loadedCss": [], "loadedJs": [], "fetchCss": css, "fetchJs": js, "calls": media.calls })
    };
    format!(
        r#"<script type="application/json" data-djc>{}</script>"#,
        script_safe(&payload.to_string())
    )
}

/// The fragment's loader: adds the client script to the page unless it is there already.
fn preloader() -> String {
    format!(
        "<script>(function() {{\nif (!globalThis.DjangoComponents && !document.querySelector('script[data-djc-manager]')) {{\n\
         const s = document.createElement('script');\ns.src = {};\ns.setAttribute('data-djc-manager', '');\n\
         s.async = false;\ndocument.head.appendChild(s);\n}}\nif (document.currentScript) document.currentScript.remove();\n}})();</script>",
        js_string(MANAGER_URL)
    )
}

/// Applies `strategy` to `output`; see [`crate::Renderer::with_dependencies`]. The root
/// attributes are in the HTML already (spliced in when the render was finished), so this only
/// places the JS and CSS: a few substring searches and one copy, no HTML parsing.
pub(crate) fn apply(output: &RenderOutput, registry: &Registry, strategy: Strategy) -> String {
    if strategy == Strategy::Ignore {
        return output.html.clone();
    }
    // A fragment's page fetches its media by URL: nothing to inline.
    let inline = strategy != Strategy::Fragment;
    let media = collect(output, registry, inline);
    let css = if inline { inline_css(&media.css) } else { String::new() };
    let mut js = String::new();
    // The client script only matters to a page with component JS to call.
    if strategy == Strategy::Document && !media.calls.is_empty() {
        js.push_str(&format!(r#"<script src="{MANAGER_URL}" data-djc-manager></script>"#));
        js.push_str(&exec_script(true, &media));
    }
    if inline {
        js.push_str(&inline_js(&media.js));
    }
    let html = &output.html;
    match strategy {
        Strategy::Document | Strategy::Simple => place(html, &css, &js),
        Strategy::Fragment => {
            let mut html = without_placeholders(html);
            html.push_str(&preloader());
            if !media.js.is_empty() || !media.css.is_empty() {
                html.push_str(&exec_script(false, &media));
            }
            html
        }
        Strategy::Prepend => format!("{js}{css}{}", without_placeholders(html)),
        Strategy::Append => format!("{}{js}{css}", without_placeholders(html)),
        Strategy::Ignore => unreachable!("handled above"),
    }
}

/// Where the media can go in a page: its placeholders, else the end of its head and body.
#[derive(Default)]
struct Places {
    css_placeholders: Vec<usize>,
    js_placeholders: Vec<usize>,
    first_head_end: Option<usize>,
    last_body_end: Option<usize>,
}

impl Places {
    /// The placeholders, and where no placeholder is, the first `</head` when `css` will be
    /// placed and the last `</body` when `js` will: with nothing to put there (a component without
    /// CSS, or without JS) the page isn't searched for it.
    fn find(html: &str, css: bool, js: bool) -> Places {
        use memchr::memmem::Finder;
        use std::sync::LazyLock;
        // Built once: a searcher's setup costs more than a search of a small page. SIMD substring
        // searches: on a page with many tags, cheaper than stopping at every `<`. The placeholders
        // share a tail whose capitals and `_` are rare in HTML, so one search finds both.
        static PLACEHOLDER: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(PLACEHOLDER_TAIL));
        static HEAD_END: LazyLock<Finder<'static>> = LazyLock::new(|| tag_end_finder("</head"));
        static BODY_END: LazyLock<Finder<'static>> = LazyLock::new(|| tag_end_finder("</body"));
        let bytes = html.as_bytes();
        let mut places = Places::default();
        for tail in PLACEHOLDER.find_iter(bytes) {
            for (placeholder, found) in [
                (CSS_PLACEHOLDER, &mut places.css_placeholders),
                (JS_PLACEHOLDER, &mut places.js_placeholders),
            ] {
                let start = tail.checked_sub(tail_offset(placeholder));
                if let Some(start) = start.filter(|&start| bytes[start..].starts_with(placeholder.as_bytes())) {
                    found.push(start);
                }
            }
        }
        // `</head` and `</body` only matter where a placeholder is missing.
        if css && places.css_placeholders.is_empty() {
            places.first_head_end = HEAD_END.find(bytes);
        }
        if js && places.js_placeholders.is_empty() {
            // Forward, keeping the last: memchr's reverse search has no SIMD prefilter.
            places.last_body_end = BODY_END.find_iter(bytes).last();
        }
        places
    }
}

/// A finder for `needle` in HTML. memchr's searcher looks first for the needle's two rarest bytes,
/// ranked as in ordinary text, where `<` and `/` are rare: in a page of tags they are on every
/// element, and a search for `</body` stopped at each. Ranked as in HTML, it looks for `b` and `y`.
fn tag_end_finder(needle: &'static str) -> memchr::memmem::Finder<'static> {
    memchr::memmem::FinderBuilder::new().build_forward_with_ranker(HtmlByteRank, needle)
}

/// How common a byte is in HTML: markup and spaces most, then lowercase letters in English order
/// of frequency, then the rest.
struct HtmlByteRank;

impl memchr::arch::all::packedpair::HeuristicFrequencyRank for HtmlByteRank {
    fn rank(&self, byte: u8) -> u8 {
        const LETTERS_BY_FREQUENCY: &[u8; 26] = b"etaoinshrdlcumwfgypbvkjxqz";
        match byte {
            b'<' | b'>' | b'/' | b'"' | b'=' | b' ' | b'\n' => 255,
            b'a'..=b'z' => {
                let place = LETTERS_BY_FREQUENCY
                    .iter()
                    .position(|&letter| letter == byte)
                    .unwrap_or(25);
                250 - 4 * place as u8
            }
            b'0'..=b'9' | b'A'..=b'Z' | b'-' | b'_' | b'.' | b':' | b';' => 100,
            _ => 50,
        }
    }
}

/// What both placeholders end with.
const PLACEHOLDER_TAIL: &str = "_PLACEHOLDER\"";

/// Where [`PLACEHOLDER_TAIL`] starts in `placeholder`.
fn tail_offset(placeholder: &str) -> usize {
    placeholder
        .find(PLACEHOLDER_TAIL)
        .expect("both placeholders hold the shared tail")
}

/// CSS in every CSS placeholder, else before the first `</head`; JS in every JS placeholder, else
/// before the last `</body`; else nowhere. django-components searches `</head`/`</body` as text too.
fn place(html: &str, css: &str, js: &str) -> String {
    let places = Places::find(html, !css.is_empty(), !js.is_empty());
    // (where, how much of the HTML it replaces, what goes there), in document order.
    let mut edits: Vec<(usize, usize, &str)> = Vec::new();
    if places.css_placeholders.is_empty() {
        edits.extend(places.first_head_end.map(|at| (at, 0, css)));
    } else {
        edits.extend(
            places
                .css_placeholders
                .iter()
                .map(|&at| (at, CSS_PLACEHOLDER.len(), css)),
        );
    }
    if places.js_placeholders.is_empty() {
        edits.extend(places.last_body_end.map(|at| (at, 0, js)));
    } else {
        edits.extend(places.js_placeholders.iter().map(|&at| (at, JS_PLACEHOLDER.len(), js)));
    }
    edits.sort_unstable_by_key(|&(at, _, _)| at);
    let mut out = String::with_capacity(html.len() + css.len() + js.len());
    let mut copied = 0;
    for (at, replaced, insert) in edits {
        out.push_str(&html[copied..at]);
        out.push_str(insert);
        copied = at + replaced;
    }
    out.push_str(&html[copied..]);
    out
}

/// The HTML without placeholders, for the strategies that put the media elsewhere.
fn without_placeholders(html: &str) -> String {
    let mut html = html.to_owned();
    for placeholder in [CSS_PLACEHOLDER, JS_PLACEHOLDER] {
        if html.contains(placeholder) {
            html = html.replace(placeholder, "");
        }
    }
    html
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The plain reading of where media goes, to hold [`Places::find`]'s shortcut to.
    fn places_by_text(
        html: &str,
        has_css: bool,
        has_js: bool,
    ) -> (Vec<usize>, Vec<usize>, Option<usize>, Option<usize>) {
        let css: Vec<usize> = html.match_indices(CSS_PLACEHOLDER).map(|(at, _)| at).collect();
        let js: Vec<usize> = html.match_indices(JS_PLACEHOLDER).map(|(at, _)| at).collect();
        let head = (has_css && css.is_empty()).then(|| html.find("</head")).flatten();
        let body = (has_js && js.is_empty()).then(|| html.rfind("</body")).flatten();
        (css, js, head, body)
    }

    /// Pieces a page is made of, placeholders and near-misses among them.
    fn piece() -> impl proptest::strategy::Strategy<Value = &'static str> {
        prop::sample::select(vec![
            CSS_PLACEHOLDER,
            JS_PLACEHOLDER,
            "<link name=\"JS_PLACEHOLDER\">",
            "_PLACEHOLDER\"",
            "\"CSS_PLACEHOLDER\"",
            "</head>",
            "</head",
            "</body>",
            "</bod",
            "</",
            "<",
            "<li>item — 1</li>",
            "<head>",
            "x",
        ])
    }

    proptest! {
        #[test]
        fn placeholders_and_tag_ends_are_found_where_the_text_says(
            pieces in prop::collection::vec(piece(), 0..40),
            has_css in any::<bool>(),
            has_js in any::<bool>(),
        ) {
            let html = pieces.concat();
            let places = Places::find(&html, has_css, has_js);
            let found = (places.css_placeholders, places.js_placeholders, places.first_head_end, places.last_body_end);
            prop_assert_eq!(found, places_by_text(&html, has_css, has_js));
        }
    }
}
