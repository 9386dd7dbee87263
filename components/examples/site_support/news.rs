//! The example site's `/news`: a page whose headlines sidebar is a cached template fragment —
//! Django's `{% cache 30 "headlines" lang %}…{% endcache %}`, written
//! `{% call cache(30, "headlines", lang) %}…{% endcall %}` — holding a slow component and one with
//! JS and CSS.

use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use cache_components::{BoxError, Component, Data, Renderer, Strategy, View};
use serde::{Deserialize, Serialize};

/// The news page. Its time is fresh on every request; the sidebar keeps the time it was rendered
/// at for 30 seconds per language, and its headlines (slow) and greeting don't render while it is
/// cached.
pub(crate) struct News;

/// `?lang=…`: the sidebar varies on it.
#[derive(Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct NewsProps {
    lang: String,
}

impl Default for NewsProps {
    fn default() -> Self {
        NewsProps { lang: "en".into() }
    }
}

impl Component for News {
    const NAME: &'static str = "News";
    type Props = NewsProps;

    fn view(&self) -> View<Self> {
        View::template(concat!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>template fragments</title></head><body>",
            "<h1>news ({{ lang }})</h1>",
            "<p id=\"page\" data-rendered=\"{{ now }}\">Page rendered at {{ now }}.</p>",
            "<p id=\"status\"></p>",
            "{% call cache(30, \"headlines\", lang) %}",
            "<aside id=\"headlines\" data-rendered=\"{{ now }}\"><h2>Headlines</h2>",
            "<p>This sidebar was rendered at {{ now }} and is cached for 30 seconds per language.</p>",
            "{{ component(\"Headlines\", lang=lang) }}{{ component(\"Greeting\", name=\"reader\") }}</aside>",
            "{% endcall %}",
            "</body></html>"
        ))
    }

    async fn template_data(&self, _: &NewsProps) -> Result<Data, BoxError> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
        let mut data = Data::new();
        data.insert("now".into(), format!("{:.3}", now.as_secs_f64()).into());
        Ok(data)
    }
}

/// The sidebar's slow part: its headlines take 300 ms to fetch. It has no output cache of its
/// own: the fragment around it is what spares the fetch.
pub(crate) struct Headlines;

/// Which language's headlines.
#[derive(Serialize, Deserialize, Default)]
#[serde(default)]
pub(crate) struct HeadlinesProps {
    lang: String,
}

impl Component for Headlines {
    const NAME: &'static str = "Headlines";
    type Props = HeadlinesProps;

    fn view(&self) -> View<Self> {
        View::template(
            "<ul class=\"headlines\">{% for headline in headlines %}<li>{{ headline }}</li>{% endfor %}</ul>",
        )
    }

    async fn template_data(&self, props: &HeadlinesProps) -> Result<Data, BoxError> {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let headlines: Vec<String> = (1..=3).map(|n| format!("Headline {n} ({})", props.lang)).collect();
        let mut data = Data::new();
        data.insert("headlines".into(), headlines.into());
        Ok(data)
    }
}

/// `GET /news?lang=…`: the page with its JS/CSS placed, and what the fragment cache did.
pub(crate) async fn news(renderer: Renderer, uri: Uri) -> Response {
    let mut props = NewsProps::default();
    for pair in uri.query().unwrap_or_default().split('&') {
        if let Some(("lang", lang)) = pair.split_once('=') {
            props.lang = super::percent_decode(lang);
        }
    }
    let output = match renderer.render::<News>(&props).strategy(Strategy::Document).await {
        Ok(output) => output,
        Err(error) => return (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    };
    let stats = output.stats;
    let status = format!(
        r#"<p id="status" data-hits="{}" data-misses="{}" data-renders="{}">headlines: {}, {} components rendered</p>"#,
        stats.hits,
        stats.misses,
        stats.renders,
        if stats.hits > 0 { "from the cache" } else { "rendered" },
        stats.renders
    );
    Html(output.html.replacen(r#"<p id="status"></p>"#, &status, 1)).into_response()
}
