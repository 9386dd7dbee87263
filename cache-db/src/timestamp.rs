//! The `expires` column: when an entry stops being readable, in microseconds since the Unix
//! epoch (PostgreSQL's `timestamp with time zone` keeps microseconds; Django keeps whole seconds).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cache_core::{Clock, Expiry};

/// An instant as the table stores it: microseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Moment(u64);

/// What Django stores for an entry that never expires: `datetime.max` without its microseconds,
/// 9999-12-31 23:59:59 UTC.
pub(crate) const NEVER: Moment = Moment(253_402_300_799 * 1_000_000);

impl Moment {
    /// Microseconds since the epoch.
    #[cfg(test)]
    pub(crate) fn micros(self) -> u64 {
        self.0
    }

    /// For PostgreSQL's `timestamp with time zone`.
    pub(crate) fn system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_micros(self.0)
    }

    /// For SQLite, where Django's `datetime` column holds text: `YYYY-MM-DD HH:MM:SS.ffffff` in UTC.
    /// Django writes the same form without the fraction; both compare correctly as text, since a
    /// whole second sorts before any fraction of it.
    pub(crate) fn sqlite_text(self) -> String {
        if self == NEVER {
            return "9999-12-31 23:59:59".to_owned();
        }
        let seconds = self.0 / 1_000_000;
        let micros = self.0 % 1_000_000;
        let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
        let of_day = seconds % 86_400;
        format!(
            "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{micros:06}",
            of_day / 3600,
            of_day / 60 % 60,
            of_day % 60
        )
    }
}

/// "Now" and expiries, on the system's wall clock or on a manual [`Clock`] (tests), read as time
/// since the Unix epoch so that every backend built with one manual clock agrees.
#[derive(Debug, Clone)]
pub(crate) struct WallTime {
    clock: Clock,
}

impl WallTime {
    pub(crate) fn new(clock: Clock) -> Self {
        WallTime { clock }
    }

    pub(crate) fn now(&self) -> Moment {
        if self.clock.is_manual() {
            return Moment(self.clock.now().as_nanos() / 1000);
        }
        let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Moment(u64::try_from(since.as_micros()).unwrap_or(NEVER.0))
    }

    /// The `expires` of a write now. A positive expiry shorter than a microsecond still lasts one,
    /// and the far future stops at [`NEVER`].
    pub(crate) fn expires(&self, expiry: Expiry) -> Moment {
        match expiry {
            Expiry::Never => NEVER,
            Expiry::After(after) => {
                let after = u64::try_from(after.as_micros()).unwrap_or(u64::MAX).max(1);
                Moment(self.now().0.saturating_add(after).min(NEVER.0))
            }
        }
    }
}

/// Howard Hinnant's `civil_from_days`: the proleptic Gregorian date of a day count since
/// 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_text_is_djangos_form_with_microseconds() {
        assert_eq!(Moment(0).sqlite_text(), "1970-01-01 00:00:00.000000");
        // 2024-02-29 12:34:56.789012 UTC
        assert_eq!(
            Moment(1_709_210_096_789_012).sqlite_text(),
            "2024-02-29 12:34:56.789012"
        );
        assert_eq!(NEVER.sqlite_text(), "9999-12-31 23:59:59");
        assert_eq!(Moment(NEVER.0 - 1).sqlite_text(), "9999-12-31 23:59:58.999999");
        // Django's whole-second text sorts before any fraction of the same second.
        assert!("2024-02-29 12:34:56" < "2024-02-29 12:34:56.000001");
    }

    #[test]
    fn expiries_move_with_a_manual_clock_and_stop_at_never() {
        let clock = Clock::manual();
        let time = WallTime::new(clock.clone());
        let at = time.expires(Expiry::After(Duration::from_millis(500)));
        assert_eq!(at.micros() - time.now().micros(), 500_000);
        clock.advance(Duration::from_millis(500));
        assert_eq!(at, time.now());
        assert_eq!(
            time.expires(Expiry::After(Duration::from_nanos(1))).micros(),
            time.now().micros() + 1
        );
        assert_eq!(time.expires(Expiry::After(Duration::MAX)), NEVER);
        assert_eq!(time.expires(Expiry::Never), NEVER);
        assert_eq!(NEVER.system_time(), UNIX_EPOCH + Duration::from_secs(253_402_300_799));
    }
}
