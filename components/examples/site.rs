//! The example site: `cargo run -p cache-components --example site`, then open http://127.0.0.1:8000.
//!
//! A document page with several components, an output-cached "slow" component whose hit/miss and
//! timing are shown, and a button loading a fragment whose component has JS, CSS and variables;
//! `/news`, a page whose sidebar is a cached template fragment (`{% call cache(…) %}`); `/cached`,
//! the home page through the per-view page cache (cache-http's `cache_page`) with conditional GET.
//! Caches come from `caches.toml` beside this file (embedded locmem); `COMPONENTS_SITE_CONFIG`
//! names another file (say, one with Redis aliases) and `COMPONENTS_SITE_ADDR` another address.
//! `/metrics` serves the caches' and components' counters as Prometheus text; `/health` the caches'
//! health check as JSON (503 when an alias is down).

#[path = "site_support/news.rs"]
pub(crate) mod news;
#[path = "site_support/operations.rs"]
pub(crate) mod operations;

use std::borrow::Cow;
use std::convert::Infallible;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderValue, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use cache_components::{Component, Data, NoProps, OutputCache, Registry, Renderer, Strategy, Ttl, View, media_router};
use cache_core::{Backends, BoxError, Caches, CachesConfig};
use cache_http::{CacheLayer, ConditionalGetLayer};
use serde::{Deserialize, Serialize};

/// The page.
pub(crate) struct Page;

impl Component for Page {
    const NAME: &'static str = "Page";
    type Props = NoProps;

    fn view(&self) -> View<Self> {
        View::template(concat!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>components example</title></head><body>",
            "<h1>components example</h1>",
            "{{ component(\"Greeting\", name=\"Ada\") }}{{ component(\"Greeting\", name=\"Grace\") }}",
            "{{ component(\"Slow\") }}",
            "<p id=\"status\"></p>",
            "<button id=\"load\" onclick=\"loadFragment()\">Load a fragment</button>",
            "<div id=\"target\"></div>",
            "<script>let n = 0; async function loadFragment() {",
            " const colors = ['rgb(200, 0, 0)', 'rgb(0, 128, 0)', 'rgb(0, 0, 200)'];",
            " const response = await fetch('/fragment?n=' + n + '&color=' + encodeURIComponent(colors[n % 3]));",
            " const holder = document.createElement('div'); document.getElementById('target').appendChild(holder);",
            " DjangoComponents.manager.insertFragment(holder, await response.text()); n++; }</script>",
            "</body></html>"
        ))
    }
}

/// A greeting with JS: it counts its instances.
pub(crate) struct Greeting;

/// Whom to greet.
#[derive(Serialize, Deserialize, Default)]
#[serde(default)]
pub(crate) struct GreetingProps {
    name: String,
}

impl Component for Greeting {
    const NAME: &'static str = "Greeting";
    type Props = GreetingProps;

    fn view(&self) -> View<Self> {
        View::template(r#"<p class="greeting">Hello, {{ name }}!</p>"#)
    }

    fn js(&self) -> Option<Cow<'static, str>> {
        Some("$onComponent((data, ctx) => { window.greetings = (window.greetings || 0) + 1; ctx.els[0].dataset.ran = '1'; });".into())
    }

    fn css(&self) -> Option<Cow<'static, str>> {
        Some(".greeting { font-weight: bold; }".into())
    }
}

/// Slow to render (half a second), so its output is cached for 30 seconds.
pub(crate) struct Slow;

impl Component for Slow {
    const NAME: &'static str = "Slow";
    type Props = NoProps;

    fn view(&self) -> View<Self> {
        View::template(r#"<section class="slow">Rendered at {{ rendered }} (unix seconds).</section>"#)
    }

    async fn template_data(&self, _: &NoProps) -> Result<Data, BoxError> {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
        let mut data = Data::new();
        data.insert("rendered".into(), now.as_secs().into());
        Ok(data)
    }

    fn output_cache(&self) -> OutputCache {
        OutputCache::enabled().ttl(Ttl::Seconds(30.0))
    }
}

/// The fragment's component: JS (runs once per instance), CSS and JS/CSS variables.
pub(crate) struct Swatch;

/// Which swatch, in which color.
#[derive(Serialize, Deserialize, Default)]
#[serde(default)]
pub(crate) struct SwatchProps {
    n: u32,
    color: String,
}

impl Component for Swatch {
    const NAME: &'static str = "Swatch";
    type Props = SwatchProps;

    fn view(&self) -> View<Self> {
        View::template(r#"<div class="swatch" id="swatch-{{ n }}">Swatch {{ n }}: <span class="msg"></span></div>"#)
    }

    fn js(&self) -> Option<Cow<'static, str>> {
        Some(
            concat!(
                "$onComponent((data, ctx) => {",
                " window.swatchRuns = window.swatchRuns || {};",
                " window.swatchRuns[ctx.id] = (window.swatchRuns[ctx.id] || 0) + 1;",
                " ctx.els[0].querySelector('.msg').textContent = data.msg; });"
            )
            .into(),
        )
    }

