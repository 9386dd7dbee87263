//! Component output caching on locmem: a component whose template loops over 20 items, rendered
//! on a miss, on a hit and with caching off (with small props, and with the 20 items as props);
//! and a page of 100 such components, all hits versus caching off. django-components measures
//! 355 µs uncached and 48 µs on a hit for the same shape (7.4×); the targets here are a hit ≥ 20×
//! faster than a miss and the page ≥ 10× faster on hits.
//!
//! Media (issue 6): a fragment with JS, CSS and JS/CSS variables rendered with and without its
//! dependencies (`Strategy::Fragment`: attributes through lol_html, the media store, the JSON
//! script), and media endpoint requests through the axum router in-process (200 and 304).
//!
//! Template fragments: a page whose `{% call cache(…) %}` block holds five of those components,
//! on a fragment hit, on a miss, and without the block.
//!
//! Run: `cargo bench -p cache-benches --bench components`. Figures are in benches/README.md.

use std::hint::black_box;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use cache_benches::now;
use cache_components::{
    BoxError, Component, ComponentsConfig, Data, MediaKind, NoProps, OutputCache, Registry, Renderer, Strategy, View,
};
use cache_core::{Backends, Caches, CachesConfig, ConfigFormat};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use serde::{Deserialize, Serialize};
use tower::ServiceExt;

/// A list card: 20 items, each a link with a few attributes, as a product or search result list
/// renders. Its props say which list (small, like the ids a cached component is usually given);
/// `template_data` builds the 20 items in memory — a stand-in for the query a real component would
/// make, and far cheaper than any query, so a real miss costs more than the one measured here.
struct Card20;

#[derive(Clone, Serialize, Deserialize)]
struct CardProps {
    category: String,
    page: u32,
}

#[derive(Serialize)]
struct Item {
    id: u32,
    name: String,
    price: f64,
}

impl Component for Card20 {
    const NAME: &'static str = "Card20";
    type Props = CardProps;

    fn view(&self) -> View<Self> {
        View::template(concat!(
            r#"<section class="card" id="{{ component_id }}"><h2>{{ category|title }}, page {{ page }}</h2><ul>"#,
            r#"{% for item in items %}<li class="item{% if loop.index is even %} even{% endif %}">"#,
            r#"<a href="/items/{{ item.id }}">{{ item.name|title }}</a> <span class="price">{{ item.price }}</span>"#,
            r#"</li>{% endfor %}</ul><p>{{ items|length }} items</p></section>"#
        ))
    }

    async fn template_data(&self, props: &CardProps) -> Result<Data, BoxError> {
        let items: Vec<Item> = (0..20)
            .map(|i| Item {
                id: props.page * 100 + i,
                name: format!("{} item {i}", props.category),
                price: f64::from(i) * 1.25,
            })
            .collect();
        let mut data = Data::new();
        data.insert("items".into(), serde_json::to_value(items)?);
        Ok(data)
    }

    fn output_cache(&self) -> OutputCache {
        OutputCache::enabled()
    }
}

/// The same list with its 20 items passed in as props: the key then covers all of them.
struct Listing20;

#[derive(Clone, Serialize, Deserialize)]
struct ListingProps {
    title: String,
    items: Vec<ListingItem>,
}

#[derive(Clone, Serialize, Deserialize)]
struct ListingItem {
    id: u32,
    name: String,
    price: f64,
}

impl Component for Listing20 {
    const NAME: &'static str = "Listing20";
    type Props = ListingProps;

    fn view(&self) -> View<Self> {
        View::template(concat!(
            r#"<section class="card" id="{{ component_id }}"><h2>{{ title|title }}</h2><ul>"#,
            r#"{% for item in items %}<li class="item{% if loop.index is even %} even{% endif %}">"#,
            r#"<a href="/items/{{ item.id }}">{{ item.name|title }}</a> <span class="price">{{ item.price }}</span>"#,
            r#"</li>{% endfor %}</ul><p>{{ items|length }} items</p></section>"#
        ))
    }

