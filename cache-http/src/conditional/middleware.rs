//! [`ConditionalGetLayer`]: Django's `ConditionalGetMiddleware`.

use std::task::{Context, Poll};
use std::time::UNIX_EPOCH;

use axum::body::{Body, HttpBody};
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{HeaderMap, Method, Request, Response};
use md5::{Digest, Md5};
use tower_layer::Layer;
use tower_service::Service;

use super::preconditions::{get_conditional_response, http_date};
use crate::ResponseFuture;
use crate::body::{BoxError, broken_body, is_streaming, read_whole};
use crate::headers::joined;

/// Django's `ConditionalGetMiddleware` as a layer: on GET, gives a buffered, non-empty response
/// without an `ETag` (and without `Cache-Control: no-store`) a strong `ETag` computed from its body
/// (`"<md5 hex>"`, as Django does), then answers `If-None-Match`/`If-Modified-Since` with 304 and
/// failed `If-Match`/`If-Unmodified-Since` with 412. Other methods pass through untouched (too late
/// to refuse an unsafe request; a HEAD body can't be hashed).
///
/// Around a `cache_page` [`crate::CacheLayer`] it answers cached pages too, as Django's site
/// middleware does around a `@cache_page` view (the view's cache stores the page first, and each
/// hit's body is hashed). For the site-wide cache, [`crate::CacheLayer::conditional_get`] runs the
/// same step in Django's place (`UpdateCacheMiddleware`, `ConditionalGetMiddleware`,
/// `FetchFromCacheMiddleware`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ConditionalGetLayer;

impl ConditionalGetLayer {
    /// The layer.
    pub fn new() -> Self {
        ConditionalGetLayer
    }
}

impl<S> Layer<S> for ConditionalGetLayer {
    type Service = ConditionalGetService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ConditionalGetService { inner }
    }
}

/// The service [`ConditionalGetLayer`] makes.
#[derive(Debug, Clone)]
pub struct ConditionalGetService<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ConditionalGetService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: HttpBody<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = ResponseFuture<Body, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        if request.method() != Method::GET {
            let response = self.inner.call(request);
            return Box::pin(async move { Ok(response.await?.map(Body::new)) });
        }
        let validators = validators_of(request.headers());
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            Ok(conditional_get(&validators, response).await)
        })
    }
}

/// The request's `If-Match`, `If-None-Match`, `If-Modified-Since` and `If-Unmodified-Since`, for
/// after the handler has answered: copied, not every header (a request without any allocates
/// nothing).
pub(crate) fn validators_of(headers: &HeaderMap) -> HeaderMap {
    let mut validators = HeaderMap::new();
    for name in [
        header::IF_MATCH,
        header::IF_NONE_MATCH,
        header::IF_MODIFIED_SINCE,
        header::IF_UNMODIFIED_SINCE,
    ] {
        for value in headers.get_all(&name) {
            validators.append(name.clone(), value.clone());
        }
    }
    validators
}

/// Django's `ConditionalGetMiddleware.process_response` for a GET with `validators`: the
/// response's `ETag` computed from its body when it has none (buffered, non-empty, no
/// `no-store`), then 304 or 412 when the validators say so.
pub(crate) async fn conditional_get<B>(validators: &HeaderMap, response: Response<B>) -> Response<Body>
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let (mut parts, body) = response.into_parts();
    let body = if needs_etag(&parts.headers) && !parts.headers.contains_key(header::ETAG) && !is_streaming(&body) {
        let Ok(bytes) = read_whole(body).await else {
            return broken_body();
        };
        if !bytes.is_empty() {
            let digest = format!("\"{:x}\"", Md5::digest(&bytes));
            let value = HeaderValue::from_str(&digest).expect("a quoted hex digest is a valid header value");
            parts.headers.insert(header::ETAG, value);
        }
        Body::from(bytes)
    } else {
        Body::new(body)
    };
    let etag = parts
        .headers
        .get(header::ETAG)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    // The epoch is no date to Django (its timestamp, 0, tests false).
    let last_modified = http_date(&parts.headers, header::LAST_MODIFIED).filter(|time| *time != UNIX_EPOCH);
    let response = Response::from_parts(parts, body);
    if etag.is_none() && last_modified.is_none() {
        return response;
    }
    get_conditional_response(&Method::GET, validators, etag.as_deref(), last_modified, response)
}

/// Django's `needs_etag`: not when `Cache-Control` has `no-store`.
fn needs_etag(headers: &http::HeaderMap) -> bool {
    let cache_control = joined(headers, header::CACHE_CONTROL).unwrap_or_default();
    crate::headers::list_items(&cache_control).all(|directive| !directive.eq_ignore_ascii_case("no-store"))
}
