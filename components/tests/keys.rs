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
        .output_key::<Greeting>(&GreetingProps::default(), Slots::new())
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
            .output_key::<Echo>(&echo(args, &[]), Slots::new())
            .unwrap()
            .unwrap()
    };
    // django-components: ",".join(["a,b"]) == ",".join(["a", "b"]).
    assert_ne!(key(&["a,b"]), key(&["a", "b"]));
    assert_ne!(key(&["a", ""]), key(&["a"]));
    assert_ne!(key(&[""]), key(&[]));

    // And end to end: the second render is not served the first one's output.
    let first = renderer.render::<Echo>(&echo(&["a,b"], &[])).await.unwrap();
    let second = renderer.render::<Echo>(&echo(&["a", "b"], &[])).await.unwrap();
    assert_eq!(first.html, "[a,b]");
    assert_eq!(second.html, "[a|b]");
    assert_eq!(second.stats.hits, 0);
}

#[tokio::test]
async fn map_values_with_the_separators_in_them_get_their_own_key() {
    let renderer = renderer(registry());
    let key = |kwargs: &[(&str, &str)]| {
        renderer
            .output_key::<Echo>(&echo(&[], kwargs), Slots::new())
            .unwrap()
            .unwrap()
    };
    // django-components: "a-1,b-2" either way.
    assert_ne!(key(&[("a", "1,b-2")]), key(&[("a", "1"), ("b", "2")]));
    assert_ne!(key(&[("a-1", "")]), key(&[("a", "1")]));
    // A list prop and a map prop can't be confused either.
    assert_ne!(
        renderer.output_key::<Echo>(&echo(&["a"], &[]), Slots::new()).unwrap(),
        renderer
            .output_key::<Echo>(&echo(&[], &[("a", "")]), Slots::new())
            .unwrap()
    );

    let first = renderer.render::<Echo>(&echo(&[], &[("a", "1,b-2")])).await.unwrap();
    let second = renderer
        .render::<Echo>(&echo(&[], &[("a", "1"), ("b", "2")]))
        .await
        .unwrap();
    assert_eq!(first.html, "[]a=1,b-2;");
    assert_eq!(second.html, "[]a=1;b=2;");
}

#[tokio::test]
async fn props_left_out_and_props_given_their_default_share_one_entry() {
    let renderer = renderer(registry());
    let key = |props| renderer.output_key::<Greeting>(&props, Slots::new()).unwrap().unwrap();
    let explicit = GreetingProps {
        name: "world".into(),
        punctuation: "!".into(),
    };
    assert_eq!(key(GreetingProps::default()), key(explicit));
    assert_ne!(key(GreetingProps::default()), key(GreetingProps::to("you")));

    // A later top-level render with JSON props, defaults left out, is a hit on that entry.
    let renderer = common::renderer(registry());
    renderer.render::<Greeting>(&GreetingProps::default()).await.unwrap();
    let later = renderer.render_named("Greeting", serde_json::json!({})).await.unwrap();
    assert_eq!(later.stats.hits, 1);
}

#[tokio::test]
async fn template_calls_are_keyed_by_their_arguments_unless_the_component_declares_its_own_key() {
    let calls = concat!(
        r#"{{ component("Greeting", name="world", punctuation="!") }}"#,
        r#"{{ component("Greeting", punctuation="!", name="world") }}"#,
        r#"{{ component("Greeting") }}"#,
    );
    // By arguments: the same arguments in another order are one entry; leaving them out is
    // another entry (as in django-components), rendered the same.
    let mut registry = registry();
    registry.register(Shell(calls)).unwrap();
    let renderer = common::renderer(registry);
    let page = renderer.render::<Shell>(&Default::default()).await.unwrap();
    assert_eq!((page.stats.renders, page.stats.misses, page.stats.coalesced), (3, 2, 1));
    let key = renderer
        .template_call_key(
            "Greeting",
            &serde_json::json!({"name": "world", "punctuation": "!"}),
            Slots::new(),
        )
        .unwrap()
        .unwrap();
    assert_ne!(
        Some(key),
        renderer
            .output_key::<Greeting>(&GreetingProps::default(), Slots::new())
            .unwrap(),
        "a template call's key is its arguments', not its typed props'"
    );

    // With `own_key` (and `cache_key` left at the props), calls are keyed by the props after
    // defaults: all three share one entry, and a Rust call with the default props hits it.
    let mut registry = Registry::new();
    registry
        .register(Greeting {
            settings: OutputCache::enabled().own_key(),
            data_calls: Counter::default(),
        })
        .unwrap()
        .register(Shell(calls))
        .unwrap();
    let renderer = common::renderer(registry);
    let page = renderer.render::<Shell>(&Default::default()).await.unwrap();
    assert_eq!((page.stats.renders, page.stats.misses, page.stats.coalesced), (2, 1, 2));
    let rust = renderer.render::<Greeting>(&GreetingProps::default()).await.unwrap();
    assert_eq!(rust.stats.hits, 1);
}

