//! `Cache-Control`: Django's `patch_cache_control` and `get_max_age`.

use std::fmt;

use http::HeaderMap;
use http::header::{CACHE_CONTROL, HeaderValue};

use super::list::{joined, split_list};

/// One directive to patch into `Cache-Control`: Django's keyword arguments to
/// `patch_cache_control` (`max_age=60` is [`CacheDirective::max_age`], `public=True` is
/// [`CacheDirective::flag`]). Names have `_` turned into `-`, as Django does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheDirective {
    /// A directive without a value (`public`, `no-store`).
    Flag(String),
    /// A directive with a value (`no-cache="Set-Cookie"`, `stale-while-revalidate=30`).
    Value(String, String),
    /// `max-age`: when the header already has one, the smaller of the two is kept.
    MaxAge(i64),
}

impl CacheDirective {
    /// A directive without a value.
    pub fn flag(name: &str) -> Self {
        CacheDirective::Flag(name.replace('_', "-"))
    }

    /// A directive with a value.
    pub fn value(name: &str, value: impl fmt::Display) -> Self {
        CacheDirective::Value(name.replace('_', "-"), value.to_string())
    }

    /// `max-age=seconds`.
    pub fn max_age(seconds: i64) -> Self {
        CacheDirective::MaxAge(seconds)
    }

    fn name(&self) -> &str {
        match self {
            CacheDirective::Flag(name) | CacheDirective::Value(name, _) => name,
            CacheDirective::MaxAge(_) => "max-age",
        }
    }

    fn argument(&self) -> Option<String> {
        match self {
            CacheDirective::Flag(_) => None,
            CacheDirective::Value(_, value) => Some(value.clone()),
            CacheDirective::MaxAge(seconds) => Some(seconds.to_string()),
        }
    }
}

/// Why a header could not be patched.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderPatchError {
    /// The response already has a `max-age` that isn't an integer, so the smaller of it and the new
    /// one can't be taken (Django raises `ValueError` here, a 500).
    MalformedMaxAge {
        /// The `Cache-Control` header as the response had it.
        header: String,
    },
    /// A directive given in code makes a header value HTTP doesn't allow (a control character).
    InvalidValue {
        /// The header value that was refused.
        value: String,
    },
}

impl fmt::Display for HeaderPatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderPatchError::MalformedMaxAge { header } => write!(
                f,
                "the response's `Cache-Control: {header}` has a max-age that isn't a whole number of seconds; \
                 fix the handler to send `max-age=<seconds>`"
            ),
            HeaderPatchError::InvalidValue { value } => write!(
                f,
                "`{}` is not a valid header value; remove the control characters from the directive",
                value.escape_debug()
            ),
        }
    }
}

impl std::error::Error for HeaderPatchError {}

/// One directive as read from a header: `no-cache` may name several fields, so it keeps them all.
#[derive(Debug)]
enum Present {
    One(Option<String>),
    NoCache(Vec<Option<String>>),
}

/// Django's `patch_cache_control(response, **kwargs)`: adds `directives` to `Cache-Control`.
///
/// Existing directives keep their place and are replaced by a new one of the same name; a new
/// `max-age` keeps the smaller of the two; `public` removes an existing `private` and the other way
/// round; `no-cache` collects the field names it is given (a bare `no-cache` wins over them).
pub fn patch_cache_control(headers: &mut HeaderMap, directives: &[CacheDirective]) -> Result<(), HeaderPatchError> {
    patch(headers, directives, false)
}

