//! `CacheLayer::conditional_get`: Django's `ConditionalGetMiddleware` in its documented place in
//! the site-wide cache, between `UpdateCacheMiddleware` and `FetchFromCacheMiddleware`; next to
//! `ConditionalGetLayer` around a `cache_page` view, where Django's `@cache_page` puts a view's
//! cache (inside every middleware). On a real axum `Router` over a locmem alias.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use cache_core::{Cache, CacheOptions};
use cache_http::{CacheLayer, ConditionalGetLayer};
use cache_locmem::LocMemBackend;
use http::{Request, Response, StatusCode};
use md5::{Digest, Md5};
use tower::ServiceExt;

const PAGE: &str = "the same page every time";

fn pages() -> Cache {
    Cache::new(
        "pages",
        Arc::new(LocMemBackend::builder().build()),
        CacheOptions::default(),
    )
}

/// `/page`, counting its runs, under `layer`.
fn router(runs: &Arc<AtomicUsize>, layer: CacheLayer, outside: bool) -> Router {
    let counted = Arc::clone(runs);
    let handler = move || {
        counted.fetch_add(1, Ordering::SeqCst);
        std::future::ready(PAGE)
    };
    let router = Router::new().route("/page", get(handler).layer(layer));
    if outside {
        router.layer(ConditionalGetLayer::new())
    } else {
        router
    }
}

async fn send(router: &Router, method: &str, if_none_match: Option<&str>) -> Response<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri("/page")
        .header("host", "example.com");
    if let Some(etag) = if_none_match {
        request = request.header("if-none-match", etag);
    }
    router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

fn etag() -> String {
    format!("\"{:x}\"", Md5::digest(PAGE.as_bytes()))
}

#[tokio::test]
async fn a_miss_answered_304_is_not_stored_as_in_django() {
    let runs = Arc::new(AtomicUsize::new(0));
    let router = router(&runs, CacheLayer::middleware(pages(), 60).conditional_get(), false);
    let response = send(&router, "GET", Some(&etag())).await;
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    // Django's UpdateCacheMiddleware patches a 304's headers too.
    assert_eq!(response.headers()["cache-control"], "max-age=60");
    assert!(response.headers().contains_key("expires"));
    // Nothing was stored: the next plain request runs the handler again.
    let response = send(&router, "GET", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_stored_page_keeps_its_etag_and_answers_304_without_the_handler() {
    let runs = Arc::new(AtomicUsize::new(0));
    let router = router(&runs, CacheLayer::middleware(pages(), 60).conditional_get(), false);
    let first = send(&router, "GET", None).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["etag"], etag().as_str());
    let hit = send(&router, "GET", None).await;
    assert_eq!(hit.status(), StatusCode::OK);
    assert_eq!(hit.headers()["etag"], etag().as_str(), "stored with the page");
    let not_modified = send(&router, "GET", Some(&etag())).await;
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
    let other = send(&router, "GET", Some("\"other\"")).await;
    assert_eq!(other.status(), StatusCode::OK);
    // A HEAD uses the GET's page and isn't conditional, as in Django.
    let head = send(&router, "HEAD", Some(&etag())).await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "every answer after the first came from the cache"
    );
}

/// Django's arrangement for one view (`@cache_page` under the site's `ConditionalGetMiddleware`):
/// the view's cache stores the page the conditional step then answers 304, and the stored page
/// has no `ETag` of its own, so each hit hashes its body.
#[tokio::test]
async fn around_a_cache_page_view_the_page_answered_304_is_stored_as_in_django() {
    let runs = Arc::new(AtomicUsize::new(0));
    let cache = pages();
    let router = router(&runs, CacheLayer::cache_page(cache.clone(), 60), true);
    let response = send(&router, "GET", Some(&etag())).await;
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    let response = send(&router, "GET", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the 304's page was stored");
    let inner_only = Router::new().route(
        "/page",
        get(|| std::future::ready(PAGE)).layer(CacheLayer::cache_page(cache, 60)),
    );
    let stored = send(&inner_only, "GET", None).await;
    assert!(!stored.headers().contains_key("etag"), "stored without an ETag");
}

/// `conditional_get = true` in the `[cache_middleware]` section turns it on for the whole site.
#[tokio::test]
async fn the_config_file_turns_it_on() {
    let toml = "[caches.default]\nbackend = \"locmem\"\n[cache_middleware]\nseconds = 60\nconditional_get = true\n";
    let config = cache_core::CachesConfig::from_str(toml, cache_core::ConfigFormat::Toml).unwrap();
    let mut backends = cache_core::Backends::new();
    backends.register(cache_locmem::registration());
    let caches = cache_core::Caches::build(&config, &backends).unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let handler = move || {
        counted.fetch_add(1, Ordering::SeqCst);
        std::future::ready(PAGE)
    };
    let router = Router::new()
        .route("/page", get(handler))
        .layer(CacheLayer::from_config(&config, &caches).unwrap());
    assert_eq!(
        send(&router, "GET", Some(&etag())).await.status(),
        StatusCode::NOT_MODIFIED
    );
    assert_eq!(send(&router, "GET", None).await.status(), StatusCode::OK);
    assert_eq!(runs.load(Ordering::SeqCst), 2, "the 304 was not stored");
}

/// A request the cache can't address (no `Host`) isn't cached, but still gets the conditional
/// step, as Django's middleware runs on every GET.
#[tokio::test]
async fn a_request_the_cache_cant_address_still_gets_conditional_get() {
    let runs = Arc::new(AtomicUsize::new(0));
    let router = router(&runs, CacheLayer::middleware(pages(), 60).conditional_get(), false);
    let request = Request::get("/page")
        .header("if-none-match", etag())
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    let request = Request::get("/page").body(Body::empty()).unwrap();
    let response = router.oneshot(request).await.unwrap();
    assert_eq!(response.headers()["etag"], etag().as_str());
    assert_eq!(runs.load(Ordering::SeqCst), 2, "not cached without a host");
}
