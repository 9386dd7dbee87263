//! [`Subject`]: the caches a conformance run works on, and how time passes for them.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::{
    AliasConfig, Backends, Cache, Caches, CachesConfig, Capabilities, Clock, KeyFunction, Location, Options, Result,
    Timeout,
};

/// The alias names a [`Subject`] defines. The first five are the aliases of Django's cache tests
/// (`caches_setting_for_tests` in `tests/cache/tests.py`); the others differ only in their default
/// `timeout`.
pub mod aliases {
    /// No prefix, version 1, the default key function, a 300-second default timeout.
    pub const DEFAULT: &str = "default";
    /// `key_prefix = "cacheprefix"`.
    pub const PREFIX: &str = "prefix";
    /// `version = 2`.
    pub const V2: &str = "v2";
    /// `key_function = "custom_key_func"` (Django passes the function itself).
    pub const CUSTOM_KEY: &str = "custom_key";
    /// The same function under a second name (Django passes it as a dotted path).
    pub const CUSTOM_KEY2: &str = "custom_key2";
    /// `timeout = "never"` (Django's `TIMEOUT: None`).
    pub const NO_TIMEOUT: &str = "no_timeout";
    /// `timeout = 0`: nothing written with the default timeout is readable.
    pub const ZERO_TIMEOUT: &str = "zero_timeout";
    /// `timeout = 1`: a default short enough to watch expire.
    pub const ONE_SECOND_TIMEOUT: &str = "one_second_timeout";
    /// `timeout = 31536000` (a year: memcached reads anything over 30 days as an absolute time).
    pub const ONE_YEAR_TIMEOUT: &str = "one_year_timeout";

    /// Every alias, in the order above.
    pub const ALL: [&str; 9] = [
        DEFAULT,
        PREFIX,
        V2,
        CUSTOM_KEY,
        CUSTOM_KEY2,
        NO_TIMEOUT,
        ZERO_TIMEOUT,
        ONE_SECOND_TIMEOUT,
        ONE_YEAR_TIMEOUT,
    ];
}

/// The name `custom_key` selects its key function by.
const CUSTOM_KEY_FUNC: &str = "custom_key_func";
/// The second name of the same function, for `custom_key2`.
const CUSTOM_KEY_FUNC_PATH: &str = "tests.custom_key_func";

/// Django's test key function: `CUSTOM-{prefix}-{version}-{key}`.
pub fn custom_key_func(key: &str, prefix: &str, version: i64) -> String {
    format!("CUSTOM-{prefix}-{version}-{key}")
}

/// The key functions a [`Subject`]'s aliases name; register them before building its config yourself.
pub fn key_functions() -> [KeyFunction; 2] {
    [
        KeyFunction::custom(CUSTOM_KEY_FUNC, custom_key_func),
        KeyFunction::custom(CUSTOM_KEY_FUNC_PATH, custom_key_func),
    ]
}

/// How the suite lets time pass when it waits for entries to expire.
#[derive(Debug, Clone)]
pub enum Time {
    /// The backend reads real time (a server does): the suite sleeps, with tokio.
    Real,
    /// The backend reads this manual clock: the suite advances it instead of sleeping.
    Manual(Clock),
}

/// A backend under test: its aliases, built over one storage, and how time passes for it.
#[derive(Debug, Clone)]
pub struct Subject {
    caches: Caches,
    time: Time,
    capabilities: Capabilities,
}

impl Subject {
    /// Builds every alias of [`Subject::config`] with `backend` (a name registered in `backends`),
    /// all with the same `location` and `options`, so they share one storage.
    ///
    /// The custom key functions are registered here. With [`Time::Manual`], the clock must be the
    /// one the backend's factory was given.
    pub fn build(
        mut backends: Backends,
        backend: &str,
        location: Location,
        options: Options,
        time: Time,
    ) -> Result<Self> {
        for function in key_functions() {
            backends.key_function(function);
        }
        let caches = Caches::build(&Self::config(backend, location, options), &backends)?;
        Self::new(caches, time)
    }

