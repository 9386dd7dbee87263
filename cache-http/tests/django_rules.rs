//! Django's page-cache rules, one named test per case: each case sends requests through a layer
//! stack over a recording locmem alias and checks every response's status and headers, whether the
//! handler ran, and exactly which keys were written.
//!
//! Cases marked "(difference)" are where this crate deliberately departs from Django (see the
//! README); everything else is Django 5.2's `django/middleware/cache.py`, `django/utils/cache.py`
//! and `django/middleware/http.py`.

mod common;

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use cache_core::Cache;
use cache_http::{
    ActiveLanguage, CacheDirective, CacheLayer, ConditionalGetLayer, cache_control, etag, never_cache, vary_on_cookie,
};
use common::{header_key, page_key, recording_cache};
use http::request::Parts;
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body::Frame;
use libtest_mimic::{Arguments, Failed, Trial};
use tower::util::BoxCloneService;
use tower::{Layer, ServiceExt, service_fn};

const URL: &str = "http://testserver/page";
const E: Option<&str> = None;

type Handler = Arc<dyn Fn(&Parts, usize) -> Response<Body> + Send + Sync>;
type Stack = Arc<
    dyn Fn(
            Cache,
            BoxCloneService<Request<Body>, Response<Body>, Infallible>,
        ) -> BoxCloneService<Request<Body>, Response<Body>, Infallible>
        + Send
        + Sync,
>;

/// What the handler answers: its body ends with ` #<run number>`, so a cached body shows which
/// run made it.
#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: String,
    streaming: bool,
    numbered: bool,
}

fn ok() -> Reply {
    Reply {
        status: 200,
        headers: vec![("content-type", "text/html; charset=utf-8")],
        body: "hello".to_owned(),
        streaming: false,
        numbered: true,
    }
}

impl Reply {
    fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }
    fn h(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((name, value));
        self
    }
    fn body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self.numbered = false;
        self
    }
    fn streaming(mut self) -> Self {
        self.streaming = true;
        self
    }
    fn handler(self) -> Handler {
        Arc::new(move |_, run| self.respond(run))
    }
    fn respond(&self, run: usize) -> Response<Body> {
        let text = if self.numbered {
            format!("{} #{run}", self.body)
        } else {
            self.body.clone()
        };
        let body = if self.streaming {
            Body::new(StreamingBody(Some(Bytes::from(text))))
        } else {
            Body::from(text)
        };
        let mut response = Response::new(body);
        *response.status_mut() = StatusCode::from_u16(self.status).unwrap();
        for (name, value) in &self.headers {
            response
                .headers_mut()
                .append(HeaderName::from_static(name), HeaderValue::from_static(value));
        }
        response
    }
}

/// A body that can't tell its length up front, as a stream's can't.
struct StreamingBody(Option<Bytes>);

impl HttpBody for StreamingBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.take().map(|bytes| Ok(Frame::data(bytes))))
    }
}

/// One request of a case.
#[derive(Clone)]
struct Req {
    method: Method,
    uri: String,
    host: Option<&'static str>,
    headers: Vec<(&'static str, &'static str)>,
    language: Option<&'static str>,
}

fn req(method: Method, uri: &str) -> Req {
    Req {
        method,
        uri: uri.to_owned(),
        host: Some("testserver"),
        headers: Vec::new(),
        language: None,
    }
}
fn get(uri: &str) -> Req {
    req(Method::GET, uri)
}
fn head(uri: &str) -> Req {
    req(Method::HEAD, uri)
}

impl Req {
    fn h(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((name, value));
        self
    }
    fn host(mut self, host: Option<&'static str>) -> Self {
        self.host = host;
        self
    }
    fn language(mut self, language: &'static str) -> Self {
        self.language = Some(language);
        self
    }
    fn build(&self) -> Request<Body> {
        let mut request = Request::builder().method(self.method.clone()).uri(&self.uri);
        if let Some(host) = self.host {
            request = request.header("host", host);
        }
        for (name, value) in &self.headers {
            request = request.header(*name, *value);
        }
        let mut request = request.body(Body::empty()).unwrap();
        if let Some(language) = self.language {
            request.extensions_mut().insert(ActiveLanguage(language.to_owned()));
        }
        request
    }
}

