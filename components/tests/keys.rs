//! Output cache keys: their shape, and that the inputs django-components confuses (its docs:
//! "Component caching") get different keys here while equal inputs share one.

mod common;

use std::collections::BTreeMap;

use cache_components::{Component, ComponentError, OutputCache, Registry, Slots, View, class_id};
use common::*;
use serde::{Deserialize, Serialize};

/// Prints its list and map props; cached.
struct Echo;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
struct EchoProps {
    args: Vec<String>,
    kwargs: BTreeMap<String, String>,
}

impl Component for Echo {
    const NAME: &'static str = "Echo";
    type Props = EchoProps;

    fn view(&self) -> View<Self> {
        View::template("[{{ args|join('|') }}]{% for k, v in kwargs|items %}{{ k }}={{ v }};{% endfor %}")
    }

    fn output_cache(&self) -> OutputCache {
        OutputCache::enabled()
    }
}

fn echo(args: &[&str], kwargs: &[(&str, &str)]) -> EchoProps {
    EchoProps {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        kwargs: kwargs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
    }
}

fn registry() -> Registry {
    let mut registry = Registry::new();
    registry
        .register(Echo)
        .unwrap()
        .register(Greeting::cached())
        .unwrap()
        .register(Card {
            settings: OutputCache::enabled().include_slots(true),
        })
        .unwrap();
    registry
}

