//! Django's `FetchFromCacheMiddleware.process_request`: a stored page for this request, if any.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use http::header::{AGE, CONTENT_LENGTH, EXPIRES, HeaderValue};
use http::request::Parts;
use http::{Method, Response};

use super::keys::{PageAddress, values_digest, varying_values};
use super::settings::PageCache;
use super::stored::StoredPage;
use crate::headers::date::parse_http_date;
use crate::headers::get_max_age;

/// The stored page for `request`: the URL's header list first (none: a miss), then the GET page,
/// then — for a HEAD — the HEAD page. A read that fails, an entry that doesn't decode, and a page
/// stored for other values of its varying headers are misses.
pub(crate) async fn fetch(page: &PageCache, request: &Parts, address: &PageAddress) -> Option<Response<Body>> {
    let header_key = address.header_key(&page.key_prefix);
    let header_list = match page.cache.get::<Vec<String>>(&header_key).await {
        Ok(Some(list)) => list,
        Ok(None) => return None,
        Err(error @ cache_core::CacheError::Codec { .. }) => {
            tracing::debug!(key = header_key, %error, "page cache: a header list that doesn't decode is a miss");
            return None;
        }
        Err(error) => {
            page.warn("read", &error);
            return None;
        }
    };
    let values = varying_values(&request.headers, &header_list);
    let digest = values_digest(&values);
    let methods: &[&str] = if request.method == Method::HEAD {
        &["GET", "HEAD"]
    } else {
        &["GET"]
    };
    for method in methods {
        let key = address.page_key(&page.key_prefix, method, &digest);
        let bytes = match page.cache.get_raw(&key).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => continue,
            Err(error) => {
                page.warn("read", &error);
                return None;
            }
        };
        let stored = match StoredPage::decode(&bytes) {
            Ok(stored) => stored,
            Err(problem) => {
                tracing::debug!(key, ?problem, "page cache: an entry that doesn't decode is a miss");
                continue;
            }
        };
        if !stored_for(&stored, request, &header_list, &values) {
            tracing::debug!(
                key,
                "page cache: the page was stored for other varying header values; a miss"
            );
            continue;
        }
        return Some(respond(stored, &request.method));
    }
    None
}

/// Whether the request's values of the page's varying headers are those it was stored under.
/// `names` and `values` are the URL's header list and the request's values of it, already read
/// for the key: the page usually varies on exactly those, and then nothing is read again.
fn stored_for(stored: &StoredPage, request: &Parts, names: &[String], values: &[Option<Vec<u8>>]) -> bool {
    let same_names = stored.varied.len() == names.len()
        && stored
            .varied
            .iter()
            .zip(names)
            .all(|((stored, _), name)| stored == name);
    let matches = |asked: &[Option<Vec<u8>>]| {
        stored
            .varied
            .iter()
            .zip(asked)
            .all(|((_, stored), asked)| stored == asked)
    };
    if same_names {
        return matches(values);
    }
    let names: Vec<String> = stored.varied.iter().map(|(name, _)| name.clone()).collect();
    matches(&varying_values(&request.headers, &names))
}

/// The response a hit gives: the stored status, headers and body (none for a HEAD), with Django's
/// `Age` derived from the stored `Expires` and `max-age`.
fn respond(stored: StoredPage, method: &Method) -> Response<Body> {
    let mut headers = stored.headers;
    let expires = headers
        .get(EXPIRES)
        .and_then(|value| value.to_str().ok())
        .and_then(parse_http_date);
    if let (Some(max_age), Some(expires)) = (get_max_age(&headers), expires) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        let expires = expires
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        let remaining = i64::try_from(expires).unwrap_or(i64::MAX) - i64::try_from(now).unwrap_or(i64::MAX);
        let age = max_age.saturating_sub(remaining).max(0);
        headers.insert(AGE, HeaderValue::from(age));
    }
    let body = if method == Method::HEAD {
        // What axum sends for a HEAD it answers from a GET handler: the GET body's length.
        if !headers.contains_key(CONTENT_LENGTH) {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(stored.body.len()));
        }
        Body::empty()
    } else {
        Body::from(stored.body)
    };
    let mut response = Response::new(body);
    *response.status_mut() = stored.status;
    *response.headers_mut() = headers;
    response
}
