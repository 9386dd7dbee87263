//! [`CacheLayer`]: Django's `cache_page` on one route, or `CacheMiddleware` on a whole router.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, HttpBody};
use bytes::Bytes;
use cache_core::{Cache, Caches, CachesConfig};
use http::header::{HeaderName, HeaderValue};
use http::{Method, Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use super::config::CacheMiddlewareConfig;
use super::fetch::fetch;
use super::keys::PageAddress;
use super::settings::PageCache;
use super::update::{RequestFacts, update};
use crate::ResponseFuture;
use crate::body::BoxError;
use crate::conditional::middleware::{conditional_get, validators_of};

/// Django's page cache as a tower layer: [`CacheLayer::cache_page`] for one route (Django's
/// `cache_page` decorator), [`CacheLayer::middleware`] or [`CacheLayer::from_config`] for a
/// whole router (Django's `UpdateCacheMiddleware` + `FetchFromCacheMiddleware`).
///
/// GET and HEAD are answered from the alias when a page is stored for the request; otherwise the
/// handler runs and its response is stored when Django's rules allow (see the crate docs).
#[derive(Debug, Clone)]
pub struct CacheLayer {
    page: Arc<PageCache>,
}

impl CacheLayer {
    /// Django's `cache_page(timeout, cache=…)`: pages are stored for `timeout` seconds whatever
    /// `max-age` the response has (the `max-age` sent keeps the smaller of the two). 0 stores
    /// nothing; a negative timeout stores nothing either.
    pub fn cache_page(cache: Cache, timeout: i64) -> Self {
        CacheLayer {
            page: Arc::new(PageCache::new(cache, timeout, Some(timeout))),
        }
    }

    /// Django's site-wide `CacheMiddleware` with `CACHE_MIDDLEWARE_SECONDS = seconds`: the
    /// response's own `max-age` wins (0: not stored), `seconds` is used when it has none.
    pub fn middleware(cache: Cache, seconds: i64) -> Self {
        CacheLayer {
            page: Arc::new(PageCache::new(cache, seconds, None)),
        }
    }

    /// [`CacheLayer::middleware`] as the `[cache_middleware]` section of `config` says (its
    /// alias taken from `caches`); Django's defaults when the file has no such section.
    pub fn from_config(config: &CachesConfig, caches: &Caches) -> cache_core::Result<Self> {
        CacheLayer::from_section(&CacheMiddlewareConfig::from_caches_config(config)?, caches)
    }

    /// [`CacheLayer::middleware`] from a section already read.
    pub fn from_section(section: &CacheMiddlewareConfig, caches: &Caches) -> cache_core::Result<Self> {
        let mut layer = CacheLayer::middleware(section.cache(caches)?, section.seconds).key_prefix(&section.key_prefix);
        if let Some(language) = &section.language {
            layer = layer.language(language);
        }
        if let Some(time_zone) = &section.time_zone {
            layer = layer.time_zone(time_zone);
        }
        if section.conditional_get {
            layer = layer.conditional_get();
        }
        Ok(layer)
    }

    /// Django's `key_prefix`: keeps sites or views sharing an alias apart.
    pub fn key_prefix(mut self, key_prefix: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.page).key_prefix = key_prefix.into();
        self
    }

    /// Appends `.<language>` to keys, as Django does with `USE_I18N` (the request's
    /// [`crate::ActiveLanguage`] replaces it). Varying on `Accept-Language` is then left out of the
    /// keys, as Django does: the language suffix already tells the variants apart.
    pub fn language(mut self, language: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.page).language = Some(language.into());
        self
    }

    /// Appends `.<time zone>` to keys, as Django does with `USE_TZ`.
    pub fn time_zone(mut self, time_zone: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.page).time_zone = Some(time_zone.into());
        self
    }

    /// Django's `SECURE_PROXY_SSL_HEADER`: a request carrying this header with this value came in
    /// over HTTPS (through a proxy that terminates TLS), so its key says `https://`.
    pub fn secure_proxy_ssl_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        Arc::make_mut(&mut self.page).secure_proxy_ssl_header = Some((name, value));
        self
    }

    /// Runs Django's `ConditionalGetMiddleware` where Django's documented order puts it in a
    /// site-wide cache, between `UpdateCacheMiddleware` and `FetchFromCacheMiddleware`: on every
    /// GET, the handler's response gets its `ETag` (md5 of the body) before it is stored, so a hit
    /// never hashes the body again; a stored page is answered 304 (or 412) when the request's
    /// validators say so; and a miss answered 304 is not stored, since only a 200 is.
    ///
    /// For one view, Django's `@cache_page` sits inside the site's conditional middleware: a
    /// [`crate::ConditionalGetLayer`] around the `cache_page` layer is that order (the page a
    /// miss answered 304 is stored, and each hit's body is hashed).
    pub fn conditional_get(mut self) -> Self {
        Arc::make_mut(&mut self.page).conditional_get = true;
        self
    }

    /// The alias pages are stored in.
    pub fn cache(&self) -> &Cache {
        &self.page.cache
    }
}

impl<S> Layer<S> for CacheLayer {
    type Service = CacheService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CacheService {
            inner,
            page: Arc::clone(&self.page),
        }
    }
}

/// The service [`CacheLayer`] makes.
#[derive(Debug, Clone)]
pub struct CacheService<S> {
    inner: S,
    page: Arc<PageCache>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for CacheService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
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
        let cacheable = request.method() == Method::GET || request.method() == Method::HEAD;
        let (parts, body) = request.into_parts();
        // Django's order, when asked for: the conditional step sees the stored page and the
        // handler's response, and runs before the update step stores it; on every GET, a page the
        // cache can't address (no host) included.
        let validators =
            (self.page.conditional_get && parts.method == Method::GET).then(|| validators_of(&parts.headers));
        let address = cacheable.then(|| PageAddress::of(&parts, &self.page)).flatten();
        let Some(address) = address else {
            // Called at once: the service made ready handles it, and nothing is kept for later.
            let response = self.inner.call(Request::from_parts(parts, body));
            return Box::pin(async move {
                let response = response.await?;
                Ok(match &validators {
                    Some(validators) => conditional_get(validators, response).await,
                    None => response.map(Body::new),
                })
            });
        };
        // The service that was made ready handles this request, later (after the cache read);
        // its clone waits for the next.
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let page = Arc::clone(&self.page);
        Box::pin(async move {
            if let Some(hit) = fetch(&page, &parts, &address).await {
                return Ok(match &validators {
                    Some(validators) => conditional_get(validators, hit).await,
                    None => hit,
                });
            }
            let facts = RequestFacts::of(&parts);
            let response = inner.call(Request::from_parts(parts, body)).await?;
            let response = match &validators {
                Some(validators) => conditional_get(validators, response).await,
                None => response.map(Body::new),
            };
            Ok(update(&page, &facts, &address, response).await)
        })
    }
}
