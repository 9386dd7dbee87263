//! The components' counters in the `metrics` facade, beside the caches' own (each cache call a
//! component makes is also counted by its alias). Names in the README, "Metrics".
//!
//! A render is counted when it finishes, from its [`RenderStats`]: a few increments per page, not
//! per component. Handles are registered on first use with the recorder installed then.

use std::sync::OnceLock;

use axum::http::StatusCode;
use metrics::Counter;

use crate::rendering::output::RenderStats;

/// Components whose template or render function ran.
pub const RENDERS: &str = "components_renders_total";
/// Output-cached components and template fragments served from the cache.
pub const OUTPUT_CACHE_HITS: &str = "components_output_cache_hits_total";
/// Output-cached components and template fragments not in the cache.
pub const OUTPUT_CACHE_MISSES: &str = "components_output_cache_misses_total";
/// Output-cached components that waited for an identical render in progress.
pub const OUTPUT_CACHE_COALESCED: &str = "components_output_cache_coalesced_total";
/// Renders (of components and template fragments) stored in the cache.
pub const OUTPUT_CACHE_STORES: &str = "components_output_cache_stores_total";
/// Cache calls that failed, each served by rendering (or keeping) the component or template fragment uncached.
pub const FAIL_OPEN: &str = "components_fail_open_total";
/// JS/CSS entries written to the media store (`kind`: `class` or `variables`).
pub const MEDIA_WRITES: &str = "components_media_writes_total";
/// Responses of the media endpoint (`status`: `200`, `304`, `404`, `405`, `503`).
pub const MEDIA_RESPONSES: &str = "components_media_responses_total";

/// One handle per series, registered on first use.
struct Handle {
    name: &'static str,
    /// The series' one label, if it has one.
    label: Option<(&'static str, &'static str)>,
    counter: OnceLock<Counter>,
}

impl Handle {
    const fn new(name: &'static str) -> Self {
        Handle::labelled(name, None)
    }

    const fn labelled(name: &'static str, label: Option<(&'static str, &'static str)>) -> Self {
        Handle {
            name,
            label,
            counter: OnceLock::new(),
        }
    }

    fn add(&self, n: u32) {
        if n > 0 {
            self.counter
                .get_or_init(|| match self.label {
                    Some((key, value)) => metrics::counter!(self.name, key => value),
                    None => metrics::counter!(self.name),
                })
                .increment(u64::from(n));
        }
    }
}

static RENDER_COUNTERS: [Handle; 6] = [
    Handle::new(RENDERS),
    Handle::new(OUTPUT_CACHE_HITS),
    Handle::new(OUTPUT_CACHE_MISSES),
    Handle::new(OUTPUT_CACHE_COALESCED),
    Handle::new(OUTPUT_CACHE_STORES),
    Handle::new(FAIL_OPEN),
];

/// Adds a finished render's counters.
pub(crate) fn count_render(stats: &RenderStats) {
    let [renders, hits, misses, coalesced, stores, fail_open] = &RENDER_COUNTERS;
    renders.add(stats.renders);
    hits.add(stats.hits);
    misses.add(stats.misses);
    coalesced.add(stats.coalesced);
    stores.add(stats.stores);
    fail_open.add(stats.cache_errors);
}

/// What a media write stored.
#[derive(Debug, Clone, Copy)]
pub(crate) enum MediaWrite {
    /// A class' JS or CSS.
    Class,
    /// A JS/CSS variables entry.
    Variables,
}

/// Counts one media entry written.
pub(crate) fn count_media_write(what: MediaWrite) {
    static CLASS: Handle = Handle::labelled(MEDIA_WRITES, Some(("kind", "class")));
    static VARIABLES: Handle = Handle::labelled(MEDIA_WRITES, Some(("kind", "variables")));
    match what {
        MediaWrite::Class => CLASS.add(1),
        MediaWrite::Variables => VARIABLES.add(1),
    }
}

/// Counts one media endpoint response by its status. Not a hot path: each response follows a
/// cache read or a conditional check.
pub(crate) fn count_media_response(status: StatusCode) {
    metrics::counter!(MEDIA_RESPONSES, "status" => status.as_u16().to_string()).increment(1);
}
