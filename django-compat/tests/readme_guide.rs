//! The conversion guide of cache-core's README ("Converting a Django project's `CACHES`"): each
//! Django setting (a `python` block) and the file beside it (the `toml` block after it) load, build
//! with every backend registered, and mean the same for every alias.

use cache_core::{Caches, CachesConfig, ConfigFormat, Location};
use cache_django_compat::{Meaning, backends, meaning, settings_to_json};

const README: &str = include_str!("../../cache-core/README.md");
const SECTION: &str = "### Converting a Django project's `CACHES`";

/// The fenced code blocks of the guide, as (language, text).
fn guide_blocks() -> Vec<(String, String)> {
    let start = README.find(SECTION).expect("the README has the conversion guide");
    let guide = &README[start + SECTION.len()..];
    let guide = guide.find("\n## ").map_or(guide, |end| &guide[..end]);
    let mut blocks = Vec::new();
    let mut lines = guide.lines();
    while let Some(line) = lines.next() {
        if let Some(language) = line.strip_prefix("```") {
            let text: Vec<&str> = lines.by_ref().take_while(|line| !line.starts_with("```")).collect();
            blocks.push((language.to_owned(), text.join("\n")));
        }
    }
    blocks
}

fn load(text: &str, format: ConfigFormat) -> CachesConfig {
    let config = CachesConfig::from_str_with_env(text, format, [] as [(&str, &str); 0])
        .unwrap_or_else(|error| panic!("{error}\n{text}"));
    Caches::build(&config, &backends()).unwrap_or_else(|error| panic!("{error}\n{text}"));
    config
}

/// What each alias means, its location as the list of entries a backend reads (Django's `;`
/// string and a list are the same servers).
fn meanings(config: &CachesConfig) -> Vec<(String, Meaning)> {
    config
        .aliases
        .keys()
        .map(|alias| {
            let mut meaning = meaning(config, alias).unwrap_or_else(|error| panic!("{error}"));
            meaning.location = Location::Many(meaning.location.entries());
            (alias.clone(), meaning)
        })
        .collect()
}

#[test]
fn every_django_setting_of_the_guide_means_what_the_file_beside_it_means() {
    let blocks = guide_blocks();
    let pairs: Vec<(&str, &str)> = blocks
        .windows(2)
        .filter(|pair| pair[0].0 == "python" && pair[1].0 == "toml")
        .map(|pair| (pair[0].1.as_str(), pair[1].1.as_str()))
        .collect();
    assert_eq!(pairs.len(), 4, "locmem, Redis with replicas, django-redis, pymemcache");
    for (python, toml) in pairs {
        let django = load(&settings_to_json(python), ConfigFormat::Json);
        let here = load(toml, ConfigFormat::Toml);
        assert_eq!(meanings(&django), meanings(&here), "\n{python}\n---\n{toml}");
    }
}

#[test]
fn the_guides_json_example_loads_as_it_is() {
    let blocks = guide_blocks();
    let json = README
        .split("```json\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("the README shows a json.dump(settings.CACHES) file");
    let config = load(json, ConfigFormat::Json);
    assert_eq!(meanings(&config)[0].1.backend, "locmem");
    assert!(
        blocks
            .iter()
            .all(|(language, _)| language == "python" || language == "toml")
    );
}
