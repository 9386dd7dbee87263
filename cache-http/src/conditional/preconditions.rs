//! Django's `get_conditional_response`: RFC 9110's precondition order, with Django's choices.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use http::header::{self, HeaderMap, HeaderName};
use http::{Method, Response, StatusCode};

use super::etags::parse_etags;
use crate::headers::date::parse_http_date;
use crate::headers::joined;

/// What the request's preconditions say about a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// No precondition stops the request: serve it.
    Proceed,
    /// `If-None-Match` or `If-Modified-Since` matched a GET or HEAD: answer 304.
    NotModified,
    /// `If-Match`, `If-Unmodified-Since`, or `If-None-Match` on an unsafe method failed: answer 412.
    Failed,
}

/// Seconds since the epoch, the resolution HTTP dates have; negative before 1970, as Django's
/// `int(dt.timestamp())`. `None` for the epoch itself: Django tests its timestamps for truth, so
/// a date of 0 counts as no date there.
fn seconds(time: SystemTime) -> Option<i64> {
    let seconds = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    };
    (seconds != 0).then_some(seconds)
}

/// Django's `parse_http_date_safe` of header `name`: RFC 1123, RFC 850 or asctime, read as
/// Django reads them; anything else is no date.
pub(crate) fn http_date(headers: &HeaderMap, name: HeaderName) -> Option<SystemTime> {
    parse_http_date(headers.get(name)?.to_str().ok()?)
}

/// Django's `get_conditional_response` steps 1 to 4 (RFC 9110 section 13.2.2): `If-Match`, then
/// `If-Unmodified-Since` (only without `If-Match`), then `If-None-Match`, then `If-Modified-Since`
/// (only without `If-None-Match`, only for GET and HEAD). `etag` is the resource's (quoted) entity
/// tag and `last_modified` its modification time, each `None` when unknown.
///
/// As in Django, `If-Unmodified-Since` fails when the resource has no `last_modified`.
pub fn evaluate_preconditions(
    method: &Method,
    request: &HeaderMap,
    etag: Option<&str>,
    last_modified: Option<SystemTime>,
) -> Precondition {
    let last_modified = last_modified.and_then(seconds);
    let etags_of = |name| {
        joined(request, name)
            .map(|value| parse_etags(&value))
            .unwrap_or_default()
    };
    let if_match = etags_of(header::IF_MATCH);
    let if_none_match = etags_of(header::IF_NONE_MATCH);
    let if_unmodified_since = http_date(request, header::IF_UNMODIFIED_SINCE).and_then(seconds);
    let if_modified_since = http_date(request, header::IF_MODIFIED_SINCE).and_then(seconds);
    let safe = method == Method::GET || method == Method::HEAD;

    if !if_match.is_empty() && !if_match_passes(etag, &if_match) {
        return Precondition::Failed;
    }
    if if_match.is_empty()
        && let Some(limit) = if_unmodified_since
        && last_modified.is_none_or(|modified| modified > limit)
    {
        return Precondition::Failed;
    }
    if !if_none_match.is_empty() && !if_none_match_passes(etag, &if_none_match) {
        return if safe {
            Precondition::NotModified
        } else {
            Precondition::Failed
        };
    }
    if if_none_match.is_empty()
        && let Some(since) = if_modified_since
        && last_modified.is_some_and(|modified| modified <= since)
        && safe
    {
        return Precondition::NotModified;
    }
    Precondition::Proceed
}

/// RFC 9110 section 13.1.1: a strong comparison; `*` matches any current representation.
fn if_match_passes(target: Option<&str>, etags: &[String]) -> bool {
    match target {
        None => false,
        Some(_) if etags == ["*"] => true,
        Some(target) if target.starts_with("W/") => false,
        Some(target) => etags.iter().any(|etag| etag == target),
    }
}

/// RFC 9110 section 13.1.2: a weak comparison; `*` matches any current representation.
fn if_none_match_passes(target: Option<&str>, etags: &[String]) -> bool {
    // Django strips with `str.strip("W/")`: every leading and trailing `W` and `/`.
    let weak = |etag: &str| etag.trim_matches(|c| c == 'W' || c == '/').to_owned();
    match target {
        None => true,
        Some(_) if etags == ["*"] => false,
        Some(target) => {
            let target = weak(target);
            !etags.iter().any(|etag| weak(etag) == target)
        }
    }
}

