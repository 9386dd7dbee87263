//! The alias' `options`: the near store, the far alias, the backplane and fail-safe, each read once
//! from one table of [`OptionField`]s.

use std::time::Duration;

use cache_core::option_values::{HasCircuit, OptionField, OptionValue};
use cache_core::{CacheError, CircuitSettings, Options, Result};

/// How a tiered alias behaves. Read from an alias' `options` by the registry, or set in code through
/// [`TieredBackend::builder`](crate::TieredBackend::builder). Non-exhaustive so options can grow.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TieredOptions {
    /// The far alias (any registered backend) the near tier stands in front of. Required in a
    /// configuration; set in code by giving the builder the far backend.
    pub far: String,
    /// Entries the near store holds before a write culls (locmem's `max_entries`).
    pub max_entries: u64,
    /// How much of the near store a cull removes (locmem's `cull_frequency`).
    pub cull_frequency: u64,
    /// The longest a value is served from the near tier before the far tier is asked again; never
    /// longer than the lifetime the value was written with.
    pub near_timeout: Duration,
    /// The Redis URL of the backplane (`redis://127.0.0.1:6379`); `None`: no backplane, and
    /// processes see each other's writes only when their near entries expire (`near_timeout`).
    pub backplane: Option<String>,
    /// The pub/sub channel every process of this alias shares; `cache-tiered:<alias>` by default.
    pub backplane_channel: Option<String>,
    /// How often the backplane connection is checked with a `PING`.
    pub backplane_heartbeat: Duration,
    /// The longest the near tier keeps serving after the backplane last answered: the bound on how
    /// stale a near value can be when invalidations stop arriving (a hung or unreachable server).
    pub backplane_max_staleness: Duration,
    /// The circuit breaker invalidations are published through: after `failures` publishes in a
    /// row went unanswered, writes skip the publish for `cool_down`, then one probes. The
    /// project's defaults (5, one second); `failures` 0 never opens it.
    pub backplane_circuit: CircuitSettings,
    /// How long a value is kept, after it was last known good, to be served when the far tier fails
    /// (FusionCache's `FailSafeMaxDuration`); zero turns fail-safe off.
    pub fail_safe_max: Duration,
    /// After the far tier failed for a key, how long its stale value is served without asking the
    /// far tier again (FusionCache's `FailSafeThrottleDuration`).
    pub fail_safe_throttle: Duration,
}

impl Default for TieredOptions {
    fn default() -> Self {
        TieredOptions {
            far: String::new(),
            max_entries: 10_000,
            cull_frequency: 3,
            near_timeout: Duration::from_secs(60),
            backplane: None,
            backplane_channel: None,
            backplane_heartbeat: Duration::from_millis(250),
            backplane_max_staleness: Duration::from_secs(1),
            backplane_circuit: CircuitSettings::default(),
            fail_safe_max: Duration::ZERO,
            fail_safe_throttle: Duration::from_secs(1),
        }
    }
}

const COUNT: &str = "a whole number, 0 or more";

/// `0` turns the option off; anything else is a number of seconds, as every timeout option reads.
fn seconds_or_off(value: &OptionValue<'_>) -> Result<Duration> {
    let zero = match value.value() {
        serde_json::Value::Number(number) => number.as_f64() == Some(0.0),
        serde_json::Value::String(text) => text.trim().parse::<f64>().ok() == Some(0.0),
        _ => false,
    };
    if zero { Ok(Duration::ZERO) } else { value.seconds() }
}

const FIELDS: &[OptionField<TieredOptions>] = &[
    OptionField::new(&["far"], |options, value| {
        options.far = value.text("the name of another alias")?.to_owned();
        Ok(())
    }),
    OptionField::new(&["max_entries"], |options, value| {
        options.max_entries = value.whole_number(0..=u64::MAX, COUNT)?;
        Ok(())
    }),
    OptionField::new(&["cull_frequency"], |options, value| {
        options.cull_frequency = value.whole_number(0..=u64::MAX, COUNT)?;
        Ok(())
    }),
    OptionField::new(&["near_timeout"], |options, value| {
        options.near_timeout = value.seconds()?;
        Ok(())
    }),
    OptionField::new(&["backplane"], |options, value| {
        let url = value.text("a redis:// URL")?;
        redis::Client::open(url).map_err(|error| value.invalid(&format!("a redis:// URL ({error})")))?;
        options.backplane = Some(url.to_owned());
        Ok(())
    }),
    OptionField::new(&["backplane_channel"], |options, value| {
        options.backplane_channel = Some(value.text("a channel name")?.to_owned());
        Ok(())
    }),
    OptionField::new(&["backplane_heartbeat"], |options, value| {
        options.backplane_heartbeat = value.seconds()?;
        Ok(())
    }),
    OptionField::new(&["backplane_max_staleness"], |options, value| {
        options.backplane_max_staleness = value.seconds()?;
        Ok(())
    }),
    OptionField::circuit_failures(&["backplane_circuit_failures"]),
    OptionField::circuit_cooldown(&["backplane_circuit_cooldown"]),
    OptionField::new(&["fail_safe_max"], |options, value| {
        options.fail_safe_max = seconds_or_off(value)?;
        Ok(())
    }),
    OptionField::new(&["fail_safe_throttle"], |options, value| {
        options.fail_safe_throttle = value.seconds()?;
        Ok(())
    }),
];

impl HasCircuit for TieredOptions {
    fn circuit_settings(&mut self) -> &mut CircuitSettings {
        &mut self.backplane_circuit
    }
}

impl TieredOptions {
    /// Reads the options of `alias`, refusing unknown ones and a missing `far`.
    pub fn from_options(alias: &str, options: &Options) -> Result<TieredOptions> {
        let parsed: TieredOptions = options.read(alias, FIELDS)?;
        if parsed.far.is_empty() {
            return Err(CacheError::config(
                Some(alias),
                "options.far",
                "required by the tiered backend: name the alias the near tier stands in front of (`far = \"redis\"`)",
            ));
        }
        parsed.check(Some(alias))?;
        Ok(parsed)
    }

    /// The checks that span two options.
    pub(crate) fn check(&self, alias: Option<&str>) -> Result<()> {
        // The configuration's `seconds()` refuses it already; the builder takes a `Duration`.
        if self.backplane_heartbeat.is_zero() {
            return Err(CacheError::config(
                alias,
                "options.backplane_heartbeat",
                "must be longer than zero: the listener pings the backplane this often; 0.25 s is the default",
            ));
        }
        // The rule every breaker's options follow, under this alias' names for them.
        if let Some((option, problem)) = self.backplane_circuit.check() {
            let option = option.replace("options.circuit_", "options.backplane_circuit_");
            return Err(CacheError::config(alias, &option, problem));
        }
        if self.backplane.is_some() && self.backplane_max_staleness <= self.backplane_heartbeat {
            return Err(CacheError::config(
                alias,
                "options.backplane_max_staleness",
                format!(
                    "must be longer than backplane_heartbeat ({:?}), or every heartbeat would find the near tier \
                     already unvouched; raise it or shorten the heartbeat",
                    self.backplane_heartbeat
                ),
            ));
        }
        Ok(())
    }
}
