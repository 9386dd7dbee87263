//! The media endpoint: `GET|HEAD /components/cache/<class id>[.<hash>].<js|css>`.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use axum::routing::any;
use cache_core::Bytes;

use crate::media::kind::MediaKind;
use crate::media::store::media_key;
use crate::media::urls::{MANAGER_URL, MEDIA_PATH};
use crate::registry::RegisteredComponent;
use crate::rendering::renderer::Renderer;

/// How long a URL that changes with its content may be cached: a year, never revalidated.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// A URL whose content can change (a class' JS/CSS after a deploy): revalidated every time, by
/// `ETag`, so a browser gets a 304 instead of the bytes when nothing changed.
const REVALIDATE: &str = "no-cache";

/// A media file name, parsed by the endpoint's strict grammar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MediaName<'a> {
    pub(crate) class_id: &'a str,
    pub(crate) hash: Option<&'a str>,
    pub(crate) kind: MediaKind,
}

/// Parses `<class id>[.<hash>].<js|css>`: a class id is an identifier (ASCII letters, digits,
/// `_`, at most 128 characters) ending in `_` and 6 lowercase hex digits; a hash is 16 lowercase
/// hex digits. Anything else (percent-escapes, other extensions, extra dots) is `None`.
pub(crate) fn parse_name(name: &str) -> Option<MediaName<'_>> {
    let (rest, kind) = if let Some(rest) = name.strip_suffix(".js") {
        (rest, MediaKind::Js)
    } else if let Some(rest) = name.strip_suffix(".css") {
        (rest, MediaKind::Css)
    } else {
        return None;
    };
    let (class_id, hash) = match rest.split_once('.') {
        None => (rest, None),
        Some((class_id, hash)) => (class_id, Some(hash)),
    };
    let valid_class = class_id.len() <= 128
        && class_id.len() > 7
        && class_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !class_id.as_bytes()[0].is_ascii_digit()
        && class_id.as_bytes()[class_id.len() - 7] == b'_'
        && is_lower_hex(&class_id[class_id.len() - 6..]);
    let valid_hash = hash.is_none_or(|hash| hash.len() == 16 && is_lower_hex(hash));
    (valid_class && valid_hash).then_some(MediaName { class_id, hash, kind })
}