/// Django's `_not_modified`: a 304 keeping the headers RFC 9110 section 15.4.5 asks for
/// (`Cache-Control`, `Content-Location`, `Date`, `ETag`, `Expires`, `Last-Modified`, `Vary`) and
/// the response's cookies.
pub fn not_modified(response: &HeaderMap) -> Response<Body> {
    let mut not_modified = Response::new(Body::empty());
    *not_modified.status_mut() = StatusCode::NOT_MODIFIED;
    let kept = [
        header::CACHE_CONTROL,
        header::CONTENT_LOCATION,
        header::DATE,
        header::ETAG,
        header::EXPIRES,
        header::LAST_MODIFIED,
        header::VARY,
        header::SET_COOKIE,
    ];
    for name in kept {
        for value in response.get_all(&name) {
            not_modified.headers_mut().append(name.clone(), value.clone());
        }
    }
    not_modified
}

/// Django's `_precondition_failed`: an empty 412.
pub fn precondition_failed() -> Response<Body> {
    let mut failed = Response::new(Body::empty());
    *failed.status_mut() = StatusCode::PRECONDITION_FAILED;
    failed
}

/// Django's `get_conditional_response(request, etag, last_modified, response)`: `response`
/// unchanged unless it is a 2xx and a precondition turns it into a 304 or a 412.
pub fn get_conditional_response(
    method: &Method,
    request: &HeaderMap,
    etag: Option<&str>,
    last_modified: Option<SystemTime>,
    response: Response<Body>,
) -> Response<Body> {
    if !response.status().is_success() {
        return response;
    }
    match evaluate_preconditions(method, request, etag, last_modified) {
        Precondition::Proceed => response,
        Precondition::NotModified => not_modified(response.headers()),
        Precondition::Failed => precondition_failed(),
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn request(pairs: &[(HeaderName, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(name.clone(), HeaderValue::from_static(value));
        }
        headers
    }

    const LAST_MODIFIED: &str = "Sat, 20 Oct 2007 23:21:47 GMT";

    fn modified() -> Option<SystemTime> {
        Some(parse_http_date(LAST_MODIFIED).unwrap())
    }

    /// The cases of Django's `ConditionalGetTests` (tests/conditional_processing).
    #[test]
    fn djangos_conditional_processing() {
        use Precondition::*;
        let etag = Some(r#""spam""#);
        let get = Method::GET;
        type Headers = Vec<(HeaderName, &'static str)>;
        let cases: Vec<(Method, Headers, Precondition)> = vec![
            (get.clone(), vec![], Proceed),
            (get.clone(), vec![(header::IF_NONE_MATCH, r#""spam""#)], NotModified),
            (get.clone(), vec![(header::IF_NONE_MATCH, r#"W/"spam""#)], NotModified),
            (
                get.clone(),
                vec![(header::IF_NONE_MATCH, r#""eggs", "spam""#)],
                NotModified,
            ),
            (get.clone(), vec![(header::IF_NONE_MATCH, r#""eggs""#)], Proceed),
            (get.clone(), vec![(header::IF_NONE_MATCH, "*")], NotModified),
            (Method::PUT, vec![(header::IF_NONE_MATCH, "*")], Failed),
            (Method::PUT, vec![(header::IF_NONE_MATCH, r#""spam""#)], Failed),
            (get.clone(), vec![(header::IF_MATCH, r#""spam""#)], Proceed),
            (get.clone(), vec![(header::IF_MATCH, r#""eggs""#)], Failed),
            (get.clone(), vec![(header::IF_MATCH, r#"W/"spam""#)], Failed),
            (get.clone(), vec![(header::IF_MATCH, "*")], Proceed),
            (
                get.clone(),
                vec![(header::IF_MODIFIED_SINCE, LAST_MODIFIED)],
                NotModified,
            ),
            (
                get.clone(),
                vec![(header::IF_MODIFIED_SINCE, "Sat, 20 Oct 2007 23:21:46 GMT")],
                Proceed,
            ),
            (
                get.clone(),
                vec![(header::IF_MODIFIED_SINCE, "Saturday, 20-Oct-07 23:21:47 GMT")],
                NotModified,
            ),
            (
                get.clone(),
                vec![(header::IF_MODIFIED_SINCE, "Sat Oct 20 23:21:47 2007")],
                NotModified,
            ),
            (get.clone(), vec![(header::IF_MODIFIED_SINCE, "not a date")], Proceed),
            // Read as Django reads them: a wrong weekday is ignored; a day that doesn't exist
            // (Django's `LAST_MODIFIED_INVALID_STR`) is no date.
            (
                get.clone(),
                vec![(header::IF_MODIFIED_SINCE, "Mon, 20 Oct 2007 23:21:47 GMT")],
                NotModified,
            ),
            (
                get.clone(),
                vec![(header::IF_MODIFIED_SINCE, "Mon, 32 Oct 2007 23:21:47 GMT")],
                Proceed,
            ),
            // Before 1970: the resource changed since.
            (
                get.clone(),
                vec![(header::IF_MODIFIED_SINCE, "Wed, 31 Dec 1969 23:59:59 GMT")],
                Proceed,
            ),
            (
                get.clone(),
                vec![(header::IF_UNMODIFIED_SINCE, "Wed, 31 Dec 1969 23:59:59 GMT")],
                Failed,
            ),
            // The epoch is no date to Django (its timestamp, 0, tests false): the header is ignored.
            (
                get.clone(),
                vec![(header::IF_UNMODIFIED_SINCE, "Thu, 01 Jan 1970 00:00:00 GMT")],
                Proceed,
            ),
            (Method::POST, vec![(header::IF_MODIFIED_SINCE, LAST_MODIFIED)], Proceed),
            (get.clone(), vec![(header::IF_UNMODIFIED_SINCE, LAST_MODIFIED)], Proceed),
            (
                get.clone(),
                vec![(header::IF_UNMODIFIED_SINCE, "Sat, 20 Oct 2007 23:21:46 GMT")],
                Failed,
            ),
            (
                get.clone(),
                vec![
                    (header::IF_NONE_MATCH, r#""eggs""#),
                    (header::IF_MODIFIED_SINCE, LAST_MODIFIED),
                ],
                Proceed,
            ),
            (
                get.clone(),
                vec![
                    (header::IF_MATCH, r#""spam""#),
                    (header::IF_UNMODIFIED_SINCE, "Sat, 20 Oct 2007 23:21:46 GMT"),
                ],
                Proceed,
            ),
        ];
        for (method, headers, expected) in cases {
            let got = evaluate_preconditions(&method, &request(&headers), etag, modified());
            assert_eq!(got, expected, "{method} {headers:?}");
        }
    }

    #[test]
    fn without_a_validator() {
        let none = |pairs| evaluate_preconditions(&Method::GET, &request(pairs), None, None);
        assert_eq!(none(&[(header::IF_NONE_MATCH, "*")]), Precondition::Proceed);
        assert_eq!(none(&[(header::IF_MATCH, "*")]), Precondition::Failed);
        assert_eq!(
            none(&[(header::IF_UNMODIFIED_SINCE, LAST_MODIFIED)]),
            Precondition::Failed,
            "Django's 412 for If-Unmodified-Since without Last-Modified"
        );
    }

    #[test]
    fn an_unquoted_etag_never_matches() {
        let got = evaluate_preconditions(
            &Method::GET,
            &request(&[(header::IF_NONE_MATCH, r#""spam""#)]),
            Some("spam"),
            None,
        );
        assert_eq!(got, Precondition::Proceed);
    }

    #[test]
    fn a_304_keeps_only_the_validators_and_cookies() {
        let mut response = HeaderMap::new();
        response.insert(header::ETAG, HeaderValue::from_static(r#""x""#));
        response.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        response.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static("en"));
        response.append(header::SET_COOKIE, HeaderValue::from_static("a=1"));
        response.append(header::SET_COOKIE, HeaderValue::from_static("b=2"));
        let answer = not_modified(&response);
        assert_eq!(answer.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(answer.headers()[header::ETAG], r#""x""#);
        assert!(!answer.headers().contains_key(header::CONTENT_TYPE));
        assert!(!answer.headers().contains_key(header::CONTENT_LANGUAGE));
        assert_eq!(answer.headers().get_all(header::SET_COOKIE).iter().count(), 2);
    }
}
