//! Template fragment caching, `{% call cache(timeout, name, vary_on…, using=…) %}`, on real locmem
//! stores (a clock the tests move) and a real `redis-server`: a hit skips the body's components,
//! keys are Django's `make_template_fragment_key`, the timeout and `using=` are Django's, the
//! components inside get fresh ids and their JS/CSS on every hit, and a cache that is down costs
//! the body's render, not the page.

mod common;

use std::time::Duration;

use cache_components::{ComponentError, ComponentsConfig, Registry, Renderer, Strategy, template_fragment_key};
use cache_core::testkit::capture_warnings;
use cache_core::testkit::servers::RedisServer;
use cache_core::{Caches, Clock};
use common::*;

/// A renderer whose page is `Shell(template)`, with `Btn` (JS, CSS and variables, uncached) and
/// the cached `Greeting` registered, over `caches`.
fn renderer_over(caches: Caches, template: &'static str) -> Renderer {
    let mut registry = Registry::new();
    registry
        .register(Shell(template))
        .unwrap()
        .register(Btn)
        .unwrap()
        .register(Greeting::cached())
        .unwrap();
    Renderer::new(registry, caches, ComponentsConfig::default()).unwrap()
}

/// [`renderer_over`] private locmem stores named `aliases`, reading `clock`.
fn renderer(aliases: &[&str], clock: &Clock, template: &'static str) -> Renderer {
    renderer_over(caches_with_clock(&locmem_config(aliases, ""), clock.clone()), template)
}

fn shell(n: u32) -> ShellProps {
    ShellProps { n, names: Vec::new() }
}

const SIDEBAR: &str = concat!(
    r#"<main>{% call cache(60, "sidebar", n) %}<aside>{{ component("Btn", label="b" ~ n, color="red") }}"#,
    r#"</aside>{% endcall %}<p>{{ n }}</p></main>"#
);

#[tokio::test]
async fn a_hit_replaces_the_body_and_its_components_do_not_render() {
    let renderer = renderer(&["default"], &Clock::manual(), SIDEBAR);
    let miss = renderer.render::<Shell>(&shell(1)).await.unwrap();
    assert_eq!(
        (miss.stats.misses, miss.stats.stores, miss.stats.renders),
        (1, 1, 2),
        "{:?}",
        miss.stats
    );

    let hit = renderer.render::<Shell>(&shell(1)).await.unwrap();
    assert_eq!(
        (hit.stats.hits, hit.stats.renders),
        (1, 1),
        "only the shell renders: {:?}",
        hit.stats
    );
    assert_eq!(
        without_ids(&hit.html, &ids(&hit.html)),
        without_ids(&miss.html, &ids(&miss.html))
    );
    assert!(hit.html.contains("<button class=\"b\" data-djc-id-"), "{}", hit.html);
    // The button inside is an instance of the page on every hit: its own fresh id, its variables.
    assert_eq!(hit.dependencies.len(), 2);
    assert_eq!(hit.dependencies[1].class_id, miss.dependencies[1].class_id);
    assert_ne!(hit.dependencies[1].id, miss.dependencies[1].id);
    assert_eq!(hit.variables, miss.variables);
    assert_eq!(hit.variables.len(), 2, "the button's JS and CSS variables");
}

#[tokio::test]
async fn the_fragments_top_level_elements_are_roots_of_the_component_around_it() {
    let renderer = renderer(
        &["default"],
        &Clock::manual(),
        r#"{% call cache(60, "top") %}<nav>a</nav><nav>b</nav>{% endcall %}<p>c</p>"#,
    );
    for _ in 0..2 {
        let page = renderer.render::<Shell>(&shell(0)).await.unwrap();
        let id = page.dependencies[0].id.as_str().to_ascii_lowercase();
        let attribute = format!(" data-djc-id-{id}=\"\"");
        assert_eq!(
            page.html,
            format!("<nav{attribute}>a</nav><nav{attribute}>b</nav><p{attribute}>c</p>")
        );
    }
}

#[tokio::test]
async fn dependencies_of_components_in_a_cached_fragment_are_placed_on_a_hit() {
    let renderer = renderer(
        &["default"],
        &Clock::manual(),
        concat!(
            r#"<html><head></head><body>{% call cache(60, "sidebar") %}"#,
            r#"{{ component("Btn", label="x", color="red") }}{% endcall %}</body></html>"#
        ),
    );
    let props = shell(0);
    let render = || renderer.render::<Shell>(&props).strategy(Strategy::Document);
    let miss = render().await.unwrap();
    let hit = render().await.unwrap();
    assert_eq!(hit.stats.hits, 1);
    for page in [&miss, &hit] {
        assert!(
            page.html.contains(".b { color: var(--color); }"),
            "class CSS: {}",
            page.html
        );
        assert!(page.html.contains("--color: red;"), "CSS variables: {}", page.html);
        assert!(
            page.html.contains("ctx.els[0].title = data.msg"),
            "class JS: {}",
            page.html
        );
    }
}

