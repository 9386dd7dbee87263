//! HTTP dates (`Sun, 06 Nov 1994 08:49:37 GMT`) as headers carry them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The last second an HTTP date can write: 9999-12-31 23:59:59 UTC.
const LATEST: Duration = Duration::from_secs(253_402_300_799);

/// `time` as an HTTP date, clamped to the years one can carry, 1970 to 9999. A handler's
/// `Last-Modified` before 1970, or an `Expires` from a timeout centuries long, gets the nearest
/// date that can be written instead of failing the request (Django would write the year as
/// Python prints it).
pub(crate) fn http_date(time: SystemTime) -> String {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).min(LATEST);
    httpdate::fmt_http_date(UNIX_EPOCH + since_epoch)
}

/// `time` without its fraction of a second, toward the epoch as Python's `int(dt.timestamp())`:
/// what an HTTP date can carry, before 1970 too.
pub(crate) fn whole_seconds(time: SystemTime) -> SystemTime {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => UNIX_EPOCH + Duration::from_secs(after.as_secs()),
        Err(before) => UNIX_EPOCH - Duration::from_secs(before.duration().as_secs()),
    }
}

/// `seconds` from now, or the latest time an HTTP date can carry when that is further.
pub(crate) fn seconds_from_now(seconds: u64) -> SystemTime {
    SystemTime::now()
        .checked_add(Duration::from_secs(seconds))
        .unwrap_or(UNIX_EPOCH + LATEST)
}

/// Django's `parse_http_date_safe`: an RFC 1123 (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) or asctime (`Sun Nov  6 08:49:37 1994`) date, matched as
/// Django's three patterns match them; anything else, or a date that doesn't exist, is `None`.
///
/// As Django: the weekday is not checked against the date, the month is read in any case, and a
/// year below 100 (`94`, or a four-digit `0037`) is put in the century that makes it at most 50
/// years ahead of the current year. (`httpdate`, which writes the dates, rejects a wrong weekday and
/// reads two-digit years differently.)
pub(crate) fn parse_http_date(value: &str) -> Option<SystemTime> {
    parse_http_date_in(value, current_year())
}

/// [`parse_http_date`] as if the current year were `current_year`.
fn parse_http_date_in(value: &str, current_year: i64) -> Option<SystemTime> {
    let fields = rfc1123(value.as_bytes())
        .or_else(|| rfc850(value.as_bytes()))
        .or_else(|| asctime(value.as_bytes()))?;
    let mut year = fields.year;
    if year < 100 {
        let century = current_year - current_year % 100;
        year += if year - current_year % 100 > 50 {
            century - 100
        } else {
            century
        };
    }
    let month = MONTHS
        .iter()
        .position(|month| month.eq_ignore_ascii_case(fields.month))? as i64
        + 1;
    let (day, hour, minute, second) = (fields.day, fields.hour, fields.minute, fields.second);
    // Python's `datetime` refuses what doesn't exist: year 0, 30 February, 24:00, a 60th second.
    if year < 1 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second;
    let magnitude = Duration::from_secs(seconds.unsigned_abs());
    if seconds >= 0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
    }
}

const MONTHS: [&[u8]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];

/// A date's parts as one of the three patterns found them, not yet checked.
struct Fields<'a> {
    year: i64,
    month: &'a [u8],
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
}

/// `^\w{3}, DD Mon YYYY HH:MM:SS GMT$`
fn rfc1123(value: &[u8]) -> Option<Fields<'_>> {
    weekday_first(value, (3, 3), b" ", 4)
}

/// `^\w{6,9}, DD-Mon-YY HH:MM:SS GMT$`
fn rfc850(value: &[u8]) -> Option<Fields<'_>> {
    weekday_first(value, (6, 9), b"-", 2)
}

/// The shape RFC 1123 and RFC 850 share: `^\w{min,max}, DD<sep>Mon<sep>Y… HH:MM:SS GMT$`.
fn weekday_first<'a>(
    value: &'a [u8],
    (min, max): (usize, usize),
    separator: &[u8],
    year_digits: usize,
) -> Option<Fields<'a>> {
    let rest = word(value, min, max)?.strip_prefix(b", ")?;
    let (day, rest) = digits(rest, 2)?;
    let (month, rest) = month(rest.strip_prefix(separator)?)?;
    let (year, rest) = digits(rest.strip_prefix(separator)?, year_digits)?;
    let (hour, minute, second, rest) = time(rest.strip_prefix(b" ")?)?;
    (rest == b" GMT").then_some(Fields {
        year,
        month,
        day,
        hour,
        minute,
        second,
    })
}

