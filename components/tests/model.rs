//! The component model without caching: templates, autoescaping, props, slots, render functions,
//! nesting, the registry's rules.

mod common;

use std::future::IntoFuture;

use cache_components::{Component, ComponentError, Html, NoProps, OutputCache, Registry, Slots, View, class_id};
use common::*;
use serde::{Deserialize, Serialize};

fn uncached_card() -> Card {
    Card {
        settings: OutputCache::disabled(),
    }
}

#[tokio::test]
async fn templates_are_autoescaped_and_trusted_markup_is_not() {
    let mut registry = Registry::new();
    registry.register(Greeting::cached()).unwrap();
    let renderer = renderer(registry);
    let output = renderer
        .render::<Greeting>(&GreetingProps::to("<script>alert('x')</script>"))
        .await
        .unwrap();
    assert!(
        output
            .html
            .contains("Hello &lt;script&gt;alert(&#x27;x&#x27;)&lt;&#x2f;script&gt;!"),
        "{}",
        output.html
    );
}

#[tokio::test]
async fn named_and_default_slots_with_fallbacks_from_templates_and_from_rust() {
    let mut registry = Registry::new();
    registry
        .register(uncached_card())
        .unwrap()
        .register(Shell(concat!(
            r#"{% set header %}<i>{{ names[0] }}</i>{% endset %}"#,
            r#"{% call component("Card", title="A", slots={"header": header}) %}<p>body {{ n }}</p>{% endcall %}"#,
            r#"{{ component("Card", title="B") }}"#,
            r#"{{ component("Card", title="C", slots={"header": "<u>plain text is escaped</u>"}) }}"#,
        )))
        .unwrap();
    let renderer = renderer(registry);
    let page = renderer
        .render::<Shell>(&ShellProps {
            n: 7,
            names: vec!["x&y".into()],
        })
        .await
        .unwrap();
    let html = without_ids(&without_instance_attributes(&page.html), &ids(&page.html));
    assert_eq!(
        html,
        concat!(
            r##"<section id="#"><h2>A</h2><header><i>x&amp;y</i></header><p>body 7</p></section>"##,
            r##"<section id="#"><h2>B</h2><header>no header</header></section>"##,
            r##"<section id="#"><h2>C</h2><header>&lt;u&gt;plain text is escaped&lt;&#x2f;u&gt;</header></section>"##,
        )
    );

    let card = renderer
        .render::<Card>(&CardProps { title: "R".into() })
        .slots(Slots::new().fill("header", "<b>H</b>").default_slot("<p>D</p>"))
        .await
        .unwrap();
    assert!(
        card.html
            .ends_with("<h2>R</h2><header><b>H</b></header><p>D</p></section>"),
        "{}",
        card.html
    );
}

#[tokio::test]
async fn a_default_slot_filled_twice_is_an_error() {
    let mut registry = Registry::new();
    registry
        .register(uncached_card())
        .unwrap()
        .register(Shell(
            r#"{% call component("Card", slots={"default": "x"}) %}y{% endcall %}"#,
        ))
        .unwrap();
    let error = renderer(registry)
        .render::<Shell>(&Default::default())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("filled twice"), "{error}");
}

/// A render function writing children, slots and its id.
struct List;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct ListProps {
    labels: Vec<String>,
}

impl List {
    fn write(&self, props: &ListProps, html: &mut Html<'_>) -> Result<(), cache_components::BoxError> {
        html.raw("<ul id=\"").component_id().raw("\">");
        if !html.slot("before") {
            html.raw("<li>nothing before</li>");
        }
        for label in &props.labels {
            html.raw("<li>");
            html.child::<Badge>(BadgeProps { label: label.clone() })?;
            html.raw("</li>");
        }
        html.child_with_slots::<Card>(CardProps::default(), Slots::new().default_slot("<s>in card</s>"))?;
        html.raw("</ul>");
        Ok(())
    }
}

impl Component for List {
    const NAME: &'static str = "List";
    type Props = ListProps;
    fn view(&self) -> View<Self> {
        View::function(List::write)
    }
}

