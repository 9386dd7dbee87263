//! Django's page cache keys (`django.utils.cache._generate_cache_key` and
//! `_generate_cache_header_key`); the alias' key function adds its prefix and version on top.

use axum::extract::OriginalUri;
use http::header::{HOST, HeaderMap, HeaderName};
use http::request::Parts;
use http::uri::Scheme;
use md5::{Digest, Md5};

use super::settings::PageCache;

/// The request's language, put in the request's extensions by whatever negotiates it (Django's
/// `request.LANGUAGE_CODE`, set by `LocaleMiddleware`). When the page cache has a language
/// configured, this one replaces it in the keys of that request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveLanguage(pub String);

/// Where a request's page lives: the parts of its keys that don't depend on the varying headers.
#[derive(Debug, Clone)]
pub(crate) struct PageAddress {
    /// `md5(absolute URI)` in hex.
    url_digest: String,
    /// `.<language>` and `.<time zone>`, each when configured.
    suffix: String,
}

impl PageAddress {
    /// The address of `request`, or `None` when it has no host to key it by (no `Host` header
    /// and no authority in the URI): such a request is served by the handler, never cached.
    pub(crate) fn of(request: &Parts, page: &PageCache) -> Option<Self> {
        let uri = absolute_uri(request, page)?;
        let mut suffix = String::new();
        if let Some(configured) = &page.language {
            let language = request
                .extensions
                .get::<ActiveLanguage>()
                .map_or(configured, |active| &active.0);
            suffix.push('.');
            suffix.push_str(language);
        }
        if let Some(time_zone) = &page.time_zone {
            suffix.push('.');
            suffix.push_str(time_zone);
        }
        Some(PageAddress {
            url_digest: hex_md5(uri.as_bytes()),
            suffix,
        })
    }

    /// `views.decorators.cache.cache_header.<prefix>.<md5 url>[.<lang>][.<tz>]`: the list of
    /// headers the URL's pages vary on.
    pub(crate) fn header_key(&self, key_prefix: &str) -> String {
        format!(
            "views.decorators.cache.cache_header.{key_prefix}.{}{}",
            self.url_digest, self.suffix
        )
    }

    /// `views.decorators.cache.cache_page.<prefix>.<method>.<md5 url>.<md5 values>[.<lang>][.<tz>]`:
    /// one page.
    pub(crate) fn page_key(&self, key_prefix: &str, method: &str, values_digest: &str) -> String {
        format!(
            "views.decorators.cache.cache_page.{key_prefix}.{method}.{}.{values_digest}{}",
            self.url_digest, self.suffix
        )
    }
}

/// Django's `request.build_absolute_uri()`: `<scheme>://<host><path>[?<query>]`, the host with its
/// port and case as sent, the path and query as received.
///
/// The path is the one the request arrived with: inside a nested axum router (`Router::nest`) the
/// URI has lost its prefix, and `/en/about` and `/fr/about` would share one key, so axum's
/// `OriginalUri` is read when it is there. A request whose line names another host than its
/// `Host` header has no address: which of the two the handler used can't be known, so its page
/// is neither read nor stored (else `GET http://victim/` with `Host: evil` could store a page
/// made for `evil` under `victim`).
pub(crate) fn absolute_uri(request: &Parts, page: &PageCache) -> Option<String> {
    let uri = (request.extensions.get::<OriginalUri>()).map_or(&request.uri, |original| &original.0);
    // A `Host` that isn't text addresses nothing.
    let header_host = match request.headers.get(HOST) {
        Some(host) => Some(host.to_str().ok()?),
        None => None,
    };
    let host = match (uri.authority(), header_host) {
        (Some(authority), Some(header)) if !authority.as_str().eq_ignore_ascii_case(header) => return None,
        (Some(authority), _) => authority.as_str(),
        (None, header) => header?,
    };
    let scheme = request_scheme(request, page);
    let path = uri.path();
    Some(match uri.query().filter(|query| !query.is_empty()) {
        Some(query) => format!("{scheme}://{host}{path}?{query}"),
        None => format!("{scheme}://{host}{path}"),
    })
}

/// `https` when the URI says so, when a `Scheme` is in the request's extensions (put there by a
/// server terminating TLS itself), or when the configured proxy header (Django's
/// `SECURE_PROXY_SSL_HEADER`) has its value; `http` otherwise.
fn request_scheme(request: &Parts, page: &PageCache) -> String {
    if let Some(scheme) = request.uri.scheme_str() {
        return scheme.to_owned();
    }
    if let Some(scheme) = request.extensions.get::<Scheme>() {
        return scheme.as_str().to_owned();
    }
    if let Some((name, value)) = &page.secure_proxy_ssl_header
        && request.headers.get(name) == Some(value)
    {
        return "https".to_owned();
    }
    "http".to_owned()
}

pub(crate) fn hex_md5(bytes: &[u8]) -> String {
    format!("{:x}", Md5::digest(bytes))
}

/// Django's `request.META` name of a header: `HTTP_` and the name upper-cased, `-` as `_`.
pub(crate) fn meta_name(header: &str) -> String {
    format!("HTTP_{}", header.trim().to_uppercase().replace('-', "_"))
}

/// The header a `HTTP_*` name stands for.
pub(crate) fn header_of_meta(meta: &str) -> Option<HeaderName> {
    let name = meta.strip_prefix("HTTP_")?.replace('_', "-").to_lowercase();
    HeaderName::from_bytes(name.as_bytes()).ok()
}

/// The request's value of each varying header (`None` when absent), in the list's order.
pub(crate) fn varying_values(request: &HeaderMap, meta_names: &[String]) -> Vec<Option<Vec<u8>>> {
    meta_names
        .iter()
        .map(|meta| {
            let name = header_of_meta(meta)?;
            let mut values = request.get_all(name).iter().peekable();
            values.peek()?;
            let mut joined = Vec::new();
            for (index, value) in values.enumerate() {
                if index > 0 {
                    joined.extend_from_slice(b", ");
                }
                joined.extend_from_slice(value.as_bytes());
            }
            Some(joined)
        })
        .collect()
}

/// The md5 of the varying values, each encoded so no two lists share one (unlike Django, which
/// concatenates them): a present value as the netstring `<length>:<bytes>,`, an absent one as
/// Django's `-,` marker (no netstring starts with `-`).
pub(crate) fn values_digest(values: &[Option<Vec<u8>>]) -> String {
    let mut hasher = Md5::new();
    for value in values {
        match value {
            Some(bytes) => {
                hasher.update(bytes.len().to_string().as_bytes());
                hasher.update(b":");
                hasher.update(bytes);
                hasher.update(b",");
            }
            None => hasher.update(b"-,"),
        }
    }
    format!("{:x}", hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_encoded_injectively() {
        let split = |a: &str, b: &str| values_digest(&[Some(a.as_bytes().to_vec()), Some(b.as_bytes().to_vec())]);
        assert_ne!(
            split("ab", "c"),
            split("a", "bc"),
            "Django's concatenation makes these one key"
        );
        assert_ne!(values_digest(&[None]), values_digest(&[Some(Vec::new())]));
        assert_eq!(
            values_digest(&[]),
            "d41d8cd98f00b204e9800998ecf8427e",
            "no varying header: Django's md5 of nothing"
        );
    }

    #[test]
    fn meta_names_round_trip() {
        assert_eq!(meta_name("Accept-Encoding"), "HTTP_ACCEPT_ENCODING");
        assert_eq!(header_of_meta("HTTP_ACCEPT_ENCODING").unwrap(), "accept-encoding");
    }
}
