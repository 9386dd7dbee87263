//! The `[components]` section of the configuration file: Django's `COMPONENTS` setting.

use std::collections::BTreeMap;

use cache_core::CachesConfig;
use serde::Deserialize;

use crate::error::ComponentError;
use crate::output_cache::settings::{DEFAULT_ALIAS, OutputCache, Ttl};

/// The `[components]` section, read with [`ComponentsConfig::from_caches_config`].
///
/// ```toml
/// [components]
/// media_cache = "component-media"  # the alias JS/CSS are stored in (`cache`, django-components' name, also works)
/// output_cache_alias = "fragments" # the alias rendered output goes to when a component doesn't name one
/// output_cache = true              # false turns every component's output cache off, whatever its code says
///
/// [components.overrides.Card] # one component's output cache settings, over what its code says
/// enabled = true
/// ttl = 60                    # seconds, "default", "never" or "dont_store"
/// cache = "fragments"
/// include_slots = true
/// ```
///
/// Every key is optional. Unknown keys are refused, as everywhere in the workspace's
/// configuration, so a typo doesn't silently leave caching off.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentsConfig {
    /// The alias component JS/CSS and JS/CSS variables are stored in (an embedded store when
    /// absent): django-components' `COMPONENTS.cache`, which moves only the JS/CSS — rendered output
    /// goes where [`ComponentsConfig::output_cache_alias`] says. Prefer the clearer
    /// [`ComponentsConfig::media_cache`]; giving both with different aliases is an error.
    #[serde(default)]
    pub cache: Option<String>,
    /// The same as [`ComponentsConfig::cache`], named for what it moves.
    #[serde(default)]
    pub media_cache: Option<String>,
    /// The alias rendered output is cached in for every component whose settings leave the alias
    /// at [`crate::DEFAULT_ALIAS`] (`OutputCache::cache` not set, no override naming one). Absent:
    /// `default`.
    #[serde(default)]
    pub output_cache_alias: Option<String>,
    /// The master switch of output caching: when false no component's output is cached.
    #[serde(default = "on")]
    pub output_cache: bool,
    /// Per-component output cache settings, by component name, applied over the component's own.
    #[serde(default)]
    pub overrides: BTreeMap<String, OutputCacheOverride>,
}

fn on() -> bool {
    true
}

impl Default for ComponentsConfig {
    fn default() -> Self {
        ComponentsConfig {
            cache: None,
            media_cache: None,
            output_cache_alias: None,
            output_cache: true,
            overrides: BTreeMap::new(),
        }
    }
}

impl ComponentsConfig {
    /// The `[components]` section of a loaded configuration file (matched ignoring case, so Django's
    /// `COMPONENTS` works), or the defaults when the file has none.
    pub fn from_caches_config(config: &CachesConfig) -> Result<Self, ComponentError> {
        let section = config.section::<ComponentsConfig>("components");
        let section = section.map_err(ComponentError::Config)?.unwrap_or_default();
        section.media_alias()?;
        Ok(section)
    }

    /// The media store's alias: `media_cache`, or `cache`; both naming different aliases is an error.
    pub(crate) fn media_alias(&self) -> Result<Option<&str>, ComponentError> {
        match (self.cache.as_deref(), self.media_cache.as_deref()) {
            (Some(cache), Some(media)) if cache != media => Err(ComponentError::config(
                "components.media_cache",
                format!(
                    "`cache = \"{cache}\"` and `media_cache = \"{media}\"` both name the JS/CSS alias; \
                     keep one (`media_cache`); the output cache's alias is `output_cache_alias`"
                ),
            )),
            (cache, media) => Ok(media.or(cache)),
        }
    }

    /// The settings component `name` runs with: its own, with this section's override and master
    /// switch applied.
    pub fn settings_for(&self, name: &str, declared: OutputCache) -> OutputCache {
        let mut settings = declared;
        if let Some(alias) = &self.output_cache_alias
            && settings.cache == DEFAULT_ALIAS
        {
            settings.cache.clone_from(alias);
        }
        if let Some(over) = self.overrides.get(name) {
            over.apply(&mut settings);
        }
        if !self.output_cache {
            settings.enabled = false;
        }
        settings
    }
}

