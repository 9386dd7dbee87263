//! Components and caches shared by the integration tests.

#![allow(dead_code, missing_docs)]

use std::borrow::Cow;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use cache_components::{BoxError, Component, ComponentsConfig, Data, NoProps, OutputCache, Registry, Renderer, View};
use cache_core::{Backends, Caches, CachesConfig, Clock, ConfigFormat};
use serde::{Deserialize, Serialize};

/// A `[caches]` config whose aliases are private locmem stores, plus `extra` TOML appended.
pub(crate) fn locmem_config(aliases: &[&str], extra: &str) -> CachesConfig {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut text = String::new();
    for alias in aliases {
        let location = format!("components-test-{}", NEXT.fetch_add(1, Ordering::Relaxed));
        text.push_str(&format!(
            "[caches.{alias}]\nbackend = \"locmem\"\nlocation = \"{location}\"\noptions = {{ max_entries = 10000 }}\n"
        ));
    }
    text.push_str(extra);
    CachesConfig::from_str_with_env(&text, ConfigFormat::Toml, Vec::<(String, String)>::new()).unwrap()
}

/// Builds the caches of `config` on locmem stores reading `clock`.
pub(crate) fn caches_with_clock(config: &CachesConfig, clock: Clock) -> Caches {
    let mut backends = Backends::new();
    backends.register(cache_locmem::registration_with_clock(clock));
    Caches::build(config, &backends).unwrap()
}

/// A `Caches` whose `default` alias is the Redis server at `url`, with short timeouts so a dead
/// server is noticed quickly.
pub(crate) fn redis_caches(url: &str) -> Caches {
    let config = CachesConfig::from_str_with_env(
        &format!(
            "[caches.default]\nbackend = \"redis\"\nlocation = \"{url}\"\nkey_prefix = \"site\"\n\
             options = {{ connect_timeout = 0.5, response_timeout = 0.5 }}\n"
        ),
        ConfigFormat::Toml,
        Vec::<(String, String)>::new(),
    )
    .unwrap();
    let mut backends = Backends::new();
    backends.register(cache_redis::registration());
    Caches::build(&config, &backends).unwrap()
}

/// A renderer over private locmem `default` (and `extra_aliases`) stores with the default `[components]` section.
pub(crate) fn renderer(registry: Registry) -> Renderer {
    let config = locmem_config(&["default"], "");
    Renderer::new(
        registry,
        caches_with_clock(&config, Clock::system()),
        ComponentsConfig::default(),
    )
    .unwrap()
}

/// Counts how often something ran.
#[derive(Clone, Default)]
pub(crate) struct Counter(Arc<AtomicUsize>);

