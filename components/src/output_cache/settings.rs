//! A component's output cache settings: Django-components' `Component.Cache`, with an explicit ttl.

use std::fmt;

use cache_core::Timeout;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The alias output is cached in when a component doesn't name one (Django's `"default"`).
pub const DEFAULT_ALIAS: &str = "default";

/// Whether and how a component's rendered output is cached.
///
/// Off by default, as in django-components: a component's props may not capture everything its
/// output depends on (the database, the time), so caching is the component author's decision.
///
/// ```
/// use cache_components::{OutputCache, Ttl};
///
/// let settings = OutputCache::enabled().ttl(Ttl::Seconds(60.0)).cache("fragments").include_slots(true);
/// assert!(settings.enabled);
/// assert_eq!(OutputCache::default(), OutputCache::disabled());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OutputCache {
    /// Whether output is cached at all.
    pub enabled: bool,
    /// How long an entry lives.
    pub ttl: Ttl,
    /// The cache alias entries go to.
    pub cache: String,
    /// Whether the slot contents are part of the key. Without it, two renders that differ only in
    /// what fills the slots share one entry (the first one stored is shown for both).
    pub include_slots: bool,
    /// Whether the key is [`crate::Component::cache_key`] (django-components' `Cache.hash`)
    /// rather than the props. Without it, a template's call is keyed by its arguments as given
    /// and a call from Rust by its typed props; with it, both by the component's key.
    pub own_key: bool,
}

impl OutputCache {
    /// Caching off: every render runs the template.
    pub fn disabled() -> Self {
        OutputCache {
            enabled: false,
            ttl: Ttl::AliasDefault,
            cache: DEFAULT_ALIAS.to_owned(),
            include_slots: false,
            own_key: false,
        }
    }

    /// Caching on, in the `default` alias, for the alias' default timeout, slots not in the key.
    pub fn enabled() -> Self {
        OutputCache {
            enabled: true,
            ..OutputCache::disabled()
        }
    }

    /// With this ttl.
    pub fn ttl(mut self, ttl: Ttl) -> Self {
        self.ttl = ttl;
        self
    }

    /// In this alias.
    pub fn cache(mut self, alias: impl Into<String>) -> Self {
        self.cache = alias.into();
        self
    }

    /// With (or without) the slot contents in the key.
    pub fn include_slots(mut self, include: bool) -> Self {
        self.include_slots = include;
        self
    }

    /// Keyed by [`crate::Component::cache_key`] instead of the props.
    pub fn own_key(mut self) -> Self {
        self.own_key = true;
        self
    }

    /// Whether anything is read from or written to a cache.
    pub(crate) fn stores(&self) -> bool {
        self.enabled && self.ttl != Ttl::DontStore
    }
}

impl Default for OutputCache {
    fn default() -> Self {
        OutputCache::disabled()
    }
}

/// How long a cached render lives.
///
/// django-components passes its `ttl` straight to Django as `timeout`, so what its docs promise
/// and what happens differ (`None` never expires instead of using the alias default, `-1` is never
/// stored instead of kept forever). Each case is its own variant here, and nothing depends on a
/// backend's reading of a number.
///
/// In configuration: a positive number of seconds, `"default"`, `"never"` or `"dont_store"`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Ttl {
    /// The alias' configured `timeout`.
    #[default]
    AliasDefault,
    /// Kept until evicted or deleted.
    Never,
    /// Kept this many seconds (fractions kept). Must be positive and finite: a renderer with zero,
    /// a negative number or NaN here refuses to start — say [`Ttl::DontStore`] instead.
    Seconds(f64),
    /// Never stored nor read: the component renders every time, as if caching were off. What
    /// django-components documents for `ttl=0`.
    DontStore,
}

impl Ttl {
    /// The façade timeout for a write, `None` for [`Ttl::DontStore`].
    pub(crate) fn timeout(self) -> Option<Timeout> {
        match self {
            Ttl::AliasDefault => Some(Timeout::Default),
            Ttl::Never => Some(Timeout::Never),
            Ttl::Seconds(seconds) => Some(Timeout::Seconds(seconds)),
            Ttl::DontStore => None,
        }
    }

