//! The file backend built from configuration: names, locations, options and the errors that
//! say what to fix.

use cache_core::{Backends, CacheError, Caches, CachesConfig, ConfigFormat};

fn build(text: &str) -> cache_core::Result<Caches> {
    let mut backends = Backends::new();
    backends.register(cache_file::registration());
    let config = CachesConfig::from_str(text, ConfigFormat::Toml)?;
    Caches::build(&config, &backends)
}

#[tokio::test]
async fn djangos_class_path_and_options_load() -> cache_core::Result<()> {
    let root = tempfile::tempdir().unwrap();
    let directory = root.path().join("django_cache");
    let caches = build(&format!(
        r#"
        [caches.default]
        backend = "django.core.cache.backends.filebased.FileBasedCache"
        location = "{}"
        options = {{ max_entries = 30, cull_frequency = "2" }}
        "#,
        directory.display()
    ))?;
    assert!(directory.is_dir(), "created at build");
    let cache = caches.default_cache();
    cache.set("k", "v").await?;
    assert_eq!(cache.get::<String>("k").await?.as_deref(), Some("v"));
    assert!(format!("{:?}", cache.backend()).contains("max_entries: 30, cull_frequency: 2"));
    Ok(())
}

#[test]
fn a_location_that_cant_be_a_directory_names_the_alias_and_the_fix() {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let error = build(&format!(
        "[caches.default]\nbackend = \"file\"\nlocation = \"{}\"\n",
        file.join("cache").display()
    ))
    .unwrap_err();
    assert!(matches!(error, CacheError::Config { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.starts_with("cache alias `default`: location: "), "{message}");
    assert!(message.contains(&file.join("cache").display().to_string()), "{message}");
    assert!(message.contains("could not be created"), "{message}");

    let error = build(&format!(
        "[caches.default]\nbackend = \"file\"\nlocation = \"{}\"\n",
        file.display()
    ))
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("is not a directory") && error.contains("remove what is there"),
        "{error}"
    );
}

#[test]
fn a_missing_location_or_a_list_is_refused() {
    let error = build("[caches.default]\nbackend = \"file\"\n").unwrap_err().to_string();
    assert!(
        error.contains("location: the file backend keeps its files in one directory, but no location was given"),
        "{error}"
    );
    let error = build("[caches.default]\nbackend = \"file\"\nlocation = [\"/tmp/a\", \"/tmp/b\"]\n")
        .unwrap_err()
        .to_string();
    assert!(error.contains("a list of 2 locations was given"), "{error}");
}

#[test]
fn unknown_or_bad_options_name_the_option() {
    let root = tempfile::tempdir().unwrap();
    let error = build(&format!(
        "[caches.default]\nbackend = \"file\"\nlocation = \"{}\"\noptions = {{ max_entries = -1 }}\n",
        root.path().display()
    ))
    .unwrap_err()
    .to_string();
    assert_eq!(
        error,
        "cache alias `default`: options.max_entries: expected a whole number, 0 or more; got -1"
    );
}

#[test]
fn the_builder_requires_a_directory() {
    let error = cache_file::FileBackend::builder().build().unwrap_err().to_string();
    assert!(
        error.contains("directory: the file backend needs a directory"),
        "{error}"
    );
}

#[test]
fn a_call_outside_a_runtime_says_so() {
    use cache_core::CacheBackend;
    let root = tempfile::tempdir().unwrap();
    let backend = cache_file::FileBackend::builder()
        .directory(root.path())
        .build()
        .unwrap();
    let error = futures_lite_block_on(backend.get(":1:k")).unwrap_err();
    assert!(error.to_string().contains("outside a tokio runtime"), "{error}");
}

/// Polls a future to completion without a runtime (the backend must refuse, not hang).
fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}