#[test]
fn keys_have_the_documented_shape() {
    let renderer = renderer(registry());
    let key = renderer
        .output_key::<Greeting>(GreetingProps::default(), Slots::new())
        .unwrap()
        .unwrap();
    let prefix = format!("components:cache:{}:", class_id::<Greeting>());
    assert!(key.starts_with(&prefix), "{key}");
    let digest = &key[prefix.len()..];
    assert_eq!(digest.len(), 32, "128 bits in hex");
    assert!(digest.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert!(class_id::<Greeting>().starts_with("Greeting_"));
}

#[tokio::test]
async fn list_items_with_the_separator_in_them_get_their_own_key() {
    let renderer = renderer(registry());
    let key = |args: &[&str]| {
        renderer
            .output_key::<Echo>(echo(args, &[]), Slots::new())
            .unwrap()
            .unwrap()
    };
    // django-components: ",".join(["a,b"]) == ",".join(["a", "b"]).
    assert_ne!(key(&["a,b"]), key(&["a", "b"]));
    assert_ne!(key(&["a", ""]), key(&["a"]));
    assert_ne!(key(&[""]), key(&[]));

    // And end to end: the second render is not served the first one's output.
    let first = renderer.render::<Echo>(echo(&["a,b"], &[])).await.unwrap();
    let second = renderer.render::<Echo>(echo(&["a", "b"], &[])).await.unwrap();
    assert_eq!(first.html, "[a,b]");
    assert_eq!(second.html, "[a|b]");
    assert_eq!(second.stats.hits, 0);
}

#[tokio::test]
async fn map_values_with_the_separators_in_them_get_their_own_key() {
    let renderer = renderer(registry());
    let key = |kwargs: &[(&str, &str)]| {
        renderer
            .output_key::<Echo>(echo(&[], kwargs), Slots::new())
            .unwrap()
            .unwrap()
    };
    // django-components: "a-1,b-2" either way.
    assert_ne!(key(&[("a", "1,b-2")]), key(&[("a", "1"), ("b", "2")]));
    assert_ne!(key(&[("a-1", "")]), key(&[("a", "1")]));
    // A list prop and a map prop can't be confused either.
    assert_ne!(
        renderer.output_key::<Echo>(echo(&["a"], &[]), Slots::new()).unwrap(),
        renderer
            .output_key::<Echo>(echo(&[], &[("a", "")]), Slots::new())
            .unwrap()
    );

    let first = renderer.render::<Echo>(echo(&[], &[("a", "1,b-2")])).await.unwrap();
    let second = renderer
        .render::<Echo>(echo(&[], &[("a", "1"), ("b", "2")]))
        .await
        .unwrap();
    assert_eq!(first.html, "[]a=1,b-2;");
    assert_eq!(second.html, "[]a=1;b=2;");
}

#[tokio::test]
async fn props_left_out_and_props_given_their_default_share_one_entry() {
    let renderer = renderer(registry());
    let key = |props| renderer.output_key::<Greeting>(props, Slots::new()).unwrap().unwrap();
    let explicit = GreetingProps {
        name: "world".into(),
        punctuation: "!".into(),
    };
    assert_eq!(key(GreetingProps::default()), key(explicit));
    assert_ne!(key(GreetingProps::default()), key(GreetingProps::to("you")));

    // From a template: omitted, given, and given in another order are one entry (django-components
    // keys the raw kwargs before defaults, so its first two differ).
    let mut registry = registry();
    registry
        .register(Shell(concat!(
            r#"{{ component("Greeting") }}"#,
            r#"{{ component("Greeting", name="world") }}"#,
            r#"{{ component("Greeting", punctuation="!", name="world") }}"#,
        )))
        .unwrap();
    let renderer = common::renderer(registry);
    let page = renderer.render::<Shell>(Default::default()).await.unwrap();
    assert_eq!(page.stats.renders, 2, "the shell and one greeting");
    assert_eq!(page.stats.misses, 1);
    assert_eq!(page.stats.coalesced, 2);
    // A later top-level render with JSON props, defaults left out, is a hit on that entry.
    let later = renderer.render_named("Greeting", serde_json::json!({})).await.unwrap();
    assert_eq!(later.stats.hits, 1);
}

#[tokio::test]
async fn slots_are_in_the_key_only_with_include_slots() {
    let renderer = renderer(registry());
    let key = |slots: Slots| {
        renderer
            .output_key::<Card>(CardProps::default(), slots)
            .unwrap()
            .unwrap()
    };
    let body = Slots::new().default_slot("<p>one</p>");
    assert_eq!(key(body.clone()), key(body.clone()));
    assert_ne!(key(body.clone()), key(Slots::new().default_slot("<p>two</p>")));
    assert_ne!(key(body.clone()), key(Slots::new()));
    // A slot's name is part of it: the same content in another slot is another render.
    assert_ne!(key(body), key(Slots::new().fill("header", "<p>one</p>")));
    // Slot names and contents can't run into each other.
    assert_ne!(key(Slots::new().fill("a", "bc")), key(Slots::new().fill("ab", "c")));

    let mut registry = Registry::new();
    registry
        .register(Card {
            settings: OutputCache::enabled(),
        })
        .unwrap();
    let without = common::renderer(registry);
    let key = |slots: Slots| {
        without
            .output_key::<Card>(CardProps::default(), slots)
            .unwrap()
            .unwrap()
    };
    assert_eq!(
        key(Slots::new().default_slot("one")),
        key(Slots::new().default_slot("two"))
    );
}

/// Same type, same class id, another template: another key, so a deploy never serves output
/// rendered by the old template.
#[test]
fn the_template_is_part_of_the_key() {
    struct Versioned(&'static str);
    impl Component for Versioned {
        const NAME: &'static str = "Versioned";
        type Props = cache_components::NoProps;
        fn view(&self) -> View<Self> {
            View::template(self.0)
        }
        fn output_cache(&self) -> OutputCache {
            OutputCache::enabled()
        }
    }
    let key = |template| {
        let mut registry = Registry::new();
        registry.register(Versioned(template)).unwrap();
        renderer(registry)
            .output_key::<Versioned>(Default::default(), Slots::new())
            .unwrap()
            .unwrap()
    };
    assert_eq!(key("<p>v1</p>"), key("<p>v1</p>"));
    assert_ne!(key("<p>v1</p>"), key("<p>v2</p>"));
}

#[tokio::test]
async fn props_of_the_wrong_type_are_an_error_naming_the_component() {
    let mut registry = registry();
    registry
        .register(Shell(r#"{{ component("Greeting", name=5) }}"#))
        .unwrap();
    let renderer = renderer(registry);
    let error = renderer.render::<Shell>(Default::default()).await.unwrap_err();
    assert!(matches!(error, ComponentError::Template { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("Greeting") && message.contains("don't fit"),
        "{message}"
    );

    let error = renderer
        .render_named("Greeting", serde_json::json!({"name": ["x"]}))
        .await
        .unwrap_err();
    assert!(matches!(error, ComponentError::Props { .. }), "{error:?}");
}