    fn css(&self) -> Option<Cow<'static, str>> {
        Some(".swatch { color: var(--color); }".into())
    }

    fn js_data(&self, props: &SwatchProps) -> Data {
        let mut data = Data::new();
        data.insert("msg".into(), format!("JS ran for swatch {}", props.n).into());
        data
    }

    fn css_data(&self, props: &SwatchProps) -> Data {
        let mut data = Data::new();
        data.insert("color".into(), props.color.clone().into());
        data
    }
}

async fn page(renderer: Renderer) -> Response {
    let started = Instant::now();
    // One call: the render, its root attributes and its JS/CSS placed in the document.
    let output = match renderer.render::<Page>(&NoProps {}).strategy(Strategy::Document).await {
        Ok(output) => output,
        Err(error) => return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    };
    let elapsed = started.elapsed();
    let html = &output.html;
    let status = format!(
        r#"<p id="status" data-hits="{}" data-misses="{}">slow component: {} in {:.1} ms</p>"#,
        output.stats.hits,
        output.stats.misses,
        if output.stats.hits > 0 {
            "cache hit"
        } else {
            "cache miss"
        },
        elapsed.as_secs_f64() * 1000.0
    );
    Html(html.replacen(r#"<p id="status"></p>"#, &status, 1)).into_response()
}

async fn fragment(renderer: Renderer, uri: Uri) -> Response {
    let mut props = SwatchProps {
        n: 0,
        color: "black".into(),
    };
    for pair in uri.query().unwrap_or_default().split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        match name {
            "n" => props.n = value.parse().unwrap_or(0),
            "color" => props.color = value,
            _ => {}
        }
    }
    // The fragment strategy writes the media store, in the same call.
    let result = renderer
        .render::<Swatch>(&props)
        .strategy(Strategy::Fragment)
        .await
        .map(|output| output.html);
    match result {
        Ok(html) => {
            let mut response = Html(html).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

fn percent_decode(text: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| Some(hex(*bytes.get(i + 1)?)? * 16 + hex(*bytes.get(i + 2)?)?))
            .flatten();
        match (escaped, bytes[i]) {
            (Some(byte), _) => {
                out.push(byte as u8);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, byte) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The site's components.
pub(crate) fn registry() -> Result<Registry, cache_components::ComponentError> {
    let mut registry = Registry::new();
    registry
        .register(Page)?
        .register(Greeting)?
        .register(Slow)?
        .register(Swatch)?
        .register(news::News)?
        .register(news::Headlines)?;
    Ok(registry)
}

/// The site's router over `renderer`: `/`, `/cached` (the same page through the per-view page
/// cache), `/fragment`, `/news` and the media endpoint.
pub(crate) fn app(renderer: Renderer) -> Router {
    let for_page = renderer.clone();
    let for_cached_page = renderer.clone();
    let for_fragment = renderer.clone();
    let for_news = renderer.clone();
    // Django's `@cache_page(60 * 15, key_prefix="home")` on one view: the whole response is stored in
    // the `default` alias, and a hit doesn't run the handler (the status line keeps the first
    // render's figures). The conditional-GET layer around it answers a matching `If-None-Match`
    // with a 304, on cached responses too (Django's `ConditionalGetMiddleware`, which sits outside
    // a `@cache_page` view).
    let pages = renderer
        .caches()
        .get("default")
        .expect("the site's caches.toml defines `default`");
    let cached_page: MethodRouter = get(move || page(for_cached_page.clone()))
        .layer::<_, Infallible>(CacheLayer::cache_page(pages, 60 * 15).key_prefix("home"))
        .layer(ConditionalGetLayer::new());
    Router::new()
        .route("/", get(move || page(for_page.clone())))
        .route("/cached", cached_page)
        .route("/fragment", get(move |uri: Uri| fragment(for_fragment.clone(), uri)))
        .route("/news", get(move |uri: Uri| news::news(for_news.clone(), uri)))
        .merge(media_router(renderer))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    // First: every series is registered with the recorder installed when it is first counted.
    let prometheus = operations::install_prometheus();
    let path = std::env::var_os("COMPONENTS_SITE_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/caches.toml"));
    let config = CachesConfig::load(&path)?;
    let mut backends = Backends::new();
    backends.register(cache_locmem::registration());
    backends.register(cache_redis::registration());
    let caches = Caches::build(&config, &backends)?;
    let renderer = Renderer::from_config(registry()?, caches, &config)?;
    renderer.store_media().await?;
    let addr = std::env::var("COMPONENTS_SITE_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!(
        "serving on http://{} (caches from {})",
        listener.local_addr()?,
        path.display()
    );
    let caches = renderer.caches().clone();
    axum::serve(listener, app(renderer).merge(operations::routes(caches, prometheus))).await?;
    Ok(())
}