#[derive(Clone, Debug)]
enum HeaderCheck {
    Is(&'static str),
    Absent,
    Present,
}

enum Step {
    Send {
        request: Req,
        status: u16,
        ran: bool,
        headers: Vec<(&'static str, HeaderCheck)>,
        body: Option<String>,
    },
    /// Overwrites a key with these bytes, as another client or a broken server could.
    Overwrite(String, Vec<u8>),
}

struct Case {
    name: &'static str,
    stack: Stack,
    handler: Handler,
    max_value_bytes: Option<usize>,
    steps: Vec<Step>,
    keys: Vec<String>,
}

/// `cache_page(60)` on the handler.
fn view(timeout: i64) -> Stack {
    layered(move |cache| CacheLayer::cache_page(cache, timeout))
}

/// The site-wide middleware with `CACHE_MIDDLEWARE_SECONDS = seconds`.
fn site(seconds: i64) -> Stack {
    layered(move |cache| CacheLayer::middleware(cache, seconds))
}

fn layered(make: impl Fn(Cache) -> CacheLayer + Send + Sync + 'static) -> Stack {
    Arc::new(move |cache, handler| BoxCloneService::new(make(cache).layer(handler)))
}

/// A `@cache_page` view under the site's `ConditionalGetMiddleware`: Django's decorator is inside
/// every middleware, so `ConditionalGetLayer` goes around the `cache_page` layer.
fn conditional_view(timeout: i64) -> Stack {
    Arc::new(move |cache, handler| {
        let cached = CacheLayer::cache_page(cache, timeout).layer(handler);
        BoxCloneService::new(ConditionalGetLayer::new().layer(cached))
    })
}

/// The site-wide cache with `ConditionalGetMiddleware` between `UpdateCacheMiddleware` and
/// `FetchFromCacheMiddleware`, Django's documented order: `CacheLayer::conditional_get`.
fn conditional_site(seconds: i64) -> Stack {
    layered(move |cache| CacheLayer::middleware(cache, seconds).conditional_get())
}

fn case(name: &'static str, stack: Stack, reply: Reply) -> Case {
    Case {
        name,
        stack,
        handler: reply.handler(),
        max_value_bytes: None,
        steps: Vec::new(),
        keys: Vec::new(),
    }
}

impl Case {
    fn handler(mut self, handler: impl Fn(&Parts, usize) -> Response<Body> + Send + Sync + 'static) -> Self {
        self.handler = Arc::new(handler);
        self
    }
    fn limit(mut self, bytes: usize) -> Self {
        self.max_value_bytes = Some(bytes);
        self
    }
    /// Sends `request`; the handler is expected to run (change with [`Case::cached`]).
    fn send(mut self, request: Req, status: u16) -> Self {
        self.steps.push(Step::Send {
            request,
            status,
            ran: true,
            headers: Vec::new(),
            body: None,
        });
        self
    }
    fn last(&mut self) -> (&mut bool, &mut Vec<(&'static str, HeaderCheck)>, &mut Option<String>) {
        match self.steps.last_mut() {
            Some(Step::Send { ran, headers, body, .. }) => (ran, headers, body),
            _ => panic!("{}: a check needs a request before it", self.name),
        }
    }
    /// The last request was answered from the cache: the handler didn't run.
    fn cached(mut self) -> Self {
        *self.last().0 = false;
        self
    }
    fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.last().1.push((name, HeaderCheck::Is(value)));
        self
    }
    fn no_header(mut self, name: &'static str) -> Self {
        self.last().1.push((name, HeaderCheck::Absent));
        self
    }
    fn has_header(mut self, name: &'static str) -> Self {
        self.last().1.push((name, HeaderCheck::Present));
        self
    }
    fn body(mut self, body: impl Into<String>) -> Self {
        *self.last().2 = Some(body.into());
        self
    }
    fn overwrite(mut self, key: String, bytes: &[u8]) -> Self {
        self.steps.push(Step::Overwrite(key, bytes.to_vec()));
        self
    }
    /// Exactly these keys were written (in any order).
    fn keys(mut self, keys: Vec<String>) -> Self {
        self.keys = keys;
        self
    }

    fn run(self) -> Result<(), Failed> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(self.run_async())
    }