/// `^\w{3} Mon [ 0-9][0-9] HH:MM:SS YYYY$`
fn asctime(value: &[u8]) -> Option<Fields<'_>> {
    let rest = word(value, 3, 3)?.strip_prefix(b" ")?;
    let (month, rest) = month(rest)?;
    let rest = rest.strip_prefix(b" ")?;
    // A space may stand for the day's tens digit.
    let (day, rest) = match rest {
        [b' ', units, rest @ ..] if units.is_ascii_digit() => (i64::from(units - b'0'), rest),
        _ => digits(rest, 2)?,
    };
    let (hour, minute, second, rest) = time(rest.strip_prefix(b" ")?)?;
    let (year, rest) = digits(rest.strip_prefix(b" ")?, 4)?;
    rest.is_empty().then_some(Fields {
        year,
        month,
        day,
        hour,
        minute,
        second,
    })
}

/// What follows `min..=max` word characters (Python's `\w` on the ASCII a header value carries)
/// at the start of `value`, taking as many as there are (a regex would backtrack, but what follows
/// a word is never a word character here).
fn word(value: &[u8], min: usize, max: usize) -> Option<&[u8]> {
    let length = value
        .iter()
        .take_while(|byte| byte.is_ascii_alphanumeric() || **byte == b'_')
        .count();
    (min..=max).contains(&length).then(|| &value[length..])
}

/// Three word characters, the month's name as written.
fn month(value: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = word(value, 3, 3)?;
    Some((&value[..3], rest))
}

/// Exactly `count` ASCII digits.
fn digits(value: &[u8], count: usize) -> Option<(i64, &[u8])> {
    let (number, rest) = (value.get(..count)?, &value[count..]);
    if !number.iter().all(u8::is_ascii_digit) || rest.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some((
        number
            .iter()
            .fold(0, |total, digit| total * 10 + i64::from(digit - b'0')),
        rest,
    ))
}

