//! The example site's `/metrics` and `/health`, read over real HTTP as `curl` would: the
//! Prometheus text has the caches' and the components' counters after page renders, and the health check answers 200
//! with every alias healthy, 503 naming the server when an alias' only server is stopped.

mod common;
#[path = "../examples/site.rs"]
#[allow(dead_code)]
mod site;

use std::net::SocketAddr;

use axum::Router;
use cache_components::Renderer;
use cache_core::testkit::servers::MemcachedServer;
use cache_core::{Backends, Caches, CachesConfig, ConfigFormat};
use common::http_get as get;
use serde_json::Value;

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_health_are_served() {
    let prometheus = site::operations::install_prometheus();
    assert!(prometheus.is_some(), "the first recorder of this test binary");
    let config = CachesConfig::load(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/caches.toml")).unwrap();
    let mut backends = Backends::new();
    backends.register(cache_locmem::registration());
    let caches = Caches::build(&config, &backends).unwrap();
    let renderer = Renderer::from_config(site::registry().unwrap(), caches.clone(), &config).unwrap();
    renderer.store_media().await.unwrap();
    let address = serve(site::app(renderer).merge(site::operations::routes(caches, prometheus))).await;

    // Two pages: the slow component misses, then hits.
    let address_for_pages = address;
    tokio::task::spawn_blocking(move || {
        assert_eq!(get(address_for_pages, "/").0, 200);
        assert_eq!(get(address_for_pages, "/").0, 200);
        assert_eq!(get(address_for_pages, cache_components::MANAGER_URL).0, 200);
        assert_eq!(get(address_for_pages, "/components/cache/nothing-here.js").0, 404);
    })
    .await
    .unwrap();

    let (status, metrics) = tokio::task::spawn_blocking(move || get(address, "/metrics"))
        .await
        .unwrap();
    println!("{metrics}");
    assert_eq!(status, 200);
    let series = |name: &str| {
        metrics
            .lines()
            .find(|line| {
                line.starts_with(&format!("{name}{{"))
                    && line.contains("alias=\"default\"")
                    && line.contains("backend=\"locmem\"")
                    && line.contains("operation=\"get\"")
            })
            .unwrap_or_else(|| panic!("no {name} for the default alias' gets in:\n{metrics}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse::<f64>()
            .unwrap()
    };
    assert!(series("cache_hits_total") >= 1.0);
    assert!(series("cache_misses_total") >= 1.0);
    // The components' own counters: the slow component rendered once, then came from the cache.
    let value = |prefix: &str| {
        metrics
            .lines()
            .find(|line| line.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in:\n{metrics}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse::<f64>()
            .unwrap()
    };
    assert!(value("components_renders_total ") >= 3.0);
    assert_eq!(value("components_output_cache_misses_total "), 1.0);
    assert_eq!(value("components_output_cache_hits_total "), 1.0);
    assert_eq!(value("components_output_cache_stores_total "), 1.0);
    assert!(value("components_media_writes_total{kind=\"class\"} ") >= 1.0);
    assert_eq!(value("components_media_responses_total{status=\"200\"} "), 1.0);
    assert_eq!(value("components_media_responses_total{status=\"404\"} "), 1.0);

    let (status, health) = tokio::task::spawn_blocking(move || get(address, "/health"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{health}");
    let health: Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["status"], "healthy");
    assert_eq!(health["aliases"][0]["alias"], "default");
    assert_eq!(health["aliases"][0]["backend"], "locmem");
    assert_eq!(health["aliases"][0]["servers"][0]["up"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_503_naming_the_server_when_an_alias_is_down() {
    let server = MemcachedServer::start().await.unwrap();
    let text = format!(
        "[caches.default]\nbackend = \"locmem\"\n\n[caches.pages]\nbackend = \"memcached\"\nlocation = \"{}\"\n\
         options = {{ timeout = 0.3, connect_timeout = 0.3 }}",
        server.location()
    );
    let config = CachesConfig::from_str_with_env(&text, ConfigFormat::Toml, [] as [(&str, &str); 0]).unwrap();
    let mut backends = Backends::new();
    backends.register(cache_locmem::registration());
    backends.register(cache_memcached::registration());
    let caches = Caches::build(&config, &backends).unwrap();
    let address = serve(site::operations::routes(caches, None)).await;
    let (status, _) = tokio::task::spawn_blocking(move || get(address, "/health"))
        .await
        .unwrap();
    assert_eq!(status, 200);

    server.stop();
    let (status, body) = tokio::task::spawn_blocking(move || get(address, "/health"))
        .await
        .unwrap();
    assert_eq!(status, 503, "{body}");
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "down");
    let pages = health["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|alias| alias["alias"] == "pages")
        .unwrap();
    assert_eq!(pages["status"], "down");
    assert_eq!(pages["servers"][0]["server"], server.location());
    assert_eq!(pages["servers"][0]["up"], false);
    assert!(
        pages["servers"][0]["error"]
            .as_str()
            .unwrap()
            .contains(&server.location()),
        "{body}"
    );
}