    async fn run_async(self) -> Result<(), Failed> {
        let (cache, backend) = recording_cache(self.max_value_bytes);
        let runs = Arc::new(AtomicUsize::new(0));
        let handler = {
            let (runs, handler) = (Arc::clone(&runs), Arc::clone(&self.handler));
            BoxCloneService::new(service_fn(move |request: Request<Body>| {
                let run = runs.fetch_add(1, Ordering::SeqCst) + 1;
                let (parts, _) = request.into_parts();
                let response = handler(&parts, run);
                async move { Ok::<_, Infallible>(response) }
            }))
        };
        let service = (self.stack)(cache.clone(), handler);
        for (index, step) in self.steps.into_iter().enumerate() {
            let (request, status, ran, headers, body) = match step {
                Step::Overwrite(key, bytes) => {
                    let unmade = key.splitn(3, ':').nth(2).expect("a made key").to_owned();
                    cache.set_raw(unmade.as_str(), bytes).await.unwrap();
                    continue;
                }
                Step::Send {
                    request,
                    status,
                    ran,
                    headers,
                    body,
                } => (request, status, ran, headers, body),
            };
            let label = format!("request {} ({} {})", index + 1, request.method, request.uri);
            let before = runs.load(Ordering::SeqCst);
            let response = service.clone().oneshot(request.build()).await.unwrap();
            let did_run = runs.load(Ordering::SeqCst) > before;
            if response.status().as_u16() != status {
                return Err(format!("{label}: status {} instead of {status}", response.status()).into());
            }
            if did_run != ran {
                return Err(format!(
                    "{label}: the handler {} when it should{} have",
                    if did_run { "ran" } else { "didn't run" },
                    if ran { "" } else { "n't" }
                )
                .into());
            }
            for (name, check) in headers {
                let got = response
                    .headers()
                    .get(name)
                    .map(|value| value.to_str().unwrap().to_owned());
                let fine = match (&check, &got) {
                    (HeaderCheck::Is(want), Some(got)) => want == got,
                    (HeaderCheck::Absent, None) | (HeaderCheck::Present, Some(_)) => true,
                    _ => false,
                };
                if !fine {
                    return Err(format!("{label}: header {name} is {got:?}, expected {check:?}").into());
                }
            }
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
            if let Some(want) = body
                && bytes != want.as_bytes()
            {
                return Err(format!(
                    "{label}: body {:?} instead of {want:?}",
                    String::from_utf8_lossy(&bytes)
                )
                .into());
            }
        }
        let written = backend.written();
        let mut expected = self.keys.clone();
        expected.sort();
        expected.dedup();
        if written != expected {
            return Err(format!(
                "keys written:\n  {}\nexpected:\n  {}",
                written.join("\n  "),
                expected.join("\n  ")
            )
            .into());
        }
        Ok(())
    }
}

/// The header list and GET page of `URL` with no varying header.
fn plain_keys() -> Vec<String> {
    vec![header_key("", URL, ""), page_key("", "GET", URL, &[], "")]
}

fn main() {
    let arguments = Arguments::from_args();
    let trials = cases()
        .into_iter()
        .map(|case| Trial::test(case.name, move || case.run()))
        .collect();
    libtest_mimic::run(&arguments, trials).exit();
}

fn vary_keys(values: &[Option<&str>]) -> Vec<String> {
    vec![header_key("", URL, ""), page_key("", "GET", URL, values, "")]
}

const STORED_60: &str = "max-age=60";

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    let post = |uri| req(Method::POST, uri);
    vec![
        // ---- Methods -------------------------------------------------------------------------
        case("get_miss_runs_the_handler_and_stores_the_page", view(60), ok())
            .send(get("/page"), 200).header("cache-control", STORED_60).has_header("expires").no_header("age").body("hello #1")
            .keys(plain_keys()),
        case("get_after_get_is_served_from_the_cache", view(60), ok())
            .send(get("/page"), 200)
            .send(get("/page"), 200).cached().body("hello #1").header("cache-control", STORED_60).header("content-type", "text/html; charset=utf-8")
            .keys(plain_keys()),
        case("keys_are_djangos_exactly", view(60), ok())
            .send(get("/page"), 200)
            .keys(vec![
                ":1:views.decorators.cache.cache_header..38f2774ba57d8a4266ec606134551814".to_owned(),
                ":1:views.decorators.cache.cache_page..GET.38f2774ba57d8a4266ec606134551814.d41d8cd98f00b204e9800998ecf8427e".to_owned(),
            ]),
        case("head_after_get_uses_the_get_page_without_a_body", view(60), ok())
            .send(get("/page"), 200)
            .send(head("/page"), 200).cached().body("").header("cache-control", STORED_60).header("content-length", "8")
            .keys(plain_keys()),
        case("head_first_stores_a_head_page", view(60), ok())
            .send(head("/page"), 200)
            .send(head("/page"), 200).cached().body("")
            .keys(vec![header_key("", URL, ""), page_key("", "HEAD", URL, &[], "")]),
        case("get_after_head_does_not_use_the_head_page", view(60), ok())
            .send(head("/page"), 200)
            .send(get("/page"), 200).body("hello #2")
            .keys(vec![header_key("", URL, ""), page_key("", "HEAD", URL, &[], ""), page_key("", "GET", URL, &[], "")]),
        // WSGI forbids hop-by-hop headers, so Django never meets them; a tower handler may send
        // them, and on a hit they would be about another connection.
        case("difference_hop_by_hop_headers_are_not_replayed_on_hits", view(60), ok().h("connection", "x-trace, close").h("x-trace", "1").h("keep-alive", "timeout=5").h("x-kept", "yes"))
            .send(get("/page"), 200).header("connection", "x-trace, close")
            .send(get("/page"), 200).cached().no_header("connection").no_header("x-trace").no_header("keep-alive").header("x-kept", "yes")
            .keys(plain_keys()),
        case("post_is_never_cached_nor_patched", view(60), ok())
            .send(post("/page"), 200).no_header("cache-control").no_header("expires")
            .send(post("/page"), 200)
            .keys(vec![]),
        case("put_is_never_cached", view(60), ok())
            .send(req(Method::PUT, "/page"), 200).no_header("cache-control")
            .send(req(Method::PUT, "/page"), 200)
            .keys(vec![]),
        case("delete_is_never_cached", view(60), ok())
            .send(req(Method::DELETE, "/page"), 200)
            .keys(vec![]),
        case("options_is_never_cached", view(60), ok())
            .send(req(Method::OPTIONS, "/page"), 200)
            .send(req(Method::OPTIONS, "/page"), 200)
            .keys(vec![]),
        case("a_post_between_two_gets_neither_reads_nor_clears_the_page", view(60), ok())
            .send(get("/page"), 200)
            .send(post("/page"), 200).body("hello #2")
            .send(get("/page"), 200).cached().body("hello #1")
            .keys(plain_keys()),
        case("a_requests_no_cache_does_not_bypass_the_cache", view(60), ok())
            .send(get("/page"), 200)
            .send(get("/page").h("cache-control", "no-cache").h("pragma", "no-cache"), 200).cached()
            .keys(plain_keys()),
        // ---- Statuses ------------------------------------------------------------------------
        case("status_404_is_not_stored_nor_patched", view(60), ok().status(404))
            .send(get("/page"), 404).no_header("cache-control").no_header("expires")
            .send(get("/page"), 404)
            .keys(vec![]),
        case("status_500_is_not_stored", view(60), ok().status(500))
            .send(get("/page"), 500).send(get("/page"), 500)
            .keys(vec![]),
        case("status_301_is_not_stored", view(60), ok().status(301).h("location", "/elsewhere"))
            .send(get("/page"), 301).no_header("cache-control").send(get("/page"), 301)
            .keys(vec![]),
        case("status_201_is_not_stored", view(60), ok().status(201))
            .send(get("/page"), 201).send(get("/page"), 201)
            .keys(vec![]),
        case("status_204_is_not_stored", view(60), ok().status(204).body(""))
            .send(get("/page"), 204).send(get("/page"), 204)
            .keys(vec![]),
        case("status_304_gets_cache_headers_but_is_not_stored", view(60), ok().status(304).body(""))
            .send(get("/page"), 304).header("cache-control", STORED_60).has_header("expires")
            .send(get("/page"), 304)
            .keys(vec![]),
        // ---- Cache-Control -------------------------------------------------------------------
        case("private_is_not_stored_nor_patched", view(60), ok().h("cache-control", "private"))
            .send(get("/page"), 200).header("cache-control", "private").no_header("expires")
            .send(get("/page"), 200)
            .keys(vec![]),
        case("difference_no_store_is_not_stored", view(60), ok().h("cache-control", "no-store"))
            .send(get("/page"), 200).header("cache-control", "no-store").send(get("/page"), 200)
            .keys(vec![]),
        case("difference_no_cache_is_not_stored", view(60), ok().h("cache-control", "no-cache"))
            .send(get("/page"), 200).send(get("/page"), 200)
            .keys(vec![]),
        case("private_is_found_as_a_substring_as_django_does", view(60), ok().h("cache-control", "x-not-private"))
            .send(get("/page"), 200).send(get("/page"), 200)
            .keys(vec![]),
        case("private_in_upper_case_is_not_stored", view(60), ok().h("cache-control", "PRIVATE"))
            .send(get("/page"), 200).send(get("/page"), 200)
            .keys(vec![]),
        case("public_is_stored_and_keeps_its_directive", view(60), ok().h("cache-control", "public"))
            .send(get("/page"), 200).header("cache-control", "public, max-age=60")
            .send(get("/page"), 200).cached()
            .keys(plain_keys()),
        case("site_the_responses_max_age_wins", site(600), ok().h("cache-control", "max-age=30"))
            .send(get("/page"), 200).header("cache-control", "max-age=30")
            .send(get("/page"), 200).cached()
            .keys(plain_keys()),
        case("site_max_age_0_is_not_stored_nor_patched", site(600), ok().h("cache-control", "max-age=0"))
            .send(get("/page"), 200).header("cache-control", "max-age=0").no_header("expires")
            .send(get("/page"), 200)
            .keys(vec![]),
        case("site_without_max_age_uses_the_configured_seconds", site(600), ok())
            .send(get("/page"), 200).header("cache-control", "max-age=600")
            .send(get("/page"), 200).cached()
            .keys(plain_keys()),
        case("view_timeout_wins_and_max_age_keeps_the_smaller", view(60), ok().h("cache-control", "max-age=3600"))
            .send(get("/page"), 200).header("cache-control", STORED_60)
            .send(get("/page"), 200).cached()
            .keys(plain_keys()),
        case("view_keeps_a_smaller_max_age_from_the_response", view(60), ok().h("cache-control", "max-age=10"))
            .send(get("/page"), 200).header("cache-control", "max-age=10")
            .send(get("/page"), 200).cached()
            .keys(plain_keys()),
        case("view_stores_even_with_max_age_0_as_django_does", view(60), ok().h("cache-control", "max-age=0"))
            .send(get("/page"), 200).header("cache-control", "max-age=0")
            .send(get("/page"), 200).cached()
            .keys(plain_keys()),
        case("a_spaced_max_age_is_not_recognised_as_django_does", site(600), ok().h("cache-control", "max-age = 30"))
            .send(get("/page"), 200).header("cache-control", "max-age = 30, max-age=600")
            .send(get("/page"), 200).cached()
            .keys(plain_keys()),
        case("s_maxage_is_ignored", site(600), ok().h("cache-control", "s-maxage=5"))
            .send(get("/page"), 200).header("cache-control", "s-maxage=5, max-age=600")
            .keys(plain_keys()),
        case("an_existing_expires_is_kept", view(60), ok().h("expires", "Thu, 01 Jan 2099 00:00:00 GMT"))
            .send(get("/page"), 200).header("expires", "Thu, 01 Jan 2099 00:00:00 GMT")
            .keys(plain_keys()),
        case("difference_a_malformed_max_age_is_served_not_stored", site(600), ok().h("cache-control", "max-age=soon"))
            .send(get("/page"), 200).header("cache-control", "max-age=soon").no_header("expires")
            .send(get("/page"), 200)
            .keys(vec![]),
        case("difference_a_malformed_max_age_under_cache_page_is_served_not_stored", view(60), ok().h("cache-control", "max-age=1.5"))
            .send(get("/page"), 200).header("cache-control", "max-age=1.5")
            .send(get("/page"), 200)
            .keys(vec![]),
        case("difference_a_bare_max_age_is_served_not_stored", site(600), ok().h("cache-control", "max-age"))
            .send(get("/page"), 200).send(get("/page"), 200)
            .keys(vec![]),
        case("difference_a_negative_cache_page_timeout_stores_nothing", view(-5), ok())
            .send(get("/page"), 200).header("cache-control", "max-age=0")
            .send(get("/page"), 200)
            .keys(vec![]),
        case("difference_a_negative_max_age_stores_nothing", site(600), ok().h("cache-control", "max-age=-5"))
            .send(get("/page"), 200).header("cache-control", "max-age=-5")
            .send(get("/page"), 200)
            .keys(vec![]),
        case("a_zero_cache_page_timeout_stores_nothing", view(0), ok())
            .send(get("/page"), 200).header("cache-control", "max-age=0")
            .send(get("/page"), 200)
            .keys(vec![]),
        // ---- Vary ----------------------------------------------------------------------------
        case("vary_is_learnt_and_keys_the_page_by_the_value", view(60), ok().h("vary", "Accept-Encoding"))
            .send(get("/page").h("accept-encoding", "gzip"), 200).header("vary", "Accept-Encoding")
            .send(get("/page").h("accept-encoding", "gzip"), 200).cached()
            .keys(vary_keys(&[Some("gzip")])),
        case("vary_another_value_runs_the_handler", view(60), ok().h("vary", "Accept-Encoding"))
            .send(get("/page").h("accept-encoding", "gzip"), 200)
            .send(get("/page").h("accept-encoding", "br"), 200).body("hello #2")
            .send(get("/page").h("accept-encoding", "gzip"), 200).cached().body("hello #1")
            .keys(vec![header_key("", URL, ""), page_key("", "GET", URL, &[Some("gzip")], ""), page_key("", "GET", URL, &[Some("br")], "")]),
        case("vary_an_absent_header_is_not_an_empty_one", view(60), ok().h("vary", "X-Flavour"))
            .send(get("/page"), 200)
            .send(get("/page").h("x-flavour", ""), 200)
            .send(get("/page"), 200).cached()
            .keys(vec![header_key("", URL, ""), page_key("", "GET", URL, &[E], ""), page_key("", "GET", URL, &[Some("")], "")]),
        case("difference_vary_star_is_not_stored", view(60), ok().h("vary", "*"))
            .send(get("/page"), 200).no_header("cache-control")
            .send(get("/page"), 200)
            .keys(vec![]),
        case("vary_names_ignore_case", view(60), ok().h("vary", "accept-ENCODING"))
            .send(get("/page").h("accept-encoding", "gzip"), 200)
            .keys(vary_keys(&[Some("gzip")])),
        case("vary_headers_are_sorted_as_django_does", view(60), ok().h("vary", "X-B, X-A"))
            .send(get("/page").h("x-a", "1").h("x-b", "2"), 200)
            .send(get("/page").h("x-b", "2").h("x-a", "1"), 200).cached()
            .keys(vary_keys(&[Some("1"), Some("2")])),
        case("difference_varying_values_are_encoded_injectively", view(60), ok().h("vary", "X-A, X-B"))
            .send(get("/page").h("x-a", "ab").h("x-b", "c"), 200)
            .send(get("/page").h("x-a", "a").h("x-b", "bc"), 200).body("hello #2")
            .keys(vec![header_key("", URL, ""), page_key("", "GET", URL, &[Some("ab"), Some("c")], ""), page_key("", "GET", URL, &[Some("a"), Some("bc")], "")]),
        case("difference_a_page_is_served_only_for_the_values_it_was_stored_under", view(60), ok())
            // The handler varies on X-A when the request has it, else on X-B; Django's one list per
            // URL then serves the X-A: v page to a request with X-B: v.
            .handler(|parts, run| {
                let vary = if parts.headers.contains_key("x-a") { "X-A" } else { "X-B" };
                ok().h("vary", vary).respond(run)
            })
            .send(get("/page").h("x-a", "v"), 200)
            .send(get("/page").h("x-b", "w"), 200).body("hello #2")
            .send(get("/page").h("x-b", "v"), 200).body("hello #3")
            .keys(vec![header_key("", URL, ""), page_key("", "GET", URL, &[Some("v")], ""), page_key("", "GET", URL, &[Some("w")], "")]),
        case("vary_cookie_pages_are_per_cookie", view(60), ok().h("vary", "Cookie"))
            .send(get("/page").h("cookie", "a=1"), 200)
            .send(get("/page").h("cookie", "a=2"), 200).body("hello #2")
            .send(get("/page").h("cookie", "a=1"), 200).cached().body("hello #1")
            .keys(vec![header_key("", URL, ""), page_key("", "GET", URL, &[Some("a=1")], ""), page_key("", "GET", URL, &[Some("a=2")], "")]),
        case("set_cookie_with_vary_cookie_is_not_stored", view(60), ok().h("vary", "Cookie").h("set-cookie", "session=1"))
            .send(get("/page"), 200).no_header("cache-control")
            .send(get("/page"), 200)
            .keys(vec![]),
        case("difference_set_cookie_without_vary_cookie_is_not_stored", view(60), ok().h("set-cookie", "session=1"))
            .send(get("/page"), 200).no_header("cache-control").header("set-cookie", "session=1")
            .send(get("/page"), 200).header("set-cookie", "session=1")
            .keys(vec![]),
        case("difference_authorization_adds_vary_authorization", view(60), ok())
            .send(get("/page").h("authorization", "Bearer a"), 200).header("vary", "Authorization")
            .send(get("/page").h("authorization", "Bearer b"), 200).body("hello #2")
            .send(get("/page").h("authorization", "Bearer a"), 200).cached()
            .keys(vec![header_key("", URL, ""), page_key("", "GET", URL, &[Some("Bearer a")], ""), page_key("", "GET", URL, &[Some("Bearer b")], "")]),
        case("authorization_with_public_does_not_vary", view(60), ok().h("cache-control", "public"))
            .send(get("/page").h("authorization", "Bearer a"), 200).no_header("vary")
            .send(get("/page").h("authorization", "Bearer b"), 200).cached()
            .keys(plain_keys()),
        case("accept_language_is_left_out_when_the_language_is_in_the_key", layered(|cache| CacheLayer::cache_page(cache, 60).language("en-us")), ok().h("vary", "Accept-Language"))
            .send(get("/page").h("accept-language", "de").language("de"), 200)
            .send(get("/page").h("accept-language", "de-DE").language("de"), 200).cached()
            .keys(vec![header_key("", URL, ".de"), page_key("", "GET", URL, &[], ".de")]),
        // Django leaves `Accept-Language` out whenever USE_I18N is on, so a page negotiated in the
        // view, with no LocaleMiddleware, is one page for every language. Here it stays in the
        // list unless the request's negotiated language is in the key.
        case("difference_accept_language_stays_when_no_language_was_negotiated", layered(|cache| CacheLayer::cache_page(cache, 60).language("en-us")), ok().h("vary", "Accept-Language"))
            .send(get("/page").h("accept-language", "de"), 200)
            .send(get("/page").h("accept-language", "fr"), 200).body("hello #2")
            .send(get("/page").h("accept-language", "de"), 200).cached().body("hello #1")
            .keys(vec![
                header_key("", URL, ".en-us"),
                page_key("", "GET", URL, &[Some("de")], ".en-us"),
                page_key("", "GET", URL, &[Some("fr")], ".en-us"),
            ]),
        case("the_active_language_replaces_the_configured_one", layered(|cache| CacheLayer::cache_page(cache, 60).language("en-us")), ok())
            .send(get("/page").language("fr"), 200)
            .send(get("/page"), 200).body("hello #2")
            .keys(vec![header_key("", URL, ".fr"), page_key("", "GET", URL, &[], ".fr"), header_key("", URL, ".en-us"), page_key("", "GET", URL, &[], ".en-us")]),
        case("language_and_time_zone_suffixes_are_djangos", layered(|cache| CacheLayer::cache_page(cache, 60).language("en-us").time_zone("UTC")), ok())
            .send(get("/page"), 200)
            .keys(vec![
                ":1:views.decorators.cache.cache_header..38f2774ba57d8a4266ec606134551814.en-us.UTC".to_owned(),
                ":1:views.decorators.cache.cache_page..GET.38f2774ba57d8a4266ec606134551814.d41d8cd98f00b204e9800998ecf8427e.en-us.UTC".to_owned(),
            ]),
        // ---- URL: path, query, host, scheme --------------------------------------------------
        case("the_query_string_is_part_of_the_key", view(60), ok())
            .send(get("/page?a=1"), 200)
            .send(get("/page?a=2"), 200).body("hello #2")
            .send(get("/page?a=1"), 200).cached().body("hello #1")
            .keys(vec![
                ":1:views.decorators.cache.cache_header..e8fe9d67d7a57ca688fa736b7b222818".to_owned(),
                page_key("", "GET", "http://testserver/page?a=1", &[], ""),
                header_key("", "http://testserver/page?a=2", ""),
                page_key("", "GET", "http://testserver/page?a=2", &[], ""),
            ]),
        case("an_empty_query_is_no_query", view(60), ok())
            .send(get("/page?"), 200)
            .send(get("/page"), 200).cached()
            .keys(plain_keys()),
        case("the_path_is_part_of_the_key", view(60), ok())
            .send(get("/page"), 200)
            .send(get("/other"), 200).body("hello #2")
            .keys(vec![header_key("", URL, ""), page_key("", "GET", URL, &[], ""), header_key("", "http://testserver/other", ""), page_key("", "GET", "http://testserver/other", &[], "")]),
        case("the_host_is_part_of_the_key", view(60), ok())
            .send(get("/page"), 200)
            .send(get("/page").host(Some("example.com")), 200).body("hello #2")
            .keys(vec![header_key("", URL, ""), page_key("", "GET", URL, &[], ""), header_key("", "http://example.com/page", ""), page_key("", "GET", "http://example.com/page", &[], "")]),
        case("the_host_is_case_sensitive_as_django_does", view(60), ok())
            .send(get("/page"), 200)
            .send(get("/page").host(Some("TestServer")), 200).body("hello #2")
            .keys(vec![header_key("", URL, ""), page_key("", "GET", URL, &[], ""), header_key("", "http://TestServer/page", ""), page_key("", "GET", "http://TestServer/page", &[], "")]),
        case("the_port_is_part_of_the_key", view(60), ok())
            .send(get("/page").host(Some("testserver:8000")), 200)
            .send(get("/page"), 200).body("hello #2")
            .keys(vec![header_key("", URL, ""), page_key("", "GET", URL, &[], ""), header_key("", "http://testserver:8000/page", ""), page_key("", "GET", "http://testserver:8000/page", &[], "")]),
        case("an_absolute_form_uri_is_keyed_like_the_host_header", view(60), ok())
            .send(get("http://testserver/page").host(None), 200)
            .send(get("/page"), 200).cached()
            .keys(plain_keys()),
        // Django keys by `Host`; HTTP/1.1 says a request line's host wins over it. A request whose
        // two hosts disagree is neither read nor stored: the view may have used either.
        case("difference_a_request_line_naming_another_host_is_not_cached", view(60), ok())
            .send(get("http://testserver/page").host(Some("evil.example")), 200)
            .send(get("http://testserver/page").host(Some("evil.example")), 200).body("hello #2")
            .send(get("http://TESTSERVER/page").host(Some("testserver")), 200).body("hello #3")
            .keys(vec![header_key("", "http://TESTSERVER/page", ""), page_key("", "GET", "http://TESTSERVER/page", &[], "")]),
        case("the_scheme_from_the_secure_proxy_header_is_https", layered(|cache| CacheLayer::cache_page(cache, 60).secure_proxy_ssl_header(HeaderName::from_static("x-forwarded-proto"), HeaderValue::from_static("https"))), ok())
            .send(get("/page").h("x-forwarded-proto", "https"), 200)
            .send(get("/page"), 200).body("hello #2")
            .keys(vec![
                ":1:views.decorators.cache.cache_header..9d887b2ad5395d032c7fc745375e0b77".to_owned(),
                page_key("", "GET", "https://testserver/page", &[], ""),
                header_key("", URL, ""),
                page_key("", "GET", URL, &[], ""),
            ]),
        case("the_proxy_header_is_ignored_unless_configured", view(60), ok())
            .send(get("/page").h("x-forwarded-proto", "https"), 200)
            .send(get("/page"), 200).cached()
            .keys(plain_keys()),
        case("a_request_without_a_host_is_not_cached", view(60), ok())
            .send(get("/page").host(None), 200).no_header("cache-control")
            .send(get("/page").host(None), 200)
            .keys(vec![]),
        case("the_key_prefix_is_in_both_keys", layered(|cache| CacheLayer::cache_page(cache, 60).key_prefix("site1")), ok())
            .send(get("/page"), 200)
            .keys(vec![
                ":1:views.decorators.cache.cache_header.site1.38f2774ba57d8a4266ec606134551814".to_owned(),
                ":1:views.decorators.cache.cache_page.site1.GET.38f2774ba57d8a4266ec606134551814.d41d8cd98f00b204e9800998ecf8427e".to_owned(),
            ]),
        // ---- Bodies and stored entries -------------------------------------------------------
        case("a_streaming_body_is_never_stored_nor_patched", view(60), ok().streaming())
            .send(get("/page"), 200).no_header("cache-control").body("hello #1")
            .send(get("/page"), 200).body("hello #2")
            .keys(vec![]),
        case("a_body_over_the_alias_limit_is_served_not_stored", view(60), ok().body("x".repeat(1000)))
            .limit(500)
            .send(get("/page"), 200).header("cache-control", STORED_60).body("x".repeat(1000))
            .send(get("/page"), 200)
            .keys(vec![]),
        case("a_page_whose_headers_push_it_over_the_limit_is_not_stored", view(60), ok().body("x".repeat(490)))
            .limit(500)
            .send(get("/page"), 200).body("x".repeat(490))
            .send(get("/page"), 200)
            .keys(vec![]),
        case("a_binary_body_is_stored_and_served_as_is", view(60), ok().body(String::from_utf8(vec![0, 1, 2, 0x7f]).unwrap()))
            .send(get("/page"), 200)
            .send(get("/page"), 200).cached().body(String::from_utf8(vec![0, 1, 2, 0x7f]).unwrap())
            .keys(plain_keys()),
        case("a_garbage_entry_is_a_miss_not_an_error", view(60), ok())
            .send(get("/page"), 200)
            .overwrite(page_key("", "GET", URL, &[], ""), b"\x00garbage")
            .send(get("/page"), 200).body("hello #2")
            .send(get("/page"), 200).cached().body("hello #2")
            .keys(plain_keys()),
        case("an_entry_of_another_format_version_is_a_miss", view(60), ok())
            .send(get("/page"), 200)
            .overwrite(page_key("", "GET", URL, &[], ""), b"DJPG\x09\x00\xc8")
            .send(get("/page"), 200).body("hello #2")
            .keys(plain_keys()),
        case("a_header_list_that_does_not_decode_is_a_miss", view(60), ok())
            .send(get("/page"), 200)
            .overwrite(header_key("", URL, ""), b"\x80\x04not json")
            .send(get("/page"), 200).body("hello #2")
            .keys(plain_keys()),
        case("a_hit_carries_an_age", view(60), ok())
            .send(get("/page"), 200).no_header("age")
            .send(get("/page"), 200).cached().has_header("age")
            .keys(plain_keys()),
        case("a_hit_keeps_the_handlers_headers", view(60), ok().h("x-custom", "yes"))
            .send(get("/page"), 200)
            .send(get("/page"), 200).cached().header("x-custom", "yes").header("content-type", "text/html; charset=utf-8")
            .keys(plain_keys()),
        // ---- Conditional GET -----------------------------------------------------------------
        case("conditional_get_computes_an_etag_from_the_body", conditional_view(60), ok().body("fixed"))
            .send(get("/page"), 200).header("etag", "\"cec315e3d0975e5cc2811d5d8725f149\"")
            .keys(plain_keys()),
        // The view's cache stores the 200 before the site's conditional step turns it into a 304.
        case("conditional_get_304_for_a_fresh_page", conditional_view(60), ok().h("etag", "\"v1\""))
            .send(get("/page").h("if-none-match", "\"v1\""), 304).header("etag", "\"v1\"").header("cache-control", STORED_60).no_header("content-type").body("")
            .keys(plain_keys()),
        // Site-wide, the conditional step is inside UpdateCacheMiddleware: the 304 gets its cache
        // headers and nothing is stored, only a 200 is.
        case("site_conditional_get_304_for_a_fresh_page_is_not_stored", conditional_site(60), ok().h("etag", "\"v1\""))
            .send(get("/page").h("if-none-match", "\"v1\""), 304).header("etag", "\"v1\"").header("cache-control", STORED_60).body("")
            .send(get("/page"), 200)
            .keys(plain_keys()),
        case("site_conditional_get_stores_the_computed_etag_with_the_page", conditional_site(60), ok().body("fixed"))
            .send(get("/page"), 200).header("etag", "\"cec315e3d0975e5cc2811d5d8725f149\"")
            .send(get("/page"), 200).cached().header("etag", "\"cec315e3d0975e5cc2811d5d8725f149\"")
            .send(get("/page").h("if-none-match", "\"cec315e3d0975e5cc2811d5d8725f149\""), 304).cached()
            .keys(plain_keys()),
        case("conditional_get_304_for_a_cached_page_without_the_handler", conditional_view(60), ok().h("etag", "\"v1\""))
            .send(get("/page"), 200)
            .send(get("/page").h("if-none-match", "\"v1\""), 304).cached().header("etag", "\"v1\"").no_header("age")
            .keys(plain_keys()),
        case("conditional_get_weak_comparison_for_if_none_match", conditional_view(60), ok().h("etag", "\"v1\""))
            .send(get("/page"), 200)
            .send(get("/page").h("if-none-match", "W/\"v1\""), 304).cached()
            .keys(plain_keys()),
        case("conditional_get_if_none_match_list", conditional_view(60), ok().h("etag", "\"v1\""))
            .send(get("/page"), 200)
            .send(get("/page").h("if-none-match", "\"v0\", \"v1\""), 304).cached()
            .keys(plain_keys()),
        case("conditional_get_if_none_match_star", conditional_view(60), ok().h("etag", "\"v1\""))
            .send(get("/page"), 200)
            .send(get("/page").h("if-none-match", "*"), 304).cached()
            .keys(plain_keys()),
        case("conditional_get_other_etag_is_a_full_response", conditional_view(60), ok().h("etag", "\"v1\""))
            .send(get("/page"), 200)
            .send(get("/page").h("if-none-match", "\"v2\""), 200).cached().body("hello #1")
            .keys(plain_keys()),
        case("conditional_get_if_modified_since_304", conditional_view(60), ok().h("last-modified", "Sat, 20 Oct 2007 23:21:47 GMT"))
            .send(get("/page"), 200)
            .send(get("/page").h("if-modified-since", "Sat, 20 Oct 2007 23:21:47 GMT"), 304).cached().header("last-modified", "Sat, 20 Oct 2007 23:21:47 GMT")
            .keys(plain_keys()),
        case("conditional_get_if_modified_since_before_is_a_full_response", conditional_view(60), ok().h("last-modified", "Sat, 20 Oct 2007 23:21:47 GMT"))
            .send(get("/page"), 200)
            .send(get("/page").h("if-modified-since", "Sat, 20 Oct 2007 23:21:46 GMT"), 200).cached()
            .keys(plain_keys()),
        case("conditional_get_failed_if_match_412", conditional_view(60), ok().h("etag", "\"v1\""))
            .send(get("/page"), 200)
            .send(get("/page").h("if-match", "\"v2\""), 412).cached()
            .keys(plain_keys()),
        case("conditional_get_failed_if_unmodified_since_412", conditional_view(60), ok().h("last-modified", "Sat, 20 Oct 2007 23:21:47 GMT"))
            .send(get("/page"), 200)
            .send(get("/page").h("if-unmodified-since", "Sat, 20 Oct 2007 23:21:46 GMT"), 412).cached()
            .keys(plain_keys()),
        case("conditional_get_leaves_head_alone", conditional_view(60), ok().h("etag", "\"v1\""))
            .send(get("/page"), 200)
            .send(head("/page").h("if-none-match", "\"v1\""), 200).cached()
            .keys(plain_keys()),
        case("conditional_get_gives_no_store_responses_no_etag", conditional_view(60), ok().h("cache-control", "no-store"))
            .send(get("/page"), 200).no_header("etag")
            .keys(vec![]),
        case("etag_decorator_answers_304_without_the_handler", layered_with_etag(), ok())
            .send(get("/page").h("if-none-match", "\"rev-7\""), 304).cached().header("etag", "\"rev-7\"")
            .send(get("/page"), 200).header("etag", "\"rev-7\"")
            .keys(plain_keys()),
        case("etag_decorator_412_for_a_put_with_if_none_match_star", layered_with_etag(), ok())
            .send(req(Method::PUT, "/page").h("if-none-match", "*"), 412).cached()
            .keys(vec![]),
        // ---- Header decorators ---------------------------------------------------------------
        case("never_cache_inside_cache_page_is_not_stored", Arc::new(|cache, handler| {
                BoxCloneService::new(CacheLayer::cache_page(cache, 60).layer(never_cache().layer(handler)))
            }), ok())
            .send(get("/page"), 200).header("cache-control", "max-age=0, no-cache, no-store, must-revalidate, private").has_header("expires")
            .send(get("/page"), 200)
            .keys(vec![]),
        case("vary_on_cookie_inside_cache_page_stores_per_cookie", Arc::new(|cache, handler| {
                BoxCloneService::new(CacheLayer::cache_page(cache, 60).layer(vary_on_cookie().layer(handler)))
            }), ok())
            .send(get("/page").h("cookie", "a=1"), 200).header("vary", "Cookie")
            .send(get("/page").h("cookie", "a=1"), 200).cached()
            .keys(vary_keys(&[Some("a=1")])),
        case("cache_control_private_inside_cache_page_is_not_stored", Arc::new(|cache, handler| {
                BoxCloneService::new(CacheLayer::cache_page(cache, 60).layer(cache_control([CacheDirective::flag("private")]).layer(handler)))
            }), ok())
            .send(get("/page"), 200).header("cache-control", "private")
            .send(get("/page"), 200)
            .keys(vec![]),
    ]
}

/// Django's `@etag(lambda request: "rev-7")` inside `cache_page(60)`.
fn layered_with_etag() -> Stack {
    Arc::new(|cache, handler| {
        let tagged = etag(|_| Some("rev-7".to_owned())).layer(handler);
        BoxCloneService::new(CacheLayer::cache_page(cache, 60).layer(tagged))
    })
}
