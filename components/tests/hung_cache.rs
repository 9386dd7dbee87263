//! Renders with a hung output cache (a SIGSTOPped `redis-server`): the first lookups wait for the
//! alias' response timeout until its circuit breaker opens; from then on a render costs no
//! timeout, every page is still served, and the "cache failed" warning is given once per alias,
//! not once per component per render.

mod common;

use std::time::{Duration, Instant};

use cache_components::{ComponentsConfig, Registry, Renderer};
use cache_core::testkit::capture_warnings;
use cache_core::testkit::servers::RedisServer;
use cache_core::{Backends, Caches, CachesConfig, ConfigFormat};
use common::*;

const RESPONSE_TIMEOUT: Duration = Duration::from_millis(300);
const CIRCUIT_FAILURES: u32 = 3;
/// Slack on top of the configured timeouts for a loaded two-core machine.
const SLACK: Duration = Duration::from_millis(700);
const RENDERS: usize = 30;

fn renderer(url: &str) -> Renderer {
    let config = CachesConfig::from_str_with_env(
        &format!(
            "[caches.default]\nbackend = \"redis\"\nlocation = \"{url}\"\n\
             options = {{ connect_timeout = 0.3, response_timeout = {}, circuit_failures = {CIRCUIT_FAILURES}, \
             circuit_cooldown = 60 }}\n",
            RESPONSE_TIMEOUT.as_secs_f64()
        ),
        ConfigFormat::Toml,
        Vec::<(String, String)>::new(),
    )
    .unwrap();
    let mut backends = Backends::new();
    backends.register(cache_redis::registration());
    let caches = Caches::build(&config, &backends).unwrap();
    let mut registry = Registry::new();
    registry.register(Greeting::cached()).unwrap();
    Renderer::new(registry, caches, ComponentsConfig::default()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_circuit_opens_renders_cost_no_timeout_and_warn_once() {
    let server = RedisServer::start().await.unwrap();
    let renderer = renderer(&server.url());
    renderer.render::<Greeting>(&GreetingProps::to("warm")).await.unwrap();

    let hung = server.hang();
    let (timings, warnings) = capture_warnings(async {
        let mut timings = Vec::with_capacity(RENDERS);
        for i in 0..RENDERS {
            let started = Instant::now();
            let output = renderer
                .render::<Greeting>(&GreetingProps::to(&format!("visitor {i}")))
                .await
                .expect("a page is served with its cache hung");
            timings.push(started.elapsed());
            assert!(output.html.contains(&format!("Hello visitor {i}!")), "{}", output.html);
            assert!(output.stats.cache_errors > 0, "the lookup failed: {:?}", output.stats);
        }
        timings
    })
    .await;
    hung.resume();

    let total: Duration = timings.iter().sum();
    // Each failure before the circuit opens costs at most one response timeout.
    let bound = RESPONSE_TIMEOUT * CIRCUIT_FAILURES + SLACK;
    assert!(
        total <= bound,
        "{RENDERS} renders took {total:?} (bound {bound:?}): {timings:?}"
    );
    // Once open, a render waits for nothing: the later renders each take a fraction of the timeout.
    let later = &timings[CIRCUIT_FAILURES as usize..];
    assert!(
        later.iter().all(|took| *took < RESPONSE_TIMEOUT),
        "renders after the circuit opened: {later:?}"
    );
    let cache_warnings: Vec<_> = warnings
        .iter()
        .filter(|message| message.starts_with("components:"))
        .collect();
    assert_eq!(
        cache_warnings.len(),
        1,
        "one warning for the alias, not one per render: {warnings:#?}"
    );
    assert!(cache_warnings[0].contains("rendered uncached"), "{}", cache_warnings[0]);
    println!(
        "hung output cache: {RENDERS} renders in {total:?}, slowest {:?}, after the circuit opened at most {:?}, \
         {} component warning(s) of {} warnings in all",
        timings.iter().max().unwrap(),
        later.iter().max().unwrap(),
        cache_warnings.len(),
        warnings.len(),
    );
    server.stop();
}
