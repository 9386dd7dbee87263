//! The `[components]` section of the configuration file: Django's `COMPONENTS` setting.

use std::collections::BTreeMap;

use cache_core::CachesConfig;
use serde::Deserialize;

use crate::error::ComponentError;
use crate::output_cache::settings::{OutputCache, Ttl};

/// The `[components]` section, read with [`ComponentsConfig::from_caches_config`].
///
/// ```toml
/// [components]
/// cache = "component-media"   # the alias JS/CSS are stored in (django-components' COMPONENTS.cache)
/// output_cache = true         # false turns every component's output cache off, whatever its code says
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
    /// The alias component JS/CSS and JS/CSS variables are stored in (an embedded store when absent).
    #[serde(default)]
    pub cache: Option<String>,
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
        Ok(section.map_err(ComponentError::Config)?.unwrap_or_default())
    }

    /// The settings component `name` runs with: its own, with this section's override and master
    /// switch applied.
    pub fn settings_for(&self, name: &str, declared: OutputCache) -> OutputCache {
        let mut settings = declared;
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
}
