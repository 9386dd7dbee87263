//! The page cache (issue 15): a per-view cache hit through an axum router in-process, next to the
//! same handler uncached and next to a bare `Router` returning a static string.
//!
//! The handler renders a 50-row HTML table (about 4 KB) with `format!`: a stand-in for a template
//! render, and far cheaper than the query a real view makes, so a real miss costs more than the
//! one measured here.
//!
//! Run: `cargo bench -p cache-benches --bench page_cache`. Figures are in benches/README.md.

use std::hint::black_box;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use cache_benches::now;
use cache_core::{Cache, CacheOptions};
use cache_http::{CacheLayer, ConditionalGetLayer};
use cache_locmem::LocMemBackend;
use criterion::{Criterion, criterion_group, criterion_main};
use tower::ServiceExt;

async fn table() -> axum::response::Html<String> {
    let mut html = String::from("<table>");
    for row in 0..50 {
        html.push_str(&format!(
            "<tr><td>{row}</td><td>item {row}</td><td>{:.2}</td></tr>",
            f64::from(row) * 1.5
        ));
    }
    html.push_str("</table>");
    axum::response::Html(html)
}

fn request() -> Request<Body> {
    Request::get("/page")
        .header("host", "example.com")
        .body(Body::empty())
        .unwrap()
}

fn serve(router: &Router) -> axum::body::Bytes {
    let response = now(router.clone().oneshot(request())).unwrap();
    now(axum::body::to_bytes(response.into_body(), usize::MAX)).unwrap()
}

fn page_cache(c: &mut Criterion) {
    let cache = Cache::new(
        "pages",
        Arc::new(LocMemBackend::builder().build()),
        CacheOptions::default(),
    );
    let bare = Router::new().route("/page", get(|| async { "hello" }));
    let uncached = Router::new().route("/page", get(table));
    let cached = Router::new().route("/page", get(table).layer(CacheLayer::cache_page(cache.clone(), 600)));
    assert_eq!(serve(&cached), serve(&uncached), "the hit serves the handler's page");
    // Conditional GET with the page cache: inside the cache layer (Django's site-wide order; the
    // page stored with its ETag), and wrapped around it (Django's order for a `@cache_page` view;
    // the ETag computed from the body on every hit). Own key prefixes, so each stores its own page.
    let inside = Router::new().route(
        "/page",
        get(table).layer(
            CacheLayer::cache_page(cache.clone(), 600)
                .key_prefix("inside")
                .conditional_get(),
        ),
    );
    let outside = Router::new()
        .route(
            "/page",
            get(table).layer(CacheLayer::cache_page(cache, 600).key_prefix("outside")),
        )
        .layer(ConditionalGetLayer::new());
    assert_eq!(serve(&inside), serve(&outside));

    let mut group = c.benchmark_group("page_cache");
    group.bench_function("bare-router", |b| b.iter(|| black_box(serve(&bare))));
    group.bench_function("handler-uncached", |b| b.iter(|| black_box(serve(&uncached))));
    group.bench_function("cache_page-hit", |b| b.iter(|| black_box(serve(&cached))));
    group.bench_function("cache_page-hit/conditional_get", |b| {
        b.iter(|| black_box(serve(&inside)))
    });
    group.bench_function("cache_page-hit/ConditionalGetLayer-outside", |b| {
        b.iter(|| black_box(serve(&outside)))
    });
    group.finish();
}

criterion_group!(benches, page_cache);
criterion_main!(benches);
