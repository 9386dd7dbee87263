//! [`ConditionLayer`]: Django's `condition`, `etag` and `last_modified` view decorators.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use axum::body::{Body, HttpBody};
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Method, Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use super::etags::quote_etag;
use super::preconditions::{Precondition, evaluate_preconditions, not_modified, precondition_failed};
use crate::ResponseFuture;
use crate::body::BoxError;
use crate::headers::date::{http_date, whole_seconds};

/// Computes a resource's entity tag from the request, quoted or not (`None`: no such resource).
pub type EtagFunction = Arc<dyn Fn(&Parts) -> Option<String> + Send + Sync>;
/// Computes a resource's modification time from the request (`None`: unknown).
pub type LastModifiedFunction = Arc<dyn Fn(&Parts) -> Option<SystemTime> + Send + Sync>;

/// Django's `@condition(etag_func, last_modified_func)`: the validators are computed from the
/// request *before* the handler runs, so a matching `If-None-Match`/`If-Modified-Since` is
/// answered 304 (GET, HEAD) and a failed `If-Match`/`If-Unmodified-Since` 412 without running it.
/// On GET and HEAD the computed `ETag` and `Last-Modified` are added to the response when it has
/// none. An unquoted entity tag is quoted (strong), as Django's `quote_etag` does.
#[derive(Clone, Default)]
pub struct ConditionLayer {
    etag: Option<EtagFunction>,
    last_modified: Option<LastModifiedFunction>,
}

impl fmt::Debug for ConditionLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionLayer")
            .field("etag", &self.etag.is_some())
            .field("last_modified", &self.last_modified.is_some())
            .finish()
    }
}

/// Django's `condition()` with neither function yet: add them with [`ConditionLayer::etag`] and
/// [`ConditionLayer::last_modified`].
pub fn condition() -> ConditionLayer {
    ConditionLayer::default()
}

/// Django's `@etag(etag_func)`.
pub fn etag(function: impl Fn(&Parts) -> Option<String> + Send + Sync + 'static) -> ConditionLayer {
    condition().etag(function)
}

/// Django's `@last_modified(last_modified_func)`.
pub fn last_modified(function: impl Fn(&Parts) -> Option<SystemTime> + Send + Sync + 'static) -> ConditionLayer {
    condition().last_modified(function)
}

impl ConditionLayer {
    /// The function computing the entity tag.
    pub fn etag(mut self, function: impl Fn(&Parts) -> Option<String> + Send + Sync + 'static) -> Self {
        self.etag = Some(Arc::new(function));
        self
    }

    /// The function computing the modification time.
    pub fn last_modified(mut self, function: impl Fn(&Parts) -> Option<SystemTime> + Send + Sync + 'static) -> Self {
        self.last_modified = Some(Arc::new(function));
        self
    }
}

impl<S> Layer<S> for ConditionLayer {
    type Service = ConditionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ConditionService {
            inner,
            condition: self.clone(),
        }
    }
}

/// The service [`ConditionLayer`] makes.
#[derive(Debug, Clone)]
pub struct ConditionService<S> {
    inner: S,
    condition: ConditionLayer,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ConditionService<S>
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
        let (parts, body) = request.into_parts();
        // Whole seconds, as Django's `int(dt.timestamp())`: the header can't carry more.
        let last_modified = self
            .condition
            .last_modified
            .as_ref()
            .and_then(|function| function(&parts));
        let last_modified = last_modified.map(whole_seconds);
        let etag = self
            .condition
            .etag
            .as_ref()
            .and_then(|function| function(&parts))
            .map(|tag| quote_etag(&tag));
        let method = parts.method.clone();
        let outcome = evaluate_preconditions(&method, &parts.headers, etag.as_deref(), last_modified);
        let handled = match outcome {
            Precondition::Proceed => Some(self.inner.call(Request::from_parts(parts, body))),
            Precondition::NotModified | Precondition::Failed => None,
        };
        Box::pin(async move {
            let mut response = match handled {
                Some(response) => response.await?.map(Body::new),
                None if outcome == Precondition::NotModified => not_modified(&http::HeaderMap::new()),
                None => precondition_failed(),
            };
            if method == Method::GET || method == Method::HEAD {
                let headers = response.headers_mut();
                if let Some(time) = last_modified
                    && !headers.contains_key(header::LAST_MODIFIED)
                {
                    let date = HeaderValue::from_str(&http_date(time)).expect("an HTTP date is a valid header value");
                    headers.insert(header::LAST_MODIFIED, date);
                }
                if let Some(tag) = etag
                    && !headers.contains_key(header::ETAG)
                    && let Ok(value) = HeaderValue::from_str(&tag)
                {
                    headers.insert(header::ETAG, value);
                }
            }
            Ok(response)
        })
    }
}