    fn output_cache(&self) -> OutputCache {
        OutputCache::enabled()
    }
}

fn listing() -> ListingProps {
    ListingProps {
        title: "shoes".into(),
        items: (0..20)
            .map(|i| ListingItem {
                id: 100 + i,
                name: format!("shoes item {i}"),
                price: f64::from(i) * 1.25,
            })
            .collect(),
    }
}

/// The list of issue 14: its 20 items are its props, so the key covers all of them.
struct List20;

#[derive(Clone, Serialize, Deserialize)]
struct ListProps {
    title: String,
    items: Vec<ListItem>,
}

#[derive(Clone, Serialize, Deserialize)]
struct ListItem {
    name: String,
    price: f64,
}

impl Component for List20 {
    const NAME: &'static str = "List20";
    type Props = ListProps;

    fn view(&self) -> View<Self> {
        View::template(
            r#"<h2>{{ title }}</h2><ul>{% for item in items %}<li>{{ item.name }} — {{ item.price }}</li>{% endfor %}</ul>"#,
        )
    }

    fn output_cache(&self) -> OutputCache {
        OutputCache::enabled()
    }
}

/// The same list under an id and a version it declares as its key (django-components' `Cache.hash`
/// override): a hit hashes 12 bytes instead of the 20 items, which shows what the rest of a hit costs.
struct VersionedList20;

#[derive(Clone, Serialize, Deserialize)]
struct VersionedListProps {
    id: u64,
    version: u32,
    list: ListProps,
}

impl Component for VersionedList20 {
    const NAME: &'static str = "VersionedList20";
    type Props = VersionedListProps;

    fn view(&self) -> View<Self> {
        View::template(
            r#"<h2>{{ list.title }}</h2><ul>{% for item in list.items %}<li>{{ item.name }} — {{ item.price }}</li>{% endfor %}</ul>"#,
        )
    }

    fn output_cache(&self) -> OutputCache {
        OutputCache::enabled().own_key()
    }

    fn cache_key<'a>(&'a self, props: &'a VersionedListProps) -> impl Serialize + 'a {
        (props.id, props.version)
    }
}

fn list_items() -> Vec<ListItem> {
    (0..20)
        .map(|i| ListItem {
            name: format!("item {i}"),
            price: f64::from(i) * 1.25,
        })
        .collect()
}

/// A page of 100 `List20`s, each given the page's 20 items and its own title; not cached itself.
struct ListPage;

impl Component for ListPage {
    const NAME: &'static str = "ListPage";
    type Props = NoProps;

    fn view(&self) -> View<Self> {
        View::template(concat!(
            r#"<main>{% for n in range(100) %}"#,
            r#"{{ component("List20", title="list " ~ n, items=items) }}"#,
            r#"{% endfor %}</main>"#
        ))
    }

    async fn template_data(&self, _props: &NoProps) -> Result<Data, BoxError> {
        let mut data = Data::new();
        data.insert("items".into(), serde_json::to_value(list_items())?);
        Ok(data)
    }
}

/// A page of 100 cards, itself not cached.
struct Page;

impl Component for Page {
    const NAME: &'static str = "Page";
    type Props = NoProps;

    fn view(&self) -> View<Self> {
        View::template(concat!(
            r#"<main>{% for n in range(100) %}"#,
            r#"{{ component("Card20", category="category " ~ n, page=1) }}"#,
            r#"{% endfor %}</main>"#
        ))
    }
}

/// A page of five list cards: as they are (`mode` 0), in a template fragment that always misses
/// (1: timeout 0 stores nothing) or in one that is always there after the first render (2).
struct FragmentPage;

#[derive(Serialize, Deserialize)]
struct FragmentPageProps {
    mode: u8,
}

impl Component for FragmentPage {
    const NAME: &'static str = "FragmentPage";
    type Props = FragmentPageProps;

