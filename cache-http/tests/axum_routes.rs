//! Per view and per site on a real axum `Router`: the layer fits `MethodRouter::layer` (one route,
//! Django's `cache_page`) and `Router::layer` (every route, Django's `CacheMiddleware`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use cache_core::{Cache, CacheOptions};
use cache_http::CacheLayer;
use cache_locmem::LocMemBackend;
use http::{Request, StatusCode};
use tower::ServiceExt;

fn counting(
    runs: &Arc<AtomicUsize>,
    name: &'static str,
) -> impl Fn() -> std::future::Ready<String> + Clone + Send + 'static {
    let runs = Arc::clone(runs);
    move || {
        let run = runs.fetch_add(1, Ordering::SeqCst) + 1;
        std::future::ready(format!("{name} #{run}"))
    }
}

async fn body_of(router: &Router, path: &str) -> String {
    let request = Request::get(path)
        .header("host", "example.com")
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    String::from_utf8(
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap()
}

fn pages() -> Cache {
    Cache::new(
        "pages",
        Arc::new(LocMemBackend::builder().build()),
        CacheOptions::default(),
    )
}

#[tokio::test]
async fn per_view_caches_only_its_route() {
    let (cached_runs, plain_runs) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let router = Router::new()
        .route(
            "/cached",
            get(counting(&cached_runs, "cached")).layer(CacheLayer::cache_page(pages(), 60)),
        )
        .route("/plain", get(counting(&plain_runs, "plain")));
    assert_eq!(body_of(&router, "/cached").await, "cached #1");
    assert_eq!(body_of(&router, "/cached").await, "cached #1");
    assert_eq!(body_of(&router, "/plain").await, "plain #1");
    assert_eq!(body_of(&router, "/plain").await, "plain #2");
}

#[tokio::test]
async fn per_site_caches_every_route() {
    let (a_runs, b_runs) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let router = Router::new()
        .route("/a", get(counting(&a_runs, "a")))
        .route("/b", get(counting(&b_runs, "b")))
        .layer(CacheLayer::middleware(pages(), 600));
    for _ in 0..2 {
        assert_eq!(body_of(&router, "/a").await, "a #1");
        assert_eq!(body_of(&router, "/b").await, "b #1");
    }
}

/// Inside `Router::nest` axum strips the prefix from the URI the route sees: keyed by that,
/// `/en/about` and `/fr/about` would share one page. Keys use the path the request arrived with
/// (axum's `OriginalUri`), for a per-view layer and for a per-site layer on the nested router.
#[tokio::test]
async fn nested_routers_key_by_the_full_path() {
    let cache = pages();
    let runs = Arc::new(AtomicUsize::new(0));
    let section = |name: &'static str| {
        Router::new().route(
            "/about",
            get(counting(&runs, name)).layer(CacheLayer::cache_page(cache.clone(), 60)),
        )
    };
    let router = Router::new().nest("/en", section("en")).nest("/fr", section("fr"));
    assert_eq!(body_of(&router, "/en/about").await, "en #1");
    assert_eq!(body_of(&router, "/fr/about").await, "fr #2");
    assert_eq!(body_of(&router, "/en/about").await, "en #1", "a hit, of its own page");
    assert_eq!(body_of(&router, "/fr/about").await, "fr #2");

    let site = CacheLayer::middleware(pages(), 60);
    let inner = Router::new().route("/about", get(counting(&runs, "site"))).layer(site);
    let router = Router::new().nest("/en", inner.clone()).nest("/fr", inner);
    assert_eq!(body_of(&router, "/en/about").await, "site #3");
    assert_eq!(body_of(&router, "/fr/about").await, "site #4");
    assert_eq!(body_of(&router, "/en/about").await, "site #3");
}