fn is_lower_hex(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// An axum [`Router`] serving the media endpoint of `renderer` at
/// `/components/cache/<class id>[.<hash>].<js|css>`. Merge it into the application's router.
///
/// | request | response |
/// |---|---|
/// | `GET`/`HEAD` of a stored entry | 200, `text/javascript; charset=utf-8` or `text/css; charset=utf-8`, `ETag`, body (none for `HEAD`) |
/// | `If-None-Match` naming the current `ETag` | 304, no body |
/// | a class' JS/CSS missing from the cache | rebuilt from the registry, written back, served |
/// | a hashed URL (variables) | `Cache-Control: public, max-age=31536000, immutable` (the URL changes with the content) |
/// | a class URL | `Cache-Control: no-cache` (revalidated by `ETag`; it changes on deploys) |
/// | a malformed name, an unknown class, a class without that media, an unknown hash | 404 |
/// | any other method | 405, `Allow: GET, HEAD` |
///
/// The key read is built from the parsed name, so nothing outside the media namespace can be
/// read; a name that fails the grammar reads nothing at all.
///
/// It also serves the client script at [`MANAGER_URL`] (`/components/manager.js`; `Cache-Control:
/// no-cache` with an `ETag`).
pub fn media_router(renderer: Renderer) -> Router {
    Router::new()
        .route(&format!("{MEDIA_PATH}{{name}}"), any(serve))
        .route(MANAGER_URL, any(serve_manager))
        .with_state(renderer)
}

/// The client script.
pub const MANAGER_JS: &str = include_str!("manager.js");

async fn serve_manager(request: Request<Body>) -> Response<Body> {
    counted(manager_response(request))
}

/// Counts `response` by its status (`components_media_responses_total`) and hands it on.
fn counted(response: Response<Body>) -> Response<Body> {
    crate::counters::count_media_response(response.status());
    response
}

fn manager_response(request: Request<Body>) -> Response<Body> {
    let method = request.method().clone();
    if method != Method::GET && method != Method::HEAD {
        return method_not_allowed();
    }
    respond(
        &method,
        request.headers(),
        MediaKind::Js,
        false,
        Bytes::from_static(MANAGER_JS.as_bytes()),
    )
}

fn method_not_allowed() -> Response<Body> {
    Response::builder()
        .status(StatusCode::METHOD_NOT_ALLOWED)
        .header(header::ALLOW, "GET, HEAD")
        .body(Body::empty())
        .expect("a valid response")
}

async fn serve(State(renderer): State<Renderer>, request: Request<Body>) -> Response<Body> {
    counted(media_response(&renderer, request).await)
}

async fn media_response(renderer: &Renderer, request: Request<Body>) -> Response<Body> {
    let method = request.method().clone();
    if method != Method::GET && method != Method::HEAD {
        return method_not_allowed();
    }
    let path = request.uri().path();
    let Some(name) = path.strip_prefix(MEDIA_PATH).and_then(parse_name) else {
        return not_found();
    };
    let content = match lookup(renderer, &name).await {
        Lookup::Found(content) => content,
        Lookup::NotFound => return not_found(),
        Lookup::Unavailable => {
            return Response::builder()
                .status(StatusCode::SERVICE_UNAVAILABLE)
                .header(header::RETRY_AFTER, "1")
                .body(Body::empty())
                .expect("a valid response");
        }
    };
    respond(&method, request.headers(), name.kind, name.hash.is_some(), content)
}

enum Lookup {
    Found(Bytes),
    NotFound,
    /// The media cache failed and the entry can't be rebuilt (variables).
    Unavailable,
}

async fn lookup(renderer: &Renderer, name: &MediaName<'_>) -> Lookup {
    let Some(entry) = renderer.registry().entry_by_class_id(name.class_id) else {
        return Lookup::NotFound;
    };
    if !entry.has_media(name.kind) {
        return Lookup::NotFound;
    }
    let media = renderer.media();
    let key = media_key(&entry.class_id, name.kind, name.hash);
    let stored = media.get(&key).await;
    let Some(hash) = name.hash else {
        return class_media(renderer, entry, name.kind, &key, stored).await;
    };
    match stored {
        Ok(Some(content)) => Lookup::Found(content),
        Ok(None) => Lookup::NotFound,
        Err(error) => {
            tracing::warn!(alias = media.cache.alias(), key, hash, %error, "components: the media store failed");
            Lookup::Unavailable
        }
    }
}

/// A class' JS or CSS: this build's, from the registry. What the store holds is only trusted to
/// match: an entry the cache lost (evicted, expired, a new cache), or one an older build wrote
/// there (class ids name the type, not its code), is replaced.
async fn class_media(
    renderer: &Renderer,
    entry: &RegisteredComponent,
    kind: MediaKind,
    key: &str,
    stored: Result<Option<Bytes>, cache_core::CacheError>,
) -> Lookup {
    let media = renderer.media();
    let content = Bytes::from(entry.class_media(kind).unwrap_or_default());
    match stored {
        Ok(Some(stored)) if stored == content => {}
        Ok(_) => {
            if let Err(error) = media.cache.set_raw(key, content.clone()).await {
                tracing::warn!(alias = media.cache.alias(), key, %error, "components: can't store class media");
            }
        }
        Err(error) => {
            tracing::warn!(alias = media.cache.alias(), key, %error, "components: the media store failed; serving from the registry");
        }
    }
    Lookup::Found(content)
}

fn respond(method: &Method, headers: &HeaderMap, kind: MediaKind, immutable: bool, content: Bytes) -> Response<Body> {
    let etag = format!("\"{}\"", &blake3::hash(&content).to_hex()[..32]);
    let cache_control = if immutable { IMMUTABLE } else { REVALIDATE };
    let content_type = match kind {
        MediaKind::Js => "text/javascript; charset=utf-8",
        MediaKind::Css => "text/css; charset=utf-8",
    };
    let builder = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::CACHE_CONTROL, cache_control)
        .header(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .any(|value| matches_etag(value, &etag))
    {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .expect("a valid response");
    }
    let builder = builder
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_LENGTH, content.len());
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(content)
    };
    builder.body(body).expect("a valid response")
}

/// Whether an `If-None-Match` value names `etag` (weak comparison, `*` matches).
fn matches_etag(value: &HeaderValue, etag: &str) -> bool {
    let Ok(value) = value.to_str() else {
        return false;
    };
    value
        .split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag)
}

fn not_found() -> Response<Body> {
    Response::builder()
        .status(StatusCode::NOT_FOUND)
        .body(Body::empty())
        .expect("a valid response")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grammar_is_strict() {
        let ok = parse_name("Btn_aeca93.js").unwrap();
        assert_eq!((ok.class_id, ok.hash, ok.kind), ("Btn_aeca93", None, MediaKind::Js));
        let ok = parse_name("Btn_aeca93.00ff00ff00ff00ff.css").unwrap();
        assert_eq!(ok.hash, Some("00ff00ff00ff00ff"));
        for bad in [
            "Btn_aeca93.html",
            "Btn_aeca93.js.js",
            "Btn_aeca93..js",
            "Btn_aeca93.00ff.js",
            "Btn_AECA93.js",
            "Btn-aeca93.js",
            "_aeca93.js",
            "9Btn_aeca93.js",
            "Btn_aeca93.00FF00FF00FF00FF.js",
            "Btn_aeca93.00ff00ff00ff00ff.00ff00ff00ff00ff.js",
            "..%2f..%2fsecret.js",
            ".js",
            "",
        ] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
    }
}
