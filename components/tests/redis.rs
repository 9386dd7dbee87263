//! Output caching on a real Redis alias (a `redis-server` the testkit starts), including the
//! server stopped mid-test: the page is still served, and caching resumes when it is back.

mod common;

use std::time::{Duration, Instant};

use cache_components::{ComponentError, ComponentsConfig, NoProps, OutputCache, Registry, Renderer, Slots, Ttl};
use cache_core::testkit::capture_warnings;
use cache_core::testkit::servers::RedisServer;
use common::*;

/// A fresh renderer, as another process would have, over the Redis at `url`.
fn redis_renderer(url: &str) -> Renderer {
    let mut registry = Registry::new();
    registry
        .register(Greeting::cached())
        .unwrap()
        .register(Widget)
        .unwrap()
        .register(Badge)
        .unwrap()
        .register(Slow::new(std::time::Duration::from_millis(200)))
        .unwrap()
        .register(Shell(concat!(
            r#"<main>{{ component("Widget", color="red") }}"#,
            r#"{{ component("Greeting", name="a") }}{{ component("Greeting", name="a") }}</main>"#,
        )))
        .unwrap();
    Renderer::new(registry, redis_caches(url), ComponentsConfig::default()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_is_cached_in_redis_and_shared_by_every_renderer() {
    let server = RedisServer::start().await.unwrap();
    let first = redis_renderer(&server.url());
    let miss = first.render::<Shell>(&Default::default()).await.unwrap();
    // The second greeting either waits for the first's render or, when its lookup comes after the
    // first has stored, hits: never a second render, whatever the timing.
    assert_eq!(miss.stats.renders, 4, "shell, widget, badge, one greeting");
    assert_eq!(miss.stats.stores, 2, "the widget and one greeting");
    assert_eq!(miss.stats.misses + miss.stats.hits, 3);
    assert_eq!(miss.stats.coalesced + miss.stats.hits, 1);

    // Another process: its own renderer and connections, the same server.
    let second = redis_renderer(&server.url());
    let hit = second.render::<Shell>(&Default::default()).await.unwrap();
    // Three lookups (the two identical greetings look up concurrently), no component render.
    assert_eq!(
        (hit.stats.hits, hit.stats.renders),
        (3, 1),
        "only the uncached shell renders"
    );
    assert_eq!(
        without_ids(&hit.html, &ids(&hit.html)),
        without_ids(&miss.html, &ids(&miss.html))
    );
    assert_eq!(
        hit.variables, miss.variables,
        "the widget's variables come back with the hit"
    );
    assert_eq!(hit.dependencies.len(), 5);
    for (a, b) in miss.dependencies.iter().zip(&hit.dependencies) {
        assert_eq!(
            (&a.class_id, &a.js_vars, &a.css_vars),
            (&b.class_id, &b.js_vars, &b.css_vars)
        );
        assert_ne!(a.id, b.id);
    }

    // The entry is in Redis under the alias' key (a template call's: keyed by its arguments).
    let key = second
        .template_call_key("Greeting", &serde_json::json!({"name": "a"}), Slots::new())
        .unwrap()
        .unwrap();
    let cache = second.caches().get("default").unwrap();
    assert!(cache.has_key(&key).await.unwrap());
    assert_eq!(cache.make_key(&key, None), format!("site:1:{key}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ttl_in_seconds_expires_in_redis() {
    let server = RedisServer::start().await.unwrap();
    let mut registry = Registry::new();
    registry
        .register(Greeting {
            settings: OutputCache::enabled().ttl(Ttl::Seconds(1.0)),
            data_calls: Counter::default(),
        })
        .unwrap();
    let renderer = Renderer::new(registry, redis_caches(&server.url()), ComponentsConfig::default()).unwrap();
    let props = GreetingProps::default();
    let render = || renderer.render::<Greeting>(&props);
    assert_eq!(render().await.unwrap().stats.stores, 1);
    assert_eq!(render().await.unwrap().stats.hits, 1);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(render().await.unwrap().stats.renders, 1, "expired after its ttl");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_concurrent_misses_on_redis_render_once() {
    let server = RedisServer::start().await.unwrap();
    let renderer = redis_renderer(&server.url());
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let renderer = renderer.clone();
            tokio::spawn(async move { renderer.render::<Slow>(&NoProps {}).await.unwrap() })
        })
        .collect();
    let mut renders = 0;
    for task in tasks {
        renders += task.await.unwrap().stats.renders;
    }
    assert_eq!(renders, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_server_stopped_pages_are_served_uncached_and_caching_resumes_when_it_is_back() {
    let server = RedisServer::start().await.unwrap();
    let renderer = redis_renderer(&server.url());
    let warm = renderer.render::<Shell>(&Default::default()).await.unwrap();
    assert_eq!(warm.stats.stores, 2);
    let errors_before = renderer.caches().get("default").unwrap().metrics().errors();

    server.stop();
    let started = Instant::now();
    let (page, warnings) = capture_warnings(renderer.render::<Shell>(&Default::default()).into_future()).await;
    let took = started.elapsed();
    let page = page.expect("the page is served with the cache down");
    assert_eq!(
        without_ids(&page.html, &ids(&page.html)),
        without_ids(&warm.html, &ids(&warm.html))
    );
    // The widget's lookup and the greetings' (the second greeting finds the first's render in the
    // page when that finished before its own lookup started, else it fails its lookup too).
    let failed = page.stats.cache_errors;
    assert!((2..=3).contains(&failed) && page.stats.hits == 0, "{:?}", page.stats);
    assert_eq!(
        page.stats.renders, 4,
        "shell, widget, badge, greeting: identical greetings still render once"
    );
    // Every failure is counted; the warnings are rate-limited per alias (the first one only).
    let warned = warnings.iter().filter(|w| w.contains("output cache failed")).count();
    assert_eq!(warned, 1, "{warnings:?}");
    let errors_after = renderer.caches().get("default").unwrap().metrics().errors();
    assert_eq!(
        errors_after - errors_before,
        u64::from(failed),
        "the alias' error counter counts every failed lookup"
    );
    // Lookups run concurrently, so the page waits about one response timeout, not one per component.
    assert!(took < Duration::from_secs(2), "took {took:?}");

    server.restart().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page = renderer.render::<Shell>(&Default::default()).await.unwrap();
        if page.stats.stores == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "caching did not resume: {:?}", page.stats);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let hit = renderer.render::<Shell>(&Default::default()).await.unwrap();
    // The second greeting hits too, or finds the first's hit in the page when that came back
    // before its own lookup started: either way no component but the shell renders.
    assert_eq!(hit.stats.renders, 1, "{:?}", hit.stats);
    assert_eq!(hit.stats.hits + hit.stats.coalesced, 3, "{:?}", hit.stats);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_media_store_whose_server_is_stopped_is_a_cache_error_not_a_configuration_error() {
    let server = RedisServer::start().await.unwrap();
    let mut registry = Registry::new();
    registry.register(Widget).unwrap().register(Badge).unwrap();
    let config = ComponentsConfig {
        cache: Some("default".into()),
        ..ComponentsConfig::default()
    };
    let renderer = Renderer::new(registry, redis_caches(&server.url()), config).unwrap();
    renderer.store_media().await.unwrap();

    server.stop();
    let error = renderer.store_media().await.unwrap_err();
    assert!(
        matches!(&error, ComponentError::Cache { alias, .. } if alias == "default"),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("cache alias `default` failed"), "{message}");
    assert!(message.contains("server is up"), "{message}");
}
