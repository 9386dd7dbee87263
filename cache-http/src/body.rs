//! Response bodies: which ones are streams, and reading a buffered one whole.

use axum::body::{Body, HttpBody};
use bytes::Bytes;
use http::{Response, StatusCode};

/// The error type bodies convert theirs into (what `axum::body::Body::new` accepts): cache-core's.
pub(crate) use cache_core::BoxError;

/// A body is a stream when it can't say its exact length up front (`size_hint().exact()` is
/// `None`): `Body::from_stream`, a proxied chunked response, server-sent events. Those are never
/// stored, ETag'd or given cache headers, as Django does with a `StreamingHttpResponse`. A body
/// built from a string, `Vec<u8>` or `Bytes` (what handlers return) knows its length.
pub(crate) fn is_streaming<B: HttpBody>(body: &B) -> bool {
    body.size_hint().exact().is_none()
}

/// Reads all of a buffered body.
pub(crate) async fn read_whole<B>(body: B) -> Result<Bytes, axum::Error>
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    axum::body::to_bytes(Body::new(body), usize::MAX).await
}

/// The handler's body failed while it was being read: nothing of it can be sent.
pub(crate) fn broken_body() -> Response<Body> {
    tracing::warn!("the handler's response body failed while it was read; answering 500");
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}
