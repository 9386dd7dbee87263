//! Render strategies and `data-djc-*` attributes: exact HTML for a small fixture set.

use std::borrow::Cow;

use cache_components::{
    Component, ComponentError, MEDIA_KEY_PREFIX, MediaKind, NoProps, Registry, RenderOutput, Renderer, Strategy, View,
    media_key,
};

mod common;
use common::{Btn, BtnProps};

/// A page: a document with three buttons (two with equal data).
struct Doc;

impl Component for Doc {
    const NAME: &'static str = "Doc";
    type Props = NoProps;

    fn view(&self) -> View<Self> {
        View::template(concat!(
            r#"<html><head><title>x</title></head><body>"#,
            r#"{{ component("Btn", label="A", color="red") }}{{ component("Btn", label="A", color="red") }}"#,
            r#"{{ component("Btn", label="B", color="blue") }}</body></html>"#
        ))
    }
}

/// Several root elements and text, no media.
struct Multi;

impl Component for Multi {
    const NAME: &'static str = "Multi";
    type Props = NoProps;

    fn view(&self) -> View<Self> {
        View::template(r#"text <li>a<b>x</b></li><br><li>b</li> more"#)
    }
}

/// A component whose only root is a child's root: that element belongs to both.
struct Wrap;

impl Component for Wrap {
    const NAME: &'static str = "Wrap";
    type Props = NoProps;

    fn view(&self) -> View<Self> {
        View::template(r#"{{ component("Multi") }}<p>{{ component("Btn", label="W", color="green") }}</p>"#)
    }
}

/// Placeholders for the page's CSS and JS.
struct Placed;

impl Component for Placed {
    const NAME: &'static str = "Placed";
    type Props = NoProps;

    fn view(&self) -> View<Self> {
        View::template(concat!(
            r#"<div><link name="CSS_PLACEHOLDER">{{ component("Btn", label="P", color="red") }}"#,
            r#"<script name="JS_PLACEHOLDER"></script></div>"#
        ))
    }
}

fn renderer() -> Renderer {
    let mut registry = Registry::new();
    registry
        .register(Btn)
        .unwrap()
        .register(Doc)
        .unwrap()
        .register(Multi)
        .unwrap()
        .register(Wrap)
        .unwrap()
        .register(Placed)
        .unwrap();
    Renderer::new(registry, cache_components::embedded_caches(), Default::default()).unwrap()
}

/// An instance id as an attribute name: lowercase, as HTML attribute names are.
fn attr(id: cache_components::InstanceId) -> String {
    id.as_str().to_ascii_lowercase()
}

fn var_hash(output: &RenderOutput, kind: MediaKind, json: &str) -> String {
    output
        .variables
        .iter()
        .find(|v| v.kind == kind && &*v.json == json)
        .unwrap_or_else(|| panic!("no {kind:?} variables {json}"))
        .hash
        .to_string()
}

const BTN_JS: &str = r#"<script>(function() {
DjangoComponents.manager.registerComponent("CLS", (data, ctx) => { ctx.els[0].title = data.msg; });
})();</script>"#;

fn btn_js(cls: &str) -> String {
    BTN_JS.replace("CLS", cls)
}

fn css_sheet(cls: &str, hash: &str, color: &str) -> String {
    format!("<style>/* {cls} */\n[data-djc-css-{hash}] {{\n  --color: {color};\n}}</style>")
}