/// `HH:MM:SS`.
fn time(value: &[u8]) -> Option<(i64, i64, i64, &[u8])> {
    let (hour, rest) = digits(value, 2)?;
    let (minute, rest) = digits(rest.strip_prefix(b":")?, 2)?;
    let (second, rest) = digits(rest.strip_prefix(b":")?, 2)?;
    Some((hour, minute, second, rest))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to `year-month-day` in the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The current year, UTC.
fn current_year() -> i64 {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| (elapsed.as_secs() / 86_400) as i64);
    // Inverse of `days_from_civil`, the year alone.
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let year = year_of_era + era * 400;
    if month_from_march >= 10 { year + 1 } else { year }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_outside_what_a_header_carries_are_clamped_not_a_panic() {
        assert_eq!(
            http_date(UNIX_EPOCH - Duration::from_secs(1)),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        assert_eq!(http_date(seconds_from_now(u64::MAX)), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(
            http_date(seconds_from_now(i64::MAX.unsigned_abs())),
            "Fri, 31 Dec 9999 23:59:59 GMT"
        );
        assert_eq!(
            http_date(UNIX_EPOCH + Duration::from_secs(784_111_777)),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
    }

    fn at(seconds: i64) -> SystemTime {
        if seconds >= 0 {
            UNIX_EPOCH + Duration::from_secs(seconds.unsigned_abs())
        } else {
            UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
        }
    }

    /// Django's `HttpDateProcessingTests.test_parsing_rfc1123`, `test_parsing_asctime` and
    /// `test_parsing_year_less_than_70`.
    #[test]
    fn the_three_formats_parse_as_djangos() {
        let sunday = Some(at(784_111_777));
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), sunday);
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), sunday);
        assert_eq!(parse_http_date_in("Sunday, 06-Nov-94 08:49:37 GMT", 2019), sunday);
        // A year under 100 gets a century even when written with four digits: 2037.
        assert_eq!(
            parse_http_date_in("Sun Nov  6 08:49:37 0037", 2026),
            Some(at(2_141_110_177))
        );
        // Not checked against the date, as in Django: the weekday, the month's case.
        assert_eq!(parse_http_date("Mon, 06 NOV 1994 08:49:37 GMT"), sunday);
        assert_eq!(parse_http_date("Xyz Nov 06 08:49:37 1994"), sunday);
        // Before 1970 is a date too.
        assert_eq!(parse_http_date("Wed, 31 Dec 1969 23:59:59 GMT"), Some(at(-1)));
    }

    /// Django's `test_parsing_rfc850`: a two-digit year is put at most 50 years ahead.
    #[test]
    fn two_digit_years_slide_with_the_current_year() {
        let cases = [
            (2019, "Tuesday, 31-Dec-69 08:49:37 GMT", 3_155_705_377),
            (2019, "Tuesday, 10-Nov-70 08:49:37 GMT", 27_074_977),
            (2019, "Sunday, 06-Nov-94 08:49:37 GMT", 784_111_777),
            (2020, "Wednesday, 31-Dec-70 08:49:37 GMT", 3_187_241_377),
            (2020, "Friday, 31-Dec-71 08:49:37 GMT", 63_017_377),
            (2048, "Sunday, 31-Dec-00 08:49:37 GMT", 978_252_577),
            (2048, "Friday, 31-Dec-99 08:49:37 GMT", 946_630_177),
        ];
        for (year, text, expected) in cases {
            assert_eq!(parse_http_date_in(text, year), Some(at(expected)), "{text} in {year}");
        }
    }

    /// Django's `test_parsing_asctime_nonascii_digits`, and what its patterns or `datetime` refuse.
    #[test]
    fn anything_else_is_no_date() {
        for text in [
            "Sun Nov  6 08:49:37 １９９４",
            "Sun Nov １２ 08:49:37 1994",
            "",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 08:49:37 GMT ",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sunday, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 30 Feb 1994 08:49:37 GMT",
            "Sun, 29 Feb 1900 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Nov 1994 08:49:60 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 19940 08:49:37 GMT",
            "Sun, 06-Nov-94 08:49:37 GMT",
            "Sun Nov 6 08:49:37 1994",
            "Sun Nov  6 08:49:37 1994 GMT",
        ] {
            assert_eq!(parse_http_date(text), None, "{text:?}");
        }
        assert_eq!(parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT"), Some(at(951_782_400)));
        // Year `0000` is below 100, so Django gives it a century too.
        assert_eq!(
            parse_http_date_in("Sun, 06 Nov 0000 08:49:37 GMT", 2026),
            Some(at(973_500_577))
        );
    }

    #[test]
    fn the_current_year_is_todays() {
        // Read on both sides of the formatted date, so a test run at New Year can't fail it.
        let before = current_year();
        let formatted = httpdate::fmt_http_date(SystemTime::now());
        let after = current_year();
        assert!(
            formatted.contains(&format!(" {before} ")) || formatted.contains(&format!(" {after} ")),
            "{formatted} vs {before}, {after}"
        );
    }

    #[test]
    fn whole_seconds_go_toward_the_epoch() {
        let half = Duration::from_millis(1_500);
        assert_eq!(whole_seconds(UNIX_EPOCH + half), UNIX_EPOCH + Duration::from_secs(1));
        assert_eq!(whole_seconds(UNIX_EPOCH - half), UNIX_EPOCH - Duration::from_secs(1));
    }

    proptest::proptest! {
        /// Any header text is a date or none, never a panic; and every date `http_date` writes
        /// reads back as itself.
        #[test]
        fn any_text_parses_or_not_without_a_panic(text in "\\PC{0,40}", seconds in 0u64..253_402_300_799) {
            let _ = parse_http_date(&text);
            let time = UNIX_EPOCH + Duration::from_secs(seconds);
            proptest::prop_assert_eq!(parse_http_date(&http_date(time)), Some(time));
        }

        /// Text shaped like a date, with any digits and names in it.
        #[test]
        fn date_shaped_text_never_panics(
            day in "[ 0-9]{2}", month in "[A-Za-z]{3}", year in "[0-9]{2,4}",
            time in "[0-9]{2}:[0-9]{2}:[0-9]{2}",
        ) {
            for text in [
                format!("Sun, {day} {month} {year} {time} GMT"),
                format!("Sunday, {day}-{month}-{year} {time} GMT"),
                format!("Sun {month} {day} {time} {year}"),
            ] {
                let _ = parse_http_date(&text);
            }
        }
    }
}
