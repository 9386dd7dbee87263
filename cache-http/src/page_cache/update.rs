//! Django's `UpdateCacheMiddleware.process_response`: headers patched in and the page stored,
//! when the rules allow.

use axum::body::{Body, HttpBody};
use bytes::Bytes;
use cache_core::Timeout;
use http::header::{AUTHORIZATION, CACHE_CONTROL, CONNECTION, SET_COOKIE};
use http::request::Parts;
use http::{HeaderMap, Method, Response, StatusCode};

use super::keys::{ActiveLanguage, PageAddress, meta_name, values_digest, varying_values};
use super::settings::PageCache;
use super::stored::StoredPage;
use crate::body::{BoxError, broken_body, is_streaming, read_whole};
use crate::headers::{
    MaxAge, has_vary_header, joined, list_items, max_age_directive, patch_response_headers, patch_vary_headers,
    vary_headers,
};

/// What the response phase needs of the request (the request itself went to the handler).
#[derive(Debug)]
pub(crate) struct RequestFacts {
    method: Method,
    headers: HeaderMap,
    /// Whether the request's negotiated language ([`ActiveLanguage`]) is in its keys.
    negotiated_language: bool,
}

impl RequestFacts {
    pub(crate) fn of(request: &Parts) -> Self {
        RequestFacts {
            method: request.method.clone(),
            headers: request.headers.clone(),
            negotiated_language: request.extensions.get::<ActiveLanguage>().is_some(),
        }
    }
}

/// The handler's response, with cache headers patched in and stored when Django's rules (and
/// this crate's stricter ones) allow; returned untouched when they don't.
pub(crate) async fn update<B>(
    page: &PageCache,
    request: &RequestFacts,
    address: &PageAddress,
    response: Response<B>,
) -> Response<Body>
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let (mut parts, body) = response.into_parts();
    let untouched = |parts, body| Response::from_parts(parts, Body::new(body));
    if is_streaming(&body) || !matches!(parts.status, StatusCode::OK | StatusCode::NOT_MODIFIED) {
        return untouched(parts, body);
    }
    // Django skips only cookies sent with `Vary: Cookie`; any cookie is one user's, so none is stored.
    if parts.headers.contains_key(SET_COOKIE) {
        return untouched(parts, body);
    }
    let cache_control = joined(&parts.headers, CACHE_CONTROL).unwrap_or_default().to_lowercase();
    if ["private", "no-cache", "no-store"]
        .iter()
        .any(|directive| cache_control.contains(directive))
    {
        return untouched(parts, body);
    }
    if has_vary_header(&parts.headers, "*") {
        return untouched(parts, body);
    }
    let timeout = match (page.page_timeout, max_age_directive(&parts.headers)) {
        // A malformed max-age: Django answers 500; the page is served, not stored.
        (_, MaxAge::Malformed) => {
            tracing::debug!(
                header = cache_control,
                "page cache: a malformed max-age; the page is not stored"
            );
            return untouched(parts, body);
        }
        (Some(page_timeout), _) => page_timeout,
        (None, MaxAge::Seconds(0)) => return untouched(parts, body),
        (None, MaxAge::Seconds(max_age)) => max_age,
        (None, MaxAge::Absent) => page.cache_timeout,
    };
    if patch_response_headers(&mut parts.headers, timeout).is_err() {
        return untouched(parts, body);
    }
    if request
        .headers
        .get(AUTHORIZATION)
        .is_some_and(|value| !value.is_empty())
        && !cache_control.contains("public")
    {
        // Names from a fixed list: always a valid header value.
        let _ = patch_vary_headers(&mut parts.headers, &["Authorization"]);
    }
    if timeout <= 0 || parts.status != StatusCode::OK {
        if timeout < 0 {
            tracing::debug!(timeout, "page cache: a negative timeout stores nothing");
        }
        return untouched(parts, body);
    }
    if let (Some(limit), Some(length)) = (
        page.cache.backend().capabilities().max_value_bytes,
        body.size_hint().exact(),
    ) && usize::try_from(length).is_ok_and(|length| length > limit)
    {
        tracing::debug!(
            length,
            limit,
            "page cache: the body is over the alias' value limit; served, not stored"
        );
        return untouched(parts, body);
    }
    let Ok(bytes) = read_whole(body).await else {
        return broken_body();
    };
    store(page, request, address, &parts, bytes.clone(), timeout).await;
    Response::from_parts(parts, Body::from(bytes))
}

/// Django's `learn_cache_key` and `cache.set`: the URL's header list, then the page.
async fn store(
    page: &PageCache,
    request: &RequestFacts,
    address: &PageAddress,
    parts: &http::response::Parts,
    body: Bytes,
    timeout: i64,
) {
    let mut header_list: Vec<String> = vary_headers(&parts.headers)
        .iter()
        .map(|name| meta_name(name))
        // The negotiated language is in the key, so `Accept-Language` needn't be (Django's rule).
        // Without one the key holds only the configured default, and a page that varies on the
        // header still needs it: dropping it would serve one language to every request.
        .filter(|meta| !(page.language.is_some() && request.negotiated_language) || meta != "HTTP_ACCEPT_LANGUAGE")
        .collect();
    header_list.sort();
    header_list.dedup();
    let values = varying_values(&request.headers, &header_list);
    let stored = StoredPage {
        status: parts.status,
        headers: end_to_end(&parts.headers),
        varied: header_list.iter().cloned().zip(values.iter().cloned()).collect(),
        body,
    };
    let Some(encoded) = stored.encode() else {
        tracing::debug!("page cache: a header too long, or too many headers, for the stored form; served, not stored");
        return;
    };
    if let Some(limit) = page.cache.backend().capabilities().max_value_bytes
        && encoded.len() > limit
    {
        tracing::debug!(
            size = encoded.len(),
            limit,
            "page cache: the page is over the alias' value limit; served, not stored"
        );
        return;
    }
    // Whole seconds, as in the `max-age` sent.
    #[allow(clippy::cast_precision_loss)]
    let lifetime = Timeout::Seconds(timeout as f64);
    let header_key = address.header_key(&page.key_prefix);
    if let Err(error) = page.cache.set(&header_key, &header_list).timeout(lifetime).await {
        page.warn("write", &error);
        return;
    }
    let page_key = address.page_key(&page.key_prefix, request.method.as_str(), &values_digest(&values));
    if let Err(error) = page.cache.set_raw(&page_key, encoded).timeout(lifetime).await {
        page.warn("write", &error);
    }
}

/// The headers a stored page keeps: all but the hop-by-hop ones (RFC 9110, 7.6.1), which describe
/// the connection the page was first sent on — `Connection` and every header it names,
/// `Keep-Alive`, `Transfer-Encoding`, `Upgrade`, `TE`, `Trailer`, `Proxy-Connection`. Replayed on
/// a hit they would be about another connection (a `Connection: close` closing every hit's).
fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let connection = joined(headers, CONNECTION).unwrap_or_default();
    let mut kept = headers.clone();
    for name in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ]
    .into_iter()
    .chain(list_items(&connection))
    {
        kept.remove(name);
    }
    kept
}