#[tokio::test]
async fn render_functions_write_children_slots_and_ids() {
    let mut registry = Registry::new();
    registry
        .register(List)
        .unwrap()
        .register(Badge)
        .unwrap()
        .register(uncached_card())
        .unwrap();
    let renderer = renderer(registry);
    let output = renderer
        .render::<List>(&ListProps {
            labels: vec!["a<b".into(), "c".into()],
        })
        .await
        .unwrap();
    let html = without_ids(&without_instance_attributes(&output.html), &ids(&output.html));
    assert_eq!(
        html,
        concat!(
            r##"<ul id="#"><li>nothing before</li><li><b data-id="#">a&lt;b</b></li><li><b data-id="#">c</b></li>"##,
            r##"<section id="#"><h2></h2><header>no header</header><s>in card</s></section></ul>"##
        )
    );
    let classes: Vec<String> = output.dependencies.iter().map(|d| d.class_id.to_string()).collect();
    assert_eq!(
        classes,
        vec![
            class_id::<List>(),
            class_id::<Badge>(),
            class_id::<Badge>(),
            class_id::<Card>()
        ]
    );
    assert_eq!(output.stats.renders, 4);
}

#[tokio::test]
async fn a_child_that_is_not_registered_is_an_error_naming_it() {
    let mut registry = Registry::new();
    registry.register(List).unwrap().register(Badge).unwrap();
    let error = renderer(registry)
        .render::<List>(&ListProps::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ComponentError::Unknown { name, .. } if name == "Card"),
        "{error:?}"
    );

    let mut registry = Registry::new();
    registry.register(Shell(r#"{{ component("Nope") }}"#)).unwrap();
    let error = renderer(registry)
        .render::<Shell>(&Default::default())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("Nope"), "{error}");
}