#[tokio::test]
async fn vary_on_values_make_the_key_and_keys_are_djangos() {
    let clock = Clock::manual();
    let renderer = renderer(&["default"], &clock, SIDEBAR);
    assert_eq!(renderer.render::<Shell>(&shell(1)).await.unwrap().stats.misses, 1);
    assert_eq!(
        renderer.render::<Shell>(&shell(2)).await.unwrap().stats.misses,
        1,
        "another n, another entry"
    );
    assert_eq!(renderer.render::<Shell>(&shell(1)).await.unwrap().stats.hits, 1);
    let cache = renderer.caches().get("default").unwrap();
    // python3: make_template_fragment_key("sidebar", [1]) from Django 5.2's django.core.cache.utils
    // (md5 of b"1:"), computed with hashlib.
    let django = "template.cache.sidebar.3afcdbfeb6ecfbdd0ba628696e3cc163";
    assert_eq!(template_fragment_key("sidebar", &["1"]), django);
    assert!(cache.has_key(django).await.unwrap());
    assert!(cache.has_key(&template_fragment_key("sidebar", &["2"])).await.unwrap());
}

#[tokio::test]
async fn none_true_and_floats_are_keyed_as_python_prints_them() {
    let renderer = renderer(
        &["default"],
        &Clock::manual(),
        r#"{% call cache(60, "menu", none, true, 1.5) %}m{% endcall %}"#,
    );
    renderer.render::<Shell>(&shell(0)).await.unwrap();
    let cache = renderer.caches().get("default").unwrap();
    // python3: make_template_fragment_key("menu", [None, True, 1.5])
    assert!(
        cache
            .has_key("template.cache.menu.d2bdb12338f0e6c3b8d5832e3c704289")
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn values_that_share_a_key_in_django_do_not_here() {
    // Django hashes both as "a::b:" and would serve the first fragment for the second.
    let renderer = renderer(
        &["default"],
        &Clock::manual(),
        r#"{% call cache(60, "pair", names[0], names[1]) %}{{ names | join("|") }}{% endcall %}"#,
    );
    let render = |a: &str, b: &str| {
        let props = ShellProps {
            n: 0,
            names: vec![a.into(), b.into()],
        };
        let renderer = renderer.clone();
        async move { renderer.render::<Shell>(&props).await.unwrap() }
    };
    assert_eq!(render("a:", "b").await.html, "a:|b");
    let second = render("a", ":b").await;
    assert_eq!((second.html.as_str(), second.stats.misses), ("a|:b", 1));
}

#[tokio::test]
async fn the_timeout_is_djangos() {
    let clock = Clock::manual();
    let caches = caches_with_clock(&locmem_config(&["default"], ""), clock.clone());
    let hits = |template: &'static str| {
        let renderer = renderer_over(caches.clone(), template);
        let clock = clock.clone();
        async move {
            let mut hits = Vec::new();
            for wait in [0, 59, 2, 86_400 * 3650] {
                clock.advance(Duration::from_secs(wait));
                hits.push(renderer.render::<Shell>(&shell(0)).await.unwrap().stats.hits);
            }
            hits
        }
    };
    // Seconds: still there at 59 s, gone at 61 s.
    assert_eq!(hits(r#"{% call cache(60, "a") %}a{% endcall %}"#).await, [0, 1, 0, 0]);
    // A string of an integer, as Django's int() reads it.
    assert_eq!(hits(r#"{% call cache("60", "b") %}b{% endcall %}"#).await, [0, 1, 0, 0]);
    // None: forever.
    assert_eq!(hits(r#"{% call cache(none, "c") %}c{% endcall %}"#).await, [0, 1, 1, 1]);
    // Zero or less: rendered every time, nothing stored (Django's set with timeout 0).
    assert_eq!(hits(r#"{% call cache(0, "d") %}d{% endcall %}"#).await, [0, 0, 0, 0]);
    assert_eq!(hits(r#"{% call cache(-1, "e") %}e{% endcall %}"#).await, [0, 0, 0, 0]);
    let zero = renderer_over(caches.clone(), r#"{% call cache(0, "f") %}f{% endcall %}"#);
    let stats = zero.render::<Shell>(&shell(0)).await.unwrap().stats;
    assert_eq!((stats.misses, stats.stores), (1, 0), "nothing stored: {stats:?}");
}

#[tokio::test]
async fn using_picks_the_alias_and_template_fragments_is_the_default_when_configured() {
    let clock = Clock::manual();
    let renderer = renderer(
        &["default", "fragments"],
        &clock,
        r#"{% call cache(60, "a", using="fragments") %}a{% endcall %}{% call cache(60, "b") %}b{% endcall %}"#,
    );
    renderer.render::<Shell>(&shell(0)).await.unwrap();
    let (default, fragments) = (
        renderer.caches().get("default").unwrap(),
        renderer.caches().get("fragments").unwrap(),
    );
    let (a, b) = (
        template_fragment_key("a", &[] as &[&str]),
        template_fragment_key("b", &[] as &[&str]),
    );
    assert!(fragments.has_key(&a).await.unwrap() && !default.has_key(&a).await.unwrap());
    assert!(
        default.has_key(&b).await.unwrap(),
        "no template_fragments alias: default"
    );

    // With a `template_fragments` alias, fragments that don't say `using=` go there, as in Django.
    let renderer = renderer_over(
        caches_with_clock(&locmem_config(&["default", "template_fragments"], ""), clock),
        r#"{% call cache(60, "b") %}b{% endcall %}"#,
    );
    renderer.render::<Shell>(&shell(0)).await.unwrap();
    assert!(
        renderer
            .caches()
            .get("template_fragments")
            .unwrap()
            .has_key(&b)
            .await
            .unwrap()
    );
    assert!(!renderer.caches().get("default").unwrap().has_key(&b).await.unwrap());
}

/// Each mistake fails the render with a message naming what to fix, as Django's tag raises
/// `TemplateSyntaxError`.
#[tokio::test]
async fn mistakes_are_errors_that_say_what_to_write() {
    let cases: &[(&'static str, &str)] = &[
        (
            r#"{% call cache(60, "a", using="nope") %}a{% endcall %}"#,
            "add `[caches.nope]` to the configuration",
        ),
        (
            r#"{% call cache(60, "a", using="nope") %}a{% endcall %}"#,
            "configured aliases are: default",
        ),
        (
            r#"{% call cache(60, "a", using=missing) %}a{% endcall %}"#,
            "`using` must name a cache alias, e.g. using=\"fragments\", got an undefined variable",
        ),
        (
            r#"{% call cache(60, "a", using=none) %}a{% endcall %}"#,
            "`using` must name a cache alias",
        ),
        (
            r#"{% call cache("3.5", "a") %}a{% endcall %}"#,
            "non-integer timeout value",
        ),
        (
            r#"{% call cache([1], "a") %}a{% endcall %}"#,
            "non-integer timeout value",
        ),
        (
            r#"{% call cache(missing, "a") %}a{% endcall %}"#,
            "the timeout is an undefined variable",
        ),
        (r#"{% call cache(60) %}a{% endcall %}"#, "at least a timeout and a name"),
        (
            r#"{% call cache(60, 5) %}a{% endcall %}"#,
            "the fragment name must be a string",
        ),
        (
            r#"{% call cache(60, "a", timeout=3) %}a{% endcall %}"#,
            "no argument `timeout=`",
        ),
        (r#"{{ cache(60, "a") }}"#, "cache() wraps what it caches"),
    ];
    for (template, expected) in cases {
        let renderer = renderer(&["default"], &Clock::manual(), template);
        let error = renderer.render::<Shell>(&shell(0)).await.unwrap_err();
        assert!(matches!(error, ComponentError::Template { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains(expected), "{template}: {message}");
        assert!(message.contains("component `Shell`"), "{message}");
    }
}

#[tokio::test]
async fn a_body_printing_the_surrounding_components_id_is_shown_but_not_stored() {
    let renderer = renderer(
        &["default"],
        &Clock::manual(),
        r#"{% call cache(60, "mine") %}<b id="{{ component_id }}"></b>{% endcall %}"#,
    );
    for _ in 0..2 {
        let page = renderer.render::<Shell>(&shell(0)).await.unwrap();
        assert_eq!((page.stats.misses, page.stats.stores), (1, 0), "{:?}", page.stats);
        assert_eq!(ids(&page.html)[0], page.dependencies[0].id.as_str());
    }
}

#[tokio::test]
async fn fragments_nest_in_fragments() {
    let renderer = renderer(
        &["default"],
        &Clock::manual(),
        concat!(
            r#"{% call cache(60, "outer") %}<div>{% call cache(60, "inner", n) %}"#,
            r#"{{ component("Greeting", name="in") }}{% endcall %}"#,
            // The same key inside itself: each renders and stores, as in Django, and nothing waits.
            r#"{% call cache(60, "outer") %}o{% endcall %}</div>{% endcall %}"#,
        ),
    );
    let miss = renderer.render::<Shell>(&shell(3)).await.unwrap();
    assert!(
        miss.html.contains("Hello in!") && miss.html.ends_with("o</div>"),
        "{}",
        miss.html
    );
    let hit = renderer.render::<Shell>(&shell(3)).await.unwrap();
    assert_eq!((hit.stats.hits, hit.stats.renders), (1, 1), "{:?}", hit.stats);
    assert_eq!(
        without_ids(&hit.html, &ids(&hit.html)),
        without_ids(&miss.html, &ids(&miss.html))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_a_fragment_is_shared_and_a_stopped_server_costs_the_body_not_the_page() {
    let server = RedisServer::start().await.unwrap();
    let first = renderer_over(redis_caches(&server.url()), SIDEBAR);
    let miss = first.render::<Shell>(&shell(7)).await.unwrap();
    assert_eq!(miss.stats.stores, 1);
    // Another process: its own renderer and connections, the same server.
    let second = renderer_over(redis_caches(&server.url()), SIDEBAR);
    let hit = second.render::<Shell>(&shell(7)).await.unwrap();
    assert_eq!((hit.stats.hits, hit.stats.renders), (1, 1), "{:?}", hit.stats);
    let cache = second.caches().get("default").unwrap();
    assert!(cache.has_key(&template_fragment_key("sidebar", &["7"])).await.unwrap());

    server.stop();
    let (page, warnings) = capture_warnings(async { second.render::<Shell>(&shell(7)).await }).await;
    let page = page.expect("the page is served with the cache down");
    assert_eq!(
        without_ids(&page.html, &ids(&page.html)),
        without_ids(&miss.html, &ids(&miss.html))
    );
    assert_eq!(
        (page.stats.cache_errors, page.stats.renders, page.stats.stores),
        (1, 2, 0)
    );
    let warned: Vec<&String> = warnings
        .iter()
        .filter(|w| w.contains("template fragment cache failed"))
        .collect();
    assert_eq!(warned.len(), 1, "{warnings:?}");
}

/// A fragment in the slot of a component that caches with its slots: the slot's key holds the
/// fragment's alias, key and body, and the fragment resolves where the component prints the slot.
#[tokio::test]
async fn a_fragment_in_a_slot_resolves_inside_the_component_and_keys_it() {
    let mut registry = Registry::new();
    registry
        .register(Shell(concat!(
            r#"{% call component("Card", title="t") %}{% call cache(60, "in-slot", n) %}"#,
            r#"{{ component("Btn", label="s", color="blue") }}{% endcall %}{% endcall %}"#
        )))
        .unwrap()
        .register(Btn)
        .unwrap()
        .register(Card {
            settings: cache_components::OutputCache::enabled().include_slots(true),
        })
        .unwrap();
    let caches = caches_with_clock(&locmem_config(&["default"], ""), Clock::manual());
    let renderer = Renderer::new(registry, caches, ComponentsConfig::default()).unwrap();
    let miss = renderer.render::<Shell>(&shell(1)).await.unwrap();
    assert!(miss.html.contains("<button class=\"b\""), "{}", miss.html);
    assert_eq!(
        (miss.stats.misses, miss.stats.stores),
        (2, 2),
        "the card and the fragment: {:?}",
        miss.stats
    );
    let hit = renderer.render::<Shell>(&shell(1)).await.unwrap();
    assert_eq!(
        (hit.stats.hits, hit.stats.renders),
        (1, 1),
        "the card hits: {:?}",
        hit.stats
    );
    assert_eq!(hit.dependencies.len(), 3, "shell, card, button");
    // Another vary_on value is another slot, so another card.
    let other = renderer.render::<Shell>(&shell(2)).await.unwrap();
    assert_eq!(other.stats.misses, 2, "{:?}", other.stats);
}

/// Django passes the tag's timeout to the alias' `set`: on Redis, the entry expires with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_the_timeout_expires_the_fragment() {
    let server = RedisServer::start().await.unwrap();
    let renderer = renderer_over(
        redis_caches(&server.url()),
        r#"{% call cache(1, "brief") %}{{ component("Btn", label="x") }}{% endcall %}"#,
    );
    let render = || async { renderer.render::<Shell>(&shell(0)).await.unwrap().stats };
    assert_eq!(render().await.stores, 1);
    assert_eq!(render().await.hits, 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let expired = render().await;
    assert_eq!(
        (expired.misses, expired.renders),
        (1, 2),
        "expired after 1 s: {expired:?}"
    );
}
