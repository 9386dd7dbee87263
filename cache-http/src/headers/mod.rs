//! Django's header helpers (`django.utils.cache`): `Cache-Control`, `Vary` and the expiry headers,
//! as functions on an [`http::HeaderMap`].

mod cache_control;
pub(crate) mod date;
mod expiry;
mod list;
mod vary;

pub use cache_control::{CacheDirective, HeaderPatchError, get_max_age, patch_cache_control};
pub(crate) use cache_control::{MaxAge, max_age_directive};
pub use expiry::{add_never_cache_headers, patch_response_headers};
pub(crate) use list::{joined, split_list as list_items};
pub use vary::{has_vary_header, patch_vary_headers, vary_headers};