impl Counter {
    pub(crate) fn hit(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

// ---- Greeting: cached, props with defaults --------------------------------------------------

pub(crate) struct Greeting {
    pub settings: OutputCache,
    pub data_calls: Counter,
}

impl Greeting {
    pub(crate) fn cached() -> Self {
        Greeting {
            settings: OutputCache::enabled(),
            data_calls: Counter::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub(crate) struct GreetingProps {
    pub name: String,
    pub punctuation: String,
}

impl Default for GreetingProps {
    fn default() -> Self {
        GreetingProps {
            name: "world".into(),
            punctuation: "!".into(),
        }
    }
}

impl GreetingProps {
    pub(crate) fn to(name: &str) -> Self {
        GreetingProps {
            name: name.into(),
            ..GreetingProps::default()
        }
    }
}

impl Component for Greeting {
    const NAME: &'static str = "Greeting";
    type Props = GreetingProps;

    fn view(&self) -> View<Self> {
        View::template(r#"<p id="{{ component_id }}">Hello {{ name }}{{ punctuation }}</p>"#)
    }

    fn template_data(&self, _props: &GreetingProps) -> impl Future<Output = Result<Data, BoxError>> + Send {
        self.data_calls.hit();
        std::future::ready(Ok(Data::new()))
    }

    fn output_cache(&self) -> OutputCache {
        self.settings.clone()
    }
}

// ---- Shell: an uncached page whose template is given --------------------------------------

pub(crate) struct Shell(pub &'static str);

impl Component for Shell {
    const NAME: &'static str = "Shell";
    type Props = ShellProps;

    fn view(&self) -> View<Self> {
        View::template(self.0)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct ShellProps {
    pub n: u32,
    pub names: Vec<String>,
}

// ---- Card: cached, with a default and a named slot ----------------------------------------

pub(crate) struct Card {
    pub settings: OutputCache,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct CardProps {
    pub title: String,
}

impl Component for Card {
    const NAME: &'static str = "Card";
    type Props = CardProps;

    fn view(&self) -> View<Self> {
        View::template(concat!(
            r#"<section id="{{ component_id }}"><h2>{{ title }}</h2>"#,
            r#"<header>{% if slots.header %}{{ slots.header }}{% else %}no header{% endif %}</header>"#,
            r#"{{ slots.default }}</section>"#
        ))
    }

    fn output_cache(&self) -> OutputCache {
        self.settings.clone()
    }
}

// ---- Widget: JS/CSS with variables, and a child -------------------------------------------

pub(crate) struct Widget;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct WidgetProps {
    pub color: String,
}

impl Component for Widget {
    const NAME: &'static str = "Widget";
    type Props = WidgetProps;

    fn view(&self) -> View<Self> {
        View::template(r#"<div id="{{ component_id }}">{{ component("Badge", label=color) }}</div>"#)
    }

    fn js(&self) -> Option<std::borrow::Cow<'static, str>> {
        Some("$onComponent((data, ctx) => {})".into())
    }

    fn css(&self) -> Option<std::borrow::Cow<'static, str>> {
        Some(".widget { color: var(--color); }".into())
    }

    fn js_data(&self, props: &WidgetProps) -> Data {
        let mut data = Data::new();
        data.insert("color".into(), props.color.clone().into());
        data
    }

    fn css_data(&self, props: &WidgetProps) -> Data {
        let mut data = Data::new();
        data.insert("color".into(), props.color.clone().into());
        data
    }

    fn output_cache(&self) -> OutputCache {
        OutputCache::enabled()
    }
}

/// A render-function component.
pub(crate) struct Badge;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct BadgeProps {
    pub label: String,
}

impl Component for Badge {
    const NAME: &'static str = "Badge";
    type Props = BadgeProps;

    fn view(&self) -> View<Self> {
        View::<Self>::function(|_, props, html| {
            html.raw("<b data-id=\"")
                .component_id()
                .raw("\">")
                .text(&props.label)
                .raw("</b>");
            Ok(())
        })
    }

    // CSS without variables: the instance records no CSS hash.
    fn css(&self) -> Option<std::borrow::Cow<'static, str>> {
        Some("b { font-weight: bold }".into())
    }

    fn css_data(&self, _props: &BadgeProps) -> Data {
        Data::new()
    }
}

// ---- Slow: cached, with a slow data hook that can be told to fail -------------------------

pub(crate) struct Slow {
    pub renders: Counter,
    pub fail: Arc<AtomicBool>,
    pub delay: Duration,
}

impl Slow {
    pub(crate) fn new(delay: Duration) -> Self {
        Slow {
            renders: Counter::default(),
            fail: Arc::default(),
            delay,
        }
    }
}

impl Component for Slow {
    const NAME: &'static str = "Slow";
    type Props = NoProps;

    fn view(&self) -> View<Self> {
        View::template(r#"<i id="{{ component_id }}">{{ answer }}</i>"#)
    }

    fn template_data(&self, _props: &NoProps) -> impl Future<Output = Result<Data, BoxError>> + Send {
        self.renders.hit();
        let (fail, delay) = (self.fail.load(Ordering::SeqCst), self.delay);
        async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if fail {
                return Err("the database is down".into());
            }
            let mut data = Data::new();
            data.insert("answer".into(), 42.into());
            Ok(data)
        }
    }

    fn output_cache(&self) -> OutputCache {
        OutputCache::enabled()
    }
}

/// The ids of `html`'s elements, in order (every test template prints ids as `id="…"`/`data-id="…"`).
/// An instance attribute whose random id ends in `id` (`data-djc-id-c0a1bid=""`) is not one.
pub(crate) fn ids(html: &str) -> Vec<String> {
    html.match_indices("id=\"")
        .filter(|&(at, _)| at == 0 || matches!(html.as_bytes()[at - 1], b' ' | b'-'))
        .map(|(at, _)| {
            let rest = &html[at + 4..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

/// `html` with every id replaced by `#`, to compare renders whose ids differ (root attributes
/// carry them lowercased).
pub(crate) fn without_ids(html: &str, ids: &[String]) -> String {
    let html = ids
        .iter()
        .fold(html.to_owned(), |html, id| html.replace(id.as_str(), "#"));
    // Every instance's attribute, also of instances that don't print their id.
    let mut out = String::with_capacity(html.len());
    let mut rest = html.as_str();
    while let Some(at) = rest.find("data-djc-id-") {
        let start = at + "data-djc-id-".len();
        out.push_str(&rest[..start]);
        out.push('#');
        let id_len = rest[start..].find('=').unwrap_or(0);
        rest = &rest[start + id_len..];
    }
    out.push_str(rest);
    out
}

/// A button with JS, CSS and JS/CSS variables.
pub(crate) struct Btn;

#[derive(Serialize, Deserialize, Default)]
#[serde(default)]
pub(crate) struct BtnProps {
    pub label: String,
    pub color: String,
}

impl Component for Btn {
    const NAME: &'static str = "Btn";
    type Props = BtnProps;

    fn view(&self) -> View<Self> {
        View::template(r#"<button class="b">{{ label }}</button>"#)
    }

    fn js(&self) -> Option<Cow<'static, str>> {
        Some("$onComponent((data, ctx) => { ctx.els[0].title = data.msg; });".into())
    }

    fn css(&self) -> Option<Cow<'static, str>> {
        Some(".b { color: var(--color); }".into())
    }

    fn js_data(&self, props: &BtnProps) -> Data {
        let mut data = Data::new();
        data.insert("msg".into(), props.label.clone().into());
        data
    }

    fn css_data(&self, props: &BtnProps) -> Data {
        let mut data = Data::new();
        data.insert("color".into(), props.color.clone().into());
        data
    }
}

/// `html` without the `data-djc-id-…`/`data-djc-css-…` attributes root elements carry, to compare
/// markup by its content.
pub(crate) fn without_instance_attributes(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(" data-djc-") {
        out.push_str(&rest[..at]);
        let attribute = &rest[at..];
        let end = attribute.find("=\"\"").map_or(attribute.len(), |end| end + 3);
        rest = &attribute[end..];
    }
    out.push_str(rest);
    out
}

/// `GET path` on the server at `address` over a fresh connection, as `curl` would: the status code and the body.
pub(crate) fn http_get(address: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_owned())
}
