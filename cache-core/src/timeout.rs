//! Django's `timeout` argument and how it resolves to an [`Expiry`].

use std::time::Duration;

use crate::backend::Expiry;

/// How long a write lives: Django's `timeout` argument.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Timeout {
    /// The alias' configured `timeout` (Django's `DEFAULT_TIMEOUT`).
    #[default]
    Default,
    /// Never expire (Django's `None`).
    Never,
    /// Expire after this many seconds; fractions are kept. Zero or negative expires at once, with
    /// Django's results: `set` deletes, `add` returns true but stores nothing, `touch` removes.
    Seconds(f64),
}

impl Timeout {
    /// Whole seconds, for the common case.
    pub fn secs(seconds: u64) -> Self {
        Timeout::Seconds(seconds as f64)
    }
}

impl From<Duration> for Timeout {
    fn from(duration: Duration) -> Self {
        Timeout::Seconds(duration.as_secs_f64())
    }
}

/// A timeout with the alias default applied: what the façade acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lifetime {
    /// Write, with this expiry.
    Store(Expiry),
    /// Expired before it is written: Django's zero/negative timeout.
    ExpiredAtOnce,
}

impl Lifetime {
    /// A configured or per-call number of seconds. NaN and anything not above zero expire at once;
    /// a duration too large to represent (or infinity) never expires.
    pub(crate) fn from_seconds(seconds: f64) -> Lifetime {
        if seconds.is_nan() || seconds <= 0.0 {
            return Lifetime::ExpiredAtOnce;
        }
        match Duration::try_from_secs_f64(seconds) {
            Ok(duration) if !duration.is_zero() => Lifetime::Store(Expiry::After(duration)),
            Ok(_) => Lifetime::ExpiredAtOnce,
            Err(_) => Lifetime::Store(Expiry::Never),
        }
    }

    /// Applies a per-call timeout over the alias default.
    #[inline]
    pub(crate) fn resolve(timeout: Timeout, alias_default: Lifetime) -> Lifetime {
        match timeout {
            Timeout::Default => alias_default,
            Timeout::Never => Lifetime::Store(Expiry::Never),
            Timeout::Seconds(seconds) => Lifetime::from_seconds(seconds),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_negative_and_nan_expire_at_once() {
        for s in [0.0, -0.0, -5.0, f64::NAN, f64::NEG_INFINITY, 1e-12] {
            assert_eq!(Lifetime::from_seconds(s), Lifetime::ExpiredAtOnce, "{s}");
        }
    }

    #[test]
    fn fractions_are_kept_and_huge_values_never_expire() {
        assert_eq!(
            Lifetime::from_seconds(1.5),
            Lifetime::Store(Expiry::After(Duration::from_millis(1500)))
        );
        assert_eq!(Lifetime::from_seconds(f64::INFINITY), Lifetime::Store(Expiry::Never));
        assert_eq!(Lifetime::from_seconds(1e300), Lifetime::Store(Expiry::Never));
    }

    #[test]
    fn default_takes_the_alias_value() {
        let alias = Lifetime::Store(Expiry::After(Duration::from_secs(300)));
        assert_eq!(Lifetime::resolve(Timeout::Default, alias), alias);
        assert_eq!(Lifetime::resolve(Timeout::Never, alias), Lifetime::Store(Expiry::Never));
        assert_eq!(Lifetime::resolve(Timeout::secs(0), alias), Lifetime::ExpiredAtOnce);
    }
}
