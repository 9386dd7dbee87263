//! The example site's `/cached`: the home page through cache-http's per-view page cache (Django's
//! `cache_page`) and conditional GET, over real HTTP. A hit replays the first response byte for
//! byte (same instance ids, same timing line: the handler didn't run), while `/` renders afresh;
//! the page's ETag answers a revalidation with a 304 and no body.

mod common;
#[path = "../examples/site.rs"]
#[allow(dead_code)]
mod site;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use cache_components::Renderer;
use cache_core::{Backends, Caches, CachesConfig};

/// A GET with extra request headers; the status, the response headers (names lower-cased) and the body.
fn request(address: SocketAddr, path: &str, headers: &[(&str, &str)]) -> (u16, Vec<(String, String)>, String) {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n{extra}\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, value)| value.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cached_route_replays_the_first_response_and_revalidates_with_its_etag() {
    let config = CachesConfig::load(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/caches.toml")).unwrap();
    let mut backends = Backends::new();
    backends.register(cache_locmem::registration());
    // locmem shares stores by location within a process: start from an empty one.
    let caches = Caches::build(&config, &backends).unwrap();
    caches.get("default").unwrap().clear().await.unwrap();
    let renderer = Renderer::from_config(site::registry().unwrap(), caches, &config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, site::app(renderer)).await });

    let (first, second, plain_a, plain_b, revalidated) = tokio::task::spawn_blocking(move || {
        let first = request(address, "/cached", &[]);
        let second = request(address, "/cached", &[]);
        let plain_a = request(address, "/", &[]);
        let plain_b = request(address, "/", &[]);
        let etag = header(&first.1, "etag")
            .expect("the conditional layer sets an ETag")
            .to_owned();
        let revalidated = request(address, "/cached", &[("If-None-Match", &etag)]);
        (first, second, plain_a, plain_b, revalidated)
    })
    .await
    .unwrap();

    assert_eq!(first.0, 200, "{}", first.2);
    assert_eq!(second.0, 200);
    assert_eq!(second.2, first.2, "a hit is the stored response, byte for byte");
    assert!(first.2.contains("data-djc-id-"), "{}", first.2);
    // Django's cache_page headers: max-age from the view's timeout, and an Expires.
    assert_eq!(header(&first.1, "cache-control"), Some("max-age=900"));
    assert!(header(&first.1, "expires").is_some());
    // The page without the page cache renders each time: fresh instance ids.
    assert_ne!(plain_a.2, plain_b.2, "`/` is rendered for every request");
    // Revalidation: a 304 without a body.
    assert_eq!(revalidated.0, 304);
    assert!(revalidated.2.is_empty(), "{}", revalidated.2);
}
