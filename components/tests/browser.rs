//! The example site in headless Chromium, driven through chromedriver (WebDriver over HTTP): the
//! page renders and its component JS runs, a fragment's JS runs once per instance, its CSS
//! variables apply (computed style), its JS/CSS came from the media endpoint, and a reload uses the
//! output cache, and a page whose data-djc script arrives in two parts still runs its calls.
//!
//! Needs `chromium` and `chromium-driver` (Debian), which `scripts/test.sh` installs; without
//! `chromedriver` on the PATH the test fails and says so.

#[path = "../examples/site.rs"]
#[allow(dead_code)]
mod site;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cache_components::Renderer;
use cache_core::{Backends, Caches, CachesConfig};
use futures::StreamExt;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};

/// A one-shot HTTP/1.1 JSON request (WebDriver speaks nothing more), blocking.
fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Value {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut response = vec![0; length];
    reader.read_exact(&mut response).unwrap();
    serde_json::from_slice(&response)
        .unwrap_or_else(|error| panic!("{method} {path}: {error}: {}", String::from_utf8_lossy(&response)))
}

struct Driver {
    child: Child,
    port: u16,
    session: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Closing the session closes the browser; killing chromedriver alone would orphan it.
        if !self.session.is_empty() {
            let (port, path) = (self.port, format!("/session/{}", self.session));
            let _ = std::panic::catch_unwind(|| http(port, "DELETE", &path, None));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start() -> Option<Driver> {
        let binary = ["chromedriver", "/usr/bin/chromedriver"]
            .into_iter()
            .find(|path| Command::new(path).arg("--version").output().is_ok())?;
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut driver = Driver {
            child,
            port,
            session: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver didn't start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut options = json!({
            // The background-networking switches keep Chromium from reaching for Google's hosts,
            // which a closed network refuses (and which can stall its start).
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"
            ]
        });
        if std::path::Path::new("/usr/bin/chromium").exists() {
            options["binary"] = json!("/usr/bin/chromium");
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "goog:chromeOptions": options,
            "goog:loggingPrefs": {"browser": "ALL"}
        }}});
        let session = tokio::task::block_in_place(|| http(port, "POST", "/session", Some(&capabilities)));
        driver.session = session["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {session}"))
            .to_owned();
        Some(driver)
    }

    async fn call(&self, method: &str, what: &str, body: Value) -> Value {
        let path = format!("/session/{}/{what}", self.session);
        let response = tokio::task::block_in_place(|| http(self.port, method, &path, Some(&body)));
        assert!(
            response["value"].get("error").is_none(),
            "{what}: {}",
            response["value"]
        );
        response["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call("POST", "url", json!({ "url": url })).await;
    }

    async fn eval(&self, script: &str) -> Value {
        self.call("POST", "execute/sync", json!({ "script": script, "args": [] }))
            .await
    }

    /// The browser console's messages since the last call (chromedriver's log endpoint).
    fn browser_log(&self) -> Value {
        let path = format!("/session/{}/se/log", self.session);
        tokio::task::block_in_place(|| http(self.port, "POST", &path, Some(&json!({"type": "browser"}))))["value"]
            .clone()
    }

    /// Evaluates `expression` until it is truthy; panics after 10 s, with the page and the
    /// browser's console log.
    async fn wait_for(&self, expression: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let value = self.eval(&format!("return {expression};")).await;
            if !matches!(value, Value::Null | Value::Bool(false)) && value != json!(0) {
                return value;
            }
            if Instant::now() >= deadline {
                let page = self.eval("return document.documentElement.outerHTML;").await;
                panic!(
                    "timed out waiting for {expression}\npage: {page}\nbrowser log: {}",
                    self.browser_log()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The example site's page, sent in three parts with pauses between them: the first ends inside
/// its `data-djc` script, so the browser puts that script in the document before its whole text
/// has arrived (as it can on any slow connection or busy machine); the second ends after the
/// components' JS, with a script noting how many greetings ran by then, while the page is still
/// loading; the third is the rest.
async fn streamed(renderer: Renderer) -> axum::response::Response {
    let page = renderer
        .render::<site::Page>(&cache_components::NoProps {})
        .strategy(cache_components::Strategy::Document)
        .await
        .unwrap()
        .html;
    let inside = page.find("data-djc>").expect("the page has a data-djc script") + "data-djc>".len() + 10;
    let end = page.rfind("</body>").expect("the page has a body");
    let body = page.find("<body>").expect("the page has a body") + "<body>".len();
    // Ahead of it, a data-djc script of the wrong shape, which must not stop the real one.
    let parts = [
        (
            format!(
                "{}<script type=\"application/json\" data-djc>null</script>{}",
                &page[..body],
                &page[body..inside]
            ),
            Duration::ZERO,
        ),
        (
            format!(
                "{}<script>window.greetingsWhileLoading = window.greetings || 0;</script>",
                &page[inside..end]
            ),
            Duration::from_millis(500),
        ),
        (page[end..].to_owned(), Duration::from_millis(1000)),
    ];
    let parts = futures::stream::iter(parts).then(|(part, pause)| async move {
        tokio::time::sleep(pause).await;
        Ok::<_, std::convert::Infallible>(part)
    });
    axum::response::Response::builder()
        .header("content-type", "text/html; charset=utf-8")
        .body(axum::body::Body::from_stream(parts))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_site_works_in_headless_chromium() {
    let Some(driver) = Driver::start().await else {
        panic!("chromedriver not found on the PATH: run scripts/test.sh, which installs chromium and chromium-driver");
    };
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/caches.toml");
    let config = CachesConfig::load(&path).unwrap();
    let mut backends = Backends::new();
    backends.register(cache_locmem::registration());
    let caches = Caches::build(&config, &backends).unwrap();
    let renderer = Renderer::from_config(site::registry().unwrap(), caches, &config).unwrap();
    renderer.store_media().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = site::app(renderer.clone()).route("/streamed", axum::routing::get(move || streamed(renderer.clone())));
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The page renders; each greeting's JS ran once.
    driver.goto(&format!("{base}/")).await;
    assert_eq!(driver.wait_for("window.greetings").await, json!(2));
    assert_eq!(
        driver
            .eval("return document.querySelectorAll('.greeting[data-ran]').length;")
            .await,
        json!(2)
    );
    assert_eq!(
        driver
            .eval("return document.getElementById('status').dataset.misses;")
            .await,
        json!("1")
    );

    // Two fragments: each swatch's JS ran exactly once, with its data; its CSS variables apply.
    driver.eval("loadFragment(); return null;").await;
    driver
        .wait_for("window.swatchRuns && Object.keys(window.swatchRuns).length === 1")
        .await;
    driver.eval("loadFragment(); return null;").await;
    driver
        .wait_for("window.swatchRuns && Object.keys(window.swatchRuns).length === 2")
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let runs = driver.eval("return window.swatchRuns;").await;
    assert!(runs.as_object().unwrap().values().all(|n| n == &json!(1)), "{runs}");
    assert_eq!(
        driver
            .wait_for("document.querySelector('#swatch-1 .msg').textContent")
            .await,
        json!("JS ran for swatch 1")
    );
    assert_eq!(
        driver
            .wait_for("getComputedStyle(document.getElementById('swatch-0')).color === 'rgb(200, 0, 0)' && getComputedStyle(document.getElementById('swatch-0')).color")
            .await,
        json!("rgb(200, 0, 0)")
    );
    assert_eq!(
        driver
            .wait_for("getComputedStyle(document.getElementById('swatch-1')).color === 'rgb(0, 128, 0)' && getComputedStyle(document.getElementById('swatch-1')).color")
            .await,
        json!("rgb(0, 128, 0)")
    );

    // The JS/CSS came from the media endpoint, the class files once each.
    let resources = driver
        .eval("return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname);")
        .await;
    let resources: Vec<String> = serde_json::from_value(resources).unwrap();
    let media: Vec<&String> = resources
        .iter()
        .filter(|path| path.starts_with("/components/cache/Swatch_"))
        .collect();
    let class_js = media
        .iter()
        .filter(|path| path.matches('.').count() == 1 && path.ends_with(".js"))
        .count();
    let class_css = media
        .iter()
        .filter(|path| path.matches('.').count() == 1 && path.ends_with(".css"))
        .count();
    assert_eq!((class_js, class_css), (1, 1), "{resources:?}");
    assert_eq!(
        media.iter().filter(|path| path.matches('.').count() == 2).count(),
        4,
        "two JS and two CSS variable files: {resources:?}"
    );

    // A reload: the slow component comes from the output cache.
    driver.goto(&format!("{base}/")).await;
    assert_eq!(
        driver.wait_for("document.getElementById('status').dataset.hits").await,
        json!("1")
    );
    assert_eq!(driver.wait_for("window.greetings").await, json!(2));

    // A page whose data-djc script arrives in two parts: the calls run once the script is whole,
    // while the page is still loading, once each, and the script isn't reported as malformed. The
    // `null` payload ahead of it is reported, and stops nothing.
    driver.goto(&format!("{base}/streamed")).await;
    assert_eq!(driver.wait_for("window.greetings").await, json!(2));
    assert_eq!(
        driver.eval("return window.greetingsWhileLoading;").await,
        json!(2),
        "the calls waited for the whole page"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(driver.eval("return window.greetings;").await, json!(2));
    let log = driver.browser_log();
    assert!(log.is_array(), "chromedriver's log: {log}");
    assert!(!log.to_string().contains("malformed"), "{log}");
    assert!(
        log.to_string().contains("a data-djc script of the wrong shape"),
        "{log}"
    );
}
