//! Expiry to memcached's `exptime`: whole seconds, relative up to 30 days, an absolute unix time
//! beyond (Django's 30-day rule), and nothing memcached would misread.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cache_core::{BackendError, BackendResult, Expiry};

/// memcached reads an `exptime` up to this many seconds (30 days) as relative, above it as a
/// unix time.
pub const RELATIVE_LIMIT_SECONDS: u64 = 60 * 60 * 24 * 30;

/// The last unix time memcached can be given: it parses `exptime` as a signed 32-bit number, so
/// anything later wraps to a time in the past and the item is stored already expired
/// (2038-01-19 03:14:07 UTC).
pub const LAST_ABSOLUTE_EXPTIME: u64 = i32::MAX as u64;

/// The `exptime` for `expiry`, given the current unix time in seconds.
///
/// - `Never` is 0.
/// - A duration is rounded **up** to whole seconds (memcached's resolution), so a positive
///   timeout never becomes 0 ("never") nor expires at once: 0.2 s is 1 s, 1.5 s is 2 s.
/// - Up to 30 days it is sent as is; beyond, as `now + seconds` (Django's 30-day rule).
/// - A time past [`LAST_ABSOLUTE_EXPTIME`] is an error: memcached would store the value
///   already expired, silently.
pub(crate) fn exptime(expiry: Expiry, now: u64) -> BackendResult<u32> {
    let duration = match expiry {
        Expiry::Never => return Ok(0),
        Expiry::After(duration) => duration,
    };
    let seconds = whole_seconds_up(duration).max(1);
    if seconds <= RELATIVE_LIMIT_SECONDS {
        return Ok(seconds as u32);
    }
    match now.checked_add(seconds) {
        Some(at) if at <= LAST_ABSOLUTE_EXPTIME => Ok(at as u32),
        _ => Err(BackendError::unsupported(format!(
            "memcached can't store a timeout of {seconds} seconds: timeouts over 30 days are sent as \
             an absolute unix time, and memcached's 32-bit time ends at 2038-01-19 03:14:07 UTC, so the \
             value would be stored already expired; use a shorter timeout or `never`"
        ))),
    }
}

/// The current unix time in whole seconds (0 on a clock set before 1970).
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

fn whole_seconds_up(duration: Duration) -> u64 {
    duration
        .as_secs()
        .saturating_add(u64::from(duration.subsec_nanos() > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_750_000_000;

    fn after(seconds: f64) -> Expiry {
        Expiry::After(Duration::from_secs_f64(seconds))
    }

    #[test]
    fn never_is_zero() {
        assert_eq!(exptime(Expiry::Never, NOW).unwrap(), 0);
    }

    #[test]
    fn fractions_round_up() {
        assert_eq!(exptime(after(0.001), NOW).unwrap(), 1);
        assert_eq!(exptime(after(0.5), NOW).unwrap(), 1);
        assert_eq!(exptime(after(1.0), NOW).unwrap(), 1);
        assert_eq!(exptime(after(1.5), NOW).unwrap(), 2);
        assert_eq!(exptime(after(100.7), NOW).unwrap(), 101);
        assert_eq!(exptime(Expiry::After(Duration::from_nanos(1)), NOW).unwrap(), 1);
    }

    #[test]
    fn thirty_days_is_relative_and_a_second_more_absolute() {
        assert_eq!(exptime(after(10.0), NOW).unwrap(), 10);
        assert_eq!(exptime(after(2_592_000.0), NOW).unwrap(), 2_592_000);
        assert_eq!(exptime(after(2_592_001.0), NOW).unwrap(), (NOW + 2_592_001) as u32);
        assert_eq!(exptime(after(31_536_000.0), NOW).unwrap(), (NOW + 31_536_000) as u32);
        // 30 days and a fraction rounds up past the limit.
        assert_eq!(exptime(after(2_592_000.5), NOW).unwrap(), (NOW + 2_592_001) as u32);
    }

    #[test]
    fn past_2038_is_an_error() {
        let last = LAST_ABSOLUTE_EXPTIME - NOW;
        assert_eq!(exptime(after(last as f64), NOW).unwrap(), i32::MAX as u32);
        let error = exptime(after((last + 1) as f64), NOW).unwrap_err();
        assert!(!error.is_retryable());
        assert!(error.to_string().contains("2038-01-19 03:14:07 UTC"), "{error}");
        assert!(exptime(Expiry::After(Duration::MAX), NOW).is_err());
    }
}
