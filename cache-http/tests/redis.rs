//! The page cache on a real Redis alias (the testkit starts the server): pages shared between two
//! processes' worth of `Caches`, and pages still served while the server is down or hung.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use cache_core::testkit::capture_warnings;
use cache_core::testkit::servers::RedisServer;
use cache_core::{Backends, Caches, CachesConfig, ConfigFormat};
use cache_http::CacheLayer;
use http::{Request, StatusCode};
use md5::Digest as _;
use tower::ServiceExt;

/// One application's view of the configuration: its own `Caches` (its own connections) over the
/// shared server, the site-wide page cache from `[cache_middleware]`, and a handler counting runs.
fn site(url: &str, runs: &Arc<AtomicUsize>) -> Router {
    let text = format!(
        r#"
        [caches.default]
        backend = "redis"
        location = "{url}"
        options = {{ connect_timeout = 0.3, response_timeout = 0.3 }}

        [cache_middleware]
        seconds = 60
        key_prefix = "shop"
        "#
    );
    let config = CachesConfig::from_str_with_env(&text, ConfigFormat::Toml, Vec::<(String, String)>::new()).unwrap();
    let mut backends = Backends::new();
    backends.register(cache_redis::registration());
    let caches = Caches::build(&config, &backends).unwrap();
    let layer = CacheLayer::from_config(&config, &caches).unwrap();
    let runs = Arc::clone(runs);
    Router::new()
        .route(
            "/page",
            get(move || {
                let run = runs.fetch_add(1, Ordering::SeqCst) + 1;
                async move { format!("page #{run}") }
            }),
        )
        .layer(layer)
}

async fn fetch(router: &Router) -> (StatusCode, String) {
    let request = Request::get("/page")
        .header("host", "shop.example")
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// Django's shared cache: a page one app server stored is served by another without its handler.
#[tokio::test]
async fn a_page_stored_by_one_caches_is_served_by_another() {
    let server = RedisServer::start().await.unwrap();
    let (first_runs, second_runs) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let first = site(&server.url(), &first_runs);
    let second = site(&server.url(), &second_runs);

    assert_eq!(fetch(&first).await, (StatusCode::OK, "page #1".to_owned()));
    assert_eq!(
        fetch(&second).await,
        (StatusCode::OK, "page #1".to_owned()),
        "the first app's page"
    );
    assert_eq!(first_runs.load(Ordering::SeqCst), 1);
    assert_eq!(
        second_runs.load(Ordering::SeqCst),
        0,
        "the second app's handler never ran"
    );

    let mut redis = redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query_async(&mut redis).await.unwrap();
    keys.sort();
    let url = format!("{:x}", md5::Md5::digest(b"http://shop.example/page"));
    assert_eq!(
        keys,
        [
            format!(":1:views.decorators.cache.cache_header.shop.{url}"),
            format!(":1:views.decorators.cache.cache_page.shop.GET.{url}.d41d8cd98f00b204e9800998ecf8427e"),
        ],
        "Django's key shapes, readable by any client of the server"
    );
    server.stop();
}

/// A stopped server: every request is answered by its handler, and the log gets one warning, not
/// one per request.
#[tokio::test]
async fn pages_are_served_while_the_server_is_down() {
    let server = RedisServer::start().await.unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let router = site(&server.url(), &runs);
    assert_eq!(fetch(&router).await.1, "page #1");
    server.stop();

    let (answers, warnings) = capture_warnings(async {
        let mut answers = Vec::new();
        for _ in 0..5 {
            answers.push(fetch(&router).await);
        }
        answers
    })
    .await;
    for (index, answer) in answers.iter().enumerate() {
        assert_eq!(
            answer,
            &(StatusCode::OK, format!("page #{}", index + 2)),
            "served by the handler"
        );
    }
    let page_warnings = warnings.iter().filter(|message| message.contains("page cache")).count();
    assert_eq!(page_warnings, 1, "one warning for the outage: {warnings:?}");
}

/// A hung server (SIGSTOP): each request waits at most the alias' response timeout, then the
/// handler answers; once it resumes, pages are stored and served again.
#[tokio::test]
async fn pages_are_served_while_the_server_hangs() {
    let server = RedisServer::start().await.unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let router = site(&server.url(), &runs);
    let hung = server.hang();
    for run in 1..=3 {
        assert_eq!(fetch(&router).await, (StatusCode::OK, format!("page #{run}")));
    }
    hung.resume();
    // The circuit breaker may still be open for a moment after the server resumes: wait (bounded)
    // until a page is stored and served again.
    let mut served_from_cache = false;
    for _ in 0..100 {
        let before = runs.load(Ordering::SeqCst);
        fetch(&router).await;
        if runs.load(Ordering::SeqCst) == before {
            served_from_cache = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(served_from_cache, "pages are cached again once the server answers");
    server.stop();
}
