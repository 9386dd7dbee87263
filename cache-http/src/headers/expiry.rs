//! `Expires` and `max-age`: Django's `patch_response_headers` and `add_never_cache_headers`.

use std::time::{Duration, SystemTime};

use http::HeaderMap;
use http::header::{EXPIRES, HeaderValue};

use super::cache_control::{CacheDirective, HeaderPatchError, patch};

/// Django's `patch_response_headers(response, cache_timeout)`: `Expires` (when absent) and
/// `Cache-Control: max-age` (the smaller of any existing one and `timeout`). A negative timeout
/// counts as 0.
pub fn patch_response_headers(headers: &mut HeaderMap, timeout: i64) -> Result<(), HeaderPatchError> {
    patch_expiry(headers, timeout, false)
}

fn patch_expiry(headers: &mut HeaderMap, timeout: i64, replace_malformed: bool) -> Result<(), HeaderPatchError> {
    let timeout = timeout.max(0);
    // Checked first so a refused patch leaves the headers as they were.
    let mut patched = headers.clone();
    patch(&mut patched, &[CacheDirective::max_age(timeout)], replace_malformed)?;
    if !patched.contains_key(EXPIRES) {
        let at = SystemTime::now() + Duration::from_secs(timeout.unsigned_abs());
        let date = HeaderValue::from_str(&httpdate::fmt_http_date(at)).expect("an HTTP date is a valid header value");
        patched.insert(EXPIRES, date);
    }
    *headers = patched;
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