/// [`patch_cache_control`], optionally dropping a malformed existing `max-age` instead of failing
/// (for "never cache", which must win whatever the handler sent).
pub(super) fn patch(
    headers: &mut HeaderMap,
    directives: &[CacheDirective],
    replace_malformed_max_age: bool,
) -> Result<(), HeaderPatchError> {
    let original = joined(headers, CACHE_CONTROL).filter(|value| !value.is_empty());
    let mut present: Vec<(String, Present)> = Vec::new();
    if let Some(original) = &original {
        for field in split_list(original) {
            let (name, value) = directive_item(field);
            set(&mut present, name, value);
        }
    }

    let mut directives = directives.to_vec();
    for directive in &mut directives {
        if let CacheDirective::MaxAge(new) = directive
            && let Some(index) = present.iter().position(|(name, _)| name == "max-age")
        {
            match &present[index].1 {
                Present::One(Some(old)) if parse_seconds(old).is_some() => {
                    *new = (*new).min(parse_seconds(old).unwrap_or(*new));
                }
                _ if replace_malformed_max_age => {
                    present.remove(index);
                }
                _ => {
                    return Err(HeaderPatchError::MalformedMaxAge {
                        header: original.clone().unwrap_or_default(),
                    });
                }
            }
        }
    }

    let given = |name: &str| directives.iter().any(|directive| directive.name() == name);
    if present.iter().any(|(name, _)| name == "private") && given("public") {
        present.retain(|(name, _)| name != "private");
    } else if present.iter().any(|(name, _)| name == "public") && given("private") {
        present.retain(|(name, _)| name != "public");
    }
    for directive in &directives {
        set(&mut present, directive.name().to_owned(), directive.argument());
    }

    let mut fields = Vec::new();
    for (name, value) in &present {
        match value {
            Present::One(value) => fields.push(field(name, value.as_deref())),
            Present::NoCache(values) if values.contains(&None) => fields.push(name.clone()),
            Present::NoCache(values) => fields.extend(values.iter().map(|value| field(name, value.as_deref()))),
        }
    }
    let value = fields.join(", ");
    let header = HeaderValue::from_str(&value).map_err(|_| HeaderPatchError::InvalidValue { value })?;
    headers.insert(CACHE_CONTROL, header);
    Ok(())
}

fn set(present: &mut Vec<(String, Present)>, name: String, value: Option<String>) {
    let slot = present.iter_mut().find(|(existing, _)| *existing == name);
    match (slot, name == "no-cache") {
        (Some((_, Present::NoCache(values))), true) => {
            if !values.contains(&value) {
                values.push(value);
            }
        }
        (Some((_, slot)), _) => *slot = Present::One(value),
        (None, true) => present.push((name, Present::NoCache(vec![value]))),
        (None, false) => present.push((name, Present::One(value))),
    }
}

fn field(name: &str, value: Option<&str>) -> String {
    match value {
        Some(value) => format!("{name}={value}"),
        None => name.to_owned(),
    }
}

/// Django's `dictitem`/`_to_tuple`: the name lower-cased, the value after the first `=`.
fn directive_item(field: &str) -> (String, Option<String>) {
    match field.split_once('=') {
        Some((name, value)) => (name.to_lowercase(), Some(value.to_owned())),
        None => (field.to_lowercase(), None),
    }
}

/// Python's `int(text)` for the values a header carries: optional spaces and sign, then digits.
fn parse_seconds(text: &str) -> Option<i64> {
    text.trim().parse().ok()
}

/// What a response's `Cache-Control` says about `max-age`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MaxAge {
    /// No `Cache-Control`, or no `max-age` in it.
    Absent,
    /// `max-age=<seconds>`.
    Seconds(i64),
    /// A `max-age` that isn't an integer (`max-age=soon`, or a bare `max-age`).
    Malformed,
}

/// The `max-age` of `headers`, telling "absent" from "malformed" (the last one given wins, as in
/// Django's dictionary).
pub(crate) fn max_age_directive(headers: &HeaderMap) -> MaxAge {
    let Some(header) = joined(headers, CACHE_CONTROL) else {
        return MaxAge::Absent;
    };
    let mut found = MaxAge::Absent;
    for field in split_list(&header) {
        let (name, value) = directive_item(field);
        if name == "max-age" {
            found = match value.as_deref().and_then(parse_seconds) {
                Some(seconds) => MaxAge::Seconds(seconds),
                None => MaxAge::Malformed,
            };
        }
    }
    found
}

