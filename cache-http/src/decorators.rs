//! Django's header-patching view decorators as layers: `never_cache`, `vary_on_headers`,
//! `vary_on_cookie` and `cache_control`.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderMap, Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::ResponseFuture;
use crate::headers::{CacheDirective, add_never_cache_headers, patch_cache_control, patch_vary_headers};

/// A change to a response's headers, made after the handler ran.
pub trait HeaderPatch: Send + Sync + 'static {
    /// Changes `headers`.
    fn patch(&self, headers: &mut HeaderMap);
}

/// Django's `@never_cache`: [`add_never_cache_headers`].
#[derive(Debug, Clone, Copy, Default)]
pub struct NeverCache;

impl HeaderPatch for NeverCache {
    fn patch(&self, headers: &mut HeaderMap) {
        add_never_cache_headers(headers);
    }
}

/// Django's `@vary_on_headers(...)`: [`patch_vary_headers`] with these names.
#[derive(Debug, Clone)]
pub struct VaryOn {
    headers: Vec<String>,
}

impl HeaderPatch for VaryOn {
    fn patch(&self, headers: &mut HeaderMap) {
        let names: Vec<&str> = self.headers.iter().map(String::as_str).collect();
        if let Err(error) = patch_vary_headers(headers, &names) {
            tracing::warn!(%error, "vary_on_headers: Vary left as it was");
        }
    }
}

/// Django's `@cache_control(...)`: [`patch_cache_control`] with these directives.
#[derive(Debug, Clone)]
pub struct CacheControl {
    directives: Vec<CacheDirective>,
}

impl HeaderPatch for CacheControl {
    fn patch(&self, headers: &mut HeaderMap) {
        if let Err(error) = patch_cache_control(headers, &self.directives) {
            tracing::warn!(%error, "cache_control: Cache-Control left as it was");
        }
    }
}

/// Django's `never_cache` decorator as a layer.
pub fn never_cache() -> PatchHeadersLayer<NeverCache> {
    PatchHeadersLayer::new(NeverCache)
}

/// Django's `vary_on_headers(*headers)` decorator as a layer.
pub fn vary_on_headers<I: IntoIterator<Item = S>, S: Into<String>>(headers: I) -> PatchHeadersLayer<VaryOn> {
    PatchHeadersLayer::new(VaryOn {
        headers: headers.into_iter().map(Into::into).collect(),
    })
}

/// Django's `vary_on_cookie` decorator as a layer.
pub fn vary_on_cookie() -> PatchHeadersLayer<VaryOn> {
    vary_on_headers(["Cookie"])
}

/// Django's `cache_control(**kwargs)` decorator as a layer.
pub fn cache_control(directives: impl IntoIterator<Item = CacheDirective>) -> PatchHeadersLayer<CacheControl> {
    PatchHeadersLayer::new(CacheControl {
        directives: directives.into_iter().collect(),
    })
}

/// A layer applying a [`HeaderPatch`] to every response.
#[derive(Debug)]
pub struct PatchHeadersLayer<P> {
    patch: Arc<P>,
}

impl<P> Clone for PatchHeadersLayer<P> {
    fn clone(&self) -> Self {
        PatchHeadersLayer {
            patch: Arc::clone(&self.patch),
        }
    }
}

impl<P: HeaderPatch> PatchHeadersLayer<P> {
    /// The layer applying `patch`.
    pub fn new(patch: P) -> Self {
        PatchHeadersLayer { patch: Arc::new(patch) }
    }
}

impl<S, P> Layer<S> for PatchHeadersLayer<P> {
    type Service = PatchHeaders<S, P>;

    fn layer(&self, inner: S) -> Self::Service {
        PatchHeaders {
            inner,
            patch: Arc::clone(&self.patch),
        }
    }
}

/// The service [`PatchHeadersLayer`] makes.
#[derive(Debug)]
pub struct PatchHeaders<S, P> {
    inner: S,
    patch: Arc<P>,
}

impl<S: Clone, P> Clone for PatchHeaders<S, P> {
    fn clone(&self) -> Self {
        PatchHeaders {
            inner: self.inner.clone(),
            patch: Arc::clone(&self.patch),
        }
    }
}

impl<S, P, ReqBody, ResBody> Service<Request<ReqBody>> for PatchHeaders<S, P>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    P: HeaderPatch,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let response = self.inner.call(request);
        let patch = Arc::clone(&self.patch);
        Box::pin(async move {
            let mut response = response.await?;
            patch.patch(response.headers_mut());
            Ok(response)
        })
    }
}
