//! The example site's `/news`, whose sidebar is a cached template fragment, over real HTTP
//! without a browser: the second request serves the sidebar from the cache (its greeting doesn't
//! render, nor do the slow headlines; the greeting gets a fresh id and its JS/CSS), and another
//! `lang` is another entry.

mod common;
#[path = "../examples/site.rs"]
#[allow(dead_code)]
mod site;

use cache_components::Renderer;
use cache_core::{Backends, Caches, CachesConfig};
use common::http_get as get;

/// The value of `attribute` on the element whose id is `id`.
fn attribute(html: &str, id: &str, attribute: &str) -> String {
    let element = &html[html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {html}"))..];
    let element = &element[..element.find('>').unwrap()];
    let value = &element[element.find(&format!("{attribute}=\"")).unwrap() + attribute.len() + 2..];
    value[..value.find('"').unwrap()].to_owned()
}

/// The greeting's instance id: its `<p class="greeting" data-djc-id-…>`.
fn greeting_id(html: &str) -> String {
    let at = html
        .find("<p class=\"greeting\" data-djc-id-")
        .unwrap_or_else(|| panic!("{html}"));
    let id = &html[at + "<p class=\"greeting\" data-djc-id-".len()..];
    id[..id.find('=').unwrap()].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_news_sidebar_is_a_cached_template_fragment() {
    let config = CachesConfig::load(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/caches.toml")).unwrap();
    let mut backends = Backends::new();
    backends.register(cache_locmem::registration());
    let caches = Caches::build(&config, &backends).unwrap();
    let renderer = Renderer::from_config(site::registry().unwrap(), caches, &config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, site::app(renderer)).await });

    let pages = tokio::task::spawn_blocking(move || {
        ["/news", "/news", "/news?lang=fr"].map(|path| {
            let (status, body) = get(address, path);
            assert_eq!(status, 200, "{body}");
            body
        })
    })
    .await
    .unwrap();
    let [miss, hit, french] = &pages;

    let stats = |page: &str| ["data-hits", "data-misses", "data-renders"].map(|name| attribute(page, "status", name));
    assert_eq!(
        stats(miss),
        ["0", "1", "3"],
        "the page, the headlines and the greeting render"
    );
    assert_eq!(
        stats(hit),
        ["1", "0", "1"],
        "only the page renders: the sidebar is the cached one"
    );
    assert_eq!(stats(french), ["0", "1", "3"], "the sidebar varies on lang");
    assert!(french.contains("<li>Headline 1 (fr)</li>"), "{french}");
    // The sidebar kept the time it was first rendered at.
    assert_eq!(
        attribute(hit, "headlines", "data-rendered"),
        attribute(miss, "headlines", "data-rendered")
    );
    // The greeting in the cached sidebar: a fresh id, and its JS and CSS placed in the page.
    assert_ne!(greeting_id(hit), greeting_id(miss));
    for page in [miss, hit] {
        assert!(page.contains(".greeting { font-weight: bold; }"), "{page}");
        assert!(
            page.contains("window.greetings = (window.greetings || 0) + 1"),
            "{page}"
        );
    }
}