    fn view(&self) -> View<Self> {
        View::template(concat!(
            r#"{% macro cards() %}{% for n in range(5) %}"#,
            r#"{{ component("Card20", category="category " ~ n, page=1) }}{% endfor %}{% endmacro %}"#,
            r#"<main>{% if mode == 0 %}{{ cards() }}"#,
            r#"{% elif mode == 1 %}{% call cache(0, "uncachable-cards") %}{{ cards() }}{% endcall %}"#,
            r#"{% else %}{% call cache(none, "cards") %}{{ cards() }}{% endcall %}{% endif %}</main>"#
        ))
    }
}

/// A renderer over a private locmem `default` alias large enough for every entry; `cached` is the
/// `[components] output_cache` master switch.
fn renderer(cached: bool) -> Renderer {
    // locmem shares stores by location within a process: one location per renderer.
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let location = format!("components-bench-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let config = CachesConfig::from_str_with_env(
        &format!(
            "[caches.default]\nbackend = \"locmem\"\nlocation = \"{location}\"\noptions = {{ max_entries = 100000 }}\n"
        ),
        ConfigFormat::Toml,
        Vec::<(String, String)>::new(),
    )
    .unwrap();
    let mut backends = Backends::new();
    backends.register(cache_locmem::registration());
    let caches = Caches::build(&config, &backends).unwrap();
    let mut registry = Registry::new();
    registry
        .register(Card20)
        .unwrap()
        .register(Listing20)
        .unwrap()
        .register(Page)
        .unwrap()
        .register(List20)
        .unwrap()
        .register(VersionedList20)
        .unwrap()
        .register(ListPage)
        .unwrap()
        .register(FragmentPage)
        .unwrap();
    let section = ComponentsConfig {
        output_cache: cached,
        ..ComponentsConfig::default()
    };
    Renderer::new(registry, caches, section).unwrap()
}

/// Miss, hit and caching off for one component and its props.
fn miss_hit_uncached<C: Component>(c: &mut Criterion, group: &str, props: C::Props)
where
    C::Props: Clone,
{
    let cached = renderer(true);
    let uncached = renderer(false);
    let cache = cached.caches().get("default").unwrap();

    // Props are built outside the timed part: each render gets its own, as a request would.
    let mut group = c.benchmark_group(group);
    group.bench_function("uncached", |b| {
        b.iter(|| black_box(now(uncached.render::<C>(&props)).unwrap()))
    });
    // A miss: lookup, render, encode, store. The entry is removed before each iteration, untimed.
    group.bench_function("miss", |b| {
        b.iter_batched(
            || now(cache.clear()).unwrap(),
            |()| {
                let output = now(cached.render::<C>(&props)).unwrap();
                assert_eq!(output.stats.stores, 1);
                black_box(output)
            },
            BatchSize::PerIteration,
        )
    });
    now(cached.render::<C>(&props)).unwrap();
    group.bench_function("hit", |b| {
        b.iter(|| {
            let output = now(cached.render::<C>(&props)).unwrap();
            assert_eq!(output.stats.hits, 1);
            black_box(output)
        })
    });
    group.finish();
}

fn loop20(c: &mut Criterion) {
    let props = CardProps {
        category: "shoes".into(),
        page: 1,
    };
    miss_hit_uncached::<Card20>(c, "components/loop20", props);
    miss_hit_uncached::<Listing20>(c, "components/loop20-items-in-props", listing());
}

fn page100(c: &mut Criterion) {
    let cached = renderer(true);
    let uncached = renderer(false);
    now(cached.render::<Page>(&NoProps {})).unwrap();
    let warm = now(cached.render::<Page>(&NoProps {})).unwrap();
    assert_eq!(warm.stats.hits, 100);

    let mut group = c.benchmark_group("components/page100");
    group.sample_size(50);
    group.bench_function("uncached", |b| {
        b.iter(|| black_box(now(uncached.render::<Page>(&NoProps {})).unwrap()))
    });
    group.bench_function("hit", |b| {
        b.iter(|| black_box(now(cached.render::<Page>(&NoProps {})).unwrap()))
    });
    group.finish();
}