fn js_vars(cls: &str, hash: &str, msg: &str) -> String {
    format!(r#"<script>DjangoComponents.manager.registerComponentData("{cls}", "{hash}", {{"msg":"{msg}"}});</script>"#)
}

#[tokio::test]
async fn document_inlines_css_in_head_and_js_before_body_end() {
    let renderer = renderer();
    let out = renderer.render::<Doc>(&NoProps {}).await.unwrap();
    let html = renderer.with_dependencies(&out, Strategy::Document).await.unwrap();
    let cls = cache_components::class_id::<Btn>();
    let doc_cls = cache_components::class_id::<Doc>();
    let d = &out.dependencies;
    let red = var_hash(&out, MediaKind::Css, r#"{"color":"red"}"#);
    let blue = var_hash(&out, MediaKind::Css, r#"{"color":"blue"}"#);
    let a = var_hash(&out, MediaKind::Js, r#"{"msg":"A"}"#);
    let b = var_hash(&out, MediaKind::Js, r#"{"msg":"B"}"#);
    let mut loaded_css = vec![
        format!("/components/cache/{cls}.css"),
        format!("/components/cache/{cls}.{red}.css"),
        format!("/components/cache/{cls}.{blue}.css"),
    ];
    loaded_css.sort();
    let mut loaded_js = vec![
        format!("/components/cache/{cls}.js"),
        format!("/components/cache/{cls}.{a}.js"),
        format!("/components/cache/{cls}.{b}.js"),
    ];
    loaded_js.sort();
    let exec = format!(
        r#"<script type="application/json" data-djc>{{"calls":[["{cls}","{i1}","{a}"],["{cls}","{i2}","{a}"],["{cls}","{i3}","{b}"]],"fetchCss":[],"fetchJs":[],"loadedCss":{lc},"loadedJs":{lj}}}</script>"#,
        i1 = d[1].id,
        i2 = d[2].id,
        i3 = d[3].id,
        lc = serde_json::to_string(&loaded_css).unwrap(),
        lj = serde_json::to_string(&loaded_js).unwrap(),
    );
    let expected = format!(
        concat!(
            r#"<html data-djc-id-{i0l}=""><head><title>x</title><style>.b {{ color: var(--color); }}</style>{red_sheet}{blue_sheet}</head><body>"#,
            r#"<button class="b" data-djc-id-{i1l}="" data-djc-css-{red}="">A</button>"#,
            r#"<button class="b" data-djc-id-{i2l}="" data-djc-css-{red}="">A</button>"#,
            r#"<button class="b" data-djc-id-{i3l}="" data-djc-css-{blue}="">B</button>"#,
            r#"<script src="/components/manager.js" data-djc-manager></script>{exec}{js}{a_vars}{b_vars}</body></html>"#
        ),
        i0l = attr(d[0].id),
        i1l = attr(d[1].id),
        i2l = attr(d[2].id),
        i3l = attr(d[3].id),
        red = red,
        blue = blue,
        red_sheet = css_sheet(&cls, &red, "red"),
        blue_sheet = css_sheet(&cls, &blue, "blue"),
        exec = exec,
        js = btn_js(&cls),
        a_vars = js_vars(&cls, &a, "A"),
        b_vars = js_vars(&cls, &b, "B"),
    );
    assert_eq!(&*d[0].class_id, doc_cls);
    assert_eq!(html, expected);

    // Simple: the same placement, no client script, no JSON.
    let simple = renderer.with_dependencies(&out, Strategy::Simple).await.unwrap();
    let without_manager = expected.replace(r#"<script src="/components/manager.js" data-djc-manager></script>"#, "");
    let without_manager = without_manager.replace(&exec, "");
    assert_eq!(simple, without_manager);

    // Ignore: as rendered.
    assert_eq!(
        renderer.with_dependencies(&out, Strategy::Ignore).await.unwrap(),
        out.html
    );
}

/// The strategies that inline JS/CSS leave the media store alone: nothing will fetch from it.
#[tokio::test]
async fn inlining_strategies_write_nothing_to_the_media_store() {
    let renderer = renderer();
    let out = renderer
        .render::<Btn>(&BtnProps {
            label: "C".into(),
            color: "red".into(),
        })
        .await
        .unwrap();
    for strategy in [
        Strategy::Document,
        Strategy::Simple,
        Strategy::Prepend,
        Strategy::Append,
    ] {
        renderer.with_dependencies(&out, strategy).await.unwrap();
    }
    let cls = cache_components::class_id::<Btn>();
    let red = var_hash(&out, MediaKind::Css, r#"{"color":"red"}"#);
    for key in [
        media_key(&cls, MediaKind::Css, None),
        media_key(&cls, MediaKind::Css, Some(&red)),
    ] {
        assert!(renderer.media_cache().get_raw(&key).await.unwrap().is_none(), "{key}");
    }
}

#[tokio::test]
async fn fragment_lists_urls_to_fetch_and_inlines_nothing() {
    let renderer = renderer();
    let out = renderer
        .render::<Btn>(&BtnProps {
            label: "C".into(),
            color: "red".into(),
        })
        .await
        .unwrap();
    let html = renderer.with_dependencies(&out, Strategy::Fragment).await.unwrap();
    let cls = cache_components::class_id::<Btn>();
    let red = var_hash(&out, MediaKind::Css, r#"{"color":"red"}"#);
    let c = var_hash(&out, MediaKind::Js, r#"{"msg":"C"}"#);
    let id = out.dependencies[0].id;
    let expected = format!(
        concat!(
            r#"<button class="b" data-djc-id-{idl}="" data-djc-css-{red}="">C</button>"#,
            "<script>(function() {{\nif (!globalThis.DjangoComponents && !document.querySelector('script[data-djc-manager]')) {{\n",
            "const s = document.createElement('script');\ns.src = \"/components/manager.js\";\ns.setAttribute('data-djc-manager', '');\n",
            "s.async = false;\ndocument.head.appendChild(s);\n}}\nif (document.currentScript) document.currentScript.remove();\n}})();</script>",
            r#"<script type="application/json" data-djc>{{"calls":[["{cls}","{id}","{c}"]],"#,
            r#""fetchCss":["/components/cache/{cls}.css","/components/cache/{cls}.{red}.css"],"#,
            r#""fetchJs":["/components/cache/{cls}.js","/components/cache/{cls}.{c}.js"],"loadedCss":[],"loadedJs":[]}}</script>"#
        ),
        id = id,
        idl = attr(id),
        red = red,
        cls = cls,
        c = c
    );
    assert_eq!(html, expected);

    // The media the URLs name is in the store.
    let media = renderer.media_cache();
    for key in [
        media_key(&cls, MediaKind::Js, None),
        media_key(&cls, MediaKind::Css, None),
        media_key(&cls, MediaKind::Js, Some(&c)),
        media_key(&cls, MediaKind::Css, Some(&red)),
    ] {
        assert!(key.starts_with(MEDIA_KEY_PREFIX));
        assert!(media.get_raw(&key).await.unwrap().is_some(), "{key}");
    }
    let sheet = media
        .get_raw(&media_key(&cls, MediaKind::Css, Some(&red)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        std::str::from_utf8(&sheet).unwrap(),
        format!("/* {cls} */\n[data-djc-css-{red}] {{\n  --color: red;\n}}")
    );
}

#[tokio::test]
async fn multi_root_and_nested_roots_get_every_owner_s_attribute() {
    let renderer = renderer();
    let out = renderer.render::<Wrap>(&NoProps {}).await.unwrap();
    let d = &out.dependencies;
    // Wrap, Multi, Btn.
    assert_eq!(d.len(), 3);
    let green = var_hash(&out, MediaKind::Css, r#"{"color":"green"}"#);
    let html = renderer.with_dependencies(&out, Strategy::Ignore).await.unwrap();
    assert_eq!(html, out.html);
    let cls = cache_components::class_id::<Btn>();
    let w = var_hash(&out, MediaKind::Js, r#"{"msg":"W"}"#);
    let appended = renderer.with_dependencies(&out, Strategy::Append).await.unwrap();
    let content = format!(
        concat!(
            r#"text <li data-djc-id-{wrap}="" data-djc-id-{multi}="">a<b>x</b></li><br data-djc-id-{wrap}="" data-djc-id-{multi}="">"#,
            r#"<li data-djc-id-{wrap}="" data-djc-id-{multi}="">b</li> more"#,
            r#"<p data-djc-id-{wrap}=""><button class="b" data-djc-id-{btn}="" data-djc-css-{green}="">W</button></p>"#
        ),
        wrap = attr(d[0].id),
        multi = attr(d[1].id),
        btn = attr(d[2].id),
        green = green
    );
    let js = format!("{}{}", btn_js(&cls), js_vars(&cls, &w, "W"));
    let css = format!(
        "<style>.b {{ color: var(--color); }}</style>{}",
        css_sheet(&cls, &green, "green")
    );
    assert_eq!(appended, format!("{content}{js}{css}"));
    let prepended = renderer.with_dependencies(&out, Strategy::Prepend).await.unwrap();
    assert_eq!(prepended, format!("{js}{css}{content}"));
    // No </head> or </body>: a document places nothing, and says so by leaving the content be.
    let simple = renderer.with_dependencies(&out, Strategy::Simple).await.unwrap();
    assert_eq!(simple, content);
}

#[tokio::test]
async fn placeholders_get_the_media_or_nothing() {
    let renderer = renderer();
    let out = renderer.render::<Placed>(&NoProps {}).await.unwrap();
    let d = &out.dependencies;
    let cls = cache_components::class_id::<Btn>();
    let red = var_hash(&out, MediaKind::Css, r#"{"color":"red"}"#);
    let p = var_hash(&out, MediaKind::Js, r#"{"msg":"P"}"#);
    let button = format!(
        r#"<button class="b" data-djc-id-{}="" data-djc-css-{red}="">P</button>"#,
        attr(d[1].id)
    );
    let css = format!(
        "<style>.b {{ color: var(--color); }}</style>{}",
        css_sheet(&cls, &red, "red")
    );
    let js = format!("{}{}", btn_js(&cls), js_vars(&cls, &p, "P"));
    let simple = renderer.with_dependencies(&out, Strategy::Simple).await.unwrap();
    assert_eq!(
        simple,
        format!(r#"<div data-djc-id-{}="">{css}{button}{js}</div>"#, attr(d[0].id))
    );
    let appended = renderer.with_dependencies(&out, Strategy::Append).await.unwrap();
    assert_eq!(
        appended,
        format!(r#"<div data-djc-id-{}="">{button}</div>{js}{css}"#, attr(d[0].id))
    );
}

#[tokio::test]
async fn cache_hits_get_attributes_with_fresh_ids() {
    // Output-cached components keep their spans through the stored form.
    struct Cached;
    impl Component for Cached {
        const NAME: &'static str = "Cached";
        type Props = NoProps;
        fn view(&self) -> View<Self> {
            View::template(r#"<section>{{ component("Multi") }}</section><aside></aside>"#)
        }
        fn output_cache(&self) -> cache_components::OutputCache {
            cache_components::OutputCache::enabled()
        }
    }
    let mut registry = Registry::new();
    registry.register(Multi).unwrap().register(Cached).unwrap();
    let renderer = Renderer::new(registry, cache_components::embedded_caches(), Default::default()).unwrap();
    for round in 0..2 {
        let out = renderer.render::<Cached>(&NoProps {}).await.unwrap();
        assert_eq!(out.stats.hits, round);
        let html = renderer.with_dependencies(&out, Strategy::Simple).await.unwrap();
        let (c, m) = (attr(out.dependencies[0].id), attr(out.dependencies[1].id));
        assert_eq!(
            html,
            format!(
                concat!(
                    r#"<section data-djc-id-{c}="">text <li data-djc-id-{m}="">a<b>x</b></li><br data-djc-id-{m}="">"#,
                    r#"<li data-djc-id-{m}="">b</li> more</section><aside data-djc-id-{c}=""></aside>"#
                ),
                c = c,
                m = m
            )
        );
    }
}

#[test]
fn strategies_parse_and_media_with_end_tags_is_refused() {
    for name in ["document", "fragment", "simple", "prepend", "append", "ignore"] {
        assert_eq!(name.parse::<Strategy>().unwrap().as_str(), name);
    }
    assert!("inline".parse::<Strategy>().is_err());

    struct Bad;
    impl Component for Bad {
        const NAME: &'static str = "Bad";
        type Props = NoProps;
        fn view(&self) -> View<Self> {
            View::template("<p></p>")
        }
        fn js(&self) -> Option<Cow<'static, str>> {
            Some("document.write('</script>')".into())
        }
    }
    let error = Registry::new().register(Bad).err().unwrap();
    assert!(matches!(error, ComponentError::Definition { .. }), "{error}");
    assert!(error.to_string().contains("</script"), "{error}");
}

#[tokio::test]
async fn unclosed_children_do_not_hide_later_roots() {
    struct Loose;
    impl Component for Loose {
        const NAME: &'static str = "Loose";
        type Props = NoProps;
        fn view(&self) -> View<Self> {
            View::template("<ul><li>a<li>b</ul><p>x<p>y")
        }
    }
    let mut registry = Registry::new();
    registry.register(Loose).unwrap();
    let renderer = Renderer::new(registry, cache_components::embedded_caches(), Default::default()).unwrap();
    let out = renderer.render::<Loose>(&NoProps {}).await.unwrap();
    let html = renderer.with_dependencies(&out, Strategy::Simple).await.unwrap();
    let id = attr(out.dependencies[0].id);
    // Explicitly closed roots are found after unclosed children; a root closed only implicitly
    // (`<p>x<p>y`: the second `<p>` ends the first) hides the sibling that closes it — the
    // rewriter tracks end tags, not the HTML tree builder's implied ones.
    assert_eq!(
        html,
        format!(r#"<ul data-djc-id-{id}=""><li>a<li>b</ul><p data-djc-id-{id}="">x<p>y"#)
    );
}

/// The final HTML in one call equals the render then `with_dependencies`; the strategies that
/// write nothing also work without awaiting, and `fragment` says how to do it instead.
#[tokio::test]
async fn one_call_gives_the_final_html_and_only_fragment_needs_an_await() {
    let renderer = renderer().with_id_seed(7);
    for strategy in [Strategy::Document, Strategy::Simple, Strategy::Append, Strategy::Ignore] {
        let one_call = renderer.render::<Doc>(&NoProps {}).strategy(strategy).await.unwrap();
        let output = renderer.render::<Doc>(&NoProps {}).await.unwrap();
        let two_calls = renderer.with_dependencies(&output, strategy).await.unwrap();
        assert_eq!(one_call.html, two_calls, "{strategy}");
        assert_eq!(renderer.html_with(&output, strategy).unwrap(), two_calls, "{strategy}");
    }
    let output = renderer.render::<Doc>(&NoProps {}).await.unwrap();
    let error = renderer.html_with(&output, Strategy::Fragment).unwrap_err();
    assert!(matches!(error, ComponentError::FragmentNeedsAwait), "{error:?}");
    assert!(error.to_string().contains("with_dependencies"), "{error}");
    let fragment = renderer
        .render::<Doc>(&NoProps {})
        .strategy(Strategy::Fragment)
        .await
        .unwrap();
    assert_eq!(
        fragment.html,
        renderer.with_dependencies(&output, Strategy::Fragment).await.unwrap()
    );
}