    /// A subject over caches built some other way; every alias of [`aliases::ALL`] must be defined.
    pub fn new(caches: Caches, time: Time) -> Result<Self> {
        for alias in aliases::ALL {
            caches.get(alias)?;
        }
        let capabilities = caches.default_cache().backend().capabilities();
        Ok(Subject {
            caches,
            time,
            capabilities,
        })
    }

    /// The configuration a subject is built from: every alias of [`aliases`] with the same backend,
    /// location and options.
    pub fn config(backend: &str, location: Location, options: Options) -> CachesConfig {
        let entry = |configure: fn(&mut AliasConfig)| {
            let mut alias = AliasConfig::new(backend);
            alias.location = location.clone();
            alias.options = options.clone();
            configure(&mut alias);
            alias
        };
        let entries: BTreeMap<String, AliasConfig> = [
            (aliases::DEFAULT, entry(|_| {})),
            (aliases::PREFIX, entry(|a| a.key_prefix = "cacheprefix".into())),
            (aliases::V2, entry(|a| a.version = 2)),
            (
                aliases::CUSTOM_KEY,
                entry(|a| a.key_function = Some(CUSTOM_KEY_FUNC.into())),
            ),
            (
                aliases::CUSTOM_KEY2,
                entry(|a| a.key_function = Some(CUSTOM_KEY_FUNC_PATH.into())),
            ),
            (aliases::NO_TIMEOUT, entry(|a| a.timeout = Timeout::Never)),
            (aliases::ZERO_TIMEOUT, entry(|a| a.timeout = Timeout::Seconds(0.0))),
            (
                aliases::ONE_SECOND_TIMEOUT,
                entry(|a| a.timeout = Timeout::Seconds(1.0)),
            ),
            (
                aliases::ONE_YEAR_TIMEOUT,
                entry(|a| a.timeout = Timeout::Seconds(31_536_000.0)),
            ),
        ]
        .into_iter()
        .map(|(name, alias)| (name.to_owned(), alias))
        .collect();
        CachesConfig {
            aliases: entries,
            ..CachesConfig::default()
        }
    }

    /// The `default` alias (Django's `cache`).
    pub fn cache(&self) -> Cache {
        self.caches.default_cache()
    }

    /// The alias named `name`, one of [`aliases`].
    ///
    /// # Panics
    /// When the alias is not defined; [`Subject::new`] checked that every one of [`aliases::ALL`] is.
    pub fn alias(&self, name: &str) -> Cache {
        match self.caches.get(name) {
            Ok(cache) => cache,
            Err(error) => panic!("{error}"),
        }
    }

    /// The `prefix` alias.
    pub fn prefix(&self) -> Cache {
        self.alias(aliases::PREFIX)
    }

    /// The `v2` alias.
    pub fn v2(&self) -> Cache {
        self.alias(aliases::V2)
    }

    /// Every alias.
    pub fn caches(&self) -> &Caches {
        &self.caches
    }

    /// What the backend declares it can do; the suite chooses its tests by this.
    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// How time passes.
    pub fn time(&self) -> &Time {
        &self.time
    }

    /// Whether time is a manual clock (moving it is free, and it must not move under a running test).
    pub fn time_is_manual(&self) -> bool {
        matches!(self.time, Time::Manual(_))
    }

    /// Lets `duration` pass: sleeps in real time, or advances the manual clock.
    pub async fn wait(&self, duration: Duration) {
        match &self.time {
            Time::Real => tokio::time::sleep(duration).await,
            Time::Manual(clock) => {
                clock.advance(duration);
            }
        }
    }

    /// Empties the storage of every alias (some backends clear only the keys of the alias asked).
    pub async fn clear(&self) -> Result<()> {
        for cache in self.caches.all() {
            cache.clear().await?;
        }
        Ok(())
    }
}