/// Issue 14's figures: the list with its items as props, alone and as 100 children of a page,
/// uncached and hitting, as HTML (`ignore`) and with `Strategy::Document` (root attributes and
/// JS/CSS placement). All in one group per shape so the ratios come from one run.
fn issue14(c: &mut Criterion) {
    let cached = renderer(true);
    let uncached = renderer(false);
    let props = ListProps {
        title: "shoes".into(),
        items: list_items(),
    };
    now(cached.render::<List20>(&props)).unwrap();
    assert_eq!(now(cached.render::<List20>(&props)).unwrap().stats.hits, 1);
    // The final HTML, in one call.
    let html = |renderer: &Renderer, props: &ListProps, strategy: Strategy| {
        now(renderer.render::<List20>(props).strategy(strategy)).unwrap().html
    };
    let versioned = VersionedListProps {
        id: 7,
        version: 1,
        list: props.clone(),
    };
    now(cached.render::<VersionedList20>(&versioned)).unwrap();
    let mut group = c.benchmark_group("components/list20");
    for (name, renderer) in [("uncached", &uncached), ("hit", &cached)] {
        for strategy in [Strategy::Ignore, Strategy::Document] {
            group.bench_function(format!("{name}/{strategy}"), |b| {
                b.iter(|| black_box(html(renderer, &props, strategy)))
            });
        }
    }
    group.bench_function("hit-own-key/ignore", |b| {
        b.iter(|| black_box(now(cached.render::<VersionedList20>(&versioned)).unwrap().html))
    });
    // Hits on 256 different lists in turn, four times as many as a thread remembers digests of
    // (`output_cache/key/memo.rs`): nearly every key is hashed, and the table's upkeep is paid.
    let distinct: Vec<ListProps> = (0..256)
        .map(|n| ListProps {
            title: format!("shoes {n}"),
            items: list_items(),
        })
        .collect();
    for props in &distinct {
        now(cached.render::<List20>(props)).unwrap();
    }
    let mut turn = distinct.iter().cycle();
    group.bench_function("hit-256-lists/ignore", |b| {
        b.iter(|| black_box(html(&cached, turn.next().expect("endless"), Strategy::Ignore)))
    });
    group.finish();

    now(cached.render::<ListPage>(&NoProps {})).unwrap();
    assert_eq!(now(cached.render::<ListPage>(&NoProps {})).unwrap().stats.hits, 100);
    let mut group = c.benchmark_group("components/list-page100");
    group.sample_size(30);
    for (name, renderer) in [("uncached", &uncached), ("hit", &cached)] {
        for strategy in [Strategy::Ignore, Strategy::Document] {
            group.bench_function(format!("{name}/{strategy}"), |b| {
                b.iter(|| {
                    let output = now(renderer.render::<ListPage>(&NoProps {}).strategy(strategy)).unwrap();
                    black_box(output.html)
                })
            });
        }
    }
    group.finish();
}

/// A fragment component with JS, CSS and JS/CSS variables.
struct Swatch;

#[derive(Clone, Serialize, Deserialize)]
struct SwatchProps {
    n: u32,
    color: String,
}

impl Component for Swatch {
    const NAME: &'static str = "Swatch";
    type Props = SwatchProps;

    fn view(&self) -> View<Self> {
        View::template(r#"<div class="swatch"><h3>Swatch {{ n }}</h3><p>one</p><p>two</p></div><p>after</p>"#)
    }

    fn js(&self) -> Option<std::borrow::Cow<'static, str>> {
        Some("$onComponent((data, ctx) => { ctx.els[0].title = data.msg; });".into())
    }

    fn css(&self) -> Option<std::borrow::Cow<'static, str>> {
        Some(".swatch { color: var(--color); }".into())
    }

    fn js_data(&self, props: &SwatchProps) -> Data {
        let mut data = Data::new();
        data.insert("msg".into(), format!("swatch {}", props.n).into());
        data
    }

    fn css_data(&self, props: &SwatchProps) -> Data {
        let mut data = Data::new();
        data.insert("color".into(), props.color.clone().into());
        data
    }
}

