//! Output caching on locmem: hits with fresh ids, dependencies and variables on hits, errors never
//! cached, ttls, slots, single-flight, configuration.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use cache_components::{
    ComponentError, ComponentsConfig, MediaKind, NoProps, OutputCache, Registry, Renderer, Slots, Ttl, class_id,
    embedded_caches,
};
use cache_core::{CachesConfig, Clock, ConfigFormat};
use common::*;

#[tokio::test]
async fn a_hit_is_the_same_html_with_fresh_ids_and_runs_no_component_code() {
    let greeting = Greeting::cached();
    let data_calls = greeting.data_calls.clone();
    let mut registry = Registry::new();
    registry.register(greeting).unwrap();
    let renderer = renderer(registry);

    let miss = renderer.render::<Greeting>(&GreetingProps::to("Ada")).await.unwrap();
    assert_eq!(
        (
            miss.stats.misses,
            miss.stats.renders,
            miss.stats.stores,
            miss.stats.hits
        ),
        (1, 1, 1, 0)
    );
    let hit = renderer.render::<Greeting>(&GreetingProps::to("Ada")).await.unwrap();
    assert_eq!((hit.stats.hits, hit.stats.renders, hit.stats.misses), (1, 0, 0));
    assert_eq!(data_calls.get(), 1, "template_data is not called on a hit");

    let (miss_ids, hit_ids) = (ids(&miss.html), ids(&hit.html));
    assert_eq!(miss_ids.len(), 1);
    assert_ne!(miss_ids, hit_ids, "a hit gets a fresh instance id");
    assert_eq!(
        without_ids(&miss.html, &miss_ids),
        r##"<p id="#" data-djc-id-#="">Hello Ada!</p>"##
    );
    assert_eq!(without_ids(&hit.html, &hit_ids), without_ids(&miss.html, &miss_ids));
    assert_eq!(hit.dependencies[0].id.as_str(), hit_ids[0]);

    // The entry is where the key says, through the alias' own key function.
    let key = renderer
        .output_key::<Greeting>(&GreetingProps::to("Ada"), Slots::new())
        .unwrap()
        .unwrap();
    let cache = renderer.caches().get("default").unwrap();
    assert!(cache.has_key(&key).await.unwrap());
    assert_eq!(cache.make_key(&key, None), format!(":1:{key}"));
    let metrics = cache.metrics();
    assert_eq!((metrics.sets(), metrics.errors()), (1, 0));
}

#[tokio::test]
async fn the_same_cached_component_twice_on_a_page_gets_two_ids_and_renders_once() {
    let greeting = Greeting::cached();
    let data_calls = greeting.data_calls.clone();
    let mut registry = Registry::new();
    registry
        .register(greeting)
        .unwrap()
        .register(Shell(
            r#"<main>{% for _ in range(5) %}{{ component("Greeting", name="Bo") }}{% endfor %}</main>"#,
        ))
        .unwrap();
    let renderer = renderer(registry);

    for round in 0..2 {
        let page = renderer.render::<Shell>(&Default::default()).await.unwrap();
        let page_ids = ids(&page.html);
        assert_eq!(page_ids.len(), 5, "{}", page.html);
        let mut distinct = page_ids.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 5, "every instance has its own id: {page_ids:?}");
        assert_eq!(page.dependencies.len(), 6, "the shell and five greetings");
        assert_eq!(data_calls.get(), 1, "one render in round {round}");
        if round == 1 {
            assert_eq!((page.stats.hits, page.stats.coalesced, page.stats.misses), (1, 4, 0));
        }
    }
}

