#![doc = include_str!("../README.md")]
#![cfg_attr(not(test), deny(unused_crate_dependencies))]

mod body;
mod conditional;
mod decorators;
mod headers;
mod page_cache;

use std::future::Future;
use std::pin::Pin;

pub use conditional::{
    ConditionLayer, ConditionService, ConditionalGetLayer, ConditionalGetService, EtagFunction, LastModifiedFunction,
    Precondition, condition, etag, evaluate_preconditions, get_conditional_response, last_modified, not_modified,
    parse_etags, precondition_failed, quote_etag,
};
pub use decorators::{
    CacheControl, HeaderPatch, NeverCache, PatchHeaders, PatchHeadersLayer, VaryOn, cache_control, never_cache,
    vary_on_cookie, vary_on_headers,
};
pub use headers::{
    CacheDirective, HeaderPatchError, add_never_cache_headers, get_max_age, has_vary_header, patch_cache_control,
    patch_response_headers, patch_vary_headers, vary_headers,
};
pub use page_cache::{
    ActiveLanguage, CacheLayer, CacheMiddlewareConfig, CacheService, DEFAULT_CACHE_MIDDLEWARE_SECONDS, SECTION,
};

/// The future the crate's services return: boxed, as a cache lookup and the handler are awaited in
/// one `async` block.
pub type ResponseFuture<B, E> = Pin<Box<dyn Future<Output = Result<http::Response<B>, E>> + Send>>;
