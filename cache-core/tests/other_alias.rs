//! A backend that stands in front of another alias (`tiered`) reaches it through
//! `BackendConfig::other_alias`: built on demand whatever the order aliases are written in, and
//! every way of naming a wrong alias is a configuration error naming the option.

use std::sync::Arc;

use cache_core::{
    BackendConfig, BackendRegistration, Backends, Caches, CachesConfig, ConfigFormat, DummyBackend, Location, Options,
};

/// `front`: reads `options.behind` and fetches that alias (and keeps nothing of it).
fn backends() -> Backends {
    let mut backends = Backends::new();
    backends.register(BackendRegistration::new(&["front"], |config| {
        let behind = config
            .options
            .get("behind")
            .and_then(|value| value.as_str())
            .unwrap_or("");
        let other = config.other_alias("options.behind", behind)?;
        assert_eq!(other.alias(), behind);
        Ok(Arc::new(DummyBackend))
    }));
    backends
}

fn build(toml: &str) -> cache_core::Result<Caches> {
    Caches::build(&CachesConfig::from_str(toml, ConfigFormat::Toml)?, &backends())
}

#[test]
fn the_named_alias_is_built_first_whatever_the_order() {
    let caches = build(
        "[caches.a]\nbackend = \"front\"\noptions = { behind = \"z\" }\n\
         [caches.default]\nbackend = \"dummy\"\n[caches.z]\nbackend = \"dummy\"\n",
    )
    .unwrap();
    assert_eq!(caches.all().count(), 3);
}

#[test]
fn a_loop_an_unknown_alias_and_a_broken_one_are_named() {
    let looped = build("[caches.default]\nbackend = \"front\"\noptions = { behind = \"default\" }\n")
        .unwrap_err()
        .to_string();
    assert!(
        looped.contains("options.behind: the alias `default` leads back to this one (default → default)"),
        "{looped}"
    );
    let unknown = build("[caches.default]\nbackend = \"front\"\noptions = { behind = \"nope\" }\n")
        .unwrap_err()
        .to_string();
    assert!(
        unknown.contains("no alias `nope` is configured (configured aliases: default)"),
        "{unknown}"
    );
    let broken = build(
        "[caches.default]\nbackend = \"front\"\noptions = { behind = \"bad\" }\n[caches.bad]\nbackend = \"missing\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(broken.contains("unknown backend `missing`"), "{broken}");
    assert!(
        broken.contains("the alias `bad` it names has problems of its own"),
        "{broken}"
    );
}

#[test]
fn outside_caches_build_there_are_no_other_aliases() {
    let (location, options) = (Location::Unset, Options::default());
    let error = BackendConfig::new("solo", &location, &options)
        .other_alias("options.behind", "x")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("can only be named in a configuration built by `Caches::build`"),
        "{error}"
    );
}