fn media(c: &mut Criterion) {
    let mut registry = Registry::new();
    registry.register(Swatch).unwrap();
    let renderer = Renderer::new(
        registry,
        cache_components::embedded_caches(),
        ComponentsConfig::default(),
    )
    .unwrap();
    let props = SwatchProps {
        n: 7,
        color: "rgb(0, 128, 0)".into(),
    };
    let output = now(renderer.render::<Swatch>(&props)).unwrap();
    now(renderer.with_dependencies(&output, Strategy::Fragment)).unwrap();

    let mut group = c.benchmark_group("components/media");
    group.bench_function("render", |b| {
        b.iter(|| black_box(now(renderer.render::<Swatch>(&props)).unwrap()))
    });
    group.bench_function("render+fragment", |b| {
        b.iter(|| black_box(now(renderer.render::<Swatch>(&props).strategy(Strategy::Fragment)).unwrap()))
    });
    group.bench_function("fragment-only", |b| {
        b.iter(|| black_box(now(renderer.with_dependencies(&output, Strategy::Fragment)).unwrap()))
    });
    group.finish();

    let class = cache_components::class_id::<Swatch>();
    let css_hash = output
        .variables
        .iter()
        .find(|v| v.kind == MediaKind::Css)
        .unwrap()
        .hash
        .to_string();
    let router = cache_components::media_router(renderer.clone());
    let get = |uri: String, etag: Option<&str>| {
        let mut request = Request::builder().uri(uri);
        if let Some(etag) = etag {
            request = request.header("if-none-match", etag);
        }
        now(router.clone().oneshot(request.body(Body::empty()).unwrap())).unwrap()
    };
    let class_url = cache_components::media_url(&class, MediaKind::Js, None);
    let vars_url = cache_components::media_url(&class, MediaKind::Css, Some(&css_hash));
    let etag = get(vars_url.clone(), None).headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();

    let mut group = c.benchmark_group("components/endpoint");
    group.bench_function("class-js-200", |b| {
        b.iter(|| {
            let response = get(class_url.clone(), None);
            assert_eq!(response.status(), StatusCode::OK);
            black_box(response)
        })
    });
    group.bench_function("vars-css-200", |b| {
        b.iter(|| {
            let response = get(vars_url.clone(), None);
            assert_eq!(response.status(), StatusCode::OK);
            black_box(response)
        })
    });
    group.bench_function("vars-css-304", |b| {
        b.iter(|| {
            let response = get(vars_url.clone(), Some(&etag));
            assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
            black_box(response)
        })
    });
    group.bench_function("malformed-404", |b| {
        b.iter(|| {
            let response = get("/components/cache/..%2fsecret.js".to_owned(), None);
            assert_eq!(response.status(), StatusCode::NOT_FOUND);
            black_box(response)
        })
    });
    group.finish();
}

/// Five list cards (not output-cached) in a template fragment: a hit costs the lookup of one key;
/// a miss renders the cards and looks up and writes the key.
fn template_fragment(c: &mut Criterion) {
    let renderer = renderer(false);
    let render = |mode| now(renderer.render::<FragmentPage>(&FragmentPageProps { mode })).unwrap();
    assert_eq!(render(0).stats.renders, 6);
    assert_eq!(render(1).stats.misses, 1);
    render(2);
    assert_eq!((render(2).stats.hits, render(2).stats.renders), (1, 1));

    let mut group = c.benchmark_group("components/template-fragment");
    for (name, mode) in [("no-fragment", 0), ("miss", 1), ("hit", 2)] {
        group.bench_function(name, |b| b.iter(|| black_box(render(mode))));
    }
    group.finish();
}

criterion_group!(benches, issue14, loop20, page100, media, template_fragment);
criterion_main!(benches);
