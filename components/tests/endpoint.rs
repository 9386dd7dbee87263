//! The media endpoint through its axum router, in-process: status codes, headers, rebuilt class
//! entries, path fuzzing (no 5xx, no read outside the media namespace), and the media store on a
//! real Redis alias.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Method, Request, StatusCode, header};
use cache_components::{
    Component, ComponentsConfig, MediaKind, NoProps, Registry, RenderOutput, Renderer, Strategy as Deps, View,
    media_key, media_router, media_url,
};
use cache_core::testkit::servers::RedisServer;
use cache_core::{
    BackendError, BackendRegistration, Backends, Bytes, CacheBackend, Caches, CachesConfig, Capabilities, ConfigFormat,
    Expiry, async_trait,
};
use parking_lot::Mutex;
use proptest::prelude::*;
use tower::ServiceExt;

mod common;
use common::{Btn, BtnProps};

/// No JS, no CSS.
struct Plain;

impl Component for Plain {
    const NAME: &'static str = "Plain";
    type Props = NoProps;

    fn view(&self) -> View<Self> {
        View::template("<p>plain</p>")
    }
}

fn registry() -> Registry {
    let mut registry = Registry::new();
    registry.register(Btn).unwrap().register(Plain).unwrap();
    registry
}

async fn request(renderer: &Renderer, method: Method, uri: &str, headers: &[(&str, &str)]) -> axum::response::Response {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    media_router(renderer.clone())
        .oneshot(builder.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn body(response: axum::response::Response) -> String {
    String::from_utf8(to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec()).unwrap()
}

fn header_of(response: &axum::response::Response, name: header::HeaderName) -> &str {
    response
        .headers()
        .get(&name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
}

/// Renders a fragment (which stores its variables) and returns the output.
async fn fragment(renderer: &Renderer, label: &str) -> RenderOutput {
    let output = renderer
        .render::<Btn>(&BtnProps {
            label: label.into(),
            color: label.into(),
        })
        .await
        .unwrap();
    renderer.with_dependencies(&output, Deps::Fragment).await.unwrap();
    output
}

fn hash_of(output: &RenderOutput, kind: MediaKind) -> String {
    output
        .variables
        .iter()
        .find(|v| v.kind == kind)
        .unwrap()
        .hash
        .to_string()
}

#[tokio::test]
async fn entries_are_served_with_types_etags_and_cache_control() {
    let renderer = Renderer::new(registry(), cache_components::embedded_caches(), Default::default()).unwrap();
    let output = fragment(&renderer, "red").await;
    let cls = cache_components::class_id::<Btn>();

    let js = request(&renderer, Method::GET, &media_url(&cls, MediaKind::Js, None), &[]).await;
    assert_eq!(js.status(), StatusCode::OK);
    assert_eq!(header_of(&js, header::CONTENT_TYPE), "text/javascript; charset=utf-8");
    assert_eq!(header_of(&js, header::CACHE_CONTROL), "no-cache");
    let etag = header_of(&js, header::ETAG).to_owned();
    assert!(etag.starts_with('"') && etag.len() == 34, "{etag}");
    assert_eq!(
        body(js).await,
        format!(
            "DjangoComponents.manager.registerComponent(\"{cls}\", (data, ctx) => {{ ctx.els[0].title = data.msg; }});"
        )
    );

    let css_hash = hash_of(&output, MediaKind::Css);
    let url = media_url(&cls, MediaKind::Css, Some(&css_hash));
    let css = request(&renderer, Method::GET, &url, &[]).await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(header_of(&css, header::CONTENT_TYPE), "text/css; charset=utf-8");
    assert_eq!(
        header_of(&css, header::CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    let css_etag = header_of(&css, header::ETAG).to_owned();
    let css_body = body(css).await;
    assert_eq!(
        css_body,
        format!("/* {cls} */\n[data-djc-css-{css_hash}] {{\n  --color: red;\n}}")
    );

    let head = request(&renderer, Method::HEAD, &url, &[]).await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(header_of(&head, header::CONTENT_LENGTH), css_body.len().to_string());
    assert_eq!(header_of(&head, header::ETAG), css_etag);
    assert_eq!(body(head).await, "");

    for if_none_match in [css_etag.as_str(), &format!("\"x\", W/{css_etag}"), "*"] {
        let again = request(&renderer, Method::GET, &url, &[("if-none-match", if_none_match)]).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{if_none_match}");
        assert_eq!(header_of(&again, header::ETAG), css_etag);
        assert_eq!(body(again).await, "");
    }
    let changed = request(&renderer, Method::GET, &url, &[("if-none-match", "\"other\"")]).await;
    assert_eq!(changed.status(), StatusCode::OK);

    let js_hash = hash_of(&output, MediaKind::Js);
    let vars = request(
        &renderer,
        Method::GET,
        &media_url(&cls, MediaKind::Js, Some(&js_hash)),
        &[],
    )
    .await;
    assert_eq!(vars.status(), StatusCode::OK);
    assert_eq!(
        body(vars).await,
        format!(r#"DjangoComponents.manager.registerComponentData("{cls}", "{js_hash}", {{"msg":"red"}});"#)
    );
}

#[tokio::test]
async fn unknown_or_malformed_names_are_404_and_other_methods_405() {
    let renderer = Renderer::new(registry(), cache_components::embedded_caches(), Default::default()).unwrap();
    let _ = fragment(&renderer, "red").await;
    let cls = cache_components::class_id::<Btn>();
    let plain = cache_components::class_id::<Plain>();
    for uri in [
        format!("/components/cache/{plain}.js"),
        format!("/components/cache/{plain}.css"),
        "/components/cache/Nope_000000.js".to_owned(),
        format!("/components/cache/{cls}.html"),
        format!("/components/cache/{cls}.0000000000000000.js"),
        format!("/components/cache/{cls}.00.js"),
        format!("/components/cache/{cls}.js/"),
        format!("/components/cache/x/{cls}.js"),
        format!("/components/cache/{}.js", cls.to_uppercase()),
        "/components/cache/".to_owned(),
        "/components/cache/%2e%2e%2fsecret.js".to_owned(),
    ] {
        let response = request(&renderer, Method::GET, &uri, &[]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{uri}");
    }
    for method in [
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
        Method::PATCH,
    ] {
        let response = request(&renderer, method.clone(), &media_url(&cls, MediaKind::Js, None), &[]).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(header_of(&response, header::ALLOW), "GET, HEAD");
    }
}

#[tokio::test]
async fn a_class_entry_missing_from_the_cache_is_rebuilt_from_the_registry() {
    let renderer = Renderer::new(registry(), cache_components::embedded_caches(), Default::default()).unwrap();
    let cls = cache_components::class_id::<Btn>();
    let key = media_key(&cls, MediaKind::Css, None);
    // Nothing rendered yet: nothing stored.
    assert!(renderer.media_cache().get_raw(&key).await.unwrap().is_none());
    let response = request(&renderer, Method::GET, &media_url(&cls, MediaKind::Css, None), &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body(response).await, ".b { color: var(--color); }");
    assert_eq!(
        renderer.media_cache().get_raw(&key).await.unwrap().as_deref(),
        Some(&b".b { color: var(--color); }"[..]),
        "written back"
    );
    // Variables can't be rebuilt: only a render knows the data.
    renderer.media_cache().clear().await.unwrap();
    let response = request(
        &renderer,
        Method::GET,
        &media_url(&cls, MediaKind::Css, Some("00ff00ff00ff00ff")),
        &[],
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // store_media writes every class entry.
    renderer.store_media().await.unwrap();
    assert!(renderer.media_cache().get_raw(&key).await.unwrap().is_some());
}

/// Class ids name a type, not its code: a class entry an older build left in a shared media cache
/// is not served; this build's content is, and replaces it.
#[tokio::test]
async fn a_class_entry_an_older_build_stored_is_replaced() {
    let renderer = Renderer::new(registry(), cache_components::embedded_caches(), Default::default()).unwrap();
    let cls = cache_components::class_id::<Btn>();
    let key = media_key(&cls, MediaKind::Css, None);
    renderer
        .media_cache()
        .set_raw(&key, Bytes::from_static(b".b { color: black; } /* last week's */"))
        .await
        .unwrap();
    let response = request(&renderer, Method::GET, &media_url(&cls, MediaKind::Css, None), &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body(response).await, ".b { color: var(--color); }");
    assert_eq!(
        renderer.media_cache().get_raw(&key).await.unwrap().as_deref(),
        Some(&b".b { color: var(--color); }"[..])
    );
}

/// A store recording every key read, holding a secret outside the media namespace.
#[derive(Debug, Default)]
struct Recording {
    reads: Mutex<Vec<String>>,
    entries: Mutex<HashMap<String, Bytes>>,
}

#[async_trait]
impl CacheBackend for Recording {
    fn capabilities(&self) -> Capabilities {
        Capabilities::lenient()
    }
    async fn get(&self, key: &str) -> cache_core::BackendResult<Option<Bytes>> {
        self.reads.lock().push(key.to_owned());
        Ok(self.entries.lock().get(key).cloned())
    }
    async fn set(&self, key: &str, value: Bytes, _: Expiry) -> cache_core::BackendResult<()> {
        self.entries.lock().insert(key.to_owned(), value);
        Ok(())
    }
    async fn add(&self, key: &str, value: Bytes, _: Expiry) -> cache_core::BackendResult<bool> {
        let mut entries = self.entries.lock();
        if entries.contains_key(key) {
            return Ok(false);
        }
        entries.insert(key.to_owned(), value);
        Ok(true)
    }
    async fn touch(&self, key: &str, _: Expiry) -> cache_core::BackendResult<bool> {
        Ok(self.entries.lock().contains_key(key))
    }
    async fn delete(&self, key: &str) -> cache_core::BackendResult<bool> {
        Ok(self.entries.lock().remove(key).is_some())
    }
    async fn incr(&self, _key: &str, _: i64) -> cache_core::BackendResult<i64> {
        Err(BackendError::key_not_found())
    }
    async fn clear(&self) -> cache_core::BackendResult<()> {
        self.entries.lock().clear();
        Ok(())
    }
}

fn recording_renderer() -> (Renderer, Arc<Recording>) {
    let recording = Arc::new(Recording::default());
    let backend = Arc::clone(&recording);
    let mut backends = Backends::new();
    backends.register(BackendRegistration::new(&["recording"], move |_| {
        Ok(Arc::clone(&backend) as Arc<dyn CacheBackend>)
    }));
    let config = CachesConfig::from_str_with_env(
        "[caches.default]\nbackend = \"locmem\"\n[caches.media]\nbackend = \"recording\"\n",
        ConfigFormat::Toml,
        Vec::<(String, String)>::new(),
    )
    .unwrap();
    backends.register(cache_locmem::registration());
    let caches = Caches::build(&config, &backends).unwrap();
    let config = ComponentsConfig {
        cache: Some("media".into()),
        ..Default::default()
    };
    (Renderer::new(registry(), caches, config).unwrap(), recording)
}

fn path_strategy(cls: String) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(cls),
        Just("Plain_000000".to_owned()),
        Just(".".to_owned()),
        Just("/".to_owned()),
        Just("..".to_owned()),
        Just("%2f".to_owned()),
        Just("%00".to_owned()),
        Just("js".to_owned()),
        Just("css".to_owned()),
        Just(":".to_owned()),
        Just("secret".to_owned()),
        Just("__components".to_owned()),
        "[0-9a-f]{16}",
        "[A-Za-z0-9_.:%-]{0,12}",
    ];
    (
        prop_oneof![
            Just("/components/cache/"),
            Just("/components/cache"),
            Just("/components/"),
            Just("/")
        ],
        proptest::collection::vec(piece, 0..6),
    )
        .prop_map(|(prefix, pieces)| format!("{prefix}{}", pieces.concat()))
}

#[test]
fn fuzzed_paths_never_fail_and_never_read_outside_the_media_namespace() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let (renderer, recording) = recording_renderer();
    recording
        .entries
        .lock()
        .insert(":1:secret".to_owned(), Bytes::from_static(b"SECRET"));
    runtime.block_on(async { fragment(&renderer, "red").await });
    let cls = cache_components::class_id::<Btn>();
    let config = ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(path in path_strategy(cls.clone()), post in any::<bool>())| {
        let Ok(uri) = path.parse::<axum::http::Uri>() else { return Ok(()) };
        let method = if post { Method::POST } else { Method::GET };
        let response = runtime.block_on(async {
            media_router(renderer.clone())
                .oneshot(Request::builder().method(method).uri(uri).body(Body::empty()).unwrap())
                .await
                .unwrap()
        });
        prop_assert!(!response.status().is_server_error(), "{path}: {}", response.status());
        let text = runtime.block_on(body(response));
        prop_assert!(!text.contains("SECRET"), "{path}");
        for key in recording.reads.lock().drain(..) {
            prop_assert!(key.starts_with(":1:__components:"), "{path} read {key}");
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_media_store_works_on_a_real_redis_alias() {
    let server = RedisServer::start().await.unwrap();
    let config = CachesConfig::from_str_with_env(
        &format!(
            "[caches.default]\nbackend = \"locmem\"\n[caches.media]\nbackend = \"redis\"\nlocation = \"{}\"\n\
             key_prefix = \"site\"\n",
            server.url()
        ),
        ConfigFormat::Toml,
        Vec::<(String, String)>::new(),
    )
    .unwrap();
    let mut backends = Backends::new();
    backends.register(cache_redis::registration());
    backends.register(cache_locmem::registration());
    let build = || {
        let caches = Caches::build(&config, &backends).unwrap();
        let settings = ComponentsConfig {
            cache: Some("media".into()),
            ..Default::default()
        };
        Renderer::new(registry(), caches, settings).unwrap()
    };
    let first = build();
    assert_eq!(first.media_cache().alias(), "media");
    first.store_media().await.unwrap();
    let output = fragment(&first, "blue").await;
    let cls = cache_components::class_id::<Btn>();
    let css_hash = hash_of(&output, MediaKind::Css);

    // Another process, the same server: it serves what the first stored.
    let second = build();
    let url = media_url(&cls, MediaKind::Css, Some(&css_hash));
    let response = request(&second, Method::GET, &url, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body(response).await.contains("--color: blue;"));
    for kind in [MediaKind::Js, MediaKind::Css] {
        assert!(
            second
                .media_cache()
                .get_raw(&media_key(&cls, kind, None))
                .await
                .unwrap()
                .is_some()
        );
    }

    // Evicted class entries come back from the registry.
    second.media_cache().clear().await.unwrap();
    let response = request(&second, Method::GET, &media_url(&cls, MediaKind::Js, None), &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        first
            .media_cache()
            .get_raw(&media_key(&cls, MediaKind::Js, None))
            .await
            .unwrap()
            .is_some()
    );
}