/// Django's `get_max_age(response)`: the `max-age` of `Cache-Control` as an integer, or `None`
/// when there is none or it isn't an integer.
///
/// One difference: a bare `max-age` (no `=`) is `None` here; Django reads it as `int(True)`, 1.
pub fn get_max_age(headers: &HeaderMap) -> Option<i64> {
    match max_age_directive(headers) {
        MaxAge::Seconds(seconds) => Some(seconds),
        MaxAge::Absent | MaxAge::Malformed => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patched(existing: Option<&str>, directives: &[CacheDirective]) -> String {
        let mut headers = HeaderMap::new();
        if let Some(existing) = existing {
            headers.insert(CACHE_CONTROL, HeaderValue::from_str(existing).unwrap());
        }
        patch_cache_control(&mut headers, directives).unwrap();
        headers[CACHE_CONTROL].to_str().unwrap().to_owned()
    }

    /// Django's `CacheUtils.test_patch_cache_control` table.
    #[test]
    fn djangos_patch_cache_control_table() {
        use CacheDirective as D;
        let cases: Vec<(Option<&str>, Vec<CacheDirective>, Vec<&str>)> = vec![
            (None, vec![D::flag("no_cache")], vec!["no-cache"]),
            (None, vec![D::flag("no-cache")], vec!["no-cache"]),
            (None, vec![D::flag("private")], vec!["private"]),
            (None, vec![D::flag("public")], vec!["public"]),
            (None, vec![D::max_age(60)], vec!["max-age=60"]),
            (Some(""), vec![D::flag("private")], vec!["private"]),
            (Some("no-cache=Set-Cookie"), vec![D::flag("no_cache")], vec!["no-cache"]),
            (
                Some("no-cache=Set-Cookie"),
                vec![D::value("no_cache", "Set-Cookie")],
                vec!["no-cache=Set-Cookie"],
            ),
            (
                Some("no-cache=Set-Cookie"),
                vec![D::value("no_cache", "X-Hello")],
                vec!["no-cache=Set-Cookie", "no-cache=X-Hello"],
            ),
            (Some("private"), vec![D::flag("private")], vec!["private"]),
            (Some("private"), vec![D::flag("public")], vec!["public"]),
            (Some("public"), vec![D::flag("private")], vec!["private"]),
            (
                Some("must-revalidate,max-age=60,private"),
                vec![D::flag("public")],
                vec!["must-revalidate", "max-age=60", "public"],
            ),
            (
                Some("must-revalidate,max-age=60,public"),
                vec![D::flag("private")],
                vec!["must-revalidate", "max-age=60", "private"],
            ),
            (
                Some("must-revalidate,max-age=60"),
                vec![D::flag("public")],
                vec!["must-revalidate", "max-age=60", "public"],
            ),
        ];
        for (existing, directives, expected) in cases {
            let value = patched(existing, &directives);
            let mut got: Vec<&str> = value.split(", ").collect();
            let mut want = expected.clone();
            got.sort_unstable();
            want.sort_unstable();
            assert_eq!(got, want, "{existing:?} patched with {directives:?}");
        }
    }

    #[test]
    fn a_new_max_age_keeps_the_smaller_one() {
        assert_eq!(
            patched(Some("max-age=30, public"), &[CacheDirective::max_age(60)]),
            "max-age=30, public"
        );
        assert_eq!(
            patched(Some("max-age=300"), &[CacheDirective::max_age(60)]),
            "max-age=60"
        );
    }

    #[test]
    fn a_malformed_max_age_is_an_error_naming_the_fix() {
        let mut headers = HeaderMap::new();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=soon"));
        let error = patch_cache_control(&mut headers, &[CacheDirective::max_age(60)]).unwrap_err();
        assert!(error.to_string().contains("max-age=<seconds>"), "{error}");
        assert_eq!(headers[CACHE_CONTROL], "max-age=soon", "left as it was");
    }

    #[test]
    fn a_control_character_is_refused() {
        let mut headers = HeaderMap::new();
        let error = patch_cache_control(&mut headers, &[CacheDirective::value("x", "a\nb")]).unwrap_err();
        assert!(matches!(error, HeaderPatchError::InvalidValue { .. }), "{error}");
    }

    #[test]
    fn get_max_age_reads_djangos_way() {
        let max_age = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(CACHE_CONTROL, HeaderValue::from_static(value));
            get_max_age(&headers)
        };
        assert_eq!(max_age("max-age=3600"), Some(3600));
        assert_eq!(max_age("public, MAX-AGE=10"), Some(10));
        assert_eq!(max_age("max-age=-5"), Some(-5));
        assert_eq!(max_age("max-age=abc"), None);
        assert_eq!(max_age("max-age"), None);
        assert_eq!(
            max_age("max-age = 30"),
            None,
            "Django doesn't recognise the spaced form either"
        );
        assert_eq!(get_max_age(&HeaderMap::new()), None);
    }
}