#[tokio::test]
async fn nul_from_props_or_slots_cannot_forge_a_marker() {
    let mut registry = Registry::new();
    registry
        .register(uncached_card())
        .unwrap()
        .register(Shell(r#"{{ names[0] }}|{{ component("Card", title=names[0]) }}"#))
        .unwrap();
    let renderer = renderer(registry);
    let forged = "\0c0\0\0i0\0".to_owned();
    let page = renderer
        .render::<Shell>(&ShellProps {
            n: 0,
            names: vec![forged.clone()],
        })
        .await
        .unwrap();
    assert!(!page.html.contains('\0'));
    assert!(
        page.html.starts_with("\u{FFFD}c0\u{FFFD}\u{FFFD}i0\u{FFFD}|"),
        "{}",
        page.html
    );
    assert_eq!(page.dependencies.len(), 2);

    let card = renderer
        .render::<Card>(&CardProps::default())
        .slot("default", &forged)
        .await
        .unwrap();
    assert!(!card.html.contains('\0') && card.dependencies.len() == 1);
}

/// A component that includes itself.
struct Recursive;

impl Component for Recursive {
    const NAME: &'static str = "Recursive";
    type Props = NoProps;
    fn view(&self) -> View<Self> {
        View::template(r#"<div>{{ component("Recursive") }}</div>"#)
    }
}

#[tokio::test]
async fn a_component_that_includes_itself_stops_at_the_depth_limit() {
    let mut registry = Registry::new();
    registry.register(Recursive).unwrap();
    let error = renderer(registry).render::<Recursive>(&NoProps {}).await.unwrap_err();
    assert!(
        matches!(error, ComponentError::TooDeep { limit, .. } if limit == cache_components::MAX_DEPTH),
        "{error:?}"
    );
}

#[test]
fn the_registry_refuses_bad_names_duplicates_and_broken_templates() {
    struct Named<const BROKEN: bool>;
    impl Component for Named<false> {
        const NAME: &'static str = "Greeting";
        type Props = NoProps;
        fn view(&self) -> View<Self> {
            View::template("ok")
        }
    }
    impl Component for Named<true> {
        const NAME: &'static str = "Broken";
        type Props = NoProps;
        fn view(&self) -> View<Self> {
            View::template("{% for %}")
        }
    }
    struct Spaced;
    impl Component for Spaced {
        const NAME: &'static str = "my card";
        type Props = NoProps;
        fn view(&self) -> View<Self> {
            View::template("x")
        }
    }

    let mut registry = Registry::new();
    registry.register(Greeting::cached()).unwrap();
    let duplicate = registry.register(Named::<false>).unwrap_err().to_string();
    assert!(duplicate.contains("already registered"), "{duplicate}");
    let broken = registry.register(Named::<true>).unwrap_err().to_string();
    assert!(
        broken.contains("Broken") && broken.contains("doesn't compile"),
        "{broken}"
    );
    let spaced = registry.register(Spaced).unwrap_err().to_string();
    assert!(spaced.contains("my card"), "{spaced}");
    assert_eq!(registry.names(), vec!["Greeting"]);
    let info = registry.by_class_id(&class_id::<Greeting>()).unwrap();
    assert_eq!(info.name(), "Greeting");
}

#[test]
fn class_ids_are_the_name_and_a_hash_of_the_type_path() {
    let id = class_id::<Greeting>();
    let path = std::any::type_name::<Greeting>();
    assert!(path.ends_with("Greeting"), "{path}");
    // The same function of the path in every process: the first six hex digits of its BLAKE3.
    assert_eq!(id.len(), "Greeting_".len() + 6);
    assert_eq!(id, class_id::<Greeting>());
    assert_ne!(id, class_id::<Card>());
}

#[tokio::test]
async fn template_data_overrides_props_and_reserved_names_override_both() {
    struct Shadow;
    #[derive(Serialize, Deserialize, Default)]
    #[serde(default)]
    struct ShadowProps {
        title: String,
        component_id: String,
    }
    impl Component for Shadow {
        const NAME: &'static str = "Shadow";
        type Props = ShadowProps;
        fn view(&self) -> View<Self> {
            View::template(r#"{{ title }}/{{ extra }}/<x id="{{ component_id }}">"#)
        }
        async fn template_data(
            &self,
            _props: &ShadowProps,
        ) -> Result<cache_components::Data, cache_components::BoxError> {
            let mut data = cache_components::Data::new();
            data.insert("title".into(), "from data".into());
            data.insert("extra".into(), 1.into());
            Ok(data)
        }
    }
    let mut registry = Registry::new();
    registry.register(Shadow).unwrap();
    let output = renderer(registry)
        .render::<Shadow>(&ShadowProps {
            title: "from props".into(),
            component_id: "spoofed".into(),
        })
        .await
        .unwrap();
    let id = output.dependencies[0].id.to_string();
    let attribute = id.to_ascii_lowercase();
    assert_eq!(
        output.html,
        format!(r#"from data/1/<x id="{id}" data-djc-id-{attribute}="">"#)
    );
}

/// A cached component that includes itself with the same props.
struct CachedLoop;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct LoopProps {
    n: u32,
}

impl Component for CachedLoop {
    const NAME: &'static str = "CachedLoop";
    type Props = LoopProps;
    fn view(&self) -> View<Self> {
        // Counts down to 3 (different props each level), then repeats n = 3 forever.
        View::template(r#"<i>{{ n }}{{ component("CachedLoop", n=[n - 1, 3]|max) }}</i>"#)
    }
    fn output_cache(&self) -> OutputCache {
        OutputCache::enabled()
    }
}

#[tokio::test]
async fn a_cached_component_that_includes_itself_is_an_error_not_a_hang() {
    let mut registry = Registry::new();
    registry.register(CachedLoop).unwrap();
    let renderer = renderer(registry);
    let result = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        renderer.render::<CachedLoop>(&LoopProps { n: 6 }).into_future(),
    )
    .await
    .expect("the render finishes");
    let error = result.unwrap_err();
    assert!(
        matches!(&error, ComponentError::Recursive { component } if component == "CachedLoop"),
        "{error:?}"
    );
    // Nothing half-rendered was stored.
    assert_eq!(renderer.caches().get("default").unwrap().metrics().sets(), 0);
}

/// django-components' `@register("greeting")`: templates use the registered name, the class id
/// keeps the type's `NAME`; with a seeded id sequence the markup is the same on every run.
#[tokio::test]
async fn a_component_registered_under_another_name_and_snapshot_markup() {
    let mut registry = Registry::new();
    registry
        .register_as("greeting", Greeting::cached())
        .unwrap()
        .register(Shell(r#"<main>{{ component("greeting", name="x") }}</main>"#))
        .unwrap();
    let renderer = renderer(registry).with_id_seed(0);
    let page = renderer.render::<Shell>(&Default::default()).await.unwrap();
    assert!(page.dependencies[1].class_id.starts_with("Greeting_"));
    // Root elements carry their instance attributes with `ignore` too, as in django-components.
    assert_eq!(
        page.html,
        r#"<main data-djc-id-c000000=""><p id="c000001" data-djc-id-c000001="">Hello x!</p></main>"#
    );
    let again = renderer.render::<Shell>(&Default::default()).await.unwrap();
    assert_eq!((again.html, again.stats.hits), (page.html, 1));
    assert!(renderer.registry().get("Greeting").is_none());
}