/// Some of a component's output cache settings, from `[components.overrides.<Name>]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputCacheOverride {
    /// Replaces `enabled` when given.
    pub enabled: Option<bool>,
    /// Replaces `ttl` when given.
    pub ttl: Option<Ttl>,
    /// Replaces the alias when given.
    pub cache: Option<String>,
    /// Replaces `include_slots` when given.
    pub include_slots: Option<bool>,
}

impl OutputCacheOverride {
    fn apply(&self, settings: &mut OutputCache) {
        if let Some(enabled) = self.enabled {
            settings.enabled = enabled;
        }
        if let Some(ttl) = self.ttl {
            settings.ttl = ttl;
        }
        if let Some(cache) = &self.cache {
            settings.cache.clone_from(cache);
        }
        if let Some(include) = self.include_slots {
            settings.include_slots = include;
        }
    }
}

#[cfg(test)]
mod tests {
    use cache_core::ConfigFormat;

    use super::*;

    fn load(text: &str) -> Result<ComponentsConfig, ComponentError> {
        let config = CachesConfig::from_str_with_env(text, ConfigFormat::Toml, Vec::<(String, String)>::new())
            .map_err(ComponentError::Config)?;
        ComponentsConfig::from_caches_config(&config)
    }

    #[test]
    fn a_file_without_the_section_gets_the_defaults() {
        let config = load("[caches.default]\nbackend = \"dummy\"\n").unwrap();
        assert_eq!(config, ComponentsConfig::default());
        assert!(config.output_cache);
    }

    #[test]
    fn overrides_apply_over_the_code_and_the_master_switch_wins() {
        let config = load(
            r#"
            [caches.default]
            backend = "dummy"
            [components]
            cache = "media"
            [components.overrides.Card]
            ttl = 60
            include_slots = true
            "#,
        )
        .unwrap();
        assert_eq!(config.cache.as_deref(), Some("media"));
        let card = config.settings_for("Card", OutputCache::enabled());
        assert_eq!(card.ttl, Ttl::Seconds(60.0));
        assert!(card.include_slots && card.enabled);
        assert_eq!(
            config.settings_for("Other", OutputCache::disabled()),
            OutputCache::disabled()
        );

        let off = ComponentsConfig {
            output_cache: false,
            ..config
        };
        assert!(!off.settings_for("Card", OutputCache::enabled()).enabled);
    }

    #[test]
    fn unknown_keys_and_bad_ttls_are_refused() {
        let base = "[caches.default]\nbackend = \"dummy\"\n";
        let typo = format!("{base}[components]\noutput_cahce = false\n");
        assert!(load(&typo).unwrap_err().to_string().contains("output_cahce"));
        let zero = format!("{base}[components.overrides.Card]\nttl = 0\n");
        assert!(load(&zero).unwrap_err().to_string().contains("dont_store"));
    }

    #[test]
    fn the_output_alias_and_the_media_alias_are_each_named_for_what_they_move() {
        let config = load(
            r#"
            [caches.default]
            backend = "dummy"
            [components]
            media_cache = "media"
            output_cache_alias = "fragments"
            [components.overrides.Pinned]
            cache = "default"
            "#,
        )
        .unwrap();
        assert_eq!(config.media_alias().unwrap(), Some("media"));
        assert_eq!(config.settings_for("Card", OutputCache::enabled()).cache, "fragments");
        assert_eq!(
            config.settings_for("Own", OutputCache::enabled().cache("own")).cache,
            "own"
        );
        assert_eq!(config.settings_for("Pinned", OutputCache::enabled()).cache, "default");
        // `cache` (django-components' name) still works, and saying the same alias twice is fine.
        let same = load("[caches.default]\nbackend = \"dummy\"\n[components]\ncache = \"m\"\nmedia_cache = \"m\"\n");
        assert_eq!(same.unwrap().media_alias().unwrap(), Some("m"));
        let error = load("[caches.default]\nbackend = \"dummy\"\n[components]\ncache = \"a\"\nmedia_cache = \"b\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("media_cache") && error.contains("output_cache_alias"),
            "{error}"
        );
    }
}