#[tokio::test]
async fn a_top_level_hit_still_reports_its_dependencies_and_registers_its_variables() {
    let mut registry = Registry::new();
    registry.register(Widget).unwrap().register(Badge).unwrap();
    let renderer = renderer(registry);
    let props = || WidgetProps { color: "teal".into() };

    let miss = renderer.render::<Widget>(&props()).await.unwrap();
    let hit = renderer.render::<Widget>(&props()).await.unwrap();
    assert_eq!(hit.stats.hits, 1);
    for output in [&miss, &hit] {
        assert_eq!(output.classes(), vec![&*class_id::<Widget>(), &*class_id::<Badge>()]);
        let widget = &output.dependencies[0];
        let badge = &output.dependencies[1];
        assert!(widget.js_vars.is_some() && widget.css_vars.is_some());
        assert_eq!((badge.js_vars.clone(), badge.css_vars.clone()), (None, None));
        assert_eq!(output.variables.len(), 2);
        for variables in &output.variables {
            assert_eq!(&*variables.json, r#"{"color":"teal"}"#);
            assert_eq!(variables.hash.len(), 16, "64 bits");
            let hash = match variables.kind {
                MediaKind::Js => &widget.js_vars,
                MediaKind::Css => &widget.css_vars,
            };
            assert_eq!(Some(&variables.hash), hash.as_ref());
        }
    }
    assert_eq!(miss.variables, hit.variables, "a hit registers the same payloads again");
    assert_ne!(miss.dependencies[0].id, hit.dependencies[0].id);
    assert_ne!(miss.dependencies[1].id, hit.dependencies[1].id);
    // The ids in the records are the ones in the HTML.
    assert_eq!(
        ids(&hit.html),
        vec![hit.dependencies[0].id.to_string(), hit.dependencies[1].id.to_string()]
    );
}

/// A top-level hit is stamped straight from the stored bytes, without the page a miss (or a
/// nested hit) goes through. With ids from a fixed sequence all three must give the same page:
/// ids where the templates printed them, instance and CSS-variables attributes on the same root
/// elements, the same dependencies and variables.
#[tokio::test]
async fn a_top_level_hit_read_in_place_is_the_page_a_miss_and_a_nested_hit_make() {
    let mut registry = Registry::new();
    registry
        .register(Widget)
        .unwrap()
        .register(Badge)
        .unwrap()
        .register(Shell(r#"<main>{{ component("Widget", color="teal") }}</main>"#))
        .unwrap();
    let renderer = renderer(registry).with_id_seed(0);
    let props = WidgetProps { color: "teal".into() };

    let miss = renderer.render::<Widget>(&props).await.unwrap();
    let hit = renderer.render::<Widget>(&props).await.unwrap();
    // A template's call is keyed by its arguments, not the typed props: its own entry.
    renderer.render::<Shell>(&ShellProps::default()).await.unwrap();
    let nested = renderer.render::<Shell>(&ShellProps::default()).await.unwrap();
    assert_eq!((miss.stats.misses, miss.stats.hits), (1, 0));
    assert_eq!((hit.stats.hits, hit.stats.renders, hit.stats.misses), (1, 0, 0));
    assert_eq!(
        (nested.stats.hits, nested.stats.renders),
        (1, 1),
        "the shell renders, the widget hits"
    );
    let widget = &hit.dependencies[0];
    let css = widget.css_vars.as_deref().unwrap();
    assert_eq!(
        hit.html,
        format!(
            r#"<div id="c000000" data-djc-id-c000000="" data-djc-css-{css}=""><b data-id="c000001" data-djc-id-c000001="">teal</b></div>"#
        )
    );
    assert_eq!(miss.html, hit.html);
    assert_eq!(miss.dependencies, hit.dependencies);
    assert_eq!(miss.variables, hit.variables);
    // The shell is instance 0: the same HTML inside its `<main>`, the ids one further on.
    let shifted = hit.html.replace("c000001", "c000002").replace("c000000", "c000001");
    assert_eq!(nested.html, format!(r#"<main data-djc-id-c000000="">{shifted}</main>"#));
    assert_eq!(nested.dependencies[1..].len(), hit.dependencies.len());
    assert_eq!(nested.variables, hit.variables);
}

#[tokio::test]
async fn errors_are_never_cached() {
    let slow = Slow::new(Duration::ZERO);
    let (fail, renders) = (Arc::clone(&slow.fail), slow.renders.clone());
    let mut registry = Registry::new();
    registry
        .register(slow)
        .unwrap()
        .register(Shell(r#"<main>{{ component("Slow") }}</main>"#))
        .unwrap();
    let renderer = renderer(registry);
    let key = renderer.output_key::<Slow>(&NoProps {}, Slots::new()).unwrap().unwrap();
    let cache = renderer.caches().get("default").unwrap();

    fail.store(true, Ordering::SeqCst);
    for _ in 0..2 {
        let error = renderer.render::<Slow>(&NoProps {}).await.unwrap_err();
        assert!(matches!(error, ComponentError::Render { .. }), "{error:?}");
        assert!(error.to_string().contains("the database is down"));
        // A failing child fails its page too, and nothing of it is stored.
        let error = renderer.render::<Shell>(&Default::default()).await.unwrap_err();
        assert!(error.to_string().contains("Slow"), "{error}");
        assert!(!cache.has_key(&key).await.unwrap());
        let template_key = renderer.template_call_key("Slow", &serde_json::json!({}), Slots::new());
        assert!(!cache.has_key(&template_key.unwrap().unwrap()).await.unwrap());
    }
    assert_eq!(renders.get(), 4, "every failed render ran again");

    fail.store(false, Ordering::SeqCst);
    let ok = renderer.render::<Shell>(&Default::default()).await.unwrap();
    assert!(ok.html.contains(">42</i>"), "{}", ok.html);
    // The template's call is keyed by its (empty) arguments.
    let template_key = renderer
        .template_call_key("Slow", &serde_json::json!({}), Slots::new())
        .unwrap()
        .unwrap();
    assert!(cache.has_key(&template_key).await.unwrap());
}

#[tokio::test]
async fn each_ttl_does_what_its_name_says() {
    let clock = Clock::manual();
    let config = locmem_config(
        &["default"],
        // The alias default is 100 s.
        "",
    );
    let mut config = config;
    config.aliases.get_mut("default").unwrap().timeout = cache_core::Timeout::Seconds(100.0);
    let caches = caches_with_clock(&config, clock.clone());
    let render_with = |ttl: Ttl| {
        let greeting = Greeting {
            settings: OutputCache::enabled().ttl(ttl),
            data_calls: Counter::default(),
        };
        let calls = greeting.data_calls.clone();
        let mut registry = Registry::new();
        registry.register(greeting).unwrap();
        let renderer = Renderer::new(registry, caches.clone(), ComponentsConfig::default()).unwrap();
        (renderer, calls)
    };
    async fn renders_after(renderer: &Renderer, clock: &Clock, wait: Duration, name: &str) -> u32 {
        clock.advance(wait);
        renderer
            .render::<Greeting>(&GreetingProps::to(name))
            .await
            .unwrap()
            .stats
            .renders
    }

    // AliasDefault: the alias' 100 s.
    let (renderer, _) = render_with(Ttl::AliasDefault);
    assert_eq!(renders_after(&renderer, &clock, Duration::ZERO, "alias").await, 1);
    assert_eq!(
        renders_after(&renderer, &clock, Duration::from_secs(99), "alias").await,
        0
    );
    assert_eq!(
        renders_after(&renderer, &clock, Duration::from_secs(2), "alias").await,
        1
    );

    // Seconds: its own lifetime, not the alias'.
    let (renderer, _) = render_with(Ttl::Seconds(5.0));
    assert_eq!(renders_after(&renderer, &clock, Duration::ZERO, "five").await, 1);
    assert_eq!(
        renders_after(&renderer, &clock, Duration::from_secs(4), "five").await,
        0
    );
    assert_eq!(
        renders_after(&renderer, &clock, Duration::from_secs(2), "five").await,
        1
    );

    // Never: still there ten years later (django-components' `None` means this, by accident).
    let (renderer, _) = render_with(Ttl::Never);
    assert_eq!(renders_after(&renderer, &clock, Duration::ZERO, "never").await, 1);
    let decade = Duration::from_secs(10 * 365 * 24 * 3600);
    assert_eq!(renders_after(&renderer, &clock, decade, "never").await, 0);

    // DontStore: renders every time and never touches the cache.
    let before = caches.get("default").unwrap().metrics();
    let (renderer, calls) = render_with(Ttl::DontStore);
    assert!(renderer.output_cache("Greeting").is_none());
    for _ in 0..3 {
        let output = renderer.render::<Greeting>(&GreetingProps::to("nope")).await.unwrap();
        assert_eq!((output.stats.hits, output.stats.misses, output.stats.stores), (0, 0, 0));
    }
    assert_eq!(calls.get(), 3);
    let after = caches.get("default").unwrap().metrics();
    assert_eq!(
        (after.hits() + after.misses(), after.sets()),
        (before.hits() + before.misses(), before.sets())
    );
}

#[test]
fn a_ttl_that_is_not_a_positive_number_of_seconds_is_refused_at_startup() {
    for bad in [0.0, -1.0, f64::NAN] {
        let mut registry = Registry::new();
        registry
            .register(Greeting {
                settings: OutputCache::enabled().ttl(Ttl::Seconds(bad)),
                data_calls: Counter::default(),
            })
            .unwrap();
        let caches = caches_with_clock(&locmem_config(&["default"], ""), Clock::system());
        let error = Renderer::new(registry, caches, ComponentsConfig::default()).unwrap_err();
        assert!(error.to_string().contains("dont_store"), "{error}");
    }
}

#[tokio::test]
async fn caching_is_off_unless_a_component_turns_it_on() {
    let mut registry = Registry::new();
    registry
        .register(Greeting {
            settings: OutputCache::default(),
            data_calls: Counter::default(),
        })
        .unwrap();
    let renderer = renderer(registry);
    for _ in 0..2 {
        let output = renderer.render::<Greeting>(&GreetingProps::default()).await.unwrap();
        assert_eq!((output.stats.renders, output.stats.hits), (1, 0));
    }
    assert_eq!(renderer.caches().get("default").unwrap().metrics().sets(), 0);
}

#[tokio::test]
async fn slots_share_an_entry_without_include_slots_and_not_with_it() {
    for include_slots in [false, true] {
        let mut registry = Registry::new();
        registry
            .register(Card {
                settings: OutputCache::enabled().include_slots(include_slots),
            })
            .unwrap();
        let renderer = renderer(registry);
        let props = CardProps { title: "T".into() };
        let card = |body: &str| renderer.render::<Card>(&props).slot("default", body).into_future();
        let first = card("<p>one</p>").await.unwrap();
        let second = card("<p>two</p>").await.unwrap();
        assert!(first.html.contains("<p>one</p>"));
        if include_slots {
            assert!(second.html.contains("<p>two</p>"), "{}", second.html);
            assert_eq!(second.stats.hits, 0);
        } else {
            // The documented trade-off: the slots aren't in the key, so the stored render is shown.
            assert!(second.html.contains("<p>one</p>"), "{}", second.html);
            assert_eq!(second.stats.hits, 1);
        }
    }
}

#[tokio::test]
async fn slot_contents_from_templates_are_keyed_by_what_they_render_to() {
    let mut registry = Registry::new();
    registry
        .register(Card {
            settings: OutputCache::enabled().include_slots(true),
        })
        .unwrap()
        .register(Badge)
        .unwrap()
        .register(Shell(concat!(
            r#"{% for name in names %}"#,
            r#"{% set header %}<em>{{ name }}</em>{% endset %}"#,
            r#"{% call component("Card", title="T", slots={"header": header}) %}"#,
            r#"{{ component("Badge", label=name) }}{% endcall %}"#,
            r#"{% endfor %}"#,
        )))
        .unwrap();
    let renderer = renderer(registry);
    let names = |names: &[&str]| ShellProps {
        n: 0,
        names: names.iter().map(|n| (*n).to_owned()).collect(),
    };

    let page = renderer.render::<Shell>(&names(&["x", "y", "x"])).await.unwrap();
    // Variables used inside the fills are part of the key (django-components keys the fill's
    // source, so `x` and `y` would share an entry there — its #1164).
    assert!(
        page.html.contains("<em>x</em>") && page.html.contains("<em>y</em>"),
        "{}",
        page.html
    );
    assert_eq!(page.stats.misses, 2, "x and y");
    assert_eq!(page.stats.coalesced, 1, "the second x");
    assert!(page.html.contains(r#"<b data-id=""#) && page.html.contains(">x</b>"));
    // Shell, then per card: the card and the badge in its slot.
    assert_eq!(page.dependencies.len(), 7);
    let mut all_ids = ids(&page.html);
    assert_eq!(all_ids.len(), 6);
    all_ids.sort();
    all_ids.dedup();
    assert_eq!(
        all_ids.len(),
        6,
        "the card repeated from the page's own cache still gets new ids"
    );

    let again = renderer.render::<Shell>(&names(&["y"])).await.unwrap();
    assert_eq!(
        (again.stats.hits, again.stats.renders),
        (1, 1),
        "only the shell renders"
    );
}

/// Slot content printing the *parent's* `component_id` makes a render that belongs to that parent:
/// it is shown correctly but never stored or shared (its ids would be wrong anywhere else).
#[tokio::test]
async fn a_render_holding_its_parents_id_is_not_stored() {
    let mut registry = Registry::new();
    registry
        .register(Card {
            settings: OutputCache::enabled(),
        })
        .unwrap()
        .register(Shell(
            r##"<main id="{{ component_id }}">{% call component("Card") %}<a href="#{{ component_id }}">up</a>{% endcall %}</main>"##,
        ))
        .unwrap();
    let renderer = renderer(registry);
    for _ in 0..2 {
        let page = renderer.render::<Shell>(&Default::default()).await.unwrap();
        let shell_id = page.dependencies[0].id.to_string();
        assert!(
            page.html.contains(&format!(r##"<a href="#{shell_id}">up</a>"##)),
            "{}",
            page.html
        );
        assert_eq!((page.stats.stores, page.stats.hits), (0, 0));
    }
}

#[tokio::test]
async fn a_value_that_is_not_a_stored_render_is_a_miss_and_gets_replaced() {
    let mut registry = Registry::new();
    registry.register(Greeting::cached()).unwrap();
    let renderer = renderer(registry);
    let key = renderer
        .output_key::<Greeting>(&GreetingProps::default(), Slots::new())
        .unwrap()
        .unwrap();
    let cache = renderer.caches().get("default").unwrap();
    // What django-components would have stored: the HTML string.
    cache.set_raw(&key, "<p>Hello world!</p>").await.unwrap();
    let (output, warnings) =
        cache_core::testkit::capture_warnings(renderer.render::<Greeting>(&GreetingProps::default()).into_future())
            .await;
    let output = output.unwrap();
    assert_eq!((output.stats.renders, output.stats.stores), (1, 1));
    assert!(warnings.iter().any(|w| w.contains("can't be read")), "{warnings:?}");
    let again = renderer.render::<Greeting>(&GreetingProps::default()).await.unwrap();
    assert_eq!(again.stats.hits, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_concurrent_misses_render_once() {
    let slow = Slow::new(Duration::from_millis(200));
    let renders = slow.renders.clone();
    let mut registry = Registry::new();
    registry.register(slow).unwrap();
    let renderer = renderer(registry);

    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let renderer = renderer.clone();
            tokio::spawn(async move { renderer.render::<Slow>(&NoProps {}).await.unwrap() })
        })
        .collect();
    let mut outputs = Vec::new();
    for task in tasks {
        outputs.push(task.await.unwrap());
    }
    assert_eq!(renders.get(), 1, "32 concurrent misses, one render");
    let stats = outputs.iter().fold((0, 0, 0), |(h, c, r), o| {
        (h + o.stats.hits, c + o.stats.coalesced, r + o.stats.renders)
    });
    assert_eq!(stats.2, 1);
    assert_eq!(stats.0 + stats.1, 31, "the others waited for it or found it stored");
    let mut all_ids: Vec<String> = outputs.iter().map(|o| o.dependencies[0].id.to_string()).collect();
    all_ids.sort();
    all_ids.dedup();
    assert_eq!(all_ids.len(), 32, "each waiter still gets its own instance id");
    assert!(outputs.iter().all(|o| o.html.ends_with(">42</i>")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_leader_lets_the_waiters_render_and_nothing_is_stored() {
    let slow = Slow::new(Duration::from_millis(100));
    let (fail, renders) = (Arc::clone(&slow.fail), slow.renders.clone());
    fail.store(true, Ordering::SeqCst);
    let mut registry = Registry::new();
    registry.register(slow).unwrap();
    let renderer = renderer(registry);
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let renderer = renderer.clone();
            tokio::spawn(async move { renderer.render::<Slow>(&NoProps {}).await })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().is_err());
    }
    assert_eq!(renders.get(), 4, "a failure is not shared: each waiter tried itself");
    assert_eq!(renderer.caches().get("default").unwrap().metrics().sets(), 0);
}

#[tokio::test]
async fn the_components_section_overrides_settings_and_names_aliases() {
    let config = locmem_config(
        &["default", "fragments"],
        r#"
        [components.overrides.Greeting]
        cache = "fragments"
        ttl = "never"
        "#,
    );
    let caches = caches_with_clock(&config, Clock::system());
    let mut registry = Registry::new();
    registry.register(Greeting::cached()).unwrap();
    let renderer = Renderer::from_config(registry, caches, &config).unwrap();
    let settings = renderer.output_cache("Greeting").unwrap();
    assert_eq!((settings.cache.as_str(), settings.ttl), ("fragments", Ttl::Never));
    renderer.render::<Greeting>(&GreetingProps::default()).await.unwrap();
    assert_eq!(renderer.caches().get("fragments").unwrap().metrics().sets(), 1);
    assert_eq!(renderer.caches().get("default").unwrap().metrics().sets(), 0);

    // The master switch.
    let off = locmem_config(&["default"], "[components]\noutput_cache = false\n");
    let mut registry = Registry::new();
    registry.register(Greeting::cached()).unwrap();
    let renderer = Renderer::from_config(registry, caches_with_clock(&off, Clock::system()), &off).unwrap();
    assert!(renderer.output_cache("Greeting").is_none());
}

#[test]
fn unknown_aliases_and_components_fail_at_startup() {
    let build = |extra: &str, settings: OutputCache| {
        let config = locmem_config(&["default"], extra);
        let mut registry = Registry::new();
        registry
            .register(Greeting {
                settings,
                data_calls: Counter::default(),
            })
            .unwrap();
        Renderer::from_config(registry, caches_with_clock(&config, Clock::system()), &config)
            .unwrap_err()
            .to_string()
    };
    let message = build("", OutputCache::enabled().cache("fragmnets"));
    assert!(
        message.contains("fragmnets") && message.contains("Greeting"),
        "{message}"
    );
    let message = build("[components]\ncache = \"media\"\n", OutputCache::enabled());
    assert!(message.contains("media"), "{message}");
    let message = build("[components.overrides.Greting]\nttl = 5\n", OutputCache::enabled());
    assert!(message.contains("Greting"), "{message}");
    // A component that doesn't cache may name any alias: nothing is read or written.
    let config = locmem_config(&["default"], "");
    let mut registry = Registry::new();
    registry
        .register(Greeting {
            settings: OutputCache::disabled().cache("nowhere"),
            data_calls: Counter::default(),
        })
        .unwrap();
    assert!(Renderer::from_config(registry, caches_with_clock(&config, Clock::system()), &config).is_ok());
}

#[tokio::test]
async fn a_renderer_frees_its_embedded_stores_when_it_is_dropped() {
    let mut registry = Registry::new();
    registry.register(Greeting::cached()).unwrap();
    let renderer = Renderer::new(registry, embedded_caches(), ComponentsConfig::default()).unwrap();
    assert_eq!(
        renderer
            .render::<Greeting>(&GreetingProps::default())
            .await
            .unwrap()
            .stats
            .stores,
        1
    );
    let output_store = Arc::downgrade(renderer.caches().default_cache().backend());
    let media_store = Arc::downgrade(renderer.media_cache().backend());

    let clone = renderer.clone();
    drop(renderer);
    assert!(media_store.upgrade().is_some(), "a clone still renders with them");
    drop(clone);
    assert!(
        output_store.upgrade().is_none(),
        "no process-wide registry keeps the output store"
    );
    assert!(media_store.upgrade().is_none(), "nor the media store");
}

/// An alias whose own `timeout` is 0 stores nothing (Django's `set` with a timeout of 0): the
/// renders are not counted as stores, and none hits.
#[tokio::test]
async fn an_alias_whose_timeout_is_zero_stores_nothing_and_counts_no_store() {
    let mut registry = Registry::new();
    registry.register(Greeting::cached()).unwrap();
    let config = CachesConfig::from_str_with_env(
        "[caches.default]\nbackend = \"locmem\"\nlocation = \"components-test-timeout-zero\"\ntimeout = 0\n",
        ConfigFormat::Toml,
        Vec::<(String, String)>::new(),
    )
    .unwrap();
    let renderer = Renderer::new(
        registry,
        caches_with_clock(&config, Clock::system()),
        ComponentsConfig::default(),
    )
    .unwrap();
    for _ in 0..2 {
        let output = renderer.render::<Greeting>(&GreetingProps::default()).await.unwrap();
        assert_eq!(
            (output.stats.renders, output.stats.stores, output.stats.hits),
            (1, 0, 0)
        );
    }
}

/// A value that isn't a stored render (Django sharing the alias writes one on every request) is
/// warned about once per alias and interval, not on every render.
#[tokio::test]
async fn an_unreadable_stored_value_is_warned_about_once_per_interval() {
    let mut registry = Registry::new();
    registry.register(Greeting::cached()).unwrap();
    let renderer = renderer(registry);
    let key = renderer
        .output_key::<Greeting>(&GreetingProps::default(), Slots::new())
        .unwrap()
        .unwrap();
    let cache = renderer.caches().get("default").unwrap();
    let mut warned = Vec::new();
    for _ in 0..3 {
        cache.set_raw(&key, "<p>Hello world!</p>").await.unwrap();
        let (output, warnings) =
            cache_core::testkit::capture_warnings(renderer.render::<Greeting>(&GreetingProps::default()).into_future())
                .await;
        assert_eq!(output.unwrap().stats.stores, 1, "rendered again and stored");
        warned.push(warnings.iter().filter(|w| w.contains("can't be read")).count());
    }
    assert_eq!(warned, [1, 0, 0]);
}