#[tokio::test]
async fn slots_are_in_the_key_only_with_include_slots() {
    let renderer = renderer(registry());
    let key = |slots: Slots| {
        renderer
            .output_key::<Card>(&CardProps::default(), slots)
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
            .output_key::<Card>(&CardProps::default(), slots)
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
            .output_key::<Versioned>(&Default::default(), Slots::new())
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
    let error = renderer.render::<Shell>(&Default::default()).await.unwrap_err();
    assert!(matches!(error, ComponentError::Props { .. }), "{error:?}");
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

/// An article keyed by its id and version (django-components' `Cache.hash` override): its body,
/// however large, is never hashed.
struct Article;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ArticleProps {
    id: u64,
    version: u32,
    body: String,
}

impl Component for Article {
    const NAME: &'static str = "Article";
    type Props = ArticleProps;

    fn view(&self) -> View<Self> {
        View::template("<article>{{ body }}</article>")
    }

    fn output_cache(&self) -> OutputCache {
        OutputCache::enabled().own_key()
    }

    fn cache_key<'a>(&'a self, props: &'a ArticleProps) -> impl Serialize + 'a {
        (props.id, props.version)
    }
}

#[tokio::test]
async fn a_component_may_declare_its_own_key() {
    let mut registry = Registry::new();
    registry
        .register(Article)
        .unwrap()
        .register(Shell(
            r#"{{ component("Article", id=7, version=2, body="from a template") }}"#,
        ))
        .unwrap();
    let renderer = renderer(registry);
    let article = |id, version, body: &str| ArticleProps {
        id,
        version,
        body: body.to_owned(),
    };
    let key = |props: ArticleProps| renderer.output_key::<Article>(&props, Slots::new()).unwrap().unwrap();
    assert_eq!(key(article(7, 2, "x")), key(article(7, 2, &"y".repeat(100_000))));
    assert_ne!(key(article(7, 2, "x")), key(article(7, 3, "x")));
    assert_ne!(key(article(7, 2, "x")), key(article(8, 2, "x")));

    // A template call is keyed the same way: the Rust render after it is a hit.
    renderer.render::<Shell>(&Default::default()).await.unwrap();
    let hit = renderer
        .with_id_seed(0)
        .render::<Article>(&article(7, 2, "ignored"))
        .await
        .unwrap();
    assert_eq!(hit.stats.hits, 1);
    assert_eq!(hit.html, r#"<article data-djc-id-c000000="">from a template</article>"#);
}

mod injectivity {
    use proptest::prelude::*;

    use super::*;

    fn strings() -> impl Strategy<Value = Vec<String>> {
        // Few characters, so that neighbouring strings often concatenate the same.
        prop::collection::vec("[ab,:-]{0,3}", 0..4)
    }

    fn kwargs() -> impl Strategy<Value = BTreeMap<String, String>> {
        prop::collection::btree_map("[ab]{0,2}", "[ab,-]{0,2}", 0..3)
    }

    proptest! {
        /// Distinct props, distinct keys — typed props and template arguments alike.
        #[test]
        fn distinct_props_get_distinct_keys(
            a in (strings(), kwargs()),
            b in (strings(), kwargs()),
        ) {
            let renderer = renderer(registry());
            let typed = |(args, kwargs): &(Vec<String>, BTreeMap<String, String>)| {
                renderer
                    .output_key::<Echo>(&EchoProps { args: args.clone(), kwargs: kwargs.clone() }, Slots::new())
                    .unwrap()
                    .unwrap()
            };
            let template = |(args, kwargs): &(Vec<String>, BTreeMap<String, String>)| {
                renderer
                    .template_call_key("Echo", &serde_json::json!({"args": args, "kwargs": kwargs}), Slots::new())
                    .unwrap()
                    .unwrap()
            };
            prop_assert_eq!(a == b, typed(&a) == typed(&b));
            prop_assert_eq!(a == b, template(&a) == template(&b));
            prop_assert_ne!(typed(&a), template(&b));
        }
    }

    #[test]
    fn neighbouring_strings_never_merge() {
        let renderer = renderer(registry());
        let typed = |args: &[&str]| renderer.output_key::<Echo>(&echo(args, &[]), Slots::new()).unwrap();
        let template = |args: &[&str]| {
            renderer
                .template_call_key("Echo", &serde_json::json!({ "args": args }), Slots::new())
                .unwrap()
        };
        assert_ne!(typed(&["a", "bc"]), typed(&["ab", "c"]));
        assert_ne!(typed(&["a", ""]), typed(&["a"]));
        assert_ne!(template(&["a", "bc"]), template(&["ab", "c"]));
        assert_ne!(template(&["", "a"]), template(&["a"]));
        // 128 bits: 32 hex characters after the class id.
        let key = typed(&["a"]).unwrap();
        assert_eq!(key.rsplit(':').next().unwrap().len(), 32);
    }
}

/// Priced lines, cached: props holding a list of structs, so their field names are written once
/// and referred back to.
struct Lines;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct LinesProps {
    lines: Vec<Line>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Line {
    name: String,
    price: f64,
}

impl Component for Lines {
    const NAME: &'static str = "Lines";
    type Props = LinesProps;

    fn view(&self) -> View<Self> {
        View::template("{% for line in lines %}{{ line.name }} {{ line.price }};{% endfor %}")
    }

    fn output_cache(&self) -> OutputCache {
        OutputCache::enabled()
    }
}

/// Keys must not change between releases unless the encoding's version (`v4`) does: a deploy
/// would otherwise stop reading every stored render, or read one under another's key. These
/// digests were computed when encoding v4 (short strings, floats and field references in one tag
/// byte, a field that follows as before left out) was introduced, and must still come out: a
/// short input (BLAKE3's one-shot path), a long one (over 1 KiB, its streaming path), and a list
/// of structs (field names referred back to). Changing a component's template changes its digests
/// too (it is part of the key).
#[test]
fn keys_are_stable_across_releases() {
    let mut registry = registry();
    registry.register(Lines).unwrap();
    let renderer = renderer(registry);
    let key = |props: &EchoProps| renderer.output_key::<Echo>(props, Slots::new()).unwrap().unwrap();
    let short = echo(&["a", "bc", "—"], &[("k", "v"), ("x", "")]);
    let long_args: Vec<String> = (0..200).map(|i| format!("argument {i}")).collect();
    let long_args: Vec<&str> = long_args.iter().map(String::as_str).collect();
    let long = echo(&long_args, &[("k", "v")]);
    let lines = LinesProps {
        lines: (0..3)
            .map(|i| Line {
                name: format!("line {i}"),
                price: f64::from(i) * 1.25,
            })
            .collect(),
    };
    let lines_key = renderer.output_key::<Lines>(&lines, Slots::new()).unwrap().unwrap();
    let digests = [key(&short), key(&long), lines_key].map(|key| key.rsplit(':').next().unwrap().to_owned());
    assert_eq!(
        digests,
        [
            "7f7cf005cf30c7f2df543dd49e1926fb",
            "a94243262fcc54e3f0d4f490373f2fc4",
            "ce621706bf75a89caf5a1bab69492910"
        ]
    );
}
