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

/// `seconds` from now, or the latest time an HTTP date can carry when that is further.
pub(crate) fn seconds_from_now(seconds: u64) -> SystemTime {
    SystemTime::now()
        .checked_add(Duration::from_secs(seconds))
        .unwrap_or(UNIX_EPOCH + LATEST)
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
}