    /// Why this ttl can't be used, if it can't.
    pub(crate) fn problem(self) -> Option<String> {
        match self {
            Ttl::Seconds(seconds) if !(seconds.is_finite() && seconds > 0.0) => Some(format!(
                "ttl must be a positive, finite number of seconds, not {seconds}; \
                 use \"dont_store\" (Ttl::DontStore) to keep output out of the cache"
            )),
            _ => None,
        }
    }
}

impl Serialize for Ttl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Ttl::AliasDefault => serializer.serialize_str("default"),
            Ttl::Never => serializer.serialize_str("never"),
            Ttl::Seconds(seconds) => serializer.serialize_f64(*seconds),
            Ttl::DontStore => serializer.serialize_str("dont_store"),
        }
    }
}

impl<'de> Deserialize<'de> for Ttl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TtlVisitor;

        impl Visitor<'_> for TtlVisitor {
            type Value = Ttl;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a positive number of seconds, "default", "never" or "dont_store""#)
            }

            fn visit_f64<E: de::Error>(self, seconds: f64) -> Result<Ttl, E> {
                let ttl = Ttl::Seconds(seconds);
                match ttl.problem() {
                    Some(problem) => Err(E::custom(problem)),
                    None => Ok(ttl),
                }
            }

            fn visit_i64<E: de::Error>(self, seconds: i64) -> Result<Ttl, E> {
                self.visit_f64(seconds as f64)
            }

            fn visit_u64<E: de::Error>(self, seconds: u64) -> Result<Ttl, E> {
                self.visit_f64(seconds as f64)
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Ttl, E> {
                match text.to_ascii_lowercase().as_str() {
                    "default" => Ok(Ttl::AliasDefault),
                    "never" => Ok(Ttl::Never),
                    "dont_store" => Ok(Ttl::DontStore),
                    _ => Err(E::invalid_value(de::Unexpected::Str(text), &self)),
                }
            }
        }

        deserializer.deserialize_any(TtlVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_reads_every_documented_spelling_and_refuses_the_ambiguous_ones() {
        let parse = |text: &str| serde_json::from_str::<Ttl>(text);
        assert_eq!(parse(r#""default""#).unwrap(), Ttl::AliasDefault);
        assert_eq!(parse(r#""NEVER""#).unwrap(), Ttl::Never);
        assert_eq!(parse(r#""dont_store""#).unwrap(), Ttl::DontStore);
        assert_eq!(parse("60").unwrap(), Ttl::Seconds(60.0));
        assert_eq!(parse("0.5").unwrap(), Ttl::Seconds(0.5));
        // django-components' 0 and -1 mean different things in its docs and its code: refused here.
        for ambiguous in ["0", "-1", "null", r#""forever""#, r#""60""#] {
            assert!(parse(ambiguous).is_err(), "{ambiguous}");
        }
    }

    #[test]
    fn ttl_maps_to_facade_timeouts() {
        assert_eq!(Ttl::AliasDefault.timeout(), Some(Timeout::Default));
        assert_eq!(Ttl::Never.timeout(), Some(Timeout::Never));
        assert_eq!(Ttl::Seconds(2.5).timeout(), Some(Timeout::Seconds(2.5)));
        assert_eq!(Ttl::DontStore.timeout(), None);
        assert!(Ttl::Seconds(0.0).problem().is_some());
        assert!(Ttl::Seconds(f64::NAN).problem().is_some());
        assert!(Ttl::Seconds(f64::INFINITY).problem().is_some());
    }

    #[test]
    fn caching_is_off_by_default_and_dont_store_stores_nothing() {
        assert!(!OutputCache::default().stores());
        assert!(OutputCache::enabled().stores());
        assert!(!OutputCache::enabled().ttl(Ttl::DontStore).stores());
    }
}
