//! `Expires` and `max-age`: Django's `patch_response_headers` and `add_never_cache_headers`.

use http::HeaderMap;
use http::header::{EXPIRES, HeaderValue};

use super::cache_control::{CacheDirective, HeaderPatchError, patch};
use super::date::{http_date, seconds_from_now};

/// Django's `patch_response_headers(response, cache_timeout)`: `Expires` (when absent) and
/// `Cache-Control: max-age` (the smaller of any existing one and `timeout`). A negative timeout
/// counts as 0.
pub fn patch_response_headers(headers: &mut HeaderMap, timeout: i64) -> Result<(), HeaderPatchError> {
    patch_expiry(headers, timeout, false)
}

fn patch_expiry(headers: &mut HeaderMap, timeout: i64, replace_malformed: bool) -> Result<(), HeaderPatchError> {
    let timeout = timeout.max(0);
    // First: `patch` changes nothing when it refuses, so a refused patch leaves the headers as
    // they were.
    patch(headers, &[CacheDirective::max_age(timeout)], replace_malformed)?;
    if !headers.contains_key(EXPIRES) {
        let at = seconds_from_now(timeout.unsigned_abs());
        let date = HeaderValue::from_str(&http_date(at)).expect("an HTTP date is a valid header value");
        headers.insert(EXPIRES, date);
    }
    Ok(())
}

/// Django's `add_never_cache_headers(response)`: `Expires` now (when absent) and
/// `Cache-Control: max-age=0, no-cache, no-store, must-revalidate, private`.
///
/// A malformed `max-age` from the handler is replaced rather than refused: "never cache" wins.
pub fn add_never_cache_headers(headers: &mut HeaderMap) {
    let never = [
        CacheDirective::flag("no-cache"),
        CacheDirective::flag("no-store"),
        CacheDirective::flag("must-revalidate"),
        CacheDirective::flag("private"),
    ];
    patch_expiry(headers, -1, true).expect("a malformed max-age is replaced and the directives are fixed text");
    patch(headers, &never, true).expect("fixed directives are valid header text");
}

#[cfg(test)]
mod tests {
    use http::header::CACHE_CONTROL;

    use super::*;

    /// `cache_page(cache, i64::MAX)`, or a handler's `max-age` of centuries, under the per-site
    /// cache: an `Expires` at the last date a header can carry, not a panic.
    #[test]
    fn a_timeout_past_the_year_9999_expires_then() {
        let mut headers = HeaderMap::new();
        patch_response_headers(&mut headers, i64::MAX).unwrap();
        assert_eq!(headers[EXPIRES], "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(headers[CACHE_CONTROL], format!("max-age={}", i64::MAX));
    }

    #[test]
    fn never_cache_headers_are_djangos() {
        let mut headers = HeaderMap::new();
        add_never_cache_headers(&mut headers);
        assert_eq!(
            headers[CACHE_CONTROL],
            "max-age=0, no-cache, no-store, must-revalidate, private"
        );
        assert!(headers.contains_key(EXPIRES));
    }

    #[test]
    fn never_cache_replaces_a_malformed_max_age_and_drops_public() {
        let mut headers = HeaderMap::new();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=soon"));
        add_never_cache_headers(&mut headers);
        assert_eq!(
            headers[CACHE_CONTROL],
            "max-age=0, no-cache, no-store, must-revalidate, private"
        );
    }

    #[test]
    fn response_headers_keep_an_existing_expires_and_the_smaller_max_age() {
        let mut headers = HeaderMap::new();
        headers.insert(EXPIRES, HeaderValue::from_static("Thu, 01 Jan 2099 00:00:00 GMT"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=10"));
        patch_response_headers(&mut headers, 600).unwrap();
        assert_eq!(headers[EXPIRES], "Thu, 01 Jan 2099 00:00:00 GMT");
        assert_eq!(headers[CACHE_CONTROL], "max-age=10");
    }

    #[test]
    fn a_negative_timeout_is_zero() {
        let mut headers = HeaderMap::new();
        patch_response_headers(&mut headers, -30).unwrap();
        assert_eq!(headers[CACHE_CONTROL], "max-age=0");
    }
}
